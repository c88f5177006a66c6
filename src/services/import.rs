//! What the imports share: the connection an import ID names, looked up so
//! that a miss says whether the cluster or the connection is missing.

use crate::api::{Client, PrivateLinkConnection};
use crate::framework::Diagnostic;

use super::errors::{api_error, import_error};
use super::{waits, ProviderData};

/// The connection `connection_id` of cluster `cluster_id`. TiDB Cloud
/// answers 404 both for a connection that does not exist and for a cluster
/// that does not exist; on a 404 the cluster is read to tell which (its
/// answer, never the message of the first). `domains` when the domains are
/// imported, for the messages.
pub async fn connection(
    data: &ProviderData,
    client: &Client,
    cluster_id: &str,
    connection_id: &str,
    domains: bool,
) -> Result<PrivateLinkConnection, Diagnostic> {
    let missing = |detail: String| {
        let summary = if domains {
            "Cannot import domains of a connection that does not exist"
        } else {
            "Cannot import a connection that does not exist"
        };
        import_error(summary, &detail, Some(cluster_id), domains)
    };
    let no_connection =
        format!("Cluster {cluster_id} has no private link connection {connection_id}.");
    match waits::find_connection(client, cluster_id, connection_id).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => match data.clusters.get(client, cluster_id).await {
            Ok(_) => Err(missing(no_connection)),
            Err(e) if e.is_not_found() => Err(import_error(
                "Cannot import from a cluster that does not exist",
                &format!("There is no cluster {cluster_id:?} visible to this API key: check the import ID's cluster_id (its first part), and that the key belongs to the cluster's organization and project."),
                None,
                domains,
            )),
            Err(e) => Err(missing(format!(
                "TiDB Cloud found no private link connection {connection_id} in cluster {cluster_id}, and whether the cluster exists could not be checked: {e}"
            ))),
        },
        Err(e) => Err(api_error("Could not read the private link connection", &e)),
    }
}
