//! Talking to package indexes: which ones to ask ([`discovery`]), how their
//! pages read ([`page`], [`filename`]), fetching them ([`client`]) and
//! keeping them ([`cache`]). Nothing here decides which release to install;
//! that is [`crate::select`]'s (one line) and [`crate::tree`]'s (the whole
//! dependency tree) job, so that both reuse all of it. Distribution files
//! are read here too: their names ([`filename`]), a wheel's `METADATA` over
//! range reads ([`wheel`], [`zip`]) and core metadata ([`metadata`]), all
//! within the size bounds of [`limits`].

pub mod cache;
pub mod client;
pub mod discovery;
pub mod dns;
pub mod filename;
pub mod limits;
pub mod local_python;
pub mod metadata;
pub mod page;
pub mod session;
pub mod wheel;
pub mod zip;

use std::fmt;

use reqwest::Url;

/// An index (or find-links page) URL. It may carry credentials, which only
/// the request ever sees: `Display`, equality and cache keys drop them.
#[derive(Debug, Clone)]
pub struct IndexUrl {
    url: Url,
}

impl IndexUrl {
    /// An http(s) URL, with a trailing slash so project pages join under it.
    pub fn parse(text: &str) -> Option<IndexUrl> {
        let mut url = Url::parse(text.trim()).ok()?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return None;
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Some(IndexUrl { url })
    }

    /// The URL without credentials.
    pub fn public(&self) -> Url {
        crate::redact::url(&self.url)
    }

    /// The URL as given, credentials included: only for the environment of
    /// a child pip, never for argv, a message or a cache key.
    pub fn with_credentials(&self) -> &str {
        self.url.as_str()
    }

    /// The URL of a project's page (PEP 503: the normalized name and a slash).
    pub fn project_url(&self, project: &str) -> Option<Url> {
        self.url.join(&format!("{project}/")).ok()
    }
}

impl PartialEq for IndexUrl {
    fn eq(&self, other: &IndexUrl) -> bool {
        self.public() == other.public()
    }
}

impl Eq for IndexUrl {}

impl fmt::Display for IndexUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.public())
    }
}
