//! Note templates: text with `{{path}}` placeholders (`Score {{result.score}}/{{result.max_score}}
//! – {{result.link}}`) rendered from a trigger's document. Placeholders are checked on save
//! against the fields the trigger provides ([`super::document::check_path`]); at render time
//! a missing value renders as nothing, a list as its items joined by `, `, a whole number
//! without decimals. Templates and their output are bounded.

use super::document::check_path;
use super::model::Trigger;
use super::validate::Issue;
use serde_json::Value;

/// Longest template accepted (characters).
pub const MAX_TEMPLATE_CHARS: usize = 5_000;
/// Longest rendered text (characters); longer output is cut and ends with `…`.
pub const MAX_RENDERED_CHARS: usize = 10_000;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// Splits a template into text and placeholders; `Err` names what is malformed.
pub fn parse(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            pieces.push(Piece::Text(&rest[..open]));
        }
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err(format!(
                "`{{{{` at character {} is never closed with `}}}}`",
                template.len() - rest.len() + open
            ));
        };
        let path = after[..close].trim();
        if path.is_empty() || path.contains("{{") || path.split('.').any(|s| s.trim().is_empty()) {
            return Err(format!(
                "`{{{{{}}}}}` is not a placeholder; write a path like `{{{{result.score}}}}`",
                &after[..close]
            ));
        }
        pieces.push(Piece::Placeholder(path));
        rest = &after[close + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// Checks a template of an automation with `trigger` on save.
pub fn check(template: &str, trigger: &Trigger, at: &str) -> Vec<Issue> {
    if template.trim().is_empty() {
        return vec![Issue::new(
            at,
            "the note is empty; write its text, e.g. `Score {{result.score}}`",
        )];
    }
    if template.chars().count() > MAX_TEMPLATE_CHARS {
        return vec![Issue::new(at, format!("longer than {MAX_TEMPLATE_CHARS} characters"))];
    }
    match parse(template) {
        Err(problem) => vec![Issue::new(at, problem)],
        Ok(pieces) => pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Placeholder(path) => check_path(trigger, path)
                    .err()
                    .map(|problem| Issue::new(at, format!("`{{{{{path}}}}}`: {problem}"))),
                Piece::Text(_) => None,
            })
            .collect(),
    }
}

/// How a value reads in a note.
pub fn display(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            Some(f) => format!("{}", (f * 100.0).round() / 100.0),
            None => n.to_string(),
        },
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        Value::Object(_) => value.to_string(),
    }
}

/// Renders a template (already checked) from `document`; a malformed template renders as
/// its own text.
pub fn render(template: &str, document: &Value) -> String {
    let Ok(pieces) = parse(template) else { return bounded(template.to_string()) };
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder(path) => {
                if let Some(value) = super::conditions::lookup(document, path) {
                    out.push_str(&display(value));
                }
            }
        }
        if out.len() > MAX_RENDERED_CHARS * 4 {
            break;
        }
    }
    bounded(out)
}

fn bounded(text: String) -> String {
    if text.chars().count() <= MAX_RENDERED_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_RENDERED_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_placeholders_from_the_document() {
        let doc = json!({"result": {"score": 86.0, "max_score": 100, "link": "https://a.example/r/1",
                                    "score_percent": 85.666}, "candidate": {"emails": ["a@x", "b@x"]}});
        assert_eq!(
            render("Score {{result.score}}/{{ result.max_score }} – {{result.link}}", &doc),
            "Score 86/100 – https://a.example/r/1"
        );
        assert_eq!(render("{{result.score_percent}}%", &doc), "85.67%");
        assert_eq!(render("{{candidate.emails}}", &doc), "a@x, b@x");
        assert_eq!(render("[{{result.summary}}]", &doc), "[]", "missing renders empty");
        assert_eq!(render("no placeholders", &doc), "no placeholders");
    }

    #[test]
    fn output_is_bounded() {
        let doc = json!({"x": "y".repeat(MAX_RENDERED_CHARS)});
        let out = render("{{x}}{{x}}{{x}}", &doc);
        assert_eq!(out.chars().count(), MAX_RENDERED_CHARS);
        assert!(out.ends_with('…'));
    }

    #[test]
    fn save_time_checks_know_the_trigger_fields() {
        let at = "actions[1].template";
        assert!(
            check(
                "Score {{result.score}} {{result.attributes.grade}}",
                &Trigger::ResultSubmitted {},
                at
            )
            .is_empty()
        );
        let issues = check("Score {{result.score}}", &Trigger::ApplicationCreated {}, at);
        assert_eq!(issues[0].field, at);
        assert!(issues[0].problem.contains("provides no `result`"), "{}", issues[0].problem);
        let issues = check("{{result.scroe}}", &Trigger::ResultSubmitted {}, at);
        assert!(issues[0].problem.contains("no field `scroe`"), "{}", issues[0].problem);
        assert!(
            check("Score {{result.score", &Trigger::ResultSubmitted {}, at)[0]
                .problem
                .contains("never closed")
        );
        assert!(!check("{{ }}", &Trigger::ResultSubmitted {}, at).is_empty());
        assert!(!check("  ", &Trigger::ResultSubmitted {}, at).is_empty());
        assert!(
            !check(&"a".repeat(MAX_TEMPLATE_CHARS + 1), &Trigger::ResultSubmitted {}, at)
                .is_empty()
        );
    }
}
