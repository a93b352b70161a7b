//! The JSON documents of `list` and `audit` (schema 1). These layout structs
//! are the documented schema; the domain types stay free to change.

use serde::Serialize;

use crate::audit::{AuditOutcome, Finding, Severity};
use crate::requirements::{InstallOptions, Requirement, RequirementSet};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct RequirementView<'a> {
    name: Option<String>,
    specifier: String,
    extras: Vec<String>,
    marker: Option<&'a str>,
    url: Option<&'a str>,
    editable: bool,
    constraint: bool,
    hashes: &'a [String],
    file: String,
    line: usize,
}

impl<'a> From<&'a Requirement> for RequirementView<'a> {
    fn from(requirement: &'a Requirement) -> Self {
        RequirementView {
            name: requirement.name.as_ref().map(ToString::to_string),
            specifier: requirement.specifier.to_string(),
            extras: requirement.extras.iter().map(ToString::to_string).collect(),
            marker: requirement.marker.as_deref(),
            url: requirement.url.as_deref(),
            editable: requirement.editable,
            constraint: requirement.constraint,
            hashes: &requirement.hashes,
            file: requirement.origin.file.display().to_string(),
            line: requirement.origin.line,
        }
    }
}

#[derive(Serialize)]
struct AuditedRequirementView<'a> {
    #[serde(flatten)]
    requirement: RequirementView<'a>,
    /// Filled in by index resolution; offline audits resolve nothing.
    resolved: Option<()>,
}

#[derive(Serialize)]
struct OptionsView<'a> {
    index_url: Option<&'a str>,
    extra_index_urls: &'a [String],
    find_links: &'a [String],
    no_index: bool,
    pre: bool,
    require_hashes: bool,
    only_binary: Vec<&'a str>,
    no_binary: Vec<&'a str>,
}

impl<'a> From<&'a InstallOptions> for OptionsView<'a> {
    fn from(options: &'a InstallOptions) -> Self {
        OptionsView {
            index_url: options.index_url.as_deref(),
            extra_index_urls: &options.extra_index_urls,
            find_links: &options.find_links,
            no_index: options.no_index,
            pre: options.pre,
            require_hashes: options.require_hashes,
            only_binary: options.only_binary.iter().map(String::as_str).collect(),
            no_binary: options.no_binary.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Serialize)]
struct ListDocument<'a> {
    schema: u32,
    requirements: Vec<RequirementView<'a>>,
    options: OptionsView<'a>,
}

#[derive(Serialize)]
struct FindingView<'a> {
    rule: &'static str,
    severity: Severity,
    package: Option<&'a str>,
    file: String,
    line: usize,
    message: &'a str,
    help: &'a str,
}

impl<'a> From<&'a Finding> for FindingView<'a> {
    fn from(finding: &'a Finding) -> Self {
        FindingView {
            rule: finding.rule.id(),
            severity: finding.severity,
            package: finding.package.as_deref(),
            file: finding.file.display().to_string(),
            line: finding.line,
            message: &finding.message,
            help: &finding.help,
        }
    }
}

#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
    pub suppressed: usize,
}

impl Summary {
    pub fn of(outcome: &AuditOutcome) -> Summary {
        let count = |severity| {
            outcome
                .findings
                .iter()
                .filter(|f| f.severity == severity)
                .count()
        };
        Summary {
            error: count(Severity::Error),
            warning: count(Severity::Warning),
            info: count(Severity::Info),
            suppressed: outcome.suppressed,
        }
    }
}

#[derive(Serialize)]
struct AuditDocument<'a> {
    schema: u32,
    requirements: Vec<AuditedRequirementView<'a>>,
    findings: Vec<FindingView<'a>>,
    summary: Summary,
}

/// The `reqlock list --format json` document.
pub fn list_document(set: &RequirementSet) -> String {
    let document = ListDocument {
        schema: SCHEMA_VERSION,
        requirements: set.requirements.iter().map(RequirementView::from).collect(),
        options: OptionsView::from(&set.options),
    };
    to_pretty(&document)
}

/// The `reqlock audit --format json` document.
pub fn audit_document(set: &RequirementSet, outcome: &AuditOutcome) -> String {
    let document = AuditDocument {
        schema: SCHEMA_VERSION,
        requirements: set
            .requirements
            .iter()
            .map(|requirement| AuditedRequirementView {
                requirement: RequirementView::from(requirement),
                resolved: None,
            })
            .collect(),
        findings: outcome.findings.iter().map(FindingView::from).collect(),
        summary: Summary::of(outcome),
    };
    to_pretty(&document)
}

fn to_pretty(document: &impl Serialize) -> String {
    // Serializing plain structs of strings, numbers and lists cannot fail.
    let mut text = serde_json::to_string_pretty(document).unwrap_or_default();
    text.push('\n');
    text
}
