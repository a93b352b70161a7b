//! The whole dependency tree over the session's indexes and cache, as
//! `lock` writes it and `audit --deep` checks it, with a spinner and the
//! build reports on stderr.

use std::sync::Arc;
use std::time::Duration;

use super::output::tree_progress;
use crate::compat::CompatDb;
use crate::index::session::Session;
use crate::requirements::{requirement::is_vcs_url, RequirementSet};
use crate::target::Target;
use crate::tree::index_source::IndexSource;
use crate::tree::resolve::{self, LockError, Resolution, ResolveOptions};
use crate::tree::sdist::BuildPolicy;

/// How to resolve beyond the resolver's options.
#[derive(Debug, Clone, Copy)]
pub(super) struct TreeSettings {
    /// `false` under `--no-build`.
    pub allow_builds: bool,
    /// `--build-timeout`: how long each build step may take.
    pub build_timeout: Duration,
    /// Whether a spinner may show on stderr.
    pub progress: bool,
}

/// Resolve the whole tree of `set` for `target`.
pub(super) fn resolve_tree(
    session: &Session,
    set: &RequirementSet,
    target: &Target,
    db: &CompatDb,
    options: &ResolveOptions,
    settings: TreeSettings,
) -> Result<Resolution, LockError> {
    let progress = tree_progress(settings.progress);
    let reporter = progress.clone();
    let source = IndexSource::new(
        &session.client,
        session.cache.clone(),
        session.index_urls(),
        session.sources.find_links.clone(),
    )
    .with_builds(BuildPolicy {
        allow_builds: settings.allow_builds,
        timeout: settings.build_timeout,
        pip_cert: session.sources.cert.clone(),
        // Builds are rare and slow: say which releases needed one.
        report: Arc::new(move |report| reporter.suspend(|| eprintln!("{report}"))),
        ..BuildPolicy::default()
    })
    .with_progress(progress.clone());
    let resolved = source.with_prefetch(|| resolve::resolve(&source, set, target, db, options));
    progress.finish_and_clear();
    resolved
}

/// [`resolve_tree`] for an audit: VCS requirements (which `lock` refuses)
/// are left out, and stderr says so, so that they do not stop the check of
/// everything else; URL, path and editable requirements are resolved.
pub(super) fn resolve_for_audit(
    session: &Session,
    set: &RequirementSet,
    target: &Target,
    db: &CompatDb,
    options: &ResolveOptions,
    settings: TreeSettings,
) -> Result<Resolution, LockError> {
    let (lockable, vcs): (Vec<_>, Vec<_>) = set
        .requirements
        .iter()
        .cloned()
        .partition(|requirement| !requirement.url.as_deref().is_some_and(is_vcs_url));
    if !vcs.is_empty() {
        let labels: Vec<String> = vcs.iter().map(|r| r.label()).collect();
        eprintln!(
            "deep: VCS requirements cannot be resolved yet, left out of the dependency tree (their dependencies are not checked): {}",
            labels.join(", ")
        );
    }
    let lockable = RequirementSet {
        requirements: lockable,
        options: set.options.clone(),
        files: set.files.clone(),
        warnings: Vec::new(),
    };
    resolve_tree(session, &lockable, target, db, options, settings)
}
