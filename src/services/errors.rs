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

/// Where the IDs of an import are listed: every import error ends with it.
/// `domains` adds where the attach domain ID is.
pub fn where_the_ids_are(cluster_id: Option<&str>, domains: bool) -> String {
    let cluster = cluster_id.map_or_else(|| "<cluster_id>".to_string(), |c| format!("{c:?}"));
    let mut s = format!(
        "The IDs are listed by data.tidbcloud_private_link_connections (cluster_id = {cluster}): the private_link_connection_id of each connection, with its display_name and state."
    );
    if domains {
        s.push_str(" The attach_domain_id is in the attached_domains of data.tidbcloud_private_link_connection (given the cluster_id and the connection's private_link_connection_id or display_name).");
    }
    s
}

/// An import error: what is wrong, then where the IDs are listed.
pub fn import_error(
    summary: &str,
    detail: &str,
    cluster_id: Option<&str>,
    domains: bool,
) -> Diagnostic {
    Diagnostic::error(
        summary,
        format!("{detail}\n\n{}", where_the_ids_are(cluster_id, domains)),
    )
}

/// How to import an object, in both forms: the `terraform import` command
/// and an `import` block. It starts on a line of its own and is indented,
/// so that Terraform does not wrap it: put it last in a message, after a
/// sentence that ends with a colon.
pub fn import_hint(type_name: &str, id: &str) -> String {
    format!(
        "\n\n  terraform import {type_name}.NAME {id}\n\nor, in the configuration:\n\n  import {{\n    to = {type_name}.NAME\n    id = \"{id}\"\n  }}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorResponse;

    #[test]
    fn import_hints_show_the_command_and_the_block() {
        let hint = import_hint("x_thing", "1,plc-a");
        assert!(
            hint.contains("\n  terraform import x_thing.NAME 1,plc-a\n"),
            "{hint}"
        );
        assert!(
            hint.contains("  import {\n    to = x_thing.NAME\n    id = \"1,plc-a\"\n  }"),
            "{hint}"
        );
    }

    #[test]
    fn import_errors_say_where_the_ids_are() {
        let d = import_error("Invalid import ID", "bad.", Some("1"), false);
        assert!(d.detail.starts_with("bad.\n\n"), "{}", d.detail);
        assert!(
            d.detail
                .contains("data.tidbcloud_private_link_connections (cluster_id = \"1\")"),
            "{}",
            d.detail
        );
        assert!(!d.detail.contains("attach_domain_id"), "{}", d.detail);
        let d = import_error("Invalid import ID", "bad.", None, true);
        assert!(
            d.detail.contains("cluster_id = <cluster_id>"),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("attached_domains"), "{}", d.detail);
    }

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
