//! `reqlock db check` against the index: every release the database names
//! must exist, or the rule speaks of something that was never published
//! (the OFA-VE article's `ofa==1.0.2` and `gradio==6.0.3`, for example).

use std::collections::{BTreeMap, BTreeSet};

use pep508_rs::pep440_rs::{Operator, Version, VersionSpecifiers};

use super::CompatDb;

/// A release, or a range of releases, that a rule names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedReleases {
    pub package: String,
    pub releases: VersionSpecifiers,
    pub rule: String,
}

/// Everything the database names, package by package.
pub fn named_releases(db: &CompatDb) -> Vec<NamedReleases> {
    let mut named = Vec::new();
    let mut push = |package: &str, releases: VersionSpecifiers, rule: &str| {
        named.push(NamedReleases {
            package: package.to_string(),
            releases,
            rule: rule.to_string(),
        });
    };
    for family in &db.families {
        for row in &family.releases {
            for (package, releases) in &row.members {
                push(package, releases.clone(), &family.info.id);
            }
        }
    }
    for broken in &db.broken {
        for (package, releases) in &broken.packages {
            // Open ranges (`>=2`) name no particular release; only pins and
            // bounded series (`==2.1.*`) can be checked for existence.
            if releases.iter().any(|spec| {
                matches!(
                    spec.operator(),
                    Operator::Equal | Operator::EqualStar | Operator::ExactEqual
                )
            }) {
                push(package, releases.clone(), &broken.info.id);
            }
        }
    }
    for set in &db.verified_sets {
        for (package, version) in &set.pins {
            // A local build (`+cu121`) lives on its label's index; the
            // release itself must exist on the main one.
            let public = version.clone().without_local();
            if let Ok(pin) = format!("=={public}").parse() {
                push(package, pin, &set.info.id);
            }
        }
    }
    named
}

/// The packages to fetch, sorted and without repeats.
pub fn packages(named: &[NamedReleases]) -> Vec<String> {
    let unique: BTreeSet<&str> = named.iter().map(|n| n.package.as_str()).collect();
    unique.into_iter().map(str::to_string).collect()
}

/// One problem found against the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexProblem {
    /// The index has the project, but no release the rule names.
    NeverReleased {
        named: NamedReleases,
        /// The releases nearest to what was named, for the message.
        nearest: Vec<Version>,
    },
    /// No configured index has the project at all.
    UnknownProject { package: String, rules: Vec<String> },
}

/// Compare what the database names with the releases the index has;
/// `available` maps each fetched package to its versions (`None` when no
/// index knows it).
pub fn check_against_index(
    named: &[NamedReleases],
    available: &BTreeMap<String, Option<BTreeSet<Version>>>,
) -> Vec<IndexProblem> {
    let mut problems = Vec::new();
    let mut unknown: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for entry in named {
        match available.get(&entry.package) {
            Some(Some(versions)) => {
                if versions
                    .iter()
                    .any(|version| entry.releases.contains(version))
                {
                    continue;
                }
                problems.push(IndexProblem::NeverReleased {
                    named: entry.clone(),
                    nearest: nearest(versions, &entry.releases),
                });
            }
            Some(None) => {
                let rules = unknown.entry(&entry.package).or_default();
                if !rules.contains(&entry.rule) {
                    rules.push(entry.rule.clone());
                }
            }
            None => {}
        }
    }
    problems.extend(
        unknown
            .into_iter()
            .map(|(package, rules)| IndexProblem::UnknownProject {
                package: package.to_string(),
                rules,
            }),
    );
    problems
}

/// Up to two releases on each side of the first version a specifier names.
fn nearest(versions: &BTreeSet<Version>, releases: &VersionSpecifiers) -> Vec<Version> {
    let Some(anchor) = releases.iter().next().map(|spec| spec.version().clone()) else {
        return Vec::new();
    };
    let below = versions.range(..anchor.clone()).rev().take(2);
    let above = versions.range(anchor..).take(2);
    let mut around: Vec<Version> = below.chain(above).cloned().collect();
    around.sort();
    around
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn versions(list: &[&str]) -> Option<BTreeSet<Version>> {
        Some(list.iter().map(|v| Version::from_str(v).unwrap()).collect())
    }

    #[test]
    fn reports_releases_that_were_never_published_with_their_neighbours() {
        let db = CompatDb::bundled().unwrap();
        let named = named_releases(&db);
        assert!(named
            .iter()
            .any(|n| n.package == "ofa" && n.releases.to_string() == "==1.0.2"));
        let available = BTreeMap::from([
            ("ofa".to_string(), versions(&["0.0.1", "0.1.0"])),
            ("gradio".to_string(), versions(&["6.0.1", "6.0.2", "6.1.0"])),
            ("modelscope".to_string(), None),
        ]);
        let problems = check_against_index(&named, &available);
        let never: Vec<String> = problems
            .iter()
            .filter_map(|p| match p {
                IndexProblem::NeverReleased { named, .. } => {
                    Some(format!("{}{}", named.package, named.releases))
                }
                IndexProblem::UnknownProject { .. } => None,
            })
            .collect();
        assert!(never.contains(&"ofa==1.0.2".to_string()), "{never:?}");
        assert!(never.contains(&"gradio==6.0.3".to_string()), "{never:?}");
        assert!(!never.iter().any(|n| n == "gradio==6.0.2"), "{never:?}");
        assert!(problems.contains(&IndexProblem::UnknownProject {
            package: "modelscope".into(),
            rules: vec![
                "ofa-ve-gradio603-launch-state".into(),
                "ofa-ve-image".into()
            ],
        }));
    }
}
