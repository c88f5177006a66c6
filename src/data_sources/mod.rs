//! Data sources: one connection with its domains, a cluster's connections,
//! and the account and zones an endpoint service must allow.

pub mod availability_zones;
pub mod connection;
pub mod connections;

use crate::framework::Attribute;
use crate::services::describe::{ATTACHMENT, CONNECTION};

/// The computed attributes every view of a connection shows.
pub(crate) fn connection_attributes() -> Vec<Attribute> {
    CONNECTION.attributes()
}

/// The attributes of one attachment in `attached_domains`.
pub(crate) fn attachment_attributes() -> Vec<Attribute> {
    ATTACHMENT.attributes()
}
