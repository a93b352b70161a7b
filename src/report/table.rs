//! Human-readable tables (comfy-table).

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};

use crate::audit::{Report, Severity};
use crate::requirements::RequirementSet;

/// The most characters a cell shows. Laying out a cell costs more than
/// its length (it is wrapped to the terminal), and a requirements line may
/// be megabytes long: past this, the table shows the start and says how
/// much is left out; `--format json` has the whole text.
const MOST_SHOWN: usize = 1_000;

/// `text`, cut to [`MOST_SHOWN`] characters with a note of what is left.
fn shown(text: &str) -> String {
    match text.char_indices().nth(MOST_SHOWN) {
        None => text.to_string(),
        Some((cut, _)) => format!(
            "{}… ({} more characters; `--format json` shows all)",
            &text[..cut],
            text[cut..].chars().count()
        ),
    }
}

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
        let row = [
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
        ];
        table.add_row(row.iter().map(|cell| shown(cell)));
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
            Cell::new(shown(finding.package.as_deref().unwrap_or("-"))),
            Cell::new(format!(
                "{}:{}",
                finding.location.file.display(),
                finding.location.line
            )),
            Cell::new(shown(&finding.message)),
            Cell::new(shown(&finding.help)),
        ]);
    }
    format!("{table}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_megabyte_cell_shows_its_start_and_what_is_left() {
        assert_eq!(shown("numpy"), "numpy");
        let long = "é".repeat(MOST_SHOWN + 5);
        assert_eq!(
            shown(&long),
            format!(
                "{}… (5 more characters; `--format json` shows all)",
                "é".repeat(MOST_SHOWN)
            )
        );
        let name = "a".repeat(2 << 20);
        let text = format!("{name}==1.0\n");
        let set = crate::requirements::parse_text(
            std::path::Path::new("r.txt"),
            &text,
            &crate::requirements::ParseSettings::from_environment(),
        )
        .expect("a long name is a name");
        let table = list_table(&set, false);
        assert!(table.len() < 20_000, "{}", table.len());
        assert!(table.contains("more characters"), "{table}");
    }
}
