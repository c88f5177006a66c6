//! Delete: refused by the API while domains are attached, then the wait
//! until the connection is gone. The delete request is idempotent; the transport
//! retries it like a GET.

use super::read::ids;
use super::DEFAULT_DELETE_TIMEOUT;
use crate::api::{ConnectionState, PrivateLinkConnection as Connection};
use crate::framework::timeouts;
use crate::framework::{Context, Diagnostic, Diagnostics, Value};
use crate::services::errors::api_error;
use crate::services::waits::{self, connection_state, connection_status, WaitError};
use crate::services::watcher::stopped_before_sending;
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
    let watch = match ctx.data().and_then(ProviderData::watchers) {
        Ok(w) => w,
        Err(d) => return d.into(),
    };
    let client = watch.client();
    let Some((cluster_id, id)) = ids(state) else {
        return Diagnostic::error(
            "Invalid state",
            "The state has no cluster_id or private_link_connection_id.",
        )
        .into();
    };
    // No read first: the API refuses to delete a connection with attached
    // domains, and only then is the connection read to say which. Deleting
    // a connection already DELETING (an earlier interrupted delete) is accepted.
    let deleted = watch
        .mutate(
            &ctx.stop,
            client.delete_private_link_connection(&cluster_id, &id),
        )
        .await;
    match deleted {
        Ok(()) => {}
        Err(e) if e.is_not_found() => return diags,
        Err(e) if stopped_before_sending(&ctx.stop, &e) => {
            return Diagnostic::error(
                "Interrupted before deleting the private link connection",
                format!("The delete request was still waiting for the API rate limit budget and was not sent: connection {id} stays in the state."),
            )
            .into()
        }
        Err(e) if e.is_failed_precondition() => {
            match waits::find_connection(client, &cluster_id, &id).await {
                Ok(Some(c)) if !c.attached_domains.is_empty() => {
                    return blocked_by_domains(&c, &cluster_id).into()
                }
                // Already being deleted: only wait.
                Ok(Some(c)) if connection_state(&c) == Some(&ConnectionState::Deleting) => {}
                Ok(None) => return diags,
                _ => return api_error("Could not delete the private link connection", &e).into(),
            }
        }
        Err(e) => return api_error("Could not delete the private link connection", &e).into(),
    }
    watch.wrote(&id);
    let timeout = timeouts::get(state, "delete", DEFAULT_DELETE_TIMEOUT);
    let gone = waits::wait_connection_deleted(watch, &ctx.stop, &cluster_id, &id, timeout).await;
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
