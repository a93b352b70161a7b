//! What the resolver knows before it starts, for sources that work ahead
//! of it; and the version choice both share.

use std::collections::{BTreeMap, HashMap, HashSet};

use pep508_rs::pep440_rs::Version;
use pep508_rs::{PackageName, VersionOrUrl};
use pubgrub::VersionSet;

use super::{LockError, ResolveOptions};
use crate::index::metadata::DistMetadata;
use crate::tree::direct::{DirectDist, DirectError, DirectReference};
use crate::tree::range::VersionRange;
use crate::tree::source::{Candidate, DistFile, Foresight, PackageSource, SourceError, Wanted};

/// What the resolver knows before it starts that decides its choices: the
/// source uses it to work ahead.
pub(super) struct Lookahead {
    pub(super) markers: pep508_rs::MarkerEnvironment,
    /// `--pre`.
    pub(super) prereleases: bool,
    /// Packages whose requirements or constraints name a pre-release.
    pub(super) explicit_prereleases: HashSet<PackageName>,
    /// Locked versions to keep (those `--upgrade` releases are left out).
    pub(super) preferences: BTreeMap<PackageName, Version>,
    /// `-c` constraints.
    pub(super) constraints: HashMap<PackageName, VersionRange>,
    /// Packages a direct reference provides: no index is asked for them.
    pub(super) directs: HashSet<PackageName>,
}

impl Lookahead {
    pub(super) fn allows_prereleases(&self, name: &PackageName) -> bool {
        self.prereleases || self.explicit_prereleases.contains(name)
    }

    /// The versions `requirement` admits within the constraints; `None`
    /// for a URL requirement, which no index release satisfies.
    pub(super) fn admitted(&self, requirement: &pep508_rs::Requirement) -> Option<VersionRange> {
        let range = match &requirement.version_or_url {
            None => VersionRange::full(),
            Some(VersionOrUrl::VersionSpecifier(specifiers)) => {
                VersionRange::from_specifiers(specifiers)
            }
            Some(VersionOrUrl::Url(_)) => return None,
        };
        Some(match self.constraints.get(&requirement.name) {
            Some(constraint) => range.intersection(constraint),
            None => range,
        })
    }
}

impl Foresight for Lookahead {
    fn pick(&self, wanted: &Wanted, versions: &[Version]) -> Option<Version> {
        let mut newest_first = versions.to_vec();
        newest_first.sort_unstable_by(|a, b| b.cmp(a));
        pick_version(
            &newest_first,
            &wanted.range,
            self.allows_prereleases(&wanted.name),
            self.preferences.get(&wanted.name),
            |_| Ok(true),
        )
        .ok()
        .flatten()
    }

    fn requirements(&self, wanted: &Wanted, metadata: &DistMetadata) -> Vec<Wanted> {
        metadata
            .requires_dist
            .iter()
            .filter(|requirement| requirement.marker.evaluate(&self.markers, &wanted.extras))
            .filter(|requirement| !self.directs.contains(&requirement.name))
            .filter_map(|requirement| {
                Some(Wanted {
                    name: requirement.name.clone(),
                    range: self.admitted(requirement)?,
                    extras: requirement.extras.clone(),
                })
            })
            .collect()
    }
}

/// Read the direct reference of a requirement line, or say why it cannot
/// be locked.
pub(super) fn read_direct<S: PackageSource + ?Sized>(
    source: &S,
    requirement: &crate::requirements::Requirement,
    options: &ResolveOptions,
) -> Result<DirectDist, LockError> {
    let at = |source: DirectError| LockError::Direct {
        file: requirement.origin.file.to_path_buf(),
        line: requirement.origin.line,
        requirement: requirement.label(),
        source: Box::new(source),
    };
    if requirement.constraint {
        return Err(LockError::DirectConstraint {
            file: requirement.origin.file.to_path_buf(),
            line: requirement.origin.line,
            requirement: requirement.label(),
        });
    }
    let reference =
        DirectReference::from_requirement(requirement, &options.working_dir).map_err(at)?;
    source.direct(&reference).map_err(at)
}

/// The release a direct reference stands for: its archive as the only file
/// (so that a wheel the target cannot install is refused, as pip refuses
/// it), none for a folder.
pub(super) fn direct_candidate(direct: &DirectDist) -> Candidate {
    let files = direct
        .reference
        .archive_filename()
        .map(|filename| DistFile {
            url: direct.reference.remote_url().map(str::to_string),
            hashes: direct
                .hash
                .iter()
                .filter_map(|hash| hash.split_once(':'))
                .map(|(algorithm, digest)| (algorithm.to_string(), digest.to_string()))
                .collect(),
            ..DistFile::named(&filename)
        })
        .into_iter()
        .collect();
    Candidate {
        version: direct.metadata.version.clone(),
        yanked: None,
        requires_python: direct.metadata.requires_python.clone(),
        files,
        index: String::new(),
    }
}

/// The version pip would take from `versions` (newest first) in `range`:
/// the preferred one if it fits, else the newest that is not a pre-release
/// (unless they are allowed), else the newest pre-release, as pip takes one
/// when nothing else is in range. `exists` rules versions out lazily.
pub(super) fn pick_version(
    versions: &[Version],
    range: &VersionRange,
    prereleases: bool,
    preferred: Option<&Version>,
    mut exists: impl FnMut(&Version) -> Result<bool, SourceError>,
) -> Result<Option<Version>, SourceError> {
    let allowed = |version: &Version| prereleases || !version.any_prerelease();
    if let Some(preferred) = preferred {
        if range.contains(preferred)
            && allowed(preferred)
            && versions.contains(preferred)
            && exists(preferred)?
        {
            return Ok(Some(preferred.clone()));
        }
    }
    let in_range = || versions.iter().filter(|version| range.contains(version));
    for version in in_range().filter(|version| allowed(version)) {
        if exists(version)? {
            return Ok(Some(version.clone()));
        }
    }
    for version in in_range().filter(|version| !allowed(version)) {
        if exists(version)? {
            return Ok(Some(version.clone()));
        }
    }
    Ok(None)
}

/// The version of a conflict's virtual package that stands for one member.
pub(super) fn conflict_slot(slot: usize) -> Version {
    Version::new([slot as u64 + 1])
}

pub(super) fn narrow(range: &mut VersionRange, with: &VersionRange) {
    *range = range.intersection(with);
}
