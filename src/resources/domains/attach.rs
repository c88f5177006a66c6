//! Attach-and-reconcile, one of the two deliberate exceptions to "resources
//! never retry" (ARCHITECTURE.md, Rules): the transport never retries an
//! attach, because a lost answer may hide an attachment that was made. Here
//! the connection is read back before anyone sends again: an attachment
//! with the requested unique name is adopted; when there is none, the
//! attach is sent again (a late duplicate is answered 409, read back and
//! adopted). Detaching is idempotent; see `detach_accepted` in the resource.

use crate::api::{ApiError, AttachDomain, Op, PrivateLinkConnection as Connection};
use crate::framework::Diagnostic;
use crate::services::errors::{api_error, import_hint};
use crate::services::waits;
use crate::services::watch::{stopped_before_sending, Watchers};

use super::TYPE_NAME;

/// How many times an attach is sent when its answers are lost and the
/// read-back shows it did not happen.
const ATTEMPTS: usize = 3;

/// The error for a 409 because the connection already has an attachment:
/// a connection takes one, and `create_before_destroy` on the domains
/// resource is the usual way to get there.
pub(super) fn second_attachment(connection: &Connection, existing: &AttachDomain) -> Diagnostic {
    Diagnostic::error(
        "Domains already attached",
        format!(
            "Connection {} already has domains attached (attach_domain_id {}); a connection takes one attachment, so TiDB Cloud refuses another (HTTP 409). If this resource replaces its domains with lifecycle {{ create_before_destroy = true }}, that is the likely cause: the new attachment is made before the old one is detached. Remove create_before_destroy from the {TYPE_NAME} resource. Otherwise detach the existing attachment first, or import it:{}",
            connection.private_link_connection_id,
            existing.attach_domain_id,
            import_hint(
                TYPE_NAME,
                &format!(
                    "{},{},{}",
                    connection.cluster_id,
                    connection.private_link_connection_id,
                    existing.attach_domain_id
                )
            )
        ),
    )
}

/// Attaches, reconciling a lost answer against the connection's attachments.
pub(super) async fn attach(
    watch: &Watchers,
    op: &Op,
    cluster_id: &str,
    connection_id: &str,
    request: &AttachDomain,
) -> Result<AttachDomain, Diagnostic> {
    let client = &watch.client().within(op);
    let mut last: Option<ApiError> = None;
    for _ in 0..ATTEMPTS {
        let sent = client
            .attach_domains(cluster_id, connection_id, request, false)
            .await;
        let e = match sent {
            Ok(a) => return Ok(a),
            Err(e) if stopped_before_sending(op, &e) => {
                return Err(Diagnostic::error(
                    "Interrupted before attaching the domains",
                    "The attach request was still waiting for the API rate limit budget and was not sent: nothing was attached.",
                ))
            }
            Err(e) => e,
        };
        let lost = e.outcome_unknown();
        // A 409 after a lost answer may be our own late attach.
        if !lost && !e.is_already_exists() {
            return Err(api_error("Could not attach the domains", &e));
        }
        if lost {
            log::warn!("attach answer lost ({e}); reading the connection back");
        }
        let connection = match waits::find_connection(client, cluster_id, connection_id).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Err(Diagnostic::error(
                    "Private link connection not found",
                    format!("{e}. Cluster {cluster_id} has no private link connection {connection_id} any more; nothing is attached."),
                ))
            }
            Err(read) => {
                return Err(Diagnostic::error(
                    "Outcome of the attach is unknown",
                    format!("{e}. Looking the attachment up failed too ({read}); check the connection's domains in the console and import the attachment if it exists."),
                ))
            }
        };
        if let Some(mine) = connection
            .attached_domains
            .iter()
            .find(|a| request.unique_name.is_some() && a.unique_name == request.unique_name)
        {
            if last.is_some() || lost {
                log::warn!(
                    "adopting attachment {} made by the attach whose answer was lost",
                    mine.attach_domain_id
                );
                return Ok(mine.clone());
            }
        }
        if e.is_already_exists() {
            return Err(match connection.attached_domains.first() {
                Some(existing) => second_attachment(&connection, existing),
                None => api_error("Could not attach the domains", &e),
            });
        }
        if let Some(existing) = connection.attached_domains.first() {
            return Err(second_attachment(&connection, existing));
        }
        last = Some(e);
    }
    Err(api_error(
        "Could not attach the domains",
        &last.unwrap_or_else(|| ApiError::Config("no attempt was made".into())),
    ))
}
