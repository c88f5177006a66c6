//! Create: create-and-reconcile, then the wait for the connection to settle.
//!
//! Create-and-reconcile is one of the two deliberate exceptions to
//! "resources never retry" (ARCHITECTURE.md, Rules): the transport never
//! retries a create, because a lost answer may hide a connection that
//! exists. What came back decides ([`CreateOutcome`], the troubleshooting
//! guide's assumptions about TiDB Cloud):
//!
//! * **not processed** (any 4xx, a 503 with the API's `Status` code 14):
//!   nothing is looked up or adopted; a 503 is sent again, a 4xx is the
//!   error;
//! * **ambiguous** (every other 5xx, a connection dropped after the request
//!   was written, a timeout) and **processed, id unknown** (a 2xx without an
//!   id): the cluster is listed and the candidates judged by the rule of
//!   [`evidence`](super::evidence) (name, service, not DELETING, absent
//!   from the baseline listing taken before the create, not held by this
//!   process, the same `createdBy`, inside the create's time window by the
//!   API's `Date` headers). Exactly one is adopted with a warning naming
//!   it; several, or too little evidence, stop with an error listing them
//!   for import; none means listing again until a listing's `Date` is 5 s
//!   past the create's, then sending again (at most twice), except after a
//!   2xx without an id, which is never sent again.
//! * when the look-up itself fails, the entry is returned with an empty
//!   connection id and the window in its private state; the next refresh
//!   adopts through it under the same rule.
//!
//! The limit: two workspaces on one key creating the same display name on
//! the same endpoint service within the same two or three seconds cannot be
//! told apart. Then nothing is adopted when both connections are listed
//! (several candidates); an adoption is always warned, never silent.

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

use super::evidence::{self, Verdict, Window};
use super::read::created_state;
use super::DEFAULT_CREATE_TIMEOUT;
use crate::api::{
    ApiError, ConnectionState, CreateOutcome, Op, PrivateLinkConnection as Connection, Stamp,
};
use crate::framework::timeouts;
use crate::framework::{ApplyOutcome, Context, Diagnostic, Diagnostics, Value};
use crate::services::cloud;
use crate::services::errors::api_error;
use crate::services::waits::{
    self, connection_state, connection_status, unless_cancelled, WaitError,
};
use crate::services::watch::{stopped_before_sending, Watchers};
use crate::services::{Ownership, ProviderData};

/// How long to wait between the listings of a look-up.
const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// Listings of a look-up when the API's answers carry no `Date` to measure
/// the wait by.
const UNDATED_LOOKS: usize = 3;

/// How long after the create's `Date` a look-up after a 2xx without an id
/// keeps listing (such a create happened; only the listing may lag).
const PROCESSED_LOOKS_FOR: Duration = Duration::from_secs(30);

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

/// Why the create failed.
enum Failure {
    /// Nothing to keep.
    Error(Diagnostic),
    /// The create may have made a connection that could not be looked up:
    /// the entry is kept with an empty id and this window.
    Lost(Diagnostic, Window),
}

/// Lists the cluster until the rule gives a verdict, or a listing taken
/// [`evidence::SETTLED_AFTER`] past D_after still shows no candidate. Sets
/// D_after from the first listing when the create's answer had no `Date`.
async fn look_up(
    watch: &Watchers,
    request: &Connection,
    baseline: &HashSet<String>,
    ownership: &Ownership,
    op: &Op,
    window: &mut Window,
    outcome: CreateOutcome,
) -> Result<Verdict, ApiError> {
    let own = ownership.own_creator();
    let key = evidence::Key {
        display_name: &request.display_name,
        service: request.endpoint_service_name(),
        own_creator: own.as_deref(),
    };
    let mut looks = 0;
    loop {
        if looks > 0 {
            tokio::time::sleep(RECHECK_EVERY).await;
        }
        looks += 1;
        let stamp = Stamp::default();
        let listed = watch
            .client()
            .within(op)
            .stamped(&stamp)
            .list_private_link_connections(&request.cluster_id, None)
            .await;
        let listed_at = stamp.dates().answer;
        if window.after.is_none() {
            window.after = listed_at;
        }
        let verdict = evidence::judge(listed?, &key, window, |id| {
            baseline.contains(id) || ownership.holds(&request.cluster_id, id)
        });
        if !matches!(verdict, Verdict::None) {
            return Ok(verdict);
        }
        let waited_enough = match (window.after, listed_at) {
            (Some(after), Some(at)) => {
                let bound = if outcome == CreateOutcome::ProcessedIdUnknown {
                    PROCESSED_LOOKS_FOR
                } else {
                    evidence::SETTLED_AFTER
                };
                at >= after + bound
            }
            _ => looks >= UNDATED_LOOKS,
        };
        if waited_enough {
            return Ok(Verdict::None);
        }
    }
}

fn adopted_warning(
    request: &Connection,
    c: &Connection,
    e: &ApiError,
    window: &Window,
) -> Diagnostic {
    let id = &c.private_link_connection_id;
    Diagnostic::warning(
        format!("Adopted private link connection {id}"),
        format!(
            "The create request for {:?} to {} got no usable answer ({e}). Connection {id} has that display name and endpoint service, was created at {}, inside this create's time window ({}) by the API's Date headers, was not listed before the create was sent, and is held by no other resource of this provider process, so it is taken as the connection this create made and saved in the state. Another workspace creating a connection of the same name on the same endpoint service within the same seconds cannot be told apart: if {id} is another workspace's, remove it from this state (terraform state rm) and apply again.",
            request.display_name,
            request.endpoint_service_name().unwrap_or_default(),
            c.create_time.as_deref().unwrap_or("an unknown time"),
            window.describe(),
        ),
    )
}

/// Sends the create, reconciling lost answers so that exactly one
/// connection exists afterwards; the connection and, when it was adopted,
/// the warning saying so.
async fn send_create(
    watch: &Watchers,
    ownership: &Ownership,
    request: &Connection,
    op: &Op,
) -> Result<(Connection, Option<Diagnostic>), Failure> {
    let queued = Instant::now();
    let baseline = match watch.listing_after(op, &request.cluster_id, queued).await {
        Ok(listing) => listing.keys().cloned().collect::<HashSet<_>>(),
        Err(e) if stopped_before_sending(op, &e) => {
            return Err(Failure::Error(interrupted_before_sending()))
        }
        Err(e) => {
            return Err(Failure::Error(api_error(
                "Could not list the cluster's connections before creating one",
                &e,
            )))
        }
    };
    let service = request.endpoint_service_name().unwrap_or_default();
    let mut last_error = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0
            && unless_cancelled(op, tokio::time::sleep(RECHECK_EVERY))
                .await
                .is_none()
        {
            break;
        }
        let stamp = Stamp::default();
        let sent = watch
            .client()
            .within(op)
            .stamped(&stamp)
            .create_private_link_connection(&request.cluster_id, request)
            .await;
        let e = match sent {
            Ok(c) => {
                ownership.hold(&request.cluster_id, &c.private_link_connection_id);
                ownership.created_by(c.created_by.as_deref());
                return Ok((c, None));
            }
            Err(e) if stopped_before_sending(op, &e) => {
                return Err(Failure::Error(interrupted_before_sending()))
            }
            Err(e) => e,
        };
        let outcome = e.create_outcome();
        if outcome == CreateOutcome::NotProcessed {
            if e.status() == Some(503) {
                log::warn!("the API did not process the create ({e}); sending it again");
                last_error = Some(e);
                continue;
            }
            return Err(Failure::Error(api_error(
                "Could not create the private link connection",
                &e,
            )));
        }
        log::warn!("create answer lost ({e}); looking the connection up before sending again");
        let dates = stamp.dates();
        let mut window = Window {
            before: dates.before,
            after: dates.answer,
        };
        let found = unless_cancelled(
            op,
            look_up(
                watch,
                request,
                &baseline,
                ownership,
                op,
                &mut window,
                outcome,
            ),
        )
        .await;
        let next_run = "Terraform keeps this resource with an empty connection id and marks it tainted. The next refresh looks the connection up under the same rule and adopts it if exactly one matches; because the resource is tainted, the next apply would then replace it, so run terraform apply -refresh-only and then terraform untaint on this resource first. If none matches, the next apply creates it.";
        let verdict = match found {
            None => {
                return Err(Failure::Lost(
                    Diagnostic::error(
                        "Interrupted: outcome of the create is unknown",
                        format!("{e}. The provider was stopped before it could look the connection up; nothing was sent again. {next_run}"),
                    ),
                    window,
                ))
            }
            Some(Err(list_error)) => {
                return Err(Failure::Lost(
                    Diagnostic::error(
                        "Outcome of the create is unknown",
                        format!("{e}. Looking the connection up failed too ({list_error}); nothing was sent again. {next_run}"),
                    ),
                    window,
                ))
            }
            Some(Ok(v)) => v,
        };
        match verdict {
            Verdict::One(c) => {
                log::warn!(
                    "adopting connection {} made by the create whose answer was lost",
                    c.private_link_connection_id
                );
                ownership.hold(&request.cluster_id, &c.private_link_connection_id);
                let warning = adopted_warning(request, &c, &e, &window);
                return Ok((*c, Some(warning)));
            }
            Verdict::Several(found) | Verdict::TooLittle(found) => {
                return Err(Failure::Error(Diagnostic::error(
                    "Several matching connections",
                    format!(
                        "The answer to the create request was lost ({e}), and cluster {} has connections named {:?} to {} that may be the one it made, which this workspace does not hold; the evidence ({}) cannot tell which, so none was adopted. Another workspace may have created some of them. Import the one this resource stands for, if any:{}",
                        request.cluster_id,
                        request.display_name,
                        service,
                        window.describe(),
                        evidence::candidate_list(&request.cluster_id, &found)
                    ),
                )))
            }
            Verdict::None if outcome == CreateOutcome::ProcessedIdUnknown => {
                return Err(Failure::Lost(
                    Diagnostic::error(
                        "Created, but the connection was not found",
                        format!("{e}. The API accepted the create, so it is never sent again, but no listing has shown the connection yet. {next_run}"),
                    ),
                    window,
                ))
            }
            Verdict::None => last_error = Some(e),
        }
    }
    Err(Failure::Error(Diagnostic::error(
        "Could not create the private link connection",
        last_error.map(|e| e.to_string()).unwrap_or_default(),
    )))
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
    let mut diags = Diagnostics::new();
    let created = match send_create(watch, &data.ownership, &request, &op).await {
        Ok((c, adopted)) => {
            if let Some(warning) = adopted {
                diags.push(warning);
            }
            c
        }
        Err(Failure::Error(d)) => return ApplyOutcome::failed(d),
        Err(Failure::Lost(d, window)) => {
            // The entry stays, with an empty id and the evidence for the
            // next refresh.
            let mut lost = request.clone();
            lost.private_link_connection_id.clear();
            ctx.set_private(window.to_private());
            return ApplyOutcome {
                state: Some(created_state(&lost, planned)),
                diags: d.into(),
            };
        }
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
