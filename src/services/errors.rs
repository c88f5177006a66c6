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

/// The warning of a create that returns with the connection
/// PENDING_ACCEPTANCE. It is shown at the end of the apply, after whatever
/// else the apply did, so it says what was true when the connection was
/// created: an acceptance in the same configuration may have followed.
pub fn created_pending_acceptance(
    connection_id: &str,
    endpoint: &str,
    service: &str,
) -> Diagnostic {
    Diagnostic::warning(
        "Private link connection created at PENDING_ACCEPTANCE",
        format!(
            "Connection {connection_id} was PENDING_ACCEPTANCE when it was created. If this configuration accepts its endpoint (with aws_vpc_endpoint_connection_accepter or alicloud_privatelink_vpc_endpoint_connection), nothing more is needed: what waits for the connection, such as tidbcloud_private_link_domains, goes on once it is ACTIVE. Otherwise accept endpoint {endpoint} on your endpoint service {service} (in the AWS console under VPC > Endpoint services > Endpoint connections, or in the Alibaba Cloud PrivateLink console); set wait_for_active = true to make apply wait for that."
        ),
    )
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

    /// A hint at `terraform import` anywhere in the sources shows the
    /// `import` block too: messages build theirs with [`import_hint`], and
    /// descriptions name both. (The documentation generator writes both.)
    #[test]
    fn every_import_hint_in_the_sources_shows_both_forms() {
        fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).expect("src").flatten() {
                let path = entry.path();
                if path.is_dir() {
                    files(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut all = Vec::new();
        files(&src, &mut all);
        let exempt = [
            src.join("services/errors.rs"),
            src.join("framework/docs.rs"),
        ];
        let mut seen = 0;
        for path in all.iter().filter(|p| !exempt.contains(p)) {
            let text = std::fs::read_to_string(path).expect("source");
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("//") || !line.contains("terraform import") {
                    continue;
                }
                seen += 1;
                assert!(
                    line.contains("`import` block"),
                    "{}:{}: a terraform import hint without the import block; use errors::import_hint",
                    path.display(),
                    n + 1
                );
            }
        }
        assert!(seen > 0, "the scan found none of the descriptions");
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
            integer_code: true,
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
