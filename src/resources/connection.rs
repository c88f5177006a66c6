//! `tidbcloud_private_link_connection`: a private link connection from a
//! cluster to the customer's AWS or Alibaba Cloud endpoint service.
//!
//! Reads top to bottom: schema → validation → plan rules → create → read →
//! delete → import. Nothing in the API updates a connection, so every
//! argument forces replacement; `wait_for_active` and `timeouts` only steer
//! the provider and change in place.

use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;

use super::convert;
use super::errors::{api_error, cluster_error};
use super::wait::{self, Poll, WaitError};
use crate::api::{ApiError, Client, Cluster, PrivateLinkConnection as Connection};
use crate::framework::timeouts;
use crate::framework::{
    ApplyOutcome, Attribute, AttributePath, Context, Diagnostic, Diagnostics, PlanChange,
    ReadOutcome, Resource, Schema, StopSignal, Value,
};
use crate::provider::{validate, ProviderData};

pub const TYPE_NAME: &str = "tidbcloud_private_link_connection";
const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How far the API's clock may be behind ours when matching a create whose
/// answer was lost against the connections that exist.
const CLOCK_SKEW: Duration = Duration::from_secs(120);

pub struct PrivateLinkConnection;

// ---- schema -------------------------------------------------------------------

fn schema() -> Schema {
    Schema::new(
        "A private link connection from a TiDB Cloud Starter or Essential cluster to your own AWS or Alibaba Cloud endpoint service (for example the NLB in front of Kafka or RDS), used by changefeeds and Data Migration.\n\nThe API cannot change a connection: changing any argument other than `wait_for_active` and `timeouts` replaces it. Creation returns once the connection is `ACTIVE`, or `PENDING_ACCEPTANCE` (with a warning naming the endpoint to accept on your endpoint service) unless `wait_for_active` is set. A connection that fails is kept in the state as tainted, so the next apply replaces it.\n\nImport with `terraform import tidbcloud_private_link_connection.NAME <cluster_id>,<private_link_connection_id>`.",
        vec![
            Attribute::string("id").computed().use_state_for_unknown()
                .description("`<cluster_id>,<private_link_connection_id>`."),
            Attribute::string("cluster_id").required().requires_replace()
                .description("The ID of the TiDB Cloud Starter or Essential cluster. The cluster must be `ACTIVE` (running).")
                .validate("Invalid cluster ID", validate::cluster_id),
            Attribute::string("display_name").required().requires_replace()
                .description("The name of the connection: 1 to 64 characters, without leading or trailing spaces.")
                .validate("Invalid display name", validate::display_name),
            Attribute::single_nested("aws_endpoint_service", vec![
                Attribute::string("name").required().requires_replace()
                    .description("The endpoint service name, `com.amazonaws.vpce.<region>.vpce-svc-<id>` (for example `aws_vpc_endpoint_service.x.service_name`).")
                    .validate("Invalid AWS endpoint service name", validate::aws_service_name),
                Attribute::string("region").optional().computed().requires_replace().use_state_for_unknown()
                    .description("The region of the endpoint service. Defaults to the cluster's region, which must match the region in `name`.")
                    .validate("Invalid region", validate::region),
                Attribute::string("endpoint_id").computed().use_state_for_unknown()
                    .description("The VPC endpoint TiDB Cloud created; accept it on your endpoint service when acceptance is required (for example with `aws_vpc_endpoint_connection_accepter`)."),
                Attribute::list_of_strings("availability_zone_ids").computed().use_state_for_unknown()
                    .description("The availability zone IDs of the endpoint: those the endpoint service and the cluster share."),
            ])
            .optional()
            .requires_replace()
            .description("Connect to an AWS VPC endpoint service (clusters on AWS). Exactly one of `aws_endpoint_service` and `alicloud_endpoint_service` must be set."),
            Attribute::single_nested("alicloud_endpoint_service", vec![
                Attribute::string("name").required().requires_replace()
                    .description("The endpoint service name, `com.aliyuncs.privatelink.<region>.epsrv-<id>`.")
                    .validate("Invalid Alibaba Cloud endpoint service name", validate::alicloud_service_name),
                Attribute::string("endpoint_id").computed().use_state_for_unknown()
                    .description("The endpoint TiDB Cloud created; accept it on your endpoint service when acceptance is required."),
                Attribute::list_of_strings("availability_zone_ids").computed().use_state_for_unknown()
                    .description("The zone IDs of the endpoint."),
            ])
            .optional()
            .requires_replace()
            .description("Connect to an Alibaba Cloud PrivateLink endpoint service (clusters on Alibaba Cloud). Exactly one of `aws_endpoint_service` and `alicloud_endpoint_service` must be set."),
            Attribute::bool("wait_for_active").optional()
                .description("When `true`, creation waits until the connection is `ACTIVE`, that is until the endpoint was accepted outside this configuration. By default creation also returns at `PENDING_ACCEPTANCE`, so that an acceptance managed in the same configuration can follow."),
            Attribute::string("private_link_connection_id").computed().use_state_for_unknown()
                .description("The connection's ID (`plc-...`)."),
            Attribute::string("type").computed().use_state_for_unknown()
                .description("`AWS_ENDPOINT_SERVICE` or `ALICLOUD_ENDPOINT_SERVICE`."),
            Attribute::string("state").computed()
                .description("`CREATING`, `ACTIVE`, `PENDING_ACCEPTANCE`, `FAILED` or `DELETING`."),
            Attribute::string("message").computed()
                .description("Why the connection failed, when it did."),
            Attribute::string("created_by").computed().use_state_for_unknown()
                .description("Who created the connection."),
            Attribute::string("create_time").computed().use_state_for_unknown()
                .description("When the connection was created (RFC 3339)."),
            Attribute::string("update_time").computed()
                .description("When the connection last changed (RFC 3339), if it did."),
        ],
    )
    .with_block(timeouts::block(
        "How long operations may wait for TiDB Cloud before giving up.",
        &[("create", "30m"), ("delete", "30m")]))
}

// ---- validation -------------------------------------------------------------------

/// Which endpoint service block a configuration uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cloud {
    Aws,
    Alicloud,
}

impl Cloud {
    fn block(self) -> &'static str {
        match self {
            Cloud::Aws => "aws_endpoint_service",
            Cloud::Alicloud => "alicloud_endpoint_service",
        }
    }
    fn api_name(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Alicloud => "alicloud",
        }
    }
    fn human(self) -> &'static str {
        match self {
            Cloud::Aws => "AWS",
            Cloud::Alicloud => "Alibaba Cloud",
        }
    }
}

fn cloud_of(v: &Value) -> Option<Cloud> {
    match (
        v.attr("aws_endpoint_service").is_null(),
        v.attr("alicloud_endpoint_service").is_null(),
    ) {
        (false, true) => Some(Cloud::Aws),
        (true, false) => Some(Cloud::Alicloud),
        _ => None,
    }
}

fn validate_config(config: &Value, diags: &mut Diagnostics) {
    let aws = config.attr("aws_endpoint_service");
    let ali = config.attr("alicloud_endpoint_service");
    if aws.is_unknown() || ali.is_unknown() {
        return;
    }
    match (aws.is_null(), ali.is_null()) {
        (true, true) => diags.push(Diagnostic::error(
            "Missing endpoint service",
            "Set exactly one of aws_endpoint_service (clusters on AWS) or alicloud_endpoint_service (clusters on Alibaba Cloud).",
        ).at(AttributePath::attr("aws_endpoint_service"))),
        (false, false) => diags.push(Diagnostic::error(
            "Conflicting endpoint services",
            "Set only one of aws_endpoint_service and alicloud_endpoint_service: a connection reaches one endpoint service, on the cluster's cloud.",
        ).at(AttributePath::attr("alicloud_endpoint_service"))),
        _ => {}
    }
    if let (Some(name), Some(region)) = (aws.str_attr("name"), aws.str_attr("region")) {
        if let Ok(in_name) = validate::aws_service_region(name) {
            if in_name != region {
                diags.push(Diagnostic::error(
                    "Endpoint service in another region",
                    format!("The endpoint service {name:?} is in {in_name}, but region is {region:?}. TiDB Cloud connects to endpoint services in the region given; make them match."),
                ).at(AttributePath::attr("aws_endpoint_service").then("region")));
            }
        }
    }
}

// ---- plan rules -------------------------------------------------------------------

/// Checks a planned create against the cluster (rules 1 and 2) and fills in
/// what the cluster determines: the connection type and the AWS region.
async fn check_cluster_for_create(
    data: &ProviderData,
    plan: &mut PlanChange<'_>,
    diags: &mut Diagnostics,
) {
    let Some(cluster_id) = plan.config.str_attr("cluster_id").map(str::to_string) else {
        return;
    };
    let Some(cloud) = cloud_of(plan.config) else {
        return;
    };
    plan.planned
        .set_attr("type", Value::string(connection_type(cloud)));
    let Ok(client) = data.client() else { return };
    let cluster = match data.clusters.get(client, &cluster_id).await {
        Ok(c) => c,
        Err(e) => {
            diags.push(cluster_error(&cluster_id, &e).at(AttributePath::attr("cluster_id")));
            return;
        }
    };
    if let Some(d) = cluster_problem(&cluster, cloud, plan.config) {
        diags.push(d);
        return;
    }
    if cloud == Cloud::Aws {
        let region = plan.config.attr("aws_endpoint_service").attr("region");
        if region.is_null() {
            if let (Some(r), Some(block)) = (
                cluster.region_id(),
                plan.planned.attr_mut("aws_endpoint_service"),
            ) {
                block.set_attr("region", Value::string(r));
            }
        }
    }
}

fn connection_type(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Aws => "AWS_ENDPOINT_SERVICE",
        Cloud::Alicloud => "ALICLOUD_ENDPOINT_SERVICE",
    }
}

/// Rules 1 and 2: the cluster runs, the block matches its cloud, and the
/// endpoint service is in the region in use.
fn cluster_problem(cluster: &Cluster, cloud: Cloud, config: &Value) -> Option<Diagnostic> {
    let id = &cluster.cluster_id;
    let state = cluster
        .state
        .as_ref()
        .map(|s| s.as_str())
        .unwrap_or("UNKNOWN");
    if state != "ACTIVE" {
        return Some(Diagnostic::error(
            "Cluster is not running",
            format!("Cluster {id} is {state}; private link connections can only be created on an ACTIVE (running) cluster. Resume the cluster or wait until it is ACTIVE, then apply again."),
        ).at(AttributePath::attr("cluster_id")));
    }
    let cluster_cloud = cluster.cloud_provider().unwrap_or("");
    if !cluster_cloud.eq_ignore_ascii_case(cloud.api_name()) {
        let fitting = match cluster_cloud {
            "aws" => "aws_endpoint_service",
            "alicloud" => "alicloud_endpoint_service",
            _ => "an endpoint service of the cluster's cloud",
        };
        return Some(Diagnostic::error(
            "Endpoint service on another cloud",
            format!("Cluster {id} runs on {cluster_cloud}, but {} is an {} endpoint service. Use {fitting} for this cluster.", cloud.block(), cloud.human()),
        ).at(AttributePath::attr(cloud.block())));
    }
    let block = config.attr(cloud.block());
    let name = block.str_attr("name")?;
    let in_name = match cloud {
        Cloud::Aws => validate::aws_service_region(name).ok()?,
        Cloud::Alicloud => validate::alicloud_service_region(name).ok()?,
    };
    let in_use = match (cloud, block.str_attr("region")) {
        (Cloud::Aws, Some(r)) => r.to_string(),
        _ => cluster.region_id()?.to_string(),
    };
    if in_name != in_use {
        return Some(Diagnostic::error(
            "Endpoint service in another region",
            format!("The endpoint service {name:?} is in {in_name}, but the connection would be made in {in_use} (the cluster's region{}). Use an endpoint service in {in_use}.",
                if block.str_attr("region").is_some() { " or the configured region" } else { "" }),
        ).at(AttributePath::attr(cloud.block()).then("name")));
    }
    None
}

// ---- create ---------------------------------------------------------------------------

/// The request for `planned`.
fn create_request(planned: &Value) -> Option<Connection> {
    let cluster_id = planned.str_attr("cluster_id")?;
    let display_name = planned.str_attr("display_name")?;
    match cloud_of(planned)? {
        Cloud::Aws => {
            let block = planned.attr("aws_endpoint_service");
            Some(Connection::aws(
                cluster_id,
                display_name,
                block.str_attr("name")?,
                block.str_attr("region").map(str::to_string),
            ))
        }
        Cloud::Alicloud => {
            let block = planned.attr("alicloud_endpoint_service");
            Some(Connection::alicloud(
                cluster_id,
                display_name,
                block.str_attr("name")?,
            ))
        }
    }
}

/// The state for a connection the API returned, keeping what only this
/// provider knows (`wait_for_active`, `timeouts`) from `base`.
fn state_from(c: &Connection, base: &Value) -> Value {
    let cluster_region = base
        .attr("aws_endpoint_service")
        .str_attr("region")
        .map(str::to_string);
    let mut fields = convert::connection_fields(c, cluster_region.as_deref());
    let cluster_id = if c.cluster_id.is_empty() {
        base.str_attr("cluster_id").unwrap_or_default().to_string()
    } else {
        c.cluster_id.clone()
    };
    fields.insert("cluster_id".into(), Value::string(cluster_id.as_str()));
    fields.insert(
        "id".into(),
        Value::string(format!("{cluster_id},{}", c.private_link_connection_id)),
    );
    fields.insert(
        "wait_for_active".into(),
        base.attr("wait_for_active").clone(),
    );
    fields.insert("timeouts".into(), base.attr("timeouts").clone());
    Value::Object(fields)
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
                && c.state.as_ref().map(|s| s.as_str()) != Some("DELETING")
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
    client: &Client,
    request: &Connection,
    stop: &StopSignal,
) -> Result<Connection, Diagnostic> {
    const ATTEMPTS: usize = 3;
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let since = SystemTime::now();
        match client
            .create_private_link_connection(&request.cluster_id, request)
            .await
        {
            Ok(c) => return Ok(c),
            Err(e) if e.is_ambiguous() => {
                log::warn!(
                    "create answer lost ({e}); looking the connection up before sending again"
                );
                let Some(found) =
                    wait::unless_stopped(stop, reconcile(client, request, since)).await
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

async fn create(ctx: &Context<ProviderData>, planned: &Value) -> ApplyOutcome {
    let client = match ctx.data().and_then(ProviderData::client) {
        Ok(c) => c,
        Err(d) => return ApplyOutcome::failed(d),
    };
    let Some(request) = create_request(planned) else {
        return ApplyOutcome::failed(Diagnostic::error(
            "Incomplete configuration",
            "cluster_id, display_name and exactly one endpoint service with its name must be known to create a connection.",
        ));
    };
    let created = match send_create(client, &request, &ctx.stop).await {
        Ok(c) => c,
        Err(d) => return ApplyOutcome::failed(d),
    };
    let cluster_id = request.cluster_id.clone();
    let id = created.private_link_connection_id.clone();
    if let Ok(data) = ctx.data() {
        data.connections.invalidate(&cluster_id);
    }
    log::info!("created private link connection {id} on cluster {cluster_id}");
    let wait_for_active = planned.attr("wait_for_active").as_bool().unwrap_or(false);
    let timeout = timeouts::get(planned, "create", DEFAULT_CREATE_TIMEOUT);
    let started = Instant::now();
    let settled = wait::until(&ctx.stop, timeout, || async {
        let Some(c) = wait::find_connection(client, &cluster_id, &id).await? else {
            return Ok(Poll::Gone(format!("connection {id}")));
        };
        Ok(match wait::connection_status(&c) {
            "ACTIVE" | "FAILED" => Poll::Done(c),
            "PENDING_ACCEPTANCE" if !wait_for_active => Poll::Done(c),
            _ => Poll::Pending(c),
        })
    })
    .await;
    let mut diags = Diagnostics::new();
    let last = match settled {
        Ok(c) => {
            match wait::connection_status(&c) {
                "FAILED" => diags.push(Diagnostic::error(
                    "Private link connection failed",
                    format!(
                        "Connection {id} went FAILED: {}. It is kept in the state as tainted; the next apply replaces it. Check the endpoint service name, that it allows TiDB Cloud's principal (see the tidbcloud_private_link_availability_zones data source) and shares an availability zone with the cluster.",
                        c.message.as_deref().unwrap_or("no reason given")
                    ),
                )),
                "PENDING_ACCEPTANCE" => diags.push(pending_warning(&c)),
                _ => {}
            }
            c
        }
        Err(e) => {
            let waited = started.elapsed();
            let status = e
                .last()
                .map(|c| wait::connection_status(c).to_string())
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
        state: Some(state_from(&last, planned)),
        diags,
    }
}

// ---- read ----------------------------------------------------------------------------------

fn ids(state: &Value) -> Option<(String, String)> {
    let cluster = state.str_attr("cluster_id")?.to_string();
    let id = state
        .str_attr("private_link_connection_id")
        .map(str::to_string)
        .or_else(|| {
            state
                .str_attr("id")
                .and_then(|i| i.split_once(','))
                .map(|(_, b)| b.to_string())
        })?;
    Some((cluster, id))
}

async fn read(ctx: &Context<ProviderData>, state: &Value) -> ReadOutcome {
    let mut out = ReadOutcome::default();
    let (data, client) = match ctx.data().and_then(|d| Ok((d, d.client()?))) {
        Ok(pair) => pair,
        Err(d) => {
            out.diags.push(d);
            return out;
        }
    };
    let Some((cluster_id, id)) = ids(state) else {
        out.diags.error(
            "Invalid state",
            "The state has no cluster_id or private_link_connection_id.",
        );
        return out;
    };
    match data.connections.find(client, &cluster_id, &id).await {
        Ok(None) => {
            log::info!("connection {id} no longer exists; removing it from the state");
        }
        // A FAILED connection is reported by the plan, which replaces it.
        Ok(Some(c)) => out.state = Some(state_from(&c, state)),
        Err(e) => out
            .diags
            .push(api_error("Could not read the private link connection", &e)),
    }
    out
}

// ---- delete ----------------------------------------------------------------------------------

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

async fn delete(ctx: &Context<ProviderData>, state: &Value) -> Diagnostics {
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
        wait::unless_stopped(&ctx.stop, wait::find_connection(client, &cluster_id, &id)).await
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
        Ok(Some(c)) => wait::connection_status(&c) == "DELETING",
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
            if let Ok(Some(c)) = wait::find_connection(client, &cluster_id, &id).await {
                if !c.attached_domains.is_empty() {
                    return blocked_by_domains(&c, &cluster_id).into();
                }
            }
            return api_error("Could not delete the private link connection", &e).into();
        }
        Err(e) => return api_error("Could not delete the private link connection", &e).into(),
    }
    let timeout = timeouts::get(state, "delete", DEFAULT_DELETE_TIMEOUT);
    let gone = wait::until(&ctx.stop, timeout, || async {
        Ok(
            match wait::find_connection(client, &cluster_id, &id).await? {
                None => Poll::Done(String::new()),
                Some(c) => Poll::Pending(wait::connection_status(&c).to_string()),
            },
        )
    })
    .await;
    match gone {
        Ok(_) => {}
        Err(WaitError::Timeout { last, .. }) => diags.error(
            "Timed out waiting for the private link connection to be deleted",
            format!("Connection {id} is still {} after the delete timeout; it stays in the state. Apply again to keep waiting.", last.unwrap_or_default()),
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

// ---- import -----------------------------------------------------------------------------------

async fn import(ctx: &Context<ProviderData>, id: &str) -> ApplyOutcome {
    let parts = match validate::import_id(id, &["cluster_id", "private_link_connection_id"]) {
        Ok(p) => p,
        Err(message) => {
            return ApplyOutcome::failed(Diagnostic::error("Invalid import ID", message))
        }
    };
    let client = match ctx.data().and_then(ProviderData::client) {
        Ok(c) => c,
        Err(d) => return ApplyOutcome::failed(d),
    };
    match wait::find_connection(client, parts[0], parts[1]).await {
        Ok(Some(c)) => {
            let base = Value::object([("cluster_id", Value::string(parts[0]))]);
            ApplyOutcome::ok(state_from(&c, &base))
        }
        Ok(None) => ApplyOutcome::failed(Diagnostic::error(
            "Cannot import a connection that does not exist",
            format!(
                "Cluster {} has no private link connection {}.",
                parts[0], parts[1]
            ),
        )),
        Err(e) => ApplyOutcome::failed(api_error("Could not read the private link connection", &e)),
    }
}

// ---- the resource ----------------------------------------------------------------------------

#[async_trait]
impl Resource<ProviderData> for PrivateLinkConnection {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_config(config, diags);
    }

    async fn modify_plan(
        &self,
        ctx: &Context<ProviderData>,
        plan: &mut PlanChange<'_>,
        diags: &mut Diagnostics,
    ) {
        if plan.is_destroy() {
            return;
        }
        if plan.is_create() {
            if let Ok(data) = ctx.data() {
                check_cluster_for_create(data, plan, diags).await;
            }
            return;
        }
        // A connection that went FAILED cannot recover: replace it.
        if plan.prior.str_attr("state") == Some("FAILED") {
            plan.planned.set_attr("state", Value::unknown());
            plan.planned.set_attr("message", Value::unknown());
            plan.requires_replace.push(AttributePath::attr("state"));
            diags.warning(
                "Private link connection failed and will be replaced",
                format!(
                    "Connection {} is FAILED: {}",
                    plan.prior
                        .str_attr("private_link_connection_id")
                        .unwrap_or_default(),
                    plan.prior.str_attr("message").unwrap_or("no reason given")
                ),
            );
        }
    }

    async fn create(
        &self,
        ctx: &Context<ProviderData>,
        planned: &Value,
        _config: &Value,
    ) -> ApplyOutcome {
        create(ctx, planned).await
    }

    async fn read(&self, ctx: &Context<ProviderData>, state: &Value) -> ReadOutcome {
        read(ctx, state).await
    }

    async fn delete(&self, ctx: &Context<ProviderData>, state: &Value) -> Diagnostics {
        delete(ctx, state).await
    }

    async fn import(&self, ctx: &Context<ProviderData>, id: &str) -> ApplyOutcome {
        import(ctx, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(aws: Value, ali: Value) -> Value {
        Value::object([
            ("cluster_id", Value::string("1")),
            ("display_name", Value::string("x")),
            ("aws_endpoint_service", aws),
            ("alicloud_endpoint_service", ali),
        ])
    }

    #[test]
    fn exactly_one_endpoint_service() {
        let aws = Value::object([
            (
                "name",
                Value::string("com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"),
            ),
            ("region", Value::Null),
        ]);
        let ali = Value::object([(
            "name",
            Value::string("com.aliyuncs.privatelink.ap-southeast-1.epsrv-abc"),
        )]);
        let mut d = Diagnostics::new();
        validate_config(&config(Value::Null, Value::Null), &mut d);
        assert!(d.has_errors());
        let mut d = Diagnostics::new();
        validate_config(&config(aws.clone(), ali.clone()), &mut d);
        assert!(d.has_errors());
        let mut d = Diagnostics::new();
        validate_config(&config(aws, Value::Null), &mut d);
        assert!(!d.has_errors());
        let mut d = Diagnostics::new();
        validate_config(&config(Value::unknown(), Value::Null), &mut d);
        assert!(!d.has_errors(), "unknown blocks are checked later");
    }

    #[test]
    fn configured_region_must_match_the_service_name() {
        let aws = Value::object([
            (
                "name",
                Value::string("com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"),
            ),
            ("region", Value::string("us-east-1")),
        ]);
        let mut d = Diagnostics::new();
        validate_config(&config(aws, Value::Null), &mut d);
        assert_eq!(
            d.0[0].path.as_ref().map(|p| p.to_string()).as_deref(),
            Some("aws_endpoint_service.region")
        );
    }

    #[test]
    fn import_ids_are_checked_before_any_call() {
        assert!(validate::import_id(
            "1000000000000000001",
            &["cluster_id", "private_link_connection_id"]
        )
        .is_err());
    }
}
