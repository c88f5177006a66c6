//! JSON shapes of the API as the swagger defines them: response bodies built
//! from the model, and request bodies as clients send them. Empty lists and
//! absent optional values are left out, as grpc-gateway does.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::model::{Attachment, Cloud, Cluster, Connection, Domain, DomainType};

/// RFC 3339 UTC with milliseconds, e.g. `2025-11-25T10:00:00.123Z`.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

// ---------------------------------------------------------------- clusters

/// `Cluster` of the cluster API (the fields a provider reads, plus a few
/// read-only ones the swagger lists).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterJson {
    pub name: String,
    pub cluster_id: String,
    pub display_name: String,
    pub region: RegionJson,
    pub state: String,
    pub version: &'static str,
    pub created_by: &'static str,
    pub labels: BTreeMap<&'static str, &'static str>,
    pub create_time: String,
    pub update_time: String,
    pub cluster_plan: &'static str,
}

/// `Region` of the cluster API.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionJson {
    pub name: String,
    pub region_id: String,
    pub cloud_provider: &'static str,
    pub display_name: String,
}

/// A human name for a region code, e.g. `Oregon (us-west-2)`.
fn region_display_name(code: &str) -> String {
    let place = match code {
        "us-east-1" => "N. Virginia",
        "us-west-2" => "Oregon",
        "eu-central-1" => "Frankfurt",
        "ap-southeast-1" => "Singapore",
        "ap-northeast-1" => "Tokyo",
        "ap-southeast-5" => "Jakarta",
        "cn-hangzhou" => "Hangzhou",
        _ => return code.to_string(),
    };
    format!("{place} ({code})")
}

impl From<&Cluster> for ClusterJson {
    fn from(c: &Cluster) -> Self {
        let labels = BTreeMap::from([
            ("tidb.cloud/organization", "1372813089189561287"),
            ("tidb.cloud/project", "1372813089454543324"),
        ]);
        ClusterJson {
            name: format!("clusters/{}", c.id),
            cluster_id: c.id.clone(),
            display_name: c.display_name.clone(),
            region: RegionJson {
                name: format!("regions/{}", c.region_id),
                region_id: c.region_id.clone(),
                cloud_provider: c.cloud.as_str(),
                display_name: region_display_name(c.region_code()),
            },
            state: c.state.clone(),
            version: "v7.5.6",
            created_by: "sim-user@example.com",
            labels,
            create_time: rfc3339(c.create_time),
            update_time: rfc3339(c.update_time),
            cluster_plan: "STARTER",
        }
    }
}

// ------------------------------------------------------------- connections

/// `PrivateLinkConnection`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionJson {
    pub private_link_connection_id: String,
    pub cluster_id: String,
    pub display_name: String,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub created_by: String,
    pub create_time: String,
    pub update_time: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attached_domains: Vec<AttachDomainJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_endpoint_service: Option<EndpointServiceJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alicloud_endpoint_service: Option<EndpointServiceJson>,
}

/// `AwsEndpointService` / `AlicloudEndpointService` (the latter has no region).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointServiceJson {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub availability_zone_ids: Vec<String>,
}

impl ConnectionJson {
    /// The wire form of a connection; `attachedDomains` only when `with_domains`
    /// (GET of one connection), never in lists.
    pub fn new(c: &Connection, with_domains: bool) -> Self {
        let service = EndpointServiceJson {
            name: c.service_name.clone(),
            region: (c.cloud == Cloud::Aws).then(|| c.region.clone()),
            endpoint_id: c.endpoint_id.clone(),
            availability_zone_ids: c.az_ids.clone(),
        };
        let (aws, alicloud) = match c.cloud {
            Cloud::Aws => (Some(service), None),
            Cloud::Alicloud => (None, Some(service)),
        };
        let attached_domains = match (&c.attachment, with_domains) {
            (Some(a), true) => vec![AttachDomainJson::new(a, c)],
            _ => Vec::new(),
        };
        ConnectionJson {
            private_link_connection_id: c.id.clone(),
            cluster_id: c.cluster_id.clone(),
            display_name: c.display_name.clone(),
            state: c.state.as_str(),
            message: c.message.clone(),
            created_by: c.created_by.clone(),
            create_time: rfc3339(c.create_time),
            update_time: rfc3339(c.update_time),
            kind: c.cloud.connection_type(),
            attached_domains,
            aws_endpoint_service: aws,
            alicloud_endpoint_service: alicloud,
        }
    }
}

/// `ListPrivateLinkConnectionsResponse`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListJson {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub private_link_connections: Vec<ConnectionJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    pub total_size: u64,
}

/// `GetAvailabilityZonesResponse`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AvailabilityZonesJson {
    pub account_id: String,
    pub az_ids: Vec<String>,
}

// ----------------------------------------------------------------- domains

/// `AttachDomain`. A dry run (`validateOnly`) has no id, creator or time.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachDomainJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attach_domain_id: Option<String>,
    pub cluster_id: String,
    pub private_link_connection_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub unique_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<DomainJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
}

/// `Domain`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainJson {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl From<&Domain> for DomainJson {
    fn from(d: &Domain) -> Self {
        DomainJson {
            name: d.name.clone(),
            state: Some(d.state.as_str()),
            message: d.message.clone(),
        }
    }
}

impl AttachDomainJson {
    /// The wire form of an attachment of `conn`.
    pub fn new(a: &Attachment, conn: &Connection) -> Self {
        AttachDomainJson {
            attach_domain_id: Some(a.id.clone()),
            cluster_id: conn.cluster_id.clone(),
            private_link_connection_id: conn.id.clone(),
            kind: a.kind.as_str(),
            unique_name: a.unique_name.clone(),
            domains: a.domains.iter().map(DomainJson::from).collect(),
            created_by: Some(a.created_by.clone()),
            create_time: Some(rfc3339(a.create_time)),
        }
    }

    /// The answer to a dry run: the domains that would be attached.
    pub fn preview(
        kind: DomainType,
        unique_name: String,
        names: Vec<String>,
        conn: &Connection,
    ) -> Self {
        AttachDomainJson {
            attach_domain_id: None,
            cluster_id: conn.cluster_id.clone(),
            private_link_connection_id: conn.id.clone(),
            kind: kind.as_str(),
            unique_name,
            domains: names
                .into_iter()
                .map(|name| DomainJson {
                    name,
                    state: None,
                    message: None,
                })
                .collect(),
            created_by: None,
            create_time: None,
        }
    }
}

// ---------------------------------------------------------------- requests

/// `CreatePrivateLinkConnectionBody`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    pub private_link_connection: Option<ConnectionInput>,
}

/// The writable fields of `PrivateLinkConnection` (read-only ones are ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInput {
    pub cluster_id: Option<String>,
    pub display_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub aws_endpoint_service: Option<AwsInput>,
    pub alicloud_endpoint_service: Option<AlicloudInput>,
}

/// The writable fields of `AwsEndpointService`.
#[derive(Deserialize)]
pub struct AwsInput {
    pub name: Option<String>,
    pub region: Option<String>,
}

/// The writable fields of `AlicloudEndpointService`.
#[derive(Deserialize)]
pub struct AlicloudInput {
    pub name: Option<String>,
}

/// `AttachDomainsBody`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachBody {
    pub attach_domain: Option<AttachInput>,
    pub validate_only: Option<bool>,
}

/// The writable fields of `AttachDomain`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachInput {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub unique_name: Option<String>,
}

/// `DetachDomainsBody`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetachBody {
    pub attach_domain_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_764_064_800_123);
        assert_eq!(rfc3339(t), "2025-11-25T10:00:00.123Z");
    }

    #[test]
    fn empty_lists_are_left_out() {
        let list = ListJson {
            private_link_connections: vec![],
            next_page_token: None,
            total_size: 0,
        };
        assert_eq!(serde_json::to_string(&list).unwrap(), r#"{"totalSize":0}"#);
    }
}
