//! The command line: clap's arguments ([`args`]) turned into settings, one
//! file per subcommand, and the one place errors are rendered
//! ([`error`]). Data goes to stdout; progress, summaries and errors go to
//! stderr, and only this module (and [`crate::report`]) writes to either.
#![allow(clippy::print_stderr, clippy::print_stdout)]

mod args;
mod audit;
mod db;
mod error;
mod list;
mod lock;
mod output;
mod tree;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::requirements::{self, ParseSettings, RequirementSet};
use args::{Cli, Command};
pub use error::Error;

/// What a command found, when it could do its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nothing at or above the failure threshold: exit 0.
    Clean,
    /// Findings at or above the failure threshold: exit 1.
    Findings,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        match status {
            Status::Clean => ExitCode::SUCCESS,
            Status::Findings => ExitCode::from(1),
        }
    }
}

/// Run reqlock with `args` (the program's name first, as `std::env::args_os`
/// gives them); errors are rendered on stderr. Exit codes: 0 clean, 1
/// findings (or a stale lockfile, an unsolvable tree), 2 bad usage or input.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::List(args) => list::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Lock(lock_args) => lock::run(&lock_args, &lock::regenerate_command(&args[1..])),
        Command::Db { command } => db::run(&command),
    };
    match result {
        Ok(status) => status.into(),
        Err(err) => {
            error::render(&err);
            err.exit_code()
        }
    }
}

/// The files given, or pip's usual `requirements.txt`.
fn files_or_default(files: &[PathBuf]) -> Vec<PathBuf> {
    if files.is_empty() {
        vec![PathBuf::from("requirements.txt")]
    } else {
        files.to_vec()
    }
}

/// Read the input files: requirements files as pip does, and PEP 751
/// `pylock.toml` files as exact, hashed pins. Warnings go to stderr.
fn read_requirements(files: &[PathBuf]) -> Result<RequirementSet, Error> {
    let files = files_or_default(files);
    let (locks, requirement_files): (Vec<PathBuf>, Vec<PathBuf>) = files
        .into_iter()
        .partition(|path| crate::lock::pylock::is_pylock_path(path));
    let mut set = if requirement_files.is_empty() {
        RequirementSet::default()
    } else {
        let set =
            requirements::parse_files(&requirement_files, &ParseSettings::from_environment())?;
        output::print_diagnostics(&set.warnings);
        set
    };
    for path in locks {
        let text = std::fs::read_to_string(&path).map_err(|source| Error::ReadPylock {
            path: path.clone(),
            source,
        })?;
        let pylock = crate::lock::pylock::Pylock::parse(&text).map_err(|source| Error::Pylock {
            path: path.clone(),
            source,
        })?;
        let read = pylock.to_requirement_set(&path, &text);
        output::print_diagnostics(&read.warnings);
        set.requirements.extend(read.requirements);
        set.files.extend(read.files);
    }
    Ok(set)
}
