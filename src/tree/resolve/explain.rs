//! Why there is no solution, in words: PubGrub's derivation tree told with
//! the compat-db rules it involves.

use std::collections::BTreeSet;

use pubgrub::{
    DefaultStringReporter, DerivationTree, Derived, External, Map, ReportFormatter, Reporter, Term,
    VersionSet,
};

use crate::compat::local_label;

use super::{Node, Unusable};
use crate::compat::CompatDb;
use crate::tree::range::VersionRange;

/// The derivation of an unsatisfiable problem in words, and the compat-db
/// rules it involves with their symptom and fix.
pub(super) fn explain(
    tree: &DerivationTree<Node, VersionRange, Unusable>,
    compat: &CompatDb,
) -> String {
    let mut text = match tree {
        // Collapsing can leave one edge whose target has no release at all.
        DerivationTree::External(
            external @ External::FromDependencyOf(_, _, dependency, range),
        ) => format!(
            "Because {} and there is no release of {}, the requirements cannot be locked.",
            Explainer.format_external(external),
            term_text(dependency, range),
        ),
        _ => DefaultStringReporter::report_with_formatter(tree, &Explainer),
    };
    let rules: BTreeSet<&str> = tree
        .packages()
        .into_iter()
        .filter_map(|node| match node {
            Node::Conflict(_, rule) | Node::SameBuild(rule) => Some(&**rule),
            _ => None,
        })
        .collect();
    for rule in rules {
        text.push_str(&format!("\n\n{}", rule_note(rule, compat)));
    }
    text
}

pub(super) fn rule_note(rule: &str, compat: &CompatDb) -> String {
    if let Some(broken) = compat.broken.iter().find(|broken| broken.info.id == rule) {
        let members: Vec<String> = broken
            .packages
            .iter()
            .map(|(name, range)| format!("{name}{range}"))
            .collect();
        return format!(
            "compat-db rule `{rule}`: {} break together: {}\n  fix: {}\n  source: {}",
            members.join(" with "),
            broken.symptom,
            broken.fix,
            broken.info.source
        );
    }
    if let Some(variants) = compat
        .build_variants
        .iter()
        .find(|variants| variants.info.id == rule)
    {
        return format!(
            "compat-db rule `{rule}`: {} must all be the same build (local label){}\n  source: {}",
            variants.packages.join(", "),
            variants
                .symptom
                .as_deref()
                .map(|symptom| format!("; otherwise: {symptom}"))
                .unwrap_or_default(),
            variants.info.source
        );
    }
    match compat.families.iter().find(|family| family.info.id == rule) {
        Some(family) => format!(
            "compat-db rule `{rule}`: {} releases must match{}\n  source: {}",
            family.packages.join(", "),
            family
                .symptom
                .as_deref()
                .map(|symptom| format!(" ({symptom})"))
                .unwrap_or_default(),
            family.info.source
        ),
        None => format!("compat-db rule `{rule}`"),
    }
}

/// Words for PubGrub's derivation: specifiers glued to names, the root as
/// "the requirements", conflict guards as the rule they stand for.
pub(super) struct Explainer;

pub(super) fn term_text(node: &Node, range: &VersionRange) -> String {
    match node {
        Node::Package(_) | Node::Extra(..) => format!("{node}{range}"),
        Node::Root | Node::Conflict(..) | Node::SameBuild(_) => node.to_string(),
    }
}

pub(super) type Terms = Map<Node, Term<VersionRange>>;
pub(super) type Ext = External<Node, VersionRange, Unusable>;
pub(super) type Der = Derived<Node, VersionRange, Unusable>;

impl ReportFormatter<Node, VersionRange, Unusable> for Explainer {
    type Output = String;

    fn format_external(&self, external: &Ext) -> String {
        match external {
            External::NotRoot(..) => "we are locking the requirements".to_string(),
            External::NoVersions(Node::Conflict(_, rule), _) => {
                format!("compat-db rule `{rule}` forbids the combination")
            }
            External::NoVersions(node, range) => {
                if range == &VersionRange::full() {
                    format!("there is no release of {node}")
                } else {
                    format!("there is no release of {}", term_text(node, range))
                }
            }
            External::Custom(node, range, reason) => format!("{} {reason}", term_text(node, range)),
            External::FromDependencyOf(Node::Root, _, dependency, range) => {
                format!("the requirements ask for {}", term_text(dependency, range))
            }
            External::FromDependencyOf(node, range, Node::Conflict(_, rule), _) => format!(
                "{} is part of the known-broken combination `{rule}` (compat-db)",
                term_text(node, range)
            ),
            External::FromDependencyOf(node, range, Node::SameBuild(rule), label) => {
                let label = label
                    .only_version()
                    .and_then(local_label)
                    .unwrap_or_default();
                format!(
                    "{} is a `+{label}` build (compat-db rule `{rule}`: one build for all members)",
                    term_text(node, range)
                )
            }
            External::FromDependencyOf(node, range, dependency, dependency_range) => format!(
                "{} depends on {}",
                term_text(node, range),
                term_text(dependency, dependency_range)
            ),
        }
    }

    fn format_terms(&self, terms: &Terms) -> String {
        let mut sorted: Vec<(&Node, &Term<VersionRange>)> = terms.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        match sorted.as_slice() {
            [] => "version solving failed".to_string(),
            [(Node::Root, Term::Positive(_))] => "the requirements cannot be locked".to_string(),
            [(node, Term::Positive(range))] => format!("{} is forbidden", term_text(node, range)),
            [(node, Term::Negative(range))] => format!("{} is required", term_text(node, range)),
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))]
            | [(p2, Term::Negative(r2)), (p1, Term::Positive(r1))] => self.format_external(
                &External::FromDependencyOf((*p1).clone(), r1.clone(), (*p2).clone(), r2.clone()),
            ),
            slice => {
                // An incompatibility {P1, P2, not N1} means: P1 and P2 need N1.
                let positives: Vec<String> = slice
                    .iter()
                    .filter_map(|(node, term)| match term {
                        Term::Positive(range) => Some(term_text(node, range)),
                        Term::Negative(_) => None,
                    })
                    .collect();
                let negatives: Vec<String> = slice
                    .iter()
                    .filter_map(|(node, term)| match (node, term) {
                        (Node::Conflict(_, rule) | Node::SameBuild(rule), Term::Negative(_)) => {
                            Some(format!("compat-db rule `{rule}` to allow it"))
                        }
                        (_, Term::Negative(range)) => Some(term_text(node, range)),
                        (_, Term::Positive(_)) => None,
                    })
                    .collect();
                match (positives.is_empty(), negatives.is_empty()) {
                    (_, true) => format!("{} cannot be locked together", positives.join(" and ")),
                    (true, false) => format!("one of {} is required", negatives.join(", ")),
                    (false, false) => format!(
                        "{} requires {}",
                        positives.join(" and "),
                        negatives.join(" or ")
                    ),
                }
            }
        }
    }

    fn explain_both_external(&self, first: &Ext, second: &Ext, terms: &Terms) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(first),
            self.format_external(second),
            self.format_terms(terms)
        )
    }

    fn explain_both_ref(
        &self,
        first_id: usize,
        first: &Der,
        second_id: usize,
        second: &Der,
        terms: &Terms,
    ) -> String {
        format!(
            "Because {} ({first_id}) and {} ({second_id}), {}.",
            self.format_terms(&first.terms),
            self.format_terms(&second.terms),
            self.format_terms(terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        id: usize,
        derived: &Der,
        external: &Ext,
        terms: &Terms,
    ) -> String {
        format!(
            "Because {} ({id}) and {}, {}.",
            self.format_terms(&derived.terms),
            self.format_external(external),
            self.format_terms(terms)
        )
    }

    fn and_explain_external(&self, external: &Ext, terms: &Terms) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(external),
            self.format_terms(terms)
        )
    }

    fn and_explain_ref(&self, id: usize, derived: &Der, terms: &Terms) -> String {
        format!(
            "And because {} ({id}), {}.",
            self.format_terms(&derived.terms),
            self.format_terms(terms)
        )
    }

    fn and_explain_prior_and_external(&self, prior: &Ext, external: &Ext, terms: &Terms) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior),
            self.format_external(external),
            self.format_terms(terms)
        )
    }
}
