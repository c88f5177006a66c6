//! Terraform provider for TiDB Cloud Private Link Connections for Dataflow.
//!
//! The crate is layered; each layer knows nothing of the ones above it (see
//! `ARCHITECTURE.md`):
//!
//! * [`plugin`]: go-plugin's host protocol (handshake, AutoMTLS, controller,
//!   stdio, broker, health, debug mode).
//! * [`framework`]: Terraform values, schemas, diagnostics, the resource and
//!   data source traits and the tfplugin6 server that dispatches to them.
//! * [`api`]: the TiDB Cloud API client.
//! * [`services`]: what the product shares: provider data and caches, the
//!   cloud table, the object descriptions and conversions, validation,
//!   diagnostics, the typed waits.
//! * [`resources`], [`data_sources`]: the product's resources and data sources.
//! * [`provider`]: the composition root (provider schema and configuration,
//!   the list of resources, data sources and functions).
//!
//! `tests/layers.rs` fails when a module imports a higher layer.

// `api::ApiError` carries the server's whole answer (message, trace id, call,
// attempts) so that every diagnostic can quote it; it travels only on the cold
// path of a network call, where its size costs nothing measurable.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod data_sources;
pub mod framework;
pub mod plugin;
pub mod provider;
pub mod resources;
pub mod services;

/// Generated protocol stubs.
pub mod proto {
    /// Terraform plugin protocol 6.8.
    #[allow(clippy::all, missing_docs)]
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    /// go-plugin's host services.
    #[allow(clippy::all, missing_docs)]
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
}
