//! Findings about a parsed requirement set: the rules that make
//! `reqlock audit` a CI gate against drift.
//!
//! The pipeline is requirements → resolution → findings → report. Most
//! rules need only what the files say; the index rules turn what
//! [`crate::resolve`] found into findings.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifier};
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::compat::CompatDb;
use crate::requirements::{requirement, Requirement, RequirementSet};
use crate::select::{Problem, Resolution, Resolved};
use crate::target::Target;
use compat::{self as compat_check, CompatSettings};

pub mod compat;
pub mod deep;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Every rule reqlock knows, by its stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    Unpinned,
    LooseRange,
    UnpinnedUrl,
    Duplicate,
    ConflictingPins,
    MissingHash,
    UnknownPackage,
    NoMatchingVersion,
    Yanked,
    RequiresPython,
    NoCompatibleWheel,
    LocalVersionUnavailable,
    IndexUnreachable,
    DependencyConfusion,
    NotResolvedOffline,
    DeclaredConflict,
    MismatchedFamily,
    CudaMismatch,
    KnownBroken,
    RangeAdmitsBroken,
    OutsideVerified,
    UnpinnedTransitive,
    Unresolvable,
}

impl Rule {
    pub const ALL: &'static [Rule] = &[
        Rule::Unpinned,
        Rule::LooseRange,
        Rule::UnpinnedUrl,
        Rule::Duplicate,
        Rule::ConflictingPins,
        Rule::MissingHash,
        Rule::UnknownPackage,
        Rule::NoMatchingVersion,
        Rule::Yanked,
        Rule::RequiresPython,
        Rule::NoCompatibleWheel,
        Rule::LocalVersionUnavailable,
        Rule::IndexUnreachable,
        Rule::DependencyConfusion,
        Rule::NotResolvedOffline,
        Rule::DeclaredConflict,
        Rule::MismatchedFamily,
        Rule::CudaMismatch,
        Rule::KnownBroken,
        Rule::RangeAdmitsBroken,
        Rule::OutsideVerified,
        Rule::UnpinnedTransitive,
        Rule::Unresolvable,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::Unpinned => "unpinned",
            Rule::LooseRange => "loose-range",
            Rule::UnpinnedUrl => "unpinned-url",
            Rule::Duplicate => "duplicate",
            Rule::ConflictingPins => "conflicting-pins",
            Rule::MissingHash => "missing-hash",
            Rule::UnknownPackage => "unknown-package",
            Rule::NoMatchingVersion => "no-matching-version",
            Rule::Yanked => "yanked",
            Rule::RequiresPython => "requires-python",
            Rule::NoCompatibleWheel => "no-compatible-wheel",
            Rule::LocalVersionUnavailable => "local-version-unavailable",
            Rule::IndexUnreachable => "index-unreachable",
            Rule::DependencyConfusion => "dependency-confusion",
            Rule::NotResolvedOffline => "not-resolved-offline",
            Rule::DeclaredConflict => "declared-conflict",
            Rule::MismatchedFamily => "mismatched-family",
            Rule::CudaMismatch => "cuda-mismatch",
            Rule::KnownBroken => "known-broken",
            Rule::RangeAdmitsBroken => "range-admits-broken",
            Rule::OutsideVerified => "outside-verified",
            Rule::UnpinnedTransitive => "unpinned-transitive",
            Rule::Unresolvable => "unresolvable",
        }
    }

    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|rule| rule.id() == id)
    }

    /// One line on what the rule catches, for help texts and SARIF.
    pub fn description(self) -> &'static str {
        match self {
            Rule::Unpinned => "a requirement with no version constraint at all",
            Rule::LooseRange => "a version specifier that admits more than one release",
            Rule::UnpinnedUrl => "a VCS or URL requirement without an immutable ref or a hash",
            Rule::Duplicate => "a package required more than once",
            Rule::ConflictingPins => "pins or constraints of one package that cannot all hold",
            Rule::MissingHash => "a requirement without a hash while pip is in hash-checking mode",
            Rule::UnknownPackage => "a package no configured index knows",
            Rule::NoMatchingVersion => "no release on the indexes matches the specifier",
            Rule::Yanked => "a pin to a release its authors yanked",
            Rule::RequiresPython => "the matching releases do not support the target Python",
            Rule::NoCompatibleWheel => "no wheel of the release installs on the target",
            Rule::LocalVersionUnavailable => {
                "a local version label (`+cu121`) no configured index provides"
            }
            Rule::IndexUnreachable => {
                "an index that could not be read, so the answer may be incomplete"
            }
            Rule::DependencyConfusion => {
                "a package found on more than one index; pip takes the highest version from any"
            }
            Rule::NotResolvedOffline => "not resolved: `--offline` and no cached page",
            Rule::DeclaredConflict => {
                "a pin that another pinned release's Requires-Dist excludes"
            }
            Rule::MismatchedFamily => "family members from releases that do not go together (torch and torchvision)",
            Rule::CudaMismatch => "builds for different CUDA versions, or for another CUDA or driver than the target's",
            Rule::KnownBroken => "a combination of releases known to break, with the error it causes",
            Rule::RangeAdmitsBroken => "a loose range that admits a release known to break with the rest of the file",
            Rule::OutsideVerified => "a file that uses a verified set's packages but pins a member differently",
            Rule::UnpinnedTransitive => {
                "a dependency of the requirements that no line pins, so it drifts (--deep)"
            }
            Rule::Unresolvable => {
                "the requirements cannot be installed together on the target (--deep)"
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One problem found, pointing at the line that causes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    pub package: Option<String>,
    pub file: Arc<Path>,
    pub line: usize,
    pub message: String,
    pub help: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditSettings {
    /// Loose and unpinned requirements are errors (the CI gate).
    pub strict: bool,
    pub compat: CompatSettings,
}

#[derive(Debug, Clone, Default)]
pub struct AuditOutcome {
    pub findings: Vec<Finding>,
    /// Findings silenced by `# reqlock: ignore[...]`.
    pub suppressed: usize,
    /// `ignore[...]` entries that name no rule, as `(file, line, id)`.
    pub unknown_suppressions: Vec<(Arc<Path>, usize, String)>,
}

/// What the indexes said, for the index rules.
#[derive(Debug, Clone, Copy)]
pub struct Online<'a> {
    /// Parallel to the set's requirements.
    pub resolutions: &'a [Resolution],
    pub target: &'a Target,
    pub pinned: &'a PinnedMetadata,
    /// The resolved dependency tree, with `--deep`.
    pub closure: Option<&'a deep::Closure<'a>>,
}

/// The `Requires-Dist` values (unparsed) of the releases the set pins
/// exactly, by requirement index, and the pins whose metadata could not be
/// had (and why).
#[derive(Debug, Default)]
pub struct PinnedMetadata {
    pub requires_dist: std::collections::HashMap<usize, Vec<String>>,
    pub unavailable: Vec<(usize, String)>,
}

/// Run every rule over a parsed set, the compat database's checks
/// included; the index rules only with `online`.
pub fn audit(
    set: &RequirementSet,
    db: &CompatDb,
    settings: &AuditSettings,
    online: Option<Online<'_>>,
) -> AuditOutcome {
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
        if let Some(finding) = pinning(
            requirement,
            &same_name,
            settings.strict || hash_mode,
            resolved,
        ) {
            emit(index, finding);
        }
        if let (Some(online), Some(Resolution::Checked { problems, .. })) = (online, resolution) {
            for problem in problems {
                emit(index, index_finding(requirement, problem, online.target));
            }
        }
        if let Some(finding) = unpinned_url(requirement, settings.strict) {
            emit(index, finding);
        }
        if hash_mode && requirement.hashes.is_empty() {
            emit(index, missing_hash(requirement, set.options.require_hashes));
        }
    }
    for indices in by_name.values().filter(|indices| indices.len() > 1) {
        duplicates_and_conflicts(&set.requirements, indices, &mut emit);
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
        raw.extend(declared_conflicts(set, &by_name, online));
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

    let mut outcome = AuditOutcome::default();
    raw.sort_by_key(|(index, finding)| (*index, finding.rule));
    for (index, finding) in raw {
        if set.requirements[index]
            .ignored_rules
            .iter()
            .any(|id| id == finding.rule.id())
        {
            outcome.suppressed += 1;
        } else {
            outcome.findings.push(finding);
        }
    }
    for requirement in &set.requirements {
        for id in &requirement.ignored_rules {
            if Rule::from_id(id).is_none() {
                outcome.unknown_suppressions.push((
                    requirement.origin.file.clone(),
                    requirement.origin.line,
                    id.clone(),
                ));
            }
        }
    }
    outcome
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

fn finding(
    rule: Rule,
    severity: Severity,
    requirement: &Requirement,
    message: String,
    help: String,
) -> Finding {
    let package = requirement.name.as_ref().map(ToString::to_string);
    finding_at(rule, severity, package, requirement, message, help)
}

/// A finding about `package` located at `requirement`'s line.
fn finding_at(
    rule: Rule,
    severity: Severity,
    package: Option<String>,
    requirement: &Requirement,
    message: String,
    help: String,
) -> Finding {
    Finding {
        rule,
        severity,
        package,
        file: requirement.origin.file.clone(),
        line: requirement.origin.line,
        message,
        help,
    }
}

/// The single version a specifier set pins, if it pins one.
pub fn pinned_version(requirement: &Requirement) -> Option<&VersionSpecifier> {
    requirement
        .specifier
        .iter()
        .find(|spec| matches!(spec.operator(), Operator::Equal | Operator::ExactEqual))
}

fn located(requirement: &Requirement) -> String {
    format!(
        "{}:{}",
        requirement.origin.file.display(),
        requirement.origin.line
    )
}

/// `declared-conflict`: what `pip check` finds only after installing. A pin
/// that another pinned release's `Requires-Dist` (for the target, with the
/// extras asked for) excludes; and, offline, the pins whose metadata is not
/// cached.
fn declared_conflicts(
    set: &RequirementSet,
    by_name: &FxHashMap<&str, Vec<usize>>,
    online: Online<'_>,
) -> Vec<(usize, Finding)> {
    let mut found = Vec::new();
    for (index, reason) in &online.pinned.unavailable {
        let requirement = &set.requirements[*index];
        if reason.contains("--offline") {
            found.push((
                *index,
                finding(
                    Rule::NotResolvedOffline,
                    Severity::Info,
                    requirement,
                    format!(
                        "the dependencies of `{}{}` were not checked: its metadata is not cached",
                        requirement.label(),
                        requirement.specifier
                    ),
                    "run once without --offline to cache it".into(),
                ),
            ));
        }
    }
    let mut requiring: Vec<(&usize, &Vec<String>)> = online.pinned.requires_dist.iter().collect();
    requiring.sort_by_key(|(index, _)| **index);
    for (index, requires_dist) in requiring {
        let requirer = &set.requirements[*index];
        for raw in requires_dist {
            // Only dependencies the set pins matter: parse just those.
            let name_length = raw
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                .unwrap_or(raw.len());
            let name = crate::requirements::canonical_name(&raw[..name_length]);
            if !by_name.contains_key(name.as_str()) {
                continue;
            }
            let Ok(dependency) = pep508_rs::Requirement::<pep508_rs::VerbatimUrl>::from_str(raw)
            else {
                continue;
            };
            if !dependency.evaluate_markers(online.target.markers(), &requirer.extras) {
                continue;
            }
            let Some(pep508_rs::VersionOrUrl::VersionSpecifier(wanted)) =
                &dependency.version_or_url
            else {
                continue;
            };
            let Some(pinned_here) = by_name.get(dependency.name.as_ref()) else {
                continue;
            };
            for &other in pinned_here {
                let pinned = &set.requirements[other];
                if pinned.constraint || !overlaps(requirer, pinned) {
                    continue;
                }
                let Some(pin) = pinned_version(pinned) else {
                    continue;
                };
                if wanted.contains(pin.version()) {
                    continue;
                }
                found.push((
                    other,
                    finding(
                        Rule::DeclaredConflict,
                        Severity::Error,
                        pinned,
                        format!(
                            "`{}{}` is excluded by `{}{}` ({}), which requires `{}{wanted}`",
                            pinned.label(),
                            pinned.specifier,
                            requirer.label(),
                            requirer.specifier,
                            located(requirer),
                            dependency.name
                        ),
                        format!(
                            "pin {}{wanted}, or move {} to a release that accepts {}; pip would fail with ResolutionImpossible",
                            dependency.name,
                            requirer.label(),
                            pin.version()
                        ),
                    ),
                ));
            }
        }
    }
    found
}

/// Drift is a warning, and an error for the CI gate (`--strict`).
fn drift_severity(strict: bool) -> Severity {
    if strict {
        Severity::Error
    } else {
        Severity::Warning
    }
}

/// `unpinned` and `loose-range`: does anything that applies to this
/// requirement (itself, a duplicate, a constraint) pin one release?
fn pinning(
    requirement: &Requirement,
    same_name: &[&Requirement],
    strict: bool,
    resolved: Option<&Resolved>,
) -> Option<Finding> {
    if requirement.url.is_some() || requirement.name.is_none() {
        return None;
    }
    if same_name
        .iter()
        .any(|other| pinned_version(other).is_some())
    {
        return None;
    }
    let severity = drift_severity(strict);
    let label = requirement.label();
    let constrained_by = same_name
        .iter()
        .find(|other| other.constraint && !other.specifier.is_empty());
    // With an index answer, say what the line installs today and suggest
    // exactly that pin.
    let today = resolved.map_or(String::new(), |resolved| {
        format!(
            "; today it resolves to {} ({} installable release(s) admitted)",
            resolved.version, resolved.matching_releases
        )
    });
    let pin_help = |fallback: String| match resolved {
        Some(resolved) => format!(
            "pin what installs today: `{label}=={}` (or the release you tested)",
            resolved.version
        ),
        None => fallback,
    };
    if requirement.specifier.is_empty() && constrained_by.is_none() {
        return Some(finding(
            Rule::Unpinned,
            severity,
            requirement,
            format!("`{label}` has no version constraint: any release can be installed{today}"),
            pin_help(format!("pin the release you tested, e.g. `{label}==<version>` (`pip freeze` shows the installed one)")),
        ));
    }
    let (specifier, via) = if requirement.specifier.is_empty() {
        let constraint = constrained_by?;
        (
            constraint.specifier.to_string(),
            format!(" (constraint at {})", located(constraint)),
        )
    } else {
        (requirement.specifier.to_string(), String::new())
    };
    Some(finding(
        Rule::LooseRange,
        severity,
        requirement,
        format!(
            "`{label}{specifier}`{via} admits more than one release: the installed version drifts{today}"
        ),
        pin_help(format!("pin one tested release with `==`, e.g. `{label}==<version>`")),
    ))
}

/// `unpinned-url`: a URL or VCS reference that can change under the file.
fn unpinned_url(requirement: &Requirement, strict: bool) -> Option<Finding> {
    let url = requirement.url.as_deref()?;
    let is_vcs = requirement::is_vcs_url(url);
    let is_remote = is_vcs
        || requirement::url_scheme(url)
            .is_some_and(|s| matches!(s.as_str(), "http" | "https" | "ftp"));
    if !is_remote || !requirement.hashes.is_empty() || has_hash_fragment(url) {
        return None;
    }
    let severity = drift_severity(strict);
    let label = requirement.label();
    if is_vcs {
        let reference = vcs_reference(url);
        if reference.is_some_and(is_immutable_ref) {
            return None;
        }
        let message = match reference {
            Some(reference) => {
                format!("`{label}` follows the VCS ref `{reference}`, which can move")
            }
            None => {
                format!("`{label}` names no VCS ref: it installs whatever the default branch holds")
            }
        };
        return Some(finding(
            Rule::UnpinnedUrl,
            severity,
            requirement,
            message,
            "pin a full commit hash: `...@<40-hex-commit>`".into(),
        ));
    }
    Some(finding(
        Rule::UnpinnedUrl,
        severity,
        requirement,
        format!("`{label}` downloads `{url}` without a hash: the file behind the URL can change"),
        "add `--hash=sha256:<digest>` (or a `#sha256=<digest>` fragment) so pip verifies the download".into(),
    ))
}

fn has_hash_fragment(url: &str) -> bool {
    url.split_once('#').is_some_and(|(_, fragment)| {
        fragment.split('&').any(|part| {
            ["sha256=", "sha384=", "sha512="]
                .iter()
                .any(|p| part.starts_with(p))
        })
    })
}

/// The `@ref` of a VCS URL (after the host, before any fragment).
pub fn vcs_reference(url: &str) -> Option<&str> {
    let without_fragment = url.split('#').next().unwrap_or(url);
    let after_scheme = without_fragment
        .split_once("://")
        .map_or(without_fragment, |(_, rest)| rest);
    let path = &after_scheme[after_scheme.find('/')?..];
    let (_, reference) = path.rsplit_once('@')?;
    (!reference.is_empty()).then_some(reference)
}

fn is_immutable_ref(reference: &str) -> bool {
    let is_hex = reference.chars().all(|c| c.is_ascii_hexdigit());
    let is_commit = is_hex && (reference.len() == 40 || reference.len() == 64);
    let svn_revision = reference.trim_start_matches('r');
    is_commit || (!svn_revision.is_empty() && svn_revision.chars().all(|c| c.is_ascii_digit()))
}

fn missing_hash(requirement: &Requirement, required_by_option: bool) -> Finding {
    let why = if required_by_option {
        "`--require-hashes` is set"
    } else {
        "other requirements carry `--hash`, which turns on pip's hash-checking mode"
    };
    let label = requirement.label();
    let (message, help) = if requirement.editable {
        (
            format!("editable `{label}` cannot be installed in hash-checking mode ({why})"),
            "install it separately, or replace it with a pinned, hashed release".to_string(),
        )
    } else {
        (
            format!("`{label}` has no `--hash` but {why}: pip will refuse the whole file"),
            "add `--hash=sha256:<digest>` for every file of the pinned release (`reqlock lock` writes them)".to_string(),
        )
    };
    finding(
        Rule::MissingHash,
        Severity::Error,
        requirement,
        message,
        help,
    )
}

/// `duplicate` and `conflicting-pins` among the requirements of one name.
fn duplicates_and_conflicts(
    requirements: &[Requirement],
    indices: &[usize],
    emit: &mut impl FnMut(usize, Finding),
) {
    for (position, &later) in indices.iter().enumerate() {
        let current = &requirements[later];
        let earlier: Vec<usize> = indices[..position]
            .iter()
            .copied()
            .filter(|&i| overlaps(&requirements[i], current))
            .collect();
        if !current.constraint {
            if let Some(&first) = earlier.iter().find(|&&i| !requirements[i].constraint) {
                let first = &requirements[first];
                emit(
                    later,
                    finding(
                        Rule::Duplicate,
                        Severity::Warning,
                        current,
                        format!(
                            "`{}` is already required at {}",
                            current.label(),
                            located(first)
                        ),
                        "keep one requirement per package so that there is one place to change it"
                            .into(),
                    ),
                );
            }
        }
        for &other_index in &earlier {
            let other = &requirements[other_index];
            if let Some(conflict) = conflict_between(other, current) {
                emit(later, conflict);
            }
        }
    }
}

fn conflict_between(earlier: &Requirement, later: &Requirement) -> Option<Finding> {
    let pairs = [(earlier, later), (later, earlier)];
    for (pinned, other) in pairs {
        let Some(pin) = pinned_version(pinned) else {
            continue;
        };
        if pin.operator() != &Operator::Equal {
            continue;
        }
        let version: &Version = pin.version();
        if other.specifier.contains(version) {
            continue;
        }
        let kind = if other.constraint || pinned.constraint {
            "constraint"
        } else {
            "pin"
        };
        return Some(finding(
            Rule::ConflictingPins,
            Severity::Error,
            later,
            format!(
                "`{}{}` ({}) and `{}{}` ({}) cannot both hold",
                pinned.label(),
                pinned.specifier,
                located(pinned),
                other.label(),
                other.specifier,
                located(other)
            ),
            format!("make the {kind}s agree on one release; pip stops with `ResolutionImpossible` otherwise"),
        ));
    }
    None
}

/// The index a PyTorch local label (`+cu121`, `+cpu`, `+rocm5.6`) comes
/// from; other labels have no well-known home.
fn pytorch_index_for(local: &str) -> Option<String> {
    let known = local == "cpu"
        || local
            .strip_prefix("cu")
            .is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        || local.starts_with("rocm");
    known.then(|| format!("https://download.pytorch.org/whl/{local}"))
}

fn list(versions: &[Version]) -> String {
    versions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The finding for one thing resolution ran into.
fn index_finding(requirement: &Requirement, problem: &Problem, target: &Target) -> Finding {
    let label = requirement.label();
    let spec = format!("{label}{}", requirement.specifier);
    let python = format!("Python {}.{}", target.python.0, target.python.1);
    let (rule, severity, message, help) = match problem {
        Problem::UnknownPackage { indexes } => (
            Rule::UnknownPackage,
            Severity::Error,
            format!("no configured index knows `{label}` (asked: {})", indexes.join(", ")),
            "check the spelling; a private package needs its index: `--extra-index-url URL`"
                .to_string(),
        ),
        Problem::Unreachable(error) => (
            Rule::IndexUnreachable,
            Severity::Error,
            format!("`{label}` could not be checked: {error}"),
            "fix the index URL, network or credentials (URL userinfo or ~/.netrc) and run again"
                .to_string(),
        ),
        Problem::NotCached(error) => (
            Rule::NotResolvedOffline,
            Severity::Info,
            format!("`{label}` was not resolved: {error}"),
            "run once without `--offline` to fill the cache".to_string(),
        ),
        Problem::NoMatchingVersion {
            nearest,
            only_yanked,
        } => {
            let (why, help) = if *only_yanked {
                (
                    " (only yanked releases do)",
                    format!("the newest matching release is yanked: {}; widen or move the specifier", list(nearest)),
                )
            } else if nearest.is_empty() {
                ("", "the indexes list no release at all".to_string())
            } else {
                ("", format!("nearest existing releases: {}", list(nearest)))
            };
            (
                Rule::NoMatchingVersion,
                Severity::Error,
                format!("no release of `{label}` matches `{spec}`{why}"),
                help,
            )
        }
        Problem::LocalVersionUnavailable { wanted } => {
            let local = wanted
                .local()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(".");
            let help = match pytorch_index_for(&local) {
                Some(url) => format!("`+{local}` builds come from the PyTorch index: add `--extra-index-url {url}`"),
                None => format!("add the index that serves `+{local}` builds with `--extra-index-url URL`"),
            };
            (
                Rule::LocalVersionUnavailable,
                Severity::Error,
                format!("`{label}=={wanted}`: no configured index provides the local version `+{local}`"),
                help,
            )
        }
        Problem::Yanked { version, reason } => {
            let reason = if reason.is_empty() {
                "no reason given".to_string()
            } else {
                format!("reason: {reason}")
            };
            (
                Rule::Yanked,
                Severity::Error,
                format!("`{label}` {version} is yanked ({reason})"),
                "pin a release that is not yanked".to_string(),
            )
        }
        Problem::RequiresPython { version, requires } => (
            Rule::RequiresPython,
            Severity::Error,
            format!("`{spec}` resolves to {version}, which requires Python `{requires}`; the target is {python}"),
            format!("pick a release that supports {python}, or set `--python-version`"),
        ),
        Problem::NoCompatibleWheel {
            version,
            sdist,
            forbidden,
            build_needed,
        } => {
            let platform = &target.platform;
            if *build_needed {
                (
                    Rule::NoCompatibleWheel,
                    Severity::Warning,
                    format!("no wheel of `{label}` {version} fits {python} on {platform}: pip would build the sdist"),
                    "building needs a compiler and the build dependencies; pin a release with a wheel for the target".to_string(),
                )
            } else {
                let why = if *forbidden {
                    "and `--only-binary` forbids building the sdist"
                } else if *sdist {
                    "and pip may not use the sdist"
                } else {
                    "and there is no sdist to build"
                };
                (
                    Rule::NoCompatibleWheel,
                    Severity::Error,
                    format!("no file of `{label}` {version} installs on {python} on {platform}: no compatible wheel {why}"),
                    "pick a release with wheels for the target, or change `--python-version`/`--platform`".to_string(),
                )
            }
        }
        Problem::DependencyConfusion { indexes } => (
            Rule::DependencyConfusion,
            Severity::Warning,
            format!("`{label}` exists on several indexes ({}): pip merges them and installs the highest version from any", indexes.join(", ")),
            "make sure every index that lists it is yours, and pin with `--hash`".to_string(),
        ),
    };
    finding(rule, severity, requirement, message, help)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcs_refs() {
        assert_eq!(
            vcs_reference("git+https://h.invalid/o/r.git@v1.0#egg=r"),
            Some("v1.0")
        );
        assert_eq!(vcs_reference("git+ssh://git@h.invalid/o/r.git"), None);
        assert!(is_immutable_ref("0123456789abcdef0123456789abcdef01234567"));
        assert!(!is_immutable_ref("main"));
    }

    #[test]
    fn rule_ids_round_trip() {
        for rule in Rule::ALL {
            assert_eq!(Rule::from_id(rule.id()), Some(*rule));
        }
    }
}
