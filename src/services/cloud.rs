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
    /// Whether an attachment has one domain per availability zone (keyed in
    /// `domains_by_az` by the zone id found among its labels) rather than
    /// one domain spanning zones.
    pub domains_per_zone: bool,
    /// The create request for a connection with this block, as planned and
    /// as configured: optional fields are taken from the configuration, so
    /// that only what the user set is sent (`None` when a value it needs is
    /// unknown).
    pub request: fn(
        cluster_id: &str,
        display_name: &str,
        planned: &Value,
        config: &Value,
    ) -> Option<PrivateLinkConnection>,
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
    domains_per_zone: true,
    request: |cluster_id, display_name, planned, config| {
        Some(PrivateLinkConnection::aws(
            cluster_id,
            display_name,
            planned.str_attr("name")?,
            config.str_attr("region").map(str::to_string),
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
    domains_per_zone: false,
    request: |cluster_id, display_name, planned, _config| {
        Some(PrivateLinkConnection::alicloud(
            cluster_id,
            display_name,
            planned.str_attr("name")?,
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

    /// A region as a bare region code, whichever form the API uses:
    /// `aws-us-west-2`, `regions/aws-us-west-2`, `US-WEST-2` and `us-west-2`
    /// are all `us-west-2`. `None` when nothing is left.
    pub fn region_code(&self, region: &str) -> Option<String> {
        let r = region.trim().to_ascii_lowercase();
        let r = r.strip_prefix("regions/").unwrap_or(&r);
        let r = r
            .strip_prefix(self.cluster_cloud)
            .and_then(|rest| rest.strip_prefix('-'))
            .unwrap_or(r);
        (!r.is_empty()).then(|| r.to_string())
    }
}

/// The cloud of a connection the API returned.
pub fn of_connection(c: &PrivateLinkConnection) -> Option<&'static Cloud> {
    let t = c.connection_type()?;
    CLOUDS.iter().copied().find(|cl| cl.connection_type == t)
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
    fn region_forms() {
        for form in [
            "us-west-2",
            "aws-us-west-2",
            "regions/aws-us-west-2",
            " US-West-2 ",
        ] {
            assert_eq!(
                AWS.region_code(form).as_deref(),
                Some("us-west-2"),
                "{form}"
            );
        }
        assert_eq!(AWS.region_code(""), None);
        assert_eq!(AWS.region_code("aws-"), None);
        assert_eq!(
            ALICLOUD.region_code("alicloud-ap-southeast-1").as_deref(),
            Some("ap-southeast-1")
        );
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
