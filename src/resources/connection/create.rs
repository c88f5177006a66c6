//! Create: create-and-reconcile, then the wait for the connection to settle.
//!
//! Create-and-reconcile is one of the two deliberate exceptions to
//! "resources never retry" (ARCHITECTURE.md, Rules): the transport never
//! retries a create, because a lost answer may hide a connection that
//! exists. Here, and only here, the answer of a create that may have been
//! made is looked up in the cluster's connections before the create is sent
//! again, so that exactly one connection exists afterwards.

use std::time::{Duration, Instant, SystemTime};

use super::read::created_state;
use super::{DEFAULT_CREATE_TIMEOUT, TYPE_NAME};
use crate::api::{ApiError, Client, ConnectionState, PrivateLinkConnection as Connection};
use crate::framework::poll::unless_stopped;
use crate::framework::timeouts;
use crate::framework::{ApplyOutcome, Context, Diagnostic, Diagnostics, StopSignal, Value};
use crate::services::cloud;
use crate::services::errors::api_error;
use crate::services::waits::{self, connection_state, connection_status, WaitError};
use crate::services::watcher::{stopped_before_sending, Watchers};
use crate::services::ProviderData;

/// How far the API's clock may be behind ours when matching a create whose
/// answer was lost against the connections that exist.
const CLOCK_SKEW: Duration = Duration::from_secs(120);

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

/// A create whose answer was lost: find what it made before sending again.
enum Reconciled {
    Adopted(Box<Connection>),
    NotCreated,
    Several(Vec<String>),
}

fn created_at_or_after(c: &Connection, since: SystemTime) -> bool {
    let parsed = c.create_time.as_deref().and_then(|t| {
        humantime::parse_rfc3339(t)
            .or_else(|_| humantime::parse_rfc3339_weak(t))
            .ok()
    });
    let Some(t) = parsed else {
        // Without a creation time the match rests on the name and service.
        return true;
    };
    t + CLOCK_SKEW >= since
}

async fn reconcile(
    client: &Client,
    request: &Connection,
    since: SystemTime,
) -> Result<Reconciled, ApiError> {
    let all = client
        .list_private_link_connections(&request.cluster_id, None)
        .await?;
    let mut matches: Vec<Connection> = all
        .into_iter()
        .filter(|c| {
            c.display_name == request.display_name
                && c.endpoint_service_name() == request.endpoint_service_name()
                && connection_state(c) != Some(&ConnectionState::Deleting)
                && created_at_or_after(c, since)
        })
        .collect();
    Ok(match matches.len() {
        0 => Reconciled::NotCreated,
        1 => match matches.pop() {
            Some(only) => Reconciled::Adopted(Box::new(only)),
            None => Reconciled::NotCreated,
        },
        _ => Reconciled::Several(
            matches
                .into_iter()
                .map(|c| c.private_link_connection_id)
                .collect(),
        ),
    })
}

/// Sends the create, reconciling lost answers so that exactly one
/// connection exists afterwards.
async fn send_create(
    watch: &Watchers,
    request: &Connection,
    stop: &StopSignal,
) -> Result<Connection, Diagnostic> {
    const ATTEMPTS: usize = 3;
    let client = watch.client();
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let since = SystemTime::now();
        let sent = watch.mutate(
            stop,
            client.create_private_link_connection(&request.cluster_id, request),
        );
        match sent.await {
            Ok(c) => return Ok(c),
            Err(e) if stopped_before_sending(stop, &e) => {
                return Err(Diagnostic::error(
                    "Interrupted before creating the private link connection",
                    "The create request was still waiting for the API rate limit budget and was not sent: nothing was created.",
                ))
            }
            Err(e) if e.is_ambiguous() => {
                log::warn!(
                    "create answer lost ({e}); looking the connection up before sending again"
                );
                let Some(found) = unless_stopped(stop, reconcile(client, request, since)).await
                else {
                    return Err(Diagnostic::error(
                        "Interrupted: outcome of the create is unknown",
                        format!("{e}. The provider was stopped before it could look the connection up; nothing was sent again. Check the cluster's connections in the console and import the connection if it exists."),
                    ));
                };
                match found {
                    Ok(Reconciled::Adopted(c)) => return Ok(*c),
                    Ok(Reconciled::NotCreated) => last_error = Some(e),
                    Ok(Reconciled::Several(ids)) => {
                        return Err(Diagnostic::error(
                            "Several matching connections",
                            format!(
                                "The answer to the create request was lost, and cluster {} now has several connections named {:?} to {}: {}. Import the one to keep (terraform import {TYPE_NAME}.NAME {},<id>) and delete the others.",
                                request.cluster_id,
                                request.display_name,
                                request.endpoint_service_name().unwrap_or_default(),
                                ids.join(", "),
                                request.cluster_id
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

fn pending_warning(c: &Connection) -> Diagnostic {
    let endpoint = c.endpoint_id().unwrap_or("(not yet assigned)");
    let service = c.endpoint_service_name().unwrap_or_default();
    Diagnostic::warning(
        "Private link connection is waiting for acceptance",
        format!(
            "Connection {} is PENDING_ACCEPTANCE: accept endpoint {endpoint} on your endpoint service {service} (in the AWS console under VPC > Endpoint services > Endpoint connections, with aws_vpc_endpoint_connection_accepter, or the Alibaba Cloud PrivateLink console). It becomes ACTIVE once accepted; set wait_for_active = true to make apply wait for that.",
            c.private_link_connection_id
        ),
    )
}

pub(super) async fn create(
    ctx: &Context<ProviderData>,
    planned: &Value,
    config: &Value,
) -> ApplyOutcome {
    let watch = match ctx.data().and_then(ProviderData::watchers) {
        Ok(w) => w,
        Err(d) => return ApplyOutcome::failed(d),
    };
    let Some(request) = create_request(planned, config) else {
        return ApplyOutcome::failed(Diagnostic::error(
            "Incomplete configuration",
            "cluster_id, display_name and exactly one endpoint service with its name must be known to create a connection.",
        ));
    };
    let created = match send_create(watch, &request, &ctx.stop).await {
        Ok(c) => c,
        Err(d) => return ApplyOutcome::failed(d),
    };
    let cluster_id = request.cluster_id.clone();
    let id = created.private_link_connection_id.clone();
    watch.wrote(&id);
    if let Ok(data) = ctx.data() {
        data.connections.invalidate(&cluster_id);
    }
    log::info!("created private link connection {id} on cluster {cluster_id}");
    let wait_for_active = planned.attr("wait_for_active").as_bool().unwrap_or(false);
    let timeout = timeouts::get(planned, "create", DEFAULT_CREATE_TIMEOUT);
    let started = Instant::now();
    let settled = waits::wait_connection_created(
        watch,
        &ctx.stop,
        &cluster_id,
        &id,
        wait_for_active,
        timeout,
    )
    .await;
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
