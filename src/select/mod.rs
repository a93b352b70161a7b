//! Picking the release pip would install for each direct requirement, for
//! a target environment, from what the indexes list.
//!
//! This looks at one requirement at a time (and the constraints on its
//! name): it answers "what would `pip install` pick for this line today",
//! not a full dependency resolution. Problems are returned as data;
//! [`crate::audit`] decides what they mean as findings.

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifiers};

use crate::index::cache::Answer;
use crate::index::client::{FetchError, Fetched};
use crate::index::filename::{self, DistKind};
use crate::index::page::{DistFile, VersionFilter};
use crate::requirements::{Requirement, RequirementSet};
pub use crate::target::Target;

/// What the install may use, beyond the target.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `--pre` (flag or file).
    pub pre: bool,
    /// Names (normalized) or `:all:`, as pip's `--only-binary`.
    pub only_binary: BTreeSet<String>,
    pub no_binary: BTreeSet<String>,
    /// `--prefer-binary`: the newest release with an installable wheel
    /// wins over newer releases with only an sdist, as pip ranks them.
    pub prefer_binary: bool,
}

impl Policy {
    fn applies(set: &BTreeSet<String>, project: &str) -> bool {
        set.contains(project) || set.contains(":all:")
    }
}

/// Where the candidate files come from, in the order pip consults them.
#[derive(Debug, Clone)]
pub struct Sources<'a> {
    /// Public URLs of the indexes, parallel to the fetched pages.
    pub indexes: Vec<String>,
    pub find_links: &'a [String],
    pub fetched: &'a Fetched,
}

/// The release picked for a requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub version: Version,
    /// The index (or find-links location) the picked files come from.
    pub index: String,
    /// Installable releases the specifier admits for the target.
    pub matching_releases: usize,
    /// `Some(reason)` for a pin to a yanked release.
    pub yanked: Option<String>,
    /// The picked release's files that pip could install on the target.
    pub files: Vec<String>,
    /// Only an sdist fits: pip would have to build it.
    pub needs_build: bool,
    pub upload_time: Option<String>,
}

/// Why a requirement could not (fully) be answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    UnknownPackage {
        indexes: Vec<String>,
    },
    Unreachable(FetchError),
    /// An index answered with something that is not a readable page.
    UnreadablePage(FetchError),
    NotCached(FetchError),
    NoMatchingVersion {
        nearest: Vec<Version>,
        only_yanked: bool,
    },
    LocalVersionUnavailable {
        wanted: Version,
    },
    Yanked {
        version: Version,
        reason: String,
    },
    RequiresPython {
        version: Version,
        requires: String,
    },
    /// `forbidden`: an sdist exists but `--only-binary` rules it out.
    NoCompatibleWheel {
        version: Version,
        sdist: bool,
        forbidden: bool,
        build_needed: bool,
    },
    DependencyConfusion {
        indexes: Vec<String>,
    },
}

impl Problem {
    /// A page that could not be had: not cached, unreadable or unreachable.
    fn of_fetch(err: &FetchError) -> Problem {
        match err {
            FetchError::NotCached { .. } => Problem::NotCached(err.clone()),
            FetchError::Unreadable { .. } => Problem::UnreadablePage(err.clone()),
            _ => Problem::Unreachable(err.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A URL, path, editable or nameless requirement, or a constraint:
    /// nothing to ask an index about.
    NotFromIndex,
    /// Its markers exclude the target.
    Skipped,
    Checked {
        resolved: Option<Resolved>,
        problems: Vec<Problem>,
    },
}

/// The normalized names of every requirement to ask the indexes about,
/// each with the releases the requirements of that name can use: a pin
/// needs one release's files, not the whole page.
pub fn projects_to_fetch(set: &RequirementSet, target: &Target) -> Vec<(String, VersionFilter)> {
    let mut wanted: BTreeMap<String, Vec<VersionSpecifiers>> = BTreeMap::new();
    for requirement in &set.requirements {
        if !(from_index(requirement) && applies(requirement, target)) {
            continue;
        }
        if let Some(name) = &requirement.name {
            wanted
                .entry(name.to_string())
                .or_default()
                .push(requirement.specifier.clone());
        }
    }
    wanted
        .into_iter()
        .map(|(name, specifiers)| (name, VersionFilter::admitted_by(specifiers)))
        .collect()
}

fn from_index(requirement: &Requirement) -> bool {
    !requirement.constraint && requirement.url.is_none() && requirement.name.is_some()
}

fn applies(requirement: &Requirement, target: &Target) -> bool {
    requirement
        .parsed_marker
        .evaluate(target.markers(), &requirement.extras)
}

/// One resolution per requirement of `set`, in order.
pub fn resolve_all(
    set: &RequirementSet,
    sources: &Sources<'_>,
    target: &Target,
    policy: &Policy,
) -> Vec<Resolution> {
    crate::parallel::map(&set.requirements, 8, |requirement| {
        if !from_index(requirement) {
            return Resolution::NotFromIndex;
        }
        if !applies(requirement, target) {
            return Resolution::Skipped;
        }
        let constraints: Vec<&Requirement> = set
            .requirements
            .iter()
            .filter(|c| c.constraint && c.name == requirement.name && applies(c, target))
            .collect();
        resolve_one(requirement, &constraints, sources, target, policy)
    })
}

/// A candidate file: its version, what it is, and where it was listed.
struct Candidate<'a> {
    version: Version,
    kind: DistKind,
    file: &'a DistFile,
    source: &'a str,
}

fn resolve_one(
    requirement: &Requirement,
    constraints: &[&Requirement],
    sources: &Sources<'_>,
    target: &Target,
    policy: &Policy,
) -> Resolution {
    let project = requirement
        .name
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut problems = Vec::new();
    let mut candidates: Vec<Candidate<'_>> = Vec::new();
    // Releases whose files were not read (the filter did not want them):
    // they still exist, for "nearest release" help. Parsed only then: a
    // big project lists thousands.
    let mut other_versions: Vec<&str> = Vec::new();
    let mut found_on: Vec<String> = Vec::new();
    let mut not_found_on: Vec<String> = Vec::new();
    for (position, index) in sources.indexes.iter().enumerate() {
        match sources.fetched.pages.get(&(position, project.clone())) {
            Some(Ok(Answer::Found(page))) => {
                let before = candidates.len();
                candidates.extend(candidates_of(&page.files, &project, index));
                other_versions.extend(page.omitted_versions.iter().map(String::as_str));
                if candidates.len() > before || !page.omitted_versions.is_empty() {
                    found_on.push(index.clone());
                } else {
                    not_found_on.push(index.clone());
                }
            }
            Some(Ok(Answer::NotFound)) | None => not_found_on.push(index.clone()),
            Some(Err(err)) => problems.push(Problem::of_fetch(err)),
        }
    }
    for (location, page) in sources.find_links.iter().zip(&sources.fetched.find_links) {
        match page {
            Ok(page) => candidates.extend(candidates_of(&page.files, &project, location)),
            Err(err) => problems.push(Problem::of_fetch(err)),
        }
    }
    if found_on.len() > 1 {
        problems.push(Problem::DependencyConfusion { indexes: found_on });
    }
    if candidates.is_empty() && other_versions.is_empty() {
        if problems.is_empty() {
            problems.push(Problem::UnknownPackage {
                indexes: not_found_on,
            });
        }
        return Resolution::Checked {
            resolved: None,
            problems,
        };
    }
    let (resolved, problem) = pick(
        requirement,
        constraints,
        &project,
        (&candidates, &other_versions),
        target,
        policy,
    );
    // An index that could not be read may hold what is missing: say that
    // (it is already among the problems), not that nothing matches.
    let incomplete = problems.iter().any(|p| {
        matches!(
            p,
            Problem::Unreachable(_) | Problem::UnreadablePage(_) | Problem::NotCached(_)
        )
    });
    if resolved.is_some() || !incomplete {
        problems.extend(problem);
    }
    Resolution::Checked { resolved, problems }
}

fn candidates_of<'a>(files: &'a [DistFile], project: &str, source: &'a str) -> Vec<Candidate<'a>> {
    let mut previous = None;
    files
        .iter()
        .filter_map(|file| {
            let parsed = filename::parse_in_sequence(&file.filename, project, &mut previous)?;
            Some(Candidate {
                version: parsed.version,
                kind: parsed.kind,
                file,
                source,
            })
        })
        .collect()
}

fn requires_python_ok(file: &DistFile, target: &Target) -> bool {
    // pip ignores a `requires-python` it cannot parse, and so does this.
    file.requires_python
        .as_deref()
        .and_then(|text| VersionSpecifiers::from_str(text).ok())
        .is_none_or(|specifiers| specifiers.contains(&target.python_full))
}

/// Pip's choice among the candidates, or the first reason there is none.
fn pick(
    requirement: &Requirement,
    constraints: &[&Requirement],
    project: &str,
    (candidates, other_versions): (&[Candidate<'_>], &[&str]),
    target: &Target,
    policy: &Policy,
) -> (Option<Resolved>, Option<Problem>) {
    let specifiers: Vec<_> = requirement
        .specifier
        .iter()
        .chain(constraints.iter().flat_map(|c| c.specifier.iter()))
        .collect();
    let pinned = requirement
        .specifier
        .iter()
        .any(|s| matches!(s.operator(), Operator::Equal | Operator::ExactEqual));
    // Through the requirements, not the specifiers: `===` compares text.
    let matches = |version: &Version| {
        requirement.admits(version) && constraints.iter().all(|c| c.admits(version))
    };
    let mut matching: Vec<&Candidate<'_>> =
        candidates.iter().filter(|c| matches(&c.version)).collect();

    if matching.is_empty() {
        let wanted_local = specifiers.iter().find_map(|s| {
            (matches!(s.operator(), Operator::Equal | Operator::ExactEqual)
                && !s.version().local().is_empty())
            .then(|| s.version().clone())
        });
        if let Some(wanted) = wanted_local {
            return (None, Some(Problem::LocalVersionUnavailable { wanted }));
        }
        let anchor = specifiers.first().map(|s| s.version().clone());
        let others: Vec<Version> = other_versions
            .iter()
            .filter_map(|version| Version::from_str(version).ok())
            .collect();
        let all_versions: BTreeSet<&Version> = candidates
            .iter()
            .map(|c| &c.version)
            .chain(&others)
            .collect();
        return (
            None,
            Some(Problem::NoMatchingVersion {
                nearest: nearest(&all_versions, anchor.as_ref()),
                only_yanked: false,
            }),
        );
    }

    // As packaging does: pre-releases only when asked for, named by the
    // specifier, or when nothing else matches.
    let allow_pre = policy.pre || specifiers.iter().any(|s| s.version().any_prerelease());
    if !allow_pre && matching.iter().any(|c| !c.version.any_prerelease()) {
        matching.retain(|c| !c.version.any_prerelease());
    }
    let newest_matching = matching.iter().map(|c| c.version.clone()).max();

    if !pinned {
        matching.retain(|c| c.file.yanked.is_none());
        if matching.is_empty() {
            return (
                None,
                Some(Problem::NoMatchingVersion {
                    nearest: newest_matching.into_iter().collect(),
                    only_yanked: true,
                }),
            );
        }
    }

    let python_ok: Vec<&Candidate<'_>> = matching
        .iter()
        .copied()
        .filter(|c| requires_python_ok(c.file, target))
        .collect();
    if python_ok.is_empty() {
        let newest = matching.iter().max_by(|a, b| a.version.cmp(&b.version));
        return (
            None,
            newest.map(|c| Problem::RequiresPython {
                version: c.version.clone(),
                requires: c.file.requires_python.clone().unwrap_or_default(),
            }),
        );
    }

    let only_binary = Policy::applies(&policy.only_binary, project);
    let no_binary = Policy::applies(&policy.no_binary, project);
    let installable = |c: &Candidate<'_>| match &c.kind {
        DistKind::Wheel(tags) => !no_binary && target.accepts_wheel(tags),
        DistKind::Sdist => !only_binary,
    };
    let usable: Vec<&Candidate<'_>> = python_ok
        .iter()
        .copied()
        .filter(|c| installable(c))
        .collect();
    let newest = |wheels_only: bool| {
        usable
            .iter()
            .filter(|c| !wheels_only || matches!(c.kind, DistKind::Wheel(_)))
            .map(|c| &c.version)
            .max()
            .cloned()
    };
    let best = if policy.prefer_binary {
        newest(true).or_else(|| newest(false))
    } else {
        newest(false)
    };
    let Some(best) = best else {
        let version = newest_matching.unwrap_or_else(|| python_ok[0].version.clone());
        let sdist = python_ok.iter().any(|c| matches!(c.kind, DistKind::Sdist));
        return (
            None,
            Some(Problem::NoCompatibleWheel {
                version,
                sdist,
                forbidden: sdist && only_binary,
                build_needed: false,
            }),
        );
    };
    let chosen: Vec<&Candidate<'_>> = usable
        .iter()
        .copied()
        .filter(|c| c.version == best)
        .collect();
    let releases: BTreeSet<&Version> = usable.iter().map(|c| &c.version).collect();
    let needs_build = chosen.iter().all(|c| matches!(c.kind, DistKind::Sdist));
    let yanked = if chosen.iter().all(|c| c.file.yanked.is_some()) {
        chosen.iter().find_map(|c| c.file.yanked.clone())
    } else {
        None
    };
    let resolved = Resolved {
        version: best.clone(),
        index: chosen
            .first()
            .map(|c| c.source.to_string())
            .unwrap_or_default(),
        matching_releases: releases.len(),
        yanked: yanked.clone(),
        files: chosen.iter().map(|c| c.file.filename.clone()).collect(),
        needs_build,
        upload_time: chosen
            .iter()
            .filter_map(|c| c.file.upload_time.clone())
            .min(),
    };
    let problem = if let Some(reason) = yanked {
        Some(Problem::Yanked {
            version: best,
            reason,
        })
    } else if needs_build {
        Some(Problem::NoCompatibleWheel {
            version: best,
            sdist: true,
            forbidden: false,
            build_needed: true,
        })
    } else {
        None
    };
    (Some(resolved), problem)
}

/// Up to two existing releases on each side of `anchor` (or the newest
/// ones without an anchor), for "did you mean" help.
fn nearest(versions: &BTreeSet<&Version>, anchor: Option<&Version>) -> Vec<Version> {
    let sorted: Vec<&Version> = versions.iter().copied().collect();
    let at = anchor.map_or(sorted.len(), |anchor| {
        sorted.partition_point(|v| *v < anchor)
    });
    let start = at.saturating_sub(2);
    let end = (at + 2).min(sorted.len());
    sorted[start..end].iter().map(|v| (*v).clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::cache::Grouping;
    use crate::index::page::{FileView, ProjectPage};
    use crate::requirements::{parse_text, ParseSettings};
    use crate::target::{Derived, Platform};
    use std::path::Path;

    fn file(filename: &str) -> DistFile {
        DistFile {
            filename: filename.to_string(),
            url: Some(format!("http://127.0.0.1:1/files/{filename}")),
            hashes: Default::default(),
            requires_python: None,
            yanked: None,
            core_metadata: false,
            metadata_sha256: None,
            size: None,
            upload_time: None,
        }
    }

    /// The versions each line of `text` resolves to, on one index listing
    /// `files` for every project.
    fn resolve_text(text: &str, files: &[&str]) -> Vec<Resolution> {
        let set = parse_text(Path::new("r.txt"), text, &ParseSettings::from_environment())
            .expect("valid requirements");
        let target = Target::new(
            (3, 12),
            "3.12",
            Platform::from_str("manylinux_2_17_x86_64").expect("tag"),
            Derived::Flag,
            Derived::Flag,
        )
        .expect("target");
        let page = ProjectPage {
            files: files.iter().map(|name| file(name)).collect(),
            omitted_versions: Vec::new(),
        };
        let mut fetched = Fetched::default();
        for (project, filter) in projects_to_fetch(&set, &target) {
            // As the client hands pages over: filtered by what is wanted.
            let mut grouping = Grouping::new(Some(&project), &filter, false, 0);
            for file in &page.files {
                grouping.push(&FileView::from(file));
            }
            let (_, filtered) = grouping.finish();
            fetched
                .pages
                .insert((0, project), Ok(Answer::Found(filtered)));
        }
        let sources = Sources {
            indexes: vec!["http://127.0.0.1:1/simple/".into()],
            find_links: &[],
            fetched: &fetched,
        };
        // As `audit` builds it: from the files' options.
        let policy = Policy {
            pre: set.options.pre,
            only_binary: set.options.only_binary.clone(),
            no_binary: set.options.no_binary.clone(),
            prefer_binary: set.options.prefer_binary,
        };
        resolve_all(&set, &sources, &target, &policy)
    }

    fn version(resolution: &Resolution) -> Option<String> {
        match resolution {
            Resolution::Checked {
                resolved: Some(resolved),
                ..
            } => Some(resolved.version.to_string()),
            _ => None,
        }
    }

    #[test]
    fn pre_releases_only_when_nothing_else_matches() {
        let files = ["a-1.0-py3-none-any.whl", "a-2.0b1-py3-none-any.whl"];
        let resolutions = resolve_text("a>=0.5\na>=1.5\n", &files);
        assert_eq!(version(&resolutions[0]).as_deref(), Some("1.0"));
        assert_eq!(version(&resolutions[1]).as_deref(), Some("2.0b1"));
    }

    #[test]
    fn arbitrary_equality_compares_the_text_as_written() {
        let files = ["foo-1.0.post2-py3-none-any.whl", "foo-1.0-py3-none-any.whl"];
        let resolutions = resolve_text(
            "foo===1.0-2\nfoo===1.0.post2\nfoo===1.0.POST2\nfoo===1.0.0\nfoo===1.0\n",
            &files,
        );
        let versions: Vec<Option<String>> = resolutions.iter().map(version).collect();
        assert_eq!(
            versions,
            [
                None,
                Some("1.0.post2".to_string()),
                Some("1.0.post2".to_string()),
                None,
                Some("1.0".to_string())
            ]
        );
        assert!(matches!(
            &resolutions[0],
            Resolution::Checked { problems, .. }
                if matches!(problems[..], [Problem::NoMatchingVersion { .. }])
        ));
    }

    #[test]
    fn prefer_binary_takes_the_newest_release_with_an_installable_wheel() {
        let files = [
            "a-1.0-py3-none-any.whl",
            "a-1.5-cp312-cp312-win_amd64.whl",
            "a-1.5.tar.gz",
            "a-2.0.tar.gz",
        ];
        let plain = resolve_text("a\n", &files);
        assert_eq!(version(&plain[0]).as_deref(), Some("2.0"));
        let preferring = resolve_text("--prefer-binary\na\n", &files);
        assert_eq!(version(&preferring[0]).as_deref(), Some("1.0"));
        assert!(matches!(
            &preferring[0],
            Resolution::Checked { resolved: Some(resolved), problems }
                if !resolved.needs_build && problems.is_empty()
        ));
        // With no wheel for the target at all, the newest sdist it is.
        let files = ["a-1.0-cp312-cp312-win_amd64.whl", "a-2.0.tar.gz"];
        let preferring = resolve_text("--prefer-binary\na\n", &files);
        assert_eq!(version(&preferring[0]).as_deref(), Some("2.0"));
    }

    #[test]
    fn constraints_narrow_the_choice() {
        let files = ["a-1.0-py3-none-any.whl", "a-1.1-py3-none-any.whl"];
        let dir = tempfile::tempdir().expect("temp dir");
        let constraints = dir.path().join("c.txt");
        std::fs::write(&constraints, "a<1.1\n").expect("write");
        let text = format!("a\n-c {}\n", constraints.display());
        let resolutions = resolve_text(&text, &files);
        assert_eq!(version(&resolutions[0]).as_deref(), Some("1.0"));
    }

    #[test]
    fn nearest_releases_surround_the_wanted_one() {
        let versions: Vec<Version> = ["1.0", "1.1", "2.0", "2.1", "3.0"]
            .iter()
            .map(|v| Version::from_str(v).expect("version"))
            .collect();
        let set: BTreeSet<&Version> = versions.iter().collect();
        let wanted = Version::from_str("2.0.5").expect("version");
        let shown: Vec<String> = nearest(&set, Some(&wanted))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(shown, ["1.1", "2.0", "2.1", "3.0"]);
    }
}
