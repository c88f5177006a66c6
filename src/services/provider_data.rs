//! What every resource and data source receives once the provider is
//! configured.

use crate::api;
use crate::framework::Diagnostic;

use super::settle_memory::SettleMemory;
use super::watcher::Watchers;
use super::{ClusterCache, ConnectionSnapshots, Ownership};

/// The API client (when the configuration is known) and the caches shared
/// by every operation of the process.
pub struct ProviderData {
    client: Option<api::Client>,
    /// Why there is no client (configuration unknown at plan time).
    unavailable: Option<String>,
    pub clusters: ClusterCache,
    /// Coalesced reads of connections during refresh.
    pub connections: ConnectionSnapshots,
    /// One watcher per cluster, serving every wait.
    watchers: Option<Watchers>,
    /// What this process holds and is doing.
    pub ownership: Ownership,
}

impl ProviderData {
    /// Data with a client; `memory` is where settle times are remembered
    /// between processes (`None`: not at all).
    pub fn new(client: api::Client, memory: Option<SettleMemory>) -> ProviderData {
        ProviderData {
            watchers: Some(Watchers::new(client.clone(), memory)),
            client: Some(client),
            unavailable: None,
            clusters: ClusterCache::default(),
            connections: ConnectionSnapshots::default(),
            ownership: Ownership::default(),
        }
    }

    /// Data without a client, saying why there is none.
    pub fn unavailable(why: String) -> ProviderData {
        ProviderData {
            client: None,
            unavailable: Some(why),
            clusters: ClusterCache::default(),
            connections: ConnectionSnapshots::default(),
            watchers: None,
            ownership: Ownership::default(),
        }
    }

    /// The watchers (with the client), or an error diagnostic explaining
    /// why there is no client.
    pub fn watchers(&self) -> Result<&Watchers, Diagnostic> {
        self.client()?;
        self.watchers.as_ref().ok_or_else(|| {
            Diagnostic::error("Provider not configured", "The provider has no API client.")
        })
    }

    /// The API client, or an error diagnostic explaining why there is none.
    pub fn client(&self) -> Result<&api::Client, Diagnostic> {
        self.client.as_ref().ok_or_else(|| {
            Diagnostic::error(
                "Provider configuration not yet known",
                self.unavailable
                    .clone()
                    .unwrap_or_else(|| "The provider has no API client.".to_string()),
            )
        })
    }
}
