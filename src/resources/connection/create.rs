//! Create: create-and-reconcile, then the wait for the connection to settle.
//!
//! Create-and-reconcile is one of the two deliberate exceptions to
//! "resources never retry" (ARCHITECTURE.md, Rules): the transport never
//! retries a create, because a lost answer may hide a connection that
//! exists. Here, and only here, a create whose answer was lost (a 5xx, a
//! dropped connection, or a success without an id) is looked up before
//! anything is sent again:
//!
//! 1. Before the create is sent, a listing of the cluster whose answer
//!    arrived after the create was queued is obtained (shared by the creates
//!    queued meanwhile): whatever it lists existed before this create.
//! 2. After a lost answer, the cluster is listed again. A candidate has the
//!    same display name and endpoint service, is not DELETING, is absent
//!    from that baseline, and is not held by this process (created,
//!    adopted, imported or read by it).
//! 3. Exactly one candidate is adopted; several stop with an error listing
//!    them for import; none, after a short re-check, means the create did
//!    not happen, and it is sent again.
//!
//! The limit: two workspaces creating the same display name on the same
//! endpoint service at the same moment (both creates queued before either
//! connection exists) cannot be told apart by a listing; a workspace whose
//! answer was lost then may adopt the other's connection.

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

use super::read::created_state;
use super::{DEFAULT_CREATE_TIMEOUT, TYPE_NAME};
use crate::api::{ApiError, ConnectionState, Op, PrivateLinkConnection as Connection};
use crate::framework::timeouts;
use crate::framework::{ApplyOutcome, Context, Diagnostic, Diagnostics, Value};
use crate::services::cloud;
use crate::services::errors::api_error;
use crate::services::waits::{
    self, connection_state, connection_status, unless_cancelled, WaitError,
};
use crate::services::watch::{stopped_before_sending, Watchers};
use crate::services::{Ownership, ProviderData};

/// How long to wait before listing a second time when the first listing
/// after a lost answer shows no candidate (a listing may lag a create).
const RECHECK_AFTER: Duration = Duration::from_secs(2);

/// How many times a create is sent when its answers are lost and the
/// look-ups show it did not happen.
const ATTEMPTS: usize = 3;

/// The request for `planned`. Optional fields of the endpoint service are
/// sent only when the configuration sets them: a region the plan filled in
/// is the default, and sending it would ask for a cross-region service.
fn create_request(planned: &Value, config: &Value) -> Option<Connection> {
    let cluster_id = planned.str_attr("cluster_id")?;
    let display_name = planned.str_attr("display_name")?;
    let cloud = cloud::of_blocks(planned)?;
    (cloud.request)(
        cluster_id,
        display_name,
        planned.attr(cloud.block),
        config.attr(cloud.block),
    )
}

/// What the look-up after a lost answer found.
enum Reconciled {
    Adopted(Box<Connection>),
    NotCreated,
    Several(Vec<String>),
}

/// The connections that may be the one a lost create made: same name and
/// endpoint service, not DELETING, absent from the baseline and not held
/// by this process.
fn candidates(
    all: Vec<Connection>,
    request: &Connection,
    baseline: &HashSet<String>,
    ownership: &Ownership,
) -> Vec<Connection> {
    all.into_iter()
        .filter(|c| {
            c.display_name == request.display_name
                && c.endpoint_service_name() == request.endpoint_service_name()
                && connection_state(c) != Some(&ConnectionState::Deleting)
                && !c.private_link_connection_id.is_empty()
                && !baseline.contains(&c.private_link_connection_id)
                && !ownership.holds(&request.cluster_id, &c.private_link_connection_id)
        })
        .collect()
}

async fn reconcile(
    watch: &Watchers,
    request: &Connection,
    baseline: &HashSet<String>,
    ownership: &Ownership,
    op: &Op,
) -> Result<Reconciled, ApiError> {
    for look in 0..2 {
        if look > 0
            && unless_cancelled(op, tokio::time::sleep(RECHECK_AFTER))
                .await
                .is_none()
        {
            break;
        }
        let all = watch
            .client()
            .within(op)
            .list_private_link_connections(&request.cluster_id, None)
            .await?;
        let mut found = candidates(all, request, baseline, ownership);
        match found.len() {
            0 => continue,
            1 => {
                if let Some(only) = found.pop() {
                    return Ok(Reconciled::Adopted(Box::new(only)));
                }
            }
            _ => {
                return Ok(Reconciled::Several(
                    found
                        .into_iter()
                        .map(|c| c.private_link_connection_id)
                        .collect(),
                ))
            }
        }
    }
    Ok(Reconciled::NotCreated)
}

/// The create's answer, or why it is unknown: an answer without an id is
/// as good as lost.
async fn post(watch: &Watchers, op: &Op, request: &Connection) -> Result<Connection, ApiError> {
    let created = watch
        .client()
        .within(op)
        .create_private_link_connection(&request.cluster_id, request)
        .await?;
    if created.private_link_connection_id.is_empty() {
        return Err(ApiError::Ambiguous {
            method: "POST".into(),
            path: format!(
                "/v1beta1/clusters/{}/privateLinkConnections",
                request.cluster_id
            ),
            cause: Box::new(ApiError::Decode {
                method: "POST".into(),
                path: format!(
                    "/v1beta1/clusters/{}/privateLinkConnections",
                    request.cluster_id
                ),
                message: "the answer has no privateLinkConnectionId".into(),
            }),
        });
    }
    Ok(created)
}

/// Sends the create, reconciling lost answers so that exactly one
/// connection exists afterwards.
async fn send_create(
    watch: &Watchers,
    ownership: &Ownership,
    request: &Connection,
    op: &Op,
) -> Result<Connection, Diagnostic> {
    let queued = Instant::now();
    let baseline = match watch.listing_after(op, &request.cluster_id, queued).await {
        Ok(listing) => listing.keys().cloned().collect::<HashSet<_>>(),
        Err(e) if stopped_before_sending(op, &e) => return Err(interrupted_before_sending()),
        Err(e) => {
            return Err(api_error(
                "Could not list the cluster's connections before creating one",
                &e,
            ))
        }
    };
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        match post(watch, op, request).await {
            Ok(c) => {
                ownership.hold(&request.cluster_id, &c.private_link_connection_id);
                return Ok(c);
            }
            Err(e) if stopped_before_sending(op, &e) => return Err(interrupted_before_sending()),
            Err(e) if e.is_ambiguous() => {
                log::warn!(
                    "create answer lost ({e}); looking the connection up before sending again"
                );
                let Some(found) =
                    unless_cancelled(op, reconcile(watch, request, &baseline, ownership, op)).await
                else {
                    return Err(Diagnostic::error(
                        "Interrupted: outcome of the create is unknown",
                        format!("{e}. The provider was stopped before it could look the connection up; nothing was sent again. Check the cluster's connections in the console and import the connection if it exists."),
                    ));
                };
                match found {
                    Ok(Reconciled::Adopted(c)) => {
                        log::warn!(
                            "adopting connection {} made by the create whose answer was lost",
                            c.private_link_connection_id
                        );
                        ownership.hold(&request.cluster_id, &c.private_link_connection_id);
                        return Ok(*c);
                    }
                    Ok(Reconciled::NotCreated) => last_error = Some(e),
                    Ok(Reconciled::Several(ids)) => {
                        return Err(Diagnostic::error(
                            "Several matching connections",
                            format!(
                                "The answer to the create request was lost, and cluster {} now has several new connections named {:?} to {} that this workspace does not hold: {}. Delete all but the one to keep, and import that one:{}",
                                request.cluster_id,
                                request.display_name,
                                request.endpoint_service_name().unwrap_or_default(),
                                ids.join(", "),
                                crate::services::errors::import_hint(TYPE_NAME, &format!("{},<id>", request.cluster_id))
                            ),
                        ))
                    }
                    Err(list_error) => {
                        return Err(Diagnostic::error(
                            "Outcome of the create is unknown",
                            format!("{e}. Looking the connection up failed too ({list_error}); nothing was sent again. Check the cluster's connections in the console and import the connection if it exists."),
                        ))
                    }
                }
            }
            Err(e) => {
                return Err(api_error(
                    "Could not create the private link connection",
                    &e,
                ))
            }
        }
    }
    Err(Diagnostic::error(
        "Could not create the private link connection",
        last_error.map(|e| e.to_string()).unwrap_or_default(),
    ))
}

fn interrupted_before_sending() -> Diagnostic {
    Diagnostic::error(
        "Interrupted before creating the private link connection",
        "The create request was still waiting for the API rate limit budget and was not sent: nothing was created.",
    )
}

fn pending_warning(c: &Connection) -> Diagnostic {
    let endpoint = c.endpoint_id().unwrap_or("(not yet assigned)");
    let service = c.endpoint_service_name().unwrap_or_default();
    crate::services::errors::created_pending_acceptance(
        &c.private_link_connection_id,
        endpoint,
        service,
    )
}

pub(super) async fn create(
    ctx: &Context<ProviderData>,
    planned: &Value,
    config: &Value,
) -> ApplyOutcome {
    let timeout = timeouts::get(planned, "create", DEFAULT_CREATE_TIMEOUT);
    let (data, watch, op) = match ctx
        .data()
        .and_then(|d| Ok((d, d.watchers()?, d.op(&ctx.stop, Some(timeout))?)))
    {
        Ok(all) => all,
        Err(d) => return ApplyOutcome::failed(d),
    };
    let Some(request) = create_request(planned, config) else {
        return ApplyOutcome::failed(Diagnostic::error(
            "Incomplete configuration",
            "cluster_id, display_name and exactly one endpoint service with its name must be known to create a connection.",
        ));
    };
    let created = match send_create(watch, &data.ownership, &request, &op).await {
        Ok(c) => c,
        Err(d) => return ApplyOutcome::failed(d),
    };
    let cluster_id = request.cluster_id.clone();
    let id = created.private_link_connection_id.clone();
    watch.wrote(&id);
    data.connections.invalidate(&cluster_id);
    log::info!("created private link connection {id} on cluster {cluster_id}");
    let wait_for_active = planned.attr("wait_for_active").as_bool().unwrap_or(false);
    let started = Instant::now();
    let settled =
        waits::wait_connection_created(watch, &op, &cluster_id, &id, wait_for_active).await;
    let mut diags = Diagnostics::new();
    let last = match settled {
        Ok(c) => {
            match connection_state(&c) {
                Some(ConnectionState::Failed) => diags.push(Diagnostic::error(
                    "Private link connection failed",
                    format!(
                        "Connection {id} went FAILED: {}. It is kept in the state as tainted; the next apply replaces it. Check the endpoint service name, that it allows TiDB Cloud's principal (see the tidbcloud_private_link_availability_zones data source) and shares an availability zone with the cluster.",
                        c.message.as_deref().unwrap_or("no reason given")
                    ),
                )),
                Some(ConnectionState::PendingAcceptance) => diags.push(pending_warning(&c)),
                Some(ConnectionState::Other(state)) => diags.push(Diagnostic::warning(
                    "Private link connection in an unfamiliar state",
                    format!("Connection {id} is {state:?}, a state this provider does not know; only CREATING and DELETING are waited out, so it is saved as it is. Check it in the TiDB Cloud console{}.", c.message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default()),
                )),
                _ => {}
            }
            c
        }
        Err(e) => {
            let waited = started.elapsed();
            let status = e
                .last()
                .map(|c| connection_status(c).to_string())
                .unwrap_or_else(|| "CREATING".into());
            let (summary, why) = match &e {
                WaitError::Timeout { .. } => (
                    "Timed out waiting for the private link connection",
                    format!(
                        "it was still {status} after {}",
                        humantime::format_duration(Duration::from_secs(waited.as_secs()))
                    ),
                ),
                WaitError::Stopped { .. } => (
                    "Interrupted while waiting for the private link connection",
                    format!("the wait was interrupted while it was {status}"),
                ),
                WaitError::Gone { .. } => (
                    "Private link connection not found while waiting",
                    "the API then reported it missing; it stays in the state so that the next plan checks it again rather than forgetting it".to_string(),
                ),
                WaitError::Api { error, .. } => (
                    "Error while waiting for the private link connection",
                    error.to_string(),
                ),
            };
            diags.push(Diagnostic::error(
                summary,
                format!("Connection {id} was created but {why}. Its ID is saved in the state as tainted, so nothing is lost: the next apply replaces it (or run terraform untaint after it settles)."),
            ));
            e.last().cloned().unwrap_or(created)
        }
    };
    ApplyOutcome {
        state: Some(created_state(&last, planned)),
        diags,
    }
}
