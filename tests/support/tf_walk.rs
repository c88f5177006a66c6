//! A model of Terraform's walk, driving the provider's real resources
//! (`framework::Resource`, from the provider's composition root) in
//! process, over an [`ApiModel`] transport.
//!
//! What it keeps of Terraform:
//! - Processes: `terraform apply` plans in one provider process and applies
//!   in another; `terraform destroy` refreshes and plans in one and applies
//!   in another. Each process has its own client and provider data.
//! - Whole-resource ordering: in an apply no domains instance starts before
//!   every connection is created; in a destroy no connection is deleted
//!   before every domains instance is destroyed.
//! - Parallelism: at most `parallelism` operations at a time per process
//!   (a semaphore, first come first served, in instance order).
//! - The refresh of a destroy (a read of every instance), the plan-time
//!   and the apply-time `PlanResourceChange` (with its `modify_plan`) of
//!   every instance.
//!
//! Values are built from the resources' schemas, as the plugin server
//! decodes them: every attribute present, null unless configured.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use tidbcloud_provider::api::{Client, ClientOptions};
use tidbcloud_provider::framework::plan;
use tidbcloud_provider::framework::resource::{Context, PlanChange, StopSignal};
use tidbcloud_provider::framework::value::{Type, Value};
use tidbcloud_provider::framework::{Diagnostics, Provider, Resource};
use tidbcloud_provider::provider::TidbCloudProvider;
use tidbcloud_provider::services::ProviderData;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::api_model::{ApiModel, CLUSTER, SERVICE};

pub const CONNECTION: &str = "tidbcloud_private_link_connection";
pub const DOMAINS: &str = "tidbcloud_private_link_domains";

/// The provider data of one process over `client`. The one place that
/// builds it: its signature follows the waiting core's.
pub fn provider_data(client: Client) -> ProviderData {
    ProviderData::new(client)
}

/// One provider process of workspace `workspace` on API key `key`.
pub fn process(model: &ApiModel, key: &str, workspace: usize) -> Context<ProviderData> {
    let client = Client::with_transport(
        "https://model.invalid",
        model.transport(key, workspace),
        ClientOptions::default(),
    );
    Context::new(Some(Arc::new(provider_data(client))), StopSignal::never())
}

fn resource(name: &str) -> Arc<dyn Resource<ProviderData>> {
    TidbCloudProvider
        .resources()
        .into_iter()
        .find(|r| r.type_name() == name)
        .unwrap_or_else(|| panic!("the provider has no resource {name}"))
}

/// A value of `ty` with every attribute null (an object), or null.
fn nulls(ty: &Type) -> Value {
    match ty {
        Type::Object(attrs) => {
            Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect())
        }
        _ => Value::Null,
    }
}

fn object_type<'a>(ty: &'a Type, name: &str) -> &'a Type {
    match ty {
        Type::Object(attrs) => attrs
            .get(name)
            .unwrap_or_else(|| panic!("no attribute {name}")),
        _ => panic!("not an object"),
    }
}

/// The display name of connection `index` of `workspace`.
pub fn display_name(workspace: usize, index: usize) -> String {
    format!("w{workspace}-c{index}")
}

/// `(workspace, index)` of a display name made by [`display_name`].
pub fn parse_display_name(name: &str) -> Option<(usize, usize)> {
    let (w, c) = name.strip_prefix('w')?.split_once("-c")?;
    Some((w.parse().ok()?, c.parse().ok()?))
}

/// The configuration of connection `index` of `workspace`.
pub fn connection_config(workspace: usize, index: usize) -> Value {
    let ty = resource(CONNECTION).schema().value_type();
    let mut config = nulls(&ty);
    config.set_attr("cluster_id", Value::string(CLUSTER));
    config.set_attr(
        "display_name",
        Value::string(display_name(workspace, index)),
    );
    let mut aws = nulls(object_type(&ty, "aws_endpoint_service"));
    aws.set_attr("name", Value::string(SERVICE));
    config.set_attr("aws_endpoint_service", aws);
    config
}

/// The configuration of the managed domains of a connection; its id is
/// unknown until the connection is created.
pub fn domains_config(connection_id: Option<&str>) -> Value {
    let ty = resource(DOMAINS).schema().value_type();
    let mut config = nulls(&ty);
    config.set_attr("cluster_id", Value::string(CLUSTER));
    config.set_attr(
        "private_link_connection_id",
        connection_id.map_or_else(Value::unknown, Value::string),
    );
    config.set_attr("type", Value::string("TIDBCLOUD_MANAGED"));
    config
}

/// What one command of one workspace did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// From the command's start to its end, by tokio's clock.
    pub elapsed: Duration,
    /// Error diagnostics, `summary: detail`.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

impl Outcome {
    fn take(&mut self, diags: Diagnostics, what: &str) {
        for d in diags.0 {
            let text = format!("{what}: {}: {}", d.summary, d.detail);
            match d.severity {
                tidbcloud_provider::framework::diag::Severity::Error => self.errors.push(text),
                _ => self.warnings.push(text),
            }
        }
    }

    /// Error diagnostics that mention the rate limit (a 429 that reached
    /// the user).
    pub fn rate_limit_errors(&self) -> usize {
        self.errors
            .iter()
            .filter(|e| {
                let e = e.to_ascii_lowercase();
                e.contains("rate limit") || e.contains("429")
            })
            .count()
    }
}

/// What Terraform keeps between commands: the state of every instance.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub connections: Vec<Option<Value>>,
    pub domains: Vec<Option<Value>>,
}

/// The plan of a new instance: the generic rules, then the resource's
/// `modify_plan`.
async fn plan_create(
    ctx: &Context<ProviderData>,
    r: &dyn Resource<ProviderData>,
    config: &Value,
    out: &mut Outcome,
    what: &str,
) -> Value {
    let schema = r.schema();
    let generic = plan::plan(&schema, &Value::Null, config, config);
    let mut change = PlanChange {
        prior: &Value::Null,
        config,
        planned: generic.planned,
        requires_replace: generic.requires_replace,
    };
    let mut diags = Diagnostics::new();
    r.modify_plan(ctx, &mut change, &mut diags).await;
    out.take(diags, what);
    change.planned
}

/// The plan of a destroy of an instance (what `terraform destroy` asks).
async fn plan_destroy(
    ctx: &Context<ProviderData>,
    r: &dyn Resource<ProviderData>,
    prior: &Value,
    out: &mut Outcome,
    what: &str,
) {
    let mut change = PlanChange {
        prior,
        config: &Value::Null,
        planned: Value::Null,
        requires_replace: Vec::new(),
    };
    let mut diags = Diagnostics::new();
    r.modify_plan(ctx, &mut change, &mut diags).await;
    out.take(diags, what);
}

/// Runs `f(i)` for every `i` in `0..n`, at most `parallelism` at a time,
/// in order; returns the results in order.
async fn walk<T, F, Fut>(n: usize, parallelism: usize, f: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let slots = Semaphore::new(parallelism.max(1));
    let slots = &slots;
    let f = &f;
    join_all((0..n).map(|i| async move {
        let _slot = slots.acquire().await.expect("semaphore");
        f(i).await
    }))
    .await
}

/// `terraform apply` of `n` new connections of `workspace`, and with
/// `domains` as many managed domains: the plan in one process, the apply
/// in another.
pub async fn apply(
    model: &ApiModel,
    key: &str,
    workspace: usize,
    n: usize,
    domains: bool,
    parallelism: usize,
) -> (Outcome, State) {
    let started = Instant::now();
    let conn = resource(CONNECTION);
    let dom = resource(DOMAINS);
    let mut out = Outcome::default();

    // The plan.
    {
        let ctx = process(model, key, workspace);
        let plans = walk(n, parallelism, |i| {
            let (ctx, conn) = (&ctx, &conn);
            async move {
                let mut o = Outcome::default();
                plan_create(
                    ctx,
                    conn.as_ref(),
                    &connection_config(workspace, i),
                    &mut o,
                    "plan",
                )
                .await;
                o
            }
        })
        .await;
        for o in plans {
            out.errors.extend(o.errors);
            out.warnings.extend(o.warnings);
        }
        if domains {
            let plans = walk(n, parallelism, |_| {
                let (ctx, dom) = (&ctx, &dom);
                async move {
                    let mut o = Outcome::default();
                    plan_create(ctx, dom.as_ref(), &domains_config(None), &mut o, "plan").await;
                    o
                }
            })
            .await;
            for o in plans {
                out.errors.extend(o.errors);
                out.warnings.extend(o.warnings);
            }
        }
    }
    let mut state = State {
        connections: vec![None; n],
        domains: vec![None; if domains { n } else { 0 }],
    };
    if !out.errors.is_empty() {
        out.elapsed = started.elapsed();
        return (out, state);
    }

    // The apply.
    let ctx = process(model, key, workspace);
    let created = walk(n, parallelism, |i| {
        let (ctx, conn) = (&ctx, &conn);
        async move {
            let mut o = Outcome::default();
            let config = connection_config(workspace, i);
            let planned = plan_create(ctx, conn.as_ref(), &config, &mut o, "apply plan").await;
            if !o.errors.is_empty() {
                return (o, None);
            }
            let result = conn.create(ctx, &planned, &config).await;
            let failed = result.diags.has_errors();
            o.take(result.diags, &format!("create {CONNECTION}[{i}]"));
            // A failed create keeps its state (tainted), and its dependents
            // do not run.
            (o, result.state.filter(|_| !failed))
        }
    })
    .await;
    for (i, (o, s)) in created.into_iter().enumerate() {
        out.errors.extend(o.errors);
        out.warnings.extend(o.warnings);
        state.connections[i] = s;
    }
    if domains && out.errors.is_empty() {
        let ids: Vec<Option<String>> = state
            .connections
            .iter()
            .map(|s| {
                s.as_ref()
                    .and_then(|s| s.str_attr("private_link_connection_id").map(str::to_string))
            })
            .collect();
        let attached = walk(n, parallelism, |i| {
            let (ctx, dom, ids) = (&ctx, &dom, &ids);
            async move {
                let mut o = Outcome::default();
                let Some(id) = ids[i].as_deref() else {
                    return (o, None);
                };
                let config = domains_config(Some(id));
                let planned = plan_create(ctx, dom.as_ref(), &config, &mut o, "apply plan").await;
                if !o.errors.is_empty() {
                    return (o, None);
                }
                let result = dom.create(ctx, &planned, &config).await;
                o.take(result.diags, &format!("create {DOMAINS}[{i}]"));
                (o, result.state)
            }
        })
        .await;
        for (i, (o, s)) in attached.into_iter().enumerate() {
            out.errors.extend(o.errors);
            out.warnings.extend(o.warnings);
            state.domains[i] = s;
        }
    }
    out.elapsed = started.elapsed();
    (out, state)
}

/// `terraform destroy` of `state`: the refresh and the plan in one
/// process, the deletes in another (domains first, then connections).
pub async fn destroy(
    model: &ApiModel,
    key: &str,
    workspace: usize,
    state: &State,
    parallelism: usize,
) -> Outcome {
    let started = Instant::now();
    let conn = resource(CONNECTION);
    let dom = resource(DOMAINS);
    let mut out = Outcome::default();

    // The refresh and the plan.
    let refreshed = {
        let ctx = process(model, key, workspace);
        let read =
            |r: Arc<dyn Resource<ProviderData>>, states: Vec<Option<Value>>, what: &'static str| {
                let ctx = &ctx;
                async move {
                    walk(states.len(), parallelism, |i| {
                        let (r, states) = (&r, &states);
                        async move {
                            let mut o = Outcome::default();
                            let Some(s) = &states[i] else {
                                return (o, None);
                            };
                            let result = r.read(ctx, s).await;
                            let kept = if result.diags.has_errors() {
                                Some(s.clone())
                            } else {
                                result.state
                            };
                            o.take(result.diags, &format!("refresh {what}[{i}]"));
                            if let Some(s) = &kept {
                                plan_destroy(ctx, r.as_ref(), s, &mut o, "plan").await;
                            }
                            (o, kept)
                        }
                    })
                    .await
                }
            };
        let connections = read(conn.clone(), state.connections.clone(), CONNECTION).await;
        let domains = read(dom.clone(), state.domains.clone(), DOMAINS).await;
        let mut refreshed = State::default();
        for (o, s) in connections {
            out.errors.extend(o.errors);
            out.warnings.extend(o.warnings);
            refreshed.connections.push(s);
        }
        for (o, s) in domains {
            out.errors.extend(o.errors);
            out.warnings.extend(o.warnings);
            refreshed.domains.push(s);
        }
        refreshed
    };
    if !out.errors.is_empty() {
        out.elapsed = started.elapsed();
        return out;
    }

    // The apply: every domains instance, then every connection.
    let ctx = process(model, key, workspace);
    for (r, states, what) in [
        (&dom, &refreshed.domains, DOMAINS),
        (&conn, &refreshed.connections, CONNECTION),
    ] {
        let deleted = walk(states.len(), parallelism, |i| {
            let ctx = &ctx;
            async move {
                let mut o = Outcome::default();
                if let Some(s) = &states[i] {
                    let diags = r.delete(ctx, s).await;
                    o.take(diags, &format!("destroy {what}[{i}]"));
                }
                o
            }
        })
        .await;
        for o in deleted {
            out.errors.extend(o.errors);
            out.warnings.extend(o.warnings);
        }
        if !out.errors.is_empty() {
            break;
        }
    }
    out.elapsed = started.elapsed();
    out
}
