use std::path::PathBuf;
use std::process::ExitCode;

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use reqlock::cli::{
    self as commands, AuditArgs, DbArgs, DbListArgs, Exit, FailOn, Format, ListArgs, LockArgs,
    LockFormat,
};
use reqlock::index::discovery::IndexFlags;

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
    /// Check requirements files for drift, ask the package index what each
    /// requirement installs today, and check the result against the compat
    /// database.
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
        /// Never touch the network: answer from the cache only.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        indexes: IndexArgs,
        /// A folder or HTML page of distributions to consider too (pip's
        /// --find-links); repeatable.
        #[arg(long, short = 'f', value_name = "PATH_OR_URL")]
        find_links: Vec<String>,
        /// Target Python as X.Y [default: python3 on PATH, else 3.12].
        #[arg(long, value_name = "X.Y")]
        python_version: Option<String>,
        /// Target wheel platform tag, e.g. manylinux_2_28_x86_64,
        /// macosx_14_0_arm64, win_amd64 [default: this machine].
        #[arg(long, value_name = "TAG")]
        platform: Option<String>,
        /// Consider pre-releases, as pip's --pre.
        #[arg(long)]
        pre: bool,
        /// Ask the indexes again even when cached pages are fresh.
        #[arg(long, conflicts_with = "offline")]
        refresh: bool,
        /// How long a cached page without caching headers stays fresh:
        /// seconds, or with a unit (30s, 10m, 2h).
        #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
        cache_ttl: Duration,
        /// How long to wait for an index before retrying (as --cache-ttl).
        #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
        timeout: Duration,
        /// CUDA version of the target machine, e.g. 12.1.
        #[arg(long, value_name = "X.Y")]
        cuda: Option<String>,
        /// NVIDIA driver version of the target machine, e.g. 535.104.05.
        #[arg(long, value_name = "VERSION")]
        driver: Option<String>,
        /// Treat compat-db rules of evidence `reported` like `verified` ones.
        #[arg(long)]
        trust_reported: bool,
        /// Also resolve the whole dependency tree and audit it: unpinned
        /// transitive packages, compat rules they hit, unresolvable sets.
        #[arg(long)]
        deep: bool,
        /// With --deep: never run an sdist's build backend; a release whose
        /// only file is an sdist without static metadata is then not resolved.
        #[arg(long)]
        no_build: bool,
        /// With --deep: how long each build step (creating the build
        /// environment, installing its requirements, each backend hook) may
        /// take before it is stopped: seconds, or with a unit (30s, 10m).
        #[arg(long, value_name = "SECONDS", default_value = "600", value_parser = parse_build_timeout)]
        build_timeout: Duration,
        #[command(flatten)]
        db: DbFlags,
    },
    /// Resolve the whole dependency tree and write a fully pinned, hashed
    /// lockfile that never contains a combination the compat database
    /// knows to break.
    Lock {
        /// Requirements files [default: requirements.txt]
        files: Vec<PathBuf>,
        /// Write the lockfile here (atomically) instead of to stdout; its
        /// current versions are kept where they still fit.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = LockFormatArg::Requirements)]
        format: LockFormatArg,
        /// Exit 1 and print the difference when the lockfile given with -o
        /// is not what lock would write now (the CI drift gate).
        #[arg(long)]
        check: bool,
        /// Release every version the existing lockfile holds.
        #[arg(long)]
        upgrade: bool,
        /// Release this package's locked version (repeatable).
        #[arg(long, value_name = "NAME")]
        upgrade_package: Vec<String>,
        /// Ignore files uploaded after this date (YYYY-MM-DD, RFC 3339) or
        /// this long ago (7d, 12h).
        #[arg(long, value_name = "DATE")]
        exclude_newer: Option<String>,
        /// Leave out the --hash lines.
        #[arg(long)]
        no_hashes: bool,
        /// Consider pre-releases, as pip's --pre.
        #[arg(long)]
        pre: bool,
        /// Never touch the network: answer from the cache only.
        #[arg(long)]
        offline: bool,
        /// Ask the indexes again even when cached pages are fresh.
        #[arg(long, conflicts_with = "offline")]
        refresh: bool,
        /// Never run an sdist's build backend: a release whose only file is
        /// an sdist without static metadata (PEP 643) is then an error.
        #[arg(long)]
        no_build: bool,
        /// How long each build step (creating the build environment,
        /// installing its requirements, each backend hook) may take before
        /// it is stopped: seconds, or with a unit (30s, 10m).
        #[arg(long, value_name = "SECONDS", default_value = "600", value_parser = parse_build_timeout)]
        build_timeout: Duration,
        /// Refuse the combinations `reported` compat-db rules name too, not
        /// only `verified` ones.
        #[arg(long)]
        trust_reported: bool,
        #[command(flatten)]
        indexes: IndexArgs,
        /// Target Python as X.Y [default: python3 on PATH, else 3.12].
        #[arg(long, value_name = "X.Y")]
        python_version: Option<String>,
        /// Target wheel platform tag [default: this machine].
        #[arg(long, value_name = "TAG")]
        platform: Option<String>,
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
        /// Skip the check of every named release against the index.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        indexes: IndexArgs,
        #[command(flatten)]
        db: DbFlags,
    },
}

/// The indexes to ask, as pip's flags.
#[derive(Args)]
struct IndexArgs {
    /// The main index (pip's --index-url).
    #[arg(long, short = 'i', value_name = "URL")]
    index_url: Option<String>,
    /// Another index to consult (pip's --extra-index-url); repeatable.
    #[arg(long, value_name = "URL")]
    extra_index_url: Vec<String>,
}

impl IndexArgs {
    fn with_find_links(self, find_links: Vec<String>) -> IndexFlags {
        IndexFlags {
            index_url: self.index_url,
            extra_index_urls: self.extra_index_url,
            find_links,
        }
    }
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
enum LockFormatArg {
    /// A pip requirements file with hashes.
    Requirements,
    /// A PEP 751 pylock.toml.
    Pylock,
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

fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 600, 30s, 10m or 2h"))?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("`{text}` has an unknown unit (use s, m or h)")),
    };
    Ok(Duration::from_secs(seconds.saturating_mul(factor)))
}

/// `--build-timeout`: a duration as [`parse_duration`] reads it, not zero
/// (every build would stop at once).
fn parse_build_timeout(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        limit if limit.is_zero() => Err("a build needs more than 0 seconds".to_string()),
        limit => Ok(limit),
    }
}

/// The command line as given, for the lockfile's header, without the flags
/// that only change how this run works (`--check`, `--offline`,
/// `--refresh`, `--build-timeout`), so that checking a lockfile compares
/// like with like; and without credentials in URLs. `args` are the
/// words after the program's name.
fn regenerate_command(args: impl Iterator<Item = String>) -> String {
    let mut skip_value = false;
    let words: Vec<String> = args
        .filter(|word| {
            if std::mem::take(&mut skip_value) {
                return false;
            }
            if word == "--build-timeout" {
                skip_value = true;
                return false;
            }
            !(matches!(word.as_str(), "--check" | "--offline" | "--refresh")
                || word.starts_with("--build-timeout="))
        })
        .map(|word| {
            let word = if word.contains("://") {
                reqlock::redact::text(&word)
            } else {
                word
            };
            // Quoted unless every character means itself to a POSIX shell.
            let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c);
            if word.is_empty() || !word.chars().all(plain) {
                format!("'{}'", word.replace('\'', "'\\''"))
            } else {
                word
            }
        })
        .collect();
    format!("reqlock {}", words.join(" "))
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
            indexes,
            find_links,
            python_version,
            platform,
            pre,
            refresh,
            cache_ttl,
            timeout,
            deep,
            no_build,
            build_timeout,
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
            index: indexes.with_find_links(find_links),
            python_version,
            platform,
            pre,
            refresh,
            cache_ttl,
            timeout,
            deep,
            no_build,
            build_timeout,
        }),
        Command::Lock {
            files,
            output,
            format,
            check,
            upgrade,
            upgrade_package,
            exclude_newer,
            no_hashes,
            pre,
            offline,
            refresh,
            no_build,
            build_timeout,
            trust_reported,
            indexes,
            python_version,
            platform,
            db,
        } => commands::lock(&LockArgs {
            files: files_or_default(files),
            output,
            format: match format {
                LockFormatArg::Requirements => LockFormat::Requirements,
                LockFormatArg::Pylock => LockFormat::Pylock,
            },
            check,
            upgrade,
            upgrade_packages: upgrade_package,
            exclude_newer,
            hashes: !no_hashes,
            pre,
            offline,
            refresh,
            no_build,
            build_timeout,
            trust_reported,
            index: indexes.with_find_links(Vec::new()),
            python_version,
            platform,
            db: db.into(),
            command: regenerate_command(std::env::args().skip(1)),
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
            DbCommand::Check {
                offline,
                indexes,
                db,
            } => commands::db_check(&db.into(), offline, &indexes.with_find_links(Vec::new())),
        },
    };
    exit.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regenerate_command_leaves_out_what_only_changes_this_run() {
        let args = [
            "lock",
            "--offline",
            "--build-timeout",
            "30",
            "--build-timeout=90",
            "-o",
            "requirements.lock",
            "requirements.txt",
        ];
        assert_eq!(
            regenerate_command(args.iter().map(|word| word.to_string())),
            "reqlock lock -o requirements.lock requirements.txt"
        );
    }

    #[test]
    fn the_regenerate_command_quotes_what_a_shell_would_read_otherwise() {
        let args = [
            "lock",
            "--extra-index-url",
            "https://u:p@host.example.invalid/simple?a=1&b=2",
            "my file.txt",
            "it's.txt",
        ];
        assert_eq!(
            regenerate_command(args.iter().map(|word| word.to_string())),
            "reqlock lock --extra-index-url 'https://host.example.invalid/simple?a=1&b=2' 'my file.txt' 'it'\\''s.txt'"
        );
    }
}
