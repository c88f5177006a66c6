//! Product services: what the resources, data sources and functions of the
//! provider share, below all of them and above `framework` and `api`.
//!
//! * [`ProviderData`]: the configured client with the per-process caches
//!   ([`ClusterCache`], [`ConnectionSnapshots`]).
//! * [`Ownership`]: what this process holds and is doing (connections it
//!   holds, listings taken before creates, detaches in flight), for
//!   reconciling lost answers.
//! * [`cloud`]: the cloud table, one row per cloud.
//! * [`describe`]: each API object described once (name, type, description,
//!   how it is read); schemas and conversions derive from it.
//! * [`convert`]: small value helpers of the conversions.
//! * [`domains`]: domain states classified (transitional, failed, settled)
//!   and domains keyed by the availability zone their labels name.
//! * [`validate`]: input checks that need no API.
//! * [`errors`]: the diagnostics for API failures.
//! * [`import`]: the connection an import ID names, a miss telling a
//!   missing cluster from a missing connection.
//! * [`status`]: the finders (an object or a typed "not found") and the
//!   typed states of connections and attachments.
//! * [`waits`]: the typed waits, the only place that waits for an object to
//!   settle.
//! * [`watch`]: one watcher per cluster that serves every wait, and its
//!   [`schedule`](watch::schedule), a pure function of what was observed.

pub mod cloud;
mod cluster_cache;
pub mod convert;
pub mod describe;
pub mod domains;
pub mod errors;
pub mod import;
pub mod ownership;
mod provider_data;
mod snapshots;
pub mod status;
pub mod validate;
pub mod waits;
pub mod watch;

pub use cluster_cache::ClusterCache;
pub use ownership::Ownership;
pub use provider_data::ProviderData;
pub use snapshots::ConnectionSnapshots;
