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
    /// away are retried on the next call). The lookup is shared by everyone
    /// who asks meanwhile; when it ended before it was sent because its
    /// caller's operation ended (Ctrl-C, a deadline before the budget
    /// returns), the others make it again under their own operations.
    pub async fn get(&self, client: &Client, cluster_id: &str) -> Result<Cluster, ApiError> {
        loop {
            let cell = {
                let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                entries.entry(cluster_id.to_string()).or_default().clone()
            };
            let mut mine = false;
            let result = cell
                .get_or_init(|| async {
                    mine = true;
                    client.get_cluster(cluster_id).await
                })
                .await
                .clone();
            if result
                .as_ref()
                .is_err_and(|e| e.is_transient() || e.is_rate_limited())
            {
                // Forget this failed lookup, unless a newer one already replaced it.
                let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
                if entries
                    .get(cluster_id)
                    .is_some_and(|c| Arc::ptr_eq(c, &cell))
                {
                    entries.remove(cluster_id);
                }
            }
            match &result {
                Err(e) if !mine && e.ended_before_sending() && !client.is_cancelled() => {}
                _ => return result,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::transport::{ApiRequest, ApiResponse, Transport};
    use crate::api::ClientOptions;
    use async_trait::async_trait;
    use reqwest::header::{HeaderMap, HeaderValue};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;
    use tokio::time::Instant;

    /// Answers every request with the cluster, and says the window is spent
    /// for the next minute.
    struct Spent(Arc<AtomicU32>);

    #[async_trait]
    impl Transport for Spent {
        async fn send(&self, _: &ApiRequest) -> Result<ApiResponse, ApiError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            let mut headers = HeaderMap::new();
            headers.insert(
                "x-ratelimit-remaining-minute",
                HeaderValue::from_static("0"),
            );
            headers.insert("x-ratelimit-reset", HeaderValue::from_static("60"));
            Ok(ApiResponse {
                status: 200,
                headers,
                body: br#"{"clusterId":"1","state":"ACTIVE"}"#.to_vec(),
                attempts: 1,
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_lookup_its_caller_gave_up_on_is_made_again_for_the_others() {
        let sent = Arc::new(AtomicU32::new(0));
        let client = Client::with_transport(
            "http://model",
            Spent(sent.clone()),
            ClientOptions::default(),
        );
        // The first answer spends the window.
        client.get_cluster("0").await.unwrap();
        let cache = Arc::new(ClusterCache::default());
        let (stop_a, rx_a) = tokio::sync::watch::channel(false);
        let op_a = client.operation(None, rx_a);
        let (_keep, rx_b) = tokio::sync::watch::channel(false);
        let op_b = client.operation(None, rx_b);
        let (a, b) = (client.within(&op_a), client.within(&op_b));
        let first = {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get(&a, "1").await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let second = {
            let cache = cache.clone();
            tokio::spawn(async move { cache.get(&b, "1").await })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        // A gives up while both wait for the window's reset.
        let started = Instant::now();
        stop_a.send(true).unwrap();
        let a = first.await.unwrap().unwrap_err();
        assert!(a.ended_before_sending(), "{a:?}");
        // B is not handed A's cancellation: it waits for the reset itself.
        let b = second.await.unwrap().expect("the cluster, after the reset");
        assert_eq!(b.cluster_id, "1");
        assert!(Instant::now() >= started + Duration::from_secs(58));
        assert_eq!(sent.load(Ordering::SeqCst), 2);
    }
}
