//! TiDB Cloud API client for private link connections.
//!
//! Knows HTTP and the swagger, nothing of Terraform. The pieces, bottom up:
//!
//! * [`digest`]: RFC 7616 Digest auth (the API's only scheme; never Basic).
//! * [`transport`]: one HTTP exchange with Digest auth, logged at debug level.
//! * [`ratelimit`]: a layer that keeps the client under the per-key rate
//!   limit and waits out `429`s, shared by every clone of a client.
//! * [`retry`]: a layer that retries GET/DELETE on 5xx and transport errors.
//! * [`client`]: the operations, thin functions over that stack.
//! * [`models`]: request and response bodies; [`error`]: typed errors.
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

pub mod cancel;
pub mod client;
pub mod config;
pub mod digest;
pub mod error;
pub mod models;
pub mod pacing;
pub mod ratelimit;
pub mod retry;
pub mod transport;

pub use client::{Client, MAX_PAGE_SIZE};
pub use config::{ClientConfig, ClientOptions, DEFAULT_ENDPOINT};
pub use error::{ApiError, ErrorResponse};
pub use models::{
    AlicloudEndpointService, AttachDomain, AvailabilityZones, AwsEndpointService, CloudProvider,
    Cluster, ClusterState, ConnectionState, ConnectionType, Domain, DomainState, DomainType,
    ListPrivateLinkConnectionsResponse, PrivateLinkConnection, Region,
};
pub use pacing::Budget;
pub use ratelimit::RateLimitOptions;
pub use retry::RetryPolicy;
