//! The compatibility database: curated, cited knowledge of which releases go
//! together and which break, kept as TOML data in `compat-db/` and embedded
//! in the binary. The schema is documented in `compat-db/README.md`.
//!
//! Loading validates everything up front (ids, sources, specifiers, names),
//! so the checks in [`check`] can trust the data.

mod load;
pub mod verify;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use serde::Deserialize;

use crate::diagnostic::Location;

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
    /// The folder of the family's own index where a label's builds are
    /// published (`/whl/{label}`): a path, never a host, so the database
    /// names no index and the user's configuration decides which one.
    pub index_path: Option<String>,
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
            load::file(&mut db, &file, &text, &mut problems, &mut seen_ids);
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
    fn a_label_index_is_a_folder_never_a_host() {
        let rule = |path: &str| {
            format!("[[build_variants]]\nid = \"v\"\nevidence = \"verified\"\nsource = \"s\"\npackages = [\"t\"]\nindex_path = \"{path}\"\nlabels = [ {{ label = \"cpu\" }} ]\n")
        };
        assert!(CompatDb::from_sources([("ok.toml".to_string(), rule("/whl/{label}"))]).is_ok());
        let err = CompatDb::from_sources([(
            "url.toml".to_string(),
            rule("https://example.invalid/whl/{label}"),
        )])
        .unwrap_err();
        assert_eq!(err.problems[0].line, 6, "{:?}", err.problems);
        assert!(
            err.problems[0].message.contains("not a URL"),
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
