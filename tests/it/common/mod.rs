//! What the integration tests share: the hermetic way to run the binary,
//! its result, a loopback index ([`index_server`]), one filled by each test
//! ([`filled_index`]) and the distributions tests build ([`dists`]).

pub mod dists;
pub mod filled_index;
pub mod index_server;

use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

/// What a run of the binary gave.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code().expect("exit code"),
            stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
        }
    }

    /// stdout as JSON, or a panic that shows both streams.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!("not JSON ({err}): {}\nstderr: {}", self.stdout, self.stderr)
        })
    }
}

/// The binary, hermetic: its cache in `cache`, and none of this machine's
/// pip configuration (files, index and find-links variables).
pub fn reqlock(cache: &Path) -> Command {
    let mut command = Command::cargo_bin("reqlock").expect("binary built");
    command
        .env("REQLOCK_CACHE_DIR", cache)
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_NO_INDEX");
    command
}

/// Run `command` to its end.
pub fn run(command: &mut Command) -> Run {
    Run::from_output(command.output().expect("reqlock runs"))
}
