//! Managed resources: `tidbcloud_private_link_connection` and
//! `tidbcloud_private_link_domains`. What they share with the data sources
//! (provider data, descriptions, conversions, validation, diagnostics, the
//! typed waits) lives in [`crate::services`].

pub mod connection;
pub mod domains;
