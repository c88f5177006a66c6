//! TiDB Cloud API client for private link connections.
//!
//! Knows HTTP and the swagger, nothing of Terraform. The pieces, bottom up;
//! each module imports only modules listed before it (a unit test below
//! keeps it so):
//!
//! * [`error`]: typed errors, sanitised server text; [`models`]: request
//!   and response bodies; [`backoff`]: exponential backoff with jitter;
//!   [`digest`]: RFC 7616 Digest auth (the API's only scheme; never Basic).
//! * [`transport`]: one HTTP exchange with Digest auth, logged at debug
//!   level; never follows redirects, caps bodies at 8 MiB, owns the user
//!   agent and the loopback rule.
//! * [`ratelimit`]: a layer that keeps the client under the per-key rate
//!   limit and waits out `429`s, shared by every clone of a client, for at
//!   most 5 minutes per request or until the caller's deadline.
//! * [`retry`]: a layer that retries idempotent requests (GET, DELETE,
//!   detach, dry runs) on 5xx and transport errors.
//! * [`config`]: the endpoint, the key and every layer's tunables.
//! * [`client`]: the operations, thin functions over that stack.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tidbcloud_provider::api::ApiError> {
//! use tidbcloud_provider::api::{Client, ClientConfig};
//! let client = Client::new(ClientConfig {
//!     endpoint: "http://127.0.0.1:8090".into(),
//!     public_key: "demo-public".into(),
//!     private_key: "demo-private".into(),
//!     user_agent_suffix: None,
//! })?;
//! let cluster = client.get_cluster("1000000000000000001").await?;
//! println!("{:?} in {:?}", cluster.state, cluster.region_id());
//! # Ok(()) }
//! ```

pub mod backoff;
pub mod client;
pub mod config;
pub mod digest;
pub mod error;
pub mod models;
pub mod op;
pub mod ratelimit;
pub mod retry;
pub mod transport;

pub use client::{Client, MAX_PAGE_SIZE};
pub use config::{ClientConfig, ClientOptions, DEFAULT_ENDPOINT};
pub use error::{ApiError, CreateOutcome, ErrorResponse, TransportKind};
pub use models::{
    AlicloudEndpointService, AttachDomain, AvailabilityZones, AwsEndpointService, CloudProvider,
    Cluster, ClusterState, ConnectionState, ConnectionType, Domain, DomainState, DomainType,
    ListPrivateLinkConnectionsResponse, PrivateLinkConnection, Region,
};
pub use op::Op;
pub use ratelimit::RateLimitOptions;
pub use retry::RetryPolicy;
pub use transport::{Dates, Stamp};

#[cfg(test)]
mod layering {
    /// The client's modules, bottom up. A module may import (`super::x`)
    /// only modules of a lower rank: the layers run one way.
    const RANKS: &[(&str, u32)] = &[
        ("error", 0),
        ("models", 0),
        ("backoff", 0),
        ("op", 0),
        ("digest", 0),
        ("transport", 1),
        ("ratelimit", 2),
        ("retry", 2),
        ("config", 3),
        ("client", 4),
    ];

    fn rank(name: &str) -> Option<u32> {
        RANKS.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
    }

    #[test]
    fn modules_import_only_lower_layers() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            if name == "mod" {
                continue;
            }
            let own = rank(&name).unwrap_or_else(|| panic!("src/api/{name}.rs has no rank"));
            seen += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            // Only the module's own code, not its unit tests.
            let code = text.split("#[cfg(test)]").next().unwrap();
            for (i, line) in code.lines().enumerate() {
                for part in line.split("super::").skip(1) {
                    let target: String = part
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let Some(theirs) = rank(&target) else {
                        continue;
                    };
                    assert!(
                        theirs < own,
                        "src/api/{name}.rs:{}: imports {target}, which is not below it",
                        i + 1
                    );
                }
                assert!(
                    !line.contains("crate::api::"),
                    "src/api/{name}.rs:{}: use super:: paths inside the client",
                    i + 1
                );
            }
        }
        assert_eq!(seen, RANKS.len());
    }
}
