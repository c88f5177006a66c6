//! The `tidbcloud-sim` binary as the tests start it (on a free loopback
//! port, killed when dropped) and its control surface (`/_sim/`, no auth).
//! Its API is spoken by [`super::digest::Api`] or the provider's client.

use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

use super::digest::{Algorithm, Api};
use super::process::{Process, PATIENCE};
use super::world::{PRIVATE_KEY, PUBLIC_KEY};

/// The transition delay tests run with unless they say otherwise: short, so
/// that states settle quickly in real time; tests that must not race real
/// time start with a long one and move the clock (see [`Sim::advance`]).
pub const TRANSITION_MS: &str = "50";

/// A running simulator, killed when dropped. Its stderr (one line per
/// request) is printed when a test fails, or always with `SIM_TEST_LOG` set.
pub struct Sim {
    process: Process,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The first line it printed.
    pub first_line: String,
}

impl Sim {
    /// Starts the simulator on a free port with a [`TRANSITION_MS`]
    /// transition delay and no rate limit; `extra` flags come later and win.
    pub fn start(extra: &[&str]) -> Sim {
        let mut args = vec![
            "--listen",
            "127.0.0.1:0",
            "--transition-delay-ms",
            TRANSITION_MS,
            "--rate-limit-rpm",
            "0",
        ];
        args.extend_from_slice(extra);
        let process = Process::spawn(command(&args));
        let Some(first_line) = process.stdout_line(PATIENCE) else {
            panic!(
                "tidbcloud-sim printed no address line; stderr:\n{}",
                process.stderr()
            );
        };
        let url = first_line
            .strip_prefix("tidbcloud-sim listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
            .to_string();
        Sim {
            process,
            url,
            first_line,
        }
    }

    /// What it has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.process.stderr()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Waits for the process to exit (at most `limit`).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        self.process.wait_exit(limit)
    }

    /// The variables that point the provider (and Terraform) at this
    /// simulator with the default key.
    pub fn provider_env(&self) -> Vec<(String, String)> {
        vec![
            ("TIDBCLOUD_SERVERLESS_ENDPOINT".into(), self.url.clone()),
            ("TIDBCLOUD_PUBLIC_KEY".into(), PUBLIC_KEY.into()),
            ("TIDBCLOUD_PRIVATE_KEY".into(), PRIVATE_KEY.into()),
        ]
    }

    /// A Digest client with the default key.
    pub fn api(&self) -> Api {
        self.api_with(PUBLIC_KEY, PRIVATE_KEY, Algorithm::Sha256)
    }

    /// A Digest client with a given key and algorithm.
    pub fn api_with(&self, user: &str, pass: &str, algorithm: Algorithm) -> Api {
        Api::new(&self.url, user, pass, algorithm)
    }

    /// An unauthenticated call to the control surface.
    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = http_client().request(method, format!("{}{path}", self.url));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("control call");
        Resp::read(r).await.expect("control answer")
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

    /// `GET /_sim/stats`.
    pub async fn stats(&self) -> Value {
        self.control(Method::GET, "/_sim/stats", None).await.ok()
    }

    /// `POST /_sim/faults`.
    pub async fn faults(&self, faults: Value) {
        self.control(Method::POST, "/_sim/faults", Some(faults))
            .await
            .ok();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let verbose = std::env::var_os("SIM_TEST_LOG").is_some();
        if verbose || std::thread::panicking() {
            let log = self.process.stderr();
            let lines: Vec<&str> = log.lines().collect();
            let shown = if verbose {
                0
            } else {
                lines.len().saturating_sub(40)
            };
            eprintln!(
                "--- tidbcloud-sim {} stderr ---\n{}",
                self.url,
                lines[shown..].join("\n")
            );
        }
    }
}

/// The simulator command with `args`, for tests of the process itself.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tidbcloud-sim"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
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
    pub async fn read(r: reqwest::Response) -> Result<Resp, reqwest::Error> {
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
            .get(format!("{}/_sim/events", sim.url))
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
