//! Shared helpers for the `tidbcloud-sim` integration tests: start the built
//! binary on a free port, and talk to it over plain HTTP with a small Digest
//! client written here from RFC 7616 (independent of the simulator's code).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use md5::Md5;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

pub const AWS: &str = "1000000000000000001";
pub const ALI: &str = "1000000000000000002";
pub const PAUSED: &str = "1000000000000000003";
pub const AWS_AUTO: &str = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef";
pub const AWS_MANUAL: &str = "com.amazonaws.vpce.us-west-2.vpce-svc-0fedcba9876543210";
pub const ALI_AUTO: &str = "com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef";

/// A running simulator, killed when dropped.
pub struct Sim {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// The first line it printed.
    pub first_line: String,
}

impl Sim {
    /// Starts the simulator on a free port with a 50 ms transition delay and
    /// no rate limit; `extra` flags come later and win.
    pub fn start(extra: &[&str]) -> Sim {
        let mut args = vec![
            "--listen",
            "127.0.0.1:0",
            "--transition-delay-ms",
            "50",
            "--rate-limit-rpm",
            "0",
        ];
        args.extend_from_slice(extra);
        let mut child = command(&args).spawn().expect("start tidbcloud-sim");
        let stdout = child.stdout.take().expect("stdout");
        let mut first_line = String::new();
        BufReader::new(stdout)
            .read_line(&mut first_line)
            .expect("read the first line");
        let first_line = first_line.trim_end().to_string();
        let base = first_line
            .strip_prefix("tidbcloud-sim listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
            .to_string();
        Sim {
            child,
            base,
            first_line,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit (at most `limit`).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// A Digest client with the default key.
    pub fn api(&self) -> Api {
        self.api_with("demo-public", "demo-private", Algorithm::Sha256)
    }

    /// A Digest client with a given key and algorithm.
    pub fn api_with(&self, user: &str, pass: &str, algorithm: Algorithm) -> Api {
        Api {
            http: http_client(),
            base: self.base.clone(),
            user: user.to_string(),
            pass: pass.to_string(),
            algorithm,
            nonce: Mutex::new(None),
            challenges: Mutex::new(0),
        }
    }

    /// Moves the simulator's clock forward by `ms` milliseconds; transitions
    /// due by then have happened when this returns.
    pub async fn advance(&self, ms: u64) -> Value {
        self.control(
            Method::POST,
            "/_sim/clock/advance",
            Some(serde_json::json!({ "ms": ms })),
        )
        .await
        .ok()
    }

    /// An unauthenticated call to the control surface.
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = http_client().request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("control call");
        Resp::read(r).await.expect("control answer")
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The simulator command with `args`; stderr is shown only when
/// `SIM_TEST_LOG` is set.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tidbcloud-sim"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(if std::env::var_os("SIM_TEST_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        });
    cmd
}

/// A plain-HTTP client (reqwest needs a rustls provider even for http://).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("http client")
}

/// An answer: status, headers and the JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    async fn read(r: reqwest::Response) -> Result<Resp, reqwest::Error> {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let bytes = r.bytes().await?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    /// A header as a string.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `X-Debug-Trace-Id` header, which every response carries.
    #[track_caller]
    pub fn trace_id(&self) -> &str {
        let id = self.header("x-debug-trace-id").expect("X-Debug-Trace-Id");
        assert!(!id.is_empty(), "{self:?}");
        id
    }

    /// Asserts an error envelope with `code`, whose `details` hold exactly
    /// the trace id as a `google.rpc.RequestInfo`, and returns its message.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: i64) -> String {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.body["code"], code, "{self:?}");
        assert_eq!(
            self.body["details"],
            serde_json::json!([{
                "@type": "type.googleapis.com/google.rpc.RequestInfo",
                "requestId": self.trace_id(),
            }]),
            "{self:?}"
        );
        self.body["message"].as_str().expect("message").to_string()
    }

    /// Asserts 200 and returns the body.
    #[track_caller]
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "{self:?}");
        self.body
    }
}

/// Digest algorithms the test client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    pub fn hash(self, s: &str) -> String {
        match self {
            Algorithm::Md5 => hex::encode(Md5::digest(s.as_bytes())),
            Algorithm::Sha256 => hex::encode(Sha256::digest(s.as_bytes())),
        }
    }
}

/// A nonce in use.
#[derive(Debug, Clone)]
pub struct NonceState {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub nc: u32,
}

/// A Digest client that keeps its nonce and counts challenges.
pub struct Api {
    http: reqwest::Client,
    pub base: String,
    user: String,
    pass: String,
    algorithm: Algorithm,
    pub nonce: Mutex<Option<NonceState>>,
    /// How many 401 challenges it has answered.
    pub challenges: Mutex<u32>,
}

impl Api {
    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.call(Method::DELETE, path, None).await
    }

    /// A call that must get an HTTP answer.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.try_call(method, path, body)
            .await
            .expect("HTTP answer")
    }

    /// A call, answering challenges (at most twice) and reusing the nonce.
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Resp, reqwest::Error> {
        for _ in 0..3 {
            let auth = self.next_authorization(method.as_str(), path);
            let r = self
                .send_raw(method.clone(), path, body.clone(), auth)
                .await?;
            if r.status != 401 {
                return Ok(r);
            }
            let Some(challenge) = pick_challenge(&r.headers, self.algorithm) else {
                return Ok(r);
            };
            let had_nonce = self.nonce.lock().unwrap().is_some();
            // A 401 to a request that carried credentials is final unless stale.
            if had_nonce && challenge.get("stale").map(String::as_str) != Some("true") {
                return Ok(r);
            }
            *self.challenges.lock().unwrap() += 1;
            *self.nonce.lock().unwrap() = Some(NonceState {
                realm: challenge.get("realm").cloned().unwrap_or_default(),
                nonce: challenge.get("nonce").cloned().unwrap_or_default(),
                opaque: challenge.get("opaque").cloned(),
                nc: 0,
            });
        }
        panic!("too many challenges for {path}");
    }

    /// Sends one request with an explicit Authorization header.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        authorization: Option<String>,
    ) -> Result<Resp, reqwest::Error> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Resp::read(req.send().await?).await
    }

    /// The Authorization header for the next request with the current nonce.
    pub fn next_authorization(&self, method: &str, uri: &str) -> Option<String> {
        let mut guard = self.nonce.lock().unwrap();
        let state = guard.as_mut()?;
        state.nc += 1;
        Some(self.authorization(state, method, uri))
    }

    /// An Authorization header for `state` as it is (no nc increment).
    pub fn authorization(&self, state: &NonceState, method: &str, uri: &str) -> String {
        let nc = format!("{:08x}", state.nc);
        let cnonce = format!("c{}", state.nc);
        let h = |s: &str| self.algorithm.hash(s);
        let ha1 = h(&format!("{}:{}:{}", self.user, state.realm, self.pass));
        let ha2 = h(&format!("{method}:{uri}"));
        let response = h(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", state.nonce));
        let mut header = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", algorithm={}, qop=auth, nc={nc}, cnonce=\"{cnonce}\", response=\"{response}\"",
            self.user,
            state.realm,
            state.nonce,
            self.algorithm.name()
        );
        if let Some(o) = &state.opaque {
            header.push_str(&format!(", opaque=\"{o}\""));
        }
        header
    }

    /// Polls a connection until it is in `state` (panics after 5 s).
    pub async fn wait_state(&self, cluster: &str, id: &str, state: &str) -> Value {
        let path = format!("/v1beta1/clusters/{cluster}/privateLinkConnections/{id}");
        let start = Instant::now();
        loop {
            let r = self.get(&path).await;
            if r.status == 200 && r.body["state"] == state {
                return r.body;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{id} never reached {state}: {r:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls a path until it answers 404 (panics after 5 s).
    pub async fn wait_gone(&self, path: &str) {
        let start = Instant::now();
        loop {
            let r = self.get(path).await;
            if r.status == 404 {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{path} never went away: {r:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls a connection until its attached domains are in `state`.
    pub async fn wait_domains(&self, cluster: &str, id: &str, state: &str) -> Value {
        let path = format!("/v1beta1/clusters/{cluster}/privateLinkConnections/{id}");
        let start = Instant::now();
        loop {
            let body = self.get(&path).await.ok();
            let domains = &body["attachedDomains"][0]["domains"];
            let all = domains
                .as_array()
                .is_some_and(|d| !d.is_empty() && d.iter().all(|x| x["state"] == state));
            if all {
                return body;
            }
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "domains never reached {state}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Creates a connection and returns the answer.
    pub async fn create(&self, cluster: &str, name: &str, body: Value) -> Resp {
        let mut conn = body;
        conn["displayName"] = Value::from(name);
        self.post(
            &format!("/v1beta1/clusters/{cluster}/privateLinkConnections"),
            serde_json::json!({ "privateLinkConnection": conn }),
        )
        .await
    }

    /// Creates an AWS connection to `service` on cluster `AWS` and returns its id.
    pub async fn create_aws(&self, name: &str, service: &str) -> String {
        let body = self.create(AWS, name, aws_body(service)).await.ok();
        body["privateLinkConnectionId"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// Creates an AWS connection and waits for ACTIVE.
    pub async fn active_aws(&self, name: &str) -> String {
        let id = self.create_aws(name, AWS_AUTO).await;
        self.wait_state(AWS, &id, "ACTIVE").await;
        id
    }
}

/// A create body for an AWS endpoint service.
pub fn aws_body(service: &str) -> Value {
    serde_json::json!({"type": "AWS_ENDPOINT_SERVICE", "awsEndpointService": {"name": service}})
}

/// A create body for an Alibaba Cloud endpoint service.
pub fn ali_body(service: &str) -> Value {
    serde_json::json!({"type": "ALICLOUD_ENDPOINT_SERVICE", "alicloudEndpointService": {"name": service}})
}

/// The path of a connection.
pub fn conn_path(cluster: &str, id: &str) -> String {
    format!("/v1beta1/clusters/{cluster}/privateLinkConnections/{id}")
}

/// Every Digest challenge of a 401, as parameter maps, in order.
pub fn challenges(headers: &HeaderMap) -> Vec<std::collections::HashMap<String, String>> {
    headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("Digest "))
        .map(parse_params)
        .collect()
}

fn pick_challenge(
    headers: &HeaderMap,
    algorithm: Algorithm,
) -> Option<std::collections::HashMap<String, String>> {
    challenges(headers)
        .into_iter()
        .find(|c| c.get("algorithm").map(String::as_str) == Some(algorithm.name()))
}

/// Parses `k=v, k="v"` pairs (values here never contain quotes or commas).
fn parse_params(s: &str) -> std::collections::HashMap<String, String> {
    s.split(',')
        .filter_map(|part| part.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

/// A subscription to `/_sim/events`, for tests that wait for a state change
/// instead of sleeping.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
    /// Every event received so far, in order.
    pub seen: Vec<Value>,
}

impl EventStream {
    /// Subscribes; events from now on are received.
    pub async fn open(sim: &Sim) -> EventStream {
        let response = http_client()
            .get(format!("{}/_sim/events", sim.base))
            .send()
            .await
            .expect("subscribe to events");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        EventStream {
            response,
            buffer: String::new(),
            seen: Vec::new(),
        }
    }

    /// Reads events until one matches `done` (panics after 5 s without one)
    /// and returns it.
    pub async fn wait_for(&mut self, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(e) = self.seen.iter().find(|e| done(e)) {
                return e.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let chunk = tokio::time::timeout(left, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no matching event in time; seen {:?}", self.seen))
                .expect("event stream")
                .expect("event stream open");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                for line in block.lines() {
                    if let Some(data) = line
                        .strip_prefix("data: ")
                        .or_else(|| line.strip_prefix("data:"))
                    {
                        self.seen
                            .push(serde_json::from_str(data).expect("event JSON"));
                    }
                }
            }
        }
    }
}
