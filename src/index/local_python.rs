//! Answers of the local `python3` (pip's built-in default index, what the
//! interpreter says about itself), remembered in the cache: starting
//! Python and importing pip costs about 100 ms, more than a whole warm
//! audit. An answer is reused for a day, and only while the `python3` on
//! `PATH` is the same file, unchanged.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::index::cache::{self, Cache};

const REMEMBER_FOR: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Serialize, Deserialize)]
struct Remembered {
    interpreter: String,
    remembered_at: u64,
    stdout: String,
}

/// The `python3` on `PATH`, resolved, with its modification time and size.
fn interpreter() -> Option<String> {
    let path = std::env::var_os("PATH")?;
    let found: PathBuf = std::env::split_paths(&path)
        .map(|dir| dir.join("python3"))
        .find(|candidate| candidate.is_file())?;
    let real = std::fs::canonicalize(&found).ok()?;
    let metadata = std::fs::metadata(&real).ok()?;
    let modified = metadata
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(format!("{} {modified} {}", real.display(), metadata.len()))
}

fn recall(path: &Path, interpreter: &str) -> Option<String> {
    let remembered: Remembered = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let fresh = cache::now().saturating_sub(remembered.remembered_at) < REMEMBER_FOR.as_secs();
    (remembered.interpreter == interpreter && fresh).then_some(remembered.stdout)
}

/// What `python3 -c script` prints when it succeeds, from the cache when
/// the same interpreter answered within a day.
pub fn run(script: &str) -> Result<String, String> {
    let cache = Cache::from_environment();
    let identity = interpreter();
    if let (Some(cache), Some(identity)) = (&cache, &identity) {
        if let Some(stdout) = recall(&cache.local_python_path(script), identity) {
            return Ok(stdout);
        }
    }
    // No input: nothing may wait on the user's terminal.
    let output = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|err| format!("could not run python3: {err}"))?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if let (Some(cache), Some(identity)) = (&cache, identity) {
        let remembered = Remembered {
            interpreter: identity,
            remembered_at: cache::now(),
            stdout: stdout.clone(),
        };
        if let Ok(bytes) = serde_json::to_vec(&remembered) {
            // Not remembering only costs the next run a Python start.
            let _ = cache.write_atomically(&cache.local_python_path(script), &bytes);
        }
    }
    Ok(stdout)
}
