//! Full transitive resolution with PubGrub for one target environment.
//!
//! Packages are PubGrub packages; `pkg[extra]` is a virtual package that
//! depends on `pkg` at its own version and on the requirements the extra
//! adds (as uv models it). Each compat-db conflict is a virtual package with
//! one version per member: a member in its conflicting range depends on the
//! virtual package at any version but its own, so when every member is in
//! range no version is left and the derivation names the rule. Each
//! same-build rule is a virtual package whose versions are `0+<label>`: a
//! labelled member depends on the one for its label, so two labels clash.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, VersionOrUrl};
use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyProvider, DerivationTree, Derived, External,
    Map, PackageResolutionStatistics, PubGrubError, ReportFormatter, Reporter, Term, VersionSet,
};

use crate::compat::local_label;

use super::conflicts::{conflict_sets, same_build_rules, ConflictRuleError, ConflictSet};
use super::direct::{DirectDist, DirectError, DirectReference};
use super::range::VersionRange;
use super::source::{Candidate, DistFile, Foresight, PackageSource, SourceError, Wanted};
use super::timestamp::Timestamp;
use crate::compat::CompatDb;
use crate::index::metadata::DistMetadata;
use crate::requirements::RequirementSet;
use crate::target::Target;

/// Which locked versions may move.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Upgrade {
    /// Keep every preferred version that still fits.
    #[default]
    Nothing,
    All,
    Packages(BTreeSet<PackageName>),
}

/// How to resolve, beyond the requirements themselves.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// `--pre`: pre-releases for every package. Without it a package gets a
    /// pre-release only when a requirement or constraint names one, or when
    /// nothing else is in range (as pip does).
    pub prereleases: bool,
    /// Ignore files uploaded after this instant; a release left without files
    /// is ignored. Files without an upload time are kept.
    pub exclude_newer: Option<Timestamp>,
    /// Versions of an existing lock, kept while they fit unless upgraded.
    pub preferences: BTreeMap<PackageName, Version>,
    pub upgrade: Upgrade,
    /// `--trust-reported`: `reported` compat-db rules constrain the lock
    /// as `verified` ones do.
    pub trust_reported: bool,
    /// Where relative paths of direct references resolve: pip's current
    /// folder. Empty means the current folder.
    pub working_dir: PathBuf,
}

/// Why a package is in the lock.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// Named in this requirements file.
    Requirements(PathBuf),
    /// A dependency of this locked package.
    Package(PackageName),
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Via::Requirements(file) => write!(f, "-r {}", file.display()),
            Via::Package(name) => write!(f, "{name}"),
        }
    }
}

/// A package locked from a direct reference instead of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedDirect {
    pub reference: DirectReference,
    /// `sha256:<hex>` of the archive; `None` for a project folder.
    pub hash: Option<String>,
    /// The extras the requirement lines ask for, sorted.
    pub extras: Vec<ExtraName>,
}

/// One pinned package.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedPackage {
    pub name: PackageName,
    pub version: Version,
    /// The index the release was found on; empty for a direct reference.
    pub index: String,
    /// The release's files (after `exclude_newer`), in the index's order;
    /// none for a direct reference.
    pub files: Vec<DistFile>,
    /// Set when a requirement line names a URL, a path or `-e`.
    pub direct: Option<LockedDirect>,
    /// The marker of the requirement line, kept when only lines with that
    /// marker ask for the package.
    pub marker: Option<String>,
    /// Sorted, without duplicates.
    pub via: Vec<Via>,
}

/// A complete set of pins, sorted by name.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    pub packages: Vec<LockedPackage>,
}

/// Resolution failed.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{file}:{line}: `{requirement}`: {source}")]
    Direct {
        file: PathBuf,
        line: usize,
        requirement: String,
        source: Box<DirectError>,
    },
    #[error("{file}:{line}: `{requirement}` is a constraint with a URL, path or editable; reqlock reads constraints as version limits only")]
    DirectConstraint {
        file: PathBuf,
        line: usize,
        requirement: String,
    },
    #[error("{file}:{line}: `{requirement}` is {name} from `{}`, but another line takes it from `{}`", .places.1, .places.0)]
    ConflictingReferences {
        file: PathBuf,
        line: usize,
        requirement: String,
        name: PackageName,
        /// The first line's reference, then this one's.
        places: Box<(String, String)>,
    },
    #[error("{package}: {source}")]
    Source {
        package: String,
        source: Box<SourceError>,
    },
    #[error(transparent)]
    CompatDb(#[from] ConflictRuleError),
    #[error("the requirements cannot be locked:\n{explanation}")]
    NoSolution { explanation: String },
}

impl LockError {
    /// What the user can do about it, for the `help:` line.
    pub fn help(&self) -> Option<String> {
        match self {
            LockError::Direct { source, .. } => Some(source.help()),
            LockError::DirectConstraint { .. } => Some(
                "move the URL, path or `-e` line into the requirements, or constrain the package with `==version`"
                    .into(),
            ),
            LockError::ConflictingReferences { .. } => {
                Some("keep one of the two lines: a package can come from one place only".into())
            }
            LockError::Source { source, .. } => match source.as_ref() {
                SourceError::Sdist(err) => Some(err.help()),
                _ => None,
            },
            LockError::CompatDb(_) | LockError::NoSolution { .. } => None,
        }
    }
}

/// Resolve `requirements` (`-c` entries limit versions and add nothing) for
/// the target, with the compat database's verified rules as
/// constraints.
pub fn resolve<S: PackageSource + ?Sized>(
    source: &S,
    requirements: &RequirementSet,
    target: &Target,
    compat: &CompatDb,
    options: &ResolveOptions,
) -> Result<Resolution, LockError> {
    let provider = Provider::new(source, requirements, target, compat, options)?;
    let root_version = Version::new([0]);
    let selected = match pubgrub::resolve(&provider, Node::Root, root_version) {
        Ok(selected) => selected,
        Err(PubGrubError::NoSolution(mut tree)) => {
            // Fold "there is no other version of x" into the dependency
            // edges, as uv does: shorter derivations, same meaning.
            tree.collapse_no_versions();
            return Err(LockError::NoSolution {
                explanation: explain(&tree, compat),
            });
        }
        Err(PubGrubError::ErrorRetrievingDependencies {
            package,
            version,
            source,
        }) => {
            return Err(LockError::Source {
                package: format!("{package}=={version}"),
                source: Box::new(source),
            })
        }
        Err(PubGrubError::ErrorChoosingVersion { package, source }) => {
            return Err(LockError::Source {
                package: package.to_string(),
                source: Box::new(source),
            })
        }
        Err(PubGrubError::ErrorInShouldCancel(source)) => {
            return Err(LockError::Source {
                package: Node::Root.to_string(),
                source: Box::new(source),
            })
        }
    };
    provider.resolution(selected.iter())
}

/// A PubGrub package.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Node {
    Root,
    Package(PackageName),
    Extra(PackageName, ExtraName),
    /// Index into the conflict sets, and the rule id for explanations.
    Conflict(usize, Arc<str>),
    /// A same-build rule, by id.
    SameBuild(Arc<str>),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Root => f.write_str("the requirements"),
            Node::Package(name) => write!(f, "{name}"),
            Node::Extra(name, extra) => write!(f, "{name}[{extra}]"),
            Node::Conflict(_, rule) | Node::SameBuild(rule) => write!(f, "compat-db rule `{rule}`"),
        }
    }
}

/// Why a release cannot be used although it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unusable {
    RequiresPython(VersionSpecifiers),
    Yanked(String),
    DirectReference(String),
    NoInstallableFile,
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unusable::RequiresPython(range) => write!(f, "requires Python {range}"),
            Unusable::Yanked(reason) if reason.is_empty() => f.write_str("is yanked"),
            Unusable::Yanked(reason) => write!(f, "is yanked ({reason})"),
            Unusable::DirectReference(requirement) => write!(
                f,
                "depends on `{requirement}`, which is not on an index (a dependency's URL is allowed only when a requirement line names the same URL)"
            ),
            Unusable::NoInstallableFile => f.write_str(
                "has no file the target can install (no matching wheel, no usable sdist)",
            ),
        }
    }
}

/// A direct requirement line, for `# via` and markers.
struct DirectLine {
    file: PathBuf,
    marker: Option<String>,
}

struct Provider<'a, S: PackageSource + ?Sized> {
    source: &'a S,
    target: &'a Target,
    options: &'a ResolveOptions,
    root: BTreeMap<Node, VersionRange>,
    direct: HashMap<PackageName, Vec<DirectLine>>,
    /// The choices the source may anticipate.
    lookahead: Arc<Lookahead>,
    /// `==`/`===` pins of requirements and constraints: they admit yanked
    /// releases (PEP 592).
    pins: HashMap<PackageName, Vec<VersionSpecifiers>>,
    conflicts: Vec<ConflictSet>,
    /// Packages a requirement line takes from a URL, a path or `-e`: their
    /// only candidate.
    directs: HashMap<PackageName, Rc<DirectDist>>,
    /// The extras the lines of each direct reference ask for.
    direct_extras: HashMap<PackageName, BTreeSet<ExtraName>>,
    /// For each package, the conflicts it is a member of and its slot there.
    memberships: HashMap<PackageName, Vec<(usize, usize)>>,
    /// For each package, the same-build rules it is a member of.
    same_build: HashMap<PackageName, Vec<Arc<str>>>,
    /// `--only-binary` and `--no-binary`, canonical names or `:all:`.
    only_binary: BTreeSet<String>,
    no_binary: BTreeSet<String>,
    /// Newest first, without duplicates.
    versions: RefCell<HashMap<PackageName, Rc<Vec<Version>>>>,
    /// `None` for a release `exclude_newer` leaves without files.
    releases: RefCell<HashMap<Release, Option<Rc<Candidate>>>>,
    metadata: RefCell<HashMap<Release, Rc<DistMetadata>>>,
    /// The packages each chosen (node, version) depends on.
    edges: RefCell<HashMap<(Node, Version), Vec<PackageName>>>,
}

type Constraints = pubgrub::DependencyConstraints<Node, VersionRange>;

/// A package at one version.
type Release = (PackageName, Version);

impl<'a, S: PackageSource + ?Sized> Provider<'a, S> {
    fn new(
        source: &'a S,
        requirements: &RequirementSet,
        target: &'a Target,
        compat: &CompatDb,
        options: &'a ResolveOptions,
    ) -> Result<Provider<'a, S>, LockError> {
        let mut root: BTreeMap<Node, VersionRange> = BTreeMap::new();
        let mut direct: HashMap<PackageName, Vec<DirectLine>> = HashMap::new();
        let mut constraints: HashMap<PackageName, VersionRange> = HashMap::new();
        let mut explicit_prereleases = HashSet::new();
        let mut pins: HashMap<PackageName, Vec<VersionSpecifiers>> = HashMap::new();
        let mut directs: HashMap<PackageName, Rc<DirectDist>> = HashMap::new();
        let mut direct_extras: HashMap<PackageName, BTreeSet<ExtraName>> = HashMap::new();
        for requirement in &requirements.requirements {
            if !requirement.parsed_marker.evaluate(target.markers(), &[]) {
                continue;
            }
            let name = match (&requirement.name, &requirement.url, requirement.editable) {
                (Some(name), None, false) => name.clone(),
                _ => {
                    let dist = read_direct(source, requirement, options)?;
                    let name = dist.metadata.name.clone();
                    if let Some(first) = directs.get(&name) {
                        if first.reference.location != dist.reference.location {
                            return Err(LockError::ConflictingReferences {
                                file: requirement.origin.file.to_path_buf(),
                                line: requirement.origin.line,
                                requirement: requirement.label(),
                                name,
                                places: Box::new((first.reference.shown(), dist.reference.shown())),
                            });
                        }
                    }
                    direct_extras
                        .entry(name.clone())
                        .or_default()
                        .extend(requirement.extras.iter().cloned());
                    directs.entry(name.clone()).or_insert_with(|| Rc::new(dist));
                    name
                }
            };
            let range = VersionRange::from_specifiers(&requirement.specifier);
            if requirement
                .specifier
                .iter()
                .any(|specifier| specifier.version().any_prerelease())
            {
                explicit_prereleases.insert(name.clone());
            }
            if requirement.specifier.iter().any(|specifier| {
                matches!(specifier.operator(), Operator::Equal | Operator::ExactEqual)
            }) {
                pins.entry(name.clone())
                    .or_default()
                    .push(requirement.specifier.clone());
            }
            if requirement.constraint {
                narrow(
                    constraints.entry(name).or_insert_with(VersionRange::full),
                    &range,
                );
                continue;
            }
            direct.entry(name.clone()).or_default().push(DirectLine {
                file: requirement.origin.file.to_path_buf(),
                marker: requirement.marker.clone(),
            });
            for extra in &requirement.extras {
                narrow(
                    root.entry(Node::Extra(name.clone(), extra.clone()))
                        .or_insert_with(VersionRange::full),
                    &range,
                );
            }
            narrow(
                root.entry(Node::Package(name))
                    .or_insert_with(VersionRange::full),
                &range,
            );
        }
        for (node, range) in &mut root {
            if let Node::Package(name) | Node::Extra(name, _) = node {
                if let Some(constraint) = constraints.get(name) {
                    *range = range.intersection(constraint);
                }
            }
        }
        let conflicts = conflict_sets(compat, options.trust_reported)?;
        let mut memberships: HashMap<PackageName, Vec<(usize, usize)>> = HashMap::new();
        for (index, set) in conflicts.iter().enumerate() {
            for (slot, (name, _)) in set.members.iter().enumerate() {
                memberships
                    .entry(name.clone())
                    .or_default()
                    .push((index, slot));
            }
        }
        let mut same_build: HashMap<PackageName, Vec<Arc<str>>> = HashMap::new();
        for rule in same_build_rules(compat, options.trust_reported)? {
            for name in rule.packages {
                same_build
                    .entry(name)
                    .or_default()
                    .push(Arc::clone(&rule.rule));
            }
        }
        Ok(Provider {
            source,
            target,
            options,
            root,
            direct,
            lookahead: Arc::new(Lookahead {
                markers: target.markers().clone(),
                prereleases: options.prereleases,
                explicit_prereleases,
                preferences: options
                    .preferences
                    .iter()
                    .filter(|(name, _)| match &options.upgrade {
                        Upgrade::Nothing => true,
                        Upgrade::All => false,
                        Upgrade::Packages(names) => !names.contains(name),
                    })
                    .map(|(name, version)| (name.clone(), version.clone()))
                    .collect(),
                constraints,
                directs: directs.keys().cloned().collect(),
            }),
            pins,
            conflicts,
            directs,
            direct_extras,
            memberships,
            same_build,
            only_binary: requirements.options.only_binary.clone(),
            no_binary: requirements.options.no_binary.clone(),
            versions: RefCell::default(),
            releases: RefCell::default(),
            metadata: RefCell::default(),
            edges: RefCell::default(),
        })
    }

    /// The versions of `name`, newest first.
    fn versions(&self, name: &PackageName) -> Result<Rc<Vec<Version>>, SourceError> {
        if let Some(found) = self.versions.borrow().get(name) {
            return Ok(Rc::clone(found));
        }
        if let Some(direct) = self.directs.get(name) {
            return Ok(Rc::new(vec![direct.metadata.version.clone()]));
        }
        let mut versions = self.source.versions(name)?;
        versions.sort_unstable_by(|a, b| b.cmp(a));
        versions.dedup();
        let versions = Rc::new(versions);
        self.versions
            .borrow_mut()
            .insert(name.clone(), Rc::clone(&versions));
        Ok(versions)
    }

    /// A release with the files `exclude_newer` keeps; `None` when it
    /// keeps none of a release that had some.
    fn release(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Option<Rc<Candidate>>, SourceError> {
        let key = (name.clone(), version.clone());
        if let Some(found) = self.releases.borrow().get(&key) {
            return Ok(found.clone());
        }
        let mut candidate = match self.directs.get(name) {
            Some(direct) => direct_candidate(direct),
            None => self.source.release(name, version)?,
        };
        let mut kept = true;
        if let Some(cutoff) = self.options.exclude_newer {
            let had_files = !candidate.files.is_empty();
            candidate.files.retain(|file| {
                file.upload_time
                    .as_deref()
                    .and_then(|time| time.parse::<Timestamp>().ok())
                    .is_none_or(|uploaded| uploaded <= cutoff)
            });
            kept = !had_files || !candidate.files.is_empty();
        }
        let release = kept.then(|| Rc::new(candidate));
        self.releases.borrow_mut().insert(key, release.clone());
        Ok(release)
    }

    /// The release a version of `name` stands for; it must exist.
    fn existing_release(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Rc<Candidate>, SourceError> {
        self.release(name, version)?
            .ok_or_else(|| SourceError::UnknownRelease {
                name: name.clone(),
                version: version.clone(),
            })
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Rc<DistMetadata>, SourceError> {
        let key = (name.clone(), version.clone());
        if let Some(found) = self.metadata.borrow().get(&key) {
            return Ok(Rc::clone(found));
        }
        let metadata = match self.directs.get(name) {
            Some(direct) => Rc::new(direct.metadata.clone()),
            None => Rc::new(self.source.metadata(name, version)?),
        };
        self.metadata.borrow_mut().insert(key, Rc::clone(&metadata));
        Ok(metadata)
    }

    fn choose_release(
        &self,
        name: &PackageName,
        range: &VersionRange,
    ) -> Result<Option<Version>, SourceError> {
        let versions = self.versions(name)?;
        pick_version(
            &versions,
            range,
            self.lookahead.allows_prereleases(name),
            self.lookahead.preferences.get(name),
            |version| match self.options.exclude_newer {
                None => Ok(true),
                Some(_) => Ok(self.release(name, version)?.is_some()),
            },
        )
    }

    /// Tell the source which packages `dependencies` will need.
    fn announce(&self, dependencies: &Constraints) {
        let foresight: Arc<dyn Foresight> = self.lookahead.clone();
        for (node, range) in dependencies.iter() {
            let (name, extras) = match node {
                Node::Package(name) => (name, Vec::new()),
                Node::Extra(name, extra) => (name, vec![extra.clone()]),
                _ => continue,
            };
            // A direct reference's metadata is already in hand.
            if self.directs.contains_key(name) {
                continue;
            }
            let wanted = Wanted {
                name: name.clone(),
                range: range.clone(),
                extras,
            };
            self.source.prefetch(wanted, &foresight);
        }
    }

    fn python(&self) -> &Version {
        &self.target.python_full
    }

    /// pip's `FormatControl.get_allowed_formats`: a name beats `:all:`,
    /// `--only-binary` beats `--no-binary`.
    fn is_usable_file(&self, name: &PackageName, file: &DistFile) -> bool {
        let name = name.as_ref();
        let (wheels, sdists) = if self.only_binary.contains(name) {
            (true, false)
        } else if self.no_binary.contains(name) {
            (false, true)
        } else if self.only_binary.contains(":all:") {
            (true, false)
        } else if self.no_binary.contains(":all:") {
            (false, true)
        } else {
            (true, true)
        };
        if file.is_wheel() {
            wheels && self.target.accepts_wheel_file(&file.filename)
        } else {
            sdists
        }
    }

    /// Whether a release cannot be used, and why.
    fn unusable(&self, name: &PackageName, candidate: &Candidate) -> Option<Unusable> {
        if let Some(range) = &candidate.requires_python {
            if !range.contains(self.python()) {
                return Some(Unusable::RequiresPython(range.clone()));
            }
        }
        if !candidate.files.is_empty()
            && !candidate
                .files
                .iter()
                .any(|file| self.is_usable_file(name, file))
        {
            return Some(Unusable::NoInstallableFile);
        }
        let reason = candidate.yanked.as_ref()?;
        let pinned = self.pins.get(name).is_some_and(|pins| {
            pins.iter()
                .any(|pin| VersionRange::from_specifiers(pin).contains(&candidate.version))
        });
        (!pinned).then(|| Unusable::Yanked(reason.clone()))
    }

    /// Add `requirement`'s edges; `Err` when it is not an index requirement.
    fn add_requirement(
        &self,
        requirement: &pep508_rs::Requirement,
        dependencies: &mut BTreeMap<Node, VersionRange>,
    ) -> Result<(), Unusable> {
        let range = match (
            &requirement.version_or_url,
            self.lookahead.admitted(requirement),
        ) {
            (_, Some(range)) => range,
            (Some(VersionOrUrl::Url(url)), None) => match self.directs.get(&requirement.name) {
                Some(direct) if direct.reference.is_same_place(&url.to_string()) => {
                    match self.lookahead.constraints.get(&requirement.name) {
                        Some(constraint) => constraint.clone(),
                        None => VersionRange::full(),
                    }
                }
                _ => return Err(Unusable::DirectReference(requirement.to_string())),
            },
            (_, None) => return Err(Unusable::DirectReference(requirement.to_string())),
        };
        for extra in &requirement.extras {
            narrow(
                dependencies
                    .entry(Node::Extra(requirement.name.clone(), extra.clone()))
                    .or_insert_with(VersionRange::full),
                &range,
            );
        }
        narrow(
            dependencies
                .entry(Node::Package(requirement.name.clone()))
                .or_insert_with(VersionRange::full),
            &range,
        );
        Ok(())
    }

    fn package_dependencies(
        &self,
        name: &PackageName,
        version: &Version,
        extra: Option<&ExtraName>,
    ) -> Result<Dependencies<Node, VersionRange, Unusable>, SourceError> {
        let metadata = self.metadata(name, version)?;
        let mut dependencies = BTreeMap::new();
        match extra {
            None => {
                let mut checked = (*self.existing_release(name, version)?).clone();
                checked.requires_python = checked
                    .requires_python
                    .or_else(|| metadata.requires_python.clone());
                if let Some(reason) = self.unusable(name, &checked) {
                    return Ok(Dependencies::Unavailable(reason));
                }
                for requirement in &metadata.requires_dist {
                    if requirement.marker.evaluate(self.target.markers(), &[]) {
                        if let Err(reason) = self.add_requirement(requirement, &mut dependencies) {
                            return Ok(Dependencies::Unavailable(reason));
                        }
                    }
                }
                self.add_conflict_guards(name, version, &mut dependencies);
                self.add_same_build(name, version, &mut dependencies);
            }
            Some(extra) => {
                dependencies.insert(
                    Node::Package(name.clone()),
                    VersionRange::singleton(version.clone()),
                );
                let extras = std::slice::from_ref(extra);
                for requirement in &metadata.requires_dist {
                    let added_by_extra = requirement.marker.evaluate(self.target.markers(), extras)
                        && !requirement.marker.evaluate(self.target.markers(), &[]);
                    if added_by_extra {
                        if let Err(reason) = self.add_requirement(requirement, &mut dependencies) {
                            return Ok(Dependencies::Unavailable(reason));
                        }
                    }
                }
            }
        }
        if extra.is_none() {
            // A package that requires itself (often with extras) needs no
            // edge to itself; an extra's edge to its base package stays.
            dependencies.remove(&Node::Package(name.clone()));
        }
        Ok(Dependencies::Available(dependencies.into_iter().collect()))
    }

    fn add_conflict_guards(
        &self,
        name: &PackageName,
        version: &Version,
        dependencies: &mut BTreeMap<Node, VersionRange>,
    ) {
        for &(index, slot) in self.memberships.get(name).into_iter().flatten() {
            let set = &self.conflicts[index];
            if set.members[slot].1.holds(version) {
                let own_slot = VersionRange::singleton(conflict_slot(slot));
                dependencies.insert(
                    Node::Conflict(index, Arc::clone(&set.rule)),
                    own_slot.complement(),
                );
            }
        }
    }

    fn add_same_build(
        &self,
        name: &PackageName,
        version: &Version,
        dependencies: &mut BTreeMap<Node, VersionRange>,
    ) {
        if !version.is_local() {
            return;
        }
        let label = Version::new([0]).with_local(version.local().to_vec());
        for rule in self.same_build.get(name).into_iter().flatten() {
            dependencies.insert(
                Node::SameBuild(Arc::clone(rule)),
                VersionRange::singleton(label.clone()),
            );
        }
    }

    fn record_edges(&self, node: &Node, version: &Version, dependencies: &Constraints) {
        let names = dependencies
            .iter()
            .filter_map(|(dependency, _)| match dependency {
                Node::Package(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        self.edges
            .borrow_mut()
            .insert((node.clone(), version.clone()), names);
    }

    fn resolution<'s>(
        &self,
        selected: impl Iterator<Item = (&'s Node, &'s Version)>,
    ) -> Result<Resolution, LockError> {
        let selected: Vec<(&Node, &Version)> = selected.collect();
        let mut parents: HashMap<&PackageName, BTreeSet<Via>> = HashMap::new();
        let edges = self.edges.borrow();
        for (node, version) in &selected {
            let parent = match node {
                Node::Package(name) | Node::Extra(name, _) => name,
                Node::Root | Node::Conflict(..) | Node::SameBuild(_) => continue,
            };
            let key = ((*node).clone(), (*version).clone());
            for child in edges.get(&key).into_iter().flatten() {
                if child != parent {
                    parents
                        .entry(child)
                        .or_default()
                        .insert(Via::Package(parent.clone()));
                }
            }
        }
        let mut packages = Vec::new();
        for (node, version) in selected {
            let Node::Package(name) = node else {
                continue;
            };
            let source_error = |source| LockError::Source {
                package: format!("{name}=={version}"),
                source: Box::new(source),
            };
            let (index, files, direct) = match self.directs.get(name) {
                Some(dist) => (
                    String::new(),
                    Vec::new(),
                    Some(LockedDirect {
                        reference: dist.reference.clone(),
                        hash: dist.hash.clone(),
                        extras: self
                            .direct_extras
                            .get(name)
                            .map(|extras| extras.iter().cloned().collect())
                            .unwrap_or_default(),
                    }),
                ),
                None => {
                    let candidate = self.existing_release(name, version).map_err(source_error)?;
                    (candidate.index.clone(), candidate.files.clone(), None)
                }
            };
            let mut via = parents.remove(name).unwrap_or_default();
            let lines = self.direct.get(name).map(Vec::as_slice).unwrap_or_default();
            via.extend(
                lines
                    .iter()
                    .map(|line| Via::Requirements(line.file.clone())),
            );
            let only_marked_lines = !via.iter().any(|via| matches!(via, Via::Package(_)));
            let markers: BTreeSet<&Option<String>> =
                lines.iter().map(|line| &line.marker).collect();
            let marker = match markers.into_iter().collect::<Vec<_>>().as_slice() {
                [Some(marker)] if only_marked_lines => Some(marker.clone()),
                _ => None,
            };
            packages.push(LockedPackage {
                name: name.clone(),
                version: version.clone(),
                index,
                files,
                direct,
                marker,
                via: via.into_iter().collect(),
            });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Resolution { packages })
    }
}

/// What the resolver knows before it starts that decides its choices: the
/// source uses it to work ahead.
struct Lookahead {
    markers: pep508_rs::MarkerEnvironment,
    /// `--pre`.
    prereleases: bool,
    /// Packages whose requirements or constraints name a pre-release.
    explicit_prereleases: HashSet<PackageName>,
    /// Locked versions to keep (those `--upgrade` releases are left out).
    preferences: BTreeMap<PackageName, Version>,
    /// `-c` constraints.
    constraints: HashMap<PackageName, VersionRange>,
    /// Packages a direct reference provides: no index is asked for them.
    directs: HashSet<PackageName>,
}

impl Lookahead {
    fn allows_prereleases(&self, name: &PackageName) -> bool {
        self.prereleases || self.explicit_prereleases.contains(name)
    }

    /// The versions `requirement` admits within the constraints; `None`
    /// for a URL requirement, which no index release satisfies.
    fn admitted(&self, requirement: &pep508_rs::Requirement) -> Option<VersionRange> {
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
fn read_direct<S: PackageSource + ?Sized>(
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
fn direct_candidate(direct: &DirectDist) -> Candidate {
    let files = direct
        .reference
        .archive_filename()
        .map(|filename| DistFile {
            filename,
            url: direct.reference.remote_url().map(str::to_string),
            hashes: direct.hash.iter().cloned().collect(),
            upload_time: None,
            size: None,
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
fn pick_version(
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
fn conflict_slot(slot: usize) -> Version {
    Version::new([slot as u64 + 1])
}

fn narrow(range: &mut VersionRange, with: &VersionRange) {
    *range = range.intersection(with);
}

impl<S: PackageSource + ?Sized> DependencyProvider for Provider<'_, S> {
    type P = Node;
    type V = Version;
    type VS = VersionRange;
    type M = Unusable;
    type Priority = (u32, u8);
    type Err = SourceError;

    fn prioritize(
        &self,
        package: &Node,
        _range: &VersionRange,
        statistics: &PackageResolutionStatistics,
    ) -> (u32, u8) {
        // Packages that caused conflicts are decided first; conflict guards
        // never need a decision to be useful, so they come last.
        let kind = match package {
            Node::Conflict(..) | Node::SameBuild(_) => 0,
            _ => 1,
        };
        (statistics.conflict_count(), kind)
    }

    fn choose_version(
        &self,
        package: &Node,
        range: &VersionRange,
    ) -> Result<Option<Version>, SourceError> {
        match package {
            Node::Root => Ok(Some(Version::new([0]))),
            Node::Conflict(index, _) => Ok((0..self.conflicts[*index].members.len())
                .rev()
                .map(conflict_slot)
                .find(|slot| range.contains(slot))),
            Node::SameBuild(_) => Ok(range.only_version().cloned()),
            Node::Package(name) | Node::Extra(name, _) => self.choose_release(name, range),
        }
    }

    fn get_dependencies(
        &self,
        package: &Node,
        version: &Version,
    ) -> Result<Dependencies<Node, VersionRange, Unusable>, SourceError> {
        let dependencies = match package {
            Node::Root => Dependencies::Available(
                self.root
                    .iter()
                    .map(|(node, range)| (node.clone(), range.clone()))
                    .collect(),
            ),
            Node::Conflict(..) | Node::SameBuild(_) => {
                Dependencies::Available(Constraints::default())
            }
            Node::Package(name) => self.package_dependencies(name, version, None)?,
            Node::Extra(name, extra) => self.package_dependencies(name, version, Some(extra))?,
        };
        if let Dependencies::Available(edges) = &dependencies {
            self.announce(edges);
            self.record_edges(package, version, edges);
        }
        Ok(dependencies)
    }
}

/// The derivation of an unsatisfiable problem in words, and the compat-db
/// rules it involves with their symptom and fix.
fn explain(tree: &DerivationTree<Node, VersionRange, Unusable>, compat: &CompatDb) -> String {
    let mut text = match tree {
        // Collapsing can leave one edge whose target has no release at all.
        DerivationTree::External(
            external @ External::FromDependencyOf(_, _, dependency, range),
        ) => format!(
            "Because {} and there is no release of {}, the requirements cannot be locked.",
            Explainer.format_external(external),
            term_text(dependency, range),
        ),
        _ => DefaultStringReporter::report_with_formatter(tree, &Explainer),
    };
    let rules: BTreeSet<&str> = tree
        .packages()
        .into_iter()
        .filter_map(|node| match node {
            Node::Conflict(_, rule) | Node::SameBuild(rule) => Some(&**rule),
            _ => None,
        })
        .collect();
    for rule in rules {
        text.push_str(&format!("\n\n{}", rule_note(rule, compat)));
    }
    text
}

fn rule_note(rule: &str, compat: &CompatDb) -> String {
    if let Some(broken) = compat.broken.iter().find(|broken| broken.info.id == rule) {
        let members: Vec<String> = broken
            .packages
            .iter()
            .map(|(name, range)| format!("{name}{range}"))
            .collect();
        return format!(
            "compat-db rule `{rule}`: {} break together: {}\n  fix: {}\n  source: {}",
            members.join(" with "),
            broken.symptom,
            broken.fix,
            broken.info.source
        );
    }
    if let Some(variants) = compat
        .build_variants
        .iter()
        .find(|variants| variants.info.id == rule)
    {
        return format!(
            "compat-db rule `{rule}`: {} must all be the same build (local label){}\n  source: {}",
            variants.packages.join(", "),
            variants
                .symptom
                .as_deref()
                .map(|symptom| format!("; otherwise: {symptom}"))
                .unwrap_or_default(),
            variants.info.source
        );
    }
    match compat.families.iter().find(|family| family.info.id == rule) {
        Some(family) => format!(
            "compat-db rule `{rule}`: {} releases must match{}\n  source: {}",
            family.packages.join(", "),
            family
                .symptom
                .as_deref()
                .map(|symptom| format!(" ({symptom})"))
                .unwrap_or_default(),
            family.info.source
        ),
        None => format!("compat-db rule `{rule}`"),
    }
}

/// Words for PubGrub's derivation: specifiers glued to names, the root as
/// "the requirements", conflict guards as the rule they stand for.
struct Explainer;

fn term_text(node: &Node, range: &VersionRange) -> String {
    match node {
        Node::Package(_) | Node::Extra(..) => format!("{node}{range}"),
        Node::Root | Node::Conflict(..) | Node::SameBuild(_) => node.to_string(),
    }
}

type Terms = Map<Node, Term<VersionRange>>;
type Ext = External<Node, VersionRange, Unusable>;
type Der = Derived<Node, VersionRange, Unusable>;

impl ReportFormatter<Node, VersionRange, Unusable> for Explainer {
    type Output = String;

    fn format_external(&self, external: &Ext) -> String {
        match external {
            External::NotRoot(..) => "we are locking the requirements".to_string(),
            External::NoVersions(Node::Conflict(_, rule), _) => {
                format!("compat-db rule `{rule}` forbids the combination")
            }
            External::NoVersions(node, range) => {
                if range == &VersionRange::full() {
                    format!("there is no release of {node}")
                } else {
                    format!("there is no release of {}", term_text(node, range))
                }
            }
            External::Custom(node, range, reason) => format!("{} {reason}", term_text(node, range)),
            External::FromDependencyOf(Node::Root, _, dependency, range) => {
                format!("the requirements ask for {}", term_text(dependency, range))
            }
            External::FromDependencyOf(node, range, Node::Conflict(_, rule), _) => format!(
                "{} is part of the known-broken combination `{rule}` (compat-db)",
                term_text(node, range)
            ),
            External::FromDependencyOf(node, range, Node::SameBuild(rule), label) => {
                let label = label
                    .only_version()
                    .and_then(local_label)
                    .unwrap_or_default();
                format!(
                    "{} is a `+{label}` build (compat-db rule `{rule}`: one build for all members)",
                    term_text(node, range)
                )
            }
            External::FromDependencyOf(node, range, dependency, dependency_range) => format!(
                "{} depends on {}",
                term_text(node, range),
                term_text(dependency, dependency_range)
            ),
        }
    }

    fn format_terms(&self, terms: &Terms) -> String {
        let mut sorted: Vec<(&Node, &Term<VersionRange>)> = terms.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        match sorted.as_slice() {
            [] => "version solving failed".to_string(),
            [(Node::Root, Term::Positive(_))] => "the requirements cannot be locked".to_string(),
            [(node, Term::Positive(range))] => format!("{} is forbidden", term_text(node, range)),
            [(node, Term::Negative(range))] => format!("{} is required", term_text(node, range)),
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))]
            | [(p2, Term::Negative(r2)), (p1, Term::Positive(r1))] => self.format_external(
                &External::FromDependencyOf((*p1).clone(), r1.clone(), (*p2).clone(), r2.clone()),
            ),
            slice => {
                // An incompatibility {P1, P2, not N1} means: P1 and P2 need N1.
                let positives: Vec<String> = slice
                    .iter()
                    .filter_map(|(node, term)| match term {
                        Term::Positive(range) => Some(term_text(node, range)),
                        Term::Negative(_) => None,
                    })
                    .collect();
                let negatives: Vec<String> = slice
                    .iter()
                    .filter_map(|(node, term)| match (node, term) {
                        (Node::Conflict(_, rule) | Node::SameBuild(rule), Term::Negative(_)) => {
                            Some(format!("compat-db rule `{rule}` to allow it"))
                        }
                        (_, Term::Negative(range)) => Some(term_text(node, range)),
                        (_, Term::Positive(_)) => None,
                    })
                    .collect();
                match (positives.is_empty(), negatives.is_empty()) {
                    (_, true) => format!("{} cannot be locked together", positives.join(" and ")),
                    (true, false) => format!("one of {} is required", negatives.join(", ")),
                    (false, false) => format!(
                        "{} requires {}",
                        positives.join(" and "),
                        negatives.join(" or ")
                    ),
                }
            }
        }
    }

    fn explain_both_external(&self, first: &Ext, second: &Ext, terms: &Terms) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(first),
            self.format_external(second),
            self.format_terms(terms)
        )
    }

    fn explain_both_ref(
        &self,
        first_id: usize,
        first: &Der,
        second_id: usize,
        second: &Der,
        terms: &Terms,
    ) -> String {
        format!(
            "Because {} ({first_id}) and {} ({second_id}), {}.",
            self.format_terms(&first.terms),
            self.format_terms(&second.terms),
            self.format_terms(terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        id: usize,
        derived: &Der,
        external: &Ext,
        terms: &Terms,
    ) -> String {
        format!(
            "Because {} ({id}) and {}, {}.",
            self.format_terms(&derived.terms),
            self.format_external(external),
            self.format_terms(terms)
        )
    }

    fn and_explain_external(&self, external: &Ext, terms: &Terms) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(external),
            self.format_terms(terms)
        )
    }

    fn and_explain_ref(&self, id: usize, derived: &Der, terms: &Terms) -> String {
        format!(
            "And because {} ({id}), {}.",
            self.format_terms(&derived.terms),
            self.format_terms(terms)
        )
    }

    fn and_explain_prior_and_external(&self, prior: &Ext, external: &Ext, terms: &Terms) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior),
            self.format_external(external),
            self.format_terms(terms)
        )
    }
}
