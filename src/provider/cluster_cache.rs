//! One cluster lookup per cluster and process: plan-time checks of many
//! resources on the same cluster share a single `GET /clusters/{id}`, and
//! concurrent lookups wait for the first. Transient failures are not cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use crate::api::{ApiError, Client, Cluster};

/// The lookup of one cluster, shared by everyone who asks for it.
type Lookup = Arc<OnceCell<Result<Cluster, ApiError>>>;

#[derive(Default)]
pub struct ClusterCache {
    entries: Mutex<HashMap<String, Lookup>>,
}

fn is_transient(e: &ApiError) -> bool {
    e.is_server_error() || e.is_transport() || e.is_rate_limited()
}

impl ClusterCache {
    /// The cluster, looked up at most once per process (errors that may go
    /// away are retried on the next call).
    pub async fn get(&self, client: &Client, cluster_id: &str) -> Result<Cluster, ApiError> {
        let cell = {
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            entries.entry(cluster_id.to_string()).or_default().clone()
        };
        let result = cell
            .get_or_init(|| async { client.get_cluster(cluster_id).await })
            .await
            .clone();
        if let Err(e) = &result {
            if is_transient(e) {
                let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                entries.remove(cluster_id);
            }
        }
        result
    }
}
