//! Typed errors of the API client.
//!
//! The API reports errors as an HTTP status plus a grpc-gateway envelope
//! `{code, message, details}`. [`ApiError::from_http`] classifies them by
//! the HTTP status first (404 gone, 409 conflict, 429 rate limit, 401/403
//! credentials), then by the envelope's gRPC code, then by the message, so
//! an unfamiliar code in a familiar status class behaves like its class and
//! a body that is not the envelope (a proxy's HTML page, plain text) still
//! yields a typed error.
//!
//! Every variant renders as a sentence that says what happened and what to
//! do, names the HTTP method and path, and, when the API sent one, the
//! trace id (`X-Debug-Trace-Id`, or the envelope's
//! `google.rpc.RequestInfo.requestId`) for support. Text that came from the
//! server is [sanitised](sanitize): no control characters, no terminal
//! escapes, no bidi controls, at most [`MAX_MESSAGE_BYTES`]. None ever
//! contains a credential.

use std::fmt;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;

/// Longest server-provided message kept, in bytes; longer ones are cut with
/// a note that says how long they were.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// Longest excerpt of a non-envelope error body kept in a message.
const BODY_EXCERPT_BYTES: usize = 200;

/// Longest trace id kept.
const MAX_TRACE_ID_BYTES: usize = 128;

/// The response header that carries the API's trace id.
pub const TRACE_ID_HEADER: &str = "x-debug-trace-id";

/// An error answer of the API: status, envelope and the call it answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorResponse {
    /// HTTP method of the call.
    pub method: String,
    /// Path (and query) of the call, without the endpoint.
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// gRPC code of the envelope (`5` = NOT_FOUND, ...), when present.
    pub code: Option<i32>,
    /// Whether `code` came as a JSON integer, as the API's `Status` sends
    /// it (rather than a string, read leniently).
    pub integer_code: bool,
    /// The API's message (sanitised), or a description of the body when it
    /// was not the envelope.
    pub message: String,
    /// `details` of the envelope, verbatim.
    pub details: Vec<serde_json::Value>,
    /// The API's trace id for this call, to quote to support.
    pub trace_id: Option<String>,
    /// How many times the request was sent (more than 1 when the client
    /// retried it); see [`ApiError::not_found_after_retry`].
    pub attempts: u32,
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (HTTP {} on {} {}",
            self.message, self.status, self.method, self.path
        )?;
        if let Some(id) = &self.trace_id {
            write!(f, "; trace id {id}")?;
        }
        f.write_str(")")
    }
}

/// Why no usable answer arrived, as far as the client can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection was made: DNS, connection refused, TLS handshake, or a
    /// proxy in the way. The request never reached the server.
    Connect,
    /// No answer in time.
    Timeout,
    /// A connection was made and the request sent, then the server (or
    /// something in between) closed it without a complete answer.
    Dropped,
    /// Anything else.
    Other,
}

/// Renders an optional trace id as `; trace id X`.
struct TraceSuffix<'a>(&'a Option<String>);

impl fmt::Display for TraceSuffix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "; trace id {id}"),
            None => Ok(()),
        }
    }
}

/// What a [`ApiError::RateLimited`] shows of the last answer.
struct LastAnswer<'a>(&'a Option<ErrorResponse>);

struct BudgetBack<'a>(&'a Option<Duration>);

impl fmt::Display for BudgetBack<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(d) => write!(
                f,
                "; the budget comes back in {}, later than the request may wait",
                human_duration(*d)
            ),
            None => Ok(()),
        }
    }
}

impl fmt::Display for LastAnswer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(r) => write!(f, "; last answer: {r}"),
            None => Ok(()),
        }
    }
}

/// Whole seconds (or milliseconds, below one second) for messages.
pub(crate) fn human_duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        // Whole seconds first, so that 599.9 s reads "10 min 0 s", never
        // "9 min 60 s".
        let secs = d.as_secs_f64().round() as u64;
        if secs >= 120 {
            format!("{} min {} s", secs / 60, secs % 60)
        } else {
            format!("{secs} s")
        }
    } else {
        format!("{} ms", d.as_millis())
    }
}

struct Human(Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&human_duration(self.0))
    }
}

/// What can go wrong when calling the TiDB Cloud API.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 404: the object does not exist (or is gone).
    #[error("not found: {0}")]
    NotFound(ErrorResponse),

    /// 401: TiDB Cloud rejected the API key.
    #[error(
        "the API key was rejected by TiDB Cloud: check public_key/private_key or \
         TIDBCLOUD_PUBLIC_KEY/TIDBCLOUD_PRIVATE_KEY: {0}"
    )]
    Unauthenticated(ErrorResponse),

    /// 403: the key is valid but may not do this.
    #[error(
        "the API key is not allowed to do this: use a key whose role can manage \
         the cluster's project: {0}"
    )]
    PermissionDenied(ErrorResponse),

    /// 400 (INVALID_ARGUMENT, OUT_OF_RANGE, or any other 4xx refusal of the
    /// request itself): the request is wrong.
    #[error("the API rejected the request as invalid: {0}")]
    InvalidArgument(ErrorResponse),

    /// 400 / FAILED_PRECONDITION: the request is fine, the current state of
    /// the cluster or connection does not allow it.
    #[error("the API refused the request in the current state: {0}")]
    FailedPrecondition(ErrorResponse),

    /// 409: a conflict (ALREADY_EXISTS, ABORTED).
    #[error("already exists: {0}")]
    AlreadyExists(ErrorResponse),

    /// 429 still answered after the client waited as long as it may (the
    /// request's deadline, or [`RateLimitOptions::max_wait`]). Not
    /// transient: the client already waited.
    ///
    /// [`RateLimitOptions::max_wait`]: super::RateLimitOptions::max_wait
    #[error(
        "the TiDB Cloud API rate limit (requests per minute per API key) was exhausted: \
         {method} {path} waited {} for it over {attempts} attempt(s){}{}. Retry later, or run \
         fewer operations at once with this key",
        Human(*.waited),
        BudgetBack(.budget_back_in),
        LastAnswer(.response)
    )]
    RateLimited {
        method: String,
        path: String,
        /// Time spent waiting for the rate limit.
        waited: Duration,
        /// When the budget comes back, if known: the window resets later
        /// than the request could wait (its deadline), so it stopped early.
        budget_back_in: Option<Duration>,
        /// Times the request was sent.
        attempts: u32,
        /// The last 429 answer, if the request was sent at all.
        response: Option<ErrorResponse>,
    },

    /// 5xx: the API (or a gateway in front of it) failed.
    #[error("the TiDB Cloud API failed: {0}. This is usually temporary: retry later")]
    Server(ErrorResponse),

    /// Any other error status.
    #[error("unexpected error answer from the TiDB Cloud API: {0}")]
    Unexpected(ErrorResponse),

    /// No usable answer: see [`TransportKind`].
    #[error("{}", transport_text(method, path, message, *kind))]
    Transport {
        method: String,
        path: String,
        message: String,
        /// `false` when the request certainly never reached the server
        /// (e.g. connection refused); `true` when it may have.
        maybe_sent: bool,
        kind: TransportKind,
    },

    /// A 3xx answer. API calls never follow redirects: a POST followed as a
    /// GET would lose its body and read something else.
    #[error(
        "the TiDB Cloud API answered {method} {path} with a redirect (HTTP {status}) to {}; \
         API calls do not follow redirects. Check the endpoint (it must be the API's own \
         address) and any proxy in between{}",
        .location.as_deref().unwrap_or("no location"),
        TraceSuffix(.trace_id)
    )]
    Redirect {
        method: String,
        path: String,
        status: u16,
        /// The `Location` header, sanitised.
        location: Option<String>,
        trace_id: Option<String>,
    },

    /// An answer larger than the client accepts.
    #[error(
        "the answer to {method} {path} (HTTP {status}) is larger than the {} bytes the provider \
         accepts{}; it was not read. Check the endpoint and any proxy in between{}",
        .limit,
        .length.map(|l| format!(" (Content-Length {l})")).unwrap_or_default(),
        TraceSuffix(.trace_id)
    )]
    BodyTooLarge {
        method: String,
        path: String,
        status: u16,
        /// The cap, in bytes.
        limit: u64,
        /// The announced length, when there was one.
        length: Option<u64>,
        trace_id: Option<String>,
    },

    /// A create whose outcome is unknown (5xx or a connection lost after the
    /// request was sent): the object may exist. Look it up before sending
    /// the request again.
    #[error(
        "the outcome of {method} {path} is unknown, the object may have been created: \
         {cause}. Look it up before creating it again"
    )]
    Ambiguous {
        method: String,
        path: String,
        cause: Box<ApiError>,
    },

    /// A success answer whose body could not be read.
    #[error("unreadable answer from the TiDB Cloud API ({method} {path}): {message}")]
    Decode {
        method: String,
        path: String,
        message: String,
    },

    /// The client was configured wrongly (endpoint, credentials).
    #[error("invalid TiDB Cloud API configuration: {0}")]
    Config(String),
}

fn transport_text(method: &str, path: &str, message: &str, kind: TransportKind) -> String {
    match kind {
        TransportKind::Dropped => format!(
            "the TiDB Cloud API closed the connection without answering {method} {path}: \
             {message}. This is usually temporary: retry later"
        ),
        TransportKind::Timeout => format!(
            "the TiDB Cloud API did not answer {method} {path} in time: {message}. \
             Check the network, or retry later"
        ),
        TransportKind::Connect | TransportKind::Other => format!(
            "could not reach the TiDB Cloud API ({method} {path}): {message}. Check the \
             endpoint, the network and HTTPS_PROXY/NO_PROXY"
        ),
    }
}

/// The grpc-gateway envelope, read leniently.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "lenient_code")]
    code: Option<(i32, bool)>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Option<Vec<serde_json::Value>>,
}

/// The code and whether it was a JSON integer.
fn lenient_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<(i32, bool)>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(|n| (n, true)),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok().map(|n| (n, false)),
        _ => None,
    })
}

/// gRPC codes the classification knows
/// (<https://grpc.github.io/grpc/core/md_doc_statuscodes.html>).
mod code {
    pub const INVALID_ARGUMENT: i32 = 3;
    pub const NOT_FOUND: i32 = 5;
    pub const ALREADY_EXISTS: i32 = 6;
    pub const PERMISSION_DENIED: i32 = 7;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const FAILED_PRECONDITION: i32 = 9;
    pub const ABORTED: i32 = 10;
    pub const OUT_OF_RANGE: i32 = 11;
    pub const UNAVAILABLE: i32 = 14;
    pub const UNAUTHENTICATED: i32 = 16;
}

/// What the failure of a create says about whether the API made the object
/// (see [`ApiError::create_outcome`]). These are assumptions about TiDB
/// Cloud, stated in the troubleshooting guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateOutcome {
    /// The API did not process the request: any 4xx (including a 429), a
    /// 503 whose body is the API's `Status` with the integer code 14
    /// (UNAVAILABLE), a redirect, or a request that never left.
    NotProcessed,
    /// The API may have processed it: every other 5xx (a 504 with an
    /// envelope, a 503 from a proxy without one), a connection dropped
    /// after the request was written, a timeout.
    Ambiguous,
    /// The API processed it but its answer names no id (a 2xx without one,
    /// or one that could not be read).
    ProcessedIdUnknown,
}

/// The trace id: the `X-Debug-Trace-Id` header, else the envelope's
/// `google.rpc.RequestInfo.requestId`.
pub fn trace_id(headers: Option<&HeaderMap>, details: &[serde_json::Value]) -> Option<String> {
    let from_header = headers
        .and_then(|h| h.get(TRACE_ID_HEADER))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let from_details = || {
        details.iter().find_map(|d| {
            let kind = d.get("@type")?.as_str()?;
            if !kind.ends_with("google.rpc.RequestInfo") {
                return None;
            }
            d.get("requestId")?.as_str().map(str::to_string)
        })
    };
    from_header
        .filter(|s| !s.trim().is_empty())
        .or_else(from_details)
        .map(|id| sanitize(id.trim(), MAX_TRACE_ID_BYTES))
        .filter(|id| !id.is_empty())
}

impl ApiError {
    /// Classifies an error answer (any status outside 2xx) without headers.
    pub fn from_response(method: &str, path: &str, status: u16, body: &[u8]) -> ApiError {
        Self::from_http(method, path, status, None, body, 1)
    }

    /// Classifies an error answer (any status outside 2xx): the status
    /// first, then the envelope's gRPC code, then the message. `attempts`
    /// is how many times the request was sent.
    pub fn from_http(
        method: &str,
        path: &str,
        status: u16,
        headers: Option<&HeaderMap>,
        body: &[u8],
        attempts: u32,
    ) -> ApiError {
        let envelope = serde_json::from_slice::<Envelope>(body)
            .ok()
            .filter(|e| e.code.is_some() || e.message.is_some());
        let (code, message, details) = match envelope {
            Some(e) => (
                e.code,
                e.message
                    .map(|m| sanitize(&m, MAX_MESSAGE_BYTES))
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or_else(|| status_text(status)),
                e.details.unwrap_or_default(),
            ),
            None => (None, describe_body(status, body), Vec::new()),
        };
        let integer_code = code.is_some_and(|(_, integer)| integer);
        let code = code.map(|(code, _)| code);
        let response = ErrorResponse {
            method: method.to_string(),
            path: path.to_string(),
            status,
            trace_id: trace_id(headers, &details),
            code,
            integer_code,
            message,
            details,
            attempts,
        };
        match status {
            404 => return ApiError::NotFound(response),
            409 => return ApiError::AlreadyExists(response),
            401 => return ApiError::Unauthenticated(response),
            403 => return ApiError::PermissionDenied(response),
            429 => {
                return ApiError::RateLimited {
                    method: response.method.clone(),
                    path: response.path.clone(),
                    waited: Duration::ZERO,
                    budget_back_in: None,
                    attempts,
                    response: Some(response),
                }
            }
            501 | 505 => return ApiError::Unexpected(response),
            500..=599 => return ApiError::Server(response),
            _ => {}
        }
        // A status without a class of its own (400, other 4xx): the code,
        // then the message.
        match code {
            Some(code::FAILED_PRECONDITION) => return ApiError::FailedPrecondition(response),
            Some(code::INVALID_ARGUMENT | code::OUT_OF_RANGE) => {
                return ApiError::InvalidArgument(response)
            }
            Some(code::NOT_FOUND) => return ApiError::NotFound(response),
            Some(code::ALREADY_EXISTS | code::ABORTED) => return ApiError::AlreadyExists(response),
            Some(code::UNAUTHENTICATED) => return ApiError::Unauthenticated(response),
            Some(code::PERMISSION_DENIED) => return ApiError::PermissionDenied(response),
            Some(code::RESOURCE_EXHAUSTED) => {
                return ApiError::RateLimited {
                    method: response.method.clone(),
                    path: response.path.clone(),
                    waited: Duration::ZERO,
                    budget_back_in: None,
                    attempts,
                    response: Some(response),
                }
            }
            _ => {}
        }
        let lower = response.message.to_ascii_lowercase();
        if status == 400 || (400..500).contains(&status) && code.is_some() {
            // An unfamiliar (or no) code in the 400 class: the message may
            // still say which kind of refusal it is.
            if lower.contains("precondition") || lower.contains("current state") {
                return ApiError::FailedPrecondition(response);
            }
            return ApiError::InvalidArgument(response);
        }
        ApiError::Unexpected(response)
    }

    /// The error answer, for the variants that have one.
    pub fn response(&self) -> Option<&ErrorResponse> {
        match self {
            ApiError::NotFound(r)
            | ApiError::Unauthenticated(r)
            | ApiError::PermissionDenied(r)
            | ApiError::InvalidArgument(r)
            | ApiError::FailedPrecondition(r)
            | ApiError::AlreadyExists(r)
            | ApiError::Server(r)
            | ApiError::Unexpected(r) => Some(r),
            ApiError::RateLimited { response, .. } => response.as_ref(),
            ApiError::Ambiguous { cause, .. } => cause.response(),
            _ => None,
        }
    }

    /// HTTP status of the error answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Redirect { status, .. } | ApiError::BodyTooLarge { status, .. } => {
                Some(*status)
            }
            ApiError::RateLimited { .. } => Some(429),
            _ => self.response().map(|r| r.status),
        }
    }

    /// The API's own message (sanitised), if there was an error answer.
    pub fn api_message(&self) -> Option<&str> {
        self.response().map(|r| r.message.as_str())
    }

    /// The API's trace id for the failed call, to quote to support.
    pub fn trace_id(&self) -> Option<&str> {
        match self {
            ApiError::Redirect { trace_id, .. } | ApiError::BodyTooLarge { trace_id, .. } => {
                trace_id.as_deref()
            }
            _ => self.response().and_then(|r| r.trace_id.as_deref()),
        }
    }

    /// The HTTP method and path of the failed call, when there was one.
    pub fn call(&self) -> Option<(&str, &str)> {
        match self {
            ApiError::RateLimited { method, path, .. }
            | ApiError::Transport { method, path, .. }
            | ApiError::Redirect { method, path, .. }
            | ApiError::BodyTooLarge { method, path, .. }
            | ApiError::Ambiguous { method, path, .. }
            | ApiError::Decode { method, path, .. } => Some((method, path)),
            _ => self
                .response()
                .map(|r| (r.method.as_str(), r.path.as_str())),
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::NotFound(_))
    }
    /// A 404 answered to a request the client had sent before without
    /// getting an answer (a retried DELETE or detach): an earlier attempt
    /// most likely did the job, so the removal is done.
    pub fn not_found_after_retry(&self) -> bool {
        matches!(self, ApiError::NotFound(r) if r.attempts > 1)
    }
    /// 401: TiDB Cloud rejected the API key (wrong or revoked key).
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, ApiError::Unauthenticated(_))
    }
    pub fn is_permission_denied(&self) -> bool {
        matches!(self, ApiError::PermissionDenied(_))
    }
    pub fn is_invalid_argument(&self) -> bool {
        matches!(self, ApiError::InvalidArgument(_))
    }
    pub fn is_failed_precondition(&self) -> bool {
        matches!(self, ApiError::FailedPrecondition(_))
    }
    pub fn is_already_exists(&self) -> bool {
        matches!(self, ApiError::AlreadyExists(_))
    }
    /// A 409 conflict (the same as [`is_already_exists`](Self::is_already_exists)).
    pub fn is_conflict(&self) -> bool {
        self.is_already_exists()
    }
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, ApiError::RateLimited { .. })
    }

    /// Whether the request never left this process because its caller's
    /// operation ended its wait (a cancel, or budget that comes back only
    /// after its deadline). Another caller sharing the request may still
    /// make it under its own operation.
    pub fn ended_before_sending(&self) -> bool {
        match self {
            ApiError::Transport { maybe_sent, .. } => !maybe_sent,
            ApiError::RateLimited { attempts, .. } => *attempts == 0,
            _ => false,
        }
    }
    pub fn is_server_error(&self) -> bool {
        matches!(self, ApiError::Server(_))
    }
    pub fn is_transport(&self) -> bool {
        matches!(self, ApiError::Transport { .. })
    }
    /// What kind of transport failure this is, if it is one.
    pub fn transport_kind(&self) -> Option<TransportKind> {
        match self {
            ApiError::Transport { kind, .. } => Some(*kind),
            ApiError::Ambiguous { cause, .. } => cause.transport_kind(),
            _ => None,
        }
    }
    /// The server (or something in between) accepted the connection and
    /// then closed it without a complete answer: the network, DNS, TLS and
    /// proxy settings worked.
    pub fn is_connection_dropped(&self) -> bool {
        self.transport_kind() == Some(TransportKind::Dropped)
    }
    /// No connection could be made (DNS, refused, TLS, proxy): the place to
    /// look is the endpoint, the network and `HTTPS_PROXY`/`NO_PROXY`.
    pub fn is_unreachable(&self) -> bool {
        self.transport_kind() == Some(TransportKind::Connect)
    }
    pub fn is_redirect(&self) -> bool {
        matches!(self, ApiError::Redirect { .. })
    }
    pub fn is_body_too_large(&self) -> bool {
        matches!(self, ApiError::BodyTooLarge { .. })
    }
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, ApiError::Ambiguous { .. })
    }
    /// Errors that may go away by themselves (the client already retried
    /// what it safely could): server errors and transport errors. A rate
    /// limit is not one: the client has already waited for it as long as
    /// the call allowed.
    pub fn is_transient(&self) -> bool {
        self.is_server_error() || self.is_transport()
    }

    /// What this failure of a create says about whether the API made the
    /// object (see [`CreateOutcome`]).
    pub fn create_outcome(&self) -> CreateOutcome {
        match self {
            ApiError::Ambiguous { cause, .. } => cause.create_outcome(),
            ApiError::Decode { .. } => CreateOutcome::ProcessedIdUnknown,
            ApiError::BodyTooLarge { status, .. } if (200..300).contains(status) => {
                CreateOutcome::ProcessedIdUnknown
            }
            ApiError::Server(r) | ApiError::Unexpected(r) if (500..600).contains(&r.status) => {
                if r.status == 503 && r.integer_code && r.code == Some(code::UNAVAILABLE) {
                    CreateOutcome::NotProcessed
                } else {
                    CreateOutcome::Ambiguous
                }
            }
            ApiError::BodyTooLarge { status, .. } if (500..600).contains(status) => {
                CreateOutcome::Ambiguous
            }
            ApiError::Transport { maybe_sent, .. } if *maybe_sent => CreateOutcome::Ambiguous,
            _ => CreateOutcome::NotProcessed,
        }
    }

    /// Whether a request that failed this way may have changed something on
    /// the server (5xx, or a connection lost after sending).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ApiError::Server(_) => true,
            ApiError::Transport { maybe_sent, .. } => *maybe_sent,
            ApiError::Decode { .. } => true,
            ApiError::BodyTooLarge { status, .. } => (200..300).contains(status),
            _ => false,
        }
    }
}

/// Makes server-provided text safe to show in a terminal: drops control
/// characters (terminal escape sequences whole), bidi controls and other
/// invisible format characters, turns line breaks and tabs into spaces, and
/// cuts the result at `max_bytes` (on a character boundary) with a note
/// saying it was truncated and how long it was as received.
pub fn sanitize(text: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_bytes + 64));
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // ESC: drop the whole sequence (CSI `ESC [ ... final`, OSC
            // `ESC ] ... BEL|ESC \`, or a two-character escape).
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    while let Some(&n) = chars.peek() {
                        chars.next();
                        if ('\u{40}'..='\u{7e}').contains(&n) {
                            break;
                        }
                    }
                }
                Some(']') | Some('P') | Some('_') | Some('^') => {
                    while let Some(n) = chars.next() {
                        if n == '\u{7}' || n == '\u{9c}' {
                            break;
                        }
                        if n == '\u{1b}' {
                            if chars.peek() == Some(&'\\') {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                _ => {}
            },
            // C1 CSI: like `ESC [`.
            '\u{9b}' => {
                for n in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&n) {
                        break;
                    }
                }
            }
            '\n' | '\r' | '\t' => {
                if !out.ends_with(' ') && !out.is_empty() {
                    out.push(' ');
                }
            }
            c if c.is_control() || is_invisible_format(c) => {}
            c => out.push(c),
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    if out.len() <= max_bytes {
        return out;
    }
    // The length as received, so the note says how much there was.
    let total = text.len();
    let mut cut = max_bytes;
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
    out.push_str(&format!("… (truncated: the message was {total} bytes)"));
    out
}

/// Bidi controls and other invisible format characters that can make text
/// read differently from what it is.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{202a}'..='\u{202e}' // LRE, RLE, PDF, LRO, RLO
        | '\u{2066}'..='\u{2069}' // LRI, RLI, FSI, PDI
        | '\u{200e}' | '\u{200f}' // LRM, RLM
        | '\u{061c}' // ALM
        | '\u{200b}'..='\u{200d}' // zero-width space, non-joiner, joiner
        | '\u{2060}' | '\u{feff}' // word joiner, BOM
    )
}

/// The canonical reason phrase, e.g. "Bad Gateway".
fn status_text(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
        .to_string()
}

/// A short description of a body that is not the envelope.
fn describe_body(status: u16, body: &[u8]) -> String {
    let reason = status_text(status);
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() || text.starts_with('<') {
        // Empty, or an HTML page from a proxy or gateway: the status says it all.
        return reason;
    }
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let excerpt = sanitize(&collapsed, BODY_EXCERPT_BYTES);
    format!("{reason}: {excerpt}")
}

#[cfg(test)]
mod tests {

    #[test]
    fn durations_read_in_whole_seconds() {
        let h = |ms: u64| human_duration(Duration::from_millis(ms));
        assert_eq!(h(599_900), "10 min 0 s");
        assert_eq!(h(150_000), "2 min 30 s");
        assert_eq!(h(119_400), "119 s");
        assert_eq!(h(1_400), "1 s");
        assert_eq!(h(250), "250 ms");
    }
    use super::*;
    use reqwest::header::HeaderValue;

    fn classify(status: u16, body: &str) -> ApiError {
        ApiError::from_response("GET", "/v1beta1/clusters/1", status, body.as_bytes())
    }

    #[test]
    fn envelope_codes_pick_the_kind() {
        let e = classify(
            400,
            r#"{"code":9,"message":"the connection has attached domains","details":[]}"#,
        );
        assert!(e.is_failed_precondition(), "{e:?}");
        assert_eq!(e.api_message(), Some("the connection has attached domains"));
        assert!(classify(400, r#"{"code":3,"message":"bad name"}"#).is_invalid_argument());
        assert!(classify(404, r#"{"code":5,"message":"nope"}"#).is_not_found());
        assert!(classify(401, r#"{"code":16,"message":"bad key"}"#).is_unauthenticated());
        assert!(classify(403, r#"{"code":7,"message":"denied"}"#).is_permission_denied());
        assert!(classify(409, r#"{"code":6,"message":"dup"}"#).is_already_exists());
        assert!(classify(429, r#"{"code":8,"message":"slow down"}"#).is_rate_limited());
        assert!(classify(500, r#"{"code":13,"message":"boom"}"#).is_server_error());
        assert!(classify(503, r#"{"code":14,"message":"later"}"#).is_server_error());
        // Code as a string, as some gateways write it.
        assert!(classify(400, r#"{"code":"9","message":"x"}"#).is_failed_precondition());
    }

    #[test]
    fn the_status_decides_before_the_code() {
        // A familiar status with an unfamiliar or contradicting code
        // behaves like its class.
        assert!(classify(404, r#"{"code":13,"message":"x"}"#).is_not_found());
        assert!(classify(409, r#"{"code":10,"message":"aborted"}"#).is_conflict());
        assert!(classify(409, r#"{"code":99,"message":"x"}"#).is_conflict());
        assert!(classify(429, r#"{"code":14,"message":"x"}"#).is_rate_limited());
        assert!(classify(401, r#"{"code":7,"message":"x"}"#).is_unauthenticated());
        assert!(classify(403, r#"{"code":16,"message":"x"}"#).is_permission_denied());
        assert!(classify(503, r#"{"code":5,"message":"x"}"#).is_server_error());
        assert!(classify(400, r#"{"code":42,"message":"x"}"#).is_invalid_argument());
        assert!(classify(400, r#"{"code":11,"message":"x"}"#).is_invalid_argument());
        // Then the message, when the code says nothing.
        assert!(
            classify(400, r#"{"message":"failed precondition: busy"}"#).is_failed_precondition()
        );
        assert!(classify(400, "not allowed in the current state").is_failed_precondition());
        // A 4xx without a class of its own follows the code.
        assert!(classify(412, r#"{"code":9,"message":"x"}"#).is_failed_precondition());
        assert!(matches!(
            classify(501, r#"{"code":12,"message":"x"}"#),
            ApiError::Unexpected(_)
        ));
        // A rate limit is not transient: the client already waited.
        assert!(!classify(429, "").is_transient());
        assert!(classify(502, "").is_transient());
    }

    #[test]
    fn non_envelope_bodies_still_give_typed_errors() {
        let html = "<html><body><h1>502 Bad Gateway</h1></body></html>";
        let e = classify(502, html);
        assert!(e.is_server_error());
        assert_eq!(e.status(), Some(502));
        assert_eq!(e.api_message(), Some("Bad Gateway"));

        let e = classify(429, "Too many requests, slow down");
        assert!(e.is_rate_limited());
        assert_eq!(
            e.api_message(),
            Some("Too Many Requests: Too many requests, slow down")
        );

        assert!(classify(404, "").is_not_found());
        assert!(classify(401, "").is_unauthenticated());
        assert!(classify(400, "{}").is_invalid_argument());
        assert!(classify(400, "null").is_invalid_argument());
        assert!(classify(400, "[1,2]").is_invalid_argument());
        assert!(classify(418, "teapot").to_string().contains("HTTP 418"));
        assert!(matches!(classify(418, ""), ApiError::Unexpected(_)));

        let long = "x".repeat(1000);
        let e = classify(500, &long);
        let m = e.api_message().unwrap();
        assert!(m.len() < 300, "{m}");
        assert!(m.contains("truncated: the message was 1000 bytes"), "{m}");
    }

    #[test]
    fn messages_tell_the_user_what_to_do() {
        let e = classify(401, r#"{"code":16,"message":"invalid digest"}"#);
        let text = e.to_string();
        assert!(text
            .starts_with("the API key was rejected by TiDB Cloud: check public_key/private_key"));
        assert!(text.contains("TIDBCLOUD_PUBLIC_KEY/TIDBCLOUD_PRIVATE_KEY"));
        assert!(text.contains("invalid digest"));
        assert!(text.contains("HTTP 401 on GET /v1beta1/clusters/1"));

        let ambiguous = ApiError::Ambiguous {
            method: "POST".into(),
            path: "/p".into(),
            cause: Box::new(classify(503, "")),
        };
        assert!(ambiguous.is_ambiguous());
        assert_eq!(ambiguous.status(), Some(503));
        assert!(ambiguous
            .to_string()
            .contains("Look it up before creating it again"));
    }

    #[test]
    fn the_trace_id_comes_from_the_header_or_the_details() {
        let mut h = HeaderMap::new();
        h.insert(
            TRACE_ID_HEADER,
            HeaderValue::from_static("trace-from-header"),
        );
        let body = br#"{"code":5,"message":"gone","details":[
            {"@type":"type.googleapis.com/google.rpc.RequestInfo","requestId":"trace-from-details"}]}"#;
        let e = ApiError::from_http("DELETE", "/v1beta1/x", 404, Some(&h), body, 1);
        assert_eq!(e.trace_id(), Some("trace-from-header"));
        assert!(
            e.to_string()
                .contains("HTTP 404 on DELETE /v1beta1/x; trace id trace-from-header"),
            "{e}"
        );
        let e = ApiError::from_http("DELETE", "/v1beta1/x", 404, None, body, 1);
        assert_eq!(e.trace_id(), Some("trace-from-details"));
        assert!(e.to_string().contains("trace id trace-from-details"), "{e}");
        let e = ApiError::from_http("GET", "/x", 502, Some(&h), b"<html>", 1);
        assert_eq!(e.trace_id(), Some("trace-from-header"));
        assert_eq!(classify(500, "").trace_id(), None);
        assert_eq!(e.call(), Some(("GET", "/x")));
    }

    #[test]
    fn server_text_is_sanitised() {
        let hostile = "ok\u{1b}[31mred\u{1b}[0m \u{1b}]0;title\u{7}x\u{202e}evil\u{2066}\u{200f}\u{61c}\0bell\u{7}\r\nnext\u{9b}2Jz";
        let clean = sanitize(hostile, MAX_MESSAGE_BYTES);
        assert_eq!(clean, "okred xevilbell nextz");
        let e = classify(
            400,
            &serde_json::json!({"code": 3, "message": hostile}).to_string(),
        );
        assert_eq!(e.api_message(), Some("okred xevilbell nextz"));
        assert!(!e.to_string().chars().any(|c| c.is_control()));

        let huge = "é".repeat(3 * 1024 * 1024);
        let e = classify(
            400,
            &serde_json::json!({"code": 3, "message": huge}).to_string(),
        );
        let m = e.api_message().unwrap();
        assert!(m.len() < MAX_MESSAGE_BYTES + 100, "{}", m.len());
        assert!(
            m.ends_with("… (truncated: the message was 6291456 bytes)"),
            "{}",
            &m[m.len() - 60..]
        );
        assert_eq!(sanitize("short", 1024), "short");
    }

    #[test]
    fn retried_removals_that_find_nothing_are_done() {
        let first = ApiError::from_http("DELETE", "/x", 404, None, b"", 1);
        let retried = ApiError::from_http("DELETE", "/x", 404, None, b"", 2);
        assert!(first.is_not_found() && !first.not_found_after_retry());
        assert!(retried.is_not_found() && retried.not_found_after_retry());
    }

    /// The classification of a create's failure (the troubleshooting
    /// guide's assumptions about TiDB Cloud).
    #[test]
    fn what_a_failed_create_says_about_its_outcome() {
        let post = |status: u16, body: &str| {
            let e = ApiError::from_response(
                "POST",
                "/v1beta1/clusters/1/privateLinkConnections",
                status,
                body.as_bytes(),
            );
            if e.outcome_unknown() {
                ApiError::Ambiguous {
                    method: "POST".into(),
                    path: "/p".into(),
                    cause: Box::new(e),
                }
            } else {
                e
            }
        };
        let status = |code: &str| format!(r#"{{"code":{code},"message":"m","details":[]}}"#);
        use CreateOutcome::*;
        for (status_code, body, expected) in [
            (400, status("3"), NotProcessed),
            (404, status("5"), NotProcessed),
            (409, status("6"), NotProcessed),
            (429, status("8"), NotProcessed),
            (403, "<html>no</html>".to_string(), NotProcessed),
            (503, status("14"), NotProcessed),
            // Only the API's own Status, with the integer code, says so.
            (503, status("\"14\""), Ambiguous),
            (
                503,
                "<html>Service Unavailable</html>".to_string(),
                Ambiguous,
            ),
            (503, String::new(), Ambiguous),
            (503, status("13"), Ambiguous),
            (504, status("4"), Ambiguous),
            (502, "bad gateway".to_string(), Ambiguous),
            (500, status("13"), Ambiguous),
            (501, status("12"), Ambiguous),
        ] {
            assert_eq!(
                post(status_code, &body).create_outcome(),
                expected,
                "{status_code} {body}"
            );
        }
        let transport = |maybe_sent, kind| ApiError::Transport {
            method: "POST".into(),
            path: "/p".into(),
            message: "m".into(),
            maybe_sent,
            kind,
        };
        assert_eq!(
            transport(false, TransportKind::Connect).create_outcome(),
            NotProcessed
        );
        assert_eq!(
            transport(true, TransportKind::Dropped).create_outcome(),
            Ambiguous
        );
        assert_eq!(
            transport(true, TransportKind::Timeout).create_outcome(),
            Ambiguous
        );
        let no_id = ApiError::Ambiguous {
            method: "POST".into(),
            path: "/p".into(),
            cause: Box::new(ApiError::Decode {
                method: "POST".into(),
                path: "/p".into(),
                message: "the answer has no privateLinkConnectionId".into(),
            }),
        };
        assert_eq!(no_id.create_outcome(), ProcessedIdUnknown);
        assert_eq!(ApiError::Config("x".into()).create_outcome(), NotProcessed);
    }
}
