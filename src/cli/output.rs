//! What the command line writes: data to stdout (through a buffer; a
//! closed pipe is the reader's choice, not an error), progress and
//! diagnostics to stderr, progress only for a person at a terminal.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::Error;
use crate::diagnostic::Diagnostic;

/// Write data to stdout through a buffer, streaming large documents.
pub fn emit(render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Error> {
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match render(&mut stdout).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        // `reqlock list | head` closes the pipe early.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(Error::Output(err)),
    }
}

/// [`emit`] for text already rendered.
pub fn write_stdout(text: &str) -> Result<(), Error> {
    emit(|out| out.write_all(text.as_bytes()))
}

/// Warnings found while reading the input, each with its source line.
pub fn print_diagnostics(diagnostics: &[Diagnostic]) {
    let mut stderr = std::io::stderr().lock();
    for diagnostic in diagnostics {
        let _ = writeln!(stderr, "{diagnostic}\n");
    }
}

/// The bar of the index questions of an audit; hidden unless a person
/// watches stderr (and never when stdout is JSON for a machine).
pub fn index_progress(shown: bool) -> ProgressBar {
    if !shown || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} asking the indexes {pos}/{len} {wide_bar}")
    {
        bar.set_style(style);
    }
    bar
}

/// The spinner of a tree resolution, under the same conditions.
pub fn tree_progress(shown: bool) -> ProgressBar {
    if !shown || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} resolving: {pos} releases read {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Which indexes are asked, and why, on stderr.
pub fn print_indexes(sources: &crate::index::discovery::IndexConfig) {
    for index in &sources.indexes {
        eprintln!("index: {} (from {})", index.url, index.source);
    }
}
