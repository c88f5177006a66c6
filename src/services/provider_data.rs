//! What every resource and data source receives once the provider is
//! configured.

use crate::api;
use std::time::Duration;

use crate::framework::{Diagnostic, StopSignal};

use super::watch::Watchers;
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
    /// Data with a client.
    pub fn new(client: api::Client) -> ProviderData {
        ProviderData {
            watchers: Some(Watchers::new(client.clone())),
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

    /// The context of one operation (one Terraform RPC): its requests wait
    /// no longer than `timeout` from now (without one, the client's own
    /// bound per request) and stop waiting on `stop`.
    pub fn op(&self, stop: &StopSignal, timeout: Option<Duration>) -> Result<api::Op, Diagnostic> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        Ok(self.client()?.operation(deadline, stop.receiver()))
    }

    /// The client for `op`'s requests, or why there is none.
    pub fn client_within(&self, op: &api::Op) -> Result<api::Client, Diagnostic> {
        Ok(self.client()?.within(op))
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
