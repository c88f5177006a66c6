//! What the integration tests (and the benchmark) share: the simulator and
//! the provider started as real processes, the clients that talk to them,
//! the simulator's default world, bounded waits and Terraform configuration.
//!
//! Cargo builds each `tests/*.rs` as a crate of its own; each includes this
//! module (`mod support;`, or `#[path = "../support/mod.rs"]` from a
//! directory, `#[path = "../tests/support/mod.rs"]` from `benches/`). Not
//! every crate uses every helper.
#![allow(dead_code)]

pub mod api_model;
pub mod digest;
pub mod floor;
pub mod grpc;
pub mod hcl;
pub mod process;
pub mod provider;
pub mod sim;
pub mod tf_walk;
pub mod wait;
pub mod world;
