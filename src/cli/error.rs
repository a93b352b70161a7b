//! The one error type of the command line. Every subcommand returns
//! `Result<Status, Error>`; the error is rendered once, here, with the
//! input's own diagnostics (file:line:col, the line, a caret) when it has
//! them and a `help:` line when there is something to do. Exit codes are
//! decided on the variant, never on the message.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::compat::DbError;
use crate::index::client::FetchError;
use crate::index::session::SessionError;
use crate::lock::pylock::PylockError;
use crate::requirements::ParseError;
use crate::target::TargetError;
use crate::tree::resolve::LockError;

/// Why a command could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The requirements files could not be read as pip reads them.
    #[error("{0}; nothing was checked")]
    Parse(#[from] ParseError),
    #[error("could not read the lock file: {source}")]
    ReadPylock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{source}")]
    Pylock { path: PathBuf, source: PylockError },
    #[error(transparent)]
    CompatDb(#[from] DbError),
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("--upgrade-package {name}: {reason}")]
    UpgradePackage { name: String, reason: String },
    #[error("--check needs the lockfile: give it with -o FILE")]
    CheckWithoutOutput,
    /// `lock --check` and the lockfile is not there.
    #[error("{} does not exist; run `reqlock lock` without --check", .0.display())]
    LockfileMissing(PathBuf),
    /// `lock --check` and the lockfile is not what `lock` writes now.
    #[error("{} differs from what `reqlock lock` writes now", .0.display())]
    LockfileDiffers(PathBuf),
    /// The dependency tree could not be resolved.
    #[error(transparent)]
    Tree(#[from] LockError),
    #[error("could not read {}: {source}", .path.display())]
    ReadLockfile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not write {}: {source}", .path.display())]
    WriteLockfile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not write output: {0}")]
    Output(std::io::Error),
    /// `db check`: these packages' pages could not be read.
    #[error("{}", unreachable_text(.0))]
    IndexUnreachable(Vec<(String, FetchError)>),
}

fn unreachable_text(failures: &[(String, FetchError)]) -> String {
    failures
        .iter()
        .map(|(package, err)| format!("could not check `{package}`: {err}"))
        .collect::<Vec<_>>()
        .join("\nerror: ")
}

impl Error {
    /// What the user can do about it, for the `help:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Tree(err) => err.help(),
            _ => None,
        }
    }

    /// 1 when the answer itself is "no" (the tree has no solution, the
    /// lockfile is stale); 2 for bad input or a failure to find out.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Tree(LockError::NoSolution { .. })
            | Error::LockfileMissing(_)
            | Error::LockfileDiffers(_) => ExitCode::from(1),
            _ => ExitCode::from(2),
        }
    }
}

/// Write `err` to stderr: its diagnostics, the `error:` line and the hint.
#[allow(clippy::print_stderr)]
pub fn render(err: &Error) {
    match err {
        Error::Parse(parse) => {
            for diagnostic in &parse.diagnostics {
                eprintln!("{diagnostic}\n");
            }
            eprintln!("error: {err}");
        }
        Error::CompatDb(db) => {
            for problem in &db.problems {
                eprintln!("{problem}");
            }
            eprintln!("error: {err}");
        }
        Error::ReadPylock { path, .. } | Error::Pylock { path, .. } => {
            eprintln!("{}: error: {err}", path.display());
        }
        _ => eprintln!("error: {err}"),
    }
    if let Some(hint) = err.hint() {
        eprintln!("  = help: {hint}");
    }
}
