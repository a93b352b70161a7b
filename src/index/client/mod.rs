//! Fetching project pages: concurrent, bounded, retried, cached.
//!
//! Requests always go to the public URL with credentials in an
//! `Authorization` header, so that no error message, log line or cache key
//! can ever contain them.

use std::collections::HashMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use indicatif::ProgressBar;
use percent_encoding::percent_decode_str;
use reqwest::header::{HeaderMap, CACHE_CONTROL, ETAG, LAST_MODIFIED};
use reqwest::Url;
use tokio::sync::Semaphore;

use crate::index::cache::{self, Answer, Cache, Validators};
use crate::index::page::{self, DistFile, ProjectPage, VersionFilter};
use crate::index::IndexUrl;

mod netrc;
mod request;

use netrc::Netrc;

/// PEP 691 content negotiation: JSON preferred, HTML accepted.
const ACCEPT_PAGES: &str = "application/vnd.pypi.simple.v1+json, \
    application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// How fresh answers must be, and whether the network may be used at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// Fresh cache entries answer; stale ones are revalidated.
    Normal,
    /// Every page is fetched again (revalidated when the server allows).
    Refresh,
    /// Only the cache answers; nothing touches the network.
    Offline,
}

impl CacheMode {
    /// The mode `--offline` and `--refresh` ask for.
    pub fn from_flags(offline: bool, refresh: bool) -> CacheMode {
        if offline {
            CacheMode::Offline
        } else if refresh {
            CacheMode::Refresh
        } else {
            CacheMode::Normal
        }
    }
}

#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub timeout: Duration,
    /// Further attempts after a connection error, a timeout, a 5xx or a 429.
    pub retries: u32,
    /// The first retry waits this long, each later one twice as long.
    pub backoff: Duration,
    pub concurrency: usize,
    /// How long a page without caching headers stays fresh.
    pub ttl: Duration,
    pub mode: CacheMode,
    /// Extra trusted certificate authorities (PEM), as pip's `cert` setting.
    pub ca_bundle: Option<PathBuf>,
    /// The most bytes one page may inflate to ([`crate::index::limits::MAX_PAGE`]).
    pub max_page: u64,
}

impl Default for ClientSettings {
    fn default() -> ClientSettings {
        ClientSettings {
            timeout: Duration::from_secs(15),
            retries: 3,
            backoff: Duration::from_millis(250),
            concurrency: 8,
            ttl: Duration::from_secs(600),
            mode: CacheMode::Normal,
            ca_bundle: None,
            max_page: crate::index::limits::MAX_PAGE,
        }
    }
}

/// Why a page could not be had. Messages name the public URL only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("not in the cache, and --offline forbids asking {url}")]
    NotCached { url: String },
    #[error(
        "{url} refused access (HTTP {status}); check the credentials in the index URL or ~/.netrc"
    )]
    Denied { url: String, status: u16 },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("could not reach {url}: {message}")]
    Network { url: String, message: String },
    #[error("{url} sent a page reqlock cannot read: {message}")]
    Malformed { url: String, message: String },
    #[error("could not read the find-links location {location}: {message}")]
    Local { location: String, message: String },
    #[error("{url} is larger than {}, the most reqlock downloads for it", crate::index::limits::human(*.limit))]
    TooLarge { url: String, limit: u64 },
    /// The index answered, but not with a page reqlock can read.
    #[error("{url} sent a page reqlock cannot read: {why}")]
    Unreadable {
        url: String,
        why: crate::index::page::Unreadable,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("could not set up the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("could not read the certificate bundle `{path}` (pip's `cert` setting): {message}")]
    CaBundle { path: String, message: String },
}

fn build_http(settings: &ClientSettings) -> Result<reqwest::Client, ClientError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("reqlock/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(settings.timeout)
        .timeout(settings.timeout)
        .gzip(true)
        .dns_resolver(Arc::new(crate::index::dns::OncePerHost::default()));
    if let Some(path) = &settings.ca_bundle {
        let failed = |message: String| ClientError::CaBundle {
            path: path.display().to_string(),
            message,
        };
        let pem = std::fs::read(path).map_err(|err| failed(err.to_string()))?;
        let certificates =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| failed(err.to_string()))?;
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    Ok(builder.build()?)
}

/// Part of a remote file (or all of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bytes {
    /// Where `body` starts in the file.
    pub start: u64,
    /// The file's whole length.
    pub total: u64,
    pub body: Vec<u8>,
}

/// The body of `response`, or `None` once it exceeds `limit` bytes (counted
/// after decompression, so a compressed bomb stops too).
async fn read_capped(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// A cheaply clonable client over the index pages, for `audit` and `lock`.
#[derive(Clone)]
pub struct IndexClient {
    http: Arc<OnceLock<Result<reqwest::Client, String>>>,
    runtime: Arc<OnceLock<Result<AsyncRuntime, String>>>,
    cache: Option<Cache>,
    settings: Arc<ClientSettings>,
    netrc: Arc<Netrc>,
    /// The logins the index URLs carry, by host and port: as pip does, an
    /// index's credentials go with every request to its host, its files
    /// included (their URLs carry none).
    index_logins: Arc<HashMap<HostPort, Login>>,
}

/// A host and its port (the scheme's when the URL gives none).
type HostPort = (String, Option<u16>);
/// A user and password.
type Login = (String, String);

/// The client's async runtime. Dropping it does not wait for host lookups
/// still running on its blocking threads (a slow resolver can take seconds
/// to give up): nothing is left to use their answers.
#[derive(Debug)]
struct AsyncRuntime(Option<tokio::runtime::Runtime>);

impl Drop for AsyncRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// The user and password a URL carries, decoded.
fn userinfo(url: &Url) -> Option<(String, String)> {
    if url.username().is_empty() {
        return None;
    }
    let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
    Some((
        decode(url.username()),
        url.password().map(decode).unwrap_or_default(),
    ))
}

/// What one round of fetching produced.
#[derive(Debug, Default)]
pub struct Fetched {
    /// By (position in the index list, project).
    pub pages: HashMap<(usize, String), Result<Answer, FetchError>>,
    /// By position in the find-links list.
    pub find_links: Vec<Result<ProjectPage, FetchError>>,
}

impl IndexClient {
    pub fn new(settings: ClientSettings, cache: Option<Cache>) -> Result<IndexClient, ClientError> {
        if let Some(path) = &settings.ca_bundle {
            std::fs::File::open(path).map_err(|err| ClientError::CaBundle {
                path: path.display().to_string(),
                message: err.to_string(),
            })?;
        }
        Ok(IndexClient {
            http: Arc::new(OnceLock::new()),
            runtime: Arc::new(OnceLock::new()),
            cache,
            settings: Arc::new(settings),
            netrc: Arc::new(Netrc::from_environment()),
            index_logins: Arc::default(),
        })
    }

    /// Send the credentials of these index URLs to every URL on their
    /// hosts.
    pub fn with_index_logins(mut self, indexes: &[IndexUrl]) -> IndexClient {
        let logins = indexes
            .iter()
            .filter_map(|index| {
                let url = Url::parse(index.with_credentials()).ok()?;
                let login = userinfo(&url)?;
                Some((
                    (url.host_str()?.to_string(), url.port_or_known_default()),
                    login,
                ))
            })
            .collect();
        self.index_logins = Arc::new(logins);
        self
    }

    /// The async runtime, started on first use and kept: pooled connections
    /// live on it, so later requests reuse them instead of a new TLS
    /// handshake each. `block_on` may be called from several threads.
    fn runtime(&self) -> Result<&tokio::runtime::Runtime, String> {
        self.runtime
            .get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                    .map(|runtime| AsyncRuntime(Some(runtime)))
                    .map_err(|err| format!("could not start the async runtime: {err}"))
            })
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|runtime| {
                runtime
                    .0
                    .as_ref()
                    .ok_or_else(|| "the async runtime has stopped".to_string())
            })
    }

    /// The HTTP client, set up on first use: loading the trusted
    /// certificates costs more than a whole warm audit, which asks no one.
    fn http(&self) -> Result<&reqwest::Client, String> {
        self.http
            .get_or_init(|| build_http(&self.settings).map_err(|err| err.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Fetch every project (with the releases its filter wants) from every
    /// index, and every find-links location, concurrently but at most
    /// `concurrency` at a time.
    pub fn fetch_all(
        &self,
        indexes: &[IndexUrl],
        find_links: &[String],
        projects: &[(String, VersionFilter)],
        progress: &ProgressBar,
    ) -> Fetched {
        progress.set_length((indexes.len() * projects.len() + find_links.len()) as u64);
        // What the cache answers is read here, without starting the async
        // runtime: a warm run then never pays for its threads. Reading
        // and parsing entries is most of a warm audit, so it is shared out
        // over the cores.
        let mut fetched = Fetched::default();
        let mut to_fetch: Vec<(usize, IndexUrl, String, VersionFilter)> = Vec::new();
        let wanted: Vec<(usize, &IndexUrl, &String, &VersionFilter)> = indexes
            .iter()
            .enumerate()
            .flat_map(|(position, index)| {
                projects
                    .iter()
                    .map(move |(project, filter)| (position, index, project, filter))
            })
            .collect();
        let read = |(_, index, project, filter): &(usize, &IndexUrl, &String, &VersionFilter)| {
            index
                .project_url(project)
                .and_then(|url| self.cached_answer(&url, filter, None))
        };
        let cached = crate::parallel::map(&wanted, 8, read);
        for ((position, index, project, filter), answer) in wanted.into_iter().zip(cached) {
            match answer {
                Some(answer) => {
                    fetched.pages.insert((position, project.clone()), answer);
                    progress.inc(1);
                }
                None => to_fetch.push((position, index.clone(), project.clone(), filter.clone())),
            }
        }
        if to_fetch.is_empty() && find_links.is_empty() {
            return fetched;
        }
        let runtime = match self.runtime() {
            Ok(runtime) => runtime,
            Err(err) => {
                let message = err;
                let fail = |url: String| FetchError::Network {
                    url,
                    message: message.clone(),
                };
                for (position, index, project, _) in to_fetch {
                    fetched
                        .pages
                        .insert((position, project), Err(fail(index.to_string())));
                }
                fetched.find_links = find_links.iter().map(|l| Err(fail(l.clone()))).collect();
                return fetched;
            }
        };
        runtime.block_on(async {
            let permits = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
            let mut tasks = tokio::task::JoinSet::new();
            for (position, index, project, filter) in to_fetch.iter().cloned() {
                let client = self.clone();
                let (permits, progress) = (permits.clone(), progress.clone());
                tasks.spawn(async move {
                    // The semaphore is never closed, so a permit always comes.
                    let _permit = permits.acquire_owned().await.ok();
                    let answer = client.project_page(&index, &project, &filter).await;
                    progress.inc(1);
                    Done::Page((position, project), answer)
                });
            }
            for (position, location) in find_links.iter().enumerate() {
                let (client, location) = (self.clone(), location.clone());
                let (permits, progress) = (permits.clone(), progress.clone());
                tasks.spawn(async move {
                    let _permit = permits.acquire_owned().await.ok();
                    let page = client.find_links_page(&location).await;
                    progress.inc(1);
                    Done::Link(position, page)
                });
            }
            let mut links: Vec<Option<Result<ProjectPage, FetchError>>> =
                find_links.iter().map(|_| None).collect();
            while let Some(joined) = tasks.join_next().await {
                match joined {
                    Ok(Done::Page(key, answer)) => {
                        fetched.pages.insert(key, answer);
                    }
                    Ok(Done::Link(position, page)) => links[position] = Some(page),
                    // A task that panicked leaves a hole, filled below.
                    Err(_) => {}
                }
            }
            fetched.find_links = links
                .into_iter()
                .zip(find_links)
                .map(|(page, location)| page.unwrap_or_else(|| Err(task_failed(location))))
                .collect();
        });
        for (position, index, project, _) in to_fetch {
            fetched
                .pages
                .entry((position, project))
                .or_insert_with(|| Err(task_failed(&index.to_string())));
        }
        fetched
    }

    /// A project's page on one index: from the cache when fresh enough,
    /// else from the network.
    pub async fn project_page(
        &self,
        index: &IndexUrl,
        project: &str,
        filter: &VersionFilter,
    ) -> Result<Answer, FetchError> {
        let Some(url) = index.project_url(project) else {
            return Err(FetchError::Malformed {
                url: index.to_string(),
                message: format!("no page URL for `{project}`"),
            });
        };
        self.page(&url, Some(project), filter).await
    }

    /// A find-links location: a local folder, a local HTML file or an
    /// HTML page on a server. Its links may name any project.
    pub async fn find_links_page(&self, location: &str) -> Result<ProjectPage, FetchError> {
        if let Some(url) = Url::parse(location)
            .ok()
            .filter(|url| matches!(url.scheme(), "http" | "https"))
        {
            return match self.page(&url, None, &VersionFilter::all()).await? {
                Answer::Found(page) => Ok(page),
                Answer::NotFound => Err(FetchError::Status {
                    url: crate::redact::url(&url).to_string(),
                    status: 404,
                }),
            };
        }
        let path = Url::parse(location)
            .ok()
            .filter(|url| url.scheme() == "file")
            .and_then(|url| url.to_file_path().ok())
            .unwrap_or_else(|| location.into());
        local_find_links(&path).map_err(|err| FetchError::Local {
            location: location.to_string(),
            message: err.to_string(),
        })
    }

    /// The answer the cache can give without the network: a fresh entry,
    /// one fetched at or after `since` (seconds since the Unix epoch; a run
    /// reads back what it has just fetched, even with `--refresh`), or in
    /// offline mode any entry (and a miss is then an error). `None` means
    /// the network has to be asked.
    fn cached_answer(
        &self,
        url: &Url,
        filter: &VersionFilter,
        since: Option<u64>,
    ) -> Option<Result<Answer, FetchError>> {
        let public = crate::redact::url(url);
        let cached = self
            .cache
            .as_ref()
            .and_then(|cache| cache.load(&public, filter));
        match (self.settings.mode, cached) {
            (CacheMode::Offline, Some(entry)) => Some(Ok(entry.answer)),
            (CacheMode::Offline, None) => Some(Err(FetchError::NotCached {
                url: public.to_string(),
            })),
            (_, Some(entry)) if since.is_some_and(|since| entry.validators.fetched_at >= since) => {
                Some(Ok(entry.answer))
            }
            (CacheMode::Normal, Some(entry)) if entry.validators.is_fresh(self.settings.ttl) => {
                Some(Ok(entry.answer))
            }
            _ => None,
        }
    }

    /// What the cache answers for `project` on `index` without the network
    /// (see [`IndexClient::cached_answer`]; entries fetched at or after
    /// `since` count as fresh), read once.
    pub fn cached_page(
        &self,
        index: &IndexUrl,
        project: &str,
        filter: &VersionFilter,
        since: u64,
    ) -> Option<Result<Answer, FetchError>> {
        self.cached_answer(&index.project_url(project)?, filter, Some(since))
    }

    /// A page from the cache when fresh enough, else from the network;
    /// with the files of the releases `filter` wants (all are cached).
    async fn page(
        &self,
        url: &Url,
        project: Option<&str>,
        filter: &VersionFilter,
    ) -> Result<Answer, FetchError> {
        if let Some(answer) = self.cached_answer(url, filter, None) {
            return answer;
        }
        let public = crate::redact::url(url);
        // A stale entry's validators let the index answer "not modified";
        // they are in its header, so no release is read for them.
        let stale = self
            .cache
            .as_ref()
            .and_then(|cache| cache.load(&public, &VersionFilter::names_only()))
            .map(|entry| entry.validators);
        self.fetch(url, &public, project, filter, stale).await
    }

    fn credentials(&self, url: &Url) -> Option<(String, String)> {
        if let Some(login) = userinfo(url) {
            return Some(login);
        }
        let host = url.host_str()?;
        self.index_logins
            .get(&(host.to_string(), url.port_or_known_default()))
            .or_else(|| self.netrc.login_for(host))
            .cloned()
    }
}

/// The most a page's announced length reserves up front: a server cannot
/// make a wrong `Content-Length` cost more than this.
const MOST_RESERVED: u64 = 64 << 20;

/// A response's whole body, or `None` once it exceeds `limit` bytes
/// (counted after decompression, so a compressed bomb stops too). A big
/// page arrives in many chunks: one buffer of the announced size saves
/// growing and copying it as they come.
async fn read_body(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    let announced = response.content_length().unwrap_or(0);
    if announced > limit {
        return Ok(None);
    }
    let reserved = announced.min(MOST_RESERVED);
    let mut body = Vec::with_capacity(usize::try_from(reserved).unwrap_or(0));
    while let Some(chunk) = response.chunk().await? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// What one fetching task produced.
enum Done {
    Page((usize, String), Result<Answer, FetchError>),
    Link(usize, Result<ProjectPage, FetchError>),
}

fn task_failed(url: &str) -> FetchError {
    FetchError::Network {
        url: url.to_string(),
        message: "the request task failed".into(),
    }
}

/// reqwest's message chain without the URL (which could carry secrets in
/// other clients' hands, and is already named by the caller).
fn network_error(public: &Url, err: reqwest::Error) -> FetchError {
    let timed_out = err.is_timeout();
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    if timed_out {
        message.push_str(" (timed out; --timeout sets the limit)");
    }
    FetchError::Network {
        url: public.to_string(),
        message,
    }
}

fn refresh_validators(validators: &mut Validators, headers: &HeaderMap) {
    let text = |name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    validators.fetched_at = cache::now();
    validators.max_age = text(CACHE_CONTROL).and_then(|value| max_age(&value));
    if let Some(etag) = text(ETAG) {
        validators.etag = Some(etag);
    }
    if let Some(modified) = text(LAST_MODIFIED) {
        validators.last_modified = Some(modified);
    }
}

fn max_age(cache_control: &str) -> Option<u64> {
    let directives: Vec<String> = cache_control
        .split(',')
        .map(|d| d.trim().to_ascii_lowercase())
        .collect();
    if directives
        .iter()
        .any(|d| d == "no-cache" || d == "no-store")
    {
        return Some(0);
    }
    directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age=")?.trim_matches('"').parse().ok())
}

fn local_find_links(path: &Path) -> std::io::Result<ProjectPage> {
    if path.is_dir() {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let full = std::fs::canonicalize(entry.path())?;
            let Ok(url) = Url::from_file_path(&full) else {
                continue;
            };
            files.push(DistFile {
                filename: entry.file_name().to_string_lossy().into_owned(),
                url: Some(url.to_string()),
                hashes: Default::default(),
                requires_python: None,
                yanked: None,
                core_metadata: false,
                metadata_sha256: None,
                size: entry.metadata().ok().map(|m| m.len()),
                upload_time: None,
            });
        }
        files.sort_by(|a, b| a.filename.cmp(&b.filename));
        return Ok(ProjectPage {
            files,
            omitted_versions: Vec::new(),
        });
    }
    let text = std::fs::read_to_string(path)?;
    let full = std::fs::canonicalize(path)?;
    let base = Url::from_file_path(&full).map_err(|()| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "not an absolute path")
    })?;
    Ok(page::parse_html(&text, &base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netrc_logins() {
        let netrc = Netrc::parse(
            "machine private.invalid login alice password s3cret\n\
             default login anon password guest\n",
        );
        assert_eq!(
            netrc.login_for("private.invalid"),
            Some(&("alice".to_string(), "s3cret".to_string()))
        );
        assert_eq!(
            netrc.login_for("other.invalid").map(|l| l.0.as_str()),
            Some("anon")
        );
    }

    #[test]
    fn cache_control() {
        assert_eq!(max_age("public, max-age=600"), Some(600));
        assert_eq!(max_age("no-cache"), Some(0));
        assert_eq!(max_age("public"), None);
    }

    #[test]
    fn find_links_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("demo-1.0-py3-none-any.whl"), b"").unwrap();
        let page = local_find_links(dir.path()).unwrap();
        assert_eq!(page.files.len(), 1);
        assert!(page.files[0]
            .url
            .as_deref()
            .is_some_and(|url| url.starts_with("file:///")));
    }
}
