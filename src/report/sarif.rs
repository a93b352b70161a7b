//! SARIF 2.1.0 output for code-scanning services: the subset reqlock
//! emits (one run, the rules it knows, one result per finding).

use serde_json::{json, Value};

use crate::audit::{AuditOutcome, Rule, Severity};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The `reqlock audit --format sarif` document.
pub fn audit_document(outcome: &AuditOutcome) -> String {
    let rules: Vec<Value> = Rule::ALL
        .iter()
        .map(|rule| {
            json!({
                "id": rule.id(),
                "shortDescription": {"text": rule.description()},
            })
        })
        .collect();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|finding| {
            json!({
                "ruleId": finding.rule.id(),
                "ruleIndex": Rule::ALL.iter().position(|rule| *rule == finding.rule),
                "level": level(finding.severity),
                "message": {"text": format!("{}\nhelp: {}", finding.message, finding.help)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": finding.file.to_string_lossy().replace('\\', "/")},
                        "region": {"startLine": finding.line.max(1)},
                    }
                }],
            })
        })
        .collect();
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "reqlock",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

/// GitHub Actions workflow commands: one annotation per finding.
pub fn github_annotations(outcome: &AuditOutcome) -> String {
    let mut text = String::new();
    for finding in &outcome.findings {
        let command = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let message = format!("{}\nhelp: {}", finding.message, finding.help);
        text.push_str(&format!(
            "::{command} file={},line={},title={}::{}\n",
            escape_property(&finding.file.to_string_lossy()),
            finding.line.max(1),
            escape_property(&format!("reqlock {}", finding.rule)),
            escape_data(&message)
        ));
    }
    text
}

/// Escaping of a workflow command's message.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a workflow command's property values.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escapes() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("C:\\x,y"), "C%3A\\x%2Cy");
    }
}
