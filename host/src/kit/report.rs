//! The kit's report as a person reads it: one line per check with its verdict, operation,
//! time and what was seen, then a summary line.

use super::{KitReport, Verdict};
use std::fmt::Write as _;

pub fn render(report: &KitReport) -> String {
    let mut text = format!(
        "connector {} {}{}\n",
        report.connector,
        report.version,
        if report.read_only { " (read-only: no write checks)" } else { "" }
    );
    let width = report.results.iter().map(|r| r.operation.len()).max().unwrap_or(0);
    for result in &report.results {
        let mark = match result.verdict {
            Verdict::Passed => "pass",
            Verdict::Failed => "FAIL",
            Verdict::Skipped => "skip",
            Verdict::NotDeclared => " -- ",
            Verdict::KnownGap => "gap ",
        };
        let _ = writeln!(
            text,
            "  {mark}  {:width$}  {:>6} ms  {}: {}",
            result.operation, result.millis, result.check, result.detail
        );
    }
    let count = |verdict| report.results.iter().filter(|r| r.verdict == verdict).count();
    let _ = writeln!(
        text,
        "{} passed, {} failed, {} skipped, {} not declared, {} known gaps",
        count(Verdict::Passed),
        count(Verdict::Failed),
        count(Verdict::Skipped),
        count(Verdict::NotDeclared),
        count(Verdict::KnownGap)
    );
    text
}
