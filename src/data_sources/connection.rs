//! `data.tidbcloud_private_link_connection`: one connection, by ID or by
//! display name, with its attached domains (what the console's detail view
//! shows).

use async_trait::async_trait;

use super::{attachment_attributes, connection_attributes};
use crate::framework::{
    Attribute, AttributePath, Context, DataSource, Diagnostic, Diagnostics, ReadOutcome, Schema,
    Value,
};
use crate::services::describe::{self, ATTACHMENT, CONNECTION};
use crate::services::errors::{api_error, cluster_error};
use crate::services::{validate, ProviderData};

pub struct PrivateLinkConnectionDataSource;

fn schema() -> Schema {
    let mut attributes = vec![Attribute::string("cluster_id")
        .required()
        .description("The ID of the cluster.")
        .validate("Invalid cluster ID", validate::cluster_id)];
    for a in connection_attributes() {
        let a = match a.name.as_str() {
            "private_link_connection_id" => a.optional().description("The connection's ID (`plc-...`). Exactly one of `private_link_connection_id` and `display_name` must be set.")
                .validate("Invalid private link connection ID", validate::connection_id),
            "display_name" => a.optional().description("The connection's name. Exactly one of `private_link_connection_id` and `display_name` must be set; a name shared by several connections is an error that lists them.")
                .validate("Invalid display name", validate::display_name),
            "cluster_id" => continue,
            _ => a,
        };
        attributes.push(a);
    }
    attributes.push(
        Attribute::string("id")
            .computed()
            .description("`<cluster_id>,<private_link_connection_id>`."),
    );
    attributes.push(
        Attribute::list_nested("attached_domains", attachment_attributes())
            .computed()
            .description("The domains attached to the connection."),
    );
    Schema::new(
        "Reads one private link connection of a cluster, by ID or by display name, with every field and its attached domains.",
        attributes,
    )
}

#[async_trait]
impl DataSource<ProviderData> for PrivateLinkConnectionDataSource {
    fn type_name(&self) -> &'static str {
        "tidbcloud_private_link_connection"
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let id = config.attr("private_link_connection_id");
        let name = config.attr("display_name");
        if id.is_unknown() || name.is_unknown() {
            return;
        }
        if id.is_null() == name.is_null() {
            diags.push(
                Diagnostic::error(
                    "Choose how to find the connection",
                    "Set exactly one of private_link_connection_id and display_name.",
                )
                .at(AttributePath::attr("private_link_connection_id")),
            );
        }
    }

    async fn read(&self, ctx: &Context<ProviderData>, config: &Value) -> ReadOutcome {
        let mut out = ReadOutcome::default();
        let (data, _op, client) = match ctx.data().and_then(|data| {
            let op = data.op(&ctx.stop, None)?;
            Ok((data, data.client_within(&op)?, op))
        }) {
            Ok((data, client, op)) => (data, op, client),
            Err(d) => {
                out.diags.push(d);
                return out;
            }
        };
        let client = &client;
        let cluster_id = config.str_attr("cluster_id").unwrap_or_default();
        let id = match (
            config.str_attr("private_link_connection_id"),
            config.str_attr("display_name"),
        ) {
            (Some(id), _) => id.to_string(),
            (None, Some(name)) => {
                match client.list_private_link_connections(cluster_id, None).await {
                    Ok(all) => {
                        let matches: Vec<_> =
                            all.iter().filter(|c| c.display_name == name).collect();
                        match matches.as_slice() {
                            [one] => one.private_link_connection_id.clone(),
                            [] => {
                                out.diags.push(Diagnostic::error(
                                "Private link connection not found",
                                format!("Cluster {cluster_id} has no private link connection named {name:?}."),
                            ).at(AttributePath::attr("display_name")));
                                return out;
                            }
                            several => {
                                let ids: Vec<&str> = several
                                    .iter()
                                    .map(|c| c.private_link_connection_id.as_str())
                                    .collect();
                                out.diags.push(Diagnostic::error(
                                "Several connections have this name",
                                format!("Cluster {cluster_id} has {} connections named {name:?}: {}. Select one with private_link_connection_id.", ids.len(), ids.join(", ")),
                            ).at(AttributePath::attr("display_name")));
                                return out;
                            }
                        }
                    }
                    Err(e) if e.is_not_found() => {
                        out.diags.push(
                            cluster_error(cluster_id, &e).at(AttributePath::attr("cluster_id")),
                        );
                        return out;
                    }
                    Err(e) => {
                        out.diags
                            .push(api_error("Could not list the private link connections", &e));
                        return out;
                    }
                }
            }
            (None, None) => {
                out.diags.error(
                    "Choose how to find the connection",
                    "Set exactly one of private_link_connection_id and display_name.",
                );
                return out;
            }
        };
        match client.get_private_link_connection(cluster_id, &id).await {
            Ok(c) => {
                let mut fields = CONNECTION.read(&c, &describe::Read::default());
                fields.insert("cluster_id".into(), Value::string(cluster_id));
                fields.insert("id".into(), Value::string(format!("{cluster_id},{}", c.private_link_connection_id)));
                fields.insert(
                    "attached_domains".into(),
                    Value::List(
                        c.attached_domains
                            .iter()
                            .map(|a| ATTACHMENT.value(a, &describe::Read::default()))
                            .collect(),
                    ),
                );
                out.state = Some(Value::Object(fields));
            }
            // The API answers 404 both for an unknown connection and for an
            // unknown cluster: say which it is.
            Err(e) if e.is_not_found() => match data.clusters.get(client, cluster_id).await {
                Err(ce) if ce.is_not_found() => out
                    .diags
                    .push(cluster_error(cluster_id, &ce).at(AttributePath::attr("cluster_id"))),
                _ => out.diags.push(Diagnostic::error(
                    "Private link connection not found",
                    format!("Cluster {cluster_id} has no private link connection {id:?}. Check private_link_connection_id; the tidbcloud_private_link_connections data source lists the cluster's connections."),
                ).at(AttributePath::attr("private_link_connection_id"))),
            },
            Err(e) => out.diags.push(api_error("Could not read the private link connection", &e)),
        }
        out
    }
}
