//! The client on the wire, against a small scripted server written here
//! (independent of the simulator): Digest auth checked by its own code with
//! a strict replay rule, nonce reuse, stale nonces, the user agent, tolerant
//! reading, non-envelope error bodies, 429s from a gateway, timeouts, and
//! what reaches the debug log.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use md5::{Digest as _, Md5};
use serde_json::json;
use tidbcloud_provider::api::{
    Client, ClientConfig, ClientOptions, ConnectionState, PrivateLinkConnection, RateLimitOptions,
    RetryPolicy,
};

const USER: &str = "pub-key";
const PASSWORD: &str = "priv-key-do-not-leak-7e3b";
const REALM: &str = "wire-test";

/// Everything the scripted server saw and decides.
#[derive(Default)]
struct Server {
    /// Issued nonces and the last nonce count used with each.
    nonces: Mutex<HashMap<String, u32>>,
    next_nonce: AtomicU32,
    exchanges: AtomicU32,
    challenges: AtomicU32,
    stale_answers: AtomicU32,
    replays: AtomicU32,
    /// Authorization schemes seen ("Digest", "Basic", ...).
    schemes: Mutex<Vec<String>>,
    /// (nonce, nc) of every accepted request, in arrival order.
    accepted: Mutex<Vec<(String, u32)>>,
    user_agents: Mutex<Vec<String>>,
    /// Calls per "METHOD path" after authentication.
    calls: Mutex<HashMap<String, u32>>,
    /// The request-target (path and query, as sent) of every authenticated
    /// request.
    targets: Mutex<Vec<String>>,
    /// Where redirects point (another server).
    redirect_to: Mutex<String>,
    /// Bytes of huge bodies handed to the connection so far.
    streamed: Arc<AtomicU64>,
}

impl Server {
    fn challenge(&self, stale: bool) -> String {
        let nonce = format!("nonce-{}", self.next_nonce.fetch_add(1, Ordering::SeqCst));
        self.nonces.lock().unwrap().insert(nonce.clone(), 0);
        let stale = if stale { ", stale=true" } else { "" };
        format!(
            r#"Digest realm="{REALM}", qop="auth", algorithm=MD5, nonce="{nonce}", opaque="op"{stale}"#
        )
    }

    fn unauthorized(&self, stale: bool) -> Response {
        if stale {
            self.stale_answers.fetch_add(1, Ordering::SeqCst);
        } else {
            self.challenges.fetch_add(1, Ordering::SeqCst);
        }
        let challenge = self.challenge(stale);
        (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", challenge)],
            json!({"code": 16, "message": "authentication required", "details": []}).to_string(),
        )
            .into_response()
    }

    /// Checks the Authorization header with its own Digest code. `Err`
    /// says whether the 401 is for a stale nonce.
    fn authenticate(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), bool> {
        let Some(header) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
            return Err(false);
        };
        let scheme = header
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        self.schemes.lock().unwrap().push(scheme.clone());
        if scheme != "Digest" {
            return Err(false);
        }
        let p = auth_params(&header["Digest".len()..]);
        let get = |k: &str| p.get(k).cloned().unwrap_or_default();
        let md5 = |s: String| hex::encode(Md5::digest(s.as_bytes()));
        let target = uri.path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
        let ha1 = md5(format!("{USER}:{REALM}:{PASSWORD}"));
        let ha2 = md5(format!("{method}:{target}"));
        let expected = md5(format!(
            "{ha1}:{}:{}:{}:auth:{ha2}",
            get("nonce"),
            get("nc"),
            get("cnonce")
        ));
        if get("username") != USER || get("uri") != target || get("response") != expected {
            return Err(false);
        }
        let nc = u32::from_str_radix(&get("nc"), 16).unwrap_or(0);
        let mut nonces = self.nonces.lock().unwrap();
        match nonces.get_mut(&get("nonce")) {
            None => Err(true),
            Some(last) if nc <= *last => {
                self.replays.fetch_add(1, Ordering::SeqCst);
                Err(true)
            }
            Some(last) => {
                *last = nc;
                self.accepted.lock().unwrap().push((get("nonce"), nc));
                Ok(())
            }
        }
    }

    fn count(&self, key: &str) -> u32 {
        let mut calls = self.calls.lock().unwrap();
        let n = calls.entry(key.to_string()).or_insert(0);
        *n += 1;
        *n
    }

    fn calls(&self, key: &str) -> u32 {
        self.calls.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    fn expire_nonces(&self) {
        self.nonces.lock().unwrap().clear();
    }
}

/// `k=v, k="v, w"` into a map (this test's own parser).
fn auth_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_string();
        rest = &rest[eq + 1..];
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            value = quoted[..end].to_string();
            rest = quoted.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_string();
            rest = &rest[end..];
        }
        out.insert(key, value);
    }
    out
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn handle(
    State(server): State<Arc<Server>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    _body: Bytes,
) -> Response {
    server.exchanges.fetch_add(1, Ordering::SeqCst);
    if let Some(ua) = headers.get("user-agent").and_then(|v| v.to_str().ok()) {
        server.user_agents.lock().unwrap().push(ua.to_string());
    }
    if let Err(stale) = server.authenticate(&method, &uri, &headers) {
        return server.unauthorized(stale);
    }
    server.targets.lock().unwrap().push(
        uri.path_and_query()
            .map(|pq| pq.as_str())
            .unwrap_or("/")
            .to_string(),
    );
    let key = format!("{method} {}", uri.path());
    let n = server.count(&key);
    let query = uri.query().unwrap_or("");
    let redirect = |status: StatusCode| {
        let to = format!("{}/v1beta1/clusters/1", server.redirect_to.lock().unwrap());
        (status, [("location", to)], "").into_response()
    };
    match (method.as_str(), uri.path()) {
        // Redirects from something in front of the API, to another host.
        ("GET", "/v1beta1/clusters/moved") => redirect(StatusCode::MOVED_PERMANENTLY),
        ("POST", "/v1beta1/clusters/moved/privateLinkConnections") => redirect(StatusCode::FOUND),
        ("DELETE", "/v1beta1/clusters/moved/privateLinkConnections/plc-1") => {
            redirect(StatusCode::TEMPORARY_REDIRECT)
        }
        // 300 MB, streamed chunk by chunk, announced or not.
        ("GET", "/v1beta1/clusters/huge") | ("GET", "/v1beta1/clusters/huge-announced") => {
            const TOTAL: u64 = 300 * 1024 * 1024;
            const CHUNK: usize = 64 * 1024;
            let streamed = server.streamed.clone();
            let chunks = futures_util::stream::iter(0..TOTAL / CHUNK as u64).map(move |_| {
                streamed.fetch_add(CHUNK as u64, Ordering::SeqCst);
                Ok::<_, std::io::Error>(Bytes::from(vec![b' '; CHUNK]))
            });
            let mut response = Response::new(axum::body::Body::from_stream(chunks));
            response
                .headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            if uri.path().ends_with("announced") {
                response
                    .headers_mut()
                    .insert("content-length", TOTAL.to_string().parse().unwrap());
            }
            response
        }
        // A rate limit that never lifts, with a short reset.
        (_, "/v1beta1/clusters/limited") => (
            StatusCode::TOO_MANY_REQUESTS,
            [
                ("x-ratelimit-remaining-minute", "0"),
                ("x-ratelimit-reset", "0"),
                ("x-debug-trace-id", "trace-429"),
            ],
            json!({"code": 8, "message": "rate limit exceeded", "details": []}).to_string(),
        )
            .into_response(),
        // A proxy answers the first detach and delete 503 without passing
        // them on; then the API answers.
        ("POST", "/v1beta1/clusters/1/privateLinkConnections/plc-1:detachDomains")
        | ("DELETE", "/v1beta1/clusters/1/privateLinkConnections/plc-1")
            if n == 1 =>
        {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "<html>503 Service Unavailable</html>",
            )
                .into_response()
        }
        ("POST", "/v1beta1/clusters/1/privateLinkConnections/plc-1:detachDomains") => {
            json_response(StatusCode::OK, json!({}))
        }
        // The first delete did reach the API after all: the retry finds nothing.
        ("DELETE", "/v1beta1/clusters/1/privateLinkConnections/plc-1") => json_response(
            StatusCode::NOT_FOUND,
            json!({"code": 5, "message": "private link connection plc-1 was not found", "details": []}),
        ),
        // Hostile and unusual error bodies.
        ("GET", "/v1beta1/clusters/hostile") => json_response(
            StatusCode::BAD_REQUEST,
            json!({"code": 3, "message": format!("bad \u{1b}[2J\u{1b}[31mred\u{202e}txt.exe{}", "A".repeat(5 * 1024 * 1024)),
                   "details": [{"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": "trace-in-details"}]}),
        ),
        ("GET", "/v1beta1/clusters/text") => (
            StatusCode::FORBIDDEN,
            [("x-debug-trace-id", "trace-403")],
            "Forbidden by policy",
        )
            .into_response(),
        ("GET", "/v1beta1/clusters/odd-code") => (
            StatusCode::CONFLICT,
            [("x-debug-trace-id", "trace-409")],
            json!({"code": 77, "message": "new kind of conflict"}).to_string(),
        )
            .into_response(),
        ("GET", "/v1beta1/clusters/1") => json_response(
            StatusCode::OK,
            json!({"clusterId": "1", "displayName": "c", "state": "ACTIVE",
                   "region": {"name": "regions/aws-us-west-2", "regionId": "aws-us-west-2", "cloudProvider": "aws"},
                   "someNewField": {"x": 1}}),
        ),
        ("GET", "/v1beta1/clusters/1/privateLinkConnections") => {
            let conn = |id: &str, state: &str| {
                json!({"privateLinkConnectionId": id, "clusterId": "1", "displayName": id,
                "state": state, "type": "AWS_ENDPOINT_SERVICE", "message": "",
                "createdBy": null, "alicloudEndpointService": null,
                "attachedDomains": if id == "plc-1" {
                    json!([{"attachDomainId": "ad-1", "type": "TIDBCLOUD_MANAGED"}])
                } else {
                    json!([])
                }})
            };
            if query.contains("pageToken=p2") {
                json_response(
                    StatusCode::OK,
                    json!({"privateLinkConnections": [conn("plc-3", "HIBERNATING")], "totalSize": "3"}),
                )
            } else {
                assert!(query.contains("pageSize=100"), "{query}");
                json_response(
                    StatusCode::OK,
                    json!({"privateLinkConnections": [conn("plc-1", "ACTIVE"), conn("plc-2", "CREATING")],
                           "nextPageToken": "p2", "totalSize": "3"}),
                )
            }
        }
        // An empty list, written the grpc-gateway way: no fields at all.
        ("GET", "/v1beta1/clusters/2/privateLinkConnections") => {
            json_response(StatusCode::OK, json!({}))
        }
        // A gateway in front of the API failing twice, then recovering.
        ("GET", "/v1beta1/clusters/flaky") if n <= 2 => (
            StatusCode::BAD_GATEWAY,
            [("content-type", "text/html")],
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
        )
            .into_response(),
        ("GET", "/v1beta1/clusters/flaky") => {
            json_response(StatusCode::OK, json!({"clusterId": "flaky"}))
        }
        ("GET", "/v1beta1/clusters/down") => {
            (StatusCode::BAD_GATEWAY, "<html>down</html>").into_response()
        }
        // A proxy's rate limit page: no envelope, no reset header.
        (_, "/v1beta1/clusters/1/privateLinkConnections:getAvailabilityZones") if n == 1 => {
            (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response()
        }
        (_, "/v1beta1/clusters/1/privateLinkConnections:getAvailabilityZones") => {
            json_response(StatusCode::OK, json!({"accountId": "123456789012"}))
        }
        ("POST", "/v1beta1/clusters/1/privateLinkConnections") if n == 1 => (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-ratelimit-reset", "0")],
            "slow down",
        )
            .into_response(),
        ("POST", "/v1beta1/clusters/1/privateLinkConnections") => json_response(
            StatusCode::OK,
            json!({"privateLinkConnectionId": "plc-new", "clusterId": "1", "displayName": "x",
                   "state": "CREATING", "type": "AWS_ENDPOINT_SERVICE"}),
        ),
        // No answer at all, for timeouts: only the client's own limit ends the call.
        (_, "/v1beta1/clusters/slow/privateLinkConnections")
        | ("GET", "/v1beta1/clusters/slow") => std::future::pending().await,
        _ => json_response(
            StatusCode::NOT_FOUND,
            json!({"code": 5, "message": format!("{} not found", uri.path()), "details": []}),
        ),
    }
}

async fn start() -> (Arc<Server>, String) {
    let server = Arc::new(Server::default());
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (server, format!("http://{addr}"))
}

fn options() -> ClientOptions {
    ClientOptions {
        request_timeout: Duration::from_millis(500),
        retry: RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(20),
            max_elapsed: Duration::from_secs(10),
        },
        rate_limit: RateLimitOptions {
            min_429_wait: Duration::from_millis(20),
            backoff_initial: Duration::from_millis(20),
            reset_jitter: Duration::from_millis(10),
            ..RateLimitOptions::default()
        },
        ..ClientOptions::default()
    }
}

fn client(url: &str, password: &str) -> Client {
    Client::with_options(
        ClientConfig {
            endpoint: url.to_string(),
            public_key: USER.into(),
            private_key: password.into(),
            user_agent_suffix: Some("Terraform/1.11.4".into()),
        },
        options(),
    )
    .unwrap()
}

/// A logger that keeps every record, so tests can read what was logged.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        self.0.lock().unwrap().push(format!("{}", record.args()));
    }
    fn flush(&self) {}
}

fn captured_logs() -> &'static Capture {
    static LOGGER: OnceLock<&'static Capture> = OnceLock::new();
    LOGGER.get_or_init(|| {
        let logger: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        let _ = log::set_logger(logger);
        log::set_max_level(log::LevelFilter::Debug);
        logger
    })
}

#[tokio::test]
async fn one_round_trip_per_request_after_the_first() {
    let (server, url) = start().await;
    let client = client(&url, PASSWORD);
    for _ in 0..20 {
        client.get_cluster("1").await.unwrap();
    }
    assert_eq!(
        server.exchanges.load(Ordering::SeqCst),
        21,
        "one challenge, then one exchange each"
    );
    assert_eq!(server.challenges.load(Ordering::SeqCst), 1);
    let accepted = server.accepted.lock().unwrap().clone();
    let ncs: Vec<u32> = accepted.iter().map(|(_, nc)| *nc).collect();
    assert_eq!(ncs, (1..=20).collect::<Vec<_>>(), "one nonce, counting up");
    assert!(
        server.schemes.lock().unwrap().iter().all(|s| s == "Digest"),
        "never Basic"
    );
}

/// Ids and query values go percent-encoded, everything but RFC 3986
/// unreserved characters (`:` too, which URL parsers leave alone), and the
/// Digest `uri` signs exactly that request-target: the server checks it, and
/// records a target only once the request is authenticated.
#[tokio::test]
async fn ids_and_query_values_are_percent_encoded_and_signed_as_sent() {
    let (server, url) = start().await;
    let client = client(&url, PASSWORD);
    let missing = client
        .get_private_link_connection("c:1", "plc-a:b é~")
        .await;
    assert!(missing.is_err(), "no such connection: {missing:?}");
    client
        .list_private_link_connections_page(
            "2",
            Some(&ConnectionState::Active),
            Some(5),
            Some("a+b/c=&d"),
        )
        .await
        .unwrap();
    assert_eq!(
        *server.targets.lock().unwrap(),
        [
            "/v1beta1/clusters/c%3A1/privateLinkConnections/plc-a%3Ab%20%C3%A9~",
            "/v1beta1/clusters/2/privateLinkConnections?pageSize=5&pageToken=a%2Bb%2Fc%3D%26d&state=ACTIVE",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_never_replay_a_nonce_count() {
    let (server, url) = start().await;
    let client = client(&url, PASSWORD);
    for round in 0..3 {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.get_cluster("1").await })
            })
            .collect();
        for t in tasks {
            t.await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
    assert_eq!(
        server.replays.load(Ordering::SeqCst),
        0,
        "a strict server saw no replay"
    );
    let challenges = server.challenges.load(Ordering::SeqCst);
    assert!(
        challenges <= 16,
        "at most one nonce per concurrent request: {challenges}"
    );
    println!(
        "48 concurrent requests: {} exchanges, {challenges} challenges",
        server.exchanges.load(Ordering::SeqCst)
    );
}

#[tokio::test]
async fn a_stale_nonce_costs_one_extra_exchange() {
    let (server, url) = start().await;
    let client = client(&url, PASSWORD);
    client.get_cluster("1").await.unwrap();
    server.expire_nonces();
    let before = server.exchanges.load(Ordering::SeqCst);
    client.get_cluster("1").await.unwrap();
    assert_eq!(server.exchanges.load(Ordering::SeqCst) - before, 2);
    assert_eq!(server.stale_answers.load(Ordering::SeqCst), 1);
    let before = server.exchanges.load(Ordering::SeqCst);
    client.get_cluster("1").await.unwrap();
    assert_eq!(
        server.exchanges.load(Ordering::SeqCst) - before,
        1,
        "the fresh nonce is reused"
    );
}

#[tokio::test]
async fn a_wrong_key_is_unauthenticated_and_never_shown() {
    let (server, url) = start().await;
    let wrong = "wrong-secret-91ac";
    let client = client(&url, wrong);
    let err = client.get_cluster("1").await.unwrap_err();
    assert!(err.is_unauthenticated(), "{err:?}");
    assert_eq!(
        server.exchanges.load(Ordering::SeqCst),
        2,
        "challenge, then the rejected answer"
    );
    let text = format!("{err} {err:?} {client:?}");
    assert!(!text.contains(wrong), "{text}");
    assert!(text.contains("check public_key/private_key"), "{text}");
}

#[tokio::test]
async fn the_user_agent_names_the_provider_version() {
    let (server, url) = start().await;
    client(&url, PASSWORD).get_cluster("1").await.unwrap();
    let agents = server.user_agents.lock().unwrap().clone();
    let want = format!(
        "tidbcloud-privatelink-provider/{} Terraform/1.11.4",
        env!("CARGO_PKG_VERSION")
    );
    assert!(agents.iter().all(|ua| ua.starts_with(&want)), "{agents:?}");
    // Not the official Go provider's product token.
    assert!(
        agents
            .iter()
            .all(|ua| !ua.starts_with("terraform-provider-tidbcloud/")),
        "{agents:?}"
    );
}

#[tokio::test]
async fn lists_read_every_page_and_tolerate_grpc_gateway_json() {
    let (_server, url) = start().await;
    let client = client(&url, PASSWORD);
    let all = client
        .list_private_link_connections("1", None)
        .await
        .unwrap();
    let ids: Vec<&str> = all
        .iter()
        .map(|c| c.private_link_connection_id.as_str())
        .collect();
    assert_eq!(ids, ["plc-1", "plc-2", "plc-3"]);
    assert!(
        all.iter().all(|c| c.attached_domains.is_empty()),
        "attachments in list answers are ignored"
    );
    assert_eq!(
        (all[0].message.as_deref(), all[0].created_by.as_deref()),
        (None, None)
    );
    assert_eq!(
        all[2].state,
        Some(ConnectionState::Other("HIBERNATING".into()))
    );
    let page = client
        .list_private_link_connections_page("1", None, Some(100), None)
        .await
        .unwrap();
    assert_eq!(page.total_size, Some(3), "totalSize as a string");
    assert!(client
        .list_private_link_connections("2", None)
        .await
        .unwrap()
        .is_empty());
    let cluster = client.get_cluster("1").await.unwrap();
    assert_eq!(cluster.region_id(), Some("us-west-2"));
}

#[tokio::test]
async fn html_gateway_errors_are_retried_then_typed() {
    let (server, url) = start().await;
    let client = client(&url, PASSWORD);
    let ok = client.get_cluster("flaky").await.unwrap();
    assert_eq!(ok.cluster_id, "flaky");
    assert_eq!(server.calls("GET /v1beta1/clusters/flaky"), 3);

    let err = client.get_cluster("down").await.unwrap_err();
    assert!(err.is_server_error(), "{err:?}");
    assert_eq!(err.status(), Some(502));
    assert_eq!(err.api_message(), Some("Bad Gateway"));
    assert_eq!(
        server.calls("GET /v1beta1/clusters/down"),
        4,
        "max_attempts"
    );

    let err = client.get_cluster("nope").await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(
        server.calls("GET /v1beta1/clusters/nope"),
        1,
        "a 404 is not retried"
    );
}

#[tokio::test]
async fn a_429_is_waited_out_for_any_method() {
    let (server, url) = start().await;
    let client = client(&url, PASSWORD);
    // A proxy's 429 page without headers: backed off and sent again.
    let zones = client.get_availability_zones("1").await.unwrap();
    assert_eq!(zones.account_id, "123456789012");
    assert!(zones.az_ids.is_empty(), "an omitted list reads as empty");
    assert_eq!(
        server.calls("GET /v1beta1/clusters/1/privateLinkConnections:getAvailabilityZones"),
        2
    );
    // A 429 means "not processed", so even a create is sent again.
    let created = client
        .create_private_link_connection("1", &PrivateLinkConnection::aws("1", "x", "svc", None))
        .await
        .unwrap();
    assert_eq!(created.private_link_connection_id, "plc-new");
    assert_eq!(
        server.calls("POST /v1beta1/clusters/1/privateLinkConnections"),
        2
    );
}

#[tokio::test]
async fn timeouts_are_transport_errors_and_an_unanswered_create_is_ambiguous() {
    let (server, url) = start().await;
    let client = client(&url, PASSWORD);
    client.get_cluster("1").await.unwrap(); // learn a nonce first

    let err = client.get_cluster("slow").await.unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(
        server.calls("GET /v1beta1/clusters/slow"),
        4,
        "GETs are retried"
    );

    let err = client
        .create_private_link_connection(
            "slow",
            &PrivateLinkConnection::aws("slow", "x", "svc", None),
        )
        .await
        .unwrap_err();
    assert!(err.is_ambiguous(), "{err:?}");
    assert!(
        err.to_string()
            .contains("Look it up before creating it again"),
        "{err}"
    );
    assert_eq!(
        server.calls("POST /v1beta1/clusters/slow/privateLinkConnections"),
        1,
        "a create is never sent twice"
    );
}

#[tokio::test]
async fn calls_are_logged_without_secrets() {
    let logs = captured_logs();
    let (_server, url) = start().await;
    let client = client(&url, PASSWORD);
    client.get_cluster("1").await.unwrap();
    let _ = client.get_cluster("nope").await;
    let _ = client.get_cluster("odd-code").await;
    let _ = client.get_cluster("hostile").await;
    let _ = crate::client(&url, "not-the-private-key")
        .get_cluster("1")
        .await;
    let lines = logs.0.lock().unwrap().clone();
    let all = lines.join("\n");
    // Other tests log too: this test's lines are those naming its server.
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let line = |needle: &str| {
        lines
            .iter()
            .find(|l| l.contains(needle) && l.contains(&format!("(host {host}")))
            .unwrap_or_else(|| panic!("no line with {needle:?} naming host {host}:\n{all}"))
            .clone()
    };
    // The first exchange's 401 is said to be Digest's challenge.
    let challenge = line("GET /v1beta1/clusters/1 -> 401");
    assert!(
        challenge.contains("the Digest challenge, expected"),
        "{challenge}"
    );
    line("GET /v1beta1/clusters/1 -> 200 in ");
    line("GET /v1beta1/clusters/nope -> 404");
    // The trace id, from the header or from an error envelope's details.
    line("GET /v1beta1/clusters/odd-code -> 409 in ");
    assert!(
        all.contains(&format!("(host {host}, trace id trace-409)")),
        "{all}"
    );
    assert!(
        all.contains(&format!("(host {host}, trace id trace-in-details)")),
        "{all}"
    );
    // A signed request refused is not called a challenge.
    assert!(
        all.contains("GET /v1beta1/clusters/1: the signed request was refused (401)"),
        "{all}"
    );
    assert!(!all.contains(PASSWORD), "the private key was logged");
    assert!(
        !all.contains("response="),
        "an Authorization header was logged"
    );
}

#[tokio::test]
async fn a_loopback_endpoint_bypasses_proxies() {
    // A proxy that does not exist: used, it would fail every request.
    // (Set for this process; every endpoint in these tests is loopback.)
    std::env::set_var("HTTP_PROXY", "http://127.0.0.1:9");
    std::env::set_var("http_proxy", "http://127.0.0.1:9");
    let (_server, url) = start().await;
    let result = client(&url, PASSWORD).get_cluster("1").await;
    assert!(result.is_ok(), "{result:?}");
}

fn client_with(url: &str, options: ClientOptions) -> Client {
    Client::with_options(
        ClientConfig {
            endpoint: url.to_string(),
            public_key: USER.into(),
            private_key: PASSWORD.into(),
            user_agent_suffix: None,
        },
        options,
    )
    .unwrap()
}

#[tokio::test]
async fn redirects_are_errors_that_name_the_location_and_are_never_followed() {
    let (server, url) = start().await;
    let (elsewhere, other_url) = start().await;
    *server.redirect_to.lock().unwrap() = other_url.clone();
    let client = client(&url, PASSWORD);

    let err = client.get_cluster("moved").await.unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    assert_eq!(err.status(), Some(301));
    let text = err.to_string();
    assert!(
        text.contains(&format!("{other_url}/v1beta1/clusters/1")),
        "{text}"
    );
    assert!(text.contains("GET /v1beta1/clusters/moved"), "{text}");

    // A create redirected to another host would be followed as a GET and
    // "succeed" with whatever that answered.
    let err = client
        .create_private_link_connection(
            "moved",
            &PrivateLinkConnection::aws("moved", "x", "svc", None),
        )
        .await
        .unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    assert!(!err.outcome_unknown());
    let err = client
        .delete_private_link_connection("moved", "plc-1")
        .await
        .unwrap_err();
    assert!(err.is_redirect(), "{err:?}");
    assert_eq!(
        server.calls("POST /v1beta1/clusters/moved/privateLinkConnections"),
        1,
        "a redirect is not retried"
    );
    assert_eq!(
        elsewhere.exchanges.load(Ordering::SeqCst),
        0,
        "the other host was never contacted"
    );
}

#[tokio::test]
async fn huge_bodies_fail_fast_without_being_read() {
    let (server, url) = start().await;
    let client = client_with(
        &url,
        ClientOptions {
            request_timeout: Duration::from_secs(60),
            ..options()
        },
    );
    for path in ["huge", "huge-announced"] {
        server.streamed.store(0, Ordering::SeqCst);
        let err = client.get_cluster(path).await.unwrap_err();
        assert!(err.is_body_too_large(), "{path}: {err:?}");
        let text = err.to_string();
        assert!(text.contains("8388608 bytes"), "{text}");
        assert!(
            text.contains(&format!("GET /v1beta1/clusters/{path}")),
            "{text}"
        );
        assert!(!err.is_transient(), "not worth retrying");
        // Bounded memory: the client stopped reading soon after the cap
        // (what the server buffered into the socket is all that moved).
        let streamed = server.streamed.load(Ordering::SeqCst);
        assert!(
            streamed < 64 * 1024 * 1024,
            "{path}: {streamed} bytes streamed"
        );
        assert_eq!(server.calls(&format!("GET /v1beta1/clusters/{path}")), 1);
    }
    let announced = client.get_cluster("huge-announced").await.unwrap_err();
    assert!(
        announced.to_string().contains("Content-Length 314572800"),
        "{announced}"
    );
}

#[tokio::test]
async fn an_endless_429_ends_with_how_long_it_waited() {
    let (server, url) = start().await;
    let mut options = options();
    options.rate_limit.max_429_retries = u32::MAX;
    options.rate_limit.max_wait = Duration::from_millis(500);
    let client = client_with(&url, options);
    let err = client.get_cluster("limited").await.unwrap_err();
    assert!(err.is_rate_limited(), "{err:?}");
    assert!(
        !err.is_transient(),
        "a wait must not poll on until its timeout"
    );
    let text = err.to_string();
    assert!(
        text.contains("rate limit") && text.contains("was exhausted"),
        "{text}"
    );
    assert!(text.contains("waited"), "{text}");
    assert!(text.contains("trace id trace-429"), "{text}");
    let sent = server.calls("GET /v1beta1/clusters/limited");
    assert!(sent >= 2, "the 429s were waited out: {sent}");

    // A caller's deadline bounds the wait instead of max_wait.
    let mut options = self::options();
    options.rate_limit.max_429_retries = u32::MAX;
    options.rate_limit.max_wait = Duration::from_secs(3600);
    let client = client_with(&url, options);
    let err = client
        .with_timeout(Duration::from_millis(500))
        .get_cluster("limited")
        .await
        .unwrap_err();
    assert!(err.is_rate_limited(), "{err:?}");
}

#[tokio::test]
async fn detach_and_delete_are_retried_and_a_404_after_a_retry_means_done() {
    let (server, url) = start().await;
    let client = client(&url, PASSWORD);
    client
        .detach_domains("1", "plc-1", "ad-1")
        .await
        .expect("the detach is sent again after the proxy's 503");
    assert_eq!(
        server.calls("POST /v1beta1/clusters/1/privateLinkConnections/plc-1:detachDomains"),
        2
    );
    let err = client
        .delete_private_link_connection("1", "plc-1")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(err.not_found_after_retry(), "{err:?}");
    assert_eq!(
        server.calls("DELETE /v1beta1/clusters/1/privateLinkConnections/plc-1"),
        2
    );
}

#[tokio::test]
async fn error_messages_are_sanitised_and_carry_the_trace_id_method_and_path() {
    let (_server, url) = start().await;
    let client = client_with(
        &url,
        ClientOptions {
            request_timeout: Duration::from_secs(30),
            ..options()
        },
    );

    let err = client.get_cluster("hostile").await.unwrap_err();
    assert!(err.is_invalid_argument(), "{err:?}");
    let text = err.to_string();
    assert!(
        !text.chars().any(|c| c.is_control() || c == '\u{202e}'),
        "{:?}",
        &text[..80]
    );
    assert!(
        text.starts_with("the API rejected the request as invalid: bad redtxt.exeAAAA"),
        "{}",
        &text[..80]
    );
    assert!(text.len() < 2048, "{} bytes", text.len());
    let received = "bad \u{1b}[2J\u{1b}[31mred\u{202e}txt.exe".len() + 5 * 1024 * 1024;
    assert!(
        text.contains(&format!("(truncated: the message was {received} bytes)")),
        "{}",
        &text[text.len() - 200..]
    );
    assert!(
        text.contains("GET /v1beta1/clusters/hostile; trace id trace-in-details"),
        "{text}"
    );

    // Not the envelope: plain text from a proxy.
    let err = client.get_cluster("text").await.unwrap_err();
    assert!(err.is_permission_denied(), "{err:?}");
    assert_eq!(err.trace_id(), Some("trace-403"));
    assert!(err.to_string().contains("Forbidden: Forbidden by policy (HTTP 403 on GET /v1beta1/clusters/text; trace id trace-403)"), "{err}");

    // An unfamiliar code in a familiar status class behaves like its class.
    let err = client.get_cluster("odd-code").await.unwrap_err();
    assert!(err.is_conflict(), "{err:?}");
    assert_eq!(err.trace_id(), Some("trace-409"));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_told_apart_from_a_dropped_connection() {
    // Nothing listens on port 1: the connection is refused.
    let mut options = options();
    options.retry.max_attempts = 1;
    let err = client_with("http://127.0.0.1:1", options)
        .get_cluster("1")
        .await
        .unwrap_err();
    assert!(err.is_unreachable(), "{err:?}");
    assert!(!err.is_connection_dropped(), "{err:?}");
    assert!(err.to_string().contains("HTTPS_PROXY"), "{err}");
}
