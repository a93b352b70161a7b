//! Temporary files that killed runs left behind (`.tmp-PID-N` in the
//! cache, `.NAME.PID.tmp` beside a lockfile): removed when their process
//! is gone and they are old enough that no other machine sharing the
//! folder (another PID namespace) can still be writing them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A temporary younger than this is left alone, whoever wrote it.
const MIN_AGE: Duration = Duration::from_secs(3600);

/// Whether process `pid` is running here.
fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
}

/// Remove the stale temporaries in `dir`, once per folder and process:
/// `pid_of` gives the writer's process id of a name that is one.
pub fn sweep(dir: &Path, pid_of: &dyn Fn(&str) -> Option<u32>) {
    static SWEPT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);
    {
        let mut swept = SWEPT
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !swept
            .get_or_insert_with(HashSet::new)
            .insert(dir.to_path_buf())
        {
            return;
        }
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(pid_of) else {
            continue;
        };
        let old = entry
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|modified| now.duration_since(modified).ok())
            .is_some_and(|age| age >= MIN_AGE);
        if old && !alive(pid) {
            // Another run may have removed it first.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The writer of a cache temporary, `.tmp-PID-N`.
pub fn cache_temporary(name: &str) -> Option<u32> {
    let (pid, counter) = name.strip_prefix(".tmp-")?.split_once('-')?;
    counter.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// The writer of a temporary of the lockfile `lockfile` (its file name):
/// `.LOCKFILE.PID.tmp`, nothing else in a user's folder.
pub fn lockfile_temporary(lockfile: &str, name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    rest.strip_prefix(lockfile)?.strip_prefix('.')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_temporaries() {
        assert_eq!(cache_temporary(".tmp-123-4"), Some(123));
        assert_eq!(cache_temporary(".tmp-123"), None);
        assert_eq!(cache_temporary("sha256-ab"), None);
        assert_eq!(
            lockfile_temporary("requirements.lock", ".requirements.lock.77.tmp"),
            Some(77)
        );
        assert_eq!(
            lockfile_temporary("requirements.lock", ".other.lock.77.tmp"),
            None
        );
        assert_eq!(
            lockfile_temporary("requirements.lock", "requirements.lock"),
            None
        );
    }

    #[test]
    fn only_old_temporaries_of_dead_processes_go() {
        let dir = tempfile::tempdir().unwrap();
        // No process has this id (above the kernel's pid_max).
        let dead = dir.path().join(".tmp-99999999-1");
        let mine = dir.path().join(format!(".tmp-{}-1", std::process::id()));
        let young = dir.path().join(".tmp-99999998-1");
        let entry = dir.path().join("entry");
        for path in [&dead, &mine, &young, &entry] {
            std::fs::write(path, b"x").unwrap();
        }
        let hours_ago = SystemTime::now() - Duration::from_secs(7200);
        for path in [&dead, &mine, &entry] {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(hours_ago)
                .unwrap();
        }
        sweep(dir.path(), &cache_temporary);
        assert!(!dead.exists());
        assert!(mine.exists() && young.exists() && entry.exists());
    }
}
