//! A [`PackageSource`] held in memory, read from the TOML fixtures under
//! `tests/fixtures/lock/`: the resolver's tests run without any network.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, Requirement};
use serde::Deserialize;

use crate::index::metadata::DistMetadata;
use crate::tree::direct::{DirectDist, DirectError, DirectReference};
use crate::tree::source::{Candidate, DistFile, PackageSource, SourceError};

/// Releases and metadata held in memory.
#[derive(Debug, Clone, Default)]
pub struct InMemorySource {
    releases: BTreeMap<PackageName, Vec<(Candidate, DistMetadata)>>,
    /// Direct references by the URL or path as written.
    direct: BTreeMap<String, (DistMetadata, Option<String>)>,
}

impl InMemorySource {
    pub fn add(&mut self, candidate: Candidate, metadata: DistMetadata) {
        self.releases
            .entry(metadata.name.clone())
            .or_default()
            .push((candidate, metadata));
    }

    /// Serve `metadata` (and the archive's `hash`) for the direct reference
    /// written `given`.
    pub fn add_direct(&mut self, given: &str, metadata: DistMetadata, hash: Option<String>) {
        self.direct.insert(given.to_string(), (metadata, hash));
    }

    /// Read the fixture format (TOML):
    ///
    /// ```toml
    /// default-index = "https://pkgs.example.invalid/simple"
    ///
    /// [[release]]
    /// name = "a"
    /// version = "1.0"
    /// requires-dist = ["b>=1,<2", "c; extra == 'fast'"]
    /// provides-extra = ["fast"]          # optional
    /// requires-python = ">=3.8"          # optional
    /// yanked = "broken build"            # optional
    /// index = "https://other.invalid/"   # optional, else default-index
    /// files = [{ filename = "a-1.0-py3-none-any.whl", hashes = ["sha256:..."], upload-time = "2024-01-01T00:00:00Z" }]
    /// ```
    ///
    /// Instead of `requires-dist`, `provides-extra` and `requires-python`, a
    /// release may give its whole core metadata as `metadata = """..."""`.
    pub fn from_fixture(text: &str) -> Result<InMemorySource, FixtureError> {
        let fixture: Fixture = toml::from_str(text).map_err(|err| FixtureError {
            message: err.message().to_string(),
        })?;
        let mut source = InMemorySource::default();
        for release in fixture.release {
            let invalid = |what: &str, err: String| FixtureError {
                message: format!(
                    "{} {}: invalid {what}: {err}",
                    release.name, release.version
                ),
            };
            let name = PackageName::from_str(&release.name)
                .map_err(|err| invalid("name", err.to_string()))?;
            let version = Version::from_str(&release.version)
                .map_err(|err| invalid("version", err.to_string()))?;
            let requires_python = release
                .requires_python
                .as_deref()
                .map(VersionSpecifiers::from_str)
                .transpose()
                .map_err(|err| invalid("requires-python", err.to_string()))?;
            let requires_dist = release
                .requires_dist
                .iter()
                .map(|text| Requirement::from_str(text))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| invalid("requires-dist", err.message.to_string()))?;
            let provides_extra = release
                .provides_extra
                .iter()
                .map(|text| ExtraName::from_str(text))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| invalid("provides-extra", err.to_string()))?;
            let candidate = Candidate {
                version: version.clone(),
                yanked: release.yanked,
                requires_python: requires_python.clone(),
                files: release
                    .files
                    .into_iter()
                    .map(|file| DistFile {
                        url: file.url,
                        hashes: file
                            .hashes
                            .iter()
                            .filter_map(|hash| hash.split_once(':'))
                            .map(|(algorithm, digest)| (algorithm.to_string(), digest.to_string()))
                            .collect(),
                        upload_time: file.upload_time,
                        size: file.size,
                        ..DistFile::named(&file.filename)
                    })
                    .collect(),
                index: release
                    .index
                    .unwrap_or_else(|| fixture.default_index.clone()),
            };
            let metadata = match &release.metadata {
                Some(text) => {
                    let parsed = DistMetadata::parse(text)
                        .map_err(|err| invalid("metadata", err.to_string()))?;
                    if parsed.name != name || parsed.version != version {
                        return Err(invalid(
                            "metadata",
                            format!("it describes {} {}", parsed.name, parsed.version),
                        ));
                    }
                    parsed
                }
                None => DistMetadata {
                    name,
                    version,
                    requires_dist,
                    requires_python: requires_python.clone(),
                    provides_extra,
                    metadata_version: Some("2.1".to_string()),
                    dynamic: Vec::new(),
                },
            };
            let candidate = Candidate {
                requires_python: candidate
                    .requires_python
                    .or_else(|| metadata.requires_python.clone()),
                ..candidate
            };
            source.add(candidate, metadata);
        }
        Ok(source)
    }
}

impl InMemorySource {
    /// Every release of `name`, in the order they were added.
    pub fn releases(&self, name: &PackageName) -> Vec<Candidate> {
        self.releases
            .get(name)
            .map(|releases| {
                releases
                    .iter()
                    .map(|(candidate, _)| candidate.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn find(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<&(Candidate, DistMetadata), SourceError> {
        self.releases
            .get(name)
            .and_then(|releases| {
                releases
                    .iter()
                    .find(|(candidate, _)| &candidate.version == version)
            })
            .ok_or_else(|| SourceError::UnknownRelease {
                name: name.clone(),
                version: version.clone(),
            })
    }
}

impl PackageSource for InMemorySource {
    fn versions(&self, name: &PackageName) -> Result<Vec<Version>, SourceError> {
        Ok(self
            .releases(name)
            .into_iter()
            .map(|candidate| candidate.version)
            .collect())
    }

    fn release(&self, name: &PackageName, version: &Version) -> Result<Candidate, SourceError> {
        self.find(name, version)
            .map(|(candidate, _)| candidate.clone())
    }

    fn metadata(&self, name: &PackageName, version: &Version) -> Result<DistMetadata, SourceError> {
        self.find(name, version)
            .map(|(_, metadata)| metadata.clone())
    }

    fn direct(&self, reference: &DirectReference) -> Result<DirectDist, DirectError> {
        let (metadata, hash) =
            self.direct
                .get(&reference.given)
                .ok_or_else(|| DirectError::Read {
                    what: reference.shown(),
                    reason: "the source holds no such distribution".into(),
                })?;
        Ok(DirectDist {
            reference: reference.clone(),
            metadata: metadata.clone(),
            hash: hash.clone(),
        })
    }
}

/// A fixture file that does not follow the format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid source fixture: {message}")]
pub struct FixtureError {
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Fixture {
    default_index: String,
    #[serde(default)]
    release: Vec<FixtureRelease>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FixtureRelease {
    name: String,
    version: String,
    #[serde(default)]
    requires_dist: Vec<String>,
    #[serde(default)]
    provides_extra: Vec<String>,
    requires_python: Option<String>,
    yanked: Option<String>,
    index: Option<String>,
    #[serde(default)]
    files: Vec<FixtureFile>,
    metadata: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FixtureFile {
    filename: String,
    url: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    upload_time: Option<String>,
    size: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_a_fixture_and_serves_it() {
        let source = InMemorySource::from_fixture(
            r#"
default-index = "https://pkgs.example.invalid/simple"
[[release]]
name = "Foo_Bar"
version = "1.0"
requires-dist = ["baz>=2; extra == 'x'"]
provides-extra = ["x"]
files = [{ filename = "foo_bar-1.0-py3-none-any.whl", hashes = ["sha256:00"] }]
[[release]]
name = "foo-bar"
version = "2.0+cu121"
index = "https://gpu.example.invalid/whl"
"#,
        )
        .expect("valid fixture");
        let name = PackageName::from_str("foo-bar").expect("valid name");
        let candidates = source.releases(&name);
        assert_eq!(candidates.len(), 2);
        assert!(candidates[0].files[0].is_wheel());
        assert_eq!(candidates[1].index, "https://gpu.example.invalid/whl");
        let version = Version::from_str("1.0").expect("valid version");
        let metadata = source.metadata(&name, &version).expect("known release");
        assert_eq!(metadata.requires_dist.len(), 1);
        let unknown = PackageName::from_str("nothing").expect("valid name");
        assert!(source.versions(&unknown).expect("in memory").is_empty());
        let cuda = Version::from_str("2.0+cu121").expect("valid version");
        let release = source.release(&name, &cuda).expect("known release");
        assert_eq!(release.index, "https://gpu.example.invalid/whl");
    }

    #[test]
    fn rejects_bad_fixtures() {
        let err = InMemorySource::from_fixture(
            "default-index = \"x\"\n[[release]]\nname = \"a\"\nversion = \"one\"\n",
        )
        .expect_err("bad version");
        assert!(err.message.contains("invalid version"), "{err}");
    }
}
