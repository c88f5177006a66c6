//! `tidbcloud_private_link_connection`: a private link connection from a
//! cluster to the customer's AWS or Alibaba Cloud endpoint service.
//!
//! Split the way a service of the AWS provider is: this file reads schema →
//! validation → plan rules and joins the operations, each in a unit of its
//! own: [`create`] (create-and-reconcile, then the wait), [`read`],
//! [`delete`], [`import`]. Nothing in the API updates a connection, so every
//! argument forces replacement; `wait_for_active` and `timeouts` only steer
//! the provider and change in place.

mod create;
mod delete;
mod evidence;
mod import;
mod read;

use std::time::Duration;

use async_trait::async_trait;

use crate::api::{Cluster, ClusterState};
use crate::framework::timeouts;
use crate::framework::{
    ApplyOutcome, Attribute, AttributePath, Context, Diagnostic, Diagnostics, PlanChange,
    ReadOutcome, Resource, Schema, StopSignal, Value,
};
use crate::services::cloud::{self, Cloud};
use crate::services::describe::{ALICLOUD_ENDPOINT_SERVICE, AWS_ENDPOINT_SERVICE, CONNECTION};
use crate::services::errors::{cluster_error, import_hint};
use crate::services::{validate, ProviderData};

pub const TYPE_NAME: &str = "tidbcloud_private_link_connection";
const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

pub struct PrivateLinkConnection;

// ---- schema -------------------------------------------------------------------

/// The connection as described once ([`CONNECTION`]), with the resource's
/// arguments and plan rules on top. Attributes the resource does not name
/// are added as computed.
fn schema() -> Schema {
    let aws = &AWS_ENDPOINT_SERVICE;
    let ali = &ALICLOUD_ENDPOINT_SERVICE;
    Schema::new(
        "A private link connection from a TiDB Cloud Starter or Essential cluster to your own AWS or Alibaba Cloud endpoint service (for example the NLB in front of Kafka or RDS), used by changefeeds and Data Migration.\n\nThe API cannot change a connection: changing any argument other than `wait_for_active` and `timeouts` replaces it. Creation returns once the connection is `ACTIVE`, or `PENDING_ACCEPTANCE` (with a warning naming the endpoint to accept on your endpoint service) unless `wait_for_active` is set. A connection that fails is kept in the state as tainted, so the next apply replaces it.\n\nWhen the answer to a create is lost (a server error other than the API's own `503` UNAVAILABLE, a dropped connection, a timeout, a success without an id), the provider looks the connection up before sending the create again: it adopts, with a warning naming it, the one connection with the same `display_name` and endpoint service that was absent from a listing taken before the create was sent, that this workspace does not already hold, and whose creation time lies within the create's time window by the API's `Date` headers; with several, or too little evidence, it stops and lists them for import. Limit: two workspaces on one API key creating the same `display_name` on the same endpoint service within the same two or three seconds cannot be told apart (then nothing is adopted silently), so give connections names unique per workspace.\n\nImport with an `import` block (`id = \"<cluster_id>,<private_link_connection_id>\"`) or `terraform import tidbcloud_private_link_connection.NAME <cluster_id>,<private_link_connection_id>`.",
        CONNECTION.complete(vec![
            Attribute::string("id").computed().use_state_for_unknown()
                .description("`<cluster_id>,<private_link_connection_id>`."),
            CONNECTION.argument("cluster_id").required().requires_replace()
                .description("The ID of the TiDB Cloud Starter or Essential cluster. The cluster must be `ACTIVE` (running).")
                .validate("Invalid cluster ID", validate::cluster_id),
            CONNECTION.argument("display_name").required().requires_replace()
                .description("The name of the connection: 1 to 64 characters, without leading or trailing spaces.")
                .validate("Invalid display name", validate::display_name),
            Attribute::single_nested(cloud::AWS.block, aws.complete(vec![
                aws.argument("name").required().requires_replace()
                    .description("The endpoint service name, `com.amazonaws.vpce.<region>.vpce-svc-<id>` (for example `aws_vpc_endpoint_service.x.service_name`).")
                    .validate(cloud::AWS.name_error, cloud::AWS.validate_name),
                aws.argument("region").optional().computed().requires_replace().use_state_for_unknown()
                    .description("The region of the endpoint service. Defaults to the cluster's region, which must match the region in `name`.")
                    .validate("Invalid region", validate::region),
                aws.attribute("endpoint_id").use_state_for_unknown()
                    .description("The VPC endpoint TiDB Cloud created; accept it on your endpoint service when acceptance is required (for example with `aws_vpc_endpoint_connection_accepter`)."),
                aws.attribute("availability_zone_ids").use_state_for_unknown()
                    .description("The availability zone IDs of the endpoint: those the endpoint service and the cluster share."),
            ]))
            .optional()
            .requires_replace()
            .description("Connect to an AWS VPC endpoint service (clusters on AWS). Exactly one of `aws_endpoint_service` and `alicloud_endpoint_service` must be set."),
            Attribute::single_nested(cloud::ALICLOUD.block, ali.complete(vec![
                ali.argument("name").required().requires_replace()
                    .description("The endpoint service name, `com.aliyuncs.privatelink.<region>.epsrv-<id>`.")
                    .validate(cloud::ALICLOUD.name_error, cloud::ALICLOUD.validate_name),
                ali.attribute("endpoint_id").use_state_for_unknown()
                    .description("The endpoint TiDB Cloud created; accept it on your endpoint service when acceptance is required."),
                ali.attribute("availability_zone_ids").use_state_for_unknown(),
            ]))
            .optional()
            .requires_replace()
            .description("Connect to an Alibaba Cloud PrivateLink endpoint service (clusters on Alibaba Cloud). Exactly one of `aws_endpoint_service` and `alicloud_endpoint_service` must be set."),
            Attribute::bool("wait_for_active").optional()
                .description("When `true`, creation waits until the connection is `ACTIVE`, that is until the endpoint was accepted outside this configuration. By default creation also returns at `PENDING_ACCEPTANCE`, so that an acceptance managed in the same configuration can follow."),
            CONNECTION.attribute("private_link_connection_id").use_state_for_unknown(),
            CONNECTION.attribute("type").use_state_for_unknown(),
            CONNECTION.attribute("state"),
            CONNECTION.attribute("message"),
            CONNECTION.attribute("created_by").use_state_for_unknown(),
            CONNECTION.attribute("create_time").use_state_for_unknown(),
            CONNECTION.attribute("update_time"),
        ]),
    )
    .with_block(timeouts::block(
        "How long operations may wait for TiDB Cloud before giving up.",
        &[("create", "30m"), ("delete", "30m")]))
}

// ---- validation -------------------------------------------------------------------

fn validate_config(config: &Value, diags: &mut Diagnostics) {
    let blocks: Vec<&Value> = cloud::CLOUDS.iter().map(|c| config.attr(c.block)).collect();
    if blocks.iter().any(|b| b.is_unknown()) {
        return;
    }
    match blocks.iter().filter(|b| !b.is_null()).count() {
        0 => diags.push(Diagnostic::error(
            "Missing endpoint service",
            format!(
                "Set exactly one of {}.",
                cloud::either(cloud::CLOUDS.iter().map(|c| format!("{} (clusters on {})", c.block, c.human)))
            ),
        ).at(AttributePath::attr(cloud::CLOUDS[0].block))),
        1 => {}
        _ => diags.push(Diagnostic::error(
            "Conflicting endpoint services",
            format!(
                "Set only one of {}: a connection reaches one endpoint service, on the cluster's cloud.",
                cloud::CLOUDS.iter().map(|c| c.block).collect::<Vec<_>>().join(" and ")
            ),
        ).at(AttributePath::attr(cloud::CLOUDS[cloud::CLOUDS.len() - 1].block))),
    }
    for c in cloud::CLOUDS.iter().filter(|c| c.region_argument) {
        let block = config.attr(c.block);
        if let (Some(name), Some(region)) = (block.str_attr("name"), block.str_attr("region")) {
            // A malformed region is reported by its own check.
            let well_formed = validate::region(block.attr("region")).is_ok();
            if let (Ok(in_name), true) = ((c.service_region)(name), well_formed) {
                if in_name != region {
                    diags.push(Diagnostic::error(
                        "Endpoint service in another region",
                        format!("The endpoint service {name:?} is in {in_name}, but region is {region:?}. TiDB Cloud connects to endpoint services in the region given; make them match."),
                    ).at(AttributePath::attr(c.block).then("region")));
                }
            }
        }
    }
}

// ---- plan rules -------------------------------------------------------------------

/// Fills in the connection type and the region of a planned create, and
/// checks it against the cluster (rules 1 and 2).
async fn check_cluster_for_create(
    data: &ProviderData,
    stop: &StopSignal,
    plan: &mut PlanChange<'_>,
    diags: &mut Diagnostics,
) {
    let Some(cloud) = cloud::of_blocks(plan.config) else {
        return;
    };
    plan.planned
        .set_attr("type", Value::string(cloud.connection_type.as_str()));
    plan_region(cloud, plan);
    let Some(cluster_id) = plan.config.str_attr("cluster_id").map(str::to_string) else {
        return;
    };
    let Ok(op) = data.op(stop, None) else { return };
    let Ok(client) = data.client_within(&op) else {
        return;
    };
    let cluster = match data.clusters.get(&client, &cluster_id).await {
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
    look_for_a_twin(data, stop, &cluster_id, plan.config, diags).await;
}

/// Warns when the cluster already has a connection of the planned name to
/// the planned endpoint service that no resource of this configuration's
/// state holds: one a killed run created, or one made in the console,
/// which an import would bring under Terraform instead of a second
/// connection. It reads the cluster's first listing of this process (the
/// one the refresh shares, or one of its own: one per cluster and
/// process), and never waits for budget for it: without budget to spare,
/// or when the listing fails, the check is skipped.
async fn look_for_a_twin(
    data: &ProviderData,
    stop: &StopSignal,
    cluster_id: &str,
    config: &Value,
    diags: &mut Diagnostics,
) {
    let (Some(name), Some(service)) = (
        config.str_attr("display_name"),
        cloud::of_blocks(config).and_then(|c| config.attr(c.block).str_attr("name")),
    ) else {
        return;
    };
    let Ok(op) = data.op(stop, Some(std::time::Duration::ZERO)) else {
        return;
    };
    let Ok(client) = data.client_within(&op) else {
        return;
    };
    let all = match data.connections.first(&client.polling(), cluster_id).await {
        Ok(all) => all,
        Err(e) => {
            log::debug!("not checking cluster {cluster_id} for connections of the same name: {e}");
            return;
        }
    };
    let mut twins: Vec<_> = all
        .values()
        .filter(|c| {
            evidence::same_connection(c, name, Some(service))
                && !data
                    .ownership
                    .holds(cluster_id, &c.private_link_connection_id)
        })
        .collect();
    twins.sort_by(|a, b| {
        a.private_link_connection_id
            .cmp(&b.private_link_connection_id)
    });
    for c in twins {
        let id = format!("{cluster_id},{}", c.private_link_connection_id);
        diags.push(Diagnostic::warning(
            format!(
                "Connection {} already exists with this name and endpoint service",
                c.private_link_connection_id
            ),
            format!(
                "Cluster {cluster_id} already has connection {} named {name:?} to {service}, created {}, and no resource of this configuration's state holds it. If an earlier run was killed before it could save it, or it was made in the console, import it rather than creating a second one:{}",
                c.private_link_connection_id,
                c.create_time.as_deref().unwrap_or("at an unknown time"),
                import_hint(TYPE_NAME, &id)
            ),
        ));
    }
}

/// An unset region is planned as the region in the service name (rule 2
/// makes it the region in use), so the plan needs no API call for it and the
/// value stays the same after apply, whatever the API echoes.
fn plan_region(cloud: &Cloud, plan: &mut PlanChange<'_>) {
    if !cloud.region_argument || !plan.config.attr(cloud.block).attr("region").is_null() {
        return;
    }
    let in_name = plan
        .config
        .attr(cloud.block)
        .str_attr("name")
        .and_then(|n| (cloud.service_region)(n).ok())
        .map(str::to_string);
    if let (Some(r), Some(block)) = (in_name, plan.planned.attr_mut(cloud.block)) {
        block.set_attr("region", Value::string(r));
    }
}

/// Rules 1 and 2: the cluster runs, the block matches its cloud, and the
/// endpoint service is in the region in use.
fn cluster_problem(cluster: &Cluster, cloud: &Cloud, config: &Value) -> Option<Diagnostic> {
    let id = &cluster.cluster_id;
    if cluster.state != Some(ClusterState::Active) {
        let state = cluster
            .state
            .as_ref()
            .map(|s| s.as_str())
            .unwrap_or("UNKNOWN");
        return Some(Diagnostic::error(
            "Cluster is not running",
            format!("Cluster {id} is {state}; private link connections can only be created on an ACTIVE (running) cluster. Resume the cluster or wait until it is ACTIVE, then apply again."),
        ).at(AttributePath::attr("cluster_id")));
    }
    let cluster_cloud = cluster.cloud_provider().unwrap_or("");
    if !cluster_cloud.eq_ignore_ascii_case(cloud.cluster_cloud) {
        let fitting = cloud::by_cluster_cloud(cluster_cloud)
            .map_or("an endpoint service of the cluster's cloud", |c| c.block);
        return Some(Diagnostic::error(
            "Endpoint service on another cloud",
            format!("Cluster {id} runs on {cluster_cloud}, but {} is an {} endpoint service. Use {fitting} for this cluster.", cloud.block, cloud.human),
        ).at(AttributePath::attr(cloud.block)));
    }
    let block = config.attr(cloud.block);
    let name = block.str_attr("name")?;
    let in_name = (cloud.service_region)(name).ok()?;
    let configured = block.str_attr("region").filter(|_| cloud.region_argument);
    let in_use = match configured {
        Some(r) => r.to_string(),
        None => cluster.region_id()?.to_string(),
    };
    if in_name != in_use {
        let cross_region = if cloud.region_argument && configured.is_none() {
            format!(
                ", or, for a cross-region endpoint service, set {}.region = {in_name:?}",
                cloud.block
            )
        } else {
            String::new()
        };
        return Some(Diagnostic::error(
            "Endpoint service in another region",
            format!("The endpoint service {name:?} is in {in_name}, but the connection would be made in {in_use} (the {} region). Use an endpoint service in {in_use}{cross_region}.",
                if configured.is_some() { "configured" } else { "cluster's" }),
        ).at(AttributePath::attr(cloud.block).then("name")));
    }
    None
}

// ---- the resource ----------------------------------------------------------------------------

#[async_trait]
impl Resource<ProviderData> for PrivateLinkConnection {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn import_id_format(&self) -> Option<&'static str> {
        Some("<cluster_id>,<private_link_connection_id>")
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
                check_cluster_for_create(data, &ctx.stop, plan, diags).await;
            }
            return;
        }
        // A connection that went FAILED cannot recover: replace it.
        if plan.prior.str_attr("state") == Some(crate::api::ConnectionState::Failed.as_str()) {
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
        config: &Value,
    ) -> ApplyOutcome {
        create::create(ctx, planned, config).await
    }

    async fn read(&self, ctx: &Context<ProviderData>, state: &Value) -> ReadOutcome {
        read::read(ctx, state).await
    }

    async fn delete(&self, ctx: &Context<ProviderData>, state: &Value) -> Diagnostics {
        delete::delete(ctx, state).await
    }

    async fn import(&self, ctx: &Context<ProviderData>, id: &str) -> ApplyOutcome {
        import::import(ctx, id).await
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

    /// An import id in the wrong form is rejected before the provider
    /// needs a client: with no provider data at all, no API call can be made.
    #[tokio::test]
    async fn import_ids_are_checked_before_any_call() {
        let ctx = Context::<ProviderData>::new(None, crate::framework::StopSignal::never());
        let out = PrivateLinkConnection
            .import(&ctx, "1000000000000000001")
            .await;
        assert!(out.state.is_none());
        assert_eq!(out.diags.0.len(), 1);
        assert_eq!(out.diags.0[0].summary, "Invalid import ID");
    }

    /// The wrong-region error points at the `region` option for
    /// cross-region endpoint services.
    #[test]
    fn the_wrong_region_error_names_the_region_option() {
        let cluster: Cluster = serde_json::from_value(serde_json::json!({
            "clusterId": "1",
            "state": "ACTIVE",
            "region": {"name": "regions/aws-us-east-1", "regionId": "aws-us-east-1", "cloudProvider": "aws"}
        }))
        .expect("cluster");
        let aws = Value::object([
            (
                "name",
                Value::string("com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"),
            ),
            ("region", Value::Null),
        ]);
        let d = cluster_problem(&cluster, &cloud::AWS, &config(aws, Value::Null))
            .expect("a region mismatch");
        assert!(
            d.detail
                .contains("aws_endpoint_service.region = \"us-west-2\""),
            "{}",
            d.detail
        );
    }

    /// Every attribute the resource writes to the state is in its schema.
    #[test]
    fn the_state_matches_the_schema() {
        let schema = schema();
        let mut names: Vec<String> = schema.attributes.iter().map(|a| a.name.clone()).collect();
        names.extend(schema.blocks.iter().map(|b| b.name.clone()));
        names.sort();
        let c = crate::api::PrivateLinkConnection::aws("1", "x", "svc", None);
        let Value::Object(state) = read::state_from(&c, &Value::Null) else {
            panic!("not an object")
        };
        assert_eq!(state.keys().cloned().collect::<Vec<_>>(), names);
    }
}
