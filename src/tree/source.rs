//! What the resolver reads: the releases of a package and their metadata.
//! The index client implements [`PackageSource`];
//! [`crate::testing::InMemorySource`] serves tests without any network.

use std::sync::Arc;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName};

use super::direct::{DirectDist, DirectError, DirectReference};
use super::range::VersionRange;
use super::sdist::SdistError;
use crate::index::metadata::{DistMetadata, MetadataError};

pub use crate::index::page::DistFile;

/// One release of a package on one index.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub version: Version,
    /// `Some(reason)` (possibly empty) when the release is yanked (PEP 592).
    pub yanked: Option<String>,
    pub requires_python: Option<VersionSpecifiers>,
    pub files: Vec<DistFile>,
    /// The index URL the release was found on.
    pub index: String,
}

/// The source could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("{name} {version} is not offered by any index")]
    UnknownRelease { name: PackageName, version: Version },
    #[error("the metadata of {name} {version} is unusable: {source}")]
    InvalidMetadata {
        name: PackageName,
        version: Version,
        source: MetadataError,
    },
    #[error("the package index could not be read: {0}")]
    Index(String),
    /// `--offline`, and the cache lacks what the resolver needs.
    #[error("{0}")]
    NotCached(String),
    #[error(transparent)]
    Sdist(#[from] SdistError),
}

/// Where releases and their metadata come from.
///
/// The resolver first asks which versions a package has and reads a
/// release's files only for the versions it considers: a big project has
/// thousands of releases and the resolver looks at a handful.
pub trait PackageSource: Sync {
    /// Every version of `name` on every index in use, in any order. A name
    /// no index knows has none (not an error), so that resolution can
    /// explain which requirement asked for it.
    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, SourceError>;

    /// One release with its files, from the first index that offers it.
    fn release(&self, name: &PackageName, version: &Version) -> Result<Candidate, SourceError>;

    /// The core metadata of one release.
    fn metadata(&self, name: &PackageName, version: &Version) -> Result<DistMetadata, SourceError>;

    /// A hint that the resolver will soon need `wanted`: a source that can
    /// work ahead fetches its versions, lets `foresight` pick the likely
    /// release, fetches that release's metadata and goes on with the
    /// requirements `foresight` reads there, while the resolver works. The
    /// answers must be the ones the other methods give.
    fn prefetch(&self, _wanted: Wanted, _foresight: &Arc<dyn Foresight>) {}

    /// The metadata of a direct reference (a URL, a path, `-e`): read once,
    /// before the resolution starts.
    fn direct(&self, reference: &DirectReference) -> Result<DirectDist, DirectError>;
}

/// A package a requirement asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub name: PackageName,
    pub range: VersionRange,
    pub extras: Vec<ExtraName>,
}

/// What the resolver will most likely choose and require, for sources that
/// work ahead of it.
pub trait Foresight: Send + Sync {
    /// The release the resolver will likely take for `wanted`.
    fn pick(&self, wanted: &Wanted, versions: &[Version]) -> Option<Version>;

    /// The requirements of a release of `wanted` (with its extras) that
    /// apply to the target.
    fn requirements(&self, wanted: &Wanted, metadata: &DistMetadata) -> Vec<Wanted>;
}
