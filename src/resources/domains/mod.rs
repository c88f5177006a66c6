//! `tidbcloud_private_link_domains`: the domains attached to a private link
//! connection, so that TiDB Cloud reaches Kafka brokers through it.
//!
//! Reads top to bottom: schema → validation → plan rules (the dry-run
//! preview) → create → read → delete → import; attach-and-reconcile is a
//! unit of its own ([`attach`]). Domains are attached once per connection;
//! any change detaches and attaches again (replacement).

mod attach;

use std::time::Duration;

use async_trait::async_trait;

use crate::api::{
    ApiError, AttachDomain, Client, ConnectionState, DomainType, Op,
    PrivateLinkConnection as Connection,
};
use crate::framework::timeouts;
use crate::framework::{
    ApplyOutcome, Attribute, AttributePath, Context, Diagnostic, Diagnostics, PlanChange,
    ReadOutcome, Resource, Schema, Value,
};
use crate::services::cloud;
use crate::services::describe::{self, ATTACHMENT, DOMAIN};
use crate::services::domains::{self, Phase};
use crate::services::errors::{api_error, cluster_error, import_error};
use crate::services::waits::{self, connection_status, Removal, RemovalError, Seen, WaitError};
use crate::services::watch::{stopped_before_sending, Watchers};
use crate::services::{import, validate, ProviderData};

pub const TYPE_NAME: &str = "tidbcloud_private_link_domains";
const DEFAULT_CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const DEFAULT_DELETE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

pub struct PrivateLinkDomains;

// ---- schema -------------------------------------------------------------------

fn schema() -> Schema {
    Schema::new(
        "Domains attached to a private link connection, so that TiDB Cloud resolves your Kafka brokers through it. `TIDBCLOUD_MANAGED` domains (AWS and Alibaba Cloud) are `*.<az_id>.<unique_name>.aws.plc.tidbcloud.com` per availability zone on AWS and `*.<unique_name>.alicloud.plc.tidbcloud.com` on Alibaba Cloud; `CONFLUENT` domains (AWS only) are `*.<az_id>.<unique_name>.<region>.aws.confluent.cloud`.\n\nA connection has at most one attachment; changing any argument detaches the domains and attaches new ones. Creation waits for the connection to be `ACTIVE` (accept it on your endpoint service meanwhile), attaches, and waits until every domain is attached (`SUCCEEDED`, `ATTACHED` or any other settled state) or one `FAILED`. When the connection exists and `unique_name` is known, the plan lists the exact domains; a name the API reports as taken, or an API key that may not preview (such as a read-only key), leaves them unknown with a warning, and apply reports the outcome.\n\nImport with an `import` block (`id = \"<cluster_id>,<private_link_connection_id>,<attach_domain_id>\"`) or `terraform import tidbcloud_private_link_domains.NAME <cluster_id>,<private_link_connection_id>,<attach_domain_id>`.",
        ATTACHMENT.complete(vec![
            Attribute::string("id").computed().use_state_for_unknown()
                .description("`<cluster_id>,<private_link_connection_id>,<attach_domain_id>`."),
            Attribute::string("cluster_id").required().requires_replace()
                .description("The ID of the cluster of the connection.")
                .validate("Invalid cluster ID", validate::cluster_id),
            Attribute::string("private_link_connection_id").required().requires_replace()
                .description("The connection to attach the domains to (`tidbcloud_private_link_connection.x.private_link_connection_id`).")
                .validate("Invalid private link connection ID", validate::connection_id),
            ATTACHMENT.argument("type").required().requires_replace()
                .description("`TIDBCLOUD_MANAGED` (domains managed by TiDB Cloud, AWS and Alibaba Cloud) or `CONFLUENT` (a Confluent Cloud cluster's domains, AWS only).")
                .validate("Invalid domain type", validate::domain_type),
            ATTACHMENT.argument("unique_name").optional().computed().requires_replace().use_state_for_unknown()
                .description("The unique part of the domain names. Required for `CONFLUENT` (the Confluent cluster's network name); for `TIDBCLOUD_MANAGED` TiDB Cloud generates one when it is omitted.")
                .validate("Invalid unique name", validate::unique_name),
            ATTACHMENT.attribute("attach_domain_id").use_state_for_unknown(),
            ATTACHMENT.attribute("domains")
                .description("The attached domains with their states."),
            Attribute::typed("domains_by_az", domains::domains_by_az_type()).computed()
                .description("The domain of each availability zone, keyed by AZ ID (AWS): the domain whose name contains that zone ID among its labels. A domain that names none of the connection's zones is left out, with a warning, and is still listed in `domains`. Empty on Alibaba Cloud, whose single domain spans zones."),
            ATTACHMENT.attribute("created_by").use_state_for_unknown(),
            ATTACHMENT.attribute("create_time").use_state_for_unknown(),
        ]),
    )
    .with_block(timeouts::block(
        "How long operations may wait for TiDB Cloud before giving up.",
        &[("create", "30m"), ("delete", "20m")]))
}

// ---- validation -----------------------------------------------------------------

fn validate_config(config: &Value, diags: &mut Diagnostics) {
    if domain_type(config) == Some(DomainType::Confluent) && config.attr("unique_name").is_null() {
        diags.push(
            Diagnostic::error(
                "Missing unique name",
                "CONFLUENT domains need unique_name: the network name of your Confluent Cloud cluster (the part before the region in its domain, as in *.<az_id>.<unique_name>.<region>.aws.confluent.cloud).",
            )
            .at(AttributePath::attr("unique_name")),
        );
    }
}

fn domain_type(v: &Value) -> Option<DomainType> {
    Some(DomainType::from(v.str_attr("type")?)).filter(DomainType::is_known)
}

// ---- plan rules --------------------------------------------------------------------

/// Rule 6 at plan time: CONFLUENT exists only on AWS.
async fn check_cloud(
    data: &ProviderData,
    client: &Client,
    config: &Value,
    diags: &mut Diagnostics,
) {
    let (Some(cluster_id), Some(DomainType::Confluent)) =
        (config.str_attr("cluster_id"), domain_type(config))
    else {
        return;
    };
    match data.clusters.get(client, cluster_id).await {
        Ok(cluster) if cluster.cloud_provider().is_some_and(|c| c != cloud::AWS.cluster_cloud) => diags.push(
            Diagnostic::error(
                "CONFLUENT domains need an AWS cluster",
                format!(
                    "Cluster {cluster_id} runs on {}; Confluent domains exist only on AWS. Use TIDBCLOUD_MANAGED.",
                    cluster.cloud_provider().unwrap_or_default()
                ),
            )
            .at(AttributePath::attr("type")),
        ),
        Ok(_) => {}
        Err(e) => diags.push(cluster_error(cluster_id, &e).at(AttributePath::attr("cluster_id"))),
    }
}

/// When the connection and the unique name are known, a dry run shows the
/// exact domains in the plan and rejects an invalid name now. Whatever else
/// keeps the dry run from answering (a name reported as taken, which during
/// a replacement is the old attachment's; a key that may not preview, such
/// as a read-only key in a pull-request plan; any unfamiliar refusal) leaves
/// the domains unknown with a warning, and apply reports the real outcome.
async fn preview(
    data: &ProviderData,
    client: &Client,
    plan: &mut PlanChange<'_>,
    diags: &mut Diagnostics,
) {
    let config = plan.config;
    let (Some(cluster_id), Some(connection_id), Some(unique_name), Some(kind)) = (
        config.str_attr("cluster_id"),
        config.str_attr("private_link_connection_id"),
        config.str_attr("unique_name"),
        domain_type(config),
    ) else {
        return;
    };
    let request = AttachDomain::new(kind, Some(unique_name.to_string()));
    let mut dry = match client
        .attach_domains(cluster_id, connection_id, &request, true)
        .await
    {
        Ok(dry) => dry,
        // Not ACTIVE yet, or gone: the domains are decided at apply.
        Err(e) if e.is_failed_precondition() || e.is_not_found() => {
            log::debug!("no domain preview for connection {connection_id}: {e}");
            return;
        }
        Err(e) if e.is_invalid_argument() => {
            diags.push(
                Diagnostic::error(
                    "Domains cannot be attached",
                    format!("TiDB Cloud rejected the domains for connection {connection_id}: {e}"),
                )
                .at(AttributePath::attr("unique_name")),
            );
            return;
        }
        Err(e) => {
            diags.push(not_previewed(connection_id, unique_name, &e));
            return;
        }
    };
    if dry.unique_name.as_deref().unwrap_or("").is_empty() {
        dry.unique_name = Some(unique_name.to_string());
    }
    // Names are known now; states only after apply.
    let planned_domains: Vec<Value> = dry
        .domains
        .iter()
        .map(|d| {
            let mut planned = DOMAIN.read(d, &describe::Read::default());
            for (name, v) in planned.iter_mut() {
                if name != "name" {
                    *v = Value::unknown();
                }
            }
            Value::Object(planned)
        })
        .collect();
    plan.planned
        .set_attr("domains", Value::List(planned_domains));
    // The zones come from the listing the connections' refresh uses, so the
    // plan costs no extra request and Terraform's re-plan during apply reads
    // the same zones. Without them the map stays unknown.
    match data.connections.find(client, cluster_id, connection_id).await {
        Ok(Some(c)) => {
            let (by_az, warning) = domains::domains_by_az(&dry, &c);
            plan.planned.set_attr("domains_by_az", by_az);
            if let Some(w) = warning {
                diags.push(w);
            }
        }
        Ok(None) => {}
        Err(e) => log::debug!("zones of connection {connection_id} not read ({e}); domains_by_az is known after apply"),
    }
}

/// The warning for a dry run that could not tell what apply will do.
fn not_previewed(connection_id: &str, unique_name: &str, e: &ApiError) -> Diagnostic {
    let why = if e.is_already_exists() {
        format!("TiDB Cloud reports the unique name {unique_name:?} as taken. If this plan replaces an attachment that holds it, the name is free once the old attachment is detached; otherwise apply fails")
    } else if e.is_unauthenticated() || e.is_permission_denied() {
        "the API key may not preview domains (a read-only key, for example); plans need only read access, apply needs a key that may change resources".to_string()
    } else {
        "TiDB Cloud did not answer the preview".to_string()
    };
    Diagnostic::warning(
        "Domains not previewed",
        format!("The domains for connection {connection_id} are known after apply: {why}. ({e})"),
    )
    .at(AttributePath::attr("unique_name"))
}

// ---- create -----------------------------------------------------------------------------

/// The state for an attachment the API returned: the attachment as
/// described once ([`ATTACHMENT`]), with what the resource adds; and the
/// warning for domains that `domains_by_az` cannot key.
fn state_from(
    a: &AttachDomain,
    connection: &Connection,
    base: &Value,
) -> (Value, Option<Diagnostic>) {
    let cluster_id = base.str_attr("cluster_id").unwrap_or_default();
    let connection_id = connection.private_link_connection_id.as_str();
    let mut fields = ATTACHMENT.read(a, &describe::Read::default());
    for from_base in ["type", "unique_name"] {
        if let Some(v) = fields.get_mut(from_base) {
            *v = v.clone().or(base.attr(from_base));
        }
    }
    fields.insert(
        "id".into(),
        Value::string(format!(
            "{cluster_id},{connection_id},{}",
            a.attach_domain_id
        )),
    );
    fields.insert("cluster_id".into(), Value::string(cluster_id));
    fields.insert(
        "private_link_connection_id".into(),
        Value::string(connection_id),
    );
    let mut keyed = a.clone();
    if keyed.unique_name.is_none() {
        keyed.unique_name = base.str_attr("unique_name").map(str::to_string);
    }
    let (mut by_az, mut warning) = domains::domains_by_az(&keyed, connection);
    if !by_az.is_known() {
        // The connection reports no zones: keep what was known, and say so.
        by_az = Some(base.attr("domains_by_az"))
            .filter(|v| v.is_known())
            .cloned()
            .unwrap_or(Value::Null);
        if !a.domains.is_empty() {
            warning = Some(Diagnostic::warning(
                "No availability zones to key the domains by",
                format!("Connection {connection_id} reports no availability zones, so domains_by_az cannot be filled in; every domain is listed in domains."),
            ));
        }
    }
    fields.insert("domains_by_az".into(), by_az);
    fields.insert("timeouts".into(), base.attr("timeouts").clone());
    (Value::Object(fields), warning)
}

trait OrValue {
    fn or(self, other: &Value) -> Value;
}

impl OrValue for Value {
    /// This value, or `other` when this one is null (and `other` is known).
    fn or(self, other: &Value) -> Value {
        if self.is_null() && other.is_known() {
            other.clone()
        } else {
            self
        }
    }
}

fn already_attached(connection: &Connection) -> Option<Diagnostic> {
    let existing = connection.attached_domains.first()?;
    Some(attach::second_attachment(connection, existing))
}

/// Waits until the connection is ACTIVE (acceptance may happen meanwhile).
async fn connection_active(
    op: &Op,
    watch: &Watchers,
    cluster_id: &str,
    connection_id: &str,
) -> Result<Connection, Diagnostic> {
    let result = waits::wait_connection_active(watch, op, cluster_id, connection_id).await;
    match result {
        Ok(c) if waits::connection_state(&c) == Some(&ConnectionState::Active) => Ok(c),
        Ok(c) => Err(Diagnostic::error(
            "Private link connection is not usable",
            format!(
                "Connection {connection_id} is {}{}; domains can only be attached to an ACTIVE connection.",
                connection_status(&c),
                c.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            ),
        )),
        Err(WaitError::Gone { .. }) => Err(Diagnostic::error(
            "Private link connection not found",
            format!("Cluster {cluster_id} has no private link connection {connection_id}."),
        )),
        Err(WaitError::Api { error, .. }) => Err(api_error("Could not read the private link connection", &error)),
        Err(e) => {
            let state = e.last().map(|c| connection_status(c).to_string()).unwrap_or_default();
            let why = if matches!(e, WaitError::Stopped { .. }) { "the wait was interrupted" } else { "the create timeout passed" };
            Err(Diagnostic::error(
                "Private link connection did not become ACTIVE",
                format!("Connection {connection_id} is still {state} and {why}; nothing was attached. If it is PENDING_ACCEPTANCE, accept its endpoint on your endpoint service, then apply again."),
            ))
        }
    }
}

async fn create(ctx: &Context<ProviderData>, planned: &Value) -> ApplyOutcome {
    let timeout = timeouts::get(planned, "create", DEFAULT_CREATE_TIMEOUT);
    let (watch, op) = match ctx
        .data()
        .and_then(|d| Ok((d.watchers()?, d.op(&ctx.stop, Some(timeout))?)))
    {
        Ok(w) => w,
        Err(d) => return ApplyOutcome::failed(d),
    };
    let client = &watch.client().within(&op);
    let (Some(cluster_id), Some(connection_id), Some(kind)) = (
        planned.str_attr("cluster_id"),
        planned.str_attr("private_link_connection_id"),
        domain_type(planned),
    ) else {
        return ApplyOutcome::failed(Diagnostic::error(
            "Incomplete configuration",
            "cluster_id, private_link_connection_id and type must be known.",
        ));
    };
    let connection = match connection_active(&op, watch, cluster_id, connection_id).await {
        Ok(c) => c,
        Err(d) => return ApplyOutcome::failed(d),
    };
    if let Some(d) = already_attached(&connection) {
        return ApplyOutcome::failed(d);
    }
    // The unique name: configured, or generated by a dry run.
    let unique_name =
        match planned.str_attr("unique_name") {
            Some(n) => n.to_string(),
            None => {
                let generate = AttachDomain::new(kind.clone(), None);
                let dry_run = client
                    .attach_domains(cluster_id, connection_id, &generate, true)
                    .await;
                match dry_run {
                    Err(e) if stopped_before_sending(&op, &e) => {
                        return ApplyOutcome::failed(Diagnostic::error(
                            "Interrupted before attaching the domains",
                            "Nothing was attached.",
                        ))
                    }
                    Ok(dry) => match dry.unique_name.filter(|n| !n.is_empty()) {
                        Some(n) => n,
                        None => return ApplyOutcome::failed(Diagnostic::error(
                            "No unique name",
                            "TiDB Cloud generated no unique name for the domains; set unique_name.",
                        )),
                    },
                    Err(e) => {
                        return ApplyOutcome::failed(api_error("Could not prepare the domains", &e))
                    }
                }
            }
        };
    let request = AttachDomain::new(kind, Some(unique_name.clone()));
    let attached = match attach::attach(watch, &op, cluster_id, connection_id, &request).await {
        Ok(a) => a,
        Err(d) => return ApplyOutcome::failed(d),
    };
    watch.wrote(connection_id);
    let attach_id = attached.attach_domain_id.clone();
    let mut base = planned.clone();
    base.set_attr("unique_name", Value::string(unique_name.as_str()));
    let settled =
        waits::wait_attachment_settled(watch, &op, cluster_id, connection_id, &attach_id).await;
    let mut diags = Diagnostics::new();
    let (attachment, conn) = match settled {
        Ok((a, c)) => {
            if domains::attachment_phase(&a) == Phase::Failed {
                diags.error(
                    "Domains failed",
                    format!("Attachment {attach_id} failed ({}). It is kept in the state as tainted; the next apply detaches and attaches again.", domains::failures(&a).join("; ")),
                );
            }
            (a, c)
        }
        Err(e) => {
            let why = match &e {
                WaitError::Timeout { .. } => {
                    "the create timeout passed before every domain was attached".to_string()
                }
                WaitError::Stopped { .. } => "the wait was interrupted".to_string(),
                WaitError::Api { error, .. } => error.to_string(),
                WaitError::Gone { what, .. } => format!("{what} was then reported missing"),
            };
            diags.error(
                "Domains did not settle",
                format!("Attachment {attach_id} was made but {why}. It is saved in the state as tainted, so nothing is lost: the next apply replaces it."),
            );
            match e.last().cloned() {
                Some(pair) => pair,
                None => (attached, connection),
            }
        }
    };
    let (state, warning) = state_from(&attachment, &conn, &base);
    if let Some(w) = warning {
        diags.push(w);
    }
    ApplyOutcome {
        state: Some(state),
        diags,
    }
}

// ---- read -------------------------------------------------------------------------------

fn ids(state: &Value) -> Option<(String, String, String)> {
    Some((
        state.str_attr("cluster_id")?.to_string(),
        state.str_attr("private_link_connection_id")?.to_string(),
        state.str_attr("attach_domain_id")?.to_string(),
    ))
}

async fn read(ctx: &Context<ProviderData>, state: &Value) -> ReadOutcome {
    let mut out = ReadOutcome::default();
    let (_op, client) = match ctx.data().and_then(|d| {
        d.op(&ctx.stop, None)
            .and_then(|op| Ok((d.client_within(&op)?, op)))
    }) {
        Ok((client, op)) => (op, client),
        Err(d) => {
            out.diags.push(d);
            return out;
        }
    };
    let client = &client;
    let Some((cluster_id, connection_id, attach_id)) = ids(state) else {
        out.diags.error(
            "Invalid state",
            "The state has no cluster_id, private_link_connection_id or attach_domain_id.",
        );
        return out;
    };
    match waits::find_connection(client, &cluster_id, &connection_id).await {
        Ok(Some(c)) => match waits::find_attachment(&c, &attach_id) {
            Some(a) => {
                let (new_state, warning) = state_from(a, &c, state);
                out.state = Some(new_state);
                if let Some(w) = warning {
                    out.diags.push(w);
                }
            }
            None => log::info!("attachment {attach_id} no longer exists; removing it from the state"),
        },
        Ok(None) => log::info!("connection {connection_id} no longer exists; removing attachment {attach_id} from the state"),
        Err(e) => out.diags.push(api_error("Could not read the attached domains", &e)),
    }
    out
}

// ---- delete -------------------------------------------------------------------------------

/// How many times a detach is sent while its answers are lost and the
/// attachment is neither gone nor going away.
const DETACH_ATTEMPTS: usize = 6;

async fn delete(ctx: &Context<ProviderData>, state: &Value) -> Diagnostics {
    let timeout = timeouts::get(state, "delete", DEFAULT_DELETE_TIMEOUT);
    let (data, watch, op) = match ctx
        .data()
        .and_then(|d| Ok((d, d.watchers()?, d.op(&ctx.stop, Some(timeout))?)))
    {
        Ok(all) => all,
        Err(d) => return d.into(),
    };
    let Some((cluster_id, connection_id, attach_id)) = ids(state) else {
        return Diagnostic::error(
            "Invalid state",
            "The state has no cluster_id, private_link_connection_id or attach_domain_id.",
        )
        .into();
    };
    // A connection delete running alongside (Terraform deletes both at
    // once when the dependency is not visible) waits for this detach.
    let _detaching = data.ownership.detaching(&connection_id);
    let client = &watch.client().within(&op);
    let removal = waits::remove(
        &op,
        DETACH_ATTEMPTS,
        || client.detach_domains(&cluster_id, &connection_id, &attach_id),
        || async {
            let found = waits::find_connection(client, &cluster_id, &connection_id).await?;
            Ok(
                match found
                    .as_ref()
                    .and_then(|c| waits::find_attachment(c, &attach_id))
                {
                    None => Seen::Gone,
                    Some(a) if waits::attachment_going_away(a) => Seen::GoingAway,
                    Some(_) => Seen::Present,
                },
            )
        },
    );
    match removal.await {
        Ok(Removal::Gone) => return Diagnostics::new(),
        Ok(Removal::Accepted) => {}
        Err(RemovalError::NotSent(_)) => {
            return Diagnostic::error(
                "Interrupted before detaching the domains",
                format!("The detach request was still waiting for the API rate limit budget and was not sent: attachment {attach_id} stays in the state."),
            )
            .into()
        }
        Err(RemovalError::Interrupted(_)) => {
            return Diagnostic::error(
                "Interrupted while detaching the domains",
                format!("Detaching {attach_id} may not have been requested; it stays in the state. Apply again to finish."),
            )
            .into()
        }
        Err(RemovalError::Failed(e)) => {
            return api_error("Could not detach the domains", &e).into()
        }
    }
    watch.wrote(&connection_id);
    let gone =
        waits::wait_attachment_detached(watch, &op, &cluster_id, &connection_id, &attach_id).await;
    let mut diags = Diagnostics::new();
    match gone {
        Ok(_) => {}
        Err(WaitError::Timeout { last, .. }) => diags.error(
            "Timed out waiting for the domains to be detached",
            format!("Attachment {attach_id} is still {} after the delete timeout; it stays in the state. Apply again to keep waiting.", last.map(|s| s.to_string()).unwrap_or_default()),
        ),
        Err(WaitError::Stopped { .. }) => diags.error(
            "Interrupted while detaching the domains",
            format!("Detaching {attach_id} was requested but not confirmed; it stays in the state. Apply again to finish."),
        ),
        Err(WaitError::Api { error, .. }) => diags.push(api_error("Error while waiting for the domains to be detached", &error)),
        Err(WaitError::Gone { .. }) => {}
    }
    diags
}

// ---- import -----------------------------------------------------------------------------------

async fn import(ctx: &Context<ProviderData>, id: &str) -> ApplyOutcome {
    let parts = match validate::import_id(
        id,
        &[
            "cluster_id",
            "private_link_connection_id",
            "attach_domain_id",
        ],
    ) {
        Ok(p) => p,
        Err(message) => {
            return ApplyOutcome::failed(import_error("Invalid import ID", &message, None, true))
        }
    };
    let (data, op) = match ctx.data().and_then(|d| Ok((d, d.op(&ctx.stop, None)?))) {
        Ok(pair) => pair,
        Err(d) => return ApplyOutcome::failed(d),
    };
    let client = match data.client_within(&op) {
        Ok(c) => c,
        Err(d) => return ApplyOutcome::failed(d),
    };
    let client = &client;
    let base = Value::object([("cluster_id", Value::string(parts[0]))]);
    let c = match import::connection(data, client, parts[0], parts[1], true).await {
        Ok(c) => c,
        Err(d) => return ApplyOutcome::failed(d),
    };
    match waits::find_attachment(&c, parts[2]) {
        Some(a) => {
            let (state, warning) = state_from(a, &c, &base);
            ApplyOutcome {
                state: Some(state),
                diags: warning.map(Diagnostics::from).unwrap_or_default(),
            }
        }
        None => ApplyOutcome::failed(import_error(
            "Cannot import domains that are not attached",
            &format!(
                "Connection {} has no attachment {}{}.",
                parts[1],
                parts[2],
                c.attached_domains
                    .first()
                    .map(|a| format!(" (its attachment is {})", a.attach_domain_id))
                    .unwrap_or_default()
            ),
            Some(parts[0]),
            true,
        )),
    }
}

// ---- the resource ------------------------------------------------------------------------------

#[async_trait]
impl Resource<ProviderData> for PrivateLinkDomains {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn import_id_format(&self) -> Option<&'static str> {
        Some("<cluster_id>,<private_link_connection_id>,<attach_domain_id>")
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
        if !plan.is_create() {
            return;
        }
        let Ok(data) = ctx.data() else { return };
        let Ok(op) = data.op(&ctx.stop, None) else {
            return;
        };
        let Ok(client) = data.client_within(&op) else {
            return;
        };
        check_cloud(data, &client, plan.config, diags).await;
        if diags.has_errors() {
            return;
        }
        preview(data, &client, plan, diags).await;
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

    /// The documented domain names are the cloud table's (display only).
    #[test]
    fn the_description_shows_each_clouds_domain_names() {
        let description = schema().description;
        for c in cloud::CLOUDS {
            assert!(description.contains(c.domain_template), "{}", c.block);
        }
    }

    #[test]
    fn confluent_needs_a_unique_name() {
        let config = Value::object([
            ("type", Value::string("CONFLUENT")),
            ("unique_name", Value::Null),
        ]);
        let mut d = Diagnostics::new();
        validate_config(&config, &mut d);
        assert_eq!(d.0[0].path, Some(AttributePath::attr("unique_name")));
        let config = Value::object([
            ("type", Value::string("CONFLUENT")),
            ("unique_name", Value::unknown()),
        ]);
        let mut d = Diagnostics::new();
        validate_config(&config, &mut d);
        assert!(d.is_empty());
    }
}
