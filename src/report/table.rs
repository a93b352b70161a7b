//! Human-readable tables (comfy-table).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};

use crate::audit::{Report, Severity};
use crate::requirements::RequirementSet;

pub(crate) fn new_table(header: &[&str], color: bool) -> Table {
    let mut table = Table::new();
    table
        .load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    table
}

/// The `reqlock list` table.
pub fn list_table(set: &RequirementSet, color: bool) -> String {
    let mut table = new_table(
        &[
            "package",
            "specifier",
            "extras",
            "marker",
            "source",
            "flags",
            "origin",
        ],
        color,
    );
    for requirement in &set.requirements {
        let mut flags = Vec::new();
        if requirement.constraint {
            flags.push("constraint".to_string());
        }
        if requirement.editable {
            flags.push("editable".to_string());
        }
        if !requirement.hashes.is_empty() {
            flags.push(format!("{} hash(es)", requirement.hashes.len()));
        }
        table.add_row(vec![
            requirement.label(),
            requirement.specifier_text(),
            requirement
                .extras
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            requirement.marker.clone().unwrap_or_default(),
            requirement.url.clone().unwrap_or_default(),
            flags.join(" "),
            format!(
                "{}:{}",
                requirement.origin.file.display(),
                requirement.origin.line
            ),
        ]);
    }
    format!("{table}\n")
}

/// The `reqlock audit` table; empty when there is nothing to show.
pub fn audit_table(report: &Report<'_>, color: bool) -> String {
    if report.findings.is_empty() {
        return String::new();
    }
    let mut table = new_table(
        &["severity", "rule", "package", "location", "message", "help"],
        color,
    );
    for finding in &report.findings {
        let mut severity = Cell::new(finding.severity);
        if color {
            severity = severity.fg(match finding.severity {
                Severity::Error => Color::Red,
                Severity::Warning => Color::Yellow,
                Severity::Info => Color::Blue,
            });
        }
        table.add_row(vec![
            severity,
            Cell::new(finding.code),
            Cell::new(finding.package.as_deref().unwrap_or("-")),
            Cell::new(format!(
                "{}:{}",
                finding.location.file.display(),
                finding.location.line
            )),
            Cell::new(&finding.message),
            Cell::new(&finding.help),
        ]);
    }
    format!("{table}\n")
}
