//! The JSON documents of `list` and `audit` (schema 1). These layout structs
//! are the documented schema; the domain types stay free to change.

use std::io::Write;

use serde::Serialize;

use crate::audit::deep::Closure;
use crate::audit::{AuditOutcome, Finding, Severity};
use crate::index::discovery::IndexConfig;
use crate::requirements::{InstallOptions, Requirement, RequirementSet};
use crate::select::{Resolution, Resolved};
use crate::target::Target;

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
struct ResolvedView<'a> {
    version: String,
    index: &'a str,
    matching_releases: usize,
    yanked: Option<&'a str>,
    needs_build: bool,
    files: &'a [String],
    upload_time: Option<&'a str>,
}

impl<'a> From<&'a Resolved> for ResolvedView<'a> {
    fn from(resolved: &'a Resolved) -> Self {
        ResolvedView {
            version: resolved.version.to_string(),
            index: &resolved.index,
            matching_releases: resolved.matching_releases,
            yanked: resolved.yanked.as_deref(),
            needs_build: resolved.needs_build,
            files: &resolved.files,
            upload_time: resolved.upload_time.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct AuditedRequirementView<'a> {
    #[serde(flatten)]
    requirement: RequirementView<'a>,
    /// `resolved`, `unresolved`, `skipped` (markers exclude the target) or
    /// `not-from-index` (URLs, paths, constraints).
    status: &'static str,
    resolved: Option<ResolvedView<'a>>,
}

/// What an audit asked the indexes, for the report.
#[derive(Debug, Clone, Copy)]
pub struct IndexContext<'a> {
    pub sources: &'a IndexConfig,
    pub target: &'a Target,
    /// Parallel to the set's requirements.
    pub resolutions: &'a [Resolution],
    pub offline: bool,
    /// The resolved dependency tree, with `--deep`.
    pub closure: Option<&'a Closure<'a>>,
}

#[derive(Serialize)]
struct ClosureView<'a> {
    name: String,
    version: String,
    index: &'a str,
    /// `-r FILE` for a requirements file, else the packages that need it.
    via: Vec<String>,
    pinned: bool,
}

#[derive(Serialize)]
struct IndexView {
    url: String,
    source: String,
}

#[derive(Serialize)]
struct TargetView {
    python: String,
    python_source: String,
    platform: String,
    platform_source: String,
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
    /// `online`, or `offline` (answers from the cache only).
    mode: &'static str,
    indexes: Vec<IndexView>,
    find_links: &'a [String],
    target: TargetView,
    requirements: Vec<AuditedRequirementView<'a>>,
    findings: Vec<FindingView<'a>>,
    summary: Summary,
    /// Only with `--deep`; `null` when the tree could not be resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    closure: Option<Option<Vec<ClosureView<'a>>>>,
}

/// Write the `reqlock list --format json` document.
pub fn write_list_document(out: &mut dyn Write, set: &RequirementSet) -> std::io::Result<()> {
    let document = ListDocument {
        schema: SCHEMA_VERSION,
        requirements: set.requirements.iter().map(RequirementView::from).collect(),
        options: OptionsView::from(&set.options),
    };
    write_pretty(out, &document)
}

/// Write the `reqlock audit --format json` document.
pub fn write_audit_document(
    out: &mut dyn Write,
    set: &RequirementSet,
    outcome: &AuditOutcome,
    context: &IndexContext<'_>,
) -> std::io::Result<()> {
    let target = context.target;
    let document = AuditDocument {
        schema: SCHEMA_VERSION,
        mode: if context.offline { "offline" } else { "online" },
        indexes: context
            .sources
            .indexes
            .iter()
            .map(|index| IndexView {
                url: index.url.to_string(),
                source: index.source.to_string(),
            })
            .collect(),
        find_links: &context.sources.find_links,
        target: TargetView {
            python: format!("{}.{}", target.python.0, target.python.1),
            python_source: target.python_derived.to_string(),
            platform: target.platform.to_string(),
            platform_source: target.platform_derived.to_string(),
        },
        requirements: set
            .requirements
            .iter()
            .zip(context.resolutions)
            .map(|(requirement, resolution)| {
                let (status, resolved) = match resolution {
                    Resolution::NotFromIndex => ("not-from-index", None),
                    Resolution::Skipped => ("skipped", None),
                    Resolution::Checked {
                        resolved: Some(resolved),
                        ..
                    } => ("resolved", Some(ResolvedView::from(resolved))),
                    Resolution::Checked { resolved: None, .. } => ("unresolved", None),
                };
                AuditedRequirementView {
                    requirement: RequirementView::from(requirement),
                    status,
                    resolved,
                }
            })
            .collect(),
        findings: outcome.findings.iter().map(FindingView::from).collect(),
        summary: Summary::of(outcome),
        closure: context.closure.map(|closure| match closure {
            Closure::Failed(_) => None,
            Closure::Resolved(packages) => Some(
                packages
                    .iter()
                    .map(|package| ClosureView {
                        name: package.package.name.to_string(),
                        version: package.package.version.to_string(),
                        index: &package.package.index,
                        via: package
                            .package
                            .via
                            .iter()
                            .map(ToString::to_string)
                            .collect(),
                        pinned: package.pinned,
                    })
                    .collect(),
            ),
        }),
    };
    write_pretty(out, &document)
}

/// Streamed, so that a large document is never held in memory whole.
fn write_pretty(out: &mut dyn Write, document: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, document).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}
