//! Delete: refused while domains are attached, then the wait until the
//! connection is gone. The delete request is idempotent; the transport
//! retries it like a GET.

use super::read::ids;
use super::DEFAULT_DELETE_TIMEOUT;
use crate::api::{ConnectionState, PrivateLinkConnection as Connection};
use crate::framework::poll::unless_stopped;
use crate::framework::timeouts;
use crate::framework::{Context, Diagnostic, Diagnostics, Value};
use crate::services::errors::api_error;
use crate::services::waits::{self, connection_state, connection_status, WaitError};
use crate::services::ProviderData;

fn blocked_by_domains(c: &Connection, cluster_id: &str) -> Diagnostic {
    let ids: Vec<&str> = c
        .attached_domains
        .iter()
        .map(|a| a.attach_domain_id.as_str())
        .collect();
    Diagnostic::error(
        "Private link connection has attached domains",
        format!(
            "Connection {} cannot be deleted while domains are attached to it (attach_domain_id: {}). Detach them first: destroy the tidbcloud_private_link_domains resource that manages them (terraform destroy -target=...), or detach them in the TiDB Cloud console (cluster {cluster_id} > Networking > Private Link Connection > Detach Domains), then apply again.",
            c.private_link_connection_id,
            ids.join(", ")
        ),
    )
}

pub(super) async fn delete(ctx: &Context<ProviderData>, state: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let client = match ctx.data().and_then(ProviderData::client) {
        Ok(c) => c,
        Err(d) => return d.into(),
    };
    let Some((cluster_id, id)) = ids(state) else {
        return Diagnostic::error(
            "Invalid state",
            "The state has no cluster_id or private_link_connection_id.",
        )
        .into();
    };
    let Some(found) =
        unless_stopped(&ctx.stop, waits::find_connection(client, &cluster_id, &id)).await
    else {
        return Diagnostic::error(
            "Interrupted before deleting the private link connection",
            format!("Nothing was deleted; connection {id} stays in the state."),
        )
        .into();
    };
    let already_deleting = match found {
        Ok(None) => return diags,
        Ok(Some(c)) if !c.attached_domains.is_empty() => {
            return blocked_by_domains(&c, &cluster_id).into()
        }
        Ok(Some(c)) => connection_state(&c) == Some(&ConnectionState::Deleting),
        Err(e) => {
            return api_error(
                "Could not read the private link connection before deleting it",
                &e,
            )
            .into()
        }
    };
    // A delete interrupted earlier may have been accepted already: then only wait.
    let deleted = if already_deleting {
        Ok(())
    } else {
        client
            .delete_private_link_connection(&cluster_id, &id)
            .await
    };
    match deleted {
        Ok(()) => {}
        Err(e) if e.is_not_found() => return diags,
        Err(e) if e.is_failed_precondition() => {
            if let Ok(Some(c)) = waits::find_connection(client, &cluster_id, &id).await {
                if !c.attached_domains.is_empty() {
                    return blocked_by_domains(&c, &cluster_id).into();
                }
            }
            return api_error("Could not delete the private link connection", &e).into();
        }
        Err(e) => return api_error("Could not delete the private link connection", &e).into(),
    }
    let timeout = timeouts::get(state, "delete", DEFAULT_DELETE_TIMEOUT);
    let gone =
        waits::wait_connection_deleted(client, &ctx.stop, &cluster_id, &id, timeout).await;
    match gone {
        Ok(_) => {}
        Err(WaitError::Timeout { last, .. }) => diags.error(
            "Timed out waiting for the private link connection to be deleted",
            format!("Connection {id} is still {} after the delete timeout; it stays in the state. Apply again to keep waiting.", last.as_ref().map(connection_status).unwrap_or_default()),
        ),
        Err(WaitError::Stopped { .. }) => diags.error(
            "Interrupted while deleting the private link connection",
            format!("Deletion of connection {id} was requested but not confirmed; it stays in the state. Apply again to finish."),
        ),
        Err(WaitError::Api { error, .. }) => diags.push(api_error("Error while waiting for the private link connection to be deleted", &error)),
        Err(WaitError::Gone { .. }) => {}
    }
    diags
}
