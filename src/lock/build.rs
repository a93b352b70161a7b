//! The core metadata of an unpacked sdist from its PEP 517 build backend,
//! as pip and uv get it: an isolated environment (a fresh venv without
//! pip), the build requirements installed into it by the local pip from
//! the lock's own indexes, then `get_requires_for_build_wheel` and
//! `prepare_metadata_for_build_wheel` (or `build_wheel` for a backend
//! without it), run by `build_hook.py` with the sdist (or a local project
//! folder) as the current folder. An editable project is asked with the
//! PEP 660 `_editable` hooks, where its backend has them.
//!
//! This runs the sdist's code: only `reqlock lock` calls it, and
//! `--no-build` forbids it.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;

use super::wheel_metadata;
use crate::index::client::Bytes;
use crate::index::IndexUrl;

/// The hook driver, written next to the build at run time.
const HOOK_SCRIPT: &str = include_str!("build_hook.py");

/// The backend pip assumes for a project without `[build-system]`.
const LEGACY_BACKEND: &str = "setuptools.build_meta:__legacy__";
const LEGACY_REQUIRES: &str = "setuptools>=40.8.0";

/// How many lines of a failing command's output an error shows.
const TAIL_LINES: usize = 25;

/// Why no metadata came out of the build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("its pyproject.toml is unusable: {0}")]
    PyProject(String),
    #[error("could not run `{python}`: {reason}")]
    Python { python: String, reason: String },
    #[error("`{python} -m venv` could not create the isolated build environment:{tail}")]
    Venv { python: String, tail: String },
    #[error("installing the build requirements {requirements} failed:{tail}")]
    Install { requirements: String, tail: String },
    #[error("`{hook}` of the build backend `{backend}` failed:{tail}")]
    Hook {
        hook: &'static str,
        backend: String,
        tail: String,
    },
    #[error("`{hook}` of the build backend `{backend}` gave no usable answer: {reason}")]
    Answer {
        hook: &'static str,
        backend: String,
        reason: String,
    },
    #[error("{0}")]
    Io(String),
}

/// `[build-system]` of `pyproject.toml`, or pip's legacy default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSystem {
    pub requires: Vec<String>,
    /// `module:object`, as PEP 517 writes it.
    pub backend: String,
    /// Folders (relative to the sdist's root) to import the backend from.
    pub backend_path: Vec<String>,
}

#[derive(Deserialize)]
struct PyProject {
    #[serde(rename = "build-system")]
    build_system: Option<BuildSystemTable>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct BuildSystemTable {
    requires: Option<Vec<String>>,
    build_backend: Option<String>,
    #[serde(default)]
    backend_path: Vec<String>,
}

impl BuildSystem {
    /// What `pyproject.toml` (its text, `None` when there is none) asks for,
    /// with pip's rules: no file or no `[build-system]` means the legacy
    /// setuptools backend; a table without `build-backend` means that
    /// backend with the table's `requires`; `requires` is mandatory.
    pub fn from_pyproject(text: Option<&str>) -> Result<BuildSystem, BuildError> {
        let table = match text {
            Some(text) => {
                toml::from_str::<PyProject>(text)
                    .map_err(|err| BuildError::PyProject(err.message().to_string()))?
                    .build_system
            }
            None => None,
        };
        let Some(table) = table else {
            return Ok(BuildSystem {
                requires: vec![LEGACY_REQUIRES.to_string()],
                backend: LEGACY_BACKEND.to_string(),
                backend_path: Vec::new(),
            });
        };
        let requires = table.requires.ok_or_else(|| {
            BuildError::PyProject("[build-system] has no `requires` (PEP 518)".into())
        })?;
        // PEP 517: backend-path entries stay inside the source tree.
        if let Some(outside) = table.backend_path.iter().find(|entry| {
            !Path::new(entry)
                .components()
                .all(|part| matches!(part, Component::Normal(_) | Component::CurDir))
        }) {
            return Err(BuildError::PyProject(format!(
                "backend-path entry `{outside}` leaves the source tree"
            )));
        }
        Ok(BuildSystem {
            requires,
            backend: table
                .build_backend
                .unwrap_or_else(|| LEGACY_BACKEND.to_string()),
            backend_path: table.backend_path,
        })
    }
}

/// Where the build requirements come from: the lock's own indexes.
pub struct PipSources<'a> {
    pub indexes: &'a [IndexUrl],
    pub find_links: &'a [String],
    /// Extra certificate authorities for the indexes (pip's `cert`).
    pub cert: Option<&'a Path>,
}

impl PipSources<'_> {
    /// The environment of every child process of a build: pip told to use
    /// exactly the lock's indexes. Credentials travel here, never in argv,
    /// so `ps` does not show them, and only to pip (`with_credentials`):
    /// the backend runs the sdist's code, and a legacy `setup_requires`
    /// fetch it makes gets the public URLs (and `~/.netrc`). The user's pip
    /// configuration files and `PIP_*` variables are left out: they could
    /// add or replace indexes (or set `--user`, `--target`...), and the
    /// lock's indexes were already chosen with them in mind.
    fn environment(&self, with_credentials: bool) -> Vec<(String, String)> {
        let url = |index: &IndexUrl| {
            if with_credentials {
                index.with_credentials().to_string()
            } else {
                index.public().to_string()
            }
        };
        let mut env = vec![
            ("PIP_CONFIG_FILE".to_string(), null_device().to_string()),
            ("PIP_DISABLE_PIP_VERSION_CHECK".to_string(), "1".to_string()),
            // A prompt for a password would hang: there is no terminal.
            ("PIP_NO_INPUT".to_string(), "1".to_string()),
        ];
        let mut indexes = self.indexes.iter();
        match indexes.next() {
            Some(first) => {
                env.push(("PIP_INDEX_URL".to_string(), url(first)));
                let extra: Vec<String> = indexes.map(url).collect();
                if !extra.is_empty() {
                    env.push(("PIP_EXTRA_INDEX_URL".to_string(), extra.join(" ")));
                }
            }
            None => env.push(("PIP_NO_INDEX".to_string(), "1".to_string())),
        }
        if !self.find_links.is_empty() {
            env.push(("PIP_FIND_LINKS".to_string(), self.find_links.join(" ")));
        }
        // reqlock already reads plain-http indexes; pip would refuse them
        // (outside loopback) unless trusted.
        let insecure: Vec<String> = self
            .indexes
            .iter()
            .map(IndexUrl::public)
            .filter(|url| url.scheme() == "http")
            .filter_map(|url| url.host_str().map(str::to_string))
            .collect();
        if !insecure.is_empty() {
            env.push(("PIP_TRUSTED_HOST".to_string(), insecure.join(" ")));
        }
        if let Some(cert) = self.cert {
            env.push(("PIP_CERT".to_string(), cert.display().to_string()));
        }
        env
    }
}

fn null_device() -> &'static str {
    if cfg!(windows) {
        "nul"
    } else {
        "/dev/null"
    }
}

/// What the build produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The `METADATA` text.
    pub metadata: String,
    /// The backend that made it, `module:object`.
    pub backend: String,
}

/// One build: the unpacked sdist at `root`, scratch space in `work`.
pub struct Build<'a> {
    pub root: &'a Path,
    pub work: &'a Path,
    /// The interpreter that creates the venv and runs pip.
    pub python: &'a Path,
    pub sources: PipSources<'a>,
    /// Ask the PEP 660 editable hooks, where the backend has them.
    pub editable: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum MetadataAnswer {
    Metadata(PathBuf),
    Wheel(PathBuf),
}

impl Build<'_> {
    /// Create the isolated environment, install what the backend needs and
    /// ask it for the metadata.
    pub fn prepare_metadata(&self) -> Result<Prepared, BuildError> {
        let io = |what: &str, err: std::io::Error| BuildError::Io(format!("{what}: {err}"));
        let pyproject = match std::fs::read_to_string(self.root.join("pyproject.toml")) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(io("cannot read pyproject.toml", err)),
        };
        let system = BuildSystem::from_pyproject(pyproject.as_deref())?;
        let environment = self.sources.environment(true);
        let hook_environment = self.sources.environment(false);

        let venv = self.work.join("env");
        let created = self.run(
            Command::new(self.python)
                .args(["-m", "venv", "--without-pip"])
                .arg(&venv),
            &environment,
        )?;
        if !created.status.success() {
            return Err(BuildError::Venv {
                python: self.python.display().to_string(),
                tail: tail(&created),
            });
        }
        let venv_python = if cfg!(windows) {
            venv.join("Scripts").join("python.exe")
        } else {
            venv.join("bin").join("python")
        };
        self.install(&venv_python, &system.requires, &environment)?;

        let script = self.work.join("hook").join("build_hook.py");
        let hook_folder = script.parent().unwrap_or(self.work);
        std::fs::create_dir_all(hook_folder).map_err(|err| io("cannot write the hook", err))?;
        std::fs::write(&script, HOOK_SCRIPT).map_err(|err| io("cannot write the hook", err))?;
        let output_dir = self.work.join("out");
        std::fs::create_dir_all(&output_dir)
            .map_err(|err| io("cannot create the output folder", err))?;
        let hook = |name: &'static str| -> Result<String, BuildError> {
            let result_file = self.work.join(format!("{name}.json"));
            let output = self.run(
                Command::new(&venv_python)
                    .arg(&script)
                    .arg(name)
                    .arg(&system.backend)
                    .arg(&result_file)
                    .arg(&output_dir)
                    .args(&system.backend_path)
                    .current_dir(self.root),
                &hook_environment,
            )?;
            if !output.status.success() {
                return Err(BuildError::Hook {
                    hook: name,
                    backend: system.backend.clone(),
                    tail: tail(&output),
                });
            }
            std::fs::read_to_string(&result_file).map_err(|err| BuildError::Answer {
                hook: name,
                backend: system.backend.clone(),
                reason: err.to_string(),
            })
        };
        let unusable = |hook: &'static str, reason: String| BuildError::Answer {
            hook,
            backend: system.backend.clone(),
            reason,
        };

        // The driver falls back to the wheel hooks for a backend without
        // the editable ones: the metadata is the same, as PEP 660 asks.
        let (get_requires, prepare): (&'static str, &'static str) = if self.editable {
            (
                "get_requires_for_build_editable",
                "prepare_metadata_for_build_editable",
            )
        } else {
            (
                "get_requires_for_build_wheel",
                "prepare_metadata_for_build_wheel",
            )
        };
        let more: Vec<String> = serde_json::from_str(&hook(get_requires)?)
            .map_err(|err| unusable(get_requires, err.to_string()))?;
        self.install(&venv_python, &more, &environment)?;

        let answer: MetadataAnswer = serde_json::from_str(&hook(prepare)?)
            .map_err(|err| unusable(prepare, err.to_string()))?;
        let metadata = match answer {
            MetadataAnswer::Metadata(path) => std::fs::read(&path)
                .map_err(|err| unusable(prepare, format!("{}: {err}", path.display())))?,
            MetadataAnswer::Wheel(path) => {
                let body = std::fs::read(&path)
                    .map_err(|err| unusable(prepare, format!("{}: {err}", path.display())))?;
                let total = body.len() as u64;
                // The whole wheel is in memory: the first read is all of it.
                let mut whole = Some(Bytes {
                    start: 0,
                    total,
                    body,
                });
                let name = path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default();
                wheel_metadata::read(&name, &mut |_| {
                    whole.take().ok_or_else(|| "the wheel is truncated".into())
                })
                .map_err(|err| unusable(prepare, err.to_string()))?
                .into_bytes()
            }
        };
        Ok(Prepared {
            metadata: String::from_utf8_lossy(&metadata).into_owned(),
            backend: system.backend,
        })
    }

    /// `pip install` of `requirements` into the venv, with the host's pip.
    fn install(
        &self,
        venv_python: &Path,
        requirements: &[String],
        environment: &[(String, String)],
    ) -> Result<(), BuildError> {
        if requirements.is_empty() {
            return Ok(());
        }
        let output = self.run(
            Command::new(self.python)
                .args(["-m", "pip", "--python"])
                .arg(venv_python)
                .args(["install", "--no-warn-script-location"])
                .args(requirements),
            environment,
        )?;
        if output.status.success() {
            Ok(())
        } else {
            Err(BuildError::Install {
                requirements: format!("`{}`", requirements.join("`, `")),
                tail: tail(&output),
            })
        }
    }

    /// Run `command` with the build's environment and no `PIP_*` or
    /// `PYTHON*` settings of the user's: they would leak into the isolated
    /// environment (`PYTHONPATH` most of all).
    fn run(
        &self,
        command: &mut Command,
        environment: &[(String, String)],
    ) -> Result<Output, BuildError> {
        let inherited: Vec<OsString> = std::env::vars_os()
            .map(|(key, _)| key)
            .filter(|key| {
                let key = key.to_string_lossy();
                key.starts_with("PIP_") || key.starts_with("PYTHON")
            })
            .collect();
        for key in inherited {
            command.env_remove(key);
        }
        command
            .envs(environment.iter().map(|(key, value)| (key, value)))
            .output()
            .map_err(|err| BuildError::Python {
                python: command.get_program().to_string_lossy().into_owned(),
                reason: err.to_string(),
            })
    }
}

/// The last lines of what a command printed, indented, for an error.
fn tail(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    if lines.is_empty() {
        return format!(" exit status {} and no output", output.status);
    }
    lines[start..]
        .iter()
        .map(|line| format!("\n  | {line}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_build_system_with_pips_defaults() {
        let legacy = BuildSystem::from_pyproject(None).expect("default");
        assert_eq!(legacy.backend, LEGACY_BACKEND);
        assert_eq!(legacy.requires, [LEGACY_REQUIRES]);
        let no_table =
            BuildSystem::from_pyproject(Some("[project]\nname = \"a\"\n")).expect("default");
        assert_eq!(no_table, legacy);
        let no_backend =
            BuildSystem::from_pyproject(Some("[build-system]\nrequires = [\"setuptools\"]\n"))
                .expect("legacy backend");
        assert_eq!(no_backend.backend, LEGACY_BACKEND);
        assert_eq!(no_backend.requires, ["setuptools"]);
        let in_tree = BuildSystem::from_pyproject(Some(
            "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n",
        ))
        .expect("in-tree backend");
        assert_eq!(in_tree.backend, "backend");
        assert_eq!(in_tree.backend_path, ["."]);
    }

    #[test]
    fn rejects_a_build_system_without_requires_or_leaving_the_tree() {
        let missing = BuildSystem::from_pyproject(Some("[build-system]\nbuild-backend = \"x\"\n"));
        assert!(
            matches!(missing, Err(BuildError::PyProject(_))),
            "{missing:?}"
        );
        for path in ["..", "/opt/backend", "a/../../b"] {
            let text = format!(
                "[build-system]\nrequires = []\nbuild-backend = \"x\"\nbackend-path = [\"{path}\"]\n"
            );
            let outside = BuildSystem::from_pyproject(Some(&text));
            assert!(
                matches!(&outside, Err(BuildError::PyProject(reason)) if reason.contains("leaves")),
                "{path}: {outside:?}"
            );
        }
    }

    #[test]
    fn pip_gets_the_locks_indexes_in_its_environment() {
        let indexes = [
            IndexUrl::parse("https://user:secret@private.example.invalid/simple").expect("url"),
            IndexUrl::parse("http://mirror.example.invalid/simple").expect("url"),
        ];
        let find_links = ["/srv/wheels".to_string()];
        let sources = PipSources {
            indexes: &indexes,
            find_links: &find_links,
            cert: None,
        };
        let env = sources.environment(true);
        let value = |key: &str| {
            env.iter()
                .find(|(name, _)| name == key)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(
            value("PIP_INDEX_URL"),
            Some("https://user:secret@private.example.invalid/simple/")
        );
        assert_eq!(
            value("PIP_EXTRA_INDEX_URL"),
            Some("http://mirror.example.invalid/simple/")
        );
        assert_eq!(value("PIP_FIND_LINKS"), Some("/srv/wheels"));
        assert_eq!(value("PIP_TRUSTED_HOST"), Some("mirror.example.invalid"));
        assert_eq!(value("PIP_CONFIG_FILE"), Some(null_device()));
        assert_eq!(value("PIP_NO_INDEX"), None);
        let for_hooks = sources.environment(false);
        assert!(
            for_hooks.iter().any(|(key, value)| key == "PIP_INDEX_URL"
                && value == "https://private.example.invalid/simple/"),
            "{for_hooks:?}"
        );
        let none = PipSources {
            indexes: &[],
            find_links: &[],
            cert: None,
        }
        .environment(true);
        assert!(none.iter().any(|(key, _)| key == "PIP_NO_INDEX"));
    }
}
