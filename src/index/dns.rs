//! Host name resolution, once per host and run.
//!
//! Every new connection would otherwise ask the system resolver again, and
//! a cold lock opens dozens at once to the same file host; a resolver that
//! drops part of such a burst costs a five-second retry each time.

use std::collections::HashMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tokio::sync::OnceCell;

type Lookup = Arc<OnceCell<Vec<SocketAddr>>>;

/// The system resolver, asked once per host; concurrent connections to a
/// host wait for the one lookup. Only an answer is kept: after a failure
/// the next connection (a retry) asks again.
#[derive(Default)]
pub struct OncePerHost {
    lookups: Mutex<HashMap<String, Lookup>>,
}

impl Resolve for OncePerHost {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let lookup = Arc::clone(
            self.lookups
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(host.clone())
                .or_default(),
        );
        Box::pin(async move {
            let addresses = lookup
                .get_or_try_init(|| async move {
                    // The system resolver blocks, so it runs off the async
                    // threads, as reqwest's own resolver does.
                    let query = host.clone();
                    match tokio::task::spawn_blocking(move || (query.as_str(), 0).to_socket_addrs())
                        .await
                    {
                        Ok(Ok(found)) => Ok(found.collect()),
                        Ok(Err(err)) => Err(format!("could not resolve {host}: {err}")),
                        Err(err) => Err(format!("could not resolve {host}: {err}")),
                    }
                })
                .await?
                .clone();
            let addresses: Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn a_failed_lookup_is_asked_again() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let resolver = OncePerHost::default();
        // A label longer than 63 bytes fails in the local resolver, before
        // any query is sent.
        let host = format!("{}.test", "a".repeat(64));
        for _ in 0..2 {
            let name = Name::from_str(&host).expect("valid name");
            assert!(runtime.block_on(resolver.resolve(name)).is_err());
        }
        let lookups = resolver.lookups.lock().expect("not poisoned");
        assert!(lookups[&host].get().is_none(), "nothing kept");
    }

    #[test]
    fn resolves_loopback_and_remembers_it() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let resolver = OncePerHost::default();
        for _ in 0..2 {
            let name = Name::from_str("localhost").expect("valid name");
            let found: Vec<SocketAddr> = runtime
                .block_on(resolver.resolve(name))
                .expect("localhost resolves")
                .collect();
            assert!(found.iter().any(|address| address.ip().is_loopback()));
        }
        assert_eq!(resolver.lookups.lock().expect("not poisoned").len(), 1);
    }
}
