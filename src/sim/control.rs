//! The control surface under `/_sim/` (no auth, not rate limited, not
//! counted): stats, the event stream, the simulated cloud's endpoint
//! services and clusters, out-of-band changes for drift tests, faults, API
//! keys and the clock.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::{Stream, StreamExt};

use crate::app::App;
use crate::error::{parse_json, ApiError};
use crate::faults::FaultConfig;
use crate::model::{Cluster, EndpointService};
use crate::seed::{SeedCluster, SeedService};
use crate::wire::{rfc3339, AttachDomainJson, ConnectionJson};

type Answer = Result<Json<Value>, ApiError>;

/// The `/_sim` routes.
pub fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/_sim/stats", get(stats))
        .route("/_sim/stats/reset", post(reset_stats))
        .route("/_sim/events", get(events))
        .route("/_sim/world", get(world))
        .route(
            "/_sim/endpoint-services",
            get(services).post(register_service),
        )
        .route("/_sim/endpoint-services/{name}/accept", post(accept))
        .route("/_sim/clusters", get(clusters).post(add_cluster))
        .route("/_sim/clusters/{cluster_id}/state", post(set_cluster_state))
        .route(
            "/_sim/private-link-connections/{id}",
            delete(remove_connection),
        )
        .route(
            "/_sim/private-link-connections/{id}/fail",
            post(fail_connection),
        )
        .route(
            "/_sim/private-link-connections/{id}/domains",
            delete(remove_domains),
        )
        .route(
            "/_sim/private-link-connections/{id}/domains/fail",
            post(fail_domains),
        )
        .route("/_sim/faults", get(faults).post(set_faults))
        .route("/_sim/auth/expire-nonces", post(expire_nonces))
        .route("/_sim/api-keys", post(add_api_key))
        .route("/_sim/clock", get(clock))
        .route("/_sim/clock/advance", post(advance_clock))
}

/// An endpoint service in the seed file's shape.
#[derive(Serialize)]
struct ServiceOut<'a> {
    name: &'a str,
    cloud_provider: &'static str,
    region: &'a str,
    az_ids: &'a [String],
    allowed_principals: &'a [String],
    acceptance_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain_name_template: Option<&'a str>,
}

impl<'a> From<&'a EndpointService> for ServiceOut<'a> {
    fn from(s: &'a EndpointService) -> Self {
        ServiceOut {
            name: &s.name,
            cloud_provider: s.cloud.as_str(),
            region: &s.region,
            az_ids: &s.az_ids,
            allowed_principals: &s.allowed_principals,
            acceptance_required: s.acceptance_required,
            domain_name_template: s.domain_template.as_ref().map(|t| t.as_str()),
        }
    }
}

/// A cluster in the seed file's shape.
#[derive(Serialize)]
struct ClusterOut<'a> {
    cluster_id: &'a str,
    display_name: &'a str,
    cloud_provider: &'static str,
    region_id: &'a str,
    state: &'a str,
    account_id: &'a str,
    az_ids: &'a [String],
}

impl<'a> From<&'a Cluster> for ClusterOut<'a> {
    fn from(c: &'a Cluster) -> Self {
        ClusterOut {
            cluster_id: &c.id,
            display_name: &c.display_name,
            cloud_provider: c.cloud.as_str(),
            region_id: &c.region_id,
            state: &c.state,
            account_id: &c.account_id,
            az_ids: &c.az_ids,
        }
    }
}

fn to_json<T: Serialize>(value: T) -> Json<Value> {
    Json(serde_json::to_value(value).unwrap_or(Value::Null))
}

async fn stats(State(app): State<Arc<App>>) -> Json<Value> {
    to_json(app.stats.snapshot())
}

async fn reset_stats(State(app): State<Arc<App>>) -> Json<Value> {
    app.stats.reset();
    to_json(app.stats.snapshot())
}

/// Server-sent events: a `subscribed` comment, then one JSON event per state change.
async fn events(
    State(app): State<Arc<App>>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let receiver = app.subscribe();
    let hello = tokio_stream::once(Ok(SseEvent::default().comment("subscribed")));
    let changes = BroadcastStream::new(receiver).map(|item| {
        Ok(match item {
            Ok(event) => SseEvent::default()
                .json_data(&event)
                .unwrap_or_else(|_| SseEvent::default().comment("unserializable event")),
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                SseEvent::default().comment(format!("missed {n} events"))
            }
        })
    });
    Sse::new(hello.chain(changes)).keep_alive(KeepAlive::default())
}

async fn world(State(app): State<Arc<App>>) -> Json<Value> {
    app.with_world(|w| {
        let connections: Vec<ConnectionJson> = w
            .clusters()
            .iter()
            .flat_map(|c| w.connections_of(&c.id))
            .map(|c| ConnectionJson::new(c, true))
            .collect();
        Json(json!({
            "clusters": w.clusters().iter().map(ClusterOut::from).collect::<Vec<_>>(),
            "endpoint_services": w.services().iter().map(ServiceOut::from).collect::<Vec<_>>(),
            "private_link_connections": connections,
        }))
    })
}

async fn services(State(app): State<Arc<App>>) -> Json<Value> {
    app.with_world(|w| {
        to_json(
            w.services()
                .iter()
                .map(ServiceOut::from)
                .collect::<Vec<_>>(),
        )
    })
}

async fn register_service(State(app): State<Arc<App>>, body: Bytes) -> Answer {
    let entry: SeedService = parse_json(&body)?;
    let service = entry.build().map_err(ApiError::invalid)?;
    let out = to_json(ServiceOut::from(&service));
    app.with_world(|w| w.register_service(service));
    Ok(out)
}

async fn accept(State(app): State<Arc<App>>, Path(name): Path<String>) -> Answer {
    let accepted = app.with_world(|w| w.accept(&name))?;
    Ok(Json(json!({ "accepted": accepted })))
}

async fn clusters(State(app): State<Arc<App>>) -> Json<Value> {
    app.with_world(|w| {
        to_json(
            w.clusters()
                .iter()
                .map(ClusterOut::from)
                .collect::<Vec<_>>(),
        )
    })
}

async fn add_cluster(State(app): State<Arc<App>>, body: Bytes) -> Answer {
    let entry: SeedCluster = parse_json(&body)?;
    let cluster = entry
        .build(app.clock.system_now())
        .map_err(ApiError::invalid)?;
    let cluster = app.with_world(|w| w.add_cluster(cluster))?;
    Ok(to_json(ClusterOut::from(&cluster)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    state: String,
}

async fn set_cluster_state(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let body: StateBody = parse_json(&body)?;
    let cluster = app.with_world(|w| w.set_cluster_state(&id, &body.state))?;
    Ok(to_json(ClusterOut::from(&cluster)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct FailBody {
    message: Option<String>,
}

fn fail_message(body: &[u8]) -> Result<String, ApiError> {
    let body: FailBody = if body.iter().all(u8::is_ascii_whitespace) {
        FailBody::default()
    } else {
        parse_json(body)?
    };
    Ok(body
        .message
        .unwrap_or_else(|| "failed by the simulator's control surface".to_string()))
}

async fn fail_connection(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Answer {
    let message = fail_message(&body)?;
    let conn = app.with_world(|w| w.fail_connection(&id, &message))?;
    Ok(to_json(ConnectionJson::new(&conn, true)))
}

async fn remove_connection(State(app): State<Arc<App>>, Path(id): Path<String>) -> Answer {
    let conn = app.with_world(|w| w.remove_connection(&id))?;
    Ok(to_json(ConnectionJson::new(&conn, true)))
}

async fn remove_domains(State(app): State<Arc<App>>, Path(id): Path<String>) -> Answer {
    let (attachment, conn) = app.with_world(|w| {
        let a = w.remove_domains(&id)?;
        let conn = w.connection_by_id(&id)?.clone();
        Ok::<_, ApiError>((a, conn))
    })?;
    Ok(to_json(AttachDomainJson::new(&attachment, &conn)))
}

async fn fail_domains(State(app): State<Arc<App>>, Path(id): Path<String>, body: Bytes) -> Answer {
    let message = fail_message(&body)?;
    let (attachment, conn) = app.with_world(|w| {
        let a = w.fail_domains(&id, &message)?;
        let conn = w.connection_by_id(&id)?.clone();
        Ok::<_, ApiError>((a, conn))
    })?;
    Ok(to_json(AttachDomainJson::new(&attachment, &conn)))
}

async fn faults(State(app): State<Arc<App>>) -> Json<Value> {
    to_json(app.faults.get())
}

async fn set_faults(State(app): State<Arc<App>>, body: Bytes) -> Answer {
    let config: FaultConfig = parse_json(&body)?;
    config.check().map_err(ApiError::invalid)?;
    app.faults.set(config);
    log::info!(
        "faults: error_rate {} drop_rate {} latency {} ms",
        config.error_rate,
        config.drop_rate,
        config.latency_ms
    );
    Ok(to_json(config))
}

async fn expire_nonces(State(app): State<Arc<App>>) -> Json<Value> {
    app.auth.expire_nonces();
    Json(json!({ "expired": true }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    public_key: String,
    private_key: String,
    #[serde(default)]
    read_only: bool,
}

async fn add_api_key(State(app): State<Arc<App>>, body: Bytes) -> Answer {
    let body: KeyBody = parse_json(&body)?;
    if body.public_key.is_empty() || body.private_key.is_empty() || body.public_key.contains(':') {
        return Err(ApiError::invalid(
            "public_key and private_key must be non-empty, and public_key must not contain ':'",
        ));
    }
    app.auth
        .add_key(&body.public_key, &body.private_key, body.read_only);
    Ok(Json(
        json!({ "public_key": body.public_key, "read_only": body.read_only }),
    ))
}

/// The clock as `GET /_sim/clock` shows it.
fn clock_json(app: &App) -> Json<Value> {
    Json(json!({
        "now": rfc3339(app.clock.system_now()),
        "offset_ms": app.clock.offset().as_millis() as u64,
    }))
}

async fn clock(State(app): State<Arc<App>>) -> Json<Value> {
    clock_json(&app)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    ms: u64,
}

/// Moves the clock forward; what became due happens before the answer.
async fn advance_clock(State(app): State<Arc<App>>, body: Bytes) -> Answer {
    let body: AdvanceBody = parse_json(&body)?;
    let (offset, fired) = app
        .advance_clock(Duration::from_millis(body.ms))
        .map_err(ApiError::invalid)?;
    log::info!(
        "clock advanced {} ms (now {} ms ahead of real time), {fired} transition(s) applied",
        body.ms,
        offset.as_millis()
    );
    let Json(mut answer) = clock_json(&app);
    answer["transitions_applied"] = json!(fired);
    Ok(Json(answer))
}
