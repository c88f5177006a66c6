//! Trace ids: every response carries `X-Debug-Trace-Id` (which the TiDB
//! Cloud CLI reads, and users quote to support), and every error envelope
//! carries the same id in `details` as a `google.rpc.RequestInfo`:
//! `{"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": "<id>"}`.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use rand::RngCore;
use serde_json::json;

use crate::error::ErrorEnvelope;

/// The response header.
pub const HEADER: &str = "x-debug-trace-id";
/// The `@type` of the envelope's detail.
pub const REQUEST_INFO: &str = "type.googleapis.com/google.rpc.RequestInfo";

/// A request's trace id, in the request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceId(pub String);

impl TraceId {
    /// A fresh id: 32 lowercase hex digits.
    pub fn new() -> TraceId {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        TraceId(hex::encode(bytes))
    }
}

/// The layer around every route: gives the request an id, and the
/// response the header and (for errors) the envelope's detail.
pub async fn layer(mut request: Request, next: Next) -> Response {
    let id = TraceId::new();
    request.extensions_mut().insert(id.clone());
    let mut response = next.run(request).await;
    if let Some(ErrorEnvelope(error)) = response.extensions_mut().remove::<ErrorEnvelope>() {
        let detail = json!({"@type": REQUEST_INFO, "requestId": id.0});
        if let Ok(bytes) = serde_json::to_vec(&error.body(vec![detail])) {
            response.headers_mut().remove(CONTENT_LENGTH);
            *response.body_mut() = Body::from(bytes);
        }
    }
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fresh_hex() {
        let a = TraceId::new();
        assert_eq!(a.0.len(), 32);
        assert!(a.0.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, TraceId::new());
    }
}
