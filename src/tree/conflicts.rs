//! The compat database as resolver constraints: each rule becomes sets of
//! (package, versions) that must never all be in one lock.

use std::str::FromStr;
use std::sync::Arc;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::PackageName;

use crate::compat::{CompatDb, Evidence};

/// Which versions of a package take part in a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    Within(VersionSpecifiers),
    Outside(VersionSpecifiers),
    /// Any release: the rule forbids the package next to the others.
    Any,
}

impl Membership {
    /// Ranges in the database ignore local labels (`torch<2.3` holds
    /// `2.1.0+cu121`).
    pub fn holds(&self, version: &Version) -> bool {
        let public = version.clone().without_local();
        match self {
            Membership::Within(range) => range.contains(&public),
            Membership::Outside(range) => !range.contains(&public),
            Membership::Any => true,
        }
    }
}

/// Packages that must not all be locked at versions of their membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConflictSet {
    /// The compat-db rule id, shown in explanations.
    pub rule: Arc<str>,
    pub members: Vec<(PackageName, Membership)>,
}

/// The compat-db rule names a package that is not a valid name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("compat-db rule `{rule}` names `{name}`, which is not a package name")]
pub struct ConflictRuleError {
    pub rule: String,
    pub name: String,
}

fn package(rule: &str, name: &str) -> Result<PackageName, ConflictRuleError> {
    PackageName::from_str(name).map_err(|_| ConflictRuleError {
        rule: rule.to_string(),
        name: name.to_string(),
    })
}

/// Whether a rule of this evidence constrains a lock: `reported` rules are
/// advice, unless the user trusts them (`--trust-reported`).
fn constrains(evidence: Evidence, trust_reported: bool) -> bool {
    evidence == Evidence::Verified || trust_reported
}

/// The conflicts of every `verified` broken combination and family rule,
/// and of the `reported` ones when `trust_reported`.
pub fn conflict_sets(
    db: &CompatDb,
    trust_reported: bool,
) -> Result<Vec<ConflictSet>, ConflictRuleError> {
    let mut sets = Vec::new();
    for broken in db
        .broken
        .iter()
        .filter(|broken| constrains(broken.info.evidence, trust_reported))
    {
        let rule: Arc<str> = Arc::from(broken.info.id.as_str());
        let members = broken
            .packages
            .iter()
            .map(|(name, range)| Ok((package(&rule, name)?, Membership::Within(range.clone()))))
            .collect::<Result<Vec<_>, ConflictRuleError>>()?;
        sets.push(ConflictSet { rule, members });
    }
    for family in db
        .families
        .iter()
        .filter(|family| constrains(family.info.evidence, trust_reported))
    {
        let rule: Arc<str> = Arc::from(family.info.id.as_str());
        let Some((anchor_name, members)) = family.packages.split_first() else {
            continue;
        };
        let anchor = package(&rule, anchor_name)?;
        for release in &family.releases {
            let Some(anchor_range) = release.members.get(anchor_name) else {
                continue;
            };
            // The row whose anchor range holds the anchor decides what every
            // other member may be; a member the row leaves out has no release
            // that goes with that anchor.
            for member in members {
                let membership = match release.members.get(member) {
                    Some(range) => Membership::Outside(range.clone()),
                    None => Membership::Any,
                };
                sets.push(ConflictSet {
                    rule: Arc::clone(&rule),
                    members: vec![
                        (anchor.clone(), Membership::Within(anchor_range.clone())),
                        (package(&rule, member)?, membership),
                    ],
                });
            }
        }
    }
    Ok(sets)
}

/// Packages whose local labels must agree (`+cu121` with `+cu121`), from a
/// `build_variants` rule. Members without a label are not constrained: the
/// default index's builds carry none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SameBuildRule {
    pub rule: Arc<str>,
    pub packages: Vec<PackageName>,
}

/// The same-build rules of every `verified` `build_variants` rule (and of
/// the `reported` ones when `trust_reported`).
pub fn same_build_rules(
    db: &CompatDb,
    trust_reported: bool,
) -> Result<Vec<SameBuildRule>, ConflictRuleError> {
    db.build_variants
        .iter()
        .filter(|variants| constrains(variants.info.evidence, trust_reported))
        .map(|variants| {
            Ok(SameBuildRule {
                rule: Arc::from(variants.info.id.as_str()),
                packages: variants
                    .packages
                    .iter()
                    .map(|name| package(&variants.info.id, name))
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::local_label;

    fn version(text: &str) -> Version {
        Version::from_str(text).expect("valid version")
    }

    #[test]
    fn bundled_rules_become_conflicts() {
        let db = CompatDb::bundled().expect("bundled database loads");
        let sets = conflict_sets(&db, false).expect("valid names");
        assert!(
            !sets.iter().any(|set| &*set.rule == "ofa-modelscope-1-12"),
            "reported rules are advice"
        );
        let trusted = conflict_sets(&db, true).expect("valid names");
        assert!(trusted.len() > sets.len());
        let fastapi = sets
            .iter()
            .find(|set| &*set.rule == "fastapi-pydantic2")
            .expect("verified broken rule");
        assert_eq!(fastapi.members.len(), 2);
        let torch_rows: Vec<&ConflictSet> = sets
            .iter()
            .filter(|set| &*set.rule == "torch-family")
            .filter(|set| set.members[0].1.holds(&version("2.1.0+cu121")))
            .collect();
        assert_eq!(
            torch_rows.len(),
            2,
            "torchvision and torchaudio rows of 2.1"
        );
        let vision = &torch_rows[0].members[1];
        assert_eq!(vision.0.as_ref(), "torchvision");
        assert!(vision.1.holds(&version("0.17.0")));
        assert!(!vision.1.holds(&version("0.16.2+cu121")));
        let builds = same_build_rules(&db, false).expect("valid names");
        assert_eq!(&*builds[0].rule, "torch-local-labels");
        assert_eq!(
            local_label(&version("2.1.0+cu121")).as_deref(),
            Some("cu121")
        );
        assert_eq!(local_label(&version("2.1.0")), None);
    }
}
