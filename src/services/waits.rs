//! Waiting for TiDB Cloud objects, in one place: the finders (an object or
//! a typed "not found"), their statuses as typed states, and the typed
//! waits the resources call. The waits are served by the cluster's
//! [`watch`](super::watch)er: one listing per poll for every waiting
//! connection of a cluster, one GET per poll for every domain wait on a
//! connection. Every wait ends at its operation's deadline or cancel.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

pub use super::status::{
    attachment_going_away, attachment_state, connection_state, connection_status,
    connection_transitional, find_attachment, find_connection,
};
use super::watch::schedule::STEP;
use super::watch::{stopped_before_sending, Kind, Watchers};
pub use super::watch::{Poll, WaitError};
use crate::api::op::cancelled;
use crate::api::{ApiError, AttachDomain, ConnectionState, DomainState, Op, PrivateLinkConnection};

use super::domains::{self, Phase};

/// Runs `call` unless `op` is cancelled first (`None` then). For calls
/// that change nothing: a read dropped mid-flight loses nothing.
pub async fn unless_cancelled<T>(op: &Op, call: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        out = call => Some(out),
        () = cancelled(op.cancel()) => None,
    }
}

/// How long since `started`, in whole seconds, for logs.
fn waited(started: Instant) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_secs(started.elapsed().as_secs()))
}

/// Logs at INFO what a wait is waiting for and for how long, with the
/// endpoint to accept while the connection is PENDING_ACCEPTANCE.
fn progress(what: &str, started: Instant, c: &PrivateLinkConnection) {
    let waited = waited(started);
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

/// After a create: waits until the connection is ACTIVE or FAILED, or
/// PENDING_ACCEPTANCE unless `wait_for_active`.
pub async fn wait_connection_created(
    watch: &Watchers,
    op: &Op,
    cluster_id: &str,
    id: &str,
    wait_for_active: bool,
) -> Result<PrivateLinkConnection, WaitError<PrivateLinkConnection>> {
    let started = Instant::now();
    let what = if wait_for_active {
        "become ACTIVE"
    } else {
        "settle"
    };
    watch
        .wait(op, cluster_id, id, Kind::Create, |c| {
            let Some(c) = c else {
                return Poll::Gone(format!("connection {id}"));
            };
            let settled = match connection_state(c) {
                Some(ConnectionState::PendingAcceptance) => !wait_for_active,
                _ => !connection_transitional(c),
            };
            if settled {
                return Poll::Done(c.clone());
            }
            progress(what, started, c);
            Poll::Pending(c.clone())
        })
        .await
}

/// Before attaching: waits until the connection is ACTIVE, or in a state it
/// cannot leave for ACTIVE (FAILED, DELETING). Acceptance may happen meanwhile.
pub async fn wait_connection_active(
    watch: &Watchers,
    op: &Op,
    cluster_id: &str,
    id: &str,
) -> Result<PrivateLinkConnection, WaitError<PrivateLinkConnection>> {
    let started = Instant::now();
    watch
        .wait(op, cluster_id, id, Kind::Observe, |c| {
            let Some(c) = c else {
                return Poll::Gone(format!("connection {id}"));
            };
            // Waiting goes on through CREATING and PENDING_ACCEPTANCE (which
            // acceptance may end); anything else settles.
            match connection_state(c) {
                None | Some(ConnectionState::Creating | ConnectionState::PendingAcceptance) => {
                    progress("become ACTIVE", started, c);
                    Poll::Pending(c.clone())
                }
                _ => Poll::Done(c.clone()),
            }
        })
        .await
}

/// After a delete: waits until the connection is gone; the last connection
/// seen tells how far it got.
pub async fn wait_connection_deleted(
    watch: &Watchers,
    op: &Op,
    cluster_id: &str,
    id: &str,
) -> Result<(), WaitError<PrivateLinkConnection>> {
    let started = Instant::now();
    watch
        .wait(op, cluster_id, id, Kind::Delete, |c| match c {
            None => Poll::Done(None),
            Some(c) => {
                progress("be deleted", started, c);
                Poll::Pending(Some(c.clone()))
            }
        })
        .await
        .map(|_| ())
        .map_err(WaitError::flatten)
}

/// After an attach: waits until every domain of the attachment is settled
/// (any word but a transitional one) or one FAILED; gives the attachment
/// with its connection.
pub async fn wait_attachment_settled(
    watch: &Watchers,
    op: &Op,
    cluster_id: &str,
    connection_id: &str,
    attach_id: &str,
) -> Result<(AttachDomain, PrivateLinkConnection), WaitError<(AttachDomain, PrivateLinkConnection)>>
{
    let started = Instant::now();
    watch
        .wait(op, cluster_id, connection_id, Kind::Attach, |c| {
            let Some(c) = c else {
                return Poll::Gone(format!("connection {connection_id}"));
            };
            let Some(a) = find_attachment(c, attach_id).cloned() else {
                return Poll::Gone(format!("attachment {attach_id}"));
            };
            match domains::attachment_phase(&a) {
                Phase::Settled | Phase::Failed => Poll::Done((a, c.clone())),
                Phase::Transitional => {
                    log::info!(
                        "waiting for the domains of attachment {attach_id} to settle: {} after {}",
                        attachment_state(&a),
                        waited(started)
                    );
                    Poll::Pending((a, c.clone()))
                }
            }
        })
        .await
}

/// After a detach: waits until the attachment (or its connection) is gone;
/// the last state seen tells how far it got.
pub async fn wait_attachment_detached(
    watch: &Watchers,
    op: &Op,
    cluster_id: &str,
    connection_id: &str,
    attach_id: &str,
) -> Result<(), WaitError<DomainState>> {
    let started = Instant::now();
    watch
        .wait(op, cluster_id, connection_id, Kind::Detach, |c| {
            let Some(c) = c else {
                return Poll::Done(None);
            };
            match find_attachment(c, attach_id) {
                None => Poll::Done(None),
                Some(a) => {
                    let state = attachment_state(a);
                    log::info!(
                        "waiting for attachment {attach_id} to be detached: {state} after {}",
                        waited(started)
                    );
                    Poll::Pending(Some(state))
                }
            }
        })
        .await
        .map(|_| ())
        .map_err(WaitError::flatten)
}

// ---- removals ----------------------------------------------------------------------------

/// What a read-back after a lost removal answer saw.
pub enum Seen {
    /// The object is gone: the removal is done.
    Gone,
    /// The API is removing it: the removal was taken.
    GoingAway,
    /// It is still there: the removal did not happen.
    Present,
}

/// How a removal ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    /// The API took it (or the object was already going away).
    Accepted,
    /// Nothing is left to remove.
    Gone,
}

/// Why a removal did not go through.
pub enum RemovalError {
    /// A stop ended its wait for budget: nothing was sent.
    NotSent(ApiError),
    /// A stop came after an answer was lost: it may or may not have been taken.
    Interrupted(ApiError),
    /// The API refused it, or its answers stayed lost.
    Failed(ApiError),
}

/// Sends an idempotent removal (a connection delete, a detach) until the
/// API has taken it. The transport already retries it like a GET; when its
/// retries are spent on lost answers, `read_back` says whether it happened,
/// and it is sent again (backing off, up to `attempts` times) unless the
/// object is gone or going away. A 404 means done.
pub async fn remove<S, SF, R, RF>(
    op: &Op,
    attempts: usize,
    send: S,
    read_back: R,
) -> Result<Removal, RemovalError>
where
    S: Fn() -> SF,
    SF: Future<Output = Result<(), ApiError>>,
    R: Fn() -> RF,
    RF: Future<Output = Result<Seen, ApiError>>,
{
    let started = Instant::now();
    let mut sent = 0;
    loop {
        sent += 1;
        let e = match send().await {
            Ok(()) => return Ok(Removal::Accepted),
            Err(e) if e.is_not_found() => return Ok(Removal::Gone),
            Err(e) if stopped_before_sending(op, &e) => return Err(RemovalError::NotSent(e)),
            Err(e) if e.is_transient() || e.outcome_unknown() => e,
            Err(e) => return Err(RemovalError::Failed(e)),
        };
        log::warn!("{e}; checking whether it is going away before sending it again");
        match unless_cancelled(op, read_back()).await {
            None => return Err(RemovalError::Interrupted(e)),
            Some(Ok(Seen::Gone)) => return Ok(Removal::Gone),
            Some(Ok(Seen::GoingAway)) => return Ok(Removal::Accepted),
            Some(Ok(Seen::Present)) => {}
            Some(Err(read)) => log::warn!("reading it back failed too: {read}"),
        }
        if sent >= attempts {
            return Err(RemovalError::Failed(e));
        }
        // The transport's own retries are spent: pause as a wait would,
        // a second or a tenth of the time so far.
        let pause = STEP.max(started.elapsed() / 10);
        if unless_cancelled(op, tokio::time::sleep(pause))
            .await
            .is_none()
        {
            return Err(RemovalError::Interrupted(e));
        }
    }
}
