//! The command line as clap reads it. Flags that several subcommands take
//! are declared once, in an argument group (`IndexArgs`, `CacheArgs`,
//! `TargetArgs`, `BuildArgs`, `DbArgs`), and flattened into each; values
//! are parsed into their types here (durations, CUDA and driver versions,
//! dates), so that a bad value is a usage error before anything runs.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::compat::{CompatDb, DbError};
use crate::index::client::{CacheMode, ClientSettings};
use crate::index::discovery::IndexFlags;
use crate::target::{CudaVersion, DriverVersion, Target, TargetError};
use crate::tree::timestamp::Timestamp;

/// Keeps Python requirements files honest.
#[derive(Parser)]
#[command(name = "reqlock", version, about, propagate_version = true)]
pub(super) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub(super) enum Command {
    /// Print every requirement pip would collect, following -r/-c includes.
    List(ListArgs),
    /// Check requirements files for drift, ask the package index what each
    /// requirement installs today, and check the result against the compat
    /// database.
    Audit(AuditArgs),
    /// Resolve the whole dependency tree and write a fully pinned, hashed
    /// lockfile that never contains a combination the compat database
    /// knows to break.
    Lock(LockArgs),
    /// Inspect and validate the compat database.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
}

#[derive(Args)]
pub(super) struct ListArgs {
    /// Requirements files [default: requirements.txt]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = DataFormat::Table)]
    pub format: DataFormat,
}

#[derive(Args)]
pub(super) struct AuditArgs {
    /// Requirements files [default: requirements.txt]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// Make unpinned and loose requirements errors (the CI gate).
    #[arg(long)]
    pub strict: bool,
    /// The lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Also resolve the whole dependency tree and audit it: unpinned
    /// transitive packages, compat rules they hit, unresolvable sets.
    #[arg(long)]
    pub deep: bool,
    /// Consider pre-releases, as pip's --pre.
    #[arg(long)]
    pub pre: bool,
    #[command(flatten)]
    pub index: IndexArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub gpu: GpuArgs,
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Treat compat-db rules of evidence `reported` like `verified` ones.
    #[arg(long)]
    pub trust_reported: bool,
}

#[derive(Args)]
pub(super) struct LockArgs {
    /// Requirements files [default: requirements.txt]
    pub files: Vec<PathBuf>,
    /// Write the lockfile here (atomically) instead of to stdout; its
    /// current versions are kept where they still fit.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = LockFormat::Requirements)]
    pub format: LockFormat,
    /// Exit 1 and print the difference when the lockfile given with -o
    /// is not what lock would write now (the CI drift gate).
    #[arg(long)]
    pub check: bool,
    /// Release every version the existing lockfile holds.
    #[arg(long)]
    pub upgrade: bool,
    /// Release this package's locked version (repeatable).
    #[arg(long, value_name = "NAME")]
    pub upgrade_package: Vec<String>,
    /// Ignore files uploaded after this date (YYYY-MM-DD, RFC 3339) or
    /// this long ago (7d, 12h).
    #[arg(long, value_name = "DATE", value_parser = parse_exclude_newer)]
    pub exclude_newer: Option<Timestamp>,
    /// Leave out the --hash lines.
    #[arg(long)]
    pub no_hashes: bool,
    /// Consider pre-releases, as pip's --pre.
    #[arg(long)]
    pub pre: bool,
    #[command(flatten)]
    pub index: IndexArgs,
    #[command(flatten)]
    pub cache: CacheArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub build: BuildArgs,
    #[command(flatten)]
    pub db: DbArgs,
    /// Refuse the combinations `reported` compat-db rules name too, not
    /// only `verified` ones.
    #[arg(long)]
    pub trust_reported: bool,
}

#[derive(Subcommand)]
pub(super) enum DbCommand {
    /// List every rule of the database.
    List {
        #[arg(long, value_enum, default_value_t = DataFormat::Table)]
        format: DataFormat,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Show the rules that mention a package.
    Show {
        package: String,
        #[arg(long, value_enum, default_value_t = DataFormat::Table)]
        format: DataFormat,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Validate the database: schema, ids, specifiers, sources.
    Check {
        /// Skip the check of every named release against the index.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        index: IndexArgs,
        #[command(flatten)]
        db: DbArgs,
    },
}

/// The indexes to ask, as pip's flags.
#[derive(Args)]
pub(super) struct IndexArgs {
    /// The main index (pip's --index-url).
    #[arg(long, short = 'i', value_name = "URL")]
    pub index_url: Option<String>,
    /// Another index to consult (pip's --extra-index-url); repeatable.
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,
    /// A folder or HTML page of distributions to consider too (pip's
    /// --find-links); repeatable.
    #[arg(long, short = 'f', value_name = "PATH_OR_URL")]
    pub find_links: Vec<String>,
}

impl IndexArgs {
    pub fn flags(&self) -> IndexFlags {
        IndexFlags {
            index_url: self.index_url.clone(),
            extra_index_urls: self.extra_index_url.clone(),
            find_links: self.find_links.clone(),
        }
    }
}

/// How the cache and the network are used.
#[derive(Args)]
pub(super) struct CacheArgs {
    /// Never touch the network: answer from the cache only.
    #[arg(long)]
    pub offline: bool,
    /// Ask the indexes again even when cached pages are fresh.
    #[arg(long, conflicts_with = "offline")]
    pub refresh: bool,
    /// How long a cached page without caching headers stays fresh:
    /// seconds, or with a unit (30s, 10m, 2h).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub cache_ttl: Duration,
    /// How long to wait for an index before retrying (as --cache-ttl).
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = parse_duration)]
    pub timeout: Duration,
}

impl CacheArgs {
    pub fn client_settings(&self) -> ClientSettings {
        ClientSettings {
            timeout: self.timeout,
            ttl: self.cache_ttl,
            mode: CacheMode::from_flags(self.offline, self.refresh),
            ..ClientSettings::default()
        }
    }
}

/// The Python and platform to install for.
#[derive(Args)]
pub(super) struct TargetArgs {
    /// Target Python as X.Y [default: python3 on PATH, else 3.12].
    #[arg(long, value_name = "X.Y")]
    pub python_version: Option<String>,
    /// Target wheel platform tag, e.g. manylinux_2_28_x86_64,
    /// macosx_14_0_arm64, win_amd64 [default: this machine].
    #[arg(long, value_name = "TAG")]
    pub platform: Option<String>,
}

impl TargetArgs {
    pub fn target(&self) -> Result<Target, TargetError> {
        Target::from_flags(self.python_version.as_deref(), self.platform.as_deref())
    }
}

/// The GPU of the target machine, for the compat database's CUDA checks.
#[derive(Args)]
pub(super) struct GpuArgs {
    /// CUDA version of the target machine, e.g. 12.1.
    #[arg(long, value_name = "X.Y")]
    pub cuda: Option<CudaVersion>,
    /// NVIDIA driver version of the target machine, e.g. 535.104.05.
    #[arg(long, value_name = "VERSION")]
    pub driver: Option<DriverVersion>,
}

/// Whether and how sdists may be built to read their metadata.
#[derive(Args)]
pub(super) struct BuildArgs {
    /// Never run an sdist's build backend: a release whose only file is an
    /// sdist without static metadata (PEP 643) is then not resolved (an
    /// error for lock; for audit, with --deep only).
    #[arg(long)]
    pub no_build: bool,
    /// How long each build step (creating the build environment,
    /// installing its requirements, each backend hook) may take before it
    /// is stopped: seconds, or with a unit (30s, 10m).
    #[arg(long, value_name = "SECONDS", default_value = "600", value_parser = parse_build_timeout)]
    pub build_timeout: Duration,
}

/// Which compat database to use.
#[derive(Args)]
pub(super) struct DbArgs {
    /// Add compat-db rules from a TOML file or a folder of them (repeatable).
    #[arg(long = "db", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Leave the bundled compat database out.
    #[arg(long)]
    pub no_default_db: bool,
}

impl DbArgs {
    pub fn load(&self) -> Result<CompatDb, DbError> {
        CompatDb::load(!self.no_default_db, &self.paths)
    }
}

/// What `list` and `db` print.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum DataFormat {
    Table,
    Json,
}

/// What `audit` prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum AuditFormat {
    Table,
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// GitHub Actions annotations (`::error file=...`).
    Github,
}

/// What `lock` writes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum LockFormat {
    /// A pip requirements file with hashes.
    Requirements,
    /// A PEP 751 pylock.toml.
    Pylock,
}

impl From<LockFormat> for crate::lock::Format {
    fn from(format: LockFormat) -> crate::lock::Format {
        match format {
            LockFormat::Requirements => crate::lock::Format::Requirements,
            LockFormat::Pylock => crate::lock::Format::Pylock,
        }
    }
}

/// The lowest severity that makes `audit` exit 1.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum FailOn {
    Error,
    Warning,
    Never,
}

impl FailOn {
    pub fn is_failure(self, severity: crate::audit::Severity) -> bool {
        use crate::audit::Severity;
        match self {
            FailOn::Error => severity >= Severity::Error,
            FailOn::Warning => severity >= Severity::Warning,
            FailOn::Never => false,
        }
    }
}

/// `600`, `30s`, `10m`, `2h`.
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

/// `--exclude-newer`: a timestamp, or `N` days/hours back from now.
fn parse_exclude_newer(text: &str) -> Result<Timestamp, String> {
    let duration = text
        .strip_suffix('d')
        .map(|days| (days, 86_400))
        .or_else(|| text.strip_suffix('h').map(|hours| (hours, 3_600)));
    if let Some((number, unit)) = duration {
        if let Ok(count) = number.parse::<i64>() {
            let now = i64::try_from(crate::index::cache::now()).unwrap_or(i64::MAX);
            return Ok(Timestamp::from_seconds_since_epoch(
                now.saturating_sub(count.saturating_mul(unit)),
            ));
        }
    }
    text.parse()
        .map_err(|err: crate::tree::timestamp::TimestampError| {
            format!("{err}, or a duration such as 7d or 12h")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("600"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert!(parse_duration("10d").is_err());
        assert!(parse_build_timeout("0").is_err());
        assert!(parse_exclude_newer("last tuesday").is_err());
        assert!(parse_exclude_newer("7d").is_ok());
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
