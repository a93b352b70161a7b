//! The compatibility database: curated, cited knowledge of which releases go
//! together and which break, kept as TOML data in `compat-db/` and embedded
//! in the binary. The schema is documented in `compat-db/README.md`.
//!
//! Loading validates everything up front (ids, sources, specifiers, names),
//! so the checks in [`check`] can trust the data.

pub mod verify;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::Location;
use crate::requirements::canonical_name;

/// The database files shipped inside the binary. A unit test checks that
/// every file in `compat-db/` is listed here.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "compat-db/known-broken.toml",
        include_str!("../../compat-db/known-broken.toml"),
    ),
    (
        "compat-db/numpy2-abi.toml",
        include_str!("../../compat-db/numpy2-abi.toml"),
    ),
    (
        "compat-db/pytorch.toml",
        include_str!("../../compat-db/pytorch.toml"),
    ),
    (
        "compat-db/verified-sets.toml",
        include_str!("../../compat-db/verified-sets.toml"),
    ),
];

/// How far a rule's claim was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// Read in the cited source, or checked against the index.
    Verified,
    /// Claimed somewhere, not confirmed.
    Reported,
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Evidence::Verified => "verified",
            Evidence::Reported => "reported",
        })
    }
}

/// What every rule carries besides its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: String,
    pub evidence: Evidence,
    pub source: String,
    pub notes: Option<String>,
    /// Where the rule is written: its file and the line and column of its
    /// `id`, so that a finding can point at the rule it applies.
    pub location: Location,
}

/// Releases that must go together; the first package is the anchor.
#[derive(Debug, Clone)]
pub struct Family {
    pub info: RuleInfo,
    pub packages: Vec<String>,
    pub symptom: Option<String>,
    pub releases: Vec<FamilyRelease>,
}

#[derive(Debug, Clone)]
pub struct FamilyRelease {
    /// Member name → the releases of it that go with this row.
    pub members: BTreeMap<String, VersionSpecifiers>,
    pub python: Option<VersionSpecifiers>,
}

/// Local-label builds (`+cu121`) that all members of a family must share.
#[derive(Debug, Clone)]
pub struct BuildVariants {
    pub info: RuleInfo,
    pub packages: Vec<String>,
    pub symptom: Option<String>,
    /// Where a label's builds are published, with `{label}` in it.
    pub index: Option<String>,
    pub labels: Vec<Label>,
    /// The CUDA version of the unlabelled builds, by anchor release.
    pub default_builds: Vec<(VersionSpecifiers, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub label: String,
    /// `None` for CPU-only builds.
    pub cuda: Option<String>,
}

/// The minimum NVIDIA driver for each CUDA toolkit.
#[derive(Debug, Clone)]
pub struct CudaDrivers {
    pub info: RuleInfo,
    pub drivers: Vec<DriverRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverRequirement {
    pub cuda: String,
    pub linux: String,
    pub windows: Option<String>,
}

/// Packages whose releases in the given ranges break together.
#[derive(Debug, Clone)]
pub struct Broken {
    pub info: RuleInfo,
    pub packages: Vec<(String, VersionSpecifiers)>,
    pub symptom: String,
    pub fix: String,
}

/// Exact pins known to work together.
#[derive(Debug, Clone)]
pub struct VerifiedSet {
    pub info: RuleInfo,
    pub anchors: Vec<String>,
    pub pins: BTreeMap<String, Version>,
    pub cuda: Option<String>,
    pub python: Option<VersionSpecifiers>,
}

/// The whole database, validated.
#[derive(Debug, Clone, Default)]
pub struct CompatDb {
    pub families: Vec<Family>,
    pub build_variants: Vec<BuildVariants>,
    pub cuda_drivers: Vec<CudaDrivers>,
    pub broken: Vec<Broken>,
    pub verified_sets: Vec<VerifiedSet>,
}

/// One problem in a database file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbProblem {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DbProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: error: {}", self.file, self.line, self.message)
    }
}

/// The database could not be loaded; every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[error("invalid compat database: {} problem(s)", .problems.len())]
pub struct DbError {
    pub problems: Vec<DbProblem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    family: Vec<RawFamily>,
    #[serde(default)]
    build_variants: Vec<RawVariants>,
    #[serde(default)]
    cuda_drivers: Vec<RawDrivers>,
    #[serde(default)]
    broken: Vec<RawBroken>,
    #[serde(default)]
    verified_set: Vec<RawVerifiedSet>,
}

/// Declares the raw (just deserialized) form of a rule kind: the fields
/// every rule has, then its own. `deny_unknown_fields` catches typos, which
/// rules out `#[serde(flatten)]` for the shared part.
macro_rules! raw_rule {
    ($name:ident { $($(#[$meta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct $name {
            id: Spanned<String>,
            evidence: Evidence,
            source: Spanned<String>,
            notes: Option<String>,
            $($(#[$meta])* $field: $ty,)*
        }

        impl $name {
            fn info(&self) -> RawInfo<'_> {
                RawInfo {
                    id: &self.id,
                    evidence: self.evidence,
                    source: &self.source,
                    notes: self.notes.clone(),
                }
            }
        }
    };
}

struct RawInfo<'a> {
    id: &'a Spanned<String>,
    evidence: Evidence,
    source: &'a Spanned<String>,
    notes: Option<String>,
}

raw_rule!(RawFamily {
    packages: Spanned<Vec<String>>,
    symptom: Option<String>,
    releases: Vec<Spanned<BTreeMap<String, String>>>,
});

raw_rule!(RawVariants {
    packages: Spanned<Vec<String>>,
    symptom: Option<String>,
    index: Option<String>,
    labels: Vec<Spanned<RawLabel>>,
    #[serde(default)]
    default_builds: Vec<Spanned<RawDefaultBuild>>,
});

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabel {
    label: String,
    cuda: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaultBuild {
    release: String,
    cuda: String,
}

raw_rule!(RawDrivers {
    drivers: Vec<Spanned<RawDriver>>,
});

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDriver {
    cuda: String,
    linux: String,
    windows: Option<String>,
}

raw_rule!(RawBroken {
    packages: Spanned<BTreeMap<String, String>>,
    symptom: String,
    fix: String,
});

raw_rule!(RawVerifiedSet {
    anchors: Spanned<Vec<String>>,
    pins: Spanned<BTreeMap<String, String>>,
    cuda: Option<String>,
    python: Option<Spanned<String>>,
});

/// Collects problems while turning raw TOML into validated rules.
struct Loader<'a> {
    file: &'a str,
    text: &'a str,
    problems: &'a mut Vec<DbProblem>,
    seen_ids: &'a mut HashSet<String>,
}

impl Loader<'_> {
    fn line_of(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .matches('\n')
            .count()
            + 1
    }

    fn location_of(&self, offset: usize) -> Location {
        let before = &self.text[..offset.min(self.text.len())];
        let line_start = before.rfind('\n').map_or(0, |at| at + 1);
        Location {
            file: Arc::from(Path::new(self.file)),
            line: self.line_of(offset),
            column: before[line_start..].chars().count() + 1,
        }
    }

    fn problem(&mut self, offset: usize, message: String) {
        let line = self.line_of(offset);
        self.problems.push(DbProblem {
            file: self.file.to_string(),
            line,
            message,
        });
    }

    fn info(&mut self, raw: RawInfo) -> RuleInfo {
        let id = raw.id.get_ref().clone();
        let id_ok = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok {
            self.problem(
                raw.id.span().start,
                format!("rule id `{id}` must be lower-case letters, digits and `-`"),
            );
        }
        if !self.seen_ids.insert(id.clone()) {
            self.problem(raw.id.span().start, format!("rule id `{id}` is used twice"));
        }
        if raw.source.get_ref().trim().is_empty() {
            self.problem(
                raw.source.span().start,
                format!(
                    "rule `{id}` has an empty `source`: every rule cites where its facts come from"
                ),
            );
        }
        RuleInfo {
            id,
            evidence: raw.evidence,
            source: raw.source.get_ref().clone(),
            notes: raw.notes,
            location: self.location_of(raw.id.span().start),
        }
    }

    fn specifiers(&mut self, offset: usize, text: &str) -> VersionSpecifiers {
        match VersionSpecifiers::from_str(text) {
            Ok(specifiers) => specifiers,
            Err(err) => {
                self.problem(offset, format!("invalid version specifier `{text}`: {err}"));
                VersionSpecifiers::empty()
            }
        }
    }

    fn names(
        &mut self,
        offset: usize,
        names: &[String],
        at_least: usize,
        what: &str,
    ) -> Vec<String> {
        if names.len() < at_least {
            self.problem(offset, format!("{what} needs at least {at_least} packages"));
        }
        names.iter().map(|name| canonical_name(name)).collect()
    }

    fn family(&mut self, raw: RawFamily) -> Family {
        let info = self.info(raw.info());
        let packages_at = raw.packages.span().start;
        let packages = self.names(packages_at, raw.packages.get_ref(), 2, "a family");
        let mut releases = Vec::new();
        for row in raw.releases {
            let at = row.span().start;
            let mut members = BTreeMap::new();
            let mut python = None;
            for (key, value) in row.into_inner() {
                if key == "python" {
                    python = Some(self.specifiers(at, &value));
                    continue;
                }
                let name = canonical_name(&key);
                if !packages.contains(&name) {
                    self.problem(at, format!("`{key}` is not one of the family's packages"));
                }
                let specifiers = self.specifiers(at, &value);
                members.insert(name, specifiers);
            }
            if !packages
                .first()
                .is_some_and(|anchor| members.contains_key(anchor))
            {
                self.problem(
                    at,
                    "every release row must name the anchor (the first package)".into(),
                );
            }
            releases.push(FamilyRelease { members, python });
        }
        Family {
            info,
            packages,
            symptom: raw.symptom,
            releases,
        }
    }

    fn variants(&mut self, raw: RawVariants) -> BuildVariants {
        let info = self.info(raw.info());
        let packages_at = raw.packages.span().start;
        let packages = self.names(
            packages_at,
            raw.packages.get_ref(),
            1,
            "a build-variant rule",
        );
        let labels = raw
            .labels
            .into_iter()
            .map(|label| {
                let at = label.span().start;
                let label = label.into_inner();
                if let Some(cuda) = &label.cuda {
                    self.cuda_version(at, cuda);
                }
                Label {
                    label: label.label,
                    cuda: label.cuda,
                }
            })
            .collect();
        let default_builds = raw
            .default_builds
            .into_iter()
            .map(|build| {
                let at = build.span().start;
                let build = build.into_inner();
                self.cuda_version(at, &build.cuda);
                (self.specifiers(at, &build.release), build.cuda)
            })
            .collect();
        BuildVariants {
            info,
            packages,
            symptom: raw.symptom,
            index: raw.index,
            labels,
            default_builds,
        }
    }

    fn cuda_version(&mut self, offset: usize, cuda: &str) {
        if dotted_numbers(cuda).is_none() {
            self.problem(
                offset,
                format!("`{cuda}` is not a CUDA version such as `12.1`"),
            );
        }
    }

    fn drivers(&mut self, raw: RawDrivers) -> CudaDrivers {
        let info = self.info(raw.info());
        let drivers = raw
            .drivers
            .into_iter()
            .map(|driver| {
                let at = driver.span().start;
                let driver = driver.into_inner();
                self.cuda_version(at, &driver.cuda);
                for version in std::iter::once(&driver.linux).chain(driver.windows.as_ref()) {
                    if dotted_numbers(version).is_none() {
                        self.problem(
                            at,
                            format!("`{version}` is not a driver version such as `530.30.02`"),
                        );
                    }
                }
                DriverRequirement {
                    cuda: driver.cuda,
                    linux: driver.linux,
                    windows: driver.windows,
                }
            })
            .collect();
        CudaDrivers { info, drivers }
    }

    fn broken(&mut self, raw: RawBroken) -> Broken {
        let info = self.info(raw.info());
        let at = raw.packages.span().start;
        let packages: Vec<(String, VersionSpecifiers)> = raw
            .packages
            .into_inner()
            .into_iter()
            .map(|(name, range)| (canonical_name(&name), self.specifiers(at, &range)))
            .collect();
        if packages.len() < 2 {
            self.problem(at, "a broken combination needs at least 2 packages".into());
        }
        Broken {
            info,
            packages,
            symptom: raw.symptom,
            fix: raw.fix,
        }
    }

    fn verified_set(&mut self, raw: RawVerifiedSet) -> VerifiedSet {
        let info = self.info(raw.info());
        let pins_at = raw.pins.span().start;
        let mut pins = BTreeMap::new();
        for (name, version) in raw.pins.into_inner() {
            match Version::from_str(&version) {
                Ok(version) => {
                    pins.insert(canonical_name(&name), version);
                }
                Err(err) => self.problem(
                    pins_at,
                    format!("invalid version `{version}` for `{name}`: {err}"),
                ),
            }
        }
        let anchors_at = raw.anchors.span().start;
        let anchors = self.names(
            anchors_at,
            raw.anchors.get_ref(),
            1,
            "a verified set's `anchors`",
        );
        for anchor in &anchors {
            if !pins.contains_key(anchor) {
                self.problem(
                    anchors_at,
                    format!("anchor `{anchor}` is not among the set's pins"),
                );
            }
        }
        let python = raw.python.map(|python| {
            let at = python.span().start;
            self.specifiers(at, python.get_ref())
        });
        VerifiedSet {
            info,
            anchors,
            pins,
            cuda: raw.cuda,
            python,
        }
    }
}

/// The local label of a version, `cu121` of `2.1.0+cu121`.
pub fn local_label(version: &Version) -> Option<String> {
    let segments = version.local();
    (!segments.is_empty()).then(|| {
        segments
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(".")
    })
}

/// `12.1` → `[12, 1]`; `None` unless every part is a number.
pub fn dotted_numbers(text: &str) -> Option<Vec<u64>> {
    text.split('.').map(|part| part.parse().ok()).collect()
}

impl CompatDb {
    /// The database embedded in the binary.
    pub fn bundled() -> Result<CompatDb, DbError> {
        CompatDb::from_sources(
            BUNDLED
                .iter()
                .map(|(name, text)| (name.to_string(), text.to_string())),
        )
    }

    /// Parse and validate `(file name, TOML text)` pairs into one database.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<CompatDb, DbError> {
        let mut db = CompatDb::default();
        let mut problems = Vec::new();
        let mut seen_ids = HashSet::new();
        for (file, text) in sources {
            let raw: RawFile = match toml::from_str(&text) {
                Ok(raw) => raw,
                Err(err) => {
                    let line = err.span().map_or(1, |span| {
                        text[..span.start.min(text.len())].matches('\n').count() + 1
                    });
                    problems.push(DbProblem {
                        file: file.clone(),
                        line,
                        message: err.message().to_string(),
                    });
                    continue;
                }
            };
            let mut loader = Loader {
                file: &file,
                text: &text,
                problems: &mut problems,
                seen_ids: &mut seen_ids,
            };
            for family in raw.family {
                db.families.push(loader.family(family));
            }
            for variants in raw.build_variants {
                db.build_variants.push(loader.variants(variants));
            }
            for drivers in raw.cuda_drivers {
                db.cuda_drivers.push(loader.drivers(drivers));
            }
            for broken in raw.broken {
                db.broken.push(loader.broken(broken));
            }
            for set in raw.verified_set {
                db.verified_sets.push(loader.verified_set(set));
            }
        }
        if problems.is_empty() {
            Ok(db)
        } else {
            Err(DbError { problems })
        }
    }

    /// The bundled database (unless left out) plus extra files or folders.
    pub fn load(include_bundled: bool, extra: &[PathBuf]) -> Result<CompatDb, DbError> {
        let mut sources: Vec<(String, String)> = Vec::new();
        if include_bundled {
            sources.extend(
                BUNDLED
                    .iter()
                    .map(|(name, text)| (name.to_string(), text.to_string())),
            );
        }
        let mut problems = Vec::new();
        for path in extra {
            match read_db_path(path) {
                Ok(found) => sources.extend(found),
                Err(problem) => problems.push(problem),
            }
        }
        if !problems.is_empty() {
            return Err(DbError { problems });
        }
        CompatDb::from_sources(sources)
    }

    /// Every rule's common information, in database order.
    pub fn rules(&self) -> impl Iterator<Item = (&'static str, &RuleInfo)> {
        let families = self.families.iter().map(|rule| ("family", &rule.info));
        let variants = self
            .build_variants
            .iter()
            .map(|rule| ("build-variants", &rule.info));
        let drivers = self
            .cuda_drivers
            .iter()
            .map(|rule| ("cuda-drivers", &rule.info));
        let broken = self.broken.iter().map(|rule| ("broken", &rule.info));
        let sets = self
            .verified_sets
            .iter()
            .map(|rule| ("verified-set", &rule.info));
        families
            .chain(variants)
            .chain(drivers)
            .chain(broken)
            .chain(sets)
    }
}

fn read_db_path(path: &Path) -> Result<Vec<(String, String)>, DbProblem> {
    let problem = |message: String| DbProblem {
        file: path.display().to_string(),
        line: 0,
        message,
    };
    let files: Vec<PathBuf> = if path.is_dir() {
        let entries =
            std::fs::read_dir(path).map_err(|err| problem(format!("cannot read folder: {err}")))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|file| file.extension().is_some_and(|ext| ext == "toml"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(problem("the folder holds no .toml files".into()));
        }
        files
    } else {
        vec![path.to_path_buf()]
    };
    files
        .into_iter()
        .map(|file| {
            std::fs::read_to_string(&file)
                .map(|text| (file.display().to_string(), text))
                .map_err(|err| DbProblem {
                    file: file.display().to_string(),
                    line: 0,
                    message: format!("cannot read database file: {err}"),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_compat_db_is_bundled() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("compat-db");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".toml"))
            .map(|name| format!("compat-db/{name}"))
            .collect();
        on_disk.sort();
        let bundled: Vec<String> = BUNDLED.iter().map(|(name, _)| name.to_string()).collect();
        assert_eq!(on_disk, bundled);
    }

    #[test]
    fn bundled_database_loads() {
        let db = CompatDb::bundled().unwrap();
        assert!(
            db.broken.len() >= 16,
            "{} broken combinations",
            db.broken.len()
        );
        assert!(db.families[0].releases.len() >= 20);
    }

    #[test]
    fn problems_name_file_and_line() {
        let text = "[[broken]]\nid = \"x\"\nevidence = \"verified\"\nsource = \"\"\nsymptom = \"s\"\nfix = \"f\"\npackages = { a = \">=oops\", b = \"<1\" }\n";
        let err = CompatDb::from_sources([("bad.toml".to_string(), text.to_string())]).unwrap_err();
        let rendered: Vec<String> = err.problems.iter().map(ToString::to_string).collect();
        assert_eq!(rendered.len(), 2, "{rendered:?}");
        assert!(
            rendered[0].starts_with("bad.toml:4: error: rule `x` has an empty `source`"),
            "{rendered:?}"
        );
        assert!(
            rendered[1].starts_with("bad.toml:7: error: invalid version specifier `>=oops`"),
            "{rendered:?}"
        );
    }

    #[test]
    fn syntax_errors_and_unknown_fields_are_reported() {
        let err =
            CompatDb::from_sources([("a.toml".to_string(), "[[broken]]\nid = \n".to_string())])
                .unwrap_err();
        assert_eq!(err.problems[0].line, 2);
        let err = CompatDb::from_sources([(
            "b.toml".to_string(),
            "[[verified_set]]\nid = \"s\"\nevidence = \"verified\"\nsource = \"x\"\nanchors = [\"a\"]\npins = { a = \"1\" }\ncolour = \"red\"\n".to_string(),
        )])
        .unwrap_err();
        assert!(
            err.problems[0].message.contains("colour"),
            "{:?}",
            err.problems
        );
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let rule = "[[broken]]\nid = \"same\"\nevidence = \"verified\"\nsource = \"s\"\nsymptom = \"s\"\nfix = \"f\"\npackages = { a = \">=1\", b = \"<1\" }\n";
        let err = CompatDb::from_sources([
            ("a.toml".to_string(), rule.to_string()),
            ("b.toml".to_string(), rule.to_string()),
        ])
        .unwrap_err();
        assert_eq!(err.problems[0].file, "b.toml");
        assert!(err.problems[0].message.contains("used twice"));
    }
}
