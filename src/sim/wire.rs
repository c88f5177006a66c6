//! JSON shapes of the API as the swagger defines them: response bodies built
//! from the model, and request bodies as clients send them.
//!
//! Responses are written as grpc-gateway's default marshaller writes them
//! (protojson with `EmitUnpopulated`): every field is present, an unset
//! string is `""`, an unset list `[]`, an unset message (object or
//! timestamp) `null`; int64 fields such as `totalSize` are JSON numbers;
//! timestamps are RFC 3339 in UTC with `Z`.
//!
//! Requests are read as protojson reads them (with `DiscardUnknown`):
//! unknown fields are ignored, `null` is absent, and a field may be spelled
//! with its JSON name (`displayName`) or its proto name (`display_name`).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::model::{Attachment, Cloud, Cluster, Connection, Domain, DomainType};

/// RFC 3339 in UTC as protojson writes a timestamp at millisecond
/// precision: `2025-11-25T10:00:00.123Z`, or `2025-11-25T10:00:00Z` when the
/// milliseconds are zero.
pub fn rfc3339(t: SystemTime) -> String {
    let whole_ms = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_millis() == 0)
        .unwrap_or(false);
    if whole_ms {
        humantime::format_rfc3339_seconds(t).to_string()
    } else {
        humantime::format_rfc3339_millis(t).to_string()
    }
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
    /// Unset objects of the swagger's `Cluster`, written as `null`.
    pub spending_limit: Option<()>,
    pub automated_backup_policy: Option<()>,
    pub endpoints: Option<()>,
    /// Write-only; always empty in answers.
    pub root_password: &'static str,
    pub encryption_config: Option<()>,
    pub high_availability_type: &'static str,
    pub version: &'static str,
    pub created_by: &'static str,
    pub user_prefix: String,
    pub state: String,
    pub labels: BTreeMap<&'static str, &'static str>,
    pub annotations: BTreeMap<&'static str, &'static str>,
    pub create_time: String,
    pub update_time: String,
    pub audit_log_config: Option<()>,
    pub cluster_plan: &'static str,
    pub auto_scaling: Option<()>,
    pub service_plan: &'static str,
}

/// `Region` of the cluster API.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionJson {
    pub name: String,
    pub region_id: String,
    pub cloud_provider: &'static str,
    pub display_name: String,
    /// Deprecated and nullable in the swagger; unset.
    pub provider: Option<()>,
    pub service_plans: Vec<&'static str>,
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

/// A stable per-cluster SQL user prefix, such as `2x9Fq7sLk3pTAoW`.
fn user_prefix(cluster_id: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    (0..15)
        .map(|_| {
            for b in cluster_id.bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
            char::from(ALPHABET[(h % ALPHABET.len() as u64) as usize])
        })
        .collect()
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
                provider: None,
                service_plans: Vec::new(),
            },
            spending_limit: None,
            automated_backup_policy: None,
            endpoints: None,
            root_password: "",
            encryption_config: None,
            high_availability_type: "ZONAL",
            version: "v7.5.6",
            created_by: "sim-user@example.com",
            user_prefix: user_prefix(&c.id),
            state: c.state.clone(),
            labels,
            annotations: BTreeMap::new(),
            create_time: rfc3339(c.create_time),
            update_time: rfc3339(c.update_time),
            audit_log_config: None,
            cluster_plan: "STARTER",
            auto_scaling: None,
            service_plan: "Starter",
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
    /// `""` unless FAILED.
    pub message: String,
    pub created_by: String,
    pub create_time: String,
    pub update_time: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `[]` in lists and when nothing is attached.
    pub attached_domains: Vec<AttachDomainJson>,
    /// `null` on an Alibaba Cloud connection.
    pub aws_endpoint_service: Option<EndpointServiceJson>,
    /// `null` on an AWS connection.
    pub alicloud_endpoint_service: Option<EndpointServiceJson>,
}

/// `AwsEndpointService` / `AlicloudEndpointService` (the latter has no
/// region field at all).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointServiceJson {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `""` until the endpoint exists.
    pub endpoint_id: String,
    /// `[]` until known.
    pub availability_zone_ids: Vec<String>,
}

impl ConnectionJson {
    /// The wire form of a connection; `attachedDomains` only when `with_domains`
    /// (GET of one connection), never in lists.
    pub fn new(c: &Connection, with_domains: bool) -> Self {
        let service = EndpointServiceJson {
            name: c.service_name.clone(),
            region: (c.cloud == Cloud::Aws).then(|| c.region.clone()),
            endpoint_id: c.endpoint_id.clone().unwrap_or_default(),
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
            message: c.message.clone().unwrap_or_default(),
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
    pub private_link_connections: Vec<ConnectionJson>,
    /// `""` on the last page.
    pub next_page_token: String,
    /// An int64, written as a JSON number.
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

/// `AttachDomain`. A dry run (`validateOnly`) has no id (`""`), creator
/// (`""`) or time (`null`), and its domains no state (`""`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachDomainJson {
    pub attach_domain_id: String,
    pub cluster_id: String,
    pub private_link_connection_id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub unique_name: String,
    pub domains: Vec<DomainJson>,
    pub created_by: String,
    pub create_time: Option<String>,
}

/// `Domain`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainJson {
    pub name: String,
    /// In the words `--domain-states` selects.
    pub state: &'static str,
    /// `""` unless FAILED.
    pub message: String,
}

impl From<&Domain> for DomainJson {
    fn from(d: &Domain) -> Self {
        DomainJson {
            name: d.name.clone(),
            state: d.state.as_str(),
            message: d.message.clone().unwrap_or_default(),
        }
    }
}

impl AttachDomainJson {
    /// The wire form of an attachment of `conn`.
    pub fn new(a: &Attachment, conn: &Connection) -> Self {
        AttachDomainJson {
            attach_domain_id: a.id.clone(),
            cluster_id: conn.cluster_id.clone(),
            private_link_connection_id: conn.id.clone(),
            kind: a.kind.as_str(),
            unique_name: a.unique_name.clone(),
            domains: a.domains.iter().map(DomainJson::from).collect(),
            created_by: a.created_by.clone(),
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
            attach_domain_id: String::new(),
            cluster_id: conn.cluster_id.clone(),
            private_link_connection_id: conn.id.clone(),
            kind: kind.as_str(),
            unique_name,
            domains: names
                .into_iter()
                .map(|name| DomainJson {
                    name,
                    state: "",
                    message: String::new(),
                })
                .collect(),
            created_by: String::new(),
            create_time: None,
        }
    }
}

// ---------------------------------------------------------------- requests

/// `CreatePrivateLinkConnectionBody`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    #[serde(alias = "private_link_connection")]
    pub private_link_connection: Option<ConnectionInput>,
}

/// The writable fields of `PrivateLinkConnection` (read-only ones are ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionInput {
    #[serde(alias = "cluster_id")]
    pub cluster_id: Option<String>,
    #[serde(alias = "display_name")]
    pub display_name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(alias = "aws_endpoint_service")]
    pub aws_endpoint_service: Option<AwsInput>,
    #[serde(alias = "alicloud_endpoint_service")]
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
    #[serde(alias = "attach_domain")]
    pub attach_domain: Option<AttachInput>,
    #[serde(alias = "validate_only")]
    pub validate_only: Option<bool>,
}

/// The writable fields of `AttachDomain`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachInput {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(alias = "unique_name")]
    pub unique_name: Option<String>,
}

/// `DetachDomainsBody`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetachBody {
    #[serde(alias = "attach_domain_id")]
    pub attach_domain_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_764_064_800_123);
        assert_eq!(rfc3339(t), "2025-11-25T10:00:00.123Z");
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_764_064_800_000);
        assert_eq!(rfc3339(t), "2025-11-25T10:00:00Z");
    }

    #[test]
    fn unpopulated_fields_are_written() {
        let list = ListJson {
            private_link_connections: vec![],
            next_page_token: String::new(),
            total_size: 0,
        };
        assert_eq!(
            serde_json::to_value(&list).unwrap(),
            serde_json::json!({"privateLinkConnections": [], "nextPageToken": "", "totalSize": 0})
        );
    }

    #[test]
    fn proto_names_are_accepted_in_requests() {
        let body: AttachBody = serde_json::from_str(
            r#"{"attach_domain":{"type":"CONFLUENT","unique_name":"x"},"validate_only":true,"extra":1}"#,
        )
        .unwrap();
        assert_eq!(body.validate_only, Some(true));
        assert_eq!(
            body.attach_domain.unwrap().unique_name.as_deref(),
            Some("x")
        );
        let body: CreateBody =
            serde_json::from_str(r#"{"privateLinkConnection":{"displayName":null}}"#).unwrap();
        assert!(body.private_link_connection.unwrap().display_name.is_none());
    }
}
