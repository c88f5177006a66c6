//! The TiDB Cloud API client: one thin function per operation of the
//! private link swagger, plus the cluster lookup used for precondition
//! checks.
//!
//! Each operation builds a path and body, sends it through the layer stack
//! (`Retrying<RateLimited<HttpTransport>>`, see [`transport`](super::transport))
//! and decodes the answer or classifies the error.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use reqwest::Method;
use serde::de::DeserializeOwned;

use super::config::{self, ClientConfig, ClientOptions};
use super::error::ApiError;
use super::models::{
    AttachDomain, AttachDomainsBody, AvailabilityZones, Cluster, ConnectionState,
    CreatePrivateLinkConnectionBody, DetachDomainsBody, ListPrivateLinkConnectionsResponse,
    PrivateLinkConnection,
};
use super::op::Op;
use super::ratelimit::{RateLimited, RateLimiter};
use super::retry::Retrying;
use super::transport::{self, ApiRequest, ApiResponse, HttpTransport, Stamp, Transport};

/// Page size used when reading all pages (the API's maximum).
pub const MAX_PAGE_SIZE: u32 = 100;

/// Safety net against a server that keeps returning next page tokens.
const MAX_PAGES: usize = 1_000;

/// A TiDB Cloud API client. Cheap to clone; clones share the connection
/// pool, the Digest nonce and the rate limit budget.
///
/// A client may be a view for one operation ([`within`](Self::within)):
/// its calls never wait for the rate limit, or before a retry, past the
/// operation's deadline, and stop waiting when it is cancelled. Without
/// one, each call waits for the rate limit at most
/// [`RateLimitOptions::max_wait`](super::RateLimitOptions::max_wait).
/// A [`polling`](Self::polling) view marks its requests as polls, which
/// wait behind every other request for budget.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    deadline: Option<Instant>,
    cancel: Option<watch::Receiver<bool>>,
    poll: bool,
    stamp: Option<Stamp>,
}

struct Inner {
    endpoint: String,
    public_key: String,
    stack: Box<dyn Transport>,
    limiter: Arc<RateLimiter>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .field("public_key", &self.inner.public_key)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with default timeouts, retries and rate limit handling.
    pub fn new(cfg: ClientConfig) -> Result<Client, ApiError> {
        Client::with_options(cfg, ClientOptions::default())
    }

    /// A client with explicit tunables.
    pub fn with_options(cfg: ClientConfig, options: ClientOptions) -> Result<Client, ApiError> {
        let base = config::validate_endpoint(&cfg.endpoint)?;
        if cfg.public_key.trim().is_empty() {
            return Err(ApiError::Config(
                "the public key is empty: set public_key or TIDBCLOUD_PUBLIC_KEY".into(),
            ));
        }
        if cfg.private_key.is_empty() {
            return Err(ApiError::Config(
                "the private key is empty: set private_key or TIDBCLOUD_PRIVATE_KEY".into(),
            ));
        }
        let append = std::env::var(transport::APPEND_USER_AGENT_ENV).ok();
        let user_agent = transport::user_agent(cfg.user_agent_suffix.as_deref(), append.as_deref());
        let http = HttpTransport::new(
            &base,
            &cfg.public_key,
            &cfg.private_key,
            &user_agent,
            options.connect_timeout,
            options.request_timeout,
            options.max_body_bytes,
        )?;
        Ok(Client::over(base.as_str(), cfg.public_key, http, options))
    }

    /// A client over `transport`, wrapped in the rate limit and retry
    /// layers.
    fn over(
        endpoint: &str,
        public_key: String,
        transport: impl Transport + 'static,
        options: ClientOptions,
    ) -> Client {
        let limited = RateLimited::new(transport, options.rate_limit);
        let limiter = limited.limiter();
        let stack = Retrying::new(limited, options.retry);
        Client {
            inner: Arc::new(Inner {
                endpoint: endpoint.trim_end_matches('/').to_string(),
                public_key,
                stack: Box::new(stack),
                limiter,
            }),
            deadline: None,
            cancel: None,
            poll: false,
            stamp: None,
        }
    }

    /// A client over another transport (an in-process model of the API, for
    /// tests and simulations), with the same rate limit and retry layers as
    /// the HTTP client. `endpoint` is only reported, never dialled.
    pub fn with_transport(
        endpoint: &str,
        transport: impl Transport + 'static,
        options: ClientOptions,
    ) -> Client {
        Client::over(endpoint, String::new(), transport, options)
    }

    /// The same client (shared pool, nonce and rate limit budget) whose
    /// calls wait for the rate limit, and before retries, only until
    /// `deadline`, instead of the default bound. A wait that polls until
    /// its own timeout uses this, so a persistent 429 ends the wait with
    /// [`ApiError::RateLimited`] at its timeout, not later.
    pub fn with_deadline(&self, deadline: Instant) -> Client {
        Client {
            deadline: Some(deadline),
            ..self.clone()
        }
    }

    /// A new operation on this client's budget: counted in its rate
    /// limiter's tally until dropped, with a deadline and a cancel signal.
    pub fn operation(&self, deadline: Option<Instant>, cancel: watch::Receiver<bool>) -> Op {
        Op::counted(self.inner.limiter.tally(), deadline, cancel)
    }

    /// The view of this client for `op`: its calls wait no longer than the
    /// operation's deadline and end their waits when it is cancelled.
    pub fn within(&self, op: &Op) -> Client {
        Client {
            deadline: op.deadline(),
            cancel: Some(op.cancel()),
            ..self.clone()
        }
    }

    /// Whether the operation of this view was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| *c.borrow())
    }

    /// The view of this client whose requests are polls (see
    /// [`ratelimit`](super::ratelimit)).
    pub fn polling(&self) -> Client {
        Client {
            poll: true,
            ..self.clone()
        }
    }

    /// The view of this client whose requests note the server's `Date`
    /// headers around them in `stamp` (the latest one seen before each was
    /// written, and the one of its answer; see [`Stamp`]).
    pub fn stamped(&self, stamp: &Stamp) -> Client {
        Client {
            stamp: Some(stamp.clone()),
            ..self.clone()
        }
    }

    /// [`with_deadline`](Self::with_deadline) `timeout` from now.
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        self.with_deadline(Instant::now() + timeout)
    }

    /// The deadline of this view, if it has one.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The endpoint in use, e.g. `https://serverless.tidbapi.com`.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// `GET /v1beta1/clusters/{clusterId}`.
    pub async fn get_cluster(&self, cluster_id: &str) -> Result<Cluster, ApiError> {
        let path = cluster_path(cluster_id)?;
        self.call(ApiRequest::new(Method::GET, path)).await
    }

    /// Every connection of a cluster, following `nextPageToken` with the
    /// largest page size. Connections in lists carry no `attachedDomains`.
    pub async fn list_private_link_connections(
        &self,
        cluster_id: &str,
        state: Option<&ConnectionState>,
    ) -> Result<Vec<PrivateLinkConnection>, ApiError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let page = self
                .list_private_link_connections_page(
                    cluster_id,
                    state,
                    Some(MAX_PAGE_SIZE),
                    token.as_deref(),
                )
                .await?;
            all.extend(page.private_link_connections);
            match page.next_page_token {
                Some(next) if seen.insert(next.clone()) => token = Some(next),
                Some(_) => {
                    return Err(ApiError::Decode {
                        method: "GET".into(),
                        path: connections_path(cluster_id).unwrap_or_default(),
                        message: "the API returned a next page token it had returned before".into(),
                    })
                }
                None => return Ok(all),
            }
        }
        Err(ApiError::Decode {
            method: "GET".into(),
            path: connections_path(cluster_id).unwrap_or_default(),
            message: format!("more than {MAX_PAGES} pages"),
        })
    }

    /// `GET /v1beta1/clusters/{clusterId}/privateLinkConnections`: one page.
    /// `attached_domains` is always empty in it (lists are not trusted for
    /// attachments).
    pub async fn list_private_link_connections_page(
        &self,
        cluster_id: &str,
        state: Option<&ConnectionState>,
        page_size: Option<u32>,
        page_token: Option<&str>,
    ) -> Result<ListPrivateLinkConnectionsResponse, ApiError> {
        let mut query = Vec::new();
        if let Some(size) = page_size {
            query.push(format!("pageSize={size}"));
        }
        if let Some(token) = page_token.filter(|t| !t.is_empty()) {
            query.push(format!("pageToken={}", segment(token)));
        }
        if let Some(state) = state {
            query.push(format!("state={}", segment(state.as_str())));
        }
        let mut path = connections_path(cluster_id)?;
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query.join("&"));
        }
        let mut page: ListPrivateLinkConnectionsResponse =
            self.call(ApiRequest::new(Method::GET, path)).await?;
        // The swagger leaves attachments in list answers open: whatever a
        // list says of them (even `attachedDomains: []`) is ignored; only
        // the GET of one connection tells.
        for c in &mut page.private_link_connections {
            c.attached_domains.clear();
        }
        Ok(page)
    }

    /// `GET .../privateLinkConnections/{id}`, with `attachedDomains`.
    pub async fn get_private_link_connection(
        &self,
        cluster_id: &str,
        id: &str,
    ) -> Result<PrivateLinkConnection, ApiError> {
        self.call(ApiRequest::new(
            Method::GET,
            connection_path(cluster_id, id)?,
        ))
        .await
    }

    /// `POST .../privateLinkConnections`. Not idempotent and never retried
    /// once sent: a 5xx, a lost connection or a success without
    /// `privateLinkConnectionId` returns [`ApiError::Ambiguous`], and the
    /// caller must look for the connection before creating again
    /// ([`ApiError::create_outcome`] tells which case it is).
    /// An empty `conn.cluster_id` is filled in from `cluster_id`.
    pub async fn create_private_link_connection(
        &self,
        cluster_id: &str,
        conn: &PrivateLinkConnection,
    ) -> Result<PrivateLinkConnection, ApiError> {
        let mut conn = conn.clone();
        if conn.cluster_id.is_empty() {
            conn.cluster_id = cluster_id.to_string();
        }
        let request = ApiRequest::new(Method::POST, connections_path(cluster_id)?).with_json(
            &CreatePrivateLinkConnectionBody {
                private_link_connection: &conn,
            },
        )?;
        let path = request.path.clone();
        let ambiguous = |cause| ApiError::Ambiguous {
            method: "POST".into(),
            path: path.clone(),
            cause: Box::new(cause),
        };
        match self.call::<PrivateLinkConnection>(request).await {
            Ok(created) if created.private_link_connection_id.is_empty() => {
                Err(ambiguous(ApiError::Decode {
                    method: "POST".into(),
                    path: path.clone(),
                    message: "the answer has no privateLinkConnectionId".into(),
                }))
            }
            Ok(created) => Ok(created),
            Err(e) if e.outcome_unknown() => Err(ambiguous(e)),
            Err(e) => Err(e),
        }
    }

    /// `DELETE .../privateLinkConnections/{id}`. Returns once the API has
    /// accepted the deletion (the connection goes DELETING, then away).
    ///
    /// Idempotent, so retried on 5xx and transport errors like a read. A
    /// [`ApiError::NotFound`] means there is nothing left to delete: either
    /// there was none, or an earlier attempt of this call, whose answer was
    /// lost, deleted it ([`ApiError::not_found_after_retry`]); either way
    /// the deletion is done.
    pub async fn delete_private_link_connection(
        &self,
        cluster_id: &str,
        id: &str,
    ) -> Result<(), ApiError> {
        // The answer is the connection being deleted; nothing in it is needed.
        self.send(ApiRequest::new(
            Method::DELETE,
            connection_path(cluster_id, id)?,
        ))
        .await
        .map(drop)
    }

    /// `GET .../privateLinkConnections:getAvailabilityZones`: the TiDB Cloud
    /// account to allow on the endpoint service and the AZs it can reach.
    pub async fn get_availability_zones(
        &self,
        cluster_id: &str,
    ) -> Result<AvailabilityZones, ApiError> {
        let path = format!("{}:getAvailabilityZones", connections_path(cluster_id)?);
        self.call(ApiRequest::new(Method::GET, path)).await
    }

    /// `POST .../privateLinkConnections/{id}:attachDomains`. With
    /// `validate_only` nothing is attached and the answer previews the
    /// domains (and a generated unique name). A real attach is not retried
    /// on 5xx or lost connections (the error is returned as is); a dry run is
    /// retried like a read.
    pub async fn attach_domains(
        &self,
        cluster_id: &str,
        id: &str,
        domain: &AttachDomain,
        validate_only: bool,
    ) -> Result<AttachDomain, ApiError> {
        let path = format!("{}:attachDomains", connection_path(cluster_id, id)?);
        let mut request = ApiRequest::new(Method::POST, path).with_json(&AttachDomainsBody {
            attach_domain: domain,
            validate_only,
        })?;
        if validate_only {
            // A dry run changes nothing: retry it like a read.
            request = request.read_only();
        }
        self.call(request).await
    }

    /// `POST .../privateLinkConnections/{id}:detachDomains`. Returns once
    /// the API has accepted the detach (the domains go DELETING, then away).
    ///
    /// Idempotent, so retried on 5xx and transport errors like a read (a
    /// real attach is not: it is reconciled by its caller). A
    /// [`ApiError::NotFound`] means the attachment (or its connection) is
    /// gone: the detach is done; [`ApiError::not_found_after_retry`] tells
    /// whether an earlier attempt of this call did it.
    pub async fn detach_domains(
        &self,
        cluster_id: &str,
        id: &str,
        attach_domain_id: &str,
    ) -> Result<(), ApiError> {
        let path = format!("{}:detachDomains", connection_path(cluster_id, id)?);
        let request = ApiRequest::new(Method::POST, path)
            .with_json(&DetachDomainsBody { attach_domain_id })?
            .idempotent();
        self.send(request).await.map(drop)
    }

    /// Sends a request; any status outside 2xx becomes an [`ApiError`].
    async fn send(&self, request: ApiRequest) -> Result<ApiResponse, ApiError> {
        let mut request = request.with_deadline(self.deadline);
        request.cancel = self.cancel.clone();
        request.poll = self.poll;
        request.stamp = self.stamp.clone();
        let response = self.inner.stack.send(&request).await?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(ApiError::from_http(
                request.method.as_str(),
                &request.path,
                response.status,
                Some(&response.headers),
                &response.body,
                response.attempts,
            ))
        }
    }

    /// Sends a request and decodes a successful answer.
    async fn call<T: DeserializeOwned>(&self, request: ApiRequest) -> Result<T, ApiError> {
        let method = request.method.to_string();
        let path = request.path.clone();
        let response = self.send(request).await?;
        serde_json::from_slice(&response.body).map_err(|e| ApiError::Decode {
            method,
            path,
            message: format!("the body is not the expected JSON: {e}"),
        })
    }
}

/// `/v1beta1/clusters/{clusterId}`.
fn cluster_path(cluster_id: &str) -> Result<String, ApiError> {
    Ok(format!(
        "/v1beta1/clusters/{}",
        id_segment(cluster_id, "cluster id")?
    ))
}

/// `/v1beta1/clusters/{clusterId}/privateLinkConnections`.
fn connections_path(cluster_id: &str) -> Result<String, ApiError> {
    Ok(format!(
        "{}/privateLinkConnections",
        cluster_path(cluster_id)?
    ))
}

/// `/v1beta1/clusters/{clusterId}/privateLinkConnections/{id}`.
fn connection_path(cluster_id: &str, id: &str) -> Result<String, ApiError> {
    Ok(format!(
        "{}/{}",
        connections_path(cluster_id)?,
        id_segment(id, "private link connection id")?
    ))
}

/// An id as one path segment. Empty ids and dot segments (`.`, `..`, which
/// URL parsing would resolve into another path, encoded or not) are refused.
fn id_segment(raw: &str, what: &str) -> Result<String, ApiError> {
    if raw.is_empty() || raw.bytes().all(|b| b == b'.') {
        return Err(ApiError::Config(format!("{raw:?} is not a valid {what}")));
    }
    Ok(segment(raw))
}

/// Everything but RFC 3986 unreserved characters (non-ASCII bytes are
/// always encoded).
const NOT_UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes everything but RFC 3986 unreserved characters, so an id
/// can never change the path (`/`, `?`, `#`, `:`) or the query (`&`, `=`).
fn segment(raw: &str) -> String {
    percent_encoding::utf8_percent_encode(raw, NOT_UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_escape_their_path_segment() {
        assert_eq!(segment("plc-abc_1.2~"), "plc-abc_1.2~");
        assert_eq!(segment("../x?y=1&z#"), "..%2Fx%3Fy%3D1%26z%23");
        assert_eq!(segment("a:b é"), "a%3Ab%20%C3%A9");
        assert_eq!(
            connection_path("1", "plc-1").expect("path"),
            "/v1beta1/clusters/1/privateLinkConnections/plc-1"
        );
    }

    #[test]
    fn dot_segments_and_empty_ids_are_refused() {
        for bad in ["", ".", "..", "..."] {
            assert!(connection_path("1", bad).is_err(), "{bad:?}");
            assert!(cluster_path(bad).is_err(), "{bad:?}");
        }
        assert!(connection_path("1", "a.b").is_ok());
    }

    #[test]
    fn new_checks_configuration() {
        let cfg = |endpoint: &str, public: &str, private: &str| ClientConfig {
            endpoint: endpoint.into(),
            public_key: public.into(),
            private_key: private.into(),
            user_agent_suffix: None,
        };
        assert!(Client::new(cfg("http://127.0.0.1:1", "p", "s")).is_ok());
        let err = Client::new(cfg("http://example.com", "p", "s")).unwrap_err();
        assert!(matches!(err, ApiError::Config(_)));
        let err = Client::new(cfg("", "", "s")).unwrap_err();
        assert!(err.to_string().contains("TIDBCLOUD_PUBLIC_KEY"));
        let err = Client::new(cfg("", "p", "")).unwrap_err();
        assert!(err.to_string().contains("TIDBCLOUD_PRIVATE_KEY"));
    }

    /// The resources call the client from tonic handlers, which need `Send`
    /// futures; this fails to compile if one is not.
    #[allow(dead_code)]
    fn futures_are_send(c: &Client, conn: &PrivateLinkConnection, d: &AttachDomain) {
        fn send<T: Send>(_: T) {}
        send(c.get_cluster("1"));
        send(c.list_private_link_connections("1", None));
        send(c.list_private_link_connections_page("1", None, None, None));
        send(c.get_private_link_connection("1", "p"));
        send(c.create_private_link_connection("1", conn));
        send(c.delete_private_link_connection("1", "p"));
        send(c.get_availability_zones("1"));
        send(c.attach_domains("1", "p", d, true));
        send(c.detach_domains("1", "p", "a"));
        fn shared<T: Send + Sync + Clone + 'static>() {}
        shared::<Client>();
    }

    #[test]
    fn an_https_client_builds_with_the_ring_provider() {
        let client = Client::new(ClientConfig {
            endpoint: String::new(),
            public_key: "p".into(),
            private_key: "s".into(),
            user_agent_suffix: None,
        })
        .unwrap();
        assert_eq!(client.endpoint(), "https://serverless.tidbapi.com");
    }

    #[test]
    fn debug_of_the_client_hides_the_private_key() {
        let client = Client::new(ClientConfig {
            endpoint: "http://localhost:1".into(),
            public_key: "public-abc".into(),
            private_key: "private-xyz-123".into(),
            user_agent_suffix: None,
        })
        .unwrap();
        let shown = format!("{client:?} {:#?}", client.clone());
        assert!(shown.contains("public-abc"));
        assert!(!shown.contains("private-xyz-123"), "{shown}");
    }
}
