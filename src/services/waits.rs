//! Waiting for TiDB Cloud objects, in one place: the finders (an object or
//! a typed "not found"), their statuses as typed states, and the typed
//! waits the resources call. The waits are served by the cluster's
//! [`watcher`](super::watcher): one listing per tick for every waiting
//! connection of a cluster, one GET per tick for every domain wait on a
//! connection, paced by the rate limit budget.

use std::time::Duration;

use super::watcher::{Kind, Watchers};
use crate::api::{
    ApiError, AttachDomain, Client, ConnectionState, DomainState, PrivateLinkConnection,
};
use crate::framework::poll::{self, Poll, Transient};
use crate::framework::StopSignal;

use super::domains::{self, Phase};

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

/// An attachment's state for messages: FAILED when any domain failed, else
/// the first state that is not settled (verbatim; CREATING when a domain has
/// none), else the first domain's settled word. Which states count as
/// settled is [`domains::phase`]'s decision.
pub fn attachment_state(a: &AttachDomain) -> DomainState {
    let first = |wanted: Phase| {
        a.domains
            .iter()
            .find(|d| domains::phase(d.state.as_ref()) == wanted)
    };
    if first(Phase::Failed).is_some() {
        return DomainState::Failed;
    }
    let shown = first(Phase::Transitional).or_else(|| a.domains.first());
    match shown.and_then(|d| d.state.clone()) {
        Some(s) if !s.as_str().trim().is_empty() => s,
        _ => DomainState::Creating,
    }
}

/// After a create: waits until the connection is ACTIVE or FAILED, or
/// PENDING_ACCEPTANCE unless `wait_for_active`.
pub async fn wait_connection_created(
    watch: &Watchers,
    stop: &StopSignal,
    cluster_id: &str,
    id: &str,
    wait_for_active: bool,
    timeout: Duration,
) -> Result<PrivateLinkConnection, WaitError<PrivateLinkConnection>> {
    watch
        .wait(cluster_id, id, Kind::Create, stop, timeout, |c| {
            let Some(c) = c else {
                return Poll::Gone(format!("connection {id}"));
            };
            match connection_state(c) {
                Some(ConnectionState::Active | ConnectionState::Failed) => Poll::Done(c.clone()),
                Some(ConnectionState::PendingAcceptance) if !wait_for_active => {
                    Poll::Done(c.clone())
                }
                _ => Poll::Pending(c.clone()),
            }
        })
        .await
}

/// Before attaching: waits until the connection is ACTIVE, or in a state it
/// cannot leave for ACTIVE (FAILED, DELETING). Acceptance may happen meanwhile.
pub async fn wait_connection_active(
    watch: &Watchers,
    stop: &StopSignal,
    cluster_id: &str,
    id: &str,
    timeout: Duration,
) -> Result<PrivateLinkConnection, WaitError<PrivateLinkConnection>> {
    watch
        .wait(cluster_id, id, Kind::Observe, stop, timeout, |c| {
            let Some(c) = c else {
                return Poll::Gone(format!("connection {id}"));
            };
            match connection_state(c) {
                Some(
                    ConnectionState::Active | ConnectionState::Failed | ConnectionState::Deleting,
                ) => Poll::Done(c.clone()),
                _ => Poll::Pending(c.clone()),
            }
        })
        .await
}

/// After a delete: waits until the connection is gone; the last connection
/// seen tells how far it got.
pub async fn wait_connection_deleted(
    watch: &Watchers,
    stop: &StopSignal,
    cluster_id: &str,
    id: &str,
    timeout: Duration,
) -> Result<(), WaitError<PrivateLinkConnection>> {
    watch
        .wait(cluster_id, id, Kind::Delete, stop, timeout, |c| match c {
            None => Poll::Done(None),
            Some(c) => Poll::Pending(Some(c.clone())),
        })
        .await
        .map(|_| ())
        .map_err(poll::WaitError::flatten)
}

/// After an attach: waits until every domain of the attachment is settled
/// (any word but a transitional one) or one FAILED; gives the attachment
/// with its connection.
pub async fn wait_attachment_settled(
    watch: &Watchers,
    stop: &StopSignal,
    cluster_id: &str,
    connection_id: &str,
    attach_id: &str,
    timeout: Duration,
) -> Result<(AttachDomain, PrivateLinkConnection), WaitError<(AttachDomain, PrivateLinkConnection)>>
{
    watch
        .wait(
            cluster_id,
            connection_id,
            Kind::Attach,
            stop,
            timeout,
            |c| {
                let Some(c) = c else {
                    return Poll::Gone(format!("connection {connection_id}"));
                };
                let Some(a) = find_attachment(c, attach_id).cloned() else {
                    return Poll::Gone(format!("attachment {attach_id}"));
                };
                match domains::attachment_phase(&a) {
                    Phase::Settled | Phase::Failed => Poll::Done((a, c.clone())),
                    Phase::Transitional => Poll::Pending((a, c.clone())),
                }
            },
        )
        .await
}

/// After a detach: waits until the attachment (or its connection) is gone;
/// the last state seen tells how far it got.
pub async fn wait_attachment_detached(
    watch: &Watchers,
    stop: &StopSignal,
    cluster_id: &str,
    connection_id: &str,
    attach_id: &str,
    timeout: Duration,
) -> Result<(), WaitError<DomainState>> {
    watch
        .wait(
            cluster_id,
            connection_id,
            Kind::Detach,
            stop,
            timeout,
            |c| {
                let Some(c) = c else {
                    return Poll::Done(None);
                };
                match find_attachment(c, attach_id) {
                    None => Poll::Done(None),
                    Some(a) => Poll::Pending(Some(attachment_state(a))),
                }
            },
        )
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
        assert_eq!(s(&[Some("ATTACHED"), Some("ATTACHING")]), "ATTACHING");
        assert_eq!(s(&[Some("ATTACHED")]), "ATTACHED");
        assert_eq!(s(&[Some("VERIFYING")]), "VERIFYING");
    }
}
