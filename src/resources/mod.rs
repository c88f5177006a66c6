//! Managed resources: `tidbcloud_private_link_connection` and
//! `tidbcloud_private_link_domains`, with the find / status / wait helpers
//! they share and the conversions from API objects to Terraform values.

pub mod connection;
pub mod convert;
pub mod domains;
pub mod errors;
pub mod wait;
