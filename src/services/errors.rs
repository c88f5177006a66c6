//! The diagnostics every resource and data source gives for API failures,
//! so that one failure reads the same wherever it happens.

use crate::api::ApiError;
use crate::framework::Diagnostic;

/// One diagnostic for an API error, with the API's own message. A rejected
/// key says so in the summary, whatever the operation was.
pub fn api_error(summary: &str, e: &ApiError) -> Diagnostic {
    if e.is_unauthenticated() {
        return Diagnostic::error("TiDB Cloud rejected the API key", format!("{summary}: {e}"));
    }
    Diagnostic::error(summary, e.to_string())
}

/// The diagnostic for a failed cluster lookup.
pub fn cluster_error(cluster_id: &str, e: &ApiError) -> Diagnostic {
    if e.is_unauthenticated() {
        return api_error("Could not look up the cluster", e);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorResponse;

    #[test]
    fn a_rejected_key_is_named_in_the_summary() {
        let e = ApiError::Unauthenticated(ErrorResponse {
            method: "GET".into(),
            path: "/v1beta1/clusters/1".into(),
            status: 401,
            code: Some(16),
            message: "bad key".into(),
            details: vec![],
            trace_id: None,
            attempts: 1,
        });
        assert_eq!(
            api_error("Could not read", &e).summary,
            "TiDB Cloud rejected the API key"
        );
        assert_eq!(
            cluster_error("1", &e).summary,
            "TiDB Cloud rejected the API key"
        );
    }
}
