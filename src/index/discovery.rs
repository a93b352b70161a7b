//! Which indexes to ask, found in the order pip's users expect: flags, the
//! requirements files, `PIP_INDEX_URL`/`PIP_EXTRA_INDEX_URL`, pip's
//! configuration files, and finally the default built into the local pip.
//!
//! Every URL keeps where it came from, so that the report can say why an
//! index was used; a wrong index is the usual cause of a surprising audit.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::index::local_python;
use crate::index::IndexUrl;
use crate::requirements::InstallOptions;

/// Where an index URL was configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlSource {
    CommandLine,
    RequirementsFile,
    Environment(&'static str),
    ConfigFile(PathBuf),
    PipDefault,
}

impl fmt::Display for UrlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlSource::CommandLine => f.write_str("the command line"),
            UrlSource::RequirementsFile => f.write_str("the requirements files"),
            UrlSource::Environment(name) => write!(f, "the environment variable {name}"),
            UrlSource::ConfigFile(path) => write!(f, "pip's configuration file {}", path.display()),
            UrlSource::PipDefault => f.write_str("pip's built-in default"),
        }
    }
}

/// One index to ask, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredIndex {
    pub url: IndexUrl,
    pub source: UrlSource,
}

/// Every place a requirement's releases may come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexConfig {
    /// The main index first, then the extra indexes; empty with `--no-index`.
    pub indexes: Vec<ConfiguredIndex>,
    /// Local folders or HTML pages (`--find-links`).
    pub find_links: Vec<String>,
    /// Extra certificate authorities to trust: `PIP_CERT`, else pip.conf's
    /// `cert`, as pip does.
    pub cert: Option<PathBuf>,
}

/// What the command line said; the rest is read from the environment.
#[derive(Debug, Clone, Default)]
pub struct IndexFlags {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    /// Consulted before the locations named in requirements files.
    pub find_links: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error(
        "no package index is configured and the local pip could not name its default \
         ({reason}); set one with `--index-url URL`, `--index-url` in the requirements \
         file, `PIP_INDEX_URL`, or `index-url` in pip.conf"
    )]
    NoIndex { reason: String },
    #[error("the index URL `{url}` ({source_of}) is not a valid http(s) URL")]
    InvalidUrl { url: String, source_of: UrlSource },
}

/// Values read from pip's configuration files; later files win, as in pip.
#[derive(Debug, Default)]
struct PipConfig {
    index_url: Option<(String, PathBuf)>,
    extra_index_urls: Option<(Vec<String>, PathBuf)>,
    cert: Option<PathBuf>,
}

/// The environment discovery reads; a seam so tests stay hermetic.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    fn read_file(&self, path: &Path) -> Option<String>;
    /// pip's own default index, as the installed pip reports it.
    fn pip_default_index(&self) -> Result<String, String>;
}

/// The real process environment and file system.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_file(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    fn pip_default_index(&self) -> Result<String, String> {
        // Asking pip keeps reqlock free of any hard-coded registry; the
        // import path is pip's, stable since pip 10.
        let stdout = local_python::run(
            "from pip._internal.models.index import PyPI; print(PyPI.simple_url)",
        )
        .map_err(|err| format!("python3 has no importable pip ({err})"))?;
        let url = stdout.trim().to_string();
        if url.is_empty() {
            Err("pip printed no default index".into())
        } else {
            Ok(url)
        }
    }
}

/// Find the indexes for an install of `options` (what the files said).
pub fn discover(
    flags: &IndexFlags,
    options: &InstallOptions,
    env: &dyn Environment,
) -> Result<IndexConfig, DiscoveryError> {
    let mut find_links = flags.find_links.clone();
    for location in &options.find_links {
        if !find_links.contains(location) {
            find_links.push(location.clone());
        }
    }
    let config = read_pip_config(env);
    let cert = env
        .var("PIP_CERT")
        .filter(|value| !value.trim().is_empty())
        .map(PathBuf::from)
        .or(config.cert.clone());
    if options.no_index {
        return Ok(IndexConfig {
            indexes: Vec::new(),
            find_links,
            cert,
        });
    }
    let primary = if let Some(url) = &flags.index_url {
        (url.clone(), UrlSource::CommandLine)
    } else if let Some(url) = &options.index_url {
        (url.clone(), UrlSource::RequirementsFile)
    } else if let Some(url) = env.var("PIP_INDEX_URL").filter(|v| !v.trim().is_empty()) {
        (
            url.trim().to_string(),
            UrlSource::Environment("PIP_INDEX_URL"),
        )
    } else if let Some((url, path)) = config.index_url.clone() {
        (url, UrlSource::ConfigFile(path))
    } else {
        let url = env
            .pip_default_index()
            .map_err(|reason| DiscoveryError::NoIndex { reason })?;
        (url, UrlSource::PipDefault)
    };

    // As in pip, the environment and config files only supply a default for
    // the flag, while extra indexes named in requirements files add to it.
    let mut extras: Vec<(String, UrlSource)> = Vec::new();
    if !flags.extra_index_urls.is_empty() {
        extras.extend(
            flags
                .extra_index_urls
                .iter()
                .map(|url| (url.clone(), UrlSource::CommandLine)),
        );
    } else if let Some(value) = env.var("PIP_EXTRA_INDEX_URL") {
        extras.extend(value.split_whitespace().map(|url| {
            (
                url.to_string(),
                UrlSource::Environment("PIP_EXTRA_INDEX_URL"),
            )
        }));
    } else if let Some((urls, path)) = config.extra_index_urls {
        extras.extend(
            urls.into_iter()
                .map(|url| (url, UrlSource::ConfigFile(path.clone()))),
        );
    }
    extras.extend(
        options
            .extra_index_urls
            .iter()
            .map(|url| (url.clone(), UrlSource::RequirementsFile)),
    );

    let mut indexes: Vec<ConfiguredIndex> = Vec::new();
    for (url, source) in std::iter::once(primary).chain(extras) {
        let parsed = IndexUrl::parse(&url).ok_or_else(|| DiscoveryError::InvalidUrl {
            url: crate::redact::text(&url),
            source_of: source.clone(),
        })?;
        if indexes.iter().all(|known| known.url != parsed) {
            indexes.push(ConfiguredIndex {
                url: parsed,
                source,
            });
        }
    }
    Ok(IndexConfig {
        indexes,
        find_links,
        cert,
    })
}

/// pip's configuration files in pip's loading order (later wins), or none
/// at all when `PIP_CONFIG_FILE` is the null device, as pip does.
fn config_files(env: &dyn Environment) -> Vec<PathBuf> {
    let explicit = env.var("PIP_CONFIG_FILE");
    if explicit.as_deref() == Some("/dev/null") {
        return Vec::new();
    }
    let mut files = Vec::new();
    let xdg_dirs = env
        .var("XDG_CONFIG_DIRS")
        .filter(|dirs| !dirs.is_empty())
        .unwrap_or_else(|| "/etc/xdg".into());
    // pip reads the XDG directories from the last to the first, so the first
    // one listed wins.
    for dir in xdg_dirs.split(':').rev() {
        files.push(Path::new(dir).join("pip").join("pip.conf"));
    }
    files.push(PathBuf::from("/etc/pip.conf"));
    if let Some(home) = env.var("HOME") {
        let home = PathBuf::from(home);
        files.push(home.join(".pip").join("pip.conf"));
        let config_home = env
            .var("XDG_CONFIG_HOME")
            .filter(|dir| !dir.is_empty())
            .map_or_else(|| home.join(".config"), PathBuf::from);
        files.push(config_home.join("pip").join("pip.conf"));
    }
    if let Some(venv) = env.var("VIRTUAL_ENV") {
        files.push(Path::new(&venv).join("pip.conf"));
    }
    if let Some(explicit) = explicit {
        files.push(PathBuf::from(explicit));
    }
    files
}

fn read_pip_config(env: &dyn Environment) -> PipConfig {
    let mut config = PipConfig::default();
    for path in config_files(env) {
        let Some(text) = env.read_file(&path) else {
            continue;
        };
        let values = ini_values(&text);
        // `[install]` is more specific than `[global]` for `pip install`.
        for section in ["global", "install"] {
            if let Some(value) = lookup(&values, section, "index-url") {
                config.index_url = Some((value.trim().to_string(), path.clone()));
            }
            if let Some(value) = lookup(&values, section, "cert") {
                config.cert = Some(PathBuf::from(value.trim()));
            }
            if let Some(value) = lookup(&values, section, "extra-index-url") {
                let urls = value.split_whitespace().map(str::to_string).collect();
                config.extra_index_urls = Some((urls, path.clone()));
            }
        }
    }
    config
}

fn lookup<'a>(values: &'a [(String, String, String)], section: &str, key: &str) -> Option<&'a str> {
    values
        .iter()
        .rev()
        .find(|(s, k, _)| s == section && k == key)
        .map(|(_, _, value)| value.as_str())
}

/// `(section, key, value)` triples of an INI file as Python's configparser
/// reads pip.conf: `key = value` or `key: value`, `#`/`;` comment lines, and
/// indented continuation lines that extend the previous value (pip's way of
/// listing several extra indexes). Keys are lower-cased with `_` as `-`, as
/// pip normalizes them.
fn ini_values(text: &str) -> Vec<(String, String, String)> {
    let mut values: Vec<(String, String, String)> = Vec::new();
    let mut section = String::new();
    let mut continuing = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if line.starts_with([' ', '\t']) && continuing {
            if let Some((_, _, value)) = values.last_mut() {
                value.push('\n');
                value.push_str(trimmed);
            }
            continue;
        }
        if let Some(name) = trimmed
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
        {
            section = name.trim().to_string();
            continuing = false;
            continue;
        }
        let Some(split) = trimmed.find(['=', ':']) else {
            continuing = false;
            continue;
        };
        let key = trimmed[..split].trim().to_lowercase().replace('_', "-");
        let value = trimmed[split + 1..].trim().to_string();
        values.push((section.clone(), key, value));
        continuing = true;
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct FakeEnvironment {
        vars: HashMap<&'static str, String>,
        files: HashMap<PathBuf, String>,
        pip_default: Option<String>,
    }

    impl Environment for FakeEnvironment {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).cloned()
        }
        fn read_file(&self, path: &Path) -> Option<String> {
            self.files.get(path).cloned()
        }
        fn pip_default_index(&self) -> Result<String, String> {
            self.pip_default.clone().ok_or_else(|| "no pip".into())
        }
    }

    fn urls(config: &IndexConfig) -> Vec<(String, String)> {
        config
            .indexes
            .iter()
            .map(|index| (index.url.to_string(), index.source.to_string()))
            .collect()
    }

    fn home_env() -> FakeEnvironment {
        let mut env = FakeEnvironment::default();
        env.vars.insert("HOME", "/home/u".into());
        env.pip_default = Some("https://default.invalid/simple/".into());
        env
    }

    #[test]
    fn flags_win_over_files_environment_and_config() {
        let mut env = home_env();
        env.vars
            .insert("PIP_INDEX_URL", "https://env.invalid/simple/".into());
        let options = InstallOptions {
            index_url: Some("https://file.invalid/simple/".into()),
            ..InstallOptions::default()
        };
        let flags = IndexFlags {
            index_url: Some("https://flag.invalid/simple/".into()),
            ..IndexFlags::default()
        };
        let config = discover(&flags, &options, &env).unwrap();
        assert_eq!(
            urls(&config),
            [(
                "https://flag.invalid/simple/".into(),
                "the command line".into()
            )]
        );
        let config = discover(&IndexFlags::default(), &options, &env).unwrap();
        assert_eq!(urls(&config)[0].1, "the requirements files");
        let config = discover(&IndexFlags::default(), &InstallOptions::default(), &env).unwrap();
        assert_eq!(urls(&config)[0].1, "the environment variable PIP_INDEX_URL");
    }

    #[test]
    fn pip_cert_comes_from_the_environment_then_the_config_files() {
        let mut env = home_env();
        env.files.insert(
            "/etc/pip.conf".into(),
            "[global]\ncert = /etc/ssl/corp.pem\n".into(),
        );
        let config = discover(&IndexFlags::default(), &InstallOptions::default(), &env).unwrap();
        assert_eq!(config.cert, Some(PathBuf::from("/etc/ssl/corp.pem")));
        env.vars.insert("PIP_CERT", "/tmp/other.pem".into());
        let config = discover(&IndexFlags::default(), &InstallOptions::default(), &env).unwrap();
        assert_eq!(config.cert, Some(PathBuf::from("/tmp/other.pem")));
    }

    #[test]
    fn config_files_later_wins_and_install_beats_global() {
        let mut env = home_env();
        env.files.insert(
            "/etc/pip.conf".into(),
            "[global]\nindex-url = https://etc.invalid/simple/\n".into(),
        );
        env.files.insert(
            "/home/u/.config/pip/pip.conf".into(),
            "[install]\nindex_url: https://user-install.invalid/simple/\n\
             [global]\nindex-url = https://user-global.invalid/simple/\n\
             extra-index-url =\n    https://x1.invalid/simple/\n    https://x2.invalid/simple/\n"
                .into(),
        );
        let config = discover(&IndexFlags::default(), &InstallOptions::default(), &env).unwrap();
        assert_eq!(
            urls(&config),
            [
                (
                    "https://user-install.invalid/simple/".into(),
                    "pip's configuration file /home/u/.config/pip/pip.conf".into()
                ),
                (
                    "https://x1.invalid/simple/".into(),
                    "pip's configuration file /home/u/.config/pip/pip.conf".into()
                ),
                (
                    "https://x2.invalid/simple/".into(),
                    "pip's configuration file /home/u/.config/pip/pip.conf".into()
                ),
            ]
        );
        env.vars.insert("VIRTUAL_ENV", "/venv".into());
        env.files.insert(
            "/venv/pip.conf".into(),
            "[global]\nindex-url=https://venv.invalid/simple/\n".into(),
        );
        let config = discover(&IndexFlags::default(), &InstallOptions::default(), &env).unwrap();
        assert_eq!(urls(&config)[0].0, "https://venv.invalid/simple/");
        env.vars.insert("PIP_CONFIG_FILE", "/dev/null".into());
        let config = discover(&IndexFlags::default(), &InstallOptions::default(), &env).unwrap();
        assert_eq!(urls(&config)[0].1, "pip's built-in default");
    }

    #[test]
    fn extras_from_flags_replace_environment_and_add_files() {
        let mut env = home_env();
        env.vars.insert(
            "PIP_EXTRA_INDEX_URL",
            "https://e1.invalid/ https://e2.invalid/".into(),
        );
        let options = InstallOptions {
            extra_index_urls: vec!["https://file-extra.invalid/".into()],
            ..InstallOptions::default()
        };
        let config = discover(&IndexFlags::default(), &options, &env).unwrap();
        let sources: Vec<String> = urls(&config).into_iter().map(|(u, _)| u).collect();
        assert_eq!(
            sources,
            [
                "https://default.invalid/simple/",
                "https://e1.invalid/",
                "https://e2.invalid/",
                "https://file-extra.invalid/"
            ]
        );
        let flags = IndexFlags {
            extra_index_urls: vec!["https://flag-extra.invalid/".into()],
            ..IndexFlags::default()
        };
        let config = discover(&flags, &options, &env).unwrap();
        assert_eq!(config.indexes.len(), 3);
        assert_eq!(config.indexes[1].source, UrlSource::CommandLine);
    }

    #[test]
    fn no_index_and_no_default() {
        let env = FakeEnvironment::default();
        let error = discover(&IndexFlags::default(), &InstallOptions::default(), &env)
            .unwrap_err()
            .to_string();
        assert!(error.contains("--index-url"), "{error}");
        let options = InstallOptions {
            no_index: true,
            find_links: vec!["wheels".into()],
            ..InstallOptions::default()
        };
        let flags = IndexFlags {
            find_links: vec!["dist".into()],
            ..IndexFlags::default()
        };
        let config = discover(&flags, &options, &env).unwrap();
        assert!(config.indexes.is_empty());
        assert_eq!(config.find_links, ["dist", "wheels"]);
    }

    #[test]
    fn credentials_are_never_shown() {
        let mut env = home_env();
        env.vars.insert(
            "PIP_INDEX_URL",
            "https://user:s3cret@private.invalid/simple/".into(),
        );
        let config = discover(&IndexFlags::default(), &InstallOptions::default(), &env).unwrap();
        let shown = config.indexes[0].url.to_string();
        assert!(
            !shown.contains("s3cret") && !shown.contains("user"),
            "{shown}"
        );
    }

    #[test]
    fn the_real_pip_names_its_default() {
        // Runs the local pip when there is one; the host is pip's business.
        if let Ok(url) = ProcessEnvironment.pip_default_index() {
            assert!(IndexUrl::parse(&url).is_some(), "{url}");
        }
    }
}
