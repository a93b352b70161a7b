use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use reqlock::commands::{self, AuditArgs, DbArgs, DbListArgs, Exit, FailOn, Format, ListArgs};

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
    /// Check requirements files for drift and for combinations the compat
    /// database knows to break.
    Audit {
        /// Requirements files [default: requirements.txt]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = AuditFormatArg::Table)]
        format: AuditFormatArg,
        /// Make unpinned and loose requirements errors (the CI gate).
        #[arg(long)]
        strict: bool,
        /// The lowest severity that makes the exit code 1.
        #[arg(long, value_enum, default_value_t = FailOnArg::Error)]
        fail_on: FailOnArg,
        /// Never touch the network.
        #[arg(long)]
        offline: bool,
        /// CUDA version of the target machine, e.g. 12.1.
        #[arg(long, value_name = "X.Y")]
        cuda: Option<String>,
        /// NVIDIA driver version of the target machine, e.g. 535.104.05.
        #[arg(long, value_name = "VERSION")]
        driver: Option<String>,
        /// Treat compat-db rules of evidence `reported` like `verified` ones.
        #[arg(long)]
        trust_reported: bool,
        #[command(flatten)]
        db: DbFlags,
    },
    /// Inspect and validate the compat database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Subcommand)]
enum DbCommand {
    /// List every rule of the database.
    List {
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
        #[command(flatten)]
        db: DbFlags,
    },
    /// Show the rules that mention a package.
    Show {
        package: String,
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
        #[command(flatten)]
        db: DbFlags,
    },
    /// Validate the database: schema, ids, specifiers, sources.
    Check {
        /// Skip the check of every named version against the index.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        db: DbFlags,
    },
}

#[derive(Args)]
struct DbFlags {
    /// Add compat-db rules from a TOML file or a folder of them (repeatable).
    #[arg(long = "db", value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Leave the bundled compat database out.
    #[arg(long)]
    no_default_db: bool,
}

impl From<DbFlags> for DbArgs {
    fn from(flags: DbFlags) -> DbArgs {
        DbArgs {
            paths: flags.paths,
            no_default: flags.no_default_db,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Table,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuditFormatArg {
    Table,
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// GitHub Actions annotations (`::error file=...`).
    Github,
}

impl From<AuditFormatArg> for Format {
    fn from(arg: AuditFormatArg) -> Format {
        match arg {
            AuditFormatArg::Table => Format::Table,
            AuditFormatArg::Json => Format::Json,
            AuditFormatArg::Sarif => Format::Sarif,
            AuditFormatArg::Github => Format::Github,
        }
    }
}

impl From<FormatArg> for Format {
    fn from(arg: FormatArg) -> Format {
        match arg {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOnArg {
    Error,
    Warning,
    Never,
}

impl From<FailOnArg> for FailOn {
    fn from(arg: FailOnArg) -> FailOn {
        match arg {
            FailOnArg::Error => FailOn::Error,
            FailOnArg::Warning => FailOn::Warning,
            FailOnArg::Never => FailOn::Never,
        }
    }
}

fn files_or_default(files: Vec<PathBuf>) -> Vec<PathBuf> {
    if files.is_empty() {
        vec![PathBuf::from("requirements.txt")]
    } else {
        files
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
        Command::List { files, format } => commands::list(&ListArgs {
            files: files_or_default(files),
            format: format.into(),
        }),
        Command::Audit {
            files,
            format,
            strict,
            fail_on,
            offline,
            cuda,
            driver,
            trust_reported,
            db,
        } => commands::audit(&AuditArgs {
            files: files_or_default(files),
            format: format.into(),
            strict,
            fail_on: fail_on.into(),
            offline,
            db: db.into(),
            cuda,
            driver,
            trust_reported,
        }),
        Command::Db { command } => match command {
            DbCommand::List { format, db } => commands::db_list(&DbListArgs {
                db: db.into(),
                format: format.into(),
                package: None,
            }),
            DbCommand::Show {
                package,
                format,
                db,
            } => commands::db_list(&DbListArgs {
                db: db.into(),
                format: format.into(),
                package: Some(package),
            }),
            DbCommand::Check { offline, db } => commands::db_check(&db.into(), offline),
        },
    };
    exit.into()
}
