//! The diagnostics every resource and data source gives for API failures,
//! so that one failure reads the same wherever it happens.

use crate::api::ApiError;
use crate::framework::Diagnostic;

/// One diagnostic for an API error, with the API's own message.
pub fn api_error(summary: &str, e: &ApiError) -> Diagnostic {
    Diagnostic::error(summary, e.to_string())
}

/// The diagnostic for a failed cluster lookup.
pub fn cluster_error(cluster_id: &str, e: &ApiError) -> Diagnostic {
    if e.is_not_found() {
        Diagnostic::error(
            "Cluster not found",
            format!("There is no cluster {cluster_id:?} visible to this API key. Check cluster_id, and that the key belongs to the cluster's organization and project."),
        )
    } else {
        Diagnostic::error(
            "Could not look up the cluster",
            format!("Looking up cluster {cluster_id:?} failed: {e}"),
        )
    }
}
