//! Data sources: one connection with its domains, a cluster's connections,
//! and the account and zones an endpoint service must allow.

pub mod availability_zones;
pub mod connection;
pub mod connections;

use crate::framework::Attribute;
use crate::resources::convert;

/// The computed attributes every view of a connection shows.
pub(crate) fn connection_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("private_link_connection_id")
            .computed()
            .description("The connection's ID (`plc-...`)."),
        Attribute::string("cluster_id")
            .computed()
            .description("The cluster of the connection."),
        Attribute::string("display_name")
            .computed()
            .description("The connection's name."),
        Attribute::string("type")
            .computed()
            .description("`AWS_ENDPOINT_SERVICE` or `ALICLOUD_ENDPOINT_SERVICE`."),
        Attribute::string("state")
            .computed()
            .description("`CREATING`, `ACTIVE`, `PENDING_ACCEPTANCE`, `FAILED` or `DELETING`."),
        Attribute::string("message")
            .computed()
            .description("Why the connection failed, when it did."),
        Attribute::string("created_by")
            .computed()
            .description("Who created the connection."),
        Attribute::string("create_time")
            .computed()
            .description("When the connection was created (RFC 3339)."),
        Attribute::string("update_time")
            .computed()
            .description("When the connection last changed (RFC 3339), if it did."),
        Attribute::single_nested(
            "aws_endpoint_service",
            vec![
                Attribute::string("name")
                    .computed()
                    .description("The endpoint service name."),
                Attribute::string("region")
                    .computed()
                    .description("The region of the endpoint service."),
                Attribute::string("endpoint_id")
                    .computed()
                    .description("The VPC endpoint TiDB Cloud created."),
                Attribute::list_of_strings("availability_zone_ids")
                    .computed()
                    .description("The availability zone IDs of the endpoint."),
            ],
        )
        .computed()
        .description("The AWS endpoint service, for `AWS_ENDPOINT_SERVICE` connections."),
        Attribute::single_nested(
            "alicloud_endpoint_service",
            vec![
                Attribute::string("name")
                    .computed()
                    .description("The endpoint service name."),
                Attribute::string("endpoint_id")
                    .computed()
                    .description("The endpoint TiDB Cloud created."),
                Attribute::list_of_strings("availability_zone_ids")
                    .computed()
                    .description("The zone IDs of the endpoint."),
            ],
        )
        .computed()
        .description(
            "The Alibaba Cloud endpoint service, for `ALICLOUD_ENDPOINT_SERVICE` connections.",
        ),
    ]
}

/// The attributes of one attachment in `attached_domains`.
pub(crate) fn attachment_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("attach_domain_id")
            .computed()
            .description("The ID of the attachment."),
        Attribute::string("type")
            .computed()
            .description("`TIDBCLOUD_MANAGED` or `CONFLUENT`."),
        Attribute::string("unique_name")
            .computed()
            .description("The unique part of the domain names."),
        Attribute::list_nested("domains", convert::domain_attributes())
            .computed()
            .description("The domains with their states."),
        Attribute::string("created_by")
            .computed()
            .description("Who attached the domains."),
        Attribute::string("create_time")
            .computed()
            .description("When the domains were attached (RFC 3339)."),
    ]
}
