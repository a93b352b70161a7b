//! PEP 751 `pylock.toml`: the same pins as the requirements lockfile, and a
//! reader so that other commands (`reqlock audit pylock.toml`) can use a
//! lock written by any tool: index pins, and the archive, directory and VCS
//! entries of direct references, each read as the requirement line pip
//! would need for it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr;

use pep508_rs::pep440_rs::Version;
use pep508_rs::PackageName;
use serde::Deserialize;

use super::requirements_txt::header_lines;
use crate::tree::resolve::{LockedDirect, Resolution};
use crate::tree::source::DistFile;

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
        let _ = writeln!(text, "url = {}", quoted(&crate::redact::text(url)));
    }
    let hashes: Vec<String> = file.sha256().into_iter().collect();
    let _ = writeln!(text, "hashes = {}", hash_table(&hashes));
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
            let _ = writeln!(text, "url = {}", quoted(&crate::redact::text(url)));
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
            quoted(&crate::redact::text(&package.index))
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
    pub archive: Option<PylockArchive>,
    pub directory: Option<PylockDirectory>,
    pub vcs: Option<PylockVcs>,
}

/// `[packages.archive]`: a wheel or sdist named by URL or by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PylockArchive {
    pub url: Option<String>,
    /// Relative to the lock file's folder.
    pub path: Option<String>,
    /// `algorithm:hex`.
    pub hashes: Vec<String>,
    /// The project's folder inside the archive.
    pub subdirectory: Option<String>,
}

/// `[packages.directory]`: a local source tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PylockDirectory {
    /// Relative to the lock file's folder.
    pub path: String,
    pub editable: bool,
    pub subdirectory: Option<String>,
}

/// `[packages.vcs]`: a commit of a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PylockVcs {
    /// `git`, `hg`, `svn` or `bzr`.
    pub kind: String,
    pub url: Option<String>,
    /// A local checkout, relative to the lock file's folder.
    pub path: Option<String>,
    pub commit_id: String,
    pub subdirectory: Option<String>,
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
    archive: Option<RawArchive>,
    directory: Option<RawDirectory>,
    vcs: Option<RawVcs>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawArchive {
    url: Option<String>,
    path: Option<String>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    subdirectory: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawDirectory {
    path: String,
    #[serde(default)]
    editable: bool,
    subdirectory: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawVcs {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    path: Option<String>,
    commit_id: String,
    subdirectory: Option<String>,
}

/// `algorithm:hex` from PEP 751's `{ algorithm = "hex" }`.
fn hash_list(hashes: BTreeMap<String, String>) -> Vec<String> {
    hashes
        .into_iter()
        .map(|(algorithm, digest)| format!("{algorithm}:{digest}"))
        .collect()
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
            hashes: hash_list(self.hashes),
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
                archive: package.archive.map(|archive| PylockArchive {
                    url: archive.url,
                    path: archive.path,
                    hashes: hash_list(archive.hashes),
                    subdirectory: archive.subdirectory,
                }),
                directory: package.directory.map(|directory| PylockDirectory {
                    path: directory.path,
                    editable: directory.editable,
                    subdirectory: directory.subdirectory,
                }),
                vcs: package.vcs.map(|vcs| PylockVcs {
                    kind: vcs.kind,
                    url: vcs.url,
                    path: vcs.path,
                    commit_id: vcs.commit_id,
                    subdirectory: vcs.subdirectory,
                }),
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

/// What a pylock entry installs, as a requirement line says it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Source {
    /// `None` for a release from an index.
    url: Option<String>,
    editable: bool,
    hashes: Vec<String>,
}

/// `path` (relative to the lock file's folder, as PEP 751 reads it) as
/// pip reads a requirement's path: relative to the current folder, and
/// spelled so that it cannot be taken for a project name.
fn path_from_lock(lock_file: &Path, path: &str, subdirectory: Option<&str>) -> String {
    let mut joined = lock_file.parent().unwrap_or(Path::new("")).join(path);
    if let Some(subdirectory) = subdirectory {
        joined.push(subdirectory);
    }
    // Folded by name, as `lock` wrote the path (see `DirectReference::path_from`).
    let mut clean = std::path::PathBuf::new();
    for part in joined.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir
                if matches!(
                    clean.components().next_back(),
                    Some(std::path::Component::Normal(_))
                ) =>
            {
                clean.pop();
            }
            part => clean.push(part),
        }
    }
    let text = clean.to_string_lossy().replace('\\', "/");
    if clean.is_absolute() || text.starts_with("../") {
        text
    } else if text.is_empty() {
        ".".to_string()
    } else {
        format!("./{text}")
    }
}

/// `url` with pip's `#subdirectory=` fragment, when there is one.
fn with_subdirectory(url: &str, subdirectory: Option<&str>) -> String {
    match subdirectory {
        Some(subdirectory) => format!("{url}#subdirectory={subdirectory}"),
        None => url.to_string(),
    }
}

impl PylockPackage {
    /// What this entry installs, or why no requirement line can say it.
    fn source(&self, lock_file: &Path) -> Result<Source, String> {
        if let Some(vcs) = &self.vcs {
            let repository = match (&vcs.url, &vcs.path) {
                (Some(url), _) => url.clone(),
                (None, Some(path)) => {
                    let local = path_from_lock(lock_file, path, None);
                    let absolute = std::path::absolute(&local).map_err(|err| err.to_string())?;
                    reqwest::Url::from_file_path(&absolute)
                        .map_err(|()| format!("`{}` is not a usable path", absolute.display()))?
                        .to_string()
                }
                (None, None) => {
                    return Err("its [packages.vcs] gives neither `url` nor `path`".to_string())
                }
            };
            let url = format!("{}+{repository}@{}", vcs.kind, vcs.commit_id);
            return Ok(Source {
                url: Some(with_subdirectory(&url, vcs.subdirectory.as_deref())),
                editable: false,
                hashes: Vec::new(),
            });
        }
        if let Some(directory) = &self.directory {
            return Ok(Source {
                url: Some(path_from_lock(
                    lock_file,
                    &directory.path,
                    directory.subdirectory.as_deref(),
                )),
                editable: directory.editable,
                hashes: Vec::new(),
            });
        }
        if let Some(archive) = &self.archive {
            let url = match (&archive.url, &archive.path) {
                (Some(url), _) => with_subdirectory(url, archive.subdirectory.as_deref()),
                // pip reads a subdirectory only from a URL's fragment.
                (None, Some(path)) if archive.subdirectory.is_some() => {
                    return Err(format!(
                        "its archive `{path}` builds from the subdirectory `{}`, which a requirement line can only give on a URL",
                        archive.subdirectory.as_deref().unwrap_or_default()
                    ))
                }
                (None, Some(path)) => path_from_lock(lock_file, path, None),
                (None, None) => {
                    return Err("its [packages.archive] gives neither `url` nor `path`".to_string())
                }
            };
            return Ok(Source {
                url: Some(url),
                editable: false,
                hashes: archive.hashes.clone(),
            });
        }
        if self.version.is_none() && self.sdist.is_none() && self.wheels.is_empty() {
            return Err("it has no version and no archive, directory, VCS, sdist or wheels entry to install from".to_string());
        }
        Ok(Source {
            url: None,
            editable: false,
            hashes: self
                .sdist
                .iter()
                .chain(&self.wheels)
                .flat_map(|file| file.hashes.iter().cloned())
                .collect(),
        })
    }
}

impl Pylock {
    /// The lock as requirement lines, so that `reqlock audit` checks it like
    /// a hashed requirements lockfile: an index release as an exact pin
    /// with its files' hashes, an archive as `name @ url` (or its path)
    /// with its hashes, a directory as its path (`-e` when editable), a VCS
    /// entry as `name @ type+url@commit`. Each points at the line of its
    /// `name = "..."`. An entry no requirement line can express is left
    /// out with a warning in the set's `warnings`.
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
            let source = match package.source(file) {
                Ok(source) => source,
                Err(reason) => {
                    set.warnings.push(crate::diagnostic::Diagnostic::at(
                        crate::diagnostic::Severity::Warning,
                        crate::diagnostic::Location {
                            file: std::sync::Arc::from(file),
                            line,
                            column: 0,
                        },
                        format!(
                            "package `{}` is left out of the audit: {reason}",
                            package.name
                        ),
                        Some(
                            "check this entry by hand, or lock it again with `reqlock lock --format pylock`".to_string(),
                        ),
                    ));
                    continue;
                }
            };
            // pip takes no version with a URL or a path: the reference
            // itself says what is installed.
            let specifier = package
                .version
                .as_ref()
                .filter(|_| source.url.is_none())
                .and_then(|version| format!("=={version}").parse().ok())
                .unwrap_or_else(pep508_rs::pep440_rs::VersionSpecifiers::empty);
            let parsed_marker = package
                .marker
                .as_deref()
                .filter(|marker| crate::requirements::guard::too_deeply_nested(marker).is_none())
                .and_then(|marker| pep508_rs::MarkerTree::from_str(marker).ok())
                .unwrap_or(pep508_rs::MarkerTree::TRUE);
            set.requirements.push(crate::requirements::Requirement {
                name: Some(package.name.clone()),
                display_name: Some(package.name.to_string()),
                specifier,
                arbitrary_equality: Vec::new(),
                extras: Vec::new(),
                marker: package.marker.clone(),
                parsed_marker,
                url: source.url,
                editable: source.editable,
                constraint: false,
                hashes: source.hashes,
                config_settings: Vec::new(),
                global_options: Vec::new(),
                origin: crate::diagnostic::Location {
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
    fn direct_references_read_as_the_requirement_lines_pip_needs() {
        let text = r#"
lock-version = "1.0"

[[packages]]
name = "tool"
version = "1.0"
[packages.archive]
url = "https://files.example.invalid/tool-1.0-py3-none-any.whl"
hashes = { sha256 = "aa" }

[[packages]]
name = "local-wheel"
version = "1.0"
archive = { path = "./vendor/local_wheel-1.0-py3-none-any.whl", hashes = { sha256 = "bb" } }

[[packages]]
name = "mypkg"
directory = { path = "../libs/mypkg", editable = true }

[[packages]]
name = "from-git"
version = "2.0"
vcs = { type = "git", url = "https://vcs.example.invalid/o/r.git", commit-id = "0123456789abcdef0123456789abcdef01234567", subdirectory = "py" }

[[packages]]
name = "vendored"
archive = { path = "vendor/src.tar.gz", subdirectory = "py", hashes = { sha256 = "cc" } }

[[packages]]
name = "nothing"
"#;
        let lock = Pylock::parse(text).expect("valid pylock");
        let set = lock.to_requirement_set(Path::new("locks/pylock.toml"), text);
        // Name, URL or path, editable, hashes, specifier.
        type Line<'a> = (String, Option<&'a str>, bool, &'a [String], String);
        let read: Vec<Line> = set
            .requirements
            .iter()
            .map(|requirement| {
                (
                    requirement.label(),
                    requirement.url.as_deref(),
                    requirement.editable,
                    requirement.hashes.as_slice(),
                    requirement.specifier.to_string(),
                )
            })
            .collect();
        let hash = |digest: &str| vec![format!("sha256:{digest}")];
        assert_eq!(
            read,
            [
                (
                    "tool".to_string(),
                    Some("https://files.example.invalid/tool-1.0-py3-none-any.whl"),
                    false,
                    hash("aa").as_slice(),
                    String::new()
                ),
                (
                    "local-wheel".to_string(),
                    Some("./locks/vendor/local_wheel-1.0-py3-none-any.whl"),
                    false,
                    hash("bb").as_slice(),
                    String::new()
                ),
                (
                    "mypkg".to_string(),
                    Some("./libs/mypkg"),
                    true,
                    &[][..],
                    String::new()
                ),
                (
                    "from-git".to_string(),
                    Some("git+https://vcs.example.invalid/o/r.git@0123456789abcdef0123456789abcdef01234567#subdirectory=py"),
                    false,
                    &[][..],
                    String::new()
                ),
            ]
        );
        // `locks/../libs/mypkg` is `./libs/mypkg` from the current folder:
        // the `..` folds only through the lock's own folder.
        let warnings: Vec<String> = set.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("locks/pylock.toml:") && warnings[0].contains("package `vendored` is left out of the audit: its archive `vendor/src.tar.gz` builds from the subdirectory `py`"),
            "{warnings:?}"
        );
        assert!(
            warnings[1].contains("package `nothing` is left out of the audit: it has no version"),
            "{warnings:?}"
        );
    }

    #[test]
    fn refuses_other_major_versions() {
        assert_eq!(
            Pylock::parse("lock-version = \"2.0\"\n"),
            Err(PylockError::UnsupportedVersion("2.0".to_string()))
        );
    }
}
