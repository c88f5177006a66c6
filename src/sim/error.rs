//! The error envelope, as grpc-gateway writes it: an HTTP status plus
//! `{"code": <gRPC code>, "message": "...", "details": [...]}`. The
//! [`trace`](crate::trace) layer adds the request's `RequestInfo` to
//! `details`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// The gRPC status codes the simulator uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Unimplemented,
    Internal,
    Unavailable,
    Unauthenticated,
}

impl Code {
    /// The gRPC code number.
    pub fn number(self) -> i32 {
        match self {
            Code::InvalidArgument => 3,
            Code::NotFound => 5,
            Code::AlreadyExists => 6,
            Code::PermissionDenied => 7,
            Code::ResourceExhausted => 8,
            Code::FailedPrecondition => 9,
            Code::Unimplemented => 12,
            Code::Internal => 13,
            Code::Unavailable => 14,
            Code::Unauthenticated => 16,
        }
    }

    /// The HTTP status grpc-gateway maps the code to.
    pub fn status(self) -> StatusCode {
        match self {
            Code::InvalidArgument | Code::FailedPrecondition => StatusCode::BAD_REQUEST,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists => StatusCode::CONFLICT,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }
}

/// An API error: a code and a message in the user's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Code::InvalidArgument, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, message)
    }
    pub fn precondition(message: impl Into<String>) -> Self {
        Self::new(Code::FailedPrecondition, message)
    }
    pub fn exists(message: impl Into<String>) -> Self {
        Self::new(Code::AlreadyExists, message)
    }
}

/// The JSON body of an error.
#[derive(Serialize)]
pub struct Envelope<'a> {
    pub code: i32,
    pub message: &'a str,
    pub details: Vec<serde_json::Value>,
}

/// The error a response carries, for the layer that completes its envelope.
#[derive(Debug, Clone)]
pub struct ErrorEnvelope(pub ApiError);

impl ApiError {
    /// The envelope's JSON with these `details`.
    pub fn body(&self, details: Vec<serde_json::Value>) -> Envelope<'_> {
        Envelope {
            code: self.code.number(),
            message: &self.message,
            details,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.code.status(), Json(self.body(Vec::new()))).into_response();
        response.extensions_mut().insert(ErrorEnvelope(self));
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

/// Parses a JSON request body into `T`, answering INVALID_ARGUMENT with the
/// parser's explanation when it does not fit.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid(
            "the request body is empty; a JSON object is required",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::invalid(format!("the request body is not valid: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_documented_statuses() {
        let table = [
            (Code::InvalidArgument, 3, 400),
            (Code::FailedPrecondition, 9, 400),
            (Code::NotFound, 5, 404),
            (Code::AlreadyExists, 6, 409),
            (Code::Unauthenticated, 16, 401),
            (Code::PermissionDenied, 7, 403),
            (Code::ResourceExhausted, 8, 429),
            (Code::Unimplemented, 12, 501),
            (Code::Internal, 13, 500),
            (Code::Unavailable, 14, 503),
        ];
        for (code, number, status) in table {
            assert_eq!(code.number(), number);
            assert_eq!(code.status().as_u16(), status);
        }
    }

    #[test]
    fn envelope_shape() {
        let body = ApiError::not_found("gone");
        let body = body.body(Vec::new());
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"code":5,"message":"gone","details":[]}"#
        );
    }

    #[test]
    fn bodies_that_do_not_parse() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        assert_eq!(
            parse_json::<T>(b"").unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(
            parse_json::<T>(b"{").unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(
            parse_json::<T>(b"{\"a\":\"x\"}").unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(parse_json::<T>(b"{\"a\":1}").unwrap().a, 1);
    }
}
