//! The PubGrub dependency provider: the requirements, the compat-db
//! constraints and the source's releases as PubGrub sees them.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, VersionOrUrl};
use pubgrub::{Dependencies, DependencyProvider, PackageResolutionStatistics, VersionSet};

use super::lookahead::{
    conflict_slot, direct_candidate, narrow, pick_version, read_direct, Lookahead,
};
use super::{
    LockError, LockedDirect, LockedPackage, Node, Resolution, ResolveOptions, Unusable, Upgrade,
    Via,
};
use crate::compat::CompatDb;
use crate::index::metadata::DistMetadata;
use crate::requirements::RequirementSet;
use crate::target::Target;
use crate::tree::conflicts::{conflict_sets, same_build_rules, ConflictSet};
use crate::tree::direct::DirectDist;
use crate::tree::range::VersionRange;
use crate::tree::source::{Candidate, DistFile, Foresight, PackageSource, SourceError, Wanted};
use crate::tree::timestamp::Timestamp;

pub(super) struct DirectLine {
    pub(super) file: PathBuf,
    pub(super) marker: Option<String>,
}

pub(super) struct Provider<'a, S: PackageSource + ?Sized> {
    pub(super) source: &'a S,
    pub(super) target: &'a Target,
    pub(super) options: &'a ResolveOptions,
    pub(super) root: BTreeMap<Node, VersionRange>,
    pub(super) direct: HashMap<PackageName, Vec<DirectLine>>,
    /// The choices the source may anticipate.
    pub(super) lookahead: Arc<Lookahead>,
    /// `==`/`===` pins of requirements and constraints: they admit yanked
    /// releases (PEP 592).
    pub(super) pins: HashMap<PackageName, Vec<VersionSpecifiers>>,
    /// The `===` texts of requirements and constraints, as written: a
    /// version is chosen only when its normalized text is each of them.
    pub(super) arbitrary: HashMap<PackageName, Vec<String>>,
    pub(super) conflicts: Vec<ConflictSet>,
    /// Packages a requirement line takes from a URL, a path or `-e`: their
    /// only candidate.
    pub(super) directs: HashMap<PackageName, Rc<DirectDist>>,
    /// The extras the lines of each direct reference ask for.
    pub(super) direct_extras: HashMap<PackageName, BTreeSet<ExtraName>>,
    /// For each package, the conflicts it is a member of and its slot there.
    pub(super) memberships: HashMap<PackageName, Vec<(usize, usize)>>,
    /// For each package, the same-build rules it is a member of.
    pub(super) same_build: HashMap<PackageName, Vec<Arc<str>>>,
    /// `--only-binary` and `--no-binary`, canonical names or `:all:`.
    pub(super) only_binary: BTreeSet<String>,
    pub(super) no_binary: BTreeSet<String>,
    /// `--prefer-binary`: releases with an installable wheel are tried
    /// first (newest first), then the others, as pip orders candidates.
    pub(super) prefer_binary: bool,
    /// Newest first, without duplicates.
    pub(super) versions: RefCell<HashMap<PackageName, Rc<Vec<Version>>>>,
    /// `None` for a release `exclude_newer` leaves without files.
    pub(super) releases: RefCell<HashMap<Release, Option<Rc<Candidate>>>>,
    pub(super) metadata: RefCell<HashMap<Release, Rc<DistMetadata>>>,
    /// The packages each chosen (node, version) depends on.
    pub(super) edges: RefCell<HashMap<(Node, Version), Vec<PackageName>>>,
}

pub(super) type Constraints = pubgrub::DependencyConstraints<Node, VersionRange>;

/// A package at one version.
pub(super) type Release = (PackageName, Version);

impl<'a, S: PackageSource + ?Sized> Provider<'a, S> {
    pub(super) fn new(
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
        let mut arbitrary: HashMap<PackageName, Vec<String>> = HashMap::new();
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
            let range = VersionRange::from_requirement(requirement);
            if !requirement.arbitrary_equality.is_empty() {
                arbitrary
                    .entry(name.clone())
                    .or_default()
                    .extend(requirement.arbitrary_equality.iter().cloned());
            }
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
            arbitrary,
            conflicts,
            directs,
            direct_extras,
            memberships,
            same_build,
            only_binary: requirements.options.only_binary.clone(),
            no_binary: requirements.options.no_binary.clone(),
            prefer_binary: requirements.options.prefer_binary,
            versions: RefCell::default(),
            releases: RefCell::default(),
            metadata: RefCell::default(),
            edges: RefCell::default(),
        })
    }

    /// The versions of `name`, newest first.
    pub(super) fn versions(&self, name: &PackageName) -> Result<Rc<Vec<Version>>, SourceError> {
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
    pub(super) fn release(
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
    pub(super) fn existing_release(
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

    pub(super) fn metadata(
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

    pub(super) fn choose_release(
        &self,
        name: &PackageName,
        range: &VersionRange,
    ) -> Result<Option<Version>, SourceError> {
        let versions = self.versions(name)?;
        let spelled = |version: &Version| {
            self.arbitrary.get(name).is_none_or(|texts| {
                let shown = version.to_string();
                texts.iter().all(|text| shown.eq_ignore_ascii_case(text))
            })
        };
        let usable = |version: &Version| match self.options.exclude_newer {
            _ if !spelled(version) => Ok(false),
            None => Ok(true),
            Some(_) => Ok(self.release(name, version)?.is_some()),
        };
        let prereleases = self.lookahead.allows_prereleases(name);
        let preferred = self.lookahead.preferences.get(name);
        if self.prefer_binary && !self.directs.contains_key(name) {
            // The existing lock's pin stays first, as without the option.
            if let Some(preferred) = preferred {
                let kept = pick_version(&versions, range, prereleases, Some(preferred), |v| {
                    Ok(v == preferred && usable(v)?)
                })?;
                if kept.is_some() {
                    return Ok(kept);
                }
            }
            let with_wheel = pick_version(&versions, range, prereleases, None, |version| {
                Ok(usable(version)? && self.has_installable_wheel(name, version)?)
            })?;
            if with_wheel.is_some() {
                return Ok(with_wheel);
            }
        }
        pick_version(&versions, range, prereleases, preferred, usable)
    }

    /// Whether a release can be used and has a wheel the target installs.
    fn has_installable_wheel(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<bool, SourceError> {
        let Some(candidate) = self.release(name, version)? else {
            return Ok(false);
        };
        Ok(self
            .unusable(name, &candidate, candidate.requires_python.as_ref())
            .is_none()
            && candidate
                .files
                .iter()
                .any(|file| file.is_wheel() && self.is_usable_file(name, file)))
    }

    /// Tell the source which packages `dependencies` will need.
    pub(super) fn announce(&self, dependencies: &Constraints) {
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

    pub(super) fn python(&self) -> &Version {
        &self.target.python_full
    }

    /// pip's `FormatControl.get_allowed_formats`: a name beats `:all:`,
    /// `--only-binary` beats `--no-binary`.
    pub(super) fn is_usable_file(&self, name: &PackageName, file: &DistFile) -> bool {
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
    /// `requires_python` is the release's: the page's, else the metadata's.
    fn unusable(
        &self,
        name: &PackageName,
        candidate: &Candidate,
        requires_python: Option<&VersionSpecifiers>,
    ) -> Option<Unusable> {
        if let Some(range) = requires_python {
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
    pub(super) fn add_requirement(
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

    pub(super) fn package_dependencies(
        &self,
        name: &PackageName,
        version: &Version,
        extra: Option<&ExtraName>,
    ) -> Result<Dependencies<Node, VersionRange, Unusable>, SourceError> {
        let metadata = self.metadata(name, version)?;
        let mut dependencies = BTreeMap::new();
        match extra {
            None => {
                let release = self.existing_release(name, version)?;
                let requires_python = release
                    .requires_python
                    .as_ref()
                    .or(metadata.requires_python.as_ref());
                if let Some(reason) = self.unusable(name, &release, requires_python) {
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
            // A package that requires itself (often with extras, the
            // legitimate use) needs no edge to itself when the release
            // satisfies it; when it does not, the release cannot be used.
            // An extra's edge to its base package stays.
            if let Some(range) = dependencies.remove(&Node::Package(name.clone())) {
                if !range.contains(version) {
                    return Ok(Dependencies::Unavailable(Unusable::RequiresItself(range)));
                }
            }
        }
        Ok(Dependencies::Available(dependencies.into_iter().collect()))
    }

    pub(super) fn add_conflict_guards(
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

    pub(super) fn add_same_build(
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

    pub(super) fn record_edges(&self, node: &Node, version: &Version, dependencies: &Constraints) {
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

    pub(super) fn resolution<'s>(
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
