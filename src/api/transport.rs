//! The bottom layer: one API request over HTTP with Digest auth.
//!
//! Every layer of the client implements [`Transport`]; the stack is
//! `Retrying<RateLimited<HttpTransport>>`, built by [`Client`](super::Client).
//! A layer sees a request described independently of the HTTP library
//! ([`ApiRequest`]) and returns the raw answer ([`ApiResponse`]) whatever its
//! status; only network failures are errors at this level. Turning error
//! statuses into [`ApiError`]s is the operations' job.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE,
};
use reqwest::{Method, Url};

use super::config::is_loopback;
use super::digest::{Challenge, DigestAuth, NonceSession};
use super::error::ApiError;

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
}

impl ApiRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        ApiRequest {
            method,
            path: path.into(),
            body: None,
            read_only: false,
        }
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

    /// GET, HEAD, PUT and DELETE may be repeated without changing the outcome.
    pub fn is_idempotent(&self) -> bool {
        self.read_only
            || matches!(
                self.method,
                Method::GET | Method::HEAD | Method::PUT | Method::DELETE
            )
    }

    /// A transport error for this request.
    pub(crate) fn transport_error(&self, message: String, maybe_sent: bool) -> ApiError {
        ApiError::Transport {
            method: self.method.to_string(),
            path: self.path.clone(),
            message,
            maybe_sent,
        }
    }
}

/// The answer to an [`ApiRequest`], whatever its status.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
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
    auth: DigestAuth,
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
            auth: DigestAuth::new(public_key, private_key),
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
        let result = async {
            let response = builder.send().await.map_err(|e| {
                // A connect failure means nothing reached the server.
                request.transport_error(chain(&e), !e.is_connect())
            })?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|e| request.transport_error(chain(&e), true))?;
            Ok(ApiResponse {
                status,
                headers,
                body: body.to_vec(),
            })
        }
        .await;
        let elapsed = started.elapsed();
        match &result {
            Ok(r) => log::debug!(
                "TiDB Cloud API {} {} -> {} in {:.1?}",
                request.method,
                request.path,
                r.status,
                elapsed
            ),
            Err(e) => log::debug!(
                "TiDB Cloud API {} {} -> failed in {:.1?}: {e}",
                request.method,
                request.path,
                elapsed
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
                return Ok(response);
            };
            // Sending again helps on first contact and when the nonce was
            // stale (expired or replayed: the credentials were right).
            // Otherwise the credentials are wrong.
            let again = !sent_credentials || challenge.stale;
            if challenge.stale {
                log::debug!("TiDB Cloud API nonce was stale; using the fresh one");
            }
            session = Some(NonceSession::new(challenge));
            if !again || exchanges >= MAX_AUTH_EXCHANGES {
                self.release(session);
                return Ok(response);
            }
        }
    }
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
    fn idempotent_methods() {
        assert!(ApiRequest::new(Method::GET, "/").is_idempotent());
        assert!(ApiRequest::new(Method::DELETE, "/").is_idempotent());
        assert!(!ApiRequest::new(Method::POST, "/").is_idempotent());
        assert!(ApiRequest::new(Method::POST, "/")
            .read_only()
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
        )
        .unwrap();
        let shown = format!("{t:?}");
        assert!(!shown.contains("super-secret-private"), "{shown}");
    }
}
