//! What every problem reqlock reports shares, whether a finding of the
//! audit or an input problem found while parsing: one [`Severity`] and one
//! [`Location`] (file, line, column). Parse problems are [`Diagnostic`]s,
//! rendered once at the edge as `file:line:col: error: ...`, the offending
//! line, a caret and a `help:`.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

/// How serious a finding or diagnostic is; ordered, so that a threshold
/// (`--fail-on warning`) is a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A place in a file. The file is shared (`Arc`) by everything located in
/// it: a requirements file of 5,000 lines has one path, not 5,000.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: Arc<Path>,
    /// 1-based; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based character column; 0 when there is no column.
    pub column: usize,
}

impl Location {
    /// The whole file, no line.
    pub fn file(file: &Path) -> Location {
        Location {
            file: Arc::from(file),
            line: 0,
            column: 0,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.column > 0 {
                write!(f, ":{}", self.column)?;
            }
        }
        Ok(())
    }
}

/// An input problem: where, what, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Location,
    /// The physical line's text, for the caret display.
    pub source_line: Option<String>,
    /// Number of characters to underline.
    pub width: usize,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `location` without a source line to show.
    pub fn at(
        severity: Severity,
        location: Location,
        message: String,
        help: Option<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            location,
            source_line: None,
            width: 0,
            message,
            help,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let location = &self.location;
        write!(f, "{location}: {}: {}", self.severity, self.message)?;
        if let Some(source_line) = &self.source_line {
            let gutter = location.line.to_string();
            let pad = " ".repeat(gutter.len());
            let shown: String = source_line.replace('\t', " ");
            write!(f, "\n{pad} |\n{gutter} | {shown}")?;
            if location.column > 0 {
                let caret_pad = " ".repeat(location.column - 1);
                let carets = "^".repeat(self.width.max(1));
                write!(f, "\n{pad} | {caret_pad}{carets}")?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}
