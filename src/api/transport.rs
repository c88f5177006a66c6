//! The bottom layer: one API request over HTTP with Digest auth.
//!
//! Every layer of the client implements [`Transport`]; the stack is
//! `Retrying<RateLimited<HttpTransport>>`, built by [`Client`](super::Client).
//! A layer sees a request described independently of the HTTP library
//! ([`ApiRequest`]) and returns the raw answer ([`ApiResponse`]) whatever its
//! status; only network failures, redirects and oversized answers are
//! errors at this level. Turning error statuses into [`ApiError`]s is the
//! operations' job.
//!
//! This module owns what only HTTP needs: the user agent, the loopback rule
//! for proxies, the body cap and the no-redirect policy. It imports nothing
//! of the client above it (layers run one way: client → retry → rate limit →
//! transport; see the [module map](super)).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE,
};
use reqwest::{Method, Url};

use std::net::IpAddr;

use reqwest::header::{CONTENT_LENGTH, LOCATION};

use super::digest::{Challenge, DigestAuth, NonceSession};
use super::error::{self, ApiError, TransportKind};

/// This provider's product token in the user agent. Not
/// `terraform-provider-tidbcloud`, which is the official Go provider's, so
/// that TiDB Cloud can tell the two apart.
pub const PRODUCT: &str = "tidbcloud-privatelink-provider";

/// Environment variable whose value Terraform users append to user agents.
pub const APPEND_USER_AGENT_ENV: &str = "TF_APPEND_USER_AGENT";

/// The largest answer body read, in bytes. An API answer is a few KiB; a
/// larger one is a misdirected endpoint or a hostile server.
pub const MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;

/// Whether `host` (as in a URL, IPv6 in brackets) is loopback.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `tidbcloud-privatelink-provider/<version>`, then the configured suffix
/// (Terraform's version), then `TF_APPEND_USER_AGENT` when set.
pub fn user_agent(suffix: Option<&str>, append: Option<&str>) -> String {
    let mut ua = format!("{PRODUCT}/{}", env!("CARGO_PKG_VERSION"));
    for extra in [suffix, append].into_iter().flatten() {
        let extra = extra.trim();
        if !extra.is_empty() {
            ua.push(' ');
            ua.push_str(extra);
        }
    }
    ua
}

/// One API call, before it goes on the wire.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: Method,
    /// Path and query below the endpoint, percent-encoded, e.g.
    /// `/v1beta1/clusters/1/privateLinkConnections?pageSize=100`.
    pub path: String,
    /// JSON body.
    pub body: Option<Vec<u8>>,
    /// Set for a POST that changes nothing (a dry run), so that it may be
    /// retried like a GET.
    pub read_only: bool,
    /// Set for a POST whose repetition changes nothing more than the first
    /// (a detach), so that it may be retried like a DELETE.
    pub idempotent: bool,
    /// The caller's deadline: no layer waits (for the rate limit, or before
    /// a retry) past it.
    pub deadline: Option<tokio::time::Instant>,
    /// The caller's cancel signal: once `true`, no layer waits any longer
    /// (a request already sent still runs to its answer).
    pub cancel: Option<tokio::sync::watch::Receiver<bool>>,
    /// Set for a request that only asks whether something settled: it waits
    /// behind every other request for rate limit budget (see `ratelimit`).
    pub poll: bool,
    /// Where the transport notes the `Date` headers around this request
    /// (see [`Stamp`]), when the caller asked for them.
    pub stamp: Option<Stamp>,
}

/// The server's `Date` headers around one request: the latest one the
/// transport had seen when it wrote the request, and the one of the
/// request's own answer (whatever its status). Cheap to clone; clones
/// share what was noted.
#[derive(Debug, Clone, Default)]
pub struct Stamp(Arc<Mutex<Dates>>);

/// What a [`Stamp`] noted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dates {
    /// The latest `Date` received before the request was written.
    pub before: Option<SystemTime>,
    /// The `Date` of the request's answer, if one came with one.
    pub answer: Option<SystemTime>,
}

impl Stamp {
    /// What was noted so far.
    pub fn dates(&self) -> Dates {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note(&self, f: impl FnOnce(&mut Dates)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// The `Date` header of an answer, when it is a valid HTTP date.
pub fn date_of(headers: &HeaderMap) -> Option<SystemTime> {
    let value = headers.get(reqwest::header::DATE)?.to_str().ok()?;
    httpdate::parse_http_date(value.trim()).ok()
}

impl ApiRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        ApiRequest {
            method,
            path: path.into(),
            body: None,
            read_only: false,
            idempotent: false,
            deadline: None,
            cancel: None,
            poll: false,
            stamp: None,
        }
    }

    /// Notes the `Date` headers around this request in `stamp`.
    pub fn stamped(mut self, stamp: &Stamp) -> Self {
        self.stamp = Some(stamp.clone());
        self
    }

    /// Marks a request that may be sent again without changing the outcome
    /// (a detach: a second one finds nothing more to do, or a 404).
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Bounds every wait of this request by `deadline`.
    pub fn with_deadline(mut self, deadline: Option<tokio::time::Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Marks a request that changes nothing on the server.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    pub fn with_json<T: serde::Serialize>(mut self, body: &T) -> Result<Self, ApiError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| ApiError::Config(format!("could not encode the request body: {e}")))?;
        self.body = Some(bytes);
        Ok(self)
    }

    /// GET, HEAD, PUT and DELETE, and requests marked read-only or
    /// idempotent, may be repeated without changing the outcome.
    pub fn is_idempotent(&self) -> bool {
        self.read_only
            || self.idempotent
            || matches!(
                self.method,
                Method::GET | Method::HEAD | Method::PUT | Method::DELETE
            )
    }

    /// A transport error for this request.
    pub(crate) fn transport_error(
        &self,
        message: String,
        maybe_sent: bool,
        kind: TransportKind,
    ) -> ApiError {
        ApiError::Transport {
            method: self.method.to_string(),
            path: self.path.clone(),
            message,
            maybe_sent,
            kind,
        }
    }
}

/// The answer to an [`ApiRequest`], whatever its status.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// How many times the request was sent for this answer (the retry
    /// layer counts; 1 below it).
    pub attempts: u32,
}

impl ApiResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends one request and returns its answer; implemented by each layer.
#[async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, ApiError>;
}

/// HTTP with Digest auth: the bottom of the stack.
///
/// A request without a nonce of its own (the client's first, or one more
/// concurrent than any before) gets a `401` challenge and is sent again with
/// credentials; later requests reuse pooled nonces and go through at once
/// (see [`digest`](super::digest)). An expired or replayed (`stale`) nonce
/// costs one extra exchange; a second `401` without `stale` means the key is
/// wrong and is returned as is.
#[derive(Debug)]
pub struct HttpTransport {
    http: reqwest::Client,
    base: String,
    /// The endpoint's host and port, as logged with every exchange.
    host: String,
    auth: DigestAuth,
    max_body_bytes: u64,
    /// The `Date` of the latest answer received, for [`Stamp`]s.
    latest_date: Mutex<Option<SystemTime>>,
}

impl HttpTransport {
    /// `base` is the validated endpoint.
    pub fn new(
        base: &Url,
        public_key: &str,
        private_key: &str,
        user_agent: &str,
        connect_timeout: Duration,
        request_timeout: Duration,
        max_body_bytes: u64,
    ) -> Result<Self, ApiError> {
        install_crypto_provider();
        // Proxies come from HTTPS_PROXY/HTTP_PROXY/NO_PROXY (reqwest's
        // default), except for a loopback endpoint such as a local
        // simulator, which a proxy could not reach (Go's HTTP client, and so
        // other Terraform providers, behave the same way).
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            // Never follow redirects: a 3xx is an error (see `send`).
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true);
        if base.host_str().is_some_and(is_loopback) {
            builder = builder.no_proxy();
        }
        let http = builder.build().map_err(|e| {
            ApiError::Config(format!("could not set up the HTTP client: {}", chain(&e)))
        })?;
        Ok(HttpTransport {
            http,
            base: base.as_str().trim_end_matches('/').to_string(),
            host: log_host(base),
            auth: DigestAuth::new(public_key, private_key),
            max_body_bytes,
            latest_date: Mutex::new(None),
        })
    }

    /// Returns a request's nonce session to the pool.
    fn release(&self, session: Option<NonceSession>) {
        if let Some(s) = session {
            self.auth.checkin(s);
        }
    }

    /// One HTTP exchange, logged at debug level (never with headers).
    async fn exchange(
        &self,
        request: &ApiRequest,
        url: &Url,
        authorization: Option<String>,
    ) -> Result<ApiResponse, ApiError> {
        let started = Instant::now();
        let signed = authorization.is_some();
        let mut builder = self
            .http
            .request(request.method.clone(), url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(value) = authorization {
            let value = HeaderValue::from_str(&value).map_err(|_| {
                ApiError::Config(
                    "the public key contains characters not allowed in a header".into(),
                )
            })?;
            builder = builder.header(AUTHORIZATION, value);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        if let Some(stamp) = &request.stamp {
            let latest = *self.latest_date.lock().unwrap_or_else(|p| p.into_inner());
            stamp.note(|d| d.before = latest);
        }
        let result = async {
            let mut response = builder.send().await.map_err(|e| {
                // A connect failure means nothing reached the server.
                request.transport_error(chain(&e), !e.is_connect(), transport_kind(&e))
            })?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            if let Some(date) = date_of(&headers) {
                *self.latest_date.lock().unwrap_or_else(|p| p.into_inner()) = Some(date);
                if let Some(stamp) = &request.stamp {
                    stamp.note(|d| d.answer = Some(date));
                }
            }
            let too_large = |length: Option<u64>| ApiError::BodyTooLarge {
                method: request.method.to_string(),
                path: request.path.clone(),
                status,
                limit: self.max_body_bytes,
                length,
                trace_id: error::trace_id(Some(&headers), &[]),
            };
            let announced = headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if announced.is_some_and(|n| n > self.max_body_bytes) {
                return Err(too_large(announced));
            }
            // Read chunk by chunk, never more than the cap.
            let mut body = Vec::with_capacity(announced.unwrap_or(0) as usize);
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| request.transport_error(chain(&e), true, read_kind(&e)))?
            {
                if body.len() as u64 + chunk.len() as u64 > self.max_body_bytes {
                    return Err(too_large(announced));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(ApiResponse {
                status,
                headers,
                body,
                attempts: 1,
            })
        }
        .await;
        let elapsed = started.elapsed();
        match &result {
            Ok(r) => {
                let where_ = match log_trace_id(r) {
                    Some(id) => format!("host {}, trace id {id}", self.host),
                    None => format!("host {}", self.host),
                };
                // The first request of a nonce session carries no
                // credentials: its 401 is Digest's challenge, not a refusal.
                let note = if r.status == 401 && !signed {
                    ": the Digest challenge, expected before the first signed request; sending again with credentials"
                } else {
                    ""
                };
                log::debug!(
                    "TiDB Cloud API {} {} -> {} in {:.1?} ({where_}){note}",
                    request.method,
                    request.path,
                    r.status,
                    elapsed
                )
            }
            Err(e) => log::debug!(
                "TiDB Cloud API {} {} -> failed in {:.1?} (host {}): {e}",
                request.method,
                request.path,
                elapsed,
                self.host
            ),
        }
        result
    }
}

/// Most exchanges for one request: first contact or a stale nonce each
/// cost one more.
const MAX_AUTH_EXCHANGES: usize = 3;

#[async_trait]
impl Transport for HttpTransport {
    async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, ApiError> {
        let url = Url::parse(&format!("{}{}", self.base, request.path))
            .map_err(|e| ApiError::Config(format!("bad request path {:?}: {e}", request.path)))?;
        // The Digest `uri` is the request-target exactly as sent.
        let uri = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let method = request.method.as_str();

        // This request's own nonce session (see `digest`): none on first
        // contact, in which case the server's 401 brings one.
        let mut session = self.auth.checkout();
        let mut exchanges = 0;
        loop {
            exchanges += 1;
            let authorization = session
                .as_mut()
                .map(|s| self.auth.authorize(s, method, &uri));
            let sent_credentials = authorization.is_some();
            let response = match self.exchange(request, &url, authorization).await {
                Ok(response) => response,
                Err(e) => {
                    // The count was used either way; the next one is higher.
                    self.release(session);
                    return Err(e);
                }
            };
            let challenge = (response.status == 401)
                .then(|| {
                    Challenge::select(
                        response
                            .headers
                            .get_all(WWW_AUTHENTICATE)
                            .iter()
                            .filter_map(|v| v.to_str().ok()),
                    )
                })
                .flatten();
            let Some(challenge) = challenge else {
                self.release(session);
                if (300..400).contains(&response.status) {
                    return Err(redirect_error(request, &response));
                }
                return Ok(response);
            };
            // Sending again helps on first contact and when the nonce was
            // stale (expired or replayed: the credentials were right).
            // Otherwise the credentials are wrong.
            let again = !sent_credentials || challenge.stale;
            if challenge.stale {
                log::debug!("TiDB Cloud API nonce was stale; using the fresh one");
            }
            if !again {
                log::debug!(
                    "TiDB Cloud API {} {}: the signed request was refused (401): the API key is wrong",
                    request.method,
                    request.path
                );
            }
            session = Some(NonceSession::new(challenge));
            if !again || exchanges >= MAX_AUTH_EXCHANGES {
                self.release(session);
                return Ok(response);
            }
        }
    }
}

/// The endpoint's host, with its port when the URL names one (never the
/// URL's user information).
fn log_host(base: &Url) -> String {
    let host = base.host_str().unwrap_or("?");
    match base.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// The trace id of an answer: the header, else (for an error) the
/// envelope's `RequestInfo`.
fn log_trace_id(response: &ApiResponse) -> Option<String> {
    let details = if response.is_success() {
        Vec::new()
    } else {
        serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|v| v.get("details")?.as_array().cloned())
            .unwrap_or_default()
    };
    error::trace_id(Some(&response.headers), &details)
}

/// Installs rustls' ring provider as the process default, once. reqwest's
/// `rustls-no-provider` feature expects one; if another part of the process
/// installed one first, that one is used.
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A 3xx answer as an error naming where it pointed.
fn redirect_error(request: &ApiRequest, response: &ApiResponse) -> ApiError {
    let location = response
        .headers
        .get(LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .map(|l| error::sanitize(&l, 512))
        .filter(|l| !l.is_empty());
    ApiError::Redirect {
        method: request.method.to_string(),
        path: request.path.clone(),
        status: response.status,
        location,
        trace_id: error::trace_id(Some(&response.headers), &[]),
    }
}

/// What kind of failure a send error is.
fn transport_kind(e: &reqwest::Error) -> TransportKind {
    if e.is_timeout() {
        TransportKind::Timeout
    } else if e.is_connect() {
        TransportKind::Connect
    } else if e.is_request() || e.is_body() {
        // The connection was made and the request written (or being
        // written); then it was closed or reset without an answer.
        TransportKind::Dropped
    } else {
        TransportKind::Other
    }
}

/// What kind of failure an error while reading the body is.
fn read_kind(e: &reqwest::Error) -> TransportKind {
    if e.is_timeout() {
        TransportKind::Timeout
    } else {
        TransportKind::Dropped
    }
}

/// An error with its sources, e.g. "error sending request: connection refused".
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.9.9.9",
            "localhost",
            "LOCALHOST",
            "[::1]",
            "::1",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "[::2]",
            "localhost.example.com",
            "example.com",
            "",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn user_agent_has_its_own_product_token_and_appends() {
        let v = env!("CARGO_PKG_VERSION");
        assert_eq!(user_agent(None, None), format!("{PRODUCT}/{v}"));
        assert!(!PRODUCT.starts_with("terraform-provider-tidbcloud"));
        assert_eq!(
            user_agent(Some("Terraform/1.11.4"), Some(" ci-run/7 ")),
            format!("{PRODUCT}/{v} Terraform/1.11.4 ci-run/7")
        );
        assert_eq!(user_agent(Some(""), Some("")), format!("{PRODUCT}/{v}"));
    }

    #[test]
    fn idempotent_methods() {
        assert!(ApiRequest::new(Method::GET, "/").is_idempotent());
        assert!(ApiRequest::new(Method::DELETE, "/").is_idempotent());
        assert!(!ApiRequest::new(Method::POST, "/").is_idempotent());
        assert!(ApiRequest::new(Method::POST, "/")
            .read_only()
            .is_idempotent());
        assert!(ApiRequest::new(Method::POST, "/:detach")
            .idempotent()
            .is_idempotent());
    }

    #[test]
    fn debug_of_the_transport_hides_the_private_key() {
        let base = Url::parse("http://127.0.0.1:1").unwrap();
        let t = HttpTransport::new(
            &base,
            "pub",
            "super-secret-private",
            "ua",
            Duration::from_secs(1),
            Duration::from_secs(1),
            MAX_BODY_BYTES,
        )
        .unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains("super-secret-private"), "{shown}");
    }
}
