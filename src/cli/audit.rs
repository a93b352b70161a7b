//! `reqlock audit`: parse, ask the indexes what each line installs, read
//! the pins' metadata, resolve the tree with `--deep`, run the checks and
//! apply the failure threshold.

use super::args::{AuditArgs, AuditFormat};
use super::output::{emit, index_progress, write_stdout};
use super::tree::{resolve_for_audit, TreeSettings};
use super::{read_requirements, Error, Status};
use crate::audit::compat::CompatSettings;
use crate::audit::deep::Closure;
use crate::audit::{self, declared, AuditSettings, Code, Online, Report};
use crate::index::session::Session;
use crate::report;
use crate::requirements::{ParseSettings, RequirementSet};
use crate::select::{self, Policy, Problem, Resolution, Sources};
use crate::tree::resolve::ResolveOptions;

pub(super) fn run(args: &AuditArgs) -> Result<Status, Error> {
    let set = read_requirements(&args.files)?;
    let db = args.db.load()?;
    let target = args.target.target()?;
    let session = Session::open(
        &args.index.flags(),
        &set.options,
        args.cache.client_settings(),
    )?;
    let json = args.format == AuditFormat::Json;

    let index_urls = session.index_urls();
    let projects = select::projects_to_fetch(&set, &target);
    let progress = index_progress(!json);
    let fetched = session.client.fetch_all(
        &index_urls,
        &session.sources.find_links,
        &projects,
        &progress,
    );
    progress.finish_and_clear();
    let resolutions = select::resolve_all(
        &set,
        &Sources {
            indexes: index_urls.iter().map(ToString::to_string).collect(),
            find_links: &session.sources.find_links,
            fetched: &fetched,
        },
        &target,
        &Policy {
            pre: args.pre || set.options.pre,
            only_binary: set.options.only_binary.clone(),
            no_binary: set.options.no_binary.clone(),
            prefer_binary: set.options.prefer_binary,
        },
    );
    let pinned = declared::pinned_metadata(
        &set,
        &resolutions,
        &fetched,
        &session.client,
        session.cache.as_ref(),
    );
    // Freeing thousands of parsed files one by one costs as much as the
    // rest of a warm audit: it happens on another thread, or not at all
    // if the process ends first.
    std::thread::spawn(move || drop(fetched));

    let tree = args.deep.then(|| {
        let options = ResolveOptions {
            prereleases: args.pre || set.options.pre,
            trust_reported: args.trust_reported,
            working_dir: ParseSettings::from_environment().working_dir,
            ..ResolveOptions::default()
        };
        let settings = TreeSettings {
            allow_builds: !args.build.no_build,
            build_timeout: args.build.build_timeout,
            progress: !json,
        };
        resolve_for_audit(&session, &set, &target, &db, &options, settings)
    });
    let closure = tree.as_ref().map(|tree| Closure::new(&set, tree, &target));
    let settings = AuditSettings {
        strict: args.strict,
        compat: CompatSettings {
            cuda: args.gpu.cuda.clone(),
            driver: args.gpu.driver.clone(),
            trust_reported: args.trust_reported,
        },
    };
    let report = audit::audit(
        &set,
        &db,
        &settings,
        Some(Online {
            sources: &session.sources,
            offline: args.cache.offline,
            resolutions: &resolutions,
            target: &target,
            pinned: &pinned,
            closure: closure.as_ref(),
        }),
    );
    for unknown in &report.unknown_suppressions {
        eprintln!(
            "{}:{}: warning: `# reqlock: ignore[{}]` names no rule (known: {})",
            unknown.location.file.display(),
            unknown.location.line,
            unknown.id,
            Code::all().map(Code::id).collect::<Vec<_>>().join(", ")
        );
    }
    match args.format {
        AuditFormat::Json => emit(|out| report::json::write_audit_document(out, &report))?,
        AuditFormat::Table => write_stdout(&report::table::audit_table(
            &report,
            report::stdout_wants_color(),
        ))?,
        AuditFormat::Sarif => write_stdout(&report::sarif::audit_document(&report))?,
        AuditFormat::Github => write_stdout(&report::github::annotations(&report))?,
    }
    print_summary(&report, &set);
    if report
        .findings
        .iter()
        .any(|finding| args.fail_on.is_failure(finding.severity))
    {
        Ok(Status::Findings)
    } else {
        Ok(Status::Clean)
    }
}

/// What was asked and what came of it, on stderr.
fn print_summary(report: &Report<'_>, set: &RequirementSet) {
    let Some(online) = &report.online else {
        return;
    };
    super::output::print_indexes(online.sources);
    for location in &online.sources.find_links {
        eprintln!("find-links: {location}");
    }
    eprintln!("target: {}", online.target);
    let skipped: Vec<String> = set
        .requirements
        .iter()
        .zip(online.resolutions)
        .filter(|(_, resolution)| **resolution == Resolution::Skipped)
        .map(|(requirement, _)| requirement.label())
        .collect();
    if !skipped.is_empty() {
        eprintln!(
            "skipped (markers exclude the target): {}",
            skipped.join(", ")
        );
    }
    let resolved = online
        .resolutions
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
    match online.closure {
        Some(Closure::Resolved(packages)) => eprintln!(
            "deep: resolved the dependency tree: {} package(s) in the closure, {} not pinned by any line",
            packages.len(),
            packages.iter().filter(|package| !package.pinned).count()
        ),
        Some(Closure::Failed(_)) => {
            eprintln!("deep: the dependency tree was not resolved (see the finding on the first requirement)");
        }
        None => {}
    }
    let not_cached = online
        .resolutions
        .iter()
        .filter(|r| {
            matches!(r, Resolution::Checked { problems, .. }
                if problems.iter().any(|problem| matches!(problem, Problem::NotCached(_))))
        })
        .count();
    if online.offline && resolved == 0 && not_cached > 0 {
        eprintln!(
            "warning: nothing was checked against an index: the cache holds none of these projects; run once without --offline"
        );
    }
    let summary = report.summary();
    let mode = if online.offline {
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
}
