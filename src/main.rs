use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use reqlock::commands::{self, AuditArgs, Exit, FailOn, Format, ListArgs};

/// Keeps Python requirements files honest.
#[derive(Parser)]
#[command(name = "reqlock", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every requirement pip would collect, following -r/-c includes.
    List {
        /// Requirements files [default: requirements.txt]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// Check requirements files for drift: loose ranges, unpinned URLs,
    /// duplicates, conflicting pins, missing hashes.
    Audit {
        /// Requirements files [default: requirements.txt]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
        /// Make unpinned and loose requirements errors (the CI gate).
        #[arg(long)]
        strict: bool,
        /// The lowest severity that makes the exit code 1.
        #[arg(long, value_enum, default_value_t = FailOnArg::Error)]
        fail_on: FailOnArg,
        /// Never touch the network.
        #[arg(long)]
        offline: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOnArg {
    Error,
    Warning,
    Never,
}

fn files_or_default(files: Vec<PathBuf>) -> Vec<PathBuf> {
    if files.is_empty() {
        vec![PathBuf::from("requirements.txt")]
    } else {
        files
    }
}

fn format(arg: FormatArg) -> Format {
    match arg {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                Exit::InputError.into()
            } else {
                Exit::Clean.into()
            };
        }
    };
    let exit = match cli.command {
        Command::List { files, format: f } => commands::list(&ListArgs {
            files: files_or_default(files),
            format: format(f),
        }),
        Command::Audit {
            files,
            format: f,
            strict,
            fail_on,
            offline,
        } => commands::audit(&AuditArgs {
            files: files_or_default(files),
            format: format(f),
            strict,
            fail_on: match fail_on {
                FailOnArg::Error => FailOn::Error,
                FailOnArg::Warning => FailOn::Warning,
                FailOnArg::Never => FailOn::Never,
            },
            offline,
        }),
    };
    exit.into()
}
