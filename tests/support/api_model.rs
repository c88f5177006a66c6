//! An in-process model of the TiDB Cloud API, for runs under tokio's
//! paused clock: a [`Transport`] that answers every call the provider makes
//! (the cluster, listings with `pageSize`, `pageToken` and `state`, one
//! connection, create, delete, attach, dry run, detach, availability zones).
//!
//! - Time: read only from [`tokio::time::Instant`], so a paused clock drives
//!   every transition, the rate window and the `Date` header.
//! - Settle times: each operation (a create, delete, attach or detach of one
//!   connection) takes the time [`ModelConfig::settle`] gives it, looked up
//!   by the connection's display name and the operation's kind, so that a
//!   reference schedule can know the same times.
//! - The rate limit, per key, under the simulator's rule: a window starts
//!   at the first request after the previous window ended, and every
//!   request counts, those answered 429 too. Answers carry
//!   `X-Ratelimit-Limit-Minute`, `-Remaining-Minute` and `-Reset`.
//! - Another client on a key ([`ApiModel::start_other_client`]): ⌊B/2⌋
//!   requests per window, evenly spaced, never backing off.
//! - Counters of requests by kind, of 429s, per workspace.
//!
//! The simulator (`src/sim`) is the reference for behaviour; nothing of it
//! is imported.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use serde_json::{json, Value};
use tidbcloud_provider::api::transport::{ApiRequest, ApiResponse, Transport};
use tidbcloud_provider::api::ApiError;
use tokio::time::Instant;

/// The cluster every connection of the model belongs to.
pub const CLUSTER: &str = "1000000000000000001";
/// The endpoint service the model accepts.
pub const SERVICE: &str = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef";
/// The availability zones of the cluster and of every endpoint.
pub const AZS: [&str; 2] = ["usw2-az1", "usw2-az2"];
/// The wall-clock time of the model's start, 2025-03-04T10:00:00Z.
const EPOCH_SECS: u64 = 1_741_082_400;

/// What a request is, for the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Cluster,
    List,
    Get,
    Create,
    Delete,
    DryRun,
    Attach,
    Detach,
    Zones,
    Other,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Cluster,
        Kind::List,
        Kind::Get,
        Kind::Create,
        Kind::Delete,
        Kind::DryRun,
        Kind::Attach,
        Kind::Detach,
        Kind::Zones,
        Kind::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Cluster => "cluster",
            Kind::List => "list",
            Kind::Get => "get",
            Kind::Create => "create",
            Kind::Delete => "delete",
            Kind::DryRun => "dry-run",
            Kind::Attach => "attach",
            Kind::Detach => "detach",
            Kind::Zones => "zones",
            Kind::Other => "other",
        }
    }
}

/// An operation whose outcome takes a settle time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    Create,
    Delete,
    Attach,
    Detach,
}

/// The settle time of one operation: by the connection's display name.
pub type SettleFn = Arc<dyn Fn(&str, Op) -> Duration + Send + Sync>;

/// How the model behaves.
#[derive(Clone)]
pub struct ModelConfig {
    /// Requests per window and key; 0 turns the limit off.
    pub budget: u64,
    pub window: Duration,
    pub settle: SettleFn,
    /// Once set, every request fails as if the connection were refused
    /// (a harness stopping a run that does not end).
    pub abort: Option<Arc<std::sync::atomic::AtomicBool>>,
}

impl ModelConfig {
    /// Every operation takes `settle`.
    pub fn uniform(budget: u64, window: Duration, settle: Duration) -> ModelConfig {
        ModelConfig {
            budget,
            window,
            settle: Arc::new(move |_, _| settle),
            abort: None,
        }
    }
}

/// Requests counted by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub by_kind: BTreeMap<Kind, u64>,
    /// Answered 429.
    pub rejected: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.by_kind.values().sum()
    }
    pub fn of(&self, kind: Kind) -> u64 {
        self.by_kind.get(&kind).copied().unwrap_or(0)
    }
    fn add(&mut self, kind: Kind, rejected: bool) {
        *self.by_kind.entry(kind).or_default() += 1;
        if rejected {
            self.rejected += 1;
        }
    }
    /// `kind=count` for the kinds sent, e.g. `list=3 create=10`.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .by_kind
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{}={n}", k.name()))
            .collect();
        if self.rejected > 0 {
            parts.push(format!("429={}", self.rejected));
        }
        parts.join(" ")
    }
}

/// One request as the model saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Duration,
    pub workspace: usize,
    pub kind: Kind,
    pub status: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnState {
    Creating,
    Active,
    Deleting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DomState {
    Creating,
    Succeeded,
    Deleting,
}

#[derive(Debug, Clone)]
struct Attachment {
    id: String,
    unique_name: String,
    state: DomState,
    /// When the transitional state ends.
    until: Instant,
    created: Instant,
}

#[derive(Debug, Clone)]
struct Conn {
    id: String,
    display_name: String,
    state: ConnState,
    until: Instant,
    created: Instant,
    attachment: Option<Attachment>,
}

struct Window {
    start: Instant,
    count: u64,
}

struct State {
    next: u64,
    connections: BTreeMap<u64, Conn>,
    windows: HashMap<String, Window>,
    counts: HashMap<usize, Counts>,
    log: Vec<Logged>,
}

/// The model; cheap to clone (clones share the world).
#[derive(Clone)]
pub struct ApiModel {
    config: ModelConfig,
    start: Instant,
    state: Arc<Mutex<State>>,
}

/// The answer of the model's API part, before the rate limit headers.
struct Answer {
    status: u16,
    body: Value,
}

fn ok(body: Value) -> Answer {
    Answer { status: 200, body }
}

fn error(status: u16, code: i32, message: impl Into<String>) -> Answer {
    Answer {
        status,
        body: json!({"code": code, "message": message.into(), "details": []}),
    }
}

fn not_found(what: impl Into<String>) -> Answer {
    error(404, 5, what)
}

fn precondition(what: impl Into<String>) -> Answer {
    error(400, 9, what)
}

impl ApiModel {
    /// A model whose clock starts now (tokio's clock).
    pub fn new(config: ModelConfig) -> ApiModel {
        ApiModel {
            config,
            start: Instant::now(),
            state: Arc::new(Mutex::new(State {
                next: 1,
                connections: BTreeMap::new(),
                windows: HashMap::new(),
                counts: HashMap::new(),
                log: Vec::new(),
            })),
        }
    }

    /// A transport for `workspace` (a process of it) on the API key `key`.
    pub fn transport(&self, key: &str, workspace: usize) -> ModelTransport {
        ModelTransport {
            model: self.clone(),
            key: key.to_string(),
            workspace,
        }
    }

    /// Since the model started, by tokio's clock.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(self.start)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Requests of `workspace` so far.
    pub fn counts(&self, workspace: usize) -> Counts {
        self.lock()
            .counts
            .get(&workspace)
            .cloned()
            .unwrap_or_default()
    }

    /// Forgets the counters and the log.
    pub fn reset_counts(&self) {
        let mut s = self.lock();
        s.counts.clear();
        s.log.clear();
    }

    /// Every request since the last reset.
    pub fn log(&self) -> Vec<Logged> {
        self.lock().log.clone()
    }

    /// Connections left in the model (any state).
    pub fn connections_left(&self) -> usize {
        let now = Instant::now();
        let mut s = self.lock();
        settle_all(&mut s, now);
        s.connections.len()
    }

    /// Connections that are ACTIVE with SUCCEEDED domains, and ACTIVE ones.
    pub fn settled(&self) -> (usize, usize) {
        let now = Instant::now();
        let mut s = self.lock();
        settle_all(&mut s, now);
        let active = s
            .connections
            .values()
            .filter(|c| c.state == ConnState::Active)
            .count();
        let with_domains = s
            .connections
            .values()
            .filter(|c| {
                c.state == ConnState::Active
                    && c.attachment
                        .as_ref()
                        .is_some_and(|a| a.state == DomState::Succeeded)
            })
            .count();
        (with_domains, active)
    }

    /// When the current window of `key` ends, if one is open.
    pub fn window_end(&self, key: &str) -> Option<Instant> {
        let now = Instant::now();
        let s = self.lock();
        s.windows
            .get(key)
            .map(|w| w.start + self.config.window)
            .filter(|end| *end > now)
    }

    /// Another client on `key`: ⌊budget/2⌋ requests per window, evenly
    /// spaced from now, never backing off. It runs until the handle drops.
    pub fn start_other_client(&self, key: &str, workspace: usize) -> OtherClient {
        let per_window = self.config.budget / 2;
        let model = self.clone();
        let key = key.to_string();
        let task = (per_window > 0).then(|| {
            let every = self.config.window / per_window as u32;
            tokio::spawn(async move {
                let start = Instant::now();
                let mut k: u32 = 0;
                loop {
                    tokio::time::sleep_until(start + every * k).await;
                    let _ = model.hit(&key, workspace, Kind::Other, Instant::now());
                    k += 1;
                }
            })
        });
        OtherClient(task)
    }

    /// Counts a request of `key` at `now` under the simulator's rule;
    /// returns (allowed, limit, remaining, reset seconds).
    fn hit(
        &self,
        key: &str,
        workspace: usize,
        kind: Kind,
        now: Instant,
    ) -> Option<(bool, u64, u64, u64)> {
        let mut s = self.lock();
        let at = now.saturating_duration_since(self.start);
        let quota = if self.config.budget == 0 {
            None
        } else {
            let window = self.config.window;
            let w = s.windows.entry(key.to_string()).or_insert(Window {
                start: now,
                count: 0,
            });
            if now.saturating_duration_since(w.start) >= window {
                *w = Window {
                    start: now,
                    count: 0,
                };
            }
            w.count += 1;
            let left = window.saturating_sub(now.saturating_duration_since(w.start));
            let reset = (left.as_millis().div_ceil(1000) as u64).max(1);
            let budget = self.config.budget;
            Some((
                w.count <= budget,
                budget,
                budget.saturating_sub(w.count),
                reset,
            ))
        };
        let rejected = quota.is_some_and(|q| !q.0);
        s.counts.entry(workspace).or_default().add(kind, rejected);
        s.log.push(Logged {
            at,
            workspace,
            kind,
            status: if rejected { 429 } else { 0 },
        });
        quota
    }

    /// Answers one request.
    fn answer(&self, key: &str, workspace: usize, request: &ApiRequest) -> ApiResponse {
        let now = Instant::now();
        let (path, query) = match request.path.split_once('?') {
            Some((p, q)) => (p, q),
            None => (request.path.as_str(), ""),
        };
        let body: Value = request
            .body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(Value::Null);
        let route = route(&request.method, path, &body);
        let kind = route.as_ref().map_or(Kind::Other, |r| r.kind());
        let quota = self.hit(key, workspace, kind, now);
        let answer = match (quota, route) {
            (Some((false, limit, _, reset)), _) => error(
                429,
                8,
                format!("rate limit exceeded: API key {key} may make {limit} requests per window; retry in {reset} s"),
            ),
            (_, None) => not_found(format!("no route for {} {path}", request.method)),
            (_, Some(route)) => self.serve(route, query, &body, now),
        };
        let status = answer.status;
        if let Some(entry) = self.lock().log.last_mut() {
            if entry.status == 0 {
                entry.status = status;
            }
        }
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let wall = EPOCH_SECS + now.saturating_duration_since(self.start).as_secs();
        headers.insert(
            "date",
            HeaderValue::from_str(&http_date(wall)).expect("a date header"),
        );
        if let Some((_, limit, remaining, reset)) = quota {
            headers.insert("x-ratelimit-limit-minute", HeaderValue::from(limit));
            headers.insert("x-ratelimit-remaining-minute", HeaderValue::from(remaining));
            headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
        }
        ApiResponse {
            status,
            headers,
            body: serde_json::to_vec(&answer.body).expect("JSON"),
            attempts: 1,
        }
    }

    fn rfc3339(&self, t: Instant) -> String {
        rfc3339(EPOCH_SECS + t.saturating_duration_since(self.start).as_secs())
    }

    fn connection_json(&self, c: &Conn, with_domains: bool) -> Value {
        let state = match c.state {
            ConnState::Creating => "CREATING",
            ConnState::Active => "ACTIVE",
            ConnState::Deleting => "DELETING",
        };
        let mut v = json!({
            "privateLinkConnectionId": c.id,
            "clusterId": CLUSTER,
            "displayName": c.display_name,
            "state": state,
            "message": "",
            "createdBy": "model@example.com",
            "createTime": self.rfc3339(c.created),
            "updateTime": null,
            "type": "AWS_ENDPOINT_SERVICE",
            "awsEndpointService": {
                "name": SERVICE,
                "region": "us-west-2",
                "endpointId": format!("vpce-{:017x}", hash(&c.id)),
                "availabilityZoneIds": AZS,
            },
        });
        if with_domains {
            let attached: Vec<Value> = c
                .attachment
                .iter()
                .map(|a| self.attachment_json(c, a))
                .collect();
            v["attachedDomains"] = Value::Array(attached);
        }
        v
    }

    fn attachment_json(&self, c: &Conn, a: &Attachment) -> Value {
        let state = match a.state {
            DomState::Creating => "CREATING",
            DomState::Succeeded => "SUCCEEDED",
            DomState::Deleting => "DELETING",
        };
        json!({
            "attachDomainId": a.id,
            "clusterId": CLUSTER,
            "privateLinkConnectionId": c.id,
            "type": "TIDBCLOUD_MANAGED",
            "uniqueName": a.unique_name,
            "domains": domain_names(&a.unique_name).iter().map(|n| json!({"name": n, "state": state, "message": ""})).collect::<Vec<_>>(),
            "createdBy": "model@example.com",
            "createTime": self.rfc3339(a.created),
        })
    }

    fn serve(&self, route: Route, query: &str, body: &Value, now: Instant) -> Answer {
        let mut guard = self.lock();
        let s = &mut *guard;
        settle_all(s, now);
        let cluster = match &route {
            Route::Cluster(c)
            | Route::List(c)
            | Route::Create(c)
            | Route::Zones(c)
            | Route::Get(c, _)
            | Route::Delete(c, _)
            | Route::Attach(c, _, _)
            | Route::Detach(c, _) => c.clone(),
        };
        if cluster != CLUSTER {
            return not_found(format!("cluster {cluster} was not found"));
        }
        let find = |s: &State, id: &str| {
            s.connections
                .iter()
                .find(|(_, c)| c.id == id)
                .map(|(seq, _)| *seq)
        };
        match route {
            Route::Cluster(_) => ok(json!({
                "name": format!("clusters/{CLUSTER}"),
                "clusterId": CLUSTER,
                "displayName": "orders",
                "region": {
                    "name": "regions/aws-us-west-2",
                    "regionId": "aws-us-west-2",
                    "cloudProvider": "aws",
                    "displayName": "Oregon (us-west-2)",
                    "provider": "aws"
                },
                "state": "ACTIVE",
                "createTime": "2025-01-10T09:00:00Z",
            })),
            Route::Zones(_) => ok(json!({"accountId": "123456789012", "azIds": AZS})),
            Route::List(_) => {
                let params: HashMap<&str, &str> =
                    query.split('&').filter_map(|p| p.split_once('=')).collect();
                let size = params
                    .get("pageSize")
                    .and_then(|v| v.parse::<usize>().ok())
                    .filter(|n| *n > 0)
                    .unwrap_or(10)
                    .min(100);
                let after = params.get("pageToken").and_then(|v| v.parse::<u64>().ok());
                let state = params.get("state").copied();
                let matching: Vec<(&u64, &Conn)> = s
                    .connections
                    .iter()
                    .filter(|(_, c)| {
                        state.is_none_or(|st| self.connection_json(c, false)["state"] == st)
                    })
                    .collect();
                let total = matching.len();
                let rest: Vec<&(&u64, &Conn)> = matching
                    .iter()
                    .filter(|(seq, _)| after.is_none_or(|a| **seq > a))
                    .collect();
                let page: Vec<Value> = rest
                    .iter()
                    .take(size)
                    .map(|(_, c)| self.connection_json(c, false))
                    .collect();
                let next = if rest.len() > size {
                    rest[size - 1].0.to_string()
                } else {
                    String::new()
                };
                ok(json!({
                    "privateLinkConnections": page,
                    "nextPageToken": next,
                    "totalSize": total.to_string(),
                }))
            }
            Route::Create(_) => {
                let c = &body["privateLinkConnection"];
                let name = c["displayName"].as_str().unwrap_or_default().to_string();
                let service = c["awsEndpointService"]["name"].as_str().unwrap_or_default();
                if name.is_empty() || name.len() > 64 {
                    return error(400, 3, "displayName must be 1 to 64 characters");
                }
                if service != SERVICE {
                    return error(400, 3, format!("endpoint service {service} is not known"));
                }
                let seq = s.next;
                s.next += 1;
                let conn = Conn {
                    id: format!("plc-{:08x}", hash(&format!("{name}/{seq}")) as u32),
                    until: now + (self.config.settle)(&name, Op::Create),
                    display_name: name,
                    state: ConnState::Creating,
                    created: now,
                    attachment: None,
                };
                let answer = self.connection_json(&conn, true);
                s.connections.insert(seq, conn);
                ok(answer)
            }
            Route::Get(_, id) => match find(s, &id) {
                Some(seq) => ok(self.connection_json(&s.connections[&seq], true)),
                None => not_found(format!(
                    "private link connection {id} was not found in cluster {CLUSTER}"
                )),
            },
            Route::Delete(_, id) => {
                let Some(seq) = find(s, &id) else {
                    return not_found(format!(
                        "private link connection {id} was not found in cluster {CLUSTER}"
                    ));
                };
                let settle = self.config.settle.clone();
                let c = s.connections.get_mut(&seq).expect("found");
                if let Some(a) = &c.attachment {
                    return precondition(format!(
                        "private link connection {id} has attached domains: {}; detach them before deleting the connection",
                        a.id
                    ));
                }
                if c.state != ConnState::Deleting {
                    c.state = ConnState::Deleting;
                    c.until = now + settle(&c.display_name, Op::Delete);
                }
                ok(self.connection_json(c, true))
            }
            Route::Attach(_, id, validate_only) => {
                let Some(seq) = find(s, &id) else {
                    return not_found(format!(
                        "private link connection {id} was not found in cluster {CLUSTER}"
                    ));
                };
                let c = s.connections.get_mut(&seq).expect("found");
                if c.state != ConnState::Active {
                    return precondition(format!(
                        "private link connection {id} is not ACTIVE; domains can only be attached to an ACTIVE connection"
                    ));
                }
                if body["attachDomain"]["type"].as_str() != Some("TIDBCLOUD_MANAGED") {
                    return error(400, 3, "the model knows only TIDBCLOUD_MANAGED domains");
                }
                let unique_name = body["attachDomain"]["uniqueName"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        format!("u{:07x}", hash(&c.display_name) as u32 & 0x0fff_ffff)
                    });
                if validate_only {
                    return ok(json!({
                        "attachDomainId": "",
                        "clusterId": CLUSTER,
                        "privateLinkConnectionId": id,
                        "type": "TIDBCLOUD_MANAGED",
                        "uniqueName": unique_name,
                        "domains": domain_names(&unique_name).iter().map(|n| json!({"name": n})).collect::<Vec<_>>(),
                    }));
                }
                if let Some(a) = &c.attachment {
                    return error(409, 6, format!(
                        "private link connection {id} already has domains attached (attachDomainId {}); detach them first",
                        a.id
                    ));
                }
                let a = Attachment {
                    id: format!("ad-{:08x}", hash(&format!("{id}/{unique_name}")) as u32),
                    unique_name,
                    state: DomState::Creating,
                    until: now + (self.config.settle)(&c.display_name, Op::Attach),
                    created: now,
                };
                let answer = self.attachment_json(c, &a);
                c.attachment = Some(a);
                ok(answer)
            }
            Route::Detach(_, id) => {
                let Some(seq) = find(s, &id) else {
                    return not_found(format!(
                        "private link connection {id} was not found in cluster {CLUSTER}"
                    ));
                };
                let settle = self.config.settle.clone();
                let c = s.connections.get_mut(&seq).expect("found");
                let wanted = body["attachDomainId"].as_str().unwrap_or_default();
                let Some(a) = c.attachment.as_mut().filter(|a| a.id == wanted) else {
                    return not_found(format!(
                        "attached domains {wanted} were not found on private link connection {id}"
                    ));
                };
                if a.state != DomState::Deleting {
                    a.state = DomState::Deleting;
                    a.until = now + settle(&c.display_name, Op::Detach);
                }
                let a = a.clone();
                ok(self.attachment_json(c, &a))
            }
        }
    }
}

/// Moves every transitional state whose time has come.
fn settle_all(s: &mut State, now: Instant) {
    let mut gone = Vec::new();
    for (seq, c) in s.connections.iter_mut() {
        match c.state {
            ConnState::Creating if now >= c.until => c.state = ConnState::Active,
            ConnState::Deleting if now >= c.until => gone.push(*seq),
            _ => {}
        }
        if let Some(a) = &mut c.attachment {
            match a.state {
                DomState::Creating if now >= a.until => a.state = DomState::Succeeded,
                DomState::Deleting if now >= a.until => c.attachment = None,
                _ => {}
            }
        }
    }
    for seq in gone {
        s.connections.remove(&seq);
    }
}

/// The other client's task; stops when dropped.
pub struct OtherClient(Option<tokio::task::JoinHandle<()>>);

impl Drop for OtherClient {
    fn drop(&mut self) {
        if let Some(t) = &self.0 {
            t.abort();
        }
    }
}

enum Route {
    Cluster(String),
    List(String),
    Create(String),
    Zones(String),
    Get(String, String),
    Delete(String, String),
    Attach(String, String, bool),
    Detach(String, String),
}

impl Route {
    fn kind(&self) -> Kind {
        match self {
            Route::Cluster(_) => Kind::Cluster,
            Route::List(_) => Kind::List,
            Route::Create(_) => Kind::Create,
            Route::Zones(_) => Kind::Zones,
            Route::Get(..) => Kind::Get,
            Route::Delete(..) => Kind::Delete,
            Route::Attach(_, _, true) => Kind::DryRun,
            Route::Attach(_, _, false) => Kind::Attach,
            Route::Detach(..) => Kind::Detach,
        }
    }
}

fn route(method: &Method, path: &str, body: &Value) -> Option<Route> {
    let rest = path.strip_prefix("/v1beta1/clusters/")?;
    let (cluster, rest) = match rest.split_once('/') {
        Some((c, r)) => (c.to_string(), Some(r)),
        None => (rest.to_string(), None),
    };
    let Some(rest) = rest else {
        return (*method == Method::GET).then_some(Route::Cluster(cluster));
    };
    if rest == "privateLinkConnections:getAvailabilityZones" {
        return (*method == Method::GET).then_some(Route::Zones(cluster));
    }
    if rest == "privateLinkConnections" {
        return match *method {
            Method::GET => Some(Route::List(cluster)),
            Method::POST => Some(Route::Create(cluster)),
            _ => None,
        };
    }
    let one = rest.strip_prefix("privateLinkConnections/")?;
    if let Some(id) = one.strip_suffix(":attachDomains") {
        let validate_only = body["validateOnly"].as_bool().unwrap_or(false);
        return (*method == Method::POST)
            .then(|| Route::Attach(cluster, id.to_string(), validate_only));
    }
    if let Some(id) = one.strip_suffix(":detachDomains") {
        return (*method == Method::POST).then(|| Route::Detach(cluster, id.to_string()));
    }
    match *method {
        Method::GET => Some(Route::Get(cluster, one.to_string())),
        Method::DELETE => Some(Route::Delete(cluster, one.to_string())),
        _ => None,
    }
}

/// The domains of a TIDBCLOUD_MANAGED attachment on AWS.
fn domain_names(unique_name: &str) -> Vec<String> {
    AZS.iter()
        .map(|az| format!("*.{az}.{unique_name}.aws.plc.tidbcloud.com"))
        .collect()
}

/// FNV-1a: stable ids from names.
pub fn hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Days since 1970-01-01 to (year, month, day).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as u64, m as u64, d as u64)
}

/// `2025-03-04T10:00:00Z`.
pub fn rfc3339(secs: u64) -> String {
    let (y, mo, d) = civil(secs / 86_400);
    let t = secs % 86_400;
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// `Tue, 04 Mar 2025 10:00:00 GMT` (RFC 9110's IMF-fixdate).
pub fn http_date(secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs / 86_400;
    let (y, mo, d) = civil(days);
    let t = secs % 86_400;
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        MONTHS[(mo - 1) as usize],
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// The model as one workspace's process sees it.
pub struct ModelTransport {
    model: ApiModel,
    key: String,
    workspace: usize,
}

#[async_trait]
impl Transport for ModelTransport {
    async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
        // An answer takes no time, but the request yields once, as a
        // network round trip would.
        tokio::task::yield_now().await;
        let aborted = self
            .model
            .config
            .abort
            .as_ref()
            .is_some_and(|a| a.load(std::sync::atomic::Ordering::Relaxed));
        if aborted {
            return Err(ApiError::Transport {
                method: request.method.to_string(),
                path: request.path.clone(),
                message: "the model was stopped".into(),
                maybe_sent: false,
                kind: tidbcloud_provider::api::TransportKind::Connect,
            });
        }
        Ok(self.model.answer(&self.key, self.workspace, request))
    }
}
