//! The JSON documents of `list` and `audit` (schema 1). These layout structs
//! are the documented schema; the domain types stay free to change.

use std::io::Write;

use serde::Serialize;

use crate::audit::deep::Closure;
use crate::audit::{Finding, Related, Report, Severity, Summary};
use crate::requirements::{InstallOptions, Requirement, RequirementSet};
use crate::select::{Resolution, Resolved};

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
            specifier: requirement.specifier_text(),
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
    /// The finding's code (`loose-range`).
    rule: &'static str,
    severity: Severity,
    package: Option<&'a str>,
    file: String,
    line: usize,
    /// 1-based; 0 when unknown.
    column: usize,
    message: &'a str,
    help: &'a str,
    /// Other places that explain the finding.
    related: Vec<RelatedView<'a>>,
}

#[derive(Serialize)]
struct RelatedView<'a> {
    file: String,
    line: usize,
    column: usize,
    message: &'a str,
}

impl<'a> From<&'a Related> for RelatedView<'a> {
    fn from(related: &'a Related) -> Self {
        RelatedView {
            file: related.location.file.display().to_string(),
            line: related.location.line,
            column: related.location.column,
            message: &related.message,
        }
    }
}

impl<'a> From<&'a Finding> for FindingView<'a> {
    fn from(finding: &'a Finding) -> Self {
        FindingView {
            rule: finding.code.id(),
            severity: finding.severity,
            package: finding.package.as_deref(),
            file: finding.location.file.display().to_string(),
            line: finding.location.line,
            column: finding.location.column,
            message: &finding.message,
            help: &finding.help,
            related: finding.related.iter().map(RelatedView::from).collect(),
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
    /// `null` only for an audit that asked no index.
    target: Option<TargetView>,
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
pub fn write_audit_document(out: &mut dyn Write, report: &Report<'_>) -> std::io::Result<()> {
    let online = report.online.as_ref();
    let resolutions = online.map_or(&[][..], |online| online.resolutions);
    let document = AuditDocument {
        schema: SCHEMA_VERSION,
        mode: if online.is_some_and(|online| online.offline) {
            "offline"
        } else {
            "online"
        },
        indexes: online
            .map(|online| {
                online
                    .sources
                    .indexes
                    .iter()
                    .map(|index| IndexView {
                        url: index.url.to_string(),
                        source: index.source.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        find_links: online.map_or(&[][..], |online| &online.sources.find_links),
        target: online.map(|online| {
            let target = online.target;
            TargetView {
                python: format!("{}.{}", target.python.0, target.python.1),
                python_source: target.python_derived.to_string(),
                platform: target.platform.to_string(),
                platform_source: target.platform_derived.to_string(),
            }
        }),
        requirements: report
            .set
            .requirements
            .iter()
            .zip(resolutions.iter().map(Some).chain(std::iter::repeat(None)))
            .map(|(requirement, resolution)| {
                let (status, resolved) = match resolution {
                    None | Some(Resolution::NotFromIndex) => ("not-from-index", None),
                    Some(Resolution::Skipped) => ("skipped", None),
                    Some(Resolution::Checked {
                        resolved: Some(resolved),
                        ..
                    }) => ("resolved", Some(ResolvedView::from(resolved))),
                    Some(Resolution::Checked { resolved: None, .. }) => ("unresolved", None),
                };
                AuditedRequirementView {
                    requirement: RequirementView::from(requirement),
                    status,
                    resolved,
                }
            })
            .collect(),
        findings: report.findings.iter().map(FindingView::from).collect(),
        summary: report.summary(),
        closure: online
            .and_then(|online| online.closure)
            .map(|closure| match closure {
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
