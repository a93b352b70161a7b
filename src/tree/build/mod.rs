//! The core metadata of an unpacked sdist from its PEP 517 build backend,
//! as pip and uv get it: an isolated environment (a fresh venv without
//! pip), the build requirements installed into it by the local pip from
//! the lock's own indexes, then `get_requires_for_build_wheel` and
//! `prepare_metadata_for_build_wheel` (or `build_wheel` for a backend
//! without it), run by `build_hook.py` with the sdist (or a local project
//! folder) as the current folder. An editable project is asked with the
//! PEP 660 `_editable` hooks, where its backend has them.
//!
//! This runs the sdist's code: only `reqlock lock` and `reqlock audit
//! --deep` call it, and `--no-build` forbids it. Every step (the venv, each `pip install`, each
//! hook) runs with no input and a time limit: a `setup.py` that asks a
//! question or waits on an unreachable server is stopped, with everything
//! it started, instead of hanging the lock.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use crate::index::client::Bytes;
use crate::index::wheel as wheel_metadata;
use crate::index::IndexUrl;
mod process;
#[allow(unused_imports)]
use process::*;

/// The hook driver, written next to the build at run time.
const HOOK_SCRIPT: &str = include_str!("build_hook.py");

/// The backend pip assumes for a project without `[build-system]`.
const LEGACY_BACKEND: &str = "setuptools.build_meta:__legacy__";
const LEGACY_REQUIRES: &str = "setuptools>=40.8.0";

/// How many lines of a failing command's output an error shows.
const TAIL_LINES: usize = 25;

/// How long one build step may take by default (`--build-timeout`): far
/// more than installing setuptools or preparing metadata takes, even for
/// a big project on a slow mirror, so only a step that waits forever (on
/// input, on a server that never answers) reaches it.
pub const DEFAULT_BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// How often a running step is checked; small next to a build's seconds.
const POLL: Duration = Duration::from_millis(20);

/// How long the output of a stopped step is still read: its pipes close as
/// soon as its processes are gone, unless one escaped the process group.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// How much of each output stream of a step is kept: the error shows only
/// its last lines, and a step that prints without end must not fill the
/// memory before its time is up.
const OUTPUT_KEPT: usize = 256 * 1024;

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
    #[error("{step} did not finish within {}s (the build time limit) and was stopped:{tail}", .limit.as_secs())]
    TimedOut {
        step: String,
        limit: Duration,
        tail: String,
    },
    #[error("{0}")]
    Io(String),
}

impl BuildError {
    /// Advice specific to this failure, where there is any beyond that of
    /// the release it concerns.
    pub fn help(&self) -> Option<String> {
        match self {
            BuildError::TimedOut { limit, .. } => Some(format!(
                "a step that waits for input or for a server that never answers never finishes; if the build is only slow, raise the limit with `--build-timeout SECONDS` (it was {}s)",
                limit.as_secs()
            )),
            _ => None,
        }
    }
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
            let links: Vec<String> = self
                .find_links
                .iter()
                .map(|link| {
                    if with_credentials {
                        link.clone()
                    } else {
                        crate::redact::text(link)
                    }
                })
                .collect();
            env.push(("PIP_FIND_LINKS".to_string(), links.join(" ")));
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
    /// How long each step (the venv, each install, each hook) may take.
    pub timeout: Duration,
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
            || "creating the isolated build environment".to_string(),
        )?;
        if !created.success() {
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
                || format!("`{name}` of the build backend `{}`", system.backend),
            )?;
            if !output.success() {
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
        let listed = format!("`{}`", requirements.join("`, `"));
        let output = self.run(
            Command::new(self.python)
                .args(["-m", "pip", "--python"])
                .arg(venv_python)
                .args(["install", "--no-warn-script-location", "--"])
                .args(requirements),
            environment,
            || format!("installing the build requirements {listed}"),
        )?;
        if output.success() {
            Ok(())
        } else {
            Err(BuildError::Install {
                requirements: listed,
                tail: tail(&output),
            })
        }
    }

    /// Run `command` with the build's environment and no `PIP_*` or
    /// `PYTHON*` settings of the user's: they would leak into the isolated
    /// environment (`PYTHONPATH` most of all). Past the time limit it is
    /// stopped, and the error names the `step`.
    fn run(
        &self,
        command: &mut Command,
        environment: &[(String, String)],
        step: impl FnOnce() -> String,
    ) -> Result<Ran, BuildError> {
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
        command.envs(environment.iter().map(|(key, value)| (key, value)));
        let ran = run_with_limit(command, self.timeout).map_err(|err| BuildError::Python {
            python: command.get_program().to_string_lossy().into_owned(),
            reason: err.to_string(),
        })?;
        match ran.status {
            Some(_) => Ok(ran),
            None => Err(BuildError::TimedOut {
                step: step(),
                limit: self.timeout,
                tail: tail(&ran),
            }),
        }
    }
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

    #[cfg(unix)]
    #[test]
    fn a_step_runs_without_input_and_its_output_is_kept() {
        let ran = run_with_limit(
            Command::new("sh").args(["-c", "read line || echo no input; echo oops >&2"]),
            Duration::from_secs(30),
        )
        .expect("sh runs");
        assert!(ran.success());
        assert_eq!(ran.stdout, b"no input\n");
        assert_eq!(ran.stderr, b"oops\n");
    }

    /// Whether process `pid` is gone (or dead, waiting to be reaped).
    #[cfg(target_os = "linux")]
    fn is_dead(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z')),
            Err(_) => true,
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_step_past_its_limit_is_stopped_with_what_it_started() {
        let dir = tempfile::tempdir().expect("temp dir");
        let pid_file = dir.path().join("pid");
        // The shell waits on a `sleep` it started, as pip waits on its
        // subprocesses; both must go.
        let ran = run_with_limit(
            Command::new("sh")
                .args(["-c", "sleep 300 & echo $! > \"$0\"; echo started; wait"])
                .arg(&pid_file),
            Duration::from_secs(1),
        )
        .expect("sh runs");
        assert_eq!(ran.status, None);
        assert_eq!(ran.stdout, b"started\n");
        let pid = std::fs::read_to_string(&pid_file).expect("pid written");
        // SIGKILL is immediate, but the process may take a moment to be
        // scheduled and die.
        let gone = (0..250).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            is_dead(pid.trim())
        });
        assert!(gone, "sleep {} survived its step", pid.trim());
    }

    #[cfg(unix)]
    #[test]
    fn a_step_whose_output_stays_open_after_it_exits_is_stopped() {
        // The shell exits at once; the `sleep` it leaves behind holds its
        // output open, so the step is not over.
        let ran = run_with_limit(
            Command::new("sh").args(["-c", "sleep 300 &"]),
            Duration::from_secs(1),
        )
        .expect("sh runs");
        assert_eq!(ran.status, None);
    }

    #[test]
    fn a_timeout_names_the_step_and_the_limit() {
        let err = BuildError::TimedOut {
            step: "`prepare_metadata_for_build_wheel` of the build backend `backend`".into(),
            limit: Duration::from_secs(2),
            tail: " no output".into(),
        };
        assert_eq!(
            err.to_string(),
            "`prepare_metadata_for_build_wheel` of the build backend `backend` did not finish within 2s (the build time limit) and was stopped: no output"
        );
        assert!(err
            .help()
            .is_some_and(|help| help.contains("--build-timeout SECONDS")));
    }

    #[test]
    fn pip_gets_the_locks_indexes_in_its_environment() {
        let indexes = [
            IndexUrl::parse("https://user:secret@private.example.invalid/simple").expect("url"),
            IndexUrl::parse("http://mirror.example.invalid/simple").expect("url"),
        ];
        let find_links = [
            "/srv/wheels".to_string(),
            "https://ci:t0ken@links.example.invalid/wheels/".to_string(),
        ];
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
        assert_eq!(
            value("PIP_FIND_LINKS"),
            Some("/srv/wheels https://ci:t0ken@links.example.invalid/wheels/")
        );
        assert_eq!(value("PIP_TRUSTED_HOST"), Some("mirror.example.invalid"));
        assert_eq!(value("PIP_CONFIG_FILE"), Some(null_device()));
        assert_eq!(value("PIP_NO_INDEX"), None);
        let for_hooks = sources.environment(false);
        assert!(
            for_hooks.iter().any(|(key, value)| key == "PIP_INDEX_URL"
                && value == "https://private.example.invalid/simple/"),
            "{for_hooks:?}"
        );
        assert!(
            !for_hooks.iter().any(|(_, value)| value.contains("t0ken")),
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
