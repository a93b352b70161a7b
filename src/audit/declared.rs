//! `declared-conflict`: what the pinned releases' own metadata says about
//! each other, before anything is installed.

use std::str::FromStr;

use rustc_hash::FxHashMap;

use super::{
    finding, located, overlaps, pinned_version, Code, Finding, Online, PinnedMetadata, Severity,
    Unavailable, Unread,
};
use crate::index::cache::{Answer, Cache};
use crate::index::client::{FetchError, Fetched, IndexClient};
use crate::index::page::DistFile;
use crate::index::wheel::MetadataFetchError;
use crate::requirements::{Requirement, RequirementSet};
use crate::select::Resolution;

/// `declared-conflict`: what `pip check` finds only after installing. A pin
/// that another pinned release's `Requires-Dist` (for the target, with the
/// extras asked for) excludes; and, offline, the pins whose metadata is not
/// cached.
pub(super) fn conflicts(
    set: &RequirementSet,
    by_name: &FxHashMap<&str, Vec<usize>>,
    online: Online<'_>,
) -> Vec<(usize, Finding)> {
    let mut found = Vec::new();
    for unavailable in &online.pinned.unavailable {
        let index = unavailable.index;
        found.push((index, unchecked(&set.requirements[index], unavailable)));
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
            // Deep nesting would overflow pep508_rs's stack.
            if crate::requirements::guard::too_deeply_nested(raw).is_some() {
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
                        Code::DeclaredConflict,
                        Severity::Error,
                        pinned,
                        format!(
                            "`{}{}` is excluded by `{}{}` ({}), which requires `{}{wanted}`",
                            pinned.label(),
                            pinned.specifier_text(),
                            requirer.label(),
                            requirer.specifier_text(),
                            located(requirer),
                            dependency.name
                        ),
                        format!(
                            "pin {}{wanted}, or move {} to a release that accepts {}; pip would fail with ResolutionImpossible",
                            dependency.name,
                            requirer.label(),
                            pin.version()
                        ),
                    )
                    .with_related(
                        requirer.origin.clone(),
                        format!("`{}` requires `{}{wanted}`", requirer.label(), dependency.name),
                    ),
                ));
            }
        }
    }
    found
}

/// The finding for a pin whose `Requires-Dist` could not be read: the
/// check did not run for it, and the report says so.
fn unchecked(requirement: &Requirement, unavailable: &Unavailable) -> Finding {
    let pin = format!("{}{}", requirement.label(), requirement.specifier_text());
    let (code, severity, why, help) = match &unavailable.reason {
        Unread::Failed(MetadataFetchError::Fetch(FetchError::NotCached { .. })) => (
            Code::NotResolvedOffline,
            Severity::Warning,
            "its metadata is not cached".to_string(),
            "run once without --offline to cache it".to_string(),
        ),
        Unread::Failed(MetadataFetchError::Fetch(error)) => (
            Code::MetadataUnavailable,
            Severity::Warning,
            format!("the metadata of {} could not be fetched: {error}", unavailable.filename),
            "run again when the file host answers; until then declared-conflict did not run for this pin".to_string(),
        ),
        Unread::Failed(
            error @ (MetadataFetchError::HashMismatch { .. }
            | MetadataFetchError::Inconsistent { .. }),
        ) => (
            Code::MetadataUnavailable,
            Severity::Warning,
            error.to_string(),
            "reqlock (like pip) does not use metadata that is not the release's own; report it to the index's operators".to_string(),
        ),
        Unread::Failed(MetadataFetchError::Wheel(error)) => (
            Code::MetadataUnavailable,
            Severity::Warning,
            error.to_string(),
            "declared-conflict did not run for this pin: check the release's files on the index (reqlock reads a wheel only within its limits)".to_string(),
        ),
        Unread::NoWheel => (
            Code::MetadataUnavailable,
            Severity::Info,
            format!("no wheel of it fits the target, only {}", unavailable.filename),
            "`--deep` builds the sdist's metadata and checks the whole tree".to_string(),
        ),
    };
    finding(
        code,
        severity,
        requirement,
        format!("the dependencies of `{pin}` were not checked: {why}"),
        help,
    )
}

/// A pin (by requirement index), its wheel's file name, and the wheel's
/// `Requires-Dist` values or why they could not be had.
type PinRequirements<'a> = (usize, &'a String, Result<Vec<String>, MetadataFetchError>);

/// For `declared-conflict`: the metadata of every release a requirement
/// pins exactly (the same cached metadata `lock` reads), and the pins whose
/// metadata could not be had.
pub fn pinned_metadata(
    set: &RequirementSet,
    resolutions: &[Resolution],
    fetched: &Fetched,
    client: &IndexClient,
    cache: Option<&Cache>,
) -> PinnedMetadata {
    // (requirement index, wheel) of each exact pin.
    let mut wanted: Vec<(usize, &DistFile)> = Vec::new();
    let mut no_wheel = Vec::new();
    for (index, (requirement, resolution)) in set.requirements.iter().zip(resolutions).enumerate() {
        let Resolution::Checked {
            resolved: Some(resolved),
            ..
        } = resolution
        else {
            continue;
        };
        if pinned_version(requirement).is_none() {
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
        match wheel.filter(|wheel| wheel.url.is_some()) {
            Some(wheel) => wanted.push((index, wheel)),
            None => no_wheel.push(Unavailable {
                index,
                filename: resolved.files.first().cloned().unwrap_or_default(),
                reason: Unread::NoWheel,
            }),
        }
    }
    // Cached metadata is read first, shared out over the cores; only misses
    // wait on the network, several at once.
    let cached = crate::parallel::map(&wanted, 8, |(_, wheel)| {
        crate::index::wheel::cached_metadata(cache, wheel)
            .map(|text| crate::index::metadata::raw_requires_dist(&text))
    });
    let mut results: Vec<PinRequirements> = Vec::new();
    let mut misses = Vec::new();
    for (&(index, wheel), requires_dist) in wanted.iter().zip(cached) {
        match requires_dist {
            Some(requires_dist) => results.push((index, &wheel.filename, Ok(requires_dist))),
            None => misses.push((index, wheel)),
        }
    }
    // Network reads wait more than they work: more threads than cores.
    let fetched_now = crate::parallel::map_on(&misses, 8, |&(index, wheel)| {
        let requires_dist = crate::index::wheel::read_metadata(client, cache, wheel)
            .map(|text| crate::index::metadata::raw_requires_dist(&text));
        (index, &wheel.filename, requires_dist)
    });
    results.extend(fetched_now);
    let mut pinned = PinnedMetadata {
        unavailable: no_wheel,
        ..PinnedMetadata::default()
    };
    for (index, filename, requires_dist) in results {
        match requires_dist {
            Ok(requires_dist) => {
                pinned.requires_dist.insert(index, requires_dist);
            }
            Err(error) => pinned.unavailable.push(Unavailable {
                index,
                filename: filename.clone(),
                reason: Unread::Failed(error),
            }),
        }
    }
    pinned
        .unavailable
        .sort_by_key(|unavailable| unavailable.index);
    pinned
}
