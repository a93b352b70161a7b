//! Input problems with a location, rendered once at the edge as
//! `file:line:col: error: ...`, the offending line, a caret and a `help:`.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Warning,
    Error,
}

/// Where a diagnostic points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based character column; 0 when there is no column.
    pub column: usize,
    /// The physical line's text, for the caret display.
    pub source_line: Option<String>,
    /// Number of characters to underline.
    pub width: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    pub location: Location,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Warning => "warning",
            Level::Error => "error",
        };
        let location = &self.location;
        write!(f, "{}", location.file.display())?;
        if location.line > 0 {
            write!(f, ":{}", location.line)?;
            if location.column > 0 {
                write!(f, ":{}", location.column)?;
            }
        }
        write!(f, ": {level}: {}", self.message)?;
        if let Some(source_line) = &location.source_line {
            let gutter = location.line.to_string();
            let pad = " ".repeat(gutter.len());
            let shown: String = source_line.replace('\t', " ");
            write!(f, "\n{pad} |\n{gutter} | {shown}")?;
            if location.column > 0 {
                let caret_pad = " ".repeat(location.column - 1);
                let carets = "^".repeat(location.width.max(1));
                write!(f, "\n{pad} | {caret_pad}{carets}")?;
            }
        }
        if let Some(help) = &self.help {
            write!(f, "\n  = help: {help}")?;
        }
        Ok(())
    }
}
