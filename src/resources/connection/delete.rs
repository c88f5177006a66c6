//! Delete: refused while domains are attached (unless a detach of this
//! process is on its way), then the wait until the connection is gone. The
//! delete request is idempotent: the transport retries it like a GET, and
//! after a lost answer it is sent again unless the connection is gone or
//! DELETING.

use std::time::{Duration, Instant};

use super::read::ids;
use super::DEFAULT_DELETE_TIMEOUT;
use crate::api::{ApiError, Client, ConnectionState, PrivateLinkConnection as Connection};
use crate::framework::poll::{next_interval, unless_stopped};
use crate::framework::timeouts;
use crate::framework::{Context, Diagnostic, Diagnostics, Value};
use crate::services::errors::api_error;
use crate::services::ownership::DetachWait;
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

/// How long a delete that finds attachments waits for a detach of the same
/// connection to start in this process.
const DETACH_GRACE: Duration = Duration::from_secs(10);

/// How many times a delete is sent while its answers are lost and the
/// connection is neither gone nor DELETING.
const DELETE_ATTEMPTS: usize = 6;

/// Waits for a detach of `id` in this process (starting within
/// [`DETACH_GRACE`]) to finish, then reads the connection again.
async fn detached_meanwhile(
    ctx: &Context<ProviderData>,
    client: &Client,
    cluster_id: &str,
    id: &str,
    timeout: Duration,
) -> Result<Result<Option<Connection>, ApiError>, Diagnostic> {
    let Ok(data) = ctx.data() else {
        return Ok(waits::find_connection(client, cluster_id, id).await);
    };
    log::info!(
        "connection {id} still has attached domains; waiting up to {}s for their detach to start",
        DETACH_GRACE.as_secs()
    );
    let waited = data.ownership.wait_for_detach(id, DETACH_GRACE, timeout);
    match unless_stopped(&ctx.stop, waited).await {
        None => Err(Diagnostic::error(
            "Interrupted before deleting the private link connection",
            format!("Nothing was deleted; connection {id} stays in the state."),
        )),
        Some(DetachWait::StillRunning) => Err(Diagnostic::error(
            "Timed out waiting for the domains to be detached",
            format!("Connection {id} cannot be deleted before its domains are detached, and their detach had not finished within the delete timeout; it stays in the state. Apply again to keep waiting."),
        )),
        Some(DetachWait::Finished) => {
            log::info!("the domains of connection {id} were detached; deleting it");
            Ok(waits::find_connection(client, cluster_id, id).await)
        }
        Some(DetachWait::NoneStarted) => Ok(waits::find_connection(client, cluster_id, id).await),
    }
}

/// Sends the delete until the API has taken it: after a lost answer the
/// connection is read back, and the delete is sent again unless it is gone
/// or DELETING. A 404 means done.
async fn delete_accepted(
    ctx: &Context<ProviderData>,
    client: &Client,
    cluster_id: &str,
    id: &str,
) -> Result<(), ApiError> {
    let started = Instant::now();
    let mut pause = Duration::ZERO;
    let mut last = None;
    for _ in 0..DELETE_ATTEMPTS {
        let Some(outcome) = unless_stopped(
            &ctx.stop,
            client.delete_private_link_connection(cluster_id, id),
        )
        .await
        else {
            break;
        };
        let e = match outcome {
            Ok(()) => return Ok(()),
            Err(e) if e.is_transient() || e.outcome_unknown() => e,
            Err(e) => return Err(e),
        };
        log::warn!("delete of connection {id} failed ({e}); checking whether it is going away");
        match waits::find_connection(client, cluster_id, id).await {
            Ok(None) => return Ok(()),
            Ok(Some(c)) if connection_state(&c) == Some(&ConnectionState::Deleting) => {
                return Ok(())
            }
            Ok(Some(_)) => {}
            Err(read) => log::warn!("reading connection {id} back failed too: {read}"),
        }
        last = Some(e);
        pause = next_interval(pause, started.elapsed());
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = ctx.stop.stopped() => break,
        }
    }
    match last {
        Some(e) => Err(e),
        // Stopped before any answer: the wait below reports the interruption.
        None => Ok(()),
    }
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
    if id.is_empty() {
        // Saved by older versions; the refresh before this delete found no
        // single connection it stands for, so there is nothing to delete.
        diags.warning(
            "Nothing to delete for an entry with an empty connection id",
            format!("The state held a connection with an empty connection id (\"{cluster_id},\"); it is removed from the state. Check the cluster's connections in the console for one to import or delete."),
        );
        return diags;
    }
    let Some(found) =
        unless_stopped(&ctx.stop, waits::find_connection(client, &cluster_id, &id)).await
    else {
        return Diagnostic::error(
            "Interrupted before deleting the private link connection",
            format!("Nothing was deleted; connection {id} stays in the state."),
        )
        .into();
    };
    let timeout = timeouts::get(state, "delete", DEFAULT_DELETE_TIMEOUT);
    let found = match found {
        Ok(Some(c)) if !c.attached_domains.is_empty() => {
            // Terraform may send this delete alongside the detach of its
            // domains when it cannot see the dependency (literal ids, as in
            // generated configuration): wait for a detach of this process.
            match detached_meanwhile(ctx, client, &cluster_id, &id, timeout).await {
                Ok(found) => found,
                Err(d) => return d.into(),
            }
        }
        other => other,
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
        delete_accepted(ctx, client, &cluster_id, &id).await
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
    let gone = waits::wait_connection_deleted(client, &ctx.stop, &cluster_id, &id, timeout).await;
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
