//! Renderers of the one [`crate::audit::Report`]: tables for people, JSON
//! and SARIF for machines, workflow commands for GitHub. Renderers only
//! format; they never decide what is a finding.

pub mod db;
pub mod github;
pub mod json;
pub mod sarif;
pub mod table;

use std::io::IsTerminal;

/// Whether to color output written to stdout: only on a terminal, and never
/// when `NO_COLOR` is set to a non-empty value.
pub fn stdout_wants_color() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    !no_color && std::io::stdout().is_terminal()
}
