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

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName};
use pubgrub::PubGrubError;

use super::conflicts::ConflictRuleError;
use super::direct::{DirectError, DirectReference};
use super::source::{DistFile, PackageSource, SourceError};
use super::timestamp::Timestamp;
use crate::compat::CompatDb;
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

mod explain;
mod lookahead;
mod provider;

use explain::explain;
use provider::Provider;

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
    /// It requires itself at versions that exclude it (`a 1.0` requiring
    /// `a>=99`): pip's ResolutionImpossible.
    RequiresItself(crate::tree::range::VersionRange),
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
            Unusable::RequiresItself(range) => {
                write!(f, "requires itself at {range}, which it is not")
            }
        }
    }
}
