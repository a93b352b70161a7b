//! SARIF 2.1.0 output for code-scanning services: the subset reqlock
//! emits (one run, the rules it knows, one result per finding).

use serde_json::{json, Value};

use crate::audit::{Code, Location, Report, Severity};

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A SARIF `physicalLocation` (§3.29): the file and, when known, the
/// line and column (both 1-based).
fn physical_location(location: &Location) -> Value {
    let mut region = json!({"startLine": location.line.max(1)});
    if location.column > 0 {
        region["startColumn"] = json!(location.column);
    }
    json!({
        "artifactLocation": {"uri": location.file.to_string_lossy().replace('\\', "/")},
        "region": region,
    })
}

/// The `reqlock audit --format sarif` document.
pub fn audit_document(report: &Report<'_>) -> String {
    let codes: Vec<Code> = Code::all().collect();
    let rules: Vec<Value> = codes
        .iter()
        .map(|code| {
            json!({
                "id": code.id(),
                "shortDescription": {"text": code.description()},
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|finding| {
            let mut result = json!({
                "ruleId": finding.code.id(),
                "ruleIndex": codes.iter().position(|code| *code == finding.code),
                "level": level(finding.severity),
                "message": {"text": format!("{}\nhelp: {}", finding.message, finding.help)},
                "locations": [{"physicalLocation": physical_location(&finding.location)}],
            });
            if !finding.related.is_empty() {
                result["relatedLocations"] = finding
                    .related
                    .iter()
                    .enumerate()
                    .map(|(id, related)| {
                        json!({
                            "id": id,
                            "physicalLocation": physical_location(&related.location),
                            "message": {"text": related.message},
                        })
                    })
                    .collect();
            }
            result
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
