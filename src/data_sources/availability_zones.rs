//! `data.tidbcloud_private_link_availability_zones`: what the customer's
//! endpoint service must allow (TiDB Cloud's account, as a ready-to-use
//! principal) and the zones it should cover.

use async_trait::async_trait;

use crate::framework::{
    Attribute, AttributePath, Context, DataSource, Diagnostic, ReadOutcome, Schema, Value,
};
use crate::services::cloud;
use crate::services::convert;
use crate::services::errors::{api_error, cluster_error};
use crate::services::{validate, ProviderData};

pub struct AvailabilityZonesDataSource;

fn schema() -> Schema {
    Schema::new(
        "The TiDB Cloud account and availability zones of a cluster: allow `principal` on your endpoint service (for example in `aws_vpc_endpoint_service.allowed_principals`) and serve it in the zones `az_ids`.",
        vec![
            Attribute::string("cluster_id").required().description("The ID of the cluster.")
                .validate("Invalid cluster ID", validate::cluster_id),
            Attribute::string("id").computed().description("The cluster ID."),
            Attribute::string("account_id").computed().description("TiDB Cloud's account on the cluster's cloud."),
            Attribute::list_of_strings("az_ids").computed().description("The availability zone IDs the cluster can reach (for example `usw2-az1`)."),
            Attribute::string("cloud_provider").computed().description("The cluster's cloud as the cluster API spells it: `aws` or `alicloud`."),
            Attribute::string("region").computed().description("The cluster's region on that cloud, for example `us-west-2`."),
            Attribute::string("principal").computed().description("The principal to allow on the endpoint service: `arn:aws:iam::<account_id>:root` on AWS, `acs:ram:*:<account_id>:*` on Alibaba Cloud."),
        ],
    )
}

#[async_trait]
impl DataSource<ProviderData> for AvailabilityZonesDataSource {
    fn type_name(&self) -> &'static str {
        "tidbcloud_private_link_availability_zones"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, ctx: &Context<ProviderData>, config: &Value) -> ReadOutcome {
        let mut out = ReadOutcome::default();
        let data = match ctx.data() {
            Ok(d) => d,
            Err(d) => {
                out.diags.push(d);
                return out;
            }
        };
        let (_op, client) = match data
            .op(&ctx.stop, None)
            .and_then(|op| Ok((data.client_within(&op)?, op)))
        {
            Ok((client, op)) => (op, client),
            Err(d) => {
                out.diags.push(d);
                return out;
            }
        };
        let client = &client;
        let cluster_id = config.str_attr("cluster_id").unwrap_or_default();
        let cluster = match data.clusters.get(client, cluster_id).await {
            Ok(c) => c,
            Err(e) => {
                out.diags
                    .push(cluster_error(cluster_id, &e).at(AttributePath::attr("cluster_id")));
                return out;
            }
        };
        let zones = match client.get_availability_zones(cluster_id).await {
            Ok(z) => z,
            Err(e) => {
                out.diags.push(api_error(
                    "Could not read the cluster's availability zones",
                    &e,
                ));
                return out;
            }
        };
        let cloud = cluster
            .cloud_provider()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let Some(principal) =
            cloud::by_cluster_cloud(&cloud).map(|c| c.principal(&zones.account_id))
        else {
            out.diags.push(Diagnostic::error(
                "Unsupported cloud provider",
                format!(
                    "Cluster {cluster_id} runs on {cloud:?}; private link connections exist for {} clusters.",
                    cloud::CLOUDS.iter().map(|c| c.cluster_cloud).collect::<Vec<_>>().join(" and ")
                ),
            ));
            return out;
        };
        out.state = Some(Value::object([
            ("cluster_id", Value::string(cluster_id)),
            ("id", Value::string(cluster_id)),
            ("account_id", Value::string(zones.account_id.as_str())),
            ("az_ids", convert::strings(&zones.az_ids)),
            ("cloud_provider", Value::string(cloud.as_str())),
            ("region", convert::opt(cluster.region_id())),
            ("principal", Value::string(principal)),
        ]));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented principals are the cloud table's.
    #[test]
    fn the_description_shows_each_clouds_principal() {
        let schema = schema();
        let principal = schema
            .attributes
            .iter()
            .find(|a| a.name == "principal")
            .expect("principal");
        for c in cloud::CLOUDS {
            assert!(
                principal.description.contains(c.principal_template),
                "{}",
                c.block
            );
        }
    }
}
