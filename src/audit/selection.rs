//! What the indexes answered for each requirement line, as findings: the
//! problems [`crate::select`] ran into (unknown packages, no matching or
//! installable release, yanked pins, unreachable indexes, ...).

use pep508_rs::pep440_rs::Version;

use super::{Code, Finding, Severity};
use crate::requirements::Requirement;
use crate::select::Problem;
use crate::target::Target;

/// The folder of the PyTorch index that a PyTorch local label (`+cu121`,
/// `+cpu`, `+rocm5.6`) comes from; other labels have no well-known home.
/// A folder, not a URL: which index serves it is the user's configuration.
fn pytorch_folder_for(local: &str) -> Option<String> {
    let known = local == "cpu"
        || local
            .strip_prefix("cu")
            .is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()))
        || local.starts_with("rocm");
    known.then(|| format!("/whl/{local}"))
}

fn list(versions: &[Version]) -> String {
    versions
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The finding for one thing resolution ran into.
pub(super) fn finding(requirement: &Requirement, problem: &Problem, target: &Target) -> Finding {
    let label = requirement.label();
    let spec = format!("{label}{}", requirement.specifier_text());
    let python = format!("Python {}.{}", target.python.0, target.python.1);
    let (code, severity, message, help) = match problem {
        Problem::UnknownPackage { indexes } => (
            Code::UnknownPackage,
            Severity::Error,
            format!("no configured index knows `{label}` (asked: {})", indexes.join(", ")),
            "check the spelling; a private package needs its index: `--extra-index-url URL`"
                .to_string(),
        ),
        Problem::Unreachable(error) => (
            Code::IndexUnreachable,
            Severity::Error,
            format!("`{label}` could not be checked: {error}"),
            "fix the index URL, network or credentials (URL userinfo or ~/.netrc) and run again"
                .to_string(),
        ),
        Problem::UnreadablePage(error) => (
            Code::UnreadablePage,
            Severity::Error,
            format!("`{label}` could not be checked: {error}"),
            "the index answered, but not with a project page: check that the index URL names the folder of project pages (such as `.../simple/`) and that the server sends pages as HTML or PEP 691 JSON".to_string(),
        ),
        Problem::NotCached(error) => (
            Code::NotResolvedOffline,
            Severity::Warning,
            format!("`{label}` was not resolved: {error}"),
            "run once without `--offline` to fill the cache".to_string(),
        ),
        Problem::NoMatchingVersion {
            nearest,
            only_yanked,
        } => {
            let (why, help) = if *only_yanked {
                (
                    " (only yanked releases do)",
                    format!("the newest matching release is yanked: {}; widen or move the specifier", list(nearest)),
                )
            } else if nearest.is_empty() {
                ("", "the indexes list no release at all".to_string())
            } else {
                ("", format!("nearest existing releases: {}", list(nearest)))
            };
            (
                Code::NoMatchingVersion,
                Severity::Error,
                format!("no release of `{label}` matches `{spec}`{why}"),
                help,
            )
        }
        Problem::LocalVersionUnavailable { wanted } => {
            let local = wanted
                .local()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(".");
            let help = match pytorch_folder_for(&local) {
                Some(folder) => format!("`+{local}` builds come from the `{folder}` folder of the PyTorch index: add it with `--extra-index-url URL`"),
                None => format!("add the index that serves `+{local}` builds with `--extra-index-url URL`"),
            };
            (
                Code::LocalVersionUnavailable,
                Severity::Error,
                format!("`{label}=={wanted}`: no configured index provides the local version `+{local}`"),
                help,
            )
        }
        Problem::Yanked { version, reason } => {
            let reason = if reason.is_empty() {
                "no reason given".to_string()
            } else {
                format!("reason: {reason}")
            };
            (
                Code::Yanked,
                Severity::Error,
                format!("`{label}` {version} is yanked ({reason})"),
                "pin a release that is not yanked".to_string(),
            )
        }
        Problem::RequiresPython { version, requires } => (
            Code::RequiresPython,
            Severity::Error,
            format!("`{spec}` resolves to {version}, which requires Python `{requires}`; the target is {python}"),
            format!("pick a release that supports {python}, or set `--python-version`"),
        ),
        Problem::NoCompatibleWheel {
            version,
            sdist,
            forbidden,
            build_needed,
        } => {
            let platform = &target.platform;
            if *build_needed {
                (
                    Code::NoCompatibleWheel,
                    Severity::Warning,
                    format!("no wheel of `{label}` {version} fits {python} on {platform}: pip would build the sdist"),
                    "building needs a compiler and the build dependencies; pin a release with a wheel for the target".to_string(),
                )
            } else {
                let why = if *forbidden {
                    "and `--only-binary` forbids building the sdist"
                } else if *sdist {
                    "and pip may not use the sdist"
                } else {
                    "and there is no sdist to build"
                };
                (
                    Code::NoCompatibleWheel,
                    Severity::Error,
                    format!("no file of `{label}` {version} installs on {python} on {platform}: no compatible wheel {why}"),
                    "pick a release with wheels for the target, or change `--python-version`/`--platform`".to_string(),
                )
            }
        }
        Problem::DependencyConfusion { indexes } => (
            Code::DependencyConfusion,
            Severity::Warning,
            format!("`{label}` exists on several indexes ({}): pip merges them and installs the highest version from any", indexes.join(", ")),
            "make sure every index that lists it is yours, and pin with `--hash`".to_string(),
        ),
    };
    super::finding(code, severity, requirement, message, help)
}
