//! `write-result`: OTYS has no score or link field on a procedure and no public service that
//! writes notes, so a result lands as a document (`typeId` 201, other) on the application:
//! the report file when the result has one, else the result rendered as a text file. The
//! document's subject is a one-line headline (status, score, link), so OTYS lists it legibly.

use crate::attachments::{self, Document, TYPE_OTHER};
use crate::settings::Settings;
use ats_connector_sdk::prelude::*;

/// Longest subject written (characters); OTYS documents no limit.
const MAX_SUBJECT_CHARS: usize = 200;

pub fn write(settings: &Settings, input: &ResultInput) -> Result<WriteReceipt, AtsError> {
    let application = input.application_id.trim();
    if application.is_empty() {
        return Err(AtsError::InvalidInput("application-id is empty".into()));
    }
    let rendered;
    let (filename, content_type, content) = match &input.report {
        Some(report) => (report.filename.clone(), report.content_type.as_str(), &report.content),
        None => {
            rendered = render(input).into_bytes();
            (format!("result-{}.txt", file_safe(application)), "text/plain", &rendered)
        }
    };
    let document = Document {
        filename: &filename,
        content_type,
        content,
        type_id: TYPE_OTHER,
        subject: headline(input),
    };
    let receipt =
        attachments::attach(settings, &Target::Application(application.to_string()), &document)?;
    let stored = if input.report.is_some() { "the report file" } else { "a text document" };
    let remark = format!(
        "stored as {stored} on the application: OTYS has no score or link field and no note \
         service; {}",
        receipt.remark.unwrap_or_default()
    );
    Ok(WriteReceipt { remote_id: receipt.remote_id, remark: Some(remark) })
}

fn status(input: &ResultInput) -> &'static str {
    match input.status {
        ResultStatus::Completed => "completed",
        ResultStatus::Cancelled => "cancelled",
    }
}

fn score(value: f64, max: Option<f64>) -> String {
    format!("{value} / {}", max.unwrap_or(100.0))
}

/// `Result completed, score 87.5 / 100, https://…`, cut at [`MAX_SUBJECT_CHARS`].
fn headline(input: &ResultInput) -> String {
    let mut parts = vec![format!("Result {}", status(input))];
    if let Some(value) = input.score {
        parts.push(format!("score {}", score(value, input.max_score)));
    }
    if let Some(link) = input.link.as_deref().filter(|l| !l.trim().is_empty()) {
        parts.push(link.trim().to_string());
    }
    let line = parts.join(", ");
    match line.char_indices().nth(MAX_SUBJECT_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// The whole result as plain text: status, score, link, summary and sub-results.
fn render(input: &ResultInput) -> String {
    let mut lines = vec![format!("Result: {}", status(input))];
    if let Some(value) = input.score {
        lines.push(format!("Score: {}", score(value, input.max_score)));
    }
    if let Some(link) = &input.link {
        lines.push(format!("Link: {link}"));
    }
    if let Some(summary) = &input.summary {
        lines.push(String::new());
        lines.push("Summary:".into());
        lines.push(summary.clone());
    }
    if !input.sub_results.is_empty() {
        lines.push(String::new());
        lines.push("Sub-results:".into());
        for sub in &input.sub_results {
            lines.push(format!("- {}: {}", sub.label, score(sub.score, sub.max_score)));
        }
    }
    lines.push(String::new());
    lines.join("\n")
}

/// `id` with everything but ASCII letters, digits, `-` and `_` replaced, for a file name.
fn file_safe(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_is_cut_on_a_character_boundary_and_the_name_is_file_safe() {
        let input = ResultInput {
            application_id: "1".into(),
            status: ResultStatus::Completed,
            score: Some(3.0),
            max_score: Some(5.0),
            link: Some(format!("https://assess.example/{}", "é".repeat(300))),
            summary: None,
            sub_results: Vec::new(),
            report: None,
        };
        let line = headline(&input);
        assert!(line.starts_with("Result completed, score 3 / 5, https://assess.example/é"));
        assert_eq!(line.chars().count(), MAX_SUBJECT_CHARS + 1);
        assert!(line.ends_with('…'));
        assert_eq!(file_safe("12/../x y"), "12____x_y");
        assert!(render(&input).contains("Score: 3 / 5\nLink: https://assess.example/é"));
    }
}
