//! What the files alone say: `unpinned`, `loose-range`, `unpinned-url`,
//! `missing-hash`, `duplicate` and `conflicting-pins`.

use pep508_rs::pep440_rs::{Operator, Version};

use super::{finding, located, overlaps, pinned_version, Code, Finding, Severity};
use crate::requirements::{requirement, Requirement};
use crate::select::Resolved;

/// Drift is a warning, and an error for the CI gate (`--strict`).
pub(super) fn drift_severity(strict: bool) -> Severity {
    if strict {
        Severity::Error
    } else {
        Severity::Warning
    }
}

/// `unpinned` and `loose-range`: does anything that applies to this
/// requirement (itself, a duplicate, a constraint) pin one release?
pub(super) fn pinning(
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
            Code::Unpinned,
            severity,
            requirement,
            format!("`{label}` has no version constraint: any release can be installed{today}"),
            pin_help(format!("pin the release you tested, e.g. `{label}==<version>` (`pip freeze` shows the installed one)")),
        ));
    }
    let (specifier, via, constraint) = if requirement.specifier.is_empty() {
        let constraint = constrained_by?;
        (
            constraint.specifier_text(),
            format!(" (constraint at {})", located(constraint)),
            Some(constraint),
        )
    } else {
        (requirement.specifier_text(), String::new(), None)
    };
    let found = finding(
        Code::LooseRange,
        severity,
        requirement,
        format!(
            "`{label}{specifier}`{via} admits more than one release: the installed version drifts{today}"
        ),
        pin_help(format!("pin one tested release with `==`, e.g. `{label}==<version>`")),
    );
    Some(match constraint {
        Some(constraint) => found.with_related(
            constraint.origin.clone(),
            format!(
                "the constraint `{}{}`",
                constraint.label(),
                constraint.specifier_text()
            ),
        ),
        None => found,
    })
}

/// `unpinned-url`: a URL or VCS reference that can change under the file.
pub(super) fn unpinned_url(requirement: &Requirement, strict: bool) -> Option<Finding> {
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
            Code::UnpinnedUrl,
            severity,
            requirement,
            message,
            "pin a full commit hash: `...@<40-hex-commit>`".into(),
        ));
    }
    Some(finding(
        Code::UnpinnedUrl,
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

pub(super) fn missing_hash(requirement: &Requirement, required_by_option: bool) -> Finding {
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
        Code::MissingHash,
        Severity::Error,
        requirement,
        message,
        help,
    )
}

/// `duplicate` and `conflicting-pins` among the requirements of one name.
pub(super) fn duplicates_and_conflicts(
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
                        Code::Duplicate,
                        Severity::Warning,
                        current,
                        format!(
                            "`{}` is already required at {}",
                            current.label(),
                            located(first)
                        ),
                        "keep one requirement per package so that there is one place to change it"
                            .into(),
                    )
                    .with_related(first.origin.clone(), "first required here"),
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
        if other.admits(version) {
            continue;
        }
        let kind = if other.constraint || pinned.constraint {
            "constraint"
        } else {
            "pin"
        };
        return Some(finding(
            Code::ConflictingPins,
            Severity::Error,
            later,
            format!(
                "`{}{}` ({}) and `{}{}` ({}) cannot both hold",
                pinned.label(),
                pinned.specifier_text(),
                located(pinned),
                other.label(),
                other.specifier_text(),
                located(other)
            ),
            format!("make the {kind}s agree on one release; pip stops with `ResolutionImpossible` otherwise"),
        )
        .with_related(
            if std::ptr::eq(pinned, later) { other } else { pinned }.origin.clone(),
            format!("the other {kind}"),
        ));
    }
    None
}
