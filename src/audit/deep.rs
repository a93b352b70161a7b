//! `reqlock audit --deep`: the whole resolved dependency tree against the
//! requirement lines. A file of exact top-level pins still installs new
//! releases of everything those pins pull in; this finds the packages no
//! line pins, says which line pulls each one in, and lets the compat checks
//! see them.

use std::collections::{HashMap, HashSet, VecDeque};

use pep508_rs::PackageName;

use super::compat::Subject;
use super::{pinned_version, Code, Finding, Severity};
use crate::requirements::requirement::is_vcs_url;
use crate::requirements::{Requirement, RequirementSet};
use crate::target::Target;
use crate::tree::direct::DirectError;
use crate::tree::resolve::{LockError, LockedPackage, Resolution, Via};
use crate::tree::source::SourceError;

/// One package of the resolved tree, as the audit sees it.
#[derive(Debug)]
pub struct ClosurePackage<'a> {
    pub package: &'a LockedPackage,
    /// A requirement or constraint line that applies to the target pins it
    /// exactly (`==1.2.3` or `===1.2.3`).
    pub pinned: bool,
    /// A requirement line (not only a constraint) asks for it.
    pub direct: bool,
    /// The index (in the set) of the requirement line that pulls it in: its
    /// own line when direct, else the first by file order among the lines
    /// it descends from.
    pub line: usize,
    /// From that line's package down to this one.
    pub chain: Vec<&'a PackageName>,
}

impl ClosurePackage<'_> {
    /// `a -> b -> c`.
    pub fn chain_text(&self) -> String {
        self.chain
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" -> ")
    }
}

/// What `--deep` learned about the dependency tree.
#[derive(Debug)]
pub enum Closure<'a> {
    /// Sorted by name, as the resolver returns them.
    Resolved(Vec<ClosurePackage<'a>>),
    Failed(&'a LockError),
}

/// Whether a requirement line is one the resolver took: a package from an
/// index or a direct reference (not a VCS URL, which it leaves out),
/// whose markers hold for the target.
fn applies(requirement: &Requirement, target: &Target) -> bool {
    !requirement.url.as_deref().is_some_and(is_vcs_url)
        && requirement.parsed_marker.evaluate(target.markers(), &[])
}

/// The package a requirement line stands for: its name, or for a line
/// that gives none (`./libs/pkg`), the package locked from its reference.
fn line_package<'a>(
    requirement: &'a Requirement,
    resolution: &'a Resolution,
) -> Option<&'a PackageName> {
    requirement.name.as_ref().or_else(|| {
        let url = requirement.url.as_deref()?;
        resolution
            .packages
            .iter()
            .find(|package| {
                package
                    .direct
                    .as_ref()
                    .is_some_and(|direct| direct.reference.given == url)
            })
            .map(|package| &package.name)
    })
}

impl<'a> Closure<'a> {
    pub fn new(
        set: &'a RequirementSet,
        resolved: &'a Result<Resolution, LockError>,
        target: &Target,
    ) -> Closure<'a> {
        let resolution = match resolved {
            Ok(resolution) => resolution,
            Err(err) => return Closure::Failed(err),
        };
        let mut first_line: HashMap<&PackageName, usize> = HashMap::new();
        let mut pinned: HashSet<&PackageName> = HashSet::new();
        for (index, requirement) in set.requirements.iter().enumerate() {
            if !applies(requirement, target) {
                continue;
            }
            let Some(name) = line_package(requirement, resolution) else {
                continue;
            };
            if pinned_version(requirement).is_some() {
                pinned.insert(name);
            }
            if !requirement.constraint {
                first_line.entry(name).or_insert(index);
            }
        }
        let mut parents: HashMap<&PackageName, Vec<&PackageName>> = HashMap::new();
        for package in &resolution.packages {
            for via in &package.via {
                if let Via::Package(parent) = via {
                    parents.entry(&package.name).or_default().push(parent);
                }
            }
        }
        // Every package descends from a requirement line; were the resolver's
        // `via` ever incomplete, the first line still names where to look.
        let fallback = set
            .requirements
            .iter()
            .position(|requirement| !requirement.constraint)
            .unwrap_or_default();
        let packages = resolution
            .packages
            .iter()
            .map(|package| {
                let direct = first_line.get(&package.name).copied();
                let (line, chain) = match direct {
                    Some(line) => (line, vec![&package.name]),
                    None => origin(&package.name, &parents, &first_line)
                        .unwrap_or((fallback, vec![&package.name])),
                };
                // An archive is one exact file; a folder changes under it.
                let exact_file = package
                    .direct
                    .as_ref()
                    .is_some_and(|direct| direct.hash.is_some());
                ClosurePackage {
                    package,
                    pinned: exact_file || pinned.contains(&package.name),
                    direct: direct.is_some(),
                    line,
                    chain,
                }
            })
            .collect();
        Closure::Resolved(packages)
    }

    /// The packages, or none when the tree could not be resolved.
    pub fn packages(&self) -> &[ClosurePackage<'a>] {
        match self {
            Closure::Resolved(packages) => packages,
            Closure::Failed(_) => &[],
        }
    }

    /// `unpinned-transitive` for every package only the tree brings that no
    /// line pins; or the one finding that says why there is no tree.
    pub fn findings(&self, set: &RequirementSet) -> Vec<(usize, Finding)> {
        match self {
            Closure::Failed(err) => unresolved(set, err).into_iter().collect(),
            Closure::Resolved(packages) => packages
                .iter()
                .filter(|package| !package.direct && !package.pinned)
                .map(|package| {
                    let name = &package.package.name;
                    let version = &package.package.version;
                    let chain = package.chain_text();
                    (
                        package.line,
                        super::finding_at(
                            Code::UnpinnedTransitive,
                            Severity::Warning,
                            Some(name.to_string()),
                            &set.requirements[package.line],
                            format!(
                                "`{name}` is not pinned anywhere: `{chain}` resolves it to {version} today, and its next release changes what installs"
                            ),
                            format!(
                                "pin it, e.g. a `{name}=={version}` line in a `-c constraints.txt` file, or lock the whole tree with `reqlock lock`"
                            ),
                        ),
                    )
                })
                .collect(),
        }
    }

    /// The packages only the tree brings, as compat subjects located at the
    /// line that pulls each one in.
    pub fn transitive_subjects(&self, set: &'a RequirementSet) -> Vec<Subject<'a>> {
        self.packages()
            .iter()
            .filter(|package| !package.direct)
            .map(|package| Subject {
                index: package.line,
                name: package.package.name.as_ref(),
                requirement: &set.requirements[package.line],
                version: Some(package.package.version.clone()),
                resolved: None,
                chain: Some(package.chain_text()),
            })
            .collect()
    }
}

/// The shortest chain from the requirement line that comes first in the
/// files, among those `name` descends from, down to `name`.
fn origin<'a>(
    name: &'a PackageName,
    parents: &HashMap<&'a PackageName, Vec<&'a PackageName>>,
    first_line: &HashMap<&PackageName, usize>,
) -> Option<(usize, Vec<&'a PackageName>)> {
    // Breadth first, upwards: `towards[p]` is the next step from `p` down to
    // `name` on a shortest path.
    let mut towards: HashMap<&PackageName, &PackageName> = HashMap::new();
    let mut seen: HashSet<&PackageName> = HashSet::from([name]);
    let mut queue = VecDeque::from([name]);
    let mut best: Option<(usize, &PackageName)> = None;
    while let Some(node) = queue.pop_front() {
        if let Some(&line) = first_line.get(node) {
            if best.is_none_or(|(earliest, _)| line < earliest) {
                best = Some((line, node));
            }
        }
        for &parent in parents.get(node).into_iter().flatten() {
            if seen.insert(parent) {
                towards.insert(parent, node);
                queue.push_back(parent);
            }
        }
    }
    let (line, top) = best?;
    let mut chain = vec![top];
    let mut at = top;
    while let Some(&next) = towards.get(at) {
        chain.push(next);
        at = next;
    }
    Some((line, chain))
}

/// The tree could not be resolved: offline without the pages or metadata
/// it needs (not resolved, like any other cache miss), or no solution or
/// an index error (`unresolvable`), located at the first requirement line.
fn unresolved(set: &RequirementSet, err: &LockError) -> Option<(usize, Finding)> {
    let index = set
        .requirements
        .iter()
        .position(|requirement| !requirement.constraint)?;
    let requirement = &set.requirements[index];
    let not_cached = match err {
        LockError::Source { source, .. } => matches!(**source, SourceError::NotCached(_)),
        LockError::Direct { source, .. } => matches!(**source, DirectError::NotCached(_)),
        _ => false,
    };
    let finding = if not_cached {
        super::finding_at(
            Code::NotResolvedOffline,
            Severity::Warning,
            None,
            requirement,
            format!("the dependency tree was not resolved: {err}"),
            "run once without `--offline` to fill the cache".to_string(),
        )
    } else {
        let (message, help) = match err {
            LockError::NoSolution { explanation } => (
                format!("the requirements cannot be installed together on the target:\n{explanation}"),
                "pip would stop with ResolutionImpossible: change the requirements the explanation names"
                    .to_string(),
            ),
            LockError::Source { .. }
            | LockError::CompatDb(_)
            | LockError::Direct { .. }
            | LockError::DirectConstraint { .. }
            | LockError::ConflictingReferences { .. } => (
                format!("the dependency tree could not be resolved: {err}"),
                err.help().unwrap_or_else(|| {
                    "fix what the message names and run again; the other findings do not depend on it"
                        .to_string()
                }),
            ),
        };
        super::finding_at(
            Code::Unresolvable,
            Severity::Error,
            None,
            requirement,
            message,
            help,
        )
    };
    Some((index, finding))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::str::FromStr;

    use pep508_rs::pep440_rs::Version;

    use super::*;
    use crate::requirements::{parse_text, ParseSettings};

    fn name(text: &str) -> PackageName {
        PackageName::from_str(text).expect("valid name")
    }

    fn locked(package: &str, via: &[Via]) -> LockedPackage {
        LockedPackage {
            name: name(package),
            version: Version::from_str("1.0").expect("valid version"),
            index: "https://index.invalid/simple/".to_string(),
            files: Vec::new(),
            direct: None,
            marker: None,
            via: via.to_vec(),
        }
    }

    /// Where `shared` is located and by which chain, for these lines: it
    /// comes from `top` through `middle`, and straight from `near`.
    fn origin_of(requirements: &str) -> (usize, String) {
        let settings = ParseSettings {
            working_dir: PathBuf::from("."),
            lookup_var: Box::new(|_| None),
        };
        let set = parse_text(Path::new("requirements.txt"), requirements, &settings)
            .expect("valid requirements");
        let target =
            Target::from_flags(Some("3.12"), Some("manylinux_2_28_x86_64")).expect("valid target");
        let file = Via::Requirements(PathBuf::from("requirements.txt"));
        let resolved = Ok(Resolution {
            packages: vec![
                locked("middle", &[Via::Package(name("top"))]),
                locked("near", std::slice::from_ref(&file)),
                locked(
                    "shared",
                    &[Via::Package(name("middle")), Via::Package(name("near"))],
                ),
                locked("top", &[file]),
            ],
        });
        let closure = Closure::new(&set, &resolved, &target);
        let shared = closure
            .packages()
            .iter()
            .find(|package| package.package.name == name("shared"))
            .expect("shared is in the closure");
        let line = set.requirements[shared.line].origin.line;
        (line, shared.chain_text())
    }

    #[test]
    fn the_line_first_in_the_file_pulls_a_package_in_by_its_shortest_chain() {
        assert_eq!(
            origin_of("top==1.0\nnear==1.0\n"),
            (1, "top -> middle -> shared".to_string())
        );
        assert_eq!(
            origin_of("near==1.0\ntop==1.0\n"),
            (1, "near -> shared".to_string())
        );
        // A line whose markers exclude the target pulls nothing in.
        assert_eq!(
            origin_of("top==1.0; sys_platform == 'win32'\nnear==1.0\n"),
            (2, "near -> shared".to_string())
        );
    }
}
