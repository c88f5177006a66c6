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
        if result.as_ref().is_err_and(ApiError::is_transient) {
            // Forget this failed lookup, unless a newer one already replaced it.
            let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            if entries
                .get(cluster_id)
                .is_some_and(|c| Arc::ptr_eq(c, &cell))
            {
                entries.remove(cluster_id);
            }
        }
        result
    }
}
