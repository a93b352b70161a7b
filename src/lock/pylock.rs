//! PEP 751 `pylock.toml`: the same pins as the requirements lockfile, and a
//! reader so that other commands (a later `reqlock audit pylock.toml`) can
//! use a lock written by any tool.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;

use pep508_rs::pep440_rs::Version;
use pep508_rs::PackageName;
use serde::Deserialize;

use super::output::{header_lines, without_credentials};
use super::resolve::{LockedDirect, Resolution};
use super::source::DistFile;

/// A TOML basic string, escaped.
fn quoted(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// `{ sha256 = "..." }` from `["sha256:..."]`, algorithms sorted.
fn hash_table(hashes: &[String]) -> String {
    let by_algorithm: BTreeMap<&str, &str> = hashes
        .iter()
        .filter_map(|hash| hash.split_once(':'))
        .collect();
    let entries: Vec<String> = by_algorithm
        .iter()
        .map(|(algorithm, digest)| format!("{algorithm} = {}", quoted(digest)))
        .collect();
    format!("{{ {} }}", entries.join(", "))
}

fn file_entry(text: &mut String, table: &str, file: &DistFile) {
    let _ = writeln!(text, "{table}");
    let _ = writeln!(text, "name = {}", quoted(&file.filename));
    if let Some(time) = &file.upload_time {
        // An offset date-time, unquoted, as PEP 751 asks; a value that is
        // not one is left out rather than written as a string.
        if time.parse::<toml::value::Datetime>().is_ok() {
            let _ = writeln!(text, "upload-time = {time}");
        }
    }
    if let Some(url) = &file.url {
        let _ = writeln!(text, "url = {}", quoted(&without_credentials(url)));
    }
    let _ = writeln!(text, "hashes = {}", hash_table(&file.hashes));
}

/// `[packages.archive]` or `[packages.directory]` of a direct reference;
/// local paths are relative to `lock_dir`, the lock file's folder, as PEP
/// 751 reads them.
fn direct_entry(text: &mut String, direct: &LockedDirect, lock_dir: &Path) {
    let reference = &direct.reference;
    if reference.is_directory() {
        text.push_str("[packages.directory]\n");
        if let Some(path) = reference.path_from(lock_dir) {
            let _ = writeln!(text, "path = {}", quoted(&path));
        }
        let _ = writeln!(text, "editable = {}", reference.editable);
        return;
    }
    text.push_str("[packages.archive]\n");
    match (reference.remote_url(), reference.path_from(lock_dir)) {
        (Some(url), _) => {
            let _ = writeln!(text, "url = {}", quoted(&without_credentials(url)));
        }
        (None, Some(path)) => {
            let _ = writeln!(text, "path = {}", quoted(&path));
        }
        (None, None) => {}
    }
    let hashes: Vec<String> = direct.hash.iter().cloned().collect();
    let _ = writeln!(text, "hashes = {}", hash_table(&hashes));
}

/// The `pylock.toml` text. `requires_python` is the target's Python
/// (`==3.11.*`, say), recorded so that installers refuse other ones.
/// `lock_dir` is the folder the lock is written to.
pub fn write_pylock(
    resolution: &Resolution,
    command: &str,
    requires_python: &str,
    lock_dir: &Path,
) -> String {
    let mut text = String::new();
    for line in header_lines(command) {
        let _ = writeln!(text, "{}", format!("# {line}").trim_end());
    }
    text.push_str("\nlock-version = \"1.0\"\n");
    text.push_str("created-by = \"reqlock\"\n");
    let _ = writeln!(text, "requires-python = {}", quoted(requires_python));
    for package in &resolution.packages {
        text.push_str("\n[[packages]]\n");
        let _ = writeln!(text, "name = {}", quoted(package.name.as_ref()));
        // PEP 751: no version for a source tree, whose code may change.
        let is_tree = package
            .direct
            .as_ref()
            .is_some_and(|direct| direct.reference.is_directory());
        if !is_tree {
            let _ = writeln!(text, "version = {}", quoted(&package.version.to_string()));
        }
        if let Some(marker) = &package.marker {
            let _ = writeln!(text, "marker = {}", quoted(marker));
        }
        if let Some(direct) = &package.direct {
            direct_entry(&mut text, direct, lock_dir);
            continue;
        }
        let _ = writeln!(
            text,
            "index = {}",
            quoted(&without_credentials(&package.index))
        );
        let (wheels, sdists): (Vec<&DistFile>, Vec<&DistFile>) =
            package.files.iter().partition(|file| file.is_wheel());
        if let Some(sdist) = sdists.first() {
            file_entry(&mut text, "[packages.sdist]", sdist);
        }
        for wheel in wheels {
            file_entry(&mut text, "[[packages.wheels]]", wheel);
        }
    }
    text
}

/// A `pylock.toml` as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pylock {
    pub lock_version: String,
    pub requires_python: Option<String>,
    pub packages: Vec<PylockPackage>,
}

/// One `[[packages]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PylockPackage {
    pub name: PackageName,
    /// Absent for packages locked from a directory or VCS checkout.
    pub version: Option<Version>,
    pub marker: Option<String>,
    pub index: Option<String>,
    pub sdist: Option<PylockFile>,
    pub wheels: Vec<PylockFile>,
}

/// A wheel or sdist entry, hashes as `algorithm:hex`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PylockFile {
    pub name: Option<String>,
    pub url: Option<String>,
    pub upload_time: Option<String>,
    pub hashes: Vec<String>,
}

/// A `pylock.toml` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PylockError {
    #[error("not a valid pylock.toml: {0}")]
    Syntax(String),
    #[error("lock-version {0} is not supported (reqlock reads 1.x)")]
    UnsupportedVersion(String),
    #[error("package `{package}`: {message}")]
    InvalidPackage { package: String, message: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawPylock {
    lock_version: String,
    requires_python: Option<String>,
    #[serde(default)]
    packages: Vec<RawPackage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawPackage {
    name: String,
    version: Option<String>,
    marker: Option<String>,
    index: Option<String>,
    sdist: Option<RawFile>,
    #[serde(default)]
    wheels: Vec<RawFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawFile {
    name: Option<String>,
    url: Option<String>,
    upload_time: Option<toml::value::Datetime>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
}

impl RawFile {
    fn into_file(self) -> PylockFile {
        PylockFile {
            name: self.name,
            url: self.url,
            upload_time: self.upload_time.map(|time| time.to_string()),
            hashes: self
                .hashes
                .into_iter()
                .map(|(algorithm, digest)| format!("{algorithm}:{digest}"))
                .collect(),
        }
    }
}

impl Pylock {
    /// Parse `pylock.toml` text; keys this reader does not need are ignored,
    /// as PEP 751 allows tools to add them.
    pub fn parse(text: &str) -> Result<Pylock, PylockError> {
        let raw: RawPylock =
            toml::from_str(text).map_err(|err| PylockError::Syntax(err.message().to_string()))?;
        if raw.lock_version.split('.').next() != Some("1") {
            return Err(PylockError::UnsupportedVersion(raw.lock_version));
        }
        let mut packages = Vec::new();
        for package in raw.packages {
            let invalid = |message: String| PylockError::InvalidPackage {
                package: package.name.clone(),
                message,
            };
            let name = PackageName::from_str(&package.name)
                .map_err(|err| invalid(format!("invalid name: {err}")))?;
            let version = package
                .version
                .as_deref()
                .map(Version::from_str)
                .transpose()
                .map_err(|err| invalid(format!("invalid version: {err}")))?;
            packages.push(PylockPackage {
                name,
                version,
                marker: package.marker,
                index: package.index,
                sdist: package.sdist.map(RawFile::into_file),
                wheels: package.wheels.into_iter().map(RawFile::into_file).collect(),
            });
        }
        Ok(Pylock {
            lock_version: raw.lock_version,
            requires_python: raw.requires_python,
            packages,
        })
    }

    /// The locked versions, to keep as preferences when locking again.
    pub fn preferences(&self) -> BTreeMap<PackageName, Version> {
        self.packages
            .iter()
            .filter_map(|package| Some((package.name.clone(), package.version.clone()?)))
            .collect()
    }
}

/// Whether a path names a PEP 751 lock file (`pylock.toml`, `pylock.NAME.toml`).
pub fn is_pylock_path(path: &std::path::Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| {
            name == "pylock.toml" || (name.starts_with("pylock.") && name.ends_with(".toml"))
        })
}

impl Pylock {
    /// The lock as exact pins, so that `reqlock audit` checks it like a
    /// hashed requirements lockfile; each pin points at the line of its
    /// `name = "..."`.
    pub fn to_requirement_set(
        &self,
        file: &std::path::Path,
        text: &str,
    ) -> crate::requirements::RequirementSet {
        let shared: std::sync::Arc<std::path::Path> = std::sync::Arc::from(file);
        let mut set = crate::requirements::RequirementSet {
            files: vec![file.to_path_buf()],
            ..Default::default()
        };
        let mut search_from = 0;
        for package in &self.packages {
            let needle = format!("name = \"{}\"", package.name);
            let line = match text[search_from..].find(&needle) {
                Some(found) => {
                    search_from += found + needle.len();
                    text[..search_from].matches('\n').count() + 1
                }
                None => 0,
            };
            let specifier = package
                .version
                .as_ref()
                .and_then(|version| format!("=={version}").parse().ok())
                .unwrap_or_else(pep508_rs::pep440_rs::VersionSpecifiers::empty);
            let parsed_marker = package
                .marker
                .as_deref()
                .and_then(|marker| pep508_rs::MarkerTree::from_str(marker).ok())
                .unwrap_or(pep508_rs::MarkerTree::TRUE);
            let hashes = package
                .sdist
                .iter()
                .chain(&package.wheels)
                .flat_map(|file| file.hashes.iter().cloned())
                .collect();
            set.requirements.push(crate::requirements::Requirement {
                name: Some(package.name.clone()),
                display_name: Some(package.name.to_string()),
                specifier,
                extras: Vec::new(),
                marker: package.marker.clone(),
                parsed_marker,
                url: None,
                editable: false,
                constraint: false,
                hashes,
                config_settings: Vec::new(),
                global_options: Vec::new(),
                origin: crate::requirements::Origin {
                    file: shared.clone(),
                    line,
                    column: 1,
                },
                ignored_rules: Vec::new(),
            });
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_other_tools_write() {
        let text = r#"
lock-version = "1.0"
created-by = "another-tool"
environments = ["sys_platform == 'linux'"]

[[packages]]
name = "Attrs"
version = "23.2.0"
index = "https://pkgs.example.invalid/simple"
[[packages.wheels]]
name = "attrs-23.2.0-py3-none-any.whl"
upload-time = 2023-12-31T12:00:00Z
url = "https://files.example.invalid/attrs-23.2.0-py3-none-any.whl"
size = 60752
hashes = { sha256 = "99b87a485a5820b23b879f04c2305b44b951b502fd64be915879d77a7e8fc6f1" }
[packages.tool.other]
note = "kept by its tool"

[[packages]]
name = "local-thing"
directory = { path = "./src/thing" }
"#;
        let lock = Pylock::parse(text).expect("valid pylock");
        assert_eq!(lock.packages.len(), 2);
        let attrs = &lock.packages[0];
        assert_eq!(attrs.name.as_ref(), "attrs");
        assert_eq!(
            attrs.wheels[0].upload_time.as_deref(),
            Some("2023-12-31T12:00:00Z")
        );
        assert_eq!(attrs.wheels[0].hashes.len(), 1);
        assert_eq!(lock.packages[1].version, None);
        assert_eq!(lock.preferences().len(), 1);
    }

    #[test]
    fn refuses_other_major_versions() {
        assert_eq!(
            Pylock::parse("lock-version = \"2.0\"\n"),
            Err(PylockError::UnsupportedVersion("2.0".to_string()))
        );
    }
}
