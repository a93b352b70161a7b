//! Loading the database: the raw TOML shapes (unknown fields rejected) and
//! the loader that checks each rule and keeps its location.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use serde::Deserialize;
use toml::Spanned;

use super::{
    dotted_numbers, Broken, BuildVariants, CompatDb, CudaDrivers, DbProblem, DriverRequirement,
    Evidence, Family, FamilyRelease, Label, RuleInfo, VerifiedSet,
};
use crate::diagnostic::Location;
use crate::requirements::canonical_name;

/// Check one file's rules into `db`, adding every problem found.
pub(super) fn file(
    db: &mut CompatDb,
    file: &str,
    text: &str,
    problems: &mut Vec<DbProblem>,
    seen_ids: &mut HashSet<String>,
) {
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(err) => {
            let line = err.span().map_or(1, |span| {
                text[..span.start.min(text.len())].matches('\n').count() + 1
            });
            problems.push(DbProblem {
                file: file.to_string(),
                line,
                message: err.message().to_string(),
            });
            return;
        }
    };
    let mut loader = Loader {
        file,
        text,
        problems,
        seen_ids,
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
    index_path: Option<Spanned<String>>,
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
        let index_path = raw.index_path.map(|path| {
            let at = path.span().start;
            let path = path.into_inner();
            if !path.starts_with('/') || !path.contains("{label}") || path.contains("://") {
                self.problem(
                    at,
                    format!("`index_path = \"{path}\"` must be a path such as `/whl/{{label}}`, not a URL"),
                );
            }
            path
        });
        BuildVariants {
            info,
            packages,
            symptom: raw.symptom,
            index_path,
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
