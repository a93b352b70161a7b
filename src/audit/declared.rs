//! `declared-conflict`: what the pinned releases' own metadata says about
//! each other, before anything is installed.

use std::str::FromStr;

use rustc_hash::FxHashMap;

use super::{
    finding, located, overlaps, pinned_version, Code, Finding, Online, PinnedMetadata, Severity,
    Unavailable,
};
use crate::index::cache::{Answer, Cache};
use crate::index::client::{FetchError, Fetched, IndexClient};
use crate::index::wheel::MetadataFetchError;
use crate::requirements::RequirementSet;
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
        let index = &unavailable.index;
        let requirement = &set.requirements[*index];
        if matches!(
            unavailable.error,
            MetadataFetchError::Fetch(FetchError::NotCached { .. })
        ) {
            found.push((
                *index,
                finding(
                    Code::NotResolvedOffline,
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
                        Code::DeclaredConflict,
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
        if let Some((wheel, url)) = wheel.and_then(|wheel| Some((wheel, wheel.url.clone()?))) {
            wanted.push((index, url, wheel.filename.clone(), wheel.sha256()));
        }
    }
    // Cached metadata is read first, shared out over the cores; only misses
    // wait on the network, several at once.
    let cached = crate::parallel::map(&wanted, 8, |(_, url, _, hash)| {
        crate::index::wheel::cached_metadata(cache, url, hash.as_deref())
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
        let requires_dist =
            crate::index::wheel::read_metadata(client, cache, url, filename, hash.as_deref())
                .map(|text| crate::index::metadata::raw_requires_dist(&text));
        (index, filename, requires_dist)
    });
    results.extend(fetched_now);
    let mut pinned = PinnedMetadata::default();
    for (index, filename, requires_dist) in results {
        match requires_dist {
            Ok(requires_dist) => {
                pinned.requires_dist.insert(index, requires_dist);
            }
            Err(error) => pinned.unavailable.push(Unavailable {
                index,
                filename: filename.clone(),
                error,
            }),
        }
    }
    pinned
        .unavailable
        .sort_by_key(|unavailable| unavailable.index);
    pinned
}
