//! The one finding model every check produces and every renderer reads: a
//! [`Code`] (the kind of finding, with a stable kebab-case id derived from
//! the variant's name), a [`Severity`], a primary [`Location`] and the
//! [`Related`] places that explain it (the other pin of a conflict, the
//! compat-db rule, the line that pulls a package in).

use strum::{EnumIter, EnumMessage, EnumString, IntoEnumIterator, IntoStaticStr};

pub use crate::diagnostic::{Location, Severity};

/// Every kind of finding reqlock reports. The id is the variant's name in
/// kebab-case (`LooseRange` is `loose-range`); the doc comment is the
/// one-line description that help texts and SARIF show. Renaming a
/// variant renames its id: a snapshot test of [`Code::all`] catches it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    EnumString,
    IntoStaticStr,
    EnumMessage,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Code {
    /// a requirement with no version constraint at all
    Unpinned,
    /// a version specifier that admits more than one release
    LooseRange,
    /// a VCS or URL requirement without an immutable ref or a hash
    UnpinnedUrl,
    /// a package required more than once
    Duplicate,
    /// pins or constraints of one package that cannot all hold
    ConflictingPins,
    /// a requirement without a hash while pip is in hash-checking mode
    MissingHash,
    /// a package no configured index knows
    UnknownPackage,
    /// no release on the indexes matches the specifier
    NoMatchingVersion,
    /// a pin to a release its authors yanked
    Yanked,
    /// the matching releases do not support the target Python
    RequiresPython,
    /// no wheel of the release installs on the target
    NoCompatibleWheel,
    /// a local version label (`+cu121`) no configured index provides
    LocalVersionUnavailable,
    /// an index that could not be read, so the answer may be incomplete
    IndexUnreachable,
    /// an index answered with a page reqlock cannot read (garbage, wrong content type, too large)
    UnreadablePage,
    /// a package found on more than one index; pip takes the highest version from any
    DependencyConfusion,
    /// not resolved: `--offline` and no cached page, so nothing was checked for it
    NotResolvedOffline,
    /// a pin whose dependencies were not checked: its metadata could not be read
    MetadataUnavailable,
    /// a pin that another pinned release's Requires-Dist excludes
    DeclaredConflict,
    /// family members from releases that do not go together (torch and torchvision)
    MismatchedFamily,
    /// builds for different CUDA versions, or for another CUDA or driver than the target's
    CudaMismatch,
    /// a combination of releases known to break, with the error it causes
    KnownBroken,
    /// a loose range that admits a release known to break with the rest of the file
    RangeAdmitsBroken,
    /// a file that uses a verified set's packages but pins a member differently
    OutsideVerified,
    /// a dependency of the requirements that no line pins, so it drifts (--deep)
    UnpinnedTransitive,
    /// the requirements cannot be installed together on the target (--deep)
    Unresolvable,
}

impl Code {
    /// The stable id: `loose-range`.
    pub fn id(self) -> &'static str {
        self.into()
    }

    /// The code with this id, if any.
    pub fn from_id(id: &str) -> Option<Code> {
        id.parse().ok()
    }

    /// Every code, in declaration order (the order of the README's table).
    pub fn all() -> impl Iterator<Item = Code> {
        Code::iter()
    }

    /// Whether the finding says that a check could not run (so that a
    /// clean result is not mistaken for a checked one): a warning, and an
    /// error for the CI gate (`--strict`).
    pub fn is_unchecked(self) -> bool {
        matches!(self, Code::NotResolvedOffline | Code::MetadataUnavailable)
    }

    /// One line on what the code catches.
    pub fn description(self) -> &'static str {
        self.get_documentation().unwrap_or_default().trim()
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// A place that explains a finding, besides where it is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub location: Location,
    /// What is there, in a few words: "the other pin", "compat-db rule
    /// `torch-family`".
    pub message: String,
}

impl Related {
    pub fn new(location: Location, message: impl Into<String>) -> Related {
        Related {
            location,
            message: message.into(),
        }
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    /// The package it is about, normalized, when it is about one.
    pub package: Option<String>,
    /// Where it is reported: the requirement line that causes it.
    pub location: Location,
    pub related: Vec<Related>,
    pub message: String,
    pub help: String,
}

impl Finding {
    /// A finding with no related places yet.
    pub fn new(
        code: Code,
        severity: Severity,
        package: Option<String>,
        location: Location,
        message: String,
        help: String,
    ) -> Finding {
        Finding {
            code,
            severity,
            package,
            location,
            related: Vec::new(),
            message,
            help,
        }
    }

    /// The same finding with one more related place.
    pub fn with_related(mut self, location: Location, message: impl Into<String>) -> Finding {
        self.related.push(Related::new(location, message));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_are_unique_and_described() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::all() {
            assert!(seen.insert(code.id()), "{} is used twice", code.id());
            assert_eq!(Code::from_id(code.id()), Some(code));
            assert!(!code.description().is_empty(), "{code} has no description");
        }
        assert_eq!(Code::from_id("no-such-code"), None);
    }

    /// The ids are an interface (suppressions, SARIF, configuration): a
    /// renamed or dropped variant shows here.
    #[test]
    fn the_list_of_codes() {
        let list: Vec<String> = Code::all()
            .map(|code| format!("{code}: {}", code.description()))
            .collect();
        insta::assert_snapshot!(list.join("\n"));
    }
}
