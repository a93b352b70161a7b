//! The indexes of one run and a client for them: found as pip finds them
//! (flags, the files' options, the environment, pip's configuration, pip's
//! default) with a client that trusts pip's `cert` too and sends each
//! index's login, and the cache in the environment's place.

use super::cache::Cache;
use super::client::{ClientError, ClientSettings, IndexClient};
use super::discovery::{self, DiscoveryError, IndexConfig, IndexFlags, ProcessEnvironment};
use super::IndexUrl;
use crate::requirements::InstallOptions;

/// The indexes asked, and how.
pub struct Session {
    pub sources: IndexConfig,
    pub client: IndexClient,
    pub cache: Option<Cache>,
}

/// The session could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl Session {
    /// The indexes for an install of `file_options` (what the requirements
    /// files said) under `flags`, and a client with `settings`.
    pub fn open(
        flags: &IndexFlags,
        file_options: &InstallOptions,
        settings: ClientSettings,
    ) -> Result<Session, SessionError> {
        let sources = discovery::discover(flags, file_options, &ProcessEnvironment)?;
        let settings = ClientSettings {
            ca_bundle: sources.cert.clone(),
            ..settings
        };
        let cache = Cache::from_environment();
        let client =
            IndexClient::new(settings, cache.clone())?.with_index_logins(&self_urls(&sources));
        Ok(Session {
            sources,
            client,
            cache,
        })
    }

    /// The index URLs, in the order pip asks them.
    pub fn index_urls(&self) -> Vec<IndexUrl> {
        self_urls(&self.sources)
    }
}

fn self_urls(sources: &IndexConfig) -> Vec<IndexUrl> {
    sources
        .indexes
        .iter()
        .map(|index| index.url.clone())
        .collect()
}
