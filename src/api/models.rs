//! Request and response bodies of the TiDB Cloud API, written from the
//! private link swagger (`PrivateLinkConnection`, `AttachDomain`, ...) and
//! the cluster swagger (`Cluster`, `Region`).
//!
//! Reading is tolerant: unknown fields are ignored, enums keep values they do
//! not know as [`Other`](ConnectionState::Other), lists may be omitted (as
//! grpc-gateway does for empty ones) and `totalSize` may be a number or a
//! string. Writing follows the swagger strictly: read-only fields are never
//! serialised, so `Serialize` produces exactly what a request may carry.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a string enum of the API that keeps unknown values.
///
/// Newer API versions add states and types; a client that fails to decode
/// them would break every read, so anything unknown becomes `Other(text)` and
/// travels back unchanged.
macro_rules! api_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this client does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every value the swagger names, in its order.
            pub const KNOWN: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The value as the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( $name::$variant => $text, )+
                    $name::Other(s) => s.as_str(),
                }
            }

            /// Whether this is a value the swagger names.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $( $text => $name::$variant, )+
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match $name::from(s.as_str()) {
                    $name::Other(_) => $name::Other(s),
                    known => known,
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok($name::from(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map($name::from)
            }
        }
    };
}

api_enum! {
    /// State of a private link connection (`PrivateLinkConnectionState.Enum`).
    pub enum ConnectionState {
        /// Being created.
        Creating = "CREATING",
        /// Ready for use.
        Active = "ACTIVE",
        /// Creation failed; `message` says why.
        Failed = "FAILED",
        /// Waiting for the endpoint service's owner to accept the endpoint.
        PendingAcceptance = "PENDING_ACCEPTANCE",
        /// Being deleted.
        Deleting = "DELETING",
    }
}

api_enum! {
    /// Kind of endpoint service a connection reaches (`PrivateLinkConnectionType.Enum`).
    pub enum ConnectionType {
        /// An AWS VPC endpoint service.
        AwsEndpointService = "AWS_ENDPOINT_SERVICE",
        /// An Alibaba Cloud PrivateLink endpoint service.
        AlicloudEndpointService = "ALICLOUD_ENDPOINT_SERVICE",
    }
}

api_enum! {
    /// Domain pattern of an attachment (`PrivateLinkConnectionDomainType.Enum`).
    pub enum DomainType {
        /// `<...>.plc.tidbcloud.com` names managed by TiDB Cloud.
        TidbcloudManaged = "TIDBCLOUD_MANAGED",
        /// `<...>.confluent.cloud` names of a Confluent cluster.
        Confluent = "CONFLUENT",
    }
}

api_enum! {
    /// State of one attached domain. The swagger types it as a plain string;
    /// these are the values the API documents.
    pub enum DomainState {
        /// Being attached.
        Creating = "CREATING",
        /// Attached and resolvable.
        Succeeded = "SUCCEEDED",
        /// Attaching failed; `message` says why.
        Failed = "FAILED",
        /// Being detached.
        Deleting = "DELETING",
    }
}

api_enum! {
    /// State of a cluster (`commonv1beta1ClusterState`).
    pub enum ClusterState {
        /// Being created.
        Creating = "CREATING",
        /// Being deleted.
        Deleting = "DELETING",
        /// Running.
        Active = "ACTIVE",
        /// Restoring data.
        Restoring = "RESTORING",
        /// Under maintenance.
        Maintenance = "MAINTENANCE",
        /// Deleted.
        Deleted = "DELETED",
        /// Not active, not being deleted.
        Inactive = "INACTIVE",
        /// Being upgraded.
        Upgrading = "UPGRADING",
        /// Importing data.
        Importing = "IMPORTING",
        /// Being modified.
        Modifying = "MODIFYING",
        /// Being paused.
        Pausing = "PAUSING",
        /// Paused.
        Paused = "PAUSED",
        /// Resuming from pause.
        Resuming = "RESUMING",
    }
}

api_enum! {
    /// Cloud provider of a region (`v1beta1RegionCloudProvider`).
    pub enum CloudProvider {
        /// Amazon Web Services.
        Aws = "aws",
        /// Google Cloud.
        Gcp = "gcp",
        /// Microsoft Azure.
        Azure = "azure",
        /// Alibaba Cloud.
        Alicloud = "alicloud",
    }
}

/// A private link connection (`PrivateLinkConnection`).
///
/// Only `cluster_id`, `display_name`, `type` and the endpoint service's
/// writable fields are serialised; everything else is read-only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PrivateLinkConnection {
    /// `plc-...`; assigned by the API.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::string")]
    pub private_link_connection_id: String,
    /// The cluster the connection belongs to.
    #[serde(deserialize_with = "absent::string")]
    pub cluster_id: String,
    /// 1 to 64 characters.
    #[serde(deserialize_with = "absent::string")]
    pub display_name: String,
    /// Assigned by the API.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_enum")]
    pub state: Option<ConnectionState>,
    /// Why the connection failed, when it did.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub message: Option<String>,
    /// Who created the connection.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub created_by: Option<String>,
    /// RFC 3339 timestamp.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub create_time: Option<String>,
    /// RFC 3339 timestamp; may be null.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub update_time: Option<String>,
    /// Required by the API on create. Optional here because grpc-gateway may
    /// omit an enum's zero value from responses; see
    /// [`connection_type`](Self::connection_type).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "absent::opt_enum")]
    pub connection_type: Option<ConnectionType>,
    /// The domains attached to the connection; only the GET call fills them.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::list")]
    pub attached_domains: Vec<AttachDomain>,
    /// Set for `AWS_ENDPOINT_SERVICE` connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_endpoint_service: Option<AwsEndpointService>,
    /// Set for `ALICLOUD_ENDPOINT_SERVICE` connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alicloud_endpoint_service: Option<AlicloudEndpointService>,
}

impl PrivateLinkConnection {
    /// A connection to create towards an AWS endpoint service. `region`
    /// defaults, on the API side, to the cluster's region.
    pub fn aws(
        cluster_id: impl Into<String>,
        display_name: impl Into<String>,
        service_name: impl Into<String>,
        region: Option<String>,
    ) -> Self {
        PrivateLinkConnection {
            cluster_id: cluster_id.into(),
            display_name: display_name.into(),
            connection_type: Some(ConnectionType::AwsEndpointService),
            aws_endpoint_service: Some(AwsEndpointService {
                name: service_name.into(),
                region,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// A connection to create towards an Alibaba Cloud endpoint service.
    pub fn alicloud(
        cluster_id: impl Into<String>,
        display_name: impl Into<String>,
        service_name: impl Into<String>,
    ) -> Self {
        PrivateLinkConnection {
            cluster_id: cluster_id.into(),
            display_name: display_name.into(),
            connection_type: Some(ConnectionType::AlicloudEndpointService),
            alicloud_endpoint_service: Some(AlicloudEndpointService {
                name: service_name.into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// The connection's type: the `type` field, or else inferred from which
    /// endpoint service is present.
    pub fn connection_type(&self) -> Option<ConnectionType> {
        if let Some(t) = &self.connection_type {
            return Some(t.clone());
        }
        match (&self.aws_endpoint_service, &self.alicloud_endpoint_service) {
            (Some(_), None) => Some(ConnectionType::AwsEndpointService),
            (None, Some(_)) => Some(ConnectionType::AlicloudEndpointService),
            _ => None,
        }
    }

    /// The endpoint service's name, whichever cloud it is on.
    pub fn endpoint_service_name(&self) -> Option<&str> {
        self.aws_endpoint_service
            .as_ref()
            .map(|s| s.name.as_str())
            .or_else(|| {
                self.alicloud_endpoint_service
                    .as_ref()
                    .map(|s| s.name.as_str())
            })
    }

    /// The endpoint id on the endpoint service's side, once there is one.
    pub fn endpoint_id(&self) -> Option<&str> {
        self.aws_endpoint_service
            .as_ref()
            .and_then(|s| s.endpoint_id.as_deref())
            .or_else(|| {
                self.alicloud_endpoint_service
                    .as_ref()
                    .and_then(|s| s.endpoint_id.as_deref())
            })
    }

    /// The availability zones of the endpoint, whichever cloud it is on.
    pub fn availability_zone_ids(&self) -> &[String] {
        if let Some(s) = &self.aws_endpoint_service {
            &s.availability_zone_ids
        } else if let Some(s) = &self.alicloud_endpoint_service {
            &s.availability_zone_ids
        } else {
            &[]
        }
    }
}

/// The AWS side of a connection (`AwsEndpointService`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AwsEndpointService {
    /// `com.amazonaws.vpce.<region>.vpce-svc-<hex>`.
    #[serde(deserialize_with = "absent::string")]
    pub name: String,
    /// Region of the endpoint service; the API defaults it to the cluster's.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "absent::opt_string")]
    pub region: Option<String>,
    /// `vpce-...`; assigned by AWS.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub endpoint_id: Option<String>,
    /// The AZs the endpoint spans.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::list")]
    pub availability_zone_ids: Vec<String>,
}

/// The Alibaba Cloud side of a connection (`AlicloudEndpointService`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AlicloudEndpointService {
    /// `com.aliyuncs.privatelink.<region>.epsrv-<id>`.
    #[serde(deserialize_with = "absent::string")]
    pub name: String,
    /// `ep-...`; assigned by Alibaba Cloud.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub endpoint_id: Option<String>,
    /// The zones the endpoint spans.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::list")]
    pub availability_zone_ids: Vec<String>,
}

/// One attachment of domains to a connection (`AttachDomain`).
///
/// As a request only `type` and `uniqueName` are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AttachDomain {
    /// Assigned by the API; empty in a `validateOnly` answer.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::string")]
    pub attach_domain_id: String,
    /// The cluster of the connection.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub cluster_id: Option<String>,
    /// The connection the domains are attached to.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub private_link_connection_id: Option<String>,
    /// Required by the API. Optional here for the same reason as
    /// [`PrivateLinkConnection::connection_type`].
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "absent::opt_enum")]
    pub domain_type: Option<DomainType>,
    /// The name part of the domains; may be omitted for `TIDBCLOUD_MANAGED`
    /// (the API generates one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "absent::opt_string")]
    pub unique_name: Option<String>,
    /// The domains of the attachment.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::list")]
    pub domains: Vec<Domain>,
    /// Who attached the domains.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub created_by: Option<String>,
    /// RFC 3339 timestamp.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub create_time: Option<String>,
}

impl AttachDomain {
    /// An attachment request.
    pub fn new(domain_type: DomainType, unique_name: Option<String>) -> Self {
        AttachDomain {
            domain_type: Some(domain_type),
            unique_name,
            ..Default::default()
        }
    }
}

/// One domain of an attachment (`Domain`); every field is read-only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Domain {
    /// E.g. `*.usw2-az1.abc123.aws.plc.tidbcloud.com`.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::string")]
    pub name: String,
    /// See [`DomainState`]; any other value is transitional.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_enum")]
    pub state: Option<DomainState>,
    /// Why the domain failed, when it did.
    #[serde(skip_serializing)]
    #[serde(deserialize_with = "absent::opt_string")]
    pub message: Option<String>,
}

/// Where a cluster's endpoints live (`GetAvailabilityZonesResponse`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AvailabilityZones {
    /// The TiDB Cloud account on the cluster's cloud, to be allowed on the
    /// endpoint service.
    #[serde(deserialize_with = "absent::string")]
    pub account_id: String,
    /// The AZ ids the cluster can reach.
    #[serde(deserialize_with = "absent::list")]
    pub az_ids: Vec<String>,
}

/// One page of connections (`ListPrivateLinkConnectionsResponse`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListPrivateLinkConnectionsResponse {
    /// The connections of this page (without `attachedDomains`).
    #[serde(deserialize_with = "absent::list")]
    pub private_link_connections: Vec<PrivateLinkConnection>,
    /// Token of the next page; `None` (or empty) on the last one.
    #[serde(deserialize_with = "empty_string_as_none")]
    pub next_page_token: Option<String>,
    /// Number of connections across all pages, when reported. An int64 in
    /// the swagger, so grpc-gateway may write it as a string.
    #[serde(deserialize_with = "int_or_string")]
    pub total_size: Option<i64>,
}

/// A cluster (`tidb_cloud_open_apiserverlessv1beta1Cluster`), reduced to
/// what precondition checks need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Cluster {
    /// `clusters/<id>`.
    #[serde(deserialize_with = "absent::opt_string")]
    pub name: Option<String>,
    /// The cluster id.
    #[serde(deserialize_with = "absent::string")]
    pub cluster_id: String,
    /// The user's name for the cluster.
    #[serde(deserialize_with = "absent::string")]
    pub display_name: String,
    /// The cluster's state; `ACTIVE` when running.
    #[serde(deserialize_with = "absent::opt_enum")]
    pub state: Option<ClusterState>,
    /// Where the cluster runs.
    pub region: Option<Region>,
    /// RFC 3339 timestamp.
    #[serde(deserialize_with = "absent::opt_string")]
    pub create_time: Option<String>,
}

impl Cluster {
    /// The cloud provider as the API spells it, e.g. `aws` or `alicloud`:
    /// `region.cloudProvider`, else the deprecated `region.provider`, else
    /// the prefix of the region id.
    pub fn cloud_provider(&self) -> Option<&str> {
        let region = self.region.as_ref()?;
        if let Some(p) = &region.cloud_provider {
            return Some(p.as_str());
        }
        if let Some(p) = region.provider.as_deref().filter(|p| !p.is_empty()) {
            return Some(p);
        }
        let full = region.full_region_id()?;
        full.split_once('-').map(|(provider, _)| provider)
    }

    /// The region code on the cloud provider, e.g. `us-west-2` when the
    /// region id is `aws-us-west-2`.
    pub fn region_id(&self) -> Option<&str> {
        let full = self.region.as_ref()?.full_region_id()?;
        match self.cloud_provider() {
            Some(provider) => full
                .strip_prefix(provider)
                .and_then(|rest| rest.strip_prefix('-'))
                .or_else(|| full.split_once('-').map(|(_, code)| code)),
            None => full.split_once('-').map(|(_, code)| code),
        }
    }
}

/// A region (`commonv1beta1Region`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Region {
    /// `regions/<region_id>`.
    #[serde(deserialize_with = "absent::opt_string")]
    pub name: Option<String>,
    /// `<cloud_provider>-<region code>`, e.g. `aws-us-west-2`.
    #[serde(deserialize_with = "absent::opt_string")]
    pub region_id: Option<String>,
    /// `aws`, `gcp`, `azure` or `alicloud`.
    #[serde(deserialize_with = "absent::opt_enum")]
    pub cloud_provider: Option<CloudProvider>,
    /// E.g. `Oregon (us-west-2)`.
    #[serde(deserialize_with = "absent::opt_string")]
    pub display_name: Option<String>,
    /// Deprecated spelling of `cloud_provider`.
    #[serde(deserialize_with = "absent::opt_string")]
    pub provider: Option<String>,
}

impl Region {
    /// `regionId`, or the id taken from `name` (`regions/<id>`).
    pub fn full_region_id(&self) -> Option<&str> {
        self.region_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .or_else(|| self.name.as_deref()?.strip_prefix("regions/"))
    }
}

/// Request body of create (`CreatePrivateLinkConnectionBody`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreatePrivateLinkConnectionBody<'a> {
    pub private_link_connection: &'a PrivateLinkConnection,
}

/// Request body of attach (`AttachDomainsBody`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttachDomainsBody<'a> {
    pub attach_domain: &'a AttachDomain,
    pub validate_only: bool,
}

/// Request body of detach (`DetachDomainsBody`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DetachDomainsBody<'a> {
    pub attach_domain_id: &'a str,
}

fn empty_string_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    absent::opt_string(d)
}

/// Absent values as grpc-gateway writes them: an unset string is `""`, an
/// unset object or list may be `null`, an unset enum `*_UNSPECIFIED` (its
/// zero value). All read as absent: `None`, `""` or an empty list.
mod absent {
    use serde::{Deserialize, Deserializer};

    /// `null` and `""` as `None`.
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Option::<String>::deserialize(d)?.filter(|s| !s.trim().is_empty()))
    }

    /// `null`, `""` and `*_UNSPECIFIED` as `None`; anything else, known or
    /// not, as the enum (unknown words are kept as `Other`).
    pub fn opt_enum<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: From<String>,
    {
        Ok(opt_string(d)?.filter(|s| !is_unspecified(s)).map(T::from))
    }

    /// `null` as `""`.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
    }

    /// `null` as an empty list.
    pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
    }

    /// An enum's zero value, e.g. `STATE_UNSPECIFIED`.
    pub fn is_unspecified(s: &str) -> bool {
        let s = s.trim();
        s.eq_ignore_ascii_case("UNSPECIFIED")
            || s.len() > "_UNSPECIFIED".len()
                && s[s.len() - "_UNSPECIFIED".len()..].eq_ignore_ascii_case("_UNSPECIFIED")
    }
}

/// Accepts `12`, `"12"`, `null` and `""` (the last two as `None`).
fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrString {
        Int(i64),
        Str(String),
    }
    match Option::<IntOrString>::deserialize(d)? {
        None => Ok(None),
        Some(IntOrString::Int(n)) => Ok(Some(n)),
        Some(IntOrString::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(IntOrString::Str(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("totalSize {s:?} is not an integer"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_enum_values_are_kept() {
        let s: ConnectionState = serde_json::from_value(json!("HIBERNATING")).unwrap();
        assert_eq!(s, ConnectionState::Other("HIBERNATING".into()));
        assert!(!s.is_known());
        assert_eq!(serde_json::to_value(&s).unwrap(), json!("HIBERNATING"));
        let known: ConnectionState = serde_json::from_value(json!("PENDING_ACCEPTANCE")).unwrap();
        assert_eq!(known, ConnectionState::PendingAcceptance);
        assert_eq!(known.to_string(), "PENDING_ACCEPTANCE");
        assert_eq!(ClusterState::from("PAUSED"), ClusterState::Paused);
        assert_eq!(DomainType::from("NEW_KIND").as_str(), "NEW_KIND");
        assert_eq!(DomainState::KNOWN.len(), 4);
    }

    #[test]
    fn extra_fields_and_unknown_enums_do_not_break_a_connection() {
        let c: PrivateLinkConnection = serde_json::from_value(json!({
            "privateLinkConnectionId": "plc-1",
            "clusterId": "1",
            "displayName": "x",
            "state": "SOMETHING_NEW",
            "type": "GCP_PRIVATE_SERVICE_CONNECT",
            "futureField": {"a": 1},
        }))
        .unwrap();
        assert_eq!(
            c.state,
            Some(ConnectionState::Other("SOMETHING_NEW".into()))
        );
        assert_eq!(
            c.connection_type(),
            Some(ConnectionType::Other("GCP_PRIVATE_SERVICE_CONNECT".into()))
        );
        assert!(c.attached_domains.is_empty());
    }

    #[test]
    fn total_size_is_a_number_or_a_string() {
        for (body, want) in [
            (json!({"totalSize": 3}), Some(3)),
            (json!({"totalSize": "3"}), Some(3)),
            (json!({"totalSize": null}), None),
            (json!({"totalSize": ""}), None),
            (json!({}), None),
        ] {
            let page: ListPrivateLinkConnectionsResponse = serde_json::from_value(body).unwrap();
            assert_eq!(page.total_size, want);
            assert!(page.private_link_connections.is_empty());
        }
        assert!(
            serde_json::from_value::<ListPrivateLinkConnectionsResponse>(
                json!({"totalSize": "many"})
            )
            .is_err()
        );
    }

    #[test]
    fn empty_null_and_unspecified_values_are_absent() {
        let c: PrivateLinkConnection = serde_json::from_value(json!({
            "privateLinkConnectionId": "plc-1",
            "clusterId": null,
            "displayName": "",
            "state": "STATE_UNSPECIFIED",
            "message": "",
            "createdBy": null,
            "createTime": "",
            "updateTime": null,
            "type": "PRIVATE_LINK_CONNECTION_TYPE_UNSPECIFIED",
            "attachedDomains": null,
            "awsEndpointService": {"name": "svc", "region": "", "endpointId": null,
                                   "availabilityZoneIds": null},
            "alicloudEndpointService": null,
        }))
        .unwrap();
        assert_eq!(c.cluster_id, "");
        assert_eq!(c.state, None);
        assert_eq!(c.message, None);
        assert_eq!(c.created_by, None);
        assert_eq!(c.create_time, None);
        assert_eq!(c.update_time, None);
        assert_eq!(c.connection_type, None);
        assert_eq!(
            c.connection_type(),
            Some(ConnectionType::AwsEndpointService)
        );
        assert!(c.attached_domains.is_empty());
        let aws = c.aws_endpoint_service.as_ref().unwrap();
        assert_eq!(
            (aws.region.as_deref(), aws.endpoint_id.as_deref()),
            (None, None)
        );
        assert!(aws.availability_zone_ids.is_empty());
        assert_eq!(c.alicloud_endpoint_service, None);
        assert_eq!(c.endpoint_id(), None);

        let a: AttachDomain = serde_json::from_value(json!({
            "attachDomainId": null, "type": "DOMAIN_TYPE_UNSPECIFIED", "uniqueName": "",
            "domains": [{"name": "*.x", "state": "", "message": null},
                        {"name": null, "state": "ATTACHED"}],
        }))
        .unwrap();
        assert_eq!(a.attach_domain_id, "");
        assert_eq!((a.domain_type, a.unique_name), (None, None));
        assert_eq!(a.domains[0].state, None);
        assert_eq!(
            a.domains[1].state,
            Some(DomainState::Other("ATTACHED".into()))
        );

        let page: ListPrivateLinkConnectionsResponse = serde_json::from_value(json!({
            "privateLinkConnections": null, "nextPageToken": "", "totalSize": "0"
        }))
        .unwrap();
        assert!(page.private_link_connections.is_empty());
        assert_eq!((page.next_page_token, page.total_size), (None, Some(0)));

        let cluster: Cluster = serde_json::from_value(json!({
            "clusterId": "1", "displayName": null, "state": "CLUSTER_STATE_UNSPECIFIED",
            "region": {"regionId": "", "name": "regions/aws-us-east-1",
                       "cloudProvider": "CLOUD_PROVIDER_UNSPECIFIED", "provider": ""},
        }))
        .unwrap();
        assert_eq!(cluster.state, None);
        assert_eq!(cluster.cloud_provider(), Some("aws"));
        assert_eq!(cluster.region_id(), Some("us-east-1"));

        let az: AvailabilityZones =
            serde_json::from_value(json!({"accountId": null, "azIds": null})).unwrap();
        assert_eq!(az, AvailabilityZones::default());
    }

    #[test]
    fn empty_next_page_token_means_last_page() {
        let page: ListPrivateLinkConnectionsResponse =
            serde_json::from_value(json!({"nextPageToken": ""})).unwrap();
        assert_eq!(page.next_page_token, None);
    }

    #[test]
    fn requests_carry_only_writable_fields() {
        let mut c = PrivateLinkConnection::aws(
            "1",
            "kafka",
            "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef",
            None,
        );
        c.private_link_connection_id = "plc-1".into();
        c.state = Some(ConnectionState::Active);
        c.attached_domains = vec![AttachDomain::default()];
        c.aws_endpoint_service.as_mut().unwrap().endpoint_id = Some("vpce-1".into());
        let body = serde_json::to_value(CreatePrivateLinkConnectionBody {
            private_link_connection: &c,
        })
        .unwrap();
        assert_eq!(
            body,
            json!({"privateLinkConnection": {
                "clusterId": "1",
                "displayName": "kafka",
                "type": "AWS_ENDPOINT_SERVICE",
                "awsEndpointService": {"name": "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"},
            }})
        );

        let mut a = AttachDomain::new(DomainType::Confluent, Some("abc".into()));
        a.attach_domain_id = "ad-1".into();
        a.domains = vec![Domain::default()];
        let body = serde_json::to_value(AttachDomainsBody {
            attach_domain: &a,
            validate_only: true,
        })
        .unwrap();
        assert_eq!(
            body,
            json!({"attachDomain": {"type": "CONFLUENT", "uniqueName": "abc"}, "validateOnly": true})
        );
    }

    #[test]
    fn cluster_helpers_split_the_region_id() {
        let c: Cluster = serde_json::from_value(json!({
            "clusterId": "1",
            "state": "ACTIVE",
            "region": {"name": "regions/aws-us-west-2", "regionId": "aws-us-west-2", "cloudProvider": "aws"},
        }))
        .unwrap();
        assert_eq!(c.cloud_provider(), Some("aws"));
        assert_eq!(c.region_id(), Some("us-west-2"));

        let only_name: Cluster = serde_json::from_value(json!({
            "region": {"name": "regions/alicloud-ap-southeast-1"},
        }))
        .unwrap();
        assert_eq!(only_name.cloud_provider(), Some("alicloud"));
        assert_eq!(only_name.region_id(), Some("ap-southeast-1"));

        let deprecated: Cluster = serde_json::from_value(json!({
            "region": {"regionId": "aws-eu-central-1", "provider": "aws"},
        }))
        .unwrap();
        assert_eq!(deprecated.cloud_provider(), Some("aws"));
        assert_eq!(deprecated.region_id(), Some("eu-central-1"));

        assert_eq!(Cluster::default().cloud_provider(), None);
        assert_eq!(Cluster::default().region_id(), None);
    }
}
