//! The subcommands, called by the thin binary with already-parsed flags.
//! Data goes to stdout; diagnostics, summaries and errors go to stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use pep508_rs::pep440_rs::Version;
use pep508_rs::PackageName;

use indicatif::{ProgressBar, ProgressStyle};

use crate::audit::compat::CompatSettings;
use crate::audit::{self, AuditSettings, Online, PinnedMetadata, Severity};
use crate::compat::{dotted_numbers, verify, CompatDb};
use crate::diagnostic::Diagnostic;
use crate::index::cache::{Answer, Cache};
use crate::index::client::{CacheMode, ClientSettings, Fetched, IndexClient};
use crate::index::discovery::{self, IndexConfig, IndexFlags, ProcessEnvironment};
use crate::index::filename;
use crate::index::page::VersionFilter;
use crate::lock;
use crate::report::{self, json::IndexContext, json::Summary};
use crate::requirements::{self, InstallOptions, ParseSettings, RequirementSet};
use crate::select::{self, Policy, Resolution, Sources};
use crate::target::Target;

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
    /// SARIF 2.1.0 (audit only).
    Sarif,
    /// GitHub Actions annotations (audit only).
    Github,
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
    /// No network at all: index answers come from the cache only.
    pub offline: bool,
    pub db: DbArgs,
    /// Target CUDA version (`12.1`).
    pub cuda: Option<String>,
    /// Target NVIDIA driver version (`535.104.05`).
    pub driver: Option<String>,
    pub trust_reported: bool,
    pub index: IndexFlags,
    /// `X.Y`; `None` means the local `python3`, else the fallback.
    pub python_version: Option<String>,
    /// A wheel platform tag; `None` means this machine.
    pub platform: Option<String>,
    pub pre: bool,
    /// Ignore cached pages, however fresh.
    pub refresh: bool,
    pub cache_ttl: Duration,
    pub timeout: Duration,
    /// Also resolve the whole dependency tree and audit it (`--deep`).
    pub deep: bool,
    /// With `deep`: never run an sdist's build backend.
    pub no_build: bool,
    /// With `deep`: how long each build step may take.
    pub build_timeout: Duration,
}

/// Which compat database to use.
pub struct DbArgs {
    /// Extra database files or folders (`--db`).
    pub paths: Vec<PathBuf>,
    /// Leave the bundled database out (`--no-default-db`).
    pub no_default: bool,
}

impl DbArgs {
    fn load(&self) -> Result<CompatDb, Exit> {
        CompatDb::load(!self.no_default, &self.paths).map_err(|err| {
            for problem in &err.problems {
                eprintln!("{problem}");
            }
            eprintln!("error: {err}");
            Exit::InputError
        })
    }
}

fn print_diagnostics(diagnostics: &[Diagnostic]) {
    let mut stderr = std::io::stderr().lock();
    for diagnostic in diagnostics {
        let _ = writeln!(stderr, "{diagnostic}\n");
    }
}

fn write_stdout(text: &str) -> Result<(), Exit> {
    emit(|out| out.write_all(text.as_bytes()))
}

/// Write data to stdout through a buffer, streaming large documents.
fn emit(render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Exit> {
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match render(&mut stdout).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`reqlock list | head`) is the reader's choice, not an error.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => {
            eprintln!("error: could not write output: {err}");
            Err(Exit::InputError)
        }
    }
}

/// Read the input files: requirements files as pip does, and PEP 751
/// `pylock.toml` files as exact, hashed pins.
fn parse(files: &[PathBuf]) -> Result<RequirementSet, Exit> {
    let (locks, requirement_files): (Vec<&PathBuf>, Vec<&PathBuf>) = files
        .iter()
        .partition(|path| lock::pylock::is_pylock_path(path));
    let mut set = if requirement_files.is_empty() {
        RequirementSet::default()
    } else {
        let requirement_files: Vec<PathBuf> = requirement_files.into_iter().cloned().collect();
        parse_requirement_files(&requirement_files)?
    };
    for path in locks {
        let text = std::fs::read_to_string(path).map_err(|err| {
            eprintln!(
                "{}: error: could not read the lock file: {err}",
                path.display()
            );
            Exit::InputError
        })?;
        let pylock = lock::pylock::Pylock::parse(&text).map_err(|err| {
            eprintln!("{}: error: {err}", path.display());
            Exit::InputError
        })?;
        let read = pylock.to_requirement_set(path, &text);
        print_diagnostics(&read.warnings);
        set.requirements.extend(read.requirements);
        set.files.extend(read.files);
    }
    Ok(set)
}

fn parse_requirement_files(files: &[PathBuf]) -> Result<RequirementSet, Exit> {
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
    let written = match args.format {
        Format::Json => emit(|out| report::json::write_list_document(out, &set)),
        Format::Table => write_stdout(&report::table::list_table(
            &set,
            report::stdout_wants_color(),
        )),
        Format::Sarif | Format::Github => {
            eprintln!("error: `list` prints `table` or `json`; SARIF and GitHub annotations report audit findings");
            return Exit::InputError;
        }
    };
    if let Err(exit) = written {
        return exit;
    }
    eprintln!(
        "{} requirement(s) from {} file(s)",
        set.requirements.len(),
        set.files.len()
    );
    Exit::Clean
}

/// A progress bar on stderr, only for a person watching a terminal.
fn progress_bar(format: Format) -> ProgressBar {
    if format == Format::Json || !std::io::stderr().is_terminal() {
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

/// What the indexes say about a requirement set, for one target.
struct IndexAnswers {
    session: IndexSession,
    target: Target,
    /// Parallel to the set's requirements.
    resolutions: Vec<Resolution>,
    /// The core metadata of each exactly pinned release, by requirement.
    pinned: PinnedMetadata,
}

/// A usage or input problem, said once on stderr.
fn usage_error(message: impl std::fmt::Display) -> Exit {
    eprintln!("error: {message}");
    Exit::InputError
}

/// The indexes to ask, and a client for them.
struct IndexSession {
    sources: IndexConfig,
    client: IndexClient,
    cache: Option<Cache>,
}

/// Find the indexes as pip would (flags, the files' options, the
/// environment, pip's configuration, pip's default) and set up a client
/// that trusts pip's `cert` too.
fn open_indexes(
    flags: &IndexFlags,
    file_options: &InstallOptions,
    settings: ClientSettings,
) -> Result<IndexSession, Exit> {
    let sources =
        discovery::discover(flags, file_options, &ProcessEnvironment).map_err(usage_error)?;
    let settings = ClientSettings {
        ca_bundle: sources.cert.clone(),
        ..settings
    };
    let cache = Cache::from_environment();
    let indexes: Vec<crate::index::IndexUrl> =
        sources.indexes.iter().map(|i| i.url.clone()).collect();
    let client = IndexClient::new(settings, cache.clone())
        .map_err(usage_error)?
        .with_index_logins(&indexes);
    Ok(IndexSession {
        sources,
        client,
        cache,
    })
}

/// Which indexes are asked, and why, on stderr.
fn print_indexes(sources: &IndexConfig) {
    for index in &sources.indexes {
        eprintln!("index: {} (from {})", index.url, index.source);
    }
}

/// Find the indexes, fetch (or read from the cache) every project's page
/// and pick a release per requirement; usage errors are reported here.
fn ask_indexes(set: &RequirementSet, args: &AuditArgs) -> Result<IndexAnswers, Exit> {
    let target = Target::from_flags(args.python_version.as_deref(), args.platform.as_deref())
        .map_err(usage_error)?;
    let session = open_indexes(
        &args.index,
        &set.options,
        ClientSettings {
            timeout: args.timeout,
            ttl: args.cache_ttl,
            mode: CacheMode::from_flags(args.offline, args.refresh),
            ..ClientSettings::default()
        },
    )?;
    let IndexSession {
        sources,
        client,
        cache,
    } = &session;
    let index_urls: Vec<_> = sources.indexes.iter().map(|i| i.url.clone()).collect();
    let projects = select::projects_to_fetch(set, &target);
    let progress = progress_bar(args.format);
    let fetched = client.fetch_all(&index_urls, &sources.find_links, &projects, &progress);
    progress.finish_and_clear();
    let resolutions = select::resolve_all(
        set,
        &Sources {
            indexes: index_urls.iter().map(ToString::to_string).collect(),
            find_links: &sources.find_links,
            fetched: &fetched,
        },
        &target,
        &Policy {
            pre: args.pre || set.options.pre,
            only_binary: set.options.only_binary.clone(),
            no_binary: set.options.no_binary.clone(),
        },
    );
    let pinned = pinned_metadata(set, &resolutions, &fetched, client, cache.as_ref());
    // Freeing thousands of parsed files one by one costs as much as the
    // rest of a warm audit: it happens on another thread, or not at all
    // if the process ends first.
    std::thread::spawn(move || drop(fetched));
    Ok(IndexAnswers {
        session,
        target,
        resolutions,
        pinned,
    })
}

/// A pin (by requirement index), its wheel's file name, and the wheel's
/// `Requires-Dist` values or why they could not be had.
type PinRequirements<'a> = (usize, &'a String, Result<Vec<String>, String>);

/// For `declared-conflict`: the metadata of every release a requirement
/// pins exactly (the same cached metadata `lock` reads), and the pins whose
/// metadata could not be had.
fn pinned_metadata(
    set: &RequirementSet,
    resolutions: &[Resolution],
    fetched: &Fetched,
    client: &IndexClient,
    cache: Option<&Cache>,
) -> PinnedMetadata {
    // (requirement index, wheel URL, file name, hash) of each exact pin.
    let mut wanted: Vec<(usize, String, String, Option<String>)> = Vec::new();
    for (index, (requirement, resolution)) in set.requirements.iter().zip(resolutions).enumerate() {
        let Resolution::Checked {
            resolved: Some(resolved),
            ..
        } = resolution
        else {
            continue;
        };
        if audit::pinned_version(requirement).is_none() {
            continue;
        }
        let project = requirement
            .name
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let wheel = fetched
            .pages
            .iter()
            .filter(|((_, name), _)| *name == project)
            .filter_map(|(_, page)| match page {
                Ok(Answer::Found(found)) => Some(found),
                _ => None,
            })
            .flat_map(|found| &found.files)
            .find(|file| {
                file.filename.ends_with(".whl") && resolved.files.contains(&file.filename)
            });
        if let Some(wheel) = wheel {
            let hash = wheel
                .hashes
                .get("sha256")
                .map(|digest| format!("sha256:{digest}"));
            wanted.push((index, wheel.url.clone(), wheel.filename.clone(), hash));
        }
    }
    // Cached metadata is read first, shared out over the cores; only misses
    // wait on the network, several at once.
    let cached = crate::parallel::map(&wanted, 8, |(_, url, _, hash)| {
        crate::tree::index_source::cached_wheel_metadata(cache, url, hash.as_deref())
            .map(|text| crate::index::metadata::raw_requires_dist(&text))
    });
    let mut results: Vec<PinRequirements> = Vec::new();
    let mut misses = Vec::new();
    for ((index, url, filename, hash), requires_dist) in wanted.iter().zip(cached) {
        match requires_dist {
            Some(requires_dist) => results.push((*index, filename, Ok(requires_dist))),
            None => misses.push((*index, url, filename, hash)),
        }
    }
    // Network reads wait more than they work: more threads than cores.
    let fetched_now = crate::parallel::map_on(&misses, 8, |&(index, url, filename, hash)| {
        let requires_dist = crate::tree::index_source::read_wheel_metadata(
            client,
            cache,
            url,
            filename,
            hash.as_deref(),
        )
        .map(|text| crate::index::metadata::raw_requires_dist(&text))
        .map_err(|err| err.to_string());
        (index, filename, requires_dist)
    });
    results.extend(fetched_now);
    let mut pinned = PinnedMetadata::default();
    for (index, filename, requires_dist) in results {
        match requires_dist {
            Ok(requires_dist) => {
                pinned.requires_dist.insert(index, requires_dist);
            }
            Err(reason) => pinned
                .unavailable
                .push((index, format!("{filename}: {reason}"))),
        }
    }
    pinned.unavailable.sort();
    pinned
}

/// `reqlock audit`: resolve against the indexes, run the rules and apply
/// the failure threshold.
pub fn audit(args: &AuditArgs) -> Exit {
    if let Some(cuda) = &args.cuda {
        if dotted_numbers(cuda).is_none_or(|parts| parts.len() != 2) {
            eprintln!("error: `--cuda {cuda}` is not a CUDA version\n  = help: give major.minor, e.g. `--cuda 12.1`");
            return Exit::InputError;
        }
    }
    if let Some(driver) = &args.driver {
        if dotted_numbers(driver).is_none() {
            eprintln!("error: `--driver {driver}` is not a driver version\n  = help: give the version `nvidia-smi` prints, e.g. `--driver 535.104.05`");
            return Exit::InputError;
        }
    }
    let set = match parse(&args.files) {
        Ok(set) => set,
        Err(exit) => return exit,
    };
    let db = match args.db.load() {
        Ok(db) => db,
        Err(exit) => return exit,
    };
    let IndexAnswers {
        session,
        target,
        resolutions,
        pinned,
    } = match ask_indexes(&set, args) {
        Ok(answers) => answers,
        Err(exit) => return exit,
    };
    let tree = args.deep.then(|| {
        let options = crate::tree::resolve::ResolveOptions {
            prereleases: args.pre || set.options.pre,
            trust_reported: args.trust_reported,
            working_dir: ParseSettings::from_environment().working_dir,
            ..crate::tree::resolve::ResolveOptions::default()
        };
        let settings = TreeSettings {
            allow_builds: !args.no_build,
            build_timeout: args.build_timeout,
            progress: args.format != Format::Json,
        };
        resolve_locked_requirements(&session, &set, &target, &db, &options, settings)
    });
    let closure = tree
        .as_ref()
        .map(|tree| audit::deep::Closure::new(&set, tree, &target));
    let sources = &session.sources;
    let settings = AuditSettings {
        strict: args.strict,
        compat: CompatSettings {
            cuda: args.cuda.clone(),
            driver: args.driver.clone(),
            trust_reported: args.trust_reported,
        },
    };
    let outcome = audit::audit(
        &set,
        &db,
        &settings,
        Some(Online {
            resolutions: &resolutions,
            target: &target,
            pinned: &pinned,
            closure: closure.as_ref(),
        }),
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
    let written = match args.format {
        Format::Json => emit(|out| {
            report::json::write_audit_document(
                out,
                &set,
                &outcome,
                &IndexContext {
                    sources,
                    target: &target,
                    resolutions: &resolutions,
                    offline: args.offline,
                    closure: closure.as_ref(),
                },
            )
        }),
        Format::Table => write_stdout(&report::table::audit_table(
            &outcome,
            report::stdout_wants_color(),
        )),
        Format::Sarif => write_stdout(&report::sarif::audit_document(&outcome)),
        Format::Github => write_stdout(&report::sarif::github_annotations(&outcome)),
    };
    if let Err(exit) = written {
        return exit;
    }
    for index in &sources.indexes {
        eprintln!("index: {} (from {})", index.url, index.source);
    }
    for location in &sources.find_links {
        eprintln!("find-links: {location}");
    }
    eprintln!("target: {target}");
    let skipped: Vec<String> = set
        .requirements
        .iter()
        .zip(&resolutions)
        .filter(|(_, resolution)| **resolution == Resolution::Skipped)
        .map(|(requirement, _)| requirement.label())
        .collect();
    if !skipped.is_empty() {
        eprintln!(
            "skipped (markers exclude the target): {}",
            skipped.join(", ")
        );
    }
    let resolved = resolutions
        .iter()
        .filter(|r| {
            matches!(
                r,
                Resolution::Checked {
                    resolved: Some(_),
                    ..
                }
            )
        })
        .count();
    match &closure {
        Some(audit::deep::Closure::Resolved(packages)) => eprintln!(
            "deep: resolved the dependency tree: {} package(s) in the closure, {} not pinned by any line",
            packages.len(),
            packages.iter().filter(|package| !package.pinned).count()
        ),
        Some(audit::deep::Closure::Failed(_)) => {
            eprintln!("deep: the dependency tree was not resolved (see the finding on the first requirement)");
        }
        None => {}
    }
    let summary = Summary::of(&outcome);
    let mode = if args.offline {
        "offline, from the cache"
    } else {
        "online"
    };
    eprintln!(
        "audited {} requirement(s) in {} file(s) ({mode}, {resolved} resolved): {} error(s), {} warning(s), {} info, {} suppressed",
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

pub struct DbListArgs {
    pub db: DbArgs,
    pub format: Format,
    /// Only rules that mention this package (`db show`).
    pub package: Option<String>,
}

/// `reqlock db list` and `reqlock db show PACKAGE`.
pub fn db_list(args: &DbListArgs) -> Exit {
    let db = match args.db.load() {
        Ok(db) => db,
        Err(exit) => return exit,
    };
    let package = args
        .package
        .as_deref()
        .map(crate::requirements::canonical_name);
    let output = match args.format {
        Format::Json => report::db::json(&db, package.as_deref()),
        Format::Table => report::db::table(&db, package.as_deref(), report::stdout_wants_color()),
        Format::Sarif | Format::Github => {
            eprintln!("error: `db list` and `db show` print `table` or `json`");
            return Exit::InputError;
        }
    };
    let shown = report::db::rule_count(&db, package.as_deref());
    if let Err(exit) = write_stdout(&output) {
        return exit;
    }
    match &package {
        Some(package) if shown == 0 => {
            eprintln!("the database has no rule about `{package}`");
        }
        _ => eprintln!("{shown} rule(s)"),
    }
    Exit::Clean
}

/// `reqlock db check`: the database loads, every rule is valid and cited,
/// and (unless `offline`) every release it names exists on the index.
pub fn db_check(db_args: &DbArgs, offline: bool, index: &IndexFlags) -> Exit {
    let db = match db_args.load() {
        Ok(db) => db,
        Err(exit) => return exit,
    };
    let reported = db
        .rules()
        .filter(|(_, info)| info.evidence == crate::compat::Evidence::Reported)
        .count();
    eprintln!(
        "compat database valid: {} rule(s), every one cited ({reported} reported, not verified)",
        db.rules().count()
    );
    if offline {
        return Exit::Clean;
    }
    let named = verify::named_releases(&db);
    let packages = verify::packages(&named);
    let available = match releases_on_index(index, &packages) {
        Ok(available) => available,
        Err(exit) => return exit,
    };
    let problems = verify::check_against_index(&named, &available);
    for problem in &problems {
        match problem {
            verify::IndexProblem::NeverReleased { named, nearest } => {
                let nearest: Vec<String> = nearest.iter().map(ToString::to_string).collect();
                eprintln!(
                    "error: rule `{}` names {}{}, which was never released\n  = help: the nearest releases are {}",
                    named.rule,
                    named.package,
                    named.releases,
                    if nearest.is_empty() { "none".to_string() } else { nearest.join(", ") }
                );
            }
            verify::IndexProblem::UnknownProject { package, rules } => eprintln!(
                "error: no configured index has `{package}` (named by {})",
                rules.join(", ")
            ),
        }
    }
    if problems.is_empty() {
        eprintln!(
            "every release the database names exists on the index ({} packages)",
            packages.len()
        );
        Exit::Clean
    } else {
        eprintln!("{} problem(s) against the index", problems.len());
        Exit::Findings
    }
}

/// The versions each package has on the configured indexes (`None` for a
/// package no index knows); an index that cannot be read is an input error.
fn releases_on_index(
    index: &IndexFlags,
    packages: &[String],
) -> Result<BTreeMap<String, Option<BTreeSet<Version>>>, Exit> {
    let IndexSession {
        sources, client, ..
    } = open_indexes(index, &InstallOptions::default(), ClientSettings::default())?;
    print_indexes(&sources);
    let urls: Vec<_> = sources.indexes.iter().map(|i| i.url.clone()).collect();
    let progress = progress_bar(Format::Table);
    // Only the names of the releases are needed, not their files.
    let wanted: Vec<(String, VersionFilter)> = packages
        .iter()
        .map(|package| (package.clone(), VersionFilter::names_only()))
        .collect();
    let fetched = client.fetch_all(&urls, &[], &wanted, &progress);
    progress.finish_and_clear();
    let mut available = BTreeMap::new();
    let mut unreachable = false;
    for package in packages {
        let mut versions: Option<BTreeSet<Version>> = None;
        for position in 0..urls.len() {
            match fetched.pages.get(&(position, package.clone())) {
                Some(Ok(Answer::Found(page))) => versions.get_or_insert_with(BTreeSet::new).extend(
                    page.files
                        .iter()
                        .filter_map(|file| filename::parse(&file.filename, package))
                        .map(|parsed| parsed.version)
                        .chain(
                            page.omitted_versions
                                .iter()
                                .filter_map(|version| Version::from_str(version).ok()),
                        ),
                ),
                Some(Ok(Answer::NotFound)) | None => {}
                Some(Err(err)) => {
                    eprintln!("error: could not check `{package}`: {err}");
                    unreachable = true;
                }
            }
        }
        available.insert(package.clone(), versions);
    }
    if unreachable {
        return Err(Exit::InputError);
    }
    Ok(available)
}

/// What `reqlock lock` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockFormat {
    /// A pip requirements file with hashes.
    Requirements,
    /// A PEP 751 `pylock.toml`.
    Pylock,
}

pub struct LockArgs {
    pub files: Vec<PathBuf>,
    pub output: Option<PathBuf>,
    pub format: LockFormat,
    /// Compare with `output` instead of writing it.
    pub check: bool,
    pub upgrade: bool,
    pub upgrade_packages: Vec<String>,
    /// A date, an RFC 3339 timestamp, or a duration back from now (`7d`).
    pub exclude_newer: Option<String>,
    pub hashes: bool,
    pub pre: bool,
    pub offline: bool,
    pub refresh: bool,
    /// Never run an sdist's build backend.
    pub no_build: bool,
    /// How long each build step may take.
    pub build_timeout: Duration,
    /// `reported` compat-db rules constrain the lock too.
    pub trust_reported: bool,
    pub index: IndexFlags,
    pub python_version: Option<String>,
    pub platform: Option<String>,
    pub db: DbArgs,
    /// The command line to name in the lockfile's header.
    pub command: String,
}

/// `--exclude-newer`: a timestamp, or `N` days/hours back from now.
fn exclude_newer(text: &str) -> Result<crate::tree::timestamp::Timestamp, String> {
    let duration = text
        .strip_suffix('d')
        .map(|days| (days, 86_400))
        .or_else(|| text.strip_suffix('h').map(|hours| (hours, 3_600)));
    if let Some((number, unit)) = duration {
        if let Ok(count) = number.parse::<i64>() {
            let now = i64::try_from(crate::index::cache::now()).unwrap_or(i64::MAX);
            return Ok(crate::tree::timestamp::Timestamp::from_seconds_since_epoch(
                now.saturating_sub(count.saturating_mul(unit)),
            ));
        }
    }
    text.parse()
        .map_err(|err: crate::tree::timestamp::TimestampError| {
            format!("--exclude-newer: {err}, or a duration such as 7d or 12h")
        })
}

/// The versions of an existing lockfile, kept unless upgraded.
fn existing_preferences(
    path: &std::path::Path,
    format: LockFormat,
) -> BTreeMap<PackageName, Version> {
    match format {
        LockFormat::Pylock => std::fs::read_to_string(path)
            .ok()
            .and_then(|text| lock::pylock::Pylock::parse(&text).ok())
            .map(|pylock| pylock.preferences())
            .unwrap_or_default(),
        LockFormat::Requirements => {
            requirements::parse_files(&[path.to_path_buf()], &ParseSettings::from_environment())
                .map(|locked| crate::tree::resolve::locked_versions(&locked))
                .unwrap_or_default()
        }
    }
}

/// The index options a lockfile repeats: those of the input files, with the
/// indexes actually used (from flags, the environment or pip's
/// configuration too), so that pip installs it from the same places. pip's
/// built-in default is left implicit.
fn index_options_in_force(
    file_options: &InstallOptions,
    sources: &discovery::IndexConfig,
) -> InstallOptions {
    let mut options = file_options.clone();
    let mut indexes = sources.indexes.iter();
    options.index_url = None;
    if let Some(first) = indexes.next() {
        if first.source != discovery::UrlSource::PipDefault {
            options.index_url = Some(first.url.to_string());
        }
    }
    options.extra_index_urls = indexes.map(|index| index.url.to_string()).collect();
    options
}

/// How to resolve a tree beyond the resolver's options: whether sdists may
/// be built (`--no-build`), how long each build step may take
/// (`--build-timeout`), and whether a spinner may show on stderr.
#[derive(Debug, Clone, Copy)]
struct TreeSettings {
    allow_builds: bool,
    build_timeout: Duration,
    progress: bool,
}

/// Resolve the whole dependency tree over the session's indexes and cache,
/// as `lock` writes it and `audit --deep` checks it.
fn resolve_tree(
    session: &IndexSession,
    set: &RequirementSet,
    target: &Target,
    db: &CompatDb,
    options: &crate::tree::resolve::ResolveOptions,
    settings: TreeSettings,
) -> Result<crate::tree::resolve::Resolution, crate::tree::resolve::LockError> {
    let progress = if settings.progress && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} resolving: {pos} releases read {msg}")
        {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    } else {
        ProgressBar::hidden()
    };
    let reporter = progress.clone();
    let source = crate::tree::index_source::IndexSource::new(
        &session.client,
        session.cache.clone(),
        session
            .sources
            .indexes
            .iter()
            .map(|i| i.url.clone())
            .collect(),
        session.sources.find_links.clone(),
    )
    .with_builds(crate::tree::sdist::BuildPolicy {
        allow_builds: settings.allow_builds,
        timeout: settings.build_timeout,
        pip_cert: session.sources.cert.clone(),
        // Builds are rare and slow: say which releases needed one.
        report: Arc::new(move |report| reporter.suspend(|| eprintln!("{report}"))),
        ..crate::tree::sdist::BuildPolicy::default()
    })
    .with_progress(progress.clone());
    let resolved =
        source.with_prefetch(|| crate::tree::resolve::resolve(&source, set, target, db, options));
    progress.finish_and_clear();
    resolved
}

/// [`resolve_tree`] for an audit: VCS requirements (which `lock` refuses)
/// are left out, and stderr says so, so that they do not stop the check of
/// everything else; URL, path and editable requirements are resolved.
fn resolve_locked_requirements(
    session: &IndexSession,
    set: &RequirementSet,
    target: &Target,
    db: &CompatDb,
    options: &crate::tree::resolve::ResolveOptions,
    settings: TreeSettings,
) -> Result<crate::tree::resolve::Resolution, crate::tree::resolve::LockError> {
    let (lockable, vcs): (Vec<_>, Vec<_>) =
        set.requirements.iter().cloned().partition(|requirement| {
            !requirement
                .url
                .as_deref()
                .is_some_and(requirements::requirement::is_vcs_url)
        });
    if !vcs.is_empty() {
        let labels: Vec<String> = vcs.iter().map(|r| r.label()).collect();
        eprintln!(
            "deep: VCS requirements cannot be resolved yet, left out of the dependency tree (their dependencies are not checked): {}",
            labels.join(", ")
        );
    }
    let lockable = RequirementSet {
        requirements: lockable,
        options: set.options.clone(),
        files: set.files.clone(),
        warnings: Vec::new(),
    };
    resolve_tree(session, &lockable, target, db, options, settings)
}

/// `reqlock lock`: resolve the whole dependency tree and write (or check)
/// a fully pinned lockfile.
pub fn lock(args: &LockArgs) -> Exit {
    let set = match parse(&args.files) {
        Ok(set) => set,
        Err(exit) => return exit,
    };
    let db = match args.db.load() {
        Ok(db) => db,
        Err(exit) => return exit,
    };
    let exclude_newer = match args.exclude_newer.as_deref().map(exclude_newer).transpose() {
        Ok(instant) => instant,
        Err(message) => return usage_error(message),
    };
    let target = match Target::from_flags(args.python_version.as_deref(), args.platform.as_deref())
    {
        Ok(target) => target,
        Err(err) => return usage_error(err),
    };
    let settings = ClientSettings {
        mode: CacheMode::from_flags(args.offline, args.refresh),
        ..ClientSettings::default()
    };
    let session = match open_indexes(&args.index, &set.options, settings) {
        Ok(session) => session,
        Err(exit) => return exit,
    };
    let sources = &session.sources;
    print_indexes(sources);
    eprintln!("target: {target}");
    let mut upgrade_packages = BTreeSet::new();
    for name in &args.upgrade_packages {
        match PackageName::from_str(name) {
            Ok(name) => {
                upgrade_packages.insert(name);
            }
            Err(err) => return usage_error(format!("--upgrade-package {name}: {err}")),
        }
    }
    let preferences = match &args.output {
        Some(path) if !args.upgrade => existing_preferences(path, args.format),
        _ => BTreeMap::new(),
    };
    let options = crate::tree::resolve::ResolveOptions {
        prereleases: args.pre || set.options.pre,
        exclude_newer,
        preferences,
        upgrade: if args.upgrade {
            crate::tree::resolve::Upgrade::All
        } else if upgrade_packages.is_empty() {
            crate::tree::resolve::Upgrade::Nothing
        } else {
            crate::tree::resolve::Upgrade::Packages(upgrade_packages)
        },
        trust_reported: args.trust_reported,
        working_dir: ParseSettings::from_environment().working_dir,
    };
    let settings = TreeSettings {
        allow_builds: !args.no_build,
        build_timeout: args.build_timeout,
        progress: true,
    };
    let resolution = match resolve_tree(&session, &set, &target, &db, &options, settings) {
        Ok(resolution) => resolution,
        Err(err @ crate::tree::resolve::LockError::NoSolution { .. }) => {
            eprintln!("error: {err}");
            return Exit::Findings;
        }
        Err(err) => {
            eprintln!("error: {err}");
            if let Some(help) = err.help() {
                eprintln!("  = help: {help}");
            }
            return Exit::InputError;
        }
    };
    let text = match args.format {
        LockFormat::Requirements => {
            let mut settings = lock::requirements_txt::LockfileSettings::new(
                &args.command,
                index_options_in_force(&set.options, sources),
            );
            settings.hashes = args.hashes;
            lock::requirements_txt::requirements_lockfile(&resolution, &settings)
        }
        LockFormat::Pylock => lock::pylock::write_pylock(
            &resolution,
            &args.command,
            &format!("=={}.{}.*", target.python.0, target.python.1),
            args.output
                .as_deref()
                .and_then(std::path::Path::parent)
                .unwrap_or(std::path::Path::new("")),
        ),
    };
    let unhashed = lock::requirements_txt::unhashed_lines(&resolution);
    if args.hashes && args.format == LockFormat::Requirements && !unhashed.is_empty() {
        eprintln!(
            "warning: no --hash for {} (pip cannot hash a folder or an editable), so `pip install --require-hashes` refuses the lockfile; install them in a separate step, or point the lines at wheels",
            unhashed.join(", ")
        );
    }
    eprintln!("locked {} package(s)", resolution.packages.len());
    match (&args.output, args.check) {
        (Some(path), true) => match lock::requirements_txt::check_lockfile(path, &text) {
            Ok(lock::requirements_txt::CheckOutcome::UpToDate) => {
                eprintln!("{} is up to date", path.display());
                Exit::Clean
            }
            Ok(lock::requirements_txt::CheckOutcome::Missing) => {
                eprintln!(
                    "error: {} does not exist; run `reqlock lock` without --check",
                    path.display()
                );
                Exit::Findings
            }
            Ok(lock::requirements_txt::CheckOutcome::Differs(diff)) => {
                if let Err(exit) = write_stdout(&diff) {
                    return exit;
                }
                eprintln!(
                    "error: {} differs from what `reqlock lock` writes now",
                    path.display()
                );
                Exit::Findings
            }
            Err(err) => usage_error(format!("could not read {}: {err}", path.display())),
        },
        (None, true) => usage_error("--check needs the lockfile: give it with -o FILE"),
        (Some(path), false) => match lock::requirements_txt::write_atomic(path, &text) {
            Ok(()) => {
                eprintln!("wrote {}", path.display());
                Exit::Clean
            }
            Err(err) => usage_error(format!("could not write {}: {err}", path.display())),
        },
        (None, false) => match write_stdout(&text) {
            Ok(()) => Exit::Clean,
            Err(exit) => exit,
        },
    }
}
