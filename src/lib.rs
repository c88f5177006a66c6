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
//! * [`provider`], [`resources`], [`data_sources`]: the product.

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
