//! Coalesced reads of connections. Terraform refreshes every connection of a
//! configuration on each plan, ten at a time; reading each with its own GET
//! costs one request per connection against a budget of 100 per minute. A
//! refresh instead reads a cluster's connections through one listing (100 per
//! page) shared by every read that starts within a short window, so a plan
//! costs about N/100 requests. A connection missing from the listing is
//! looked up directly before anyone concludes it is gone, so a listing taken
//! a moment before a create can never drop a new connection from the state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use tokio::sync::OnceCell;

use crate::api::{ApiError, Client, PrivateLinkConnection};

/// How long a listing serves reads that start after it.
const FRESH_FOR: Duration = Duration::from_secs(2);

type Listing = Arc<OnceCell<Result<Arc<HashMap<String, PrivateLinkConnection>>, ApiError>>>;

#[derive(Default)]
pub struct ConnectionSnapshots {
    by_cluster: Mutex<HashMap<String, (Instant, Listing)>>,
    /// The first listing of each cluster this process made that succeeded
    /// (see [`ConnectionSnapshots::first`]).
    first: Mutex<HashMap<String, Arc<HashMap<String, PrivateLinkConnection>>>>,
}

impl ConnectionSnapshots {
    /// Every connection of the cluster, from the listing the reads that
    /// start about now share.
    pub async fn all(
        &self,
        client: &Client,
        cluster_id: &str,
    ) -> Result<Arc<HashMap<String, PrivateLinkConnection>>, ApiError> {
        let listing = self.listing(cluster_id);
        listing
            .get_or_init(|| async {
                client
                    .list_private_link_connections(cluster_id, None)
                    .await
                    .map(|all| {
                        Arc::new(
                            all.into_iter()
                                .map(|c| (c.private_link_connection_id.clone(), c))
                                .collect(),
                        )
                    })
            })
            .await
            .clone()
            .inspect_err(|_| self.forget(cluster_id, &listing))
    }

    /// Forgets a failed listing, unless a newer one replaced it.
    fn forget(&self, cluster_id: &str, listing: &Listing) {
        let mut by_cluster = self.by_cluster.lock().unwrap_or_else(|p| p.into_inner());
        if by_cluster
            .get(cluster_id)
            .is_some_and(|(_, l)| Arc::ptr_eq(l, listing))
        {
            by_cluster.remove(cluster_id);
        }
    }

    /// The first listing of the cluster this process saw succeed, from
    /// [`all`](Self::all) when there is none yet: for checks that need the
    /// cluster's connections once per process, not once per resource.
    pub async fn first(
        &self,
        client: &Client,
        cluster_id: &str,
    ) -> Result<Arc<HashMap<String, PrivateLinkConnection>>, ApiError> {
        let held = self.lock_first().get(cluster_id).cloned();
        if let Some(held) = held {
            return Ok(held);
        }
        let all = self.all(client, cluster_id).await?;
        self.lock_first()
            .entry(cluster_id.to_string())
            .or_insert_with(|| all.clone());
        Ok(all)
    }

    fn lock_first(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Arc<HashMap<String, PrivateLinkConnection>>>>
    {
        self.first.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection, or `None` when the API says it does not exist.
    pub async fn find(
        &self,
        client: &Client,
        cluster_id: &str,
        id: &str,
    ) -> Result<Option<PrivateLinkConnection>, ApiError> {
        let listed = self.all(client, cluster_id).await;
        if let Ok(map) = &listed {
            if let Some(c) = map.get(id) {
                return Ok(Some(c.clone()));
            }
        }
        // Not listed (or the listing failed): ask for this one directly.
        match client.get_private_link_connection(cluster_id, id).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The listing to use for a read starting now: a recent one, or a new one.
    fn listing(&self, cluster_id: &str) -> Listing {
        let mut by_cluster = self.by_cluster.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match by_cluster.get(cluster_id) {
            Some((started, listing)) if now.duration_since(*started) < FRESH_FOR => listing.clone(),
            _ => {
                let listing = Listing::default();
                by_cluster.insert(cluster_id.to_string(), (now, listing.clone()));
                listing
            }
        }
    }

    /// Forgets the listings of a cluster (after this process changed it).
    pub fn invalidate(&self, cluster_id: &str) {
        let mut by_cluster = self.by_cluster.lock().unwrap_or_else(|p| p.into_inner());
        by_cluster.remove(cluster_id);
    }
}
