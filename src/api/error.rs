//! Typed errors of the API client.
//!
//! The API reports errors as an HTTP status plus a grpc-gateway envelope
//! `{code, message, details}`. [`ApiError::from_response`] classifies them by
//! the gRPC code when there is one and by the status otherwise, so a body
//! that is not the envelope (a gateway's HTML 502, a proxy's 429 page) still
//! yields a typed error. Every variant renders as a sentence that says what
//! happened and what to do; none ever contains a credential.

use std::fmt;

use serde::Deserialize;

/// Longest excerpt of a non-JSON error body kept in a message.
const BODY_EXCERPT_CHARS: usize = 200;

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
    /// The API's message, or a description of the body when it was not the
    /// envelope.
    pub message: String,
    /// `details` of the envelope, verbatim.
    pub details: Vec<serde_json::Value>,
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (HTTP {} on {} {})",
            self.message, self.status, self.method, self.path
        )
    }
}

/// What can go wrong when calling the TiDB Cloud API.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 404 / NOT_FOUND.
    #[error("not found: {0}")]
    NotFound(ErrorResponse),

    /// 401 / UNAUTHENTICATED.
    #[error(
        "the API key was rejected: check public_key/private_key or \
         TIDBCLOUD_PUBLIC_KEY/TIDBCLOUD_PRIVATE_KEY: {0}"
    )]
    Unauthenticated(ErrorResponse),

    /// 403 / PERMISSION_DENIED.
    #[error(
        "the API key is not allowed to do this: use a key whose role can manage \
         the cluster's project: {0}"
    )]
    PermissionDenied(ErrorResponse),

    /// 400 / INVALID_ARGUMENT: the request itself is wrong.
    #[error("the API rejected the request as invalid: {0}")]
    InvalidArgument(ErrorResponse),

    /// 400 / FAILED_PRECONDITION: the request is fine, the current state of
    /// the cluster or connection does not allow it.
    #[error("the API refused the request in the current state: {0}")]
    FailedPrecondition(ErrorResponse),

    /// 409 / ALREADY_EXISTS.
    #[error("already exists: {0}")]
    AlreadyExists(ErrorResponse),

    /// 429 / RESOURCE_EXHAUSTED, still there after waiting and retrying.
    #[error(
        "the API rate limit (requests per minute per API key) was still exceeded \
         after waiting: {0}. Retry later, or run fewer operations at once with this key"
    )]
    RateLimited(ErrorResponse),

    /// 5xx: the API failed.
    #[error("the TiDB Cloud API failed: {0}. This is usually temporary: retry later")]
    Server(ErrorResponse),

    /// Any other error status.
    #[error("unexpected error answer from the TiDB Cloud API: {0}")]
    Unexpected(ErrorResponse),

    /// No usable answer: connection refused, DNS, TLS, timeout, dropped
    /// connection.
    #[error(
        "could not reach the TiDB Cloud API ({method} {path}): {message}. Check the \
         endpoint, the network and HTTPS_PROXY/NO_PROXY"
    )]
    Transport {
        method: String,
        path: String,
        message: String,
        /// `false` when the request certainly never reached the server
        /// (e.g. connection refused); `true` when it may have.
        maybe_sent: bool,
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

/// The grpc-gateway envelope, read leniently.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "lenient_code")]
    code: Option<i32>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Option<Vec<serde_json::Value>>,
}

fn lenient_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

impl ApiError {
    /// Classifies an error answer (any status outside 2xx).
    pub fn from_response(method: &str, path: &str, status: u16, body: &[u8]) -> ApiError {
        let envelope = serde_json::from_slice::<Envelope>(body)
            .ok()
            .filter(|e| e.code.is_some() || e.message.is_some());
        let (code, message, details) = match envelope {
            Some(e) => (
                e.code,
                e.message
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or_else(|| status_text(status)),
                e.details.unwrap_or_default(),
            ),
            None => (None, describe_body(status, body), Vec::new()),
        };
        let response = ErrorResponse {
            method: method.to_string(),
            path: path.to_string(),
            status,
            code,
            message,
            details,
        };
        // gRPC codes: https://grpc.github.io/grpc/core/md_doc_statuscodes.html
        match (code, status) {
            (Some(5), _) | (None, 404) => ApiError::NotFound(response),
            (Some(16), _) | (None, 401) => ApiError::Unauthenticated(response),
            (Some(7), _) | (None, 403) => ApiError::PermissionDenied(response),
            (Some(9), _) => ApiError::FailedPrecondition(response),
            (Some(3) | Some(11), _) | (None, 400) => ApiError::InvalidArgument(response),
            (Some(6), _) | (None, 409) => ApiError::AlreadyExists(response),
            (Some(8), _) | (_, 429) => ApiError::RateLimited(response),
            (_, 500..=599) => ApiError::Server(response),
            (Some(4 | 13 | 14 | 15), _) => ApiError::Server(response),
            // An envelope code we do not map: fall back to the status.
            (Some(_), 404) => ApiError::NotFound(response),
            (Some(_), 401) => ApiError::Unauthenticated(response),
            (Some(_), 403) => ApiError::PermissionDenied(response),
            (Some(_), 400) => ApiError::InvalidArgument(response),
            (Some(_), 409) => ApiError::AlreadyExists(response),
            _ => ApiError::Unexpected(response),
        }
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
            | ApiError::RateLimited(r)
            | ApiError::Server(r)
            | ApiError::Unexpected(r) => Some(r),
            ApiError::Ambiguous { cause, .. } => cause.response(),
            _ => None,
        }
    }

    /// HTTP status of the error answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        self.response().map(|r| r.status)
    }

    /// The API's own message, if there was an error answer.
    pub fn api_message(&self) -> Option<&str> {
        self.response().map(|r| r.message.as_str())
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::NotFound(_))
    }
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
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, ApiError::RateLimited(_))
    }
    pub fn is_server_error(&self) -> bool {
        matches!(self, ApiError::Server(_))
    }
    pub fn is_transport(&self) -> bool {
        matches!(self, ApiError::Transport { .. })
    }
    pub fn is_ambiguous(&self) -> bool {
        matches!(self, ApiError::Ambiguous { .. })
    }
    /// Errors that may go away by themselves (the client already retried
    /// what it safely could): server errors, transport errors, rate limits.
    pub fn is_transient(&self) -> bool {
        self.is_server_error() || self.is_transport() || self.is_rate_limited()
    }

    /// Whether a request that failed this way may have changed something on
    /// the server (5xx, or a connection lost after sending).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ApiError::Server(_) => true,
            ApiError::Transport { maybe_sent, .. } => *maybe_sent,
            ApiError::Decode { .. } => true,
            _ => false,
        }
    }
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
    let mut excerpt: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(BODY_EXCERPT_CHARS)
        .collect();
    if text.chars().count() > BODY_EXCERPT_CHARS {
        excerpt.push('…');
    }
    format!("{reason}: {excerpt}")
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(classify(418, "teapot").to_string().contains("HTTP 418"));
        assert!(matches!(classify(418, ""), ApiError::Unexpected(_)));

        let long = "x".repeat(1000);
        let e = classify(500, &long);
        assert!(e.api_message().unwrap().chars().count() < 250);
    }

    #[test]
    fn messages_tell_the_user_what_to_do() {
        let e = classify(401, r#"{"code":16,"message":"invalid digest"}"#);
        let text = e.to_string();
        assert!(text.starts_with("the API key was rejected: check public_key/private_key"));
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
}
