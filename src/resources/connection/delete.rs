//! Delete: refused by the API while domains are attached (unless a detach
//! of this process is on its way), then the wait until the connection is
//! gone. The delete request is idempotent: the transport retries it like a
//! GET, and after a lost answer it is sent again unless the connection is
//! gone or DELETING. No read comes first: the API refuses to delete a
//! connection with attached domains, and only then is the connection read.

use std::time::Duration;

use super::read::ids;
use super::DEFAULT_DELETE_TIMEOUT;
use crate::api::{ConnectionState, PrivateLinkConnection as Connection};
use crate::framework::timeouts;
use crate::framework::{Context, Diagnostic, Diagnostics, Value};
use crate::services::errors::{api_error, import_hint};
use crate::services::ownership::DetachWait;
use crate::services::waits::{
    self, connection_state, connection_status, unless_cancelled, Removal, RemovalError, Seen,
    WaitError,
};
use crate::services::ProviderData;

/// How long a delete that finds attachments waits for a detach of the same
/// connection to start in this process.
const DETACH_GRACE: Duration = Duration::from_secs(10);

/// How many times a delete is sent while its answers are lost and the
/// connection is neither gone nor DELETING.
const DELETE_ATTEMPTS: usize = 6;

fn blocked_by_domains(c: &Connection, cluster_id: &str) -> Diagnostic {
    let ids: Vec<&str> = c
        .attached_domains
        .iter()
        .map(|a| a.attach_domain_id.as_str())
        .collect();
    // An attachment no resource of this state manages (a killed run's, or
    // one made in the console) can be imported, then destroyed with it.
    let imports: String = ids
        .iter()
        .map(|a| {
            let id = format!("{cluster_id},{},{a}", c.private_link_connection_id);
            import_hint(DOMAINS_TYPE, &id)
        })
        .collect();
    Diagnostic::error(
        "Private link connection has attached domains",
        format!(
            "Connection {} cannot be deleted while domains are attached to it (attach_domain_id: {}). Detach them first: destroy the tidbcloud_private_link_domains resource that manages them (terraform destroy -target=...), or detach them in the TiDB Cloud console (cluster {cluster_id} > Networking > Private Link Connection > Detach Domains), then apply again. An attachment that no resource of this state manages can also be imported, and then destroyed with the rest:{imports}",
            c.private_link_connection_id,
            ids.join(", ")
        ),
    )
}

/// The type of the resource that manages attachments (named here only for
/// the import hint: resources do not import each other).
const DOMAINS_TYPE: &str = "tidbcloud_private_link_domains";

fn interrupted_before_sending(id: &str) -> Diagnostic {
    Diagnostic::error(
        "Interrupted before deleting the private link connection",
        format!("The delete request was not sent: connection {id} stays in the state."),
    )
}

pub(super) async fn delete(ctx: &Context<ProviderData>, state: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let timeout = timeouts::get(state, "delete", DEFAULT_DELETE_TIMEOUT);
    let (data, watch, op) = match ctx
        .data()
        .and_then(|d| Ok((d, d.watchers()?, d.op(&ctx.stop, Some(timeout))?)))
    {
        Ok(all) => all,
        Err(d) => return d.into(),
    };
    let client = &watch.client().within(&op);
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
    let mut waited_for_detach = false;
    loop {
        let removal = waits::remove(
            &op,
            DELETE_ATTEMPTS,
            || client.delete_private_link_connection(&cluster_id, &id),
            || async {
                Ok(
                    match waits::find_connection(client, &cluster_id, &id).await? {
                        None => Seen::Gone,
                        Some(c) if connection_state(&c) == Some(&ConnectionState::Deleting) => {
                            Seen::GoingAway
                        }
                        Some(_) => Seen::Present,
                    },
                )
            },
        );
        match removal.await {
            Ok(Removal::Accepted) => break,
            Ok(Removal::Gone) => return diags,
            Err(RemovalError::NotSent(_)) => return interrupted_before_sending(&id).into(),
            Err(RemovalError::Failed(e)) if e.is_failed_precondition() => {
                let found = waits::find_connection(client, &cluster_id, &id).await;
                match found {
                    Ok(Some(c)) if !c.attached_domains.is_empty() => {
                        if waited_for_detach {
                            return blocked_by_domains(&c, &cluster_id).into();
                        }
                        waited_for_detach = true;
                        // Terraform may send this delete alongside the
                        // detach of its domains when it cannot see the
                        // dependency (literal ids, as in generated
                        // configuration): wait for a detach of this process.
                        log::info!(
                            "connection {id} still has attached domains; waiting up to {}s for their detach to start",
                            DETACH_GRACE.as_secs()
                        );
                        let detach = data.ownership.wait_for_detach(&id, DETACH_GRACE, timeout);
                        match unless_cancelled(&op, detach).await {
                            None => return interrupted_before_sending(&id).into(),
                            Some(DetachWait::NoneStarted) => {
                                return blocked_by_domains(&c, &cluster_id).into()
                            }
                            Some(DetachWait::StillRunning) => {
                                return Diagnostic::error(
                                    "Timed out waiting for the domains to be detached",
                                    format!("Connection {id} cannot be deleted before its domains are detached, and their detach had not finished within the delete timeout; it stays in the state. Apply again to keep waiting."),
                                )
                                .into()
                            }
                            Some(DetachWait::Finished) => {
                                log::info!("the domains of connection {id} were detached; deleting it");
                            }
                        }
                    }
                    // Already being deleted (an earlier interrupted delete): only wait.
                    Ok(Some(c)) if connection_state(&c) == Some(&ConnectionState::Deleting) => {
                        break
                    }
                    Ok(None) => return diags,
                    _ => {
                        return api_error("Could not delete the private link connection", &e).into()
                    }
                }
            }
            Err(RemovalError::Failed(e) | RemovalError::Interrupted(e)) => {
                return api_error("Could not delete the private link connection", &e).into()
            }
        }
    }
    watch.wrote(&id);
    let gone = waits::wait_connection_deleted(watch, &op, &cluster_id, &id).await;
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
