//! The API gateway in front of every `/v1beta1` request, in the order a
//! request meets it: Digest auth (401 challenges are not counted), the rate
//! limit (every authenticated request counts), injected faults (503 without
//! processing, or processing and then dropping the connection), the API
//! itself, the `X-Ratelimit-*` headers, and the injected latency.

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::api;
use crate::app::App;
use crate::auth::{Identity, Rejection};
use crate::error::{ApiError, Code};
use crate::faults::Fault;
use crate::ratelimit::Quota;
use crate::trace::TraceId;

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;

/// Handles one API request.
pub async fn entry(State(app): State<Arc<App>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string());
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let trace = parts
        .extensions
        .get::<TraceId>()
        .map_or_else(String::new, |t| t.0.clone());

    // Rate-limit windows run on the simulator's clock.
    let now = app.clock.now();
    let (response, who) = match app.auth.verify(method.as_str(), &target, header) {
        Err(rejection) => (challenge(&app, rejection, now), None),
        Ok(identity) => {
            let response =
                authenticated(&app, &identity, &parts.method, &parts.uri, body, now).await;
            (response, Some(identity.key))
        }
    };

    let latency = app.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let status = response.status();
    let dropped = response.extensions().get::<Dropped>().is_some();
    app.stats.update(|s| {
        if !dropped {
            *s.responses_by_status.entry(status.as_u16()).or_default() += 1;
        }
    });
    log::info!(
        "{method} {target} -> {} ({}, {} ms, trace {trace})",
        if dropped {
            "dropped".to_string()
        } else {
            status.as_u16().to_string()
        },
        who.as_deref()
            .map_or("unauthenticated".to_string(), |k| format!("key {k}")),
        started.elapsed().as_millis()
    );
    response
}

/// The part after a successful authentication.
async fn authenticated(
    app: &Arc<App>,
    identity: &Identity,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    body: Body,
    now: Instant,
) -> Response {
    let key = identity.key.as_str();
    let route = api::resolve(method, uri.path());
    app.stats.update(|s| {
        s.requests_total += 1;
        *s.requests_by_key.entry(key.to_string()).or_default() += 1;
        let name = route.as_ref().map_or("unknown path", api::Route::template);
        *s.requests_by_route.entry(name.to_string()).or_default() += 1;
    });
    let quota = app.limiter.hit(key, now);
    let mut response = if let Some(q) = quota.filter(|q| !q.allowed) {
        app.stats.update(|s| s.responses_429 += 1);
        ApiError::new(
            Code::ResourceExhausted,
            format!(
                "rate limit exceeded: API key {key} may make {} requests per window; retry in {} s",
                q.limit, q.reset_secs
            ),
        )
        .into_response()
    } else {
        match app.faults.draw() {
            Fault::Error => {
                app.stats.update(|s| s.faults_errors += 1);
                ApiError::new(
                    Code::Unavailable,
                    "the service is temporarily unavailable; retry later",
                )
                .into_response()
            }
            fault => {
                let response = process(app, route, uri, body, identity).await;
                if fault == Fault::Drop {
                    app.stats.update(|s| s.faults_drops += 1);
                    dropped()
                } else {
                    response
                }
            }
        }
    };
    if let Some(q) = quota {
        add_quota_headers(&mut response, q);
    }
    response
}

/// Reads the body and performs the operation.
async fn process(
    app: &Arc<App>,
    route: Result<api::Route, ApiError>,
    uri: &axum::http::Uri,
    body: Body,
    identity: &Identity,
) -> Response {
    let result = async {
        let route = route?;
        if identity.read_only && !route.is_read() {
            return Err(ApiError::new(
                Code::PermissionDenied,
                format!(
                    "API key {} has read-only access and cannot {}; use a key with a role that may change resources",
                    identity.key,
                    route.template()
                ),
            ));
        }
        let bytes = axum::body::to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| ApiError::invalid(format!("the request body could not be read or is larger than {MAX_BODY} bytes")))?;
        api::handle(app, route, uri, &bytes, &identity.key)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// A 401 with both challenges (and `stale=true` when only the nonce was wrong).
fn challenge(app: &Arc<App>, rejection: Rejection, now: Instant) -> Response {
    app.stats.update(|s| s.responses_401 += 1);
    let mut response = ApiError::new(Code::Unauthenticated, rejection.message).into_response();
    for value in app.auth.challenges(rejection.stale) {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(WWW_AUTHENTICATE, v);
        }
    }
    let quota = match rejection.key {
        Some(key) => app.limiter.peek(&key, now),
        None => app.limiter.unused(),
    };
    if let Some(q) = quota {
        add_quota_headers(&mut response, q);
    }
    response
}

fn add_quota_headers(response: &mut Response, q: Quota) {
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit-minute", HeaderValue::from(q.limit));
    headers.insert(
        "x-ratelimit-remaining-minute",
        HeaderValue::from(q.remaining),
    );
    headers.insert("x-ratelimit-reset", HeaderValue::from(q.reset_secs));
}

/// Marks a response whose connection is dropped.
#[derive(Clone, Copy)]
struct Dropped;

/// A response whose body fails before anything is written, so hyper closes
/// the connection without sending a status line.
fn dropped() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other(
            "response dropped by the drop_rate fault",
        ))
    });
    let mut response = Response::new(Body::from_stream(failing));
    *response.status_mut() = StatusCode::OK;
    response.extensions_mut().insert(Dropped);
    response
}
