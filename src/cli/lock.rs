//! `reqlock lock`: resolve the whole dependency tree and write (or check)
//! a fully pinned lockfile.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::Path;
use std::str::FromStr;

use pep508_rs::PackageName;

use super::args::LockArgs;
use super::output::{print_indexes, write_stdout};
use super::tree::{resolve_tree, TreeSettings};
use super::{read_requirements, Error, Status};
use crate::index::session::Session;
use crate::lock::output::{self, CheckOutcome, Destination};
use crate::lock::requirements_txt::{self, LockfileSettings};
use crate::lock::{self, pylock, Format};
use crate::requirements::ParseSettings;
use crate::tree::resolve::{ResolveOptions, Upgrade};

pub(super) fn run(args: &LockArgs, command: &str) -> Result<Status, Error> {
    if args.check
        && args
            .output
            .as_ref()
            .is_none_or(|path| path.as_os_str() == "-")
    {
        return Err(Error::CheckWithoutOutput);
    }
    let format = Format::from(args.format);
    let set = read_requirements(&args.files)?;
    let db = args.db.load()?;
    let target = args.target.target()?;
    let session = Session::open(
        &args.index.flags(),
        &set.options,
        args.cache.client_settings(),
    )?;
    print_indexes(&session.sources);
    eprintln!("target: {target}");
    let mut upgrade_packages = BTreeSet::new();
    for name in &args.upgrade_package {
        let parsed = PackageName::from_str(name).map_err(|err| Error::UpgradePackage {
            name: name.clone(),
            reason: err.to_string(),
        })?;
        upgrade_packages.insert(parsed);
    }
    // `-o -` is stdout, as without `-o`.
    let output_path = args.output.as_ref().filter(|path| path.as_os_str() != "-");
    let destination = output_path
        .map(|path| {
            Destination::of(path)
                .map(|destination| (path.clone(), destination))
                .map_err(|source| Error::WriteLockfile {
                    path: path.clone(),
                    source,
                })
        })
        .transpose()?;
    let preferences = match &destination {
        Some((path, destination)) if !args.upgrade && !args.check => destination
            .read_existing()
            .map_err(|source| Error::ReadLockfile {
                path: path.clone(),
                source,
            })?
            .map(|text| lock::preferences(path, &text, format))
            .unwrap_or_default(),
        Some((path, destination)) if !args.upgrade => destination
            .read_existing()
            .ok()
            .flatten()
            .map(|text| lock::preferences(path, &text, format))
            .unwrap_or_default(),
        _ => BTreeMap::new(),
    };
    let options = ResolveOptions {
        prereleases: args.pre || set.options.pre,
        exclude_newer: args.exclude_newer,
        preferences,
        upgrade: if args.upgrade {
            Upgrade::All
        } else if upgrade_packages.is_empty() {
            Upgrade::Nothing
        } else {
            Upgrade::Packages(upgrade_packages)
        },
        trust_reported: args.trust_reported,
        working_dir: ParseSettings::from_environment().working_dir,
    };
    let settings = TreeSettings {
        allow_builds: !args.build.no_build,
        build_timeout: args.build.build_timeout,
        progress: true,
    };
    let resolution = resolve_tree(&session, &set, &target, &db, &options, settings)?;
    let hashes = !args.no_hashes;
    let text = match format {
        Format::Requirements => {
            let mut settings = LockfileSettings::new(
                command,
                requirements_txt::index_options_in_force(&set.options, &session.sources),
            );
            settings.hashes = hashes;
            requirements_txt::requirements_lockfile(&resolution, &settings)
        }
        Format::Pylock => pylock::write_pylock(
            &resolution,
            command,
            &format!("=={}.{}.*", target.python.0, target.python.1),
            args.output
                .as_deref()
                .and_then(Path::parent)
                .unwrap_or(Path::new("")),
        ),
    };
    let unhashed = requirements_txt::unhashed_lines(&resolution);
    if hashes && format == Format::Requirements && !unhashed.is_empty() {
        eprintln!(
            "warning: no --hash for {} (pip cannot hash a folder or an editable), so `pip install --require-hashes` refuses the lockfile; install them in a separate step, or point the lines at wheels",
            unhashed.join(", ")
        );
    }
    eprintln!("locked {} package(s)", resolution.packages.len());
    match (&destination, args.check) {
        (Some((path, destination)), true) => match output::check(destination, path, &text) {
            Ok(CheckOutcome::UpToDate) => {
                eprintln!("{} is up to date", path.display());
                Ok(Status::Clean)
            }
            Ok(CheckOutcome::Missing) => Err(Error::LockfileMissing(path.clone())),
            Ok(CheckOutcome::Differs(diff)) => {
                write_stdout(&diff)?;
                Err(Error::LockfileDiffers(path.clone()))
            }
            Err(source) => Err(Error::ReadLockfile {
                path: path.clone(),
                source,
            }),
        },
        (Some((path, destination)), false) => match destination.write(&text) {
            Ok(()) => {
                eprintln!("wrote {}", path.display());
                Ok(Status::Clean)
            }
            Err(source) => Err(Error::WriteLockfile {
                path: path.clone(),
                source,
            }),
        },
        (None, _) => {
            write_stdout(&text)?;
            Ok(Status::Clean)
        }
    }
}

/// The command line as given, for the lockfile's header, without the flags
/// that only change how this run works (`--check`, `--offline`,
/// `--refresh`, `--build-timeout`, `--timeout`, `--cache-ttl`), so that
/// checking a lockfile compares like with like; and without credentials in
/// URLs. `args` are the words after the program's name.
pub(super) fn regenerate_command(args: &[OsString]) -> String {
    const RUN_ONLY: &[&str] = &["--check", "--offline", "--refresh"];
    const RUN_ONLY_WITH_VALUE: &[&str] = &["--build-timeout", "--timeout", "--cache-ttl"];
    let mut skip_value = false;
    let words: Vec<String> = args
        .iter()
        .map(|word| word.to_string_lossy().into_owned())
        .filter(|word| {
            if std::mem::take(&mut skip_value) {
                return false;
            }
            if RUN_ONLY_WITH_VALUE.contains(&word.as_str()) {
                skip_value = true;
                return false;
            }
            let with_value = RUN_ONLY_WITH_VALUE.iter().any(|flag| {
                word.strip_prefix(flag)
                    .is_some_and(|rest| rest.starts_with('='))
            });
            !(RUN_ONLY.contains(&word.as_str()) || with_value)
        })
        .map(|word| {
            let word = if word.contains("://") {
                crate::redact::text(&word)
            } else {
                word
            };
            // Quoted unless every character means itself to a POSIX shell.
            let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c);
            if word.is_empty() || !word.chars().all(plain) {
                format!("'{}'", word.replace('\'', "'\\''"))
            } else {
                word
            }
        })
        .collect();
    format!("reqlock {}", words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_regenerate_command_leaves_out_what_only_changes_this_run() {
        let args = words(&[
            "lock",
            "--offline",
            "--build-timeout",
            "30",
            "--build-timeout=90",
            "--timeout=5s",
            "--cache-ttl",
            "1h",
            "-o",
            "requirements.lock",
            "requirements.txt",
        ]);
        assert_eq!(
            regenerate_command(&args),
            "reqlock lock -o requirements.lock requirements.txt"
        );
    }

    #[test]
    fn the_regenerate_command_quotes_what_a_shell_would_read_otherwise() {
        let args = words(&[
            "lock",
            "--extra-index-url",
            "https://u:p@host.example.invalid/simple?a=1&b=2",
            "my file.txt",
            "it's.txt",
        ]);
        assert_eq!(
            regenerate_command(&args),
            "reqlock lock --extra-index-url 'https://host.example.invalid/simple?a=1&b=2' 'my file.txt' 'it'\\''s.txt'"
        );
    }
}
