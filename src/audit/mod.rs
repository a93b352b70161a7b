//! The checks that make `reqlock audit` a CI gate against drift, each
//! family in its own file and each returning [`Finding`]s: what the files
//! say ([`pinning`]: unpinned, loose, URLs, hashes, duplicates,
//! conflicts), what the indexes answered for each line ([`selection`]),
//! what the pinned releases declare ([`declared`]), the compat database
//! ([`compat`]) and the whole dependency tree ([`deep`]). [`audit`] runs
//! them, applies the `# reqlock: ignore[...]` suppressions and returns the
//! [`Report`] every renderer reads.

pub mod compat;
pub mod declared;
pub mod deep;
pub mod finding;
pub mod pinning;
pub mod selection;

use std::collections::HashMap;

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifier};
use rustc_hash::FxHashMap;

use crate::compat::CompatDb;
use crate::index::discovery::IndexConfig;
use crate::index::wheel::MetadataFetchError;
use crate::requirements::{Requirement, RequirementSet};
use crate::select::Resolution;
use crate::target::Target;
use compat::{self as compat_check, CompatSettings};
pub use finding::{Code, Finding, Location, Related, Severity};

#[derive(Debug, Clone, Default)]
pub struct AuditSettings {
    /// Loose and unpinned requirements are errors (the CI gate).
    pub strict: bool,
    pub compat: CompatSettings,
}

/// What the indexes said, for the index checks and the report.
#[derive(Debug, Clone, Copy)]
pub struct Online<'a> {
    /// The indexes asked, and why each.
    pub sources: &'a IndexConfig,
    /// Answers came from the cache only.
    pub offline: bool,
    /// Parallel to the set's requirements.
    pub resolutions: &'a [Resolution],
    pub target: &'a Target,
    pub pinned: &'a PinnedMetadata,
    /// The resolved dependency tree, with `--deep`.
    pub closure: Option<&'a deep::Closure<'a>>,
}

/// The `Requires-Dist` values (unparsed) of the releases the set pins
/// exactly, by requirement index, and the pins whose metadata could not be
/// had.
#[derive(Debug, Default)]
pub struct PinnedMetadata {
    pub requires_dist: HashMap<usize, Vec<String>>,
    pub unavailable: Vec<Unavailable>,
}

/// A pin whose metadata could not be had, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable {
    /// The requirement's index in the set.
    pub index: usize,
    /// The file whose metadata was asked for (the sdist, for `NoWheel`).
    pub filename: String,
    pub reason: Unread,
}

/// Why a pin's metadata was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unread {
    /// Fetching or reading it failed (offline: not cached).
    Failed(MetadataFetchError),
    /// The release has no wheel for the target; an sdist's metadata is
    /// only had by building it (`--deep`).
    NoWheel,
}

/// A `# reqlock: ignore[...]` entry that names no code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSuppression {
    pub location: Location,
    pub id: String,
}

/// Everything an audit found, with what it was run on: the one value
/// every renderer reads.
#[derive(Debug)]
pub struct Report<'a> {
    pub set: &'a RequirementSet,
    /// Sorted by requirement, then code.
    pub findings: Vec<Finding>,
    /// Findings silenced by `# reqlock: ignore[...]`.
    pub suppressed: usize,
    pub unknown_suppressions: Vec<UnknownSuppression>,
    /// What the indexes said; `None` for an audit of the files alone.
    pub online: Option<Online<'a>>,
}

/// How many findings of each severity, and how many were suppressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
    pub suppressed: usize,
}

impl Report<'_> {
    pub fn summary(&self) -> Summary {
        let count = |severity| {
            self.findings
                .iter()
                .filter(|finding| finding.severity == severity)
                .count()
        };
        Summary {
            error: count(Severity::Error),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
            suppressed: self.suppressed,
        }
    }
}

/// Run every rule over a parsed set, the compat database's checks
/// included; the index rules only with `online`.
pub fn audit<'a>(
    set: &'a RequirementSet,
    db: &CompatDb,
    settings: &AuditSettings,
    online: Option<Online<'a>>,
) -> Report<'a> {
    let hash_mode = set.options.require_hashes
        || set
            .requirements
            .iter()
            .any(|r| !r.constraint && !r.hashes.is_empty());
    let mut raw: Vec<(usize, Finding)> = Vec::new();
    let by_name = group_by_name(&set.requirements);
    let mut emit = |index: usize, finding: Finding| raw.push((index, finding));

    for (index, requirement) in set.requirements.iter().enumerate() {
        if requirement.constraint {
            continue;
        }
        let same_name: Vec<&Requirement> = requirement
            .name
            .as_ref()
            .and_then(|name| by_name.get(name.as_ref()))
            .map(|indices| {
                indices
                    .iter()
                    .map(|&i| &set.requirements[i])
                    .filter(|other| overlaps(requirement, other))
                    .collect()
            })
            .unwrap_or_default();
        let resolution = online.and_then(|online| online.resolutions.get(index));
        let resolved = match resolution {
            Some(Resolution::Checked { resolved, .. }) => resolved.as_ref(),
            _ => None,
        };
        if let Some(finding) = pinning::pinning(
            requirement,
            &same_name,
            settings.strict || hash_mode,
            resolved,
        ) {
            emit(index, finding);
        }
        if let (Some(online), Some(Resolution::Checked { problems, .. })) = (online, resolution) {
            for problem in problems {
                emit(
                    index,
                    selection::finding(requirement, problem, online.target),
                );
            }
        }
        if let Some(finding) = pinning::unpinned_url(requirement, settings.strict) {
            emit(index, finding);
        }
        if hash_mode && requirement.hashes.is_empty() {
            emit(
                index,
                pinning::missing_hash(requirement, set.options.require_hashes),
            );
        }
    }
    for indices in by_name.values().filter(|indices| indices.len() > 1) {
        pinning::duplicates_and_conflicts(&set.requirements, indices, &mut emit);
    }
    // What each loose requirement resolves to today, for the compat checks.
    let resolved_versions: Vec<Option<Version>> = match online {
        Some(online) => online
            .resolutions
            .iter()
            .map(|resolution| match resolution {
                Resolution::Checked {
                    resolved: Some(resolved),
                    ..
                } => Some(resolved.version.clone()),
                _ => None,
            })
            .collect(),
        None => Vec::new(),
    };
    if let Some(online) = online {
        raw.extend(declared::conflicts(set, &by_name, online));
    }
    let subjects = compat_check::subjects(set, &by_name, &resolved_versions);
    let direct_compat = compat_check::check(db, &subjects, &settings.compat);
    if let Some(closure) = online.and_then(|online| online.closure) {
        raw.extend(closure.findings(set));
        // The whole tree, checked again with the packages only it brings;
        // what the direct requirements alone show is reported once.
        let mut everything = subjects;
        everything.extend(closure.transitive_subjects(set));
        raw.extend(
            compat_check::check(db, &everything, &settings.compat)
                .into_iter()
                .filter(|found| !direct_compat.contains(found)),
        );
    }
    raw.extend(direct_compat);

    raw.sort_by_key(|(index, finding)| (*index, finding.code));
    if settings.strict {
        for (_, finding) in &mut raw {
            if finding.code.is_unchecked() && finding.severity == Severity::Warning {
                finding.severity = Severity::Error;
            }
        }
    }
    let mut findings = Vec::new();
    let mut suppressed = 0;
    for (index, finding) in raw {
        if set.requirements[index]
            .ignored_rules
            .iter()
            .any(|id| id == finding.code.id())
        {
            suppressed += 1;
        } else {
            findings.push(finding);
        }
    }
    let unknown_suppressions = set
        .requirements
        .iter()
        .flat_map(|requirement| {
            requirement
                .ignored_rules
                .iter()
                .filter(|id| Code::from_id(id).is_none())
                .map(|id| UnknownSuppression {
                    location: requirement.origin.clone(),
                    id: id.clone(),
                })
        })
        .collect();
    Report {
        set,
        findings,
        suppressed,
        unknown_suppressions,
        online,
    }
}

/// Indices of the requirements of each name; findings are sorted later, so
/// the map's order does not matter.
pub fn group_by_name(requirements: &[Requirement]) -> FxHashMap<&str, Vec<usize>> {
    let mut groups: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (index, requirement) in requirements.iter().enumerate() {
        if let Some(name) = &requirement.name {
            groups.entry(name.as_ref()).or_default().push(index);
        }
    }
    groups
}

/// Two requirements can apply to one install unless their markers exclude
/// each other.
fn overlaps(a: &Requirement, b: &Requirement) -> bool {
    std::ptr::eq(a, b) || !a.parsed_marker.is_disjoint(&b.parsed_marker)
}

/// A finding about `requirement`'s package, located at its line.
fn finding(
    code: Code,
    severity: Severity,
    requirement: &Requirement,
    message: String,
    help: String,
) -> Finding {
    let package = requirement.name.as_ref().map(ToString::to_string);
    Finding::new(
        code,
        severity,
        package,
        requirement.origin.clone(),
        message,
        help,
    )
}

/// A finding about `package` located at `requirement`'s line.
fn finding_at(
    code: Code,
    severity: Severity,
    package: Option<String>,
    requirement: &Requirement,
    message: String,
    help: String,
) -> Finding {
    Finding::new(
        code,
        severity,
        package,
        requirement.origin.clone(),
        message,
        help,
    )
}

/// The single version a specifier set pins, if it pins one.
pub fn pinned_version(requirement: &Requirement) -> Option<&VersionSpecifier> {
    requirement
        .specifier
        .iter()
        .find(|spec| matches!(spec.operator(), Operator::Equal | Operator::ExactEqual))
}

/// `file:line` of a requirement, for messages.
fn located(requirement: &Requirement) -> String {
    format!(
        "{}:{}",
        requirement.origin.file.display(),
        requirement.origin.line
    )
}
