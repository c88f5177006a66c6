//! `data.tidbcloud_private_link_connections`: every connection of a cluster,
//! across all pages, optionally filtered by state.

use async_trait::async_trait;

use super::connection_attributes;
use crate::api::ConnectionState;
use crate::framework::{Attribute, AttributePath, Context, DataSource, ReadOutcome, Schema, Value};
use crate::services::describe::{self, CONNECTION};
use crate::services::errors::{api_error, cluster_error};
use crate::services::{validate, ProviderData};

pub struct PrivateLinkConnectionsDataSource;

fn schema() -> Schema {
    Schema::new(
        "Lists the private link connections of a cluster (all pages), optionally only those in one state. Lists carry no attached domains; read one connection with the `tidbcloud_private_link_connection` data source for those.",
        vec![
            Attribute::string("cluster_id").required().description("The ID of the cluster.")
                .validate("Invalid cluster ID", validate::cluster_id),
            Attribute::string("state").optional()
                .description("Only connections in this state: `CREATING`, `ACTIVE`, `PENDING_ACCEPTANCE`, `FAILED` or `DELETING`.")
                .validate("Invalid state", validate::connection_state),
            Attribute::string("id").computed().description("The cluster ID."),
            Attribute::list_nested("private_link_connections", connection_attributes()).computed()
                .description("The connections, oldest first."),
        ],
    )
}

#[async_trait]
impl DataSource<ProviderData> for PrivateLinkConnectionsDataSource {
    fn type_name(&self) -> &'static str {
        "tidbcloud_private_link_connections"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    async fn read(&self, ctx: &Context<ProviderData>, config: &Value) -> ReadOutcome {
        let mut out = ReadOutcome::default();
        let (_op, client) = match ctx.data().and_then(|d| {
            d.op(&ctx.stop, None)
                .and_then(|op| Ok((d.client_within(&op)?, op)))
        }) {
            Ok((client, op)) => (op, client),
            Err(d) => {
                out.diags.push(d);
                return out;
            }
        };
        let cluster_id = config.str_attr("cluster_id").unwrap_or_default();
        let state = config.str_attr("state").map(ConnectionState::from);
        match client
            .list_private_link_connections(cluster_id, state.as_ref())
            .await
        {
            Ok(all) => {
                let items = all
                    .iter()
                    .map(|c| CONNECTION.value(c, &describe::Read::default()))
                    .collect();
                out.state = Some(Value::object([
                    ("cluster_id", Value::string(cluster_id)),
                    ("state", config.attr("state").clone()),
                    ("id", Value::string(cluster_id)),
                    ("private_link_connections", Value::List(items)),
                ]));
            }
            Err(e) if e.is_not_found() => out
                .diags
                .push(cluster_error(cluster_id, &e).at(AttributePath::attr("cluster_id"))),
            Err(e) => out
                .diags
                .push(api_error("Could not list the private link connections", &e)),
        }
        out
    }
}
