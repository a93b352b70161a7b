//! Lockfile formats: a resolved tree ([`crate::tree`]) written as a pip
//! requirements file with hashes ([`requirements_txt`]) or as a PEP 751
//! `pylock.toml` ([`pylock`]), written atomically or compared with the
//! lockfile on disk; and the versions of an existing lockfile, kept as
//! preferences of the next resolution.

pub mod output;
pub mod pylock;
pub mod requirements_txt;

use std::collections::BTreeMap;
use std::path::Path;

use pep508_rs::pep440_rs::{Operator, Version};
use pep508_rs::PackageName;

use crate::requirements::{self, ParseSettings, RequirementSet};

/// What `reqlock lock` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A pip requirements file with hashes.
    Requirements,
    /// A PEP 751 `pylock.toml`.
    Pylock,
}

/// The versions of the existing lockfile `text` (read from `path`), kept
/// by the next lock unless upgraded; none when it cannot be parsed.
pub fn preferences(path: &Path, text: &str, format: Format) -> BTreeMap<PackageName, Version> {
    match format {
        Format::Pylock => pylock::Pylock::parse(text)
            .map(|pylock| pylock.preferences())
            .unwrap_or_default(),
        Format::Requirements => {
            requirements::parse_text(path, text, &ParseSettings::from_environment())
                .map(|locked| locked_versions(&locked))
                .unwrap_or_default()
        }
    }
}

/// The exact pins (`==v`, `===v`) of an existing requirements lockfile, to
/// pass as [`crate::tree::resolve::ResolveOptions::preferences`].
pub fn locked_versions(lockfile: &RequirementSet) -> BTreeMap<PackageName, Version> {
    lockfile
        .requirements
        .iter()
        .filter_map(|requirement| {
            let name = requirement.name.clone()?;
            match requirement.specifier.iter().collect::<Vec<_>>().as_slice() {
                [pin] if matches!(pin.operator(), Operator::Equal | Operator::ExactEqual) => {
                    Some((name, pin.version().clone()))
                }
                _ => None,
            }
        })
        .collect()
}
