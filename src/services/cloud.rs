//! The cloud table: everything the provider knows about a cloud a private
//! link connection can reach, one row per cloud. A new cloud is one row here
//! (plus its API models); the resources, data sources and functions read
//! the table instead of naming clouds.

use crate::api::{ConnectionType, PrivateLinkConnection};
use crate::framework::Value;

use super::validate;

/// One cloud.
pub struct Cloud {
    /// The endpoint service block of the connection resource and the
    /// attribute of the connection views, e.g. `aws_endpoint_service`.
    pub block: &'static str,
    /// The connection type the API gives connections to this cloud.
    pub connection_type: ConnectionType,
    /// The cluster's cloud as the cluster API spells it (`region.cloudProvider`).
    pub cluster_cloud: &'static str,
    /// The cloud's name in messages.
    pub human: &'static str,
    /// The validator summary for a bad endpoint service name.
    pub name_error: &'static str,
    /// Checks an endpoint service name (an attribute validator).
    pub validate_name: fn(&Value) -> Result<(), String>,
    /// The region in an endpoint service name (or what is wrong with it).
    pub service_region: fn(&str) -> Result<&str, String>,
    /// Whether the block takes a `region` (else the cluster's region is used).
    pub region_argument: bool,
    /// The principal an endpoint service must allow, `<account_id>` standing
    /// for TiDB Cloud's account id.
    pub principal_template: &'static str,
    /// The shape of TiDB Cloud managed domain names on this cloud. For
    /// display and documentation only: never parse names with it.
    pub domain_template: &'static str,
    /// The create request for a connection with this block (`None` when a
    /// value it needs is unknown).
    pub request:
        fn(cluster_id: &str, display_name: &str, block: &Value) -> Option<PrivateLinkConnection>,
}

/// Amazon Web Services: VPC endpoint services.
pub static AWS: Cloud = Cloud {
    block: "aws_endpoint_service",
    connection_type: ConnectionType::AwsEndpointService,
    cluster_cloud: "aws",
    human: "AWS",
    name_error: "Invalid AWS endpoint service name",
    validate_name: validate::aws_service_name,
    service_region: validate::aws_service_region,
    region_argument: true,
    principal_template: "arn:aws:iam::<account_id>:root",
    domain_template: "*.<az_id>.<unique_name>.aws.plc.tidbcloud.com",
    request: |cluster_id, display_name, block| {
        Some(PrivateLinkConnection::aws(
            cluster_id,
            display_name,
            block.str_attr("name")?,
            block.str_attr("region").map(str::to_string),
        ))
    },
};

/// Alibaba Cloud: PrivateLink endpoint services.
pub static ALICLOUD: Cloud = Cloud {
    block: "alicloud_endpoint_service",
    connection_type: ConnectionType::AlicloudEndpointService,
    cluster_cloud: "alicloud",
    human: "Alibaba Cloud",
    name_error: "Invalid Alibaba Cloud endpoint service name",
    validate_name: validate::alicloud_service_name,
    service_region: validate::alicloud_service_region,
    region_argument: false,
    principal_template: "acs:ram:*:<account_id>:*",
    domain_template: "*.<unique_name>.alicloud.plc.tidbcloud.com",
    request: |cluster_id, display_name, block| {
        Some(PrivateLinkConnection::alicloud(
            cluster_id,
            display_name,
            block.str_attr("name")?,
        ))
    },
};

/// Every cloud, in the order messages list them.
pub static CLOUDS: [&Cloud; 2] = [&AWS, &ALICLOUD];

impl Cloud {
    /// The principal to allow on an endpoint service for TiDB Cloud's account.
    pub fn principal(&self, account_id: &str) -> String {
        self.principal_template.replace("<account_id>", account_id)
    }
}

impl PartialEq for Cloud {
    fn eq(&self, other: &Cloud) -> bool {
        self.block == other.block
    }
}

impl std::fmt::Debug for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.block)
    }
}

/// The cloud a cluster runs on, given as the cluster API spells it
/// (exactly, e.g. `aws`).
pub fn by_cluster_cloud(cluster_cloud: &str) -> Option<&'static Cloud> {
    CLOUDS
        .iter()
        .copied()
        .find(|c| c.cluster_cloud == cluster_cloud)
}

/// The cloud whose endpoint service block a configuration (or plan, or
/// state) sets: exactly one block must be non-null.
pub fn of_blocks(v: &Value) -> Option<&'static Cloud> {
    let mut set = CLOUDS
        .iter()
        .copied()
        .filter(|c| !v.attr(c.block).is_null());
    match (set.next(), set.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

/// `a`, `a or b`, `a, b or c`: the items of a message listing every cloud.
pub fn either(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cloud_is_found_by_what_names_it() {
        for cloud in CLOUDS {
            assert_eq!(by_cluster_cloud(cloud.cluster_cloud), Some(cloud));
            let config = Value::object(CLOUDS.iter().map(|c| {
                let v = if c == &cloud {
                    Value::object([("name", Value::string("x"))])
                } else {
                    Value::Null
                };
                (c.block, v)
            }));
            assert_eq!(of_blocks(&config), Some(cloud));
        }
        assert_eq!(by_cluster_cloud("gcp"), None);
    }

    #[test]
    fn principals() {
        assert_eq!(AWS.principal("123"), "arn:aws:iam::123:root");
        assert_eq!(ALICLOUD.principal("123"), "acs:ram:*:123:*");
    }

    #[test]
    fn lists() {
        assert_eq!(either(["a".to_string()]), "a");
        assert_eq!(either(["a".to_string(), "b".to_string()]), "a or b");
        assert_eq!(
            either(["a".to_string(), "b".to_string(), "c".to_string()]),
            "a, b or c"
        );
    }
}
