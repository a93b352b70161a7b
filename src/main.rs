use std::path::PathBuf;
use std::process::ExitCode;

use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use reqlock::commands::{self, AuditArgs, Exit, FailOn, Format, ListArgs};
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
    /// Check requirements files for drift (loose ranges, unpinned URLs,
    /// duplicates, conflicting pins, missing hashes) and ask the package
    /// index what each requirement installs today.
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
        /// Never touch the network: answer from the cache only.
        #[arg(long)]
        offline: bool,
        /// The main index (pip's --index-url).
        #[arg(long, short = 'i', value_name = "URL")]
        index_url: Option<String>,
        /// Another index to consult (pip's --extra-index-url); repeatable.
        #[arg(long, value_name = "URL")]
        extra_index_url: Vec<String>,
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
            index_url,
            extra_index_url,
            find_links,
            python_version,
            platform,
            pre,
            refresh,
            cache_ttl,
            timeout,
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
            index: IndexFlags {
                index_url,
                extra_index_urls: extra_index_url,
                find_links,
            },
            python_version,
            platform,
            pre,
            refresh,
            cache_ttl,
            timeout,
        }),
    };
    exit.into()
}
