//! What a [`Client`](super::Client) is built from: endpoint and key pair,
//! plus tunables with production defaults. Sits above the layers whose
//! options it gathers (transport, rate limit, retry) and below the client.

use std::fmt;
use std::time::Duration;

use reqwest::Url;

use super::error::ApiError;
use super::ratelimit::RateLimitOptions;
use super::retry::RetryPolicy;
pub use super::transport::{is_loopback, user_agent, APPEND_USER_AGENT_ENV, MAX_BODY_BYTES};

/// The public TiDB Cloud API for Starter and Essential clusters.
pub const DEFAULT_ENDPOINT: &str = "https://serverless.tidbapi.com";

/// Endpoint and credentials. `Debug` never shows the private key.
#[derive(Clone, Default)]
pub struct ClientConfig {
    /// Base URL, e.g. `https://serverless.tidbapi.com`; empty means
    /// [`DEFAULT_ENDPOINT`]. `http://` is only accepted for loopback hosts.
    pub endpoint: String,
    /// Public half of the API key (the Digest user name).
    pub public_key: String,
    /// Private half of the API key (the Digest password). Never logged.
    pub private_key: String,
    /// Extra user agent text, e.g. `Terraform/1.11.4`.
    pub user_agent_suffix: Option<String>,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("endpoint", &self.endpoint)
            .field("public_key", &self.public_key)
            .field(
                "private_key",
                &if self.private_key.is_empty() {
                    "<empty>"
                } else {
                    "<redacted>"
                },
            )
            .field("user_agent_suffix", &self.user_agent_suffix)
            .finish()
    }
}

/// Tunables of the client's layers; [`Default`] suits the real API.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Time allowed to open a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Time allowed for one HTTP exchange, from sending to the end of the body.
    pub request_timeout: Duration,
    /// Retries of GET and DELETE on 5xx and transport errors.
    pub retry: RetryPolicy,
    /// Handling of the per-key rate limit.
    pub rate_limit: RateLimitOptions,
    /// The largest answer body read; larger answers are an error.
    pub max_body_bytes: u64,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            rate_limit: RateLimitOptions::default(),
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

/// Parses and checks the endpoint: `https://`, or `http://` to a loopback
/// host; no credentials, query or fragment. Returns the base URL without a
/// trailing slash.
pub fn validate_endpoint(endpoint: &str) -> Result<Url, ApiError> {
    let raw = endpoint.trim();
    let raw = if raw.is_empty() {
        DEFAULT_ENDPOINT
    } else {
        raw
    };
    let url = Url::parse(raw).map_err(|e| {
        // Never echo what could be credentials (`https://user:secret@host`).
        let shown = match raw.rsplit_once('@') {
            Some((_, host)) => format!("<redacted>@{host}"),
            None => raw.to_string(),
        };
        ApiError::Config(format!(
            "endpoint {shown:?} is not a URL ({e}); expected e.g. {DEFAULT_ENDPOINT}"
        ))
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::Config(
            "the endpoint must not contain credentials; set public_key and private_key instead"
                .to_string(),
        ));
    }
    // The API lives at the root: a path (e.g. `/v1beta1`) would make every
    // call miss, and a 404 must never be mistaken for a deleted object.
    if !matches!(url.path(), "" | "/") {
        return Err(ApiError::Config(format!(
            "endpoint {raw:?} must not have a path; use the host only, e.g. {DEFAULT_ENDPOINT}"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ApiError::Config(format!(
            "endpoint {raw:?} must not have a query or fragment"
        )));
    }
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => {
            return Err(ApiError::Config(format!(
                "endpoint {raw:?} uses plain http to a non-loopback host; use https:// \
                 (http:// is only allowed for 127.0.0.0/8, ::1 and localhost, e.g. a local tidbcloud-sim)"
            )))
        }
        other => {
            return Err(ApiError::Config(format!(
                "endpoint {raw:?} has scheme {other:?}; use https://"
            )))
        }
    }
    if host.is_empty() {
        return Err(ApiError::Config(format!("endpoint {raw:?} has no host")));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unparsable_endpoints_do_not_echo_credentials() {
        let e = validate_endpoint("https://pub:very-secret@[bad")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("very-secret"), "{e}");
    }

    #[test]
    fn https_is_required_except_for_loopback() {
        for ok in [
            "https://serverless.tidbapi.com",
            "http://127.0.0.1:8090",
            "http://127.1.2.3",
            "http://localhost:8090",
            "http://LOCALHOST",
            "http://[::1]:8090",
            "",
        ] {
            assert!(validate_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://serverless.tidbapi.com/v1beta1",
            "https://example.com/prefix/",
            "http://serverless.tidbapi.com",
            "http://10.0.0.1:8090",
            "http://[::2]",
            "http://localhost.example.com",
            "ftp://127.0.0.1",
            "https://user:pass@example.com",
            "not a url",
            "https://example.com/?x=1",
        ] {
            let err = validate_endpoint(bad).expect_err(bad);
            assert!(matches!(err, ApiError::Config(_)), "{bad}: {err}");
        }
        let err = validate_endpoint("http://api.example.com")
            .unwrap_err()
            .to_string();
        assert!(err.contains("use https://"), "{err}");
        assert!(!validate_endpoint("https://user:sekrit@example.com")
            .unwrap_err()
            .to_string()
            .contains("sekrit"));
        assert_eq!(
            validate_endpoint("").unwrap().as_str(),
            "https://serverless.tidbapi.com/"
        );
    }

    #[test]
    fn debug_redacts_the_private_key() {
        let cfg = ClientConfig {
            endpoint: "http://127.0.0.1:1".into(),
            public_key: "pub-key".into(),
            private_key: "priv-0123456789".into(),
            user_agent_suffix: None,
        };
        let shown = format!("{cfg:?} {cfg:#?}");
        assert!(shown.contains("pub-key"));
        assert!(!shown.contains("priv-0123456789"));
        assert!(shown.contains("<redacted>"));
    }
}
