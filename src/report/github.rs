//! GitHub Actions workflow commands: one annotation per finding, shown on
//! the pull request's diff at the finding's line and column.

use crate::audit::Report;
use crate::diagnostic::Severity;

/// One workflow command per finding.
pub fn annotations(report: &Report<'_>) -> String {
    let mut text = String::new();
    for finding in &report.findings {
        let command = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let message = format!("{}\nhelp: {}", finding.message, finding.help);
        text.push_str(&format!(
            "::{command} file={},line={},col={},title={}::{}\n",
            escape_property(&finding.location.file.to_string_lossy()),
            finding.location.line.max(1),
            finding.location.column.max(1),
            escape_property(&format!("reqlock {}", finding.code)),
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
