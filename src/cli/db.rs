//! `reqlock db list|show|check`: the compat database itself.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use pep508_rs::pep440_rs::Version;

use super::args::{DataFormat, DbArgs, DbCommand, IndexArgs};
use super::output::{index_progress, print_indexes, write_stdout};
use super::{Error, Status};
use crate::compat::{verify, Evidence};
use crate::index::cache::Answer;
use crate::index::client::ClientSettings;
use crate::index::filename;
use crate::index::page::VersionFilter;
use crate::index::session::Session;
use crate::report;
use crate::requirements::{canonical_name, InstallOptions};

pub(super) fn run(command: &DbCommand) -> Result<Status, Error> {
    match command {
        DbCommand::List { format, db } => list(db, *format, None),
        DbCommand::Show {
            package,
            format,
            db,
        } => list(db, *format, Some(package)),
        DbCommand::Check { offline, index, db } => check(db, *offline, index),
    }
}

/// `db list`, and `db show PACKAGE` (only the rules that mention it).
fn list(db: &DbArgs, format: DataFormat, package: Option<&str>) -> Result<Status, Error> {
    let db = db.load()?;
    let package = package.map(canonical_name);
    let output = match format {
        DataFormat::Json => report::db::json(&db, package.as_deref()),
        DataFormat::Table => {
            report::db::table(&db, package.as_deref(), report::stdout_wants_color())
        }
    };
    let shown = report::db::rule_count(&db, package.as_deref());
    write_stdout(&output)?;
    match &package {
        Some(package) if shown == 0 => {
            eprintln!("the database has no rule about `{package}`");
        }
        _ => eprintln!("{shown} rule(s)"),
    }
    Ok(Status::Clean)
}

/// `db check`: the database loads, every rule is valid and cited, and
/// (unless `offline`) every release it names exists on the index.
fn check(db: &DbArgs, offline: bool, index: &IndexArgs) -> Result<Status, Error> {
    let db = db.load()?;
    let reported = db
        .rules()
        .filter(|(_, info)| info.evidence == Evidence::Reported)
        .count();
    eprintln!(
        "compat database valid: {} rule(s), every one cited ({reported} reported, not verified)",
        db.rules().count()
    );
    if offline {
        return Ok(Status::Clean);
    }
    let named = verify::named_releases(&db);
    let packages = verify::packages(&named);
    let available = releases_on_index(index, &packages)?;
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
        Ok(Status::Clean)
    } else {
        eprintln!("{} problem(s) against the index", problems.len());
        Ok(Status::Findings)
    }
}

/// The versions each package has on the configured indexes (`None` for a
/// package no index knows); an index that cannot be read is an error.
fn releases_on_index(
    index: &IndexArgs,
    packages: &[String],
) -> Result<BTreeMap<String, Option<BTreeSet<Version>>>, Error> {
    let session = Session::open(
        &index.flags(),
        &InstallOptions::default(),
        ClientSettings::default(),
    )?;
    print_indexes(&session.sources);
    let urls = session.index_urls();
    let progress = index_progress(true);
    // Only the names of the releases are needed, not their files.
    let wanted: Vec<(String, VersionFilter)> = packages
        .iter()
        .map(|package| (package.clone(), VersionFilter::names_only()))
        .collect();
    let fetched = session
        .client
        .fetch_all(&urls, &session.sources.find_links, &wanted, &progress);
    progress.finish_and_clear();
    let mut available = BTreeMap::new();
    let mut unreachable = Vec::new();
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
                Some(Err(err)) => unreachable.push((package.clone(), err.clone())),
            }
        }
        available.insert(package.clone(), versions);
    }
    if !unreachable.is_empty() {
        return Err(Error::IndexUnreachable(unreachable));
    }
    Ok(available)
}
