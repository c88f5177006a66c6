//! Waiting for TiDB Cloud objects, in one place: the finders (an object or
//! a typed "not found"), their statuses as typed states, and the typed
//! waits the resources call. The waits are built on the generic poller
//! ([`crate::framework::poll`]); their signatures are all a resource sees,
//! so a different source of states (such as a per-cluster watcher) can
//! serve them without touching the resources.

use std::time::{Duration, Instant};

use crate::api::{
    ApiError, AttachDomain, Client, ConnectionState, DomainState, PrivateLinkConnection,
};
use crate::framework::poll::{self, Poll, Transient};
use crate::framework::StopSignal;

/// Why a wait ended without a settled object.
pub type WaitError<T> = poll::WaitError<T, ApiError>;

impl Transient for ApiError {
    fn is_transient(&self) -> bool {
        ApiError::is_transient(self)
    }
}

/// The connection, or `None` when the API says it does not exist.
pub async fn find_connection(
    client: &Client,
    cluster_id: &str,
    id: &str,
) -> Result<Option<PrivateLinkConnection>, ApiError> {
    match client.get_private_link_connection(cluster_id, id).await {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether the connection is still on its way somewhere: only CREATING and
/// DELETING (and a missing state) are transitional; any other state, an
/// unfamiliar one included, settles a wait.
pub fn connection_transitional(c: &PrivateLinkConnection) -> bool {
    matches!(
        connection_state(c),
        None | Some(ConnectionState::Creating | ConnectionState::Deleting)
    )
}

/// Logs at INFO what a wait is waiting for and for how long, with the
/// endpoint to accept while the connection is PENDING_ACCEPTANCE.
fn progress(what: &str, started: Instant, c: &PrivateLinkConnection) {
    let waited = humantime::format_duration(Duration::from_secs(started.elapsed().as_secs()));
    let id = &c.private_link_connection_id;
    if connection_state(c) == Some(&ConnectionState::PendingAcceptance) {
        log::info!(
            "waiting for connection {id} to {what}: PENDING_ACCEPTANCE after {waited}; accept endpoint {} on endpoint service {}",
            c.endpoint_id().unwrap_or("(not yet assigned)"),
            c.endpoint_service_name().unwrap_or_default()
        );
    } else {
        log::info!(
            "waiting for connection {id} to {what}: {} after {waited}",
            connection_status(c)
        );
    }
}

/// The connection's state, if the API gave one.
pub fn connection_state(c: &PrivateLinkConnection) -> Option<&ConnectionState> {
    c.state.as_ref()
}

/// The connection's state as the API spells it ("" when absent), for messages.
pub fn connection_status(c: &PrivateLinkConnection) -> &str {
    c.state.as_ref().map(|s| s.as_str()).unwrap_or("")
}

/// The attachment `attach_domain_id` of a connection fetched with GET.
pub fn find_attachment<'a>(
    c: &'a PrivateLinkConnection,
    attach_domain_id: &str,
) -> Option<&'a AttachDomain> {
    c.attached_domains
        .iter()
        .find(|a| a.attach_domain_id == attach_domain_id)
}

/// An attachment's state: FAILED when any domain failed, SUCCEEDED when all
/// succeeded, otherwise the first transitional state seen (verbatim; a
/// domain without a state counts as CREATING).
pub fn attachment_state(a: &AttachDomain) -> DomainState {
    let states: Vec<Option<&DomainState>> = a.domains.iter().map(|d| d.state.as_ref()).collect();
    if states.contains(&Some(&DomainState::Failed)) {
        return DomainState::Failed;
    }
    if !states.is_empty() && states.iter().all(|s| *s == Some(&DomainState::Succeeded)) {
        return DomainState::Succeeded;
    }
    match states
        .into_iter()
        .find(|s| *s != Some(&DomainState::Succeeded))
    {
        Some(Some(s)) if !s.as_str().is_empty() => s.clone(),
        _ => DomainState::Creating,
    }
}

/// After a create: waits until the connection is ACTIVE or FAILED, or
/// PENDING_ACCEPTANCE unless `wait_for_active`.
pub async fn wait_connection_created(
    client: &Client,
    stop: &StopSignal,
    cluster_id: &str,
    id: &str,
    wait_for_active: bool,
    timeout: Duration,
) -> Result<PrivateLinkConnection, WaitError<PrivateLinkConnection>> {
    let started = Instant::now();
    let what = if wait_for_active {
        "become ACTIVE"
    } else {
        "settle"
    };
    poll::until(stop, timeout, || async {
        let Some(c) = find_connection(client, cluster_id, id).await? else {
            return Ok(Poll::Gone(format!("connection {id}")));
        };
        let settled = match connection_state(&c) {
            Some(ConnectionState::PendingAcceptance) => !wait_for_active,
            _ => !connection_transitional(&c),
        };
        if settled {
            return Ok(Poll::Done(c));
        }
        progress(what, started, &c);
        Ok(Poll::Pending(c))
    })
    .await
}

/// Before attaching: waits until the connection is ACTIVE, or in a state it
/// cannot leave for ACTIVE (FAILED, DELETING). Acceptance may happen meanwhile.
pub async fn wait_connection_active(
    client: &Client,
    stop: &StopSignal,
    cluster_id: &str,
    id: &str,
    timeout: Duration,
) -> Result<PrivateLinkConnection, WaitError<PrivateLinkConnection>> {
    let started = Instant::now();
    poll::until(stop, timeout, || async {
        let Some(c) = find_connection(client, cluster_id, id).await? else {
            return Ok(Poll::Gone(format!("connection {id}")));
        };
        // Waiting goes on through CREATING and PENDING_ACCEPTANCE (which
        // acceptance may end); anything else settles.
        Ok(match connection_state(&c) {
            None | Some(ConnectionState::Creating | ConnectionState::PendingAcceptance) => {
                progress("become ACTIVE", started, &c);
                Poll::Pending(c)
            }
            _ => Poll::Done(c),
        })
    })
    .await
}

/// After a delete: waits until the connection is gone; the last connection
/// seen tells how far it got.
pub async fn wait_connection_deleted(
    client: &Client,
    stop: &StopSignal,
    cluster_id: &str,
    id: &str,
    timeout: Duration,
) -> Result<(), WaitError<PrivateLinkConnection>> {
    let started = Instant::now();
    poll::until(stop, timeout, || async {
        Ok(match find_connection(client, cluster_id, id).await? {
            None => Poll::Done(None),
            Some(c) => {
                progress("be deleted", started, &c);
                Poll::Pending(Some(c))
            }
        })
    })
    .await
    .map(|_| ())
    .map_err(poll::WaitError::flatten)
}

/// After an attach: waits until every domain of the attachment SUCCEEDED or
/// one FAILED; gives the attachment with its connection.
pub async fn wait_attachment_settled(
    client: &Client,
    stop: &StopSignal,
    cluster_id: &str,
    connection_id: &str,
    attach_id: &str,
    timeout: Duration,
) -> Result<(AttachDomain, PrivateLinkConnection), WaitError<(AttachDomain, PrivateLinkConnection)>>
{
    let started = Instant::now();
    poll::until(stop, timeout, || async {
        let Some(c) = find_connection(client, cluster_id, connection_id).await? else {
            return Ok(Poll::Gone(format!("connection {connection_id}")));
        };
        let Some(a) = find_attachment(&c, attach_id).cloned() else {
            return Ok(Poll::Gone(format!("attachment {attach_id}")));
        };
        Ok(match attachment_state(&a) {
            DomainState::Succeeded | DomainState::Failed => Poll::Done((a, c)),
            state => {
                log::info!(
                    "waiting for the domains of attachment {attach_id} to settle: {state} after {}",
                    humantime::format_duration(Duration::from_secs(started.elapsed().as_secs()))
                );
                Poll::Pending((a, c))
            }
        })
    })
    .await
}

/// After a detach: waits until the attachment (or its connection) is gone;
/// the last state seen tells how far it got.
pub async fn wait_attachment_detached(
    client: &Client,
    stop: &StopSignal,
    cluster_id: &str,
    connection_id: &str,
    attach_id: &str,
    timeout: Duration,
) -> Result<(), WaitError<DomainState>> {
    let started = Instant::now();
    poll::until(stop, timeout, || async {
        let Some(c) = find_connection(client, cluster_id, connection_id).await? else {
            return Ok(Poll::Done(None));
        };
        Ok(match find_attachment(&c, attach_id) {
            None => Poll::Done(None),
            Some(a) => {
                let state = attachment_state(a);
                log::info!(
                    "waiting for attachment {attach_id} to be detached: {state} after {}",
                    humantime::format_duration(Duration::from_secs(started.elapsed().as_secs()))
                );
                Poll::Pending(Some(state))
            }
        })
    })
    .await
    .map(|_| ())
    .map_err(poll::WaitError::flatten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Domain;

    fn attachment(states: &[Option<&str>]) -> AttachDomain {
        AttachDomain {
            domains: states
                .iter()
                .map(|s| Domain {
                    state: s.map(DomainState::from),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn attachment_states() {
        let s = |states: &[Option<&str>]| attachment_state(&attachment(states)).to_string();
        assert_eq!(s(&[]), "CREATING");
        assert_eq!(s(&[Some("SUCCEEDED"), Some("SUCCEEDED")]), "SUCCEEDED");
        assert_eq!(s(&[Some("SUCCEEDED"), Some("FAILED")]), "FAILED");
        assert_eq!(s(&[Some("SUCCEEDED"), Some("DELETING")]), "DELETING");
        assert_eq!(s(&[Some("SUCCEEDED"), None]), "CREATING");
        assert_eq!(s(&[Some("SUCCEEDED"), Some("")]), "CREATING");
        assert_eq!(s(&[Some("VERIFYING")]), "VERIFYING");
    }
}
