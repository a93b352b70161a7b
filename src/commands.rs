//! The subcommands, called by the thin binary with already-parsed flags.
//! Data goes to stdout; diagnostics, summaries and errors go to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::audit::{self, AuditSettings, Severity};
use crate::diagnostic::Diagnostic;
use crate::report::{self, json::Summary};
use crate::requirements::{self, ParseSettings, RequirementSet};

/// Exit codes, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Nothing at or above the failure threshold.
    Clean = 0,
    /// Findings at or above the failure threshold.
    Findings = 1,
    /// Bad usage or unreadable input.
    InputError = 2,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
}

/// The lowest severity that makes `audit` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Never,
}

impl FailOn {
    fn is_failure(self, severity: Severity) -> bool {
        match self {
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Never => false,
        }
    }
}

pub struct ListArgs {
    pub files: Vec<PathBuf>,
    pub format: Format,
}

pub struct AuditArgs {
    pub files: Vec<PathBuf>,
    pub format: Format,
    pub strict: bool,
    pub fail_on: FailOn,
    /// No network at all; the offline rules are all there is so far.
    pub offline: bool,
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    let mut stderr = std::io::stderr().lock();
    for diagnostic in diagnostics {
        let _ = writeln!(stderr, "{diagnostic}\n");
    }
}

fn write_stdout(text: &str) -> Result<(), Exit> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        // A closed pipe (`reqlock list | head`) is the reader's choice, not an error.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => {
            eprintln!("error: could not write output: {err}");
            Err(Exit::InputError)
        }
    }
}

fn parse(files: &[PathBuf]) -> Result<RequirementSet, Exit> {
    match requirements::parse_files(files, &ParseSettings::from_environment()) {
        Ok(set) => {
            print_diagnostics(&set.warnings);
            Ok(set)
        }
        Err(err) => {
            print_diagnostics(&err.diagnostics);
            eprintln!("error: {err}; nothing was checked");
            Err(Exit::InputError)
        }
    }
}

/// `reqlock list`: every requirement after following includes.
pub fn list(args: &ListArgs) -> Exit {
    let set = match parse(&args.files) {
        Ok(set) => set,
        Err(exit) => return exit,
    };
    let output = match args.format {
        Format::Json => report::json::list_document(&set),
        Format::Table => report::table::list_table(&set, report::stdout_wants_color()),
    };
    if let Err(exit) = write_stdout(&output) {
        return exit;
    }
    eprintln!(
        "{} requirement(s) from {} file(s)",
        set.requirements.len(),
        set.files.len()
    );
    Exit::Clean
}

/// `reqlock audit`: run the rules and apply the failure threshold.
pub fn audit(args: &AuditArgs) -> Exit {
    let set = match parse(&args.files) {
        Ok(set) => set,
        Err(exit) => return exit,
    };
    let outcome = audit::audit(
        &set,
        &AuditSettings {
            strict: args.strict,
        },
    );
    for (file, line, id) in &outcome.unknown_suppressions {
        eprintln!(
            "{}:{line}: warning: `# reqlock: ignore[{id}]` names no rule (known: {})",
            file.display(),
            audit::Rule::ALL
                .iter()
                .map(|rule| rule.id())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let output = match args.format {
        Format::Json => report::json::audit_document(&set, &outcome),
        Format::Table => report::table::audit_table(&outcome, report::stdout_wants_color()),
    };
    if let Err(exit) = write_stdout(&output) {
        return exit;
    }
    let summary = Summary::of(&outcome);
    let mode = if args.offline {
        "offline"
    } else {
        "offline rules only"
    };
    eprintln!(
        "audited {} requirement(s) in {} file(s) ({mode}): {} error(s), {} warning(s), {} info, {} suppressed",
        set.requirements.len(),
        set.files.len(),
        summary.error,
        summary.warning,
        summary.info,
        summary.suppressed
    );
    if outcome
        .findings
        .iter()
        .any(|finding| args.fail_on.is_failure(finding.severity))
    {
        Exit::Findings
    } else {
        Exit::Clean
    }
}
