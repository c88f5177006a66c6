//! Each API object described once: for every attribute its name, its type,
//! its description and how it is read from the API model. All of them are
//! read from the API, so every view shows them as computed; a resource makes
//! some of them arguments (required, plan modifiers, validators, its own
//! wording) on top, through [`Object::argument`] and [`Object::complete`].
//!
//! The data-source schemas, the resource schemas and the conversions from
//! API objects to Terraform values all derive from these tables, so adding
//! an attribute is one row here (plus its API field).

use std::collections::BTreeMap;

use crate::api::{
    AlicloudEndpointService, AttachDomain, AwsEndpointService, Domain, PrivateLinkConnection,
};
use crate::framework::{Attribute, Value};

use super::convert::{opt, strings};

/// What a conversion needs besides the object.
#[derive(Default, Clone, Copy)]
pub struct Read<'a> {
    /// The region to show for an AWS endpoint service whose region the API
    /// omits (the cluster's, as planned).
    pub aws_region_fallback: Option<&'a str>,
}

/// The type of an attribute.
pub enum Shape {
    String,
    /// A list of strings.
    Strings,
    /// One nested object with these (computed) attributes.
    Object(fn() -> Vec<Attribute>),
    /// A list of nested objects with these (computed) attributes.
    List(fn() -> Vec<Attribute>),
}

/// One attribute of an object read from the API model `M`.
pub struct Field<M: 'static> {
    pub name: &'static str,
    pub shape: Shape,
    pub description: &'static str,
    pub read: fn(&M, &Read<'_>) -> Value,
}

/// The attributes of an object, in schema order.
pub struct Object<M: 'static>(pub &'static [Field<M>]);

impl<M> Field<M> {
    /// The attribute, not yet computed or an argument.
    fn bare(&self) -> Attribute {
        let a = match self.shape {
            Shape::String => Attribute::string(self.name),
            Shape::Strings => Attribute::list_of_strings(self.name),
            Shape::Object(attributes) => Attribute::single_nested(self.name, attributes()),
            Shape::List(attributes) => Attribute::list_nested(self.name, attributes()),
        };
        a.description(self.description)
    }
}

impl<M> Object<M> {
    fn field(&self, name: &str) -> &Field<M> {
        self.0
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no attribute {name:?} in the description"))
    }

    /// The attribute `name` as every view shows it: computed.
    pub fn attribute(&self, name: &str) -> Attribute {
        self.field(name).bare().computed()
    }

    /// The attribute `name` with its type and description only, for a
    /// resource to make an argument of.
    pub fn argument(&self, name: &str) -> Attribute {
        self.field(name).bare()
    }

    /// Every attribute, computed.
    pub fn attributes(&self) -> Vec<Attribute> {
        self.0.iter().map(|f| f.bare().computed()).collect()
    }

    /// `given` (a resource's own attributes, in its order), followed by the
    /// computed attributes of the description that `given` leaves out.
    pub fn complete(&self, mut given: Vec<Attribute>) -> Vec<Attribute> {
        for f in self.0 {
            if !given.iter().any(|a| a.name == f.name) {
                given.push(f.bare().computed());
            }
        }
        given
    }

    /// The object's attributes as values, keyed by name.
    pub fn read(&self, m: &M, r: &Read<'_>) -> BTreeMap<String, Value> {
        self.0
            .iter()
            .map(|f| (f.name.to_string(), (f.read)(m, r)))
            .collect()
    }

    /// The object as a value.
    pub fn value(&self, m: &M, r: &Read<'_>) -> Value {
        Value::Object(self.read(m, r))
    }
}

/// A private link connection.
pub static CONNECTION: Object<PrivateLinkConnection> = Object(&[
    Field {
        name: "private_link_connection_id",
        shape: Shape::String,
        description: "The connection's ID (`plc-...`).",
        read: |c, _| Value::string(c.private_link_connection_id.as_str()),
    },
    Field {
        name: "cluster_id",
        shape: Shape::String,
        description: "The cluster of the connection.",
        read: |c, _| Value::string(c.cluster_id.as_str()),
    },
    Field {
        name: "display_name",
        shape: Shape::String,
        description: "The connection's name.",
        read: |c, _| Value::string(c.display_name.as_str()),
    },
    Field {
        name: "type",
        shape: Shape::String,
        description: "`AWS_ENDPOINT_SERVICE` or `ALICLOUD_ENDPOINT_SERVICE`.",
        read: |c, _| opt(c.connection_type().as_ref().map(|t| t.as_str())),
    },
    Field {
        name: "state",
        shape: Shape::String,
        description: "`CREATING`, `ACTIVE`, `PENDING_ACCEPTANCE`, `FAILED` or `DELETING`.",
        read: |c, _| opt(c.state.as_ref().map(|s| s.as_str())),
    },
    Field {
        name: "message",
        shape: Shape::String,
        description: "Why the connection failed, when it did.",
        read: |c, _| opt(c.message.as_deref()),
    },
    Field {
        name: "created_by",
        shape: Shape::String,
        description: "Who created the connection.",
        read: |c, _| opt(c.created_by.as_deref()),
    },
    Field {
        name: "create_time",
        shape: Shape::String,
        description: "When the connection was created (RFC 3339).",
        read: |c, _| opt(c.create_time.as_deref()),
    },
    Field {
        name: "update_time",
        shape: Shape::String,
        description: "When the connection last changed (RFC 3339), if it did.",
        read: |c, _| opt(c.update_time.as_deref()),
    },
    Field {
        name: "aws_endpoint_service",
        shape: Shape::Object(|| AWS_ENDPOINT_SERVICE.attributes()),
        description: "The AWS endpoint service, for `AWS_ENDPOINT_SERVICE` connections.",
        read: |c, r| {
            c.aws_endpoint_service
                .as_ref()
                .map_or(Value::Null, |s| AWS_ENDPOINT_SERVICE.value(s, r))
        },
    },
    Field {
        name: "alicloud_endpoint_service",
        shape: Shape::Object(|| ALICLOUD_ENDPOINT_SERVICE.attributes()),
        description:
            "The Alibaba Cloud endpoint service, for `ALICLOUD_ENDPOINT_SERVICE` connections.",
        read: |c, r| {
            c.alicloud_endpoint_service
                .as_ref()
                .map_or(Value::Null, |s| ALICLOUD_ENDPOINT_SERVICE.value(s, r))
        },
    },
]);

/// The AWS endpoint service of a connection.
pub static AWS_ENDPOINT_SERVICE: Object<AwsEndpointService> = Object(&[
    Field {
        name: "name",
        shape: Shape::String,
        description: "The endpoint service name.",
        read: |s, _| Value::string(s.name.as_str()),
    },
    Field {
        name: "region",
        shape: Shape::String,
        description: "The region of the endpoint service.",
        read: |s, r| opt(s.region.as_deref().or(r.aws_region_fallback)),
    },
    Field {
        name: "endpoint_id",
        shape: Shape::String,
        description: "The VPC endpoint TiDB Cloud created.",
        read: |s, _| opt(s.endpoint_id.as_deref()),
    },
    Field {
        name: "availability_zone_ids",
        shape: Shape::Strings,
        description: "The availability zone IDs of the endpoint.",
        read: |s, _| strings(&s.availability_zone_ids),
    },
]);

/// The Alibaba Cloud endpoint service of a connection.
pub static ALICLOUD_ENDPOINT_SERVICE: Object<AlicloudEndpointService> = Object(&[
    Field {
        name: "name",
        shape: Shape::String,
        description: "The endpoint service name.",
        read: |s, _| Value::string(s.name.as_str()),
    },
    Field {
        name: "endpoint_id",
        shape: Shape::String,
        description: "The endpoint TiDB Cloud created.",
        read: |s, _| opt(s.endpoint_id.as_deref()),
    },
    Field {
        name: "availability_zone_ids",
        shape: Shape::Strings,
        description: "The zone IDs of the endpoint.",
        read: |s, _| strings(&s.availability_zone_ids),
    },
]);

/// The domains attached to a connection (one attachment).
pub static ATTACHMENT: Object<AttachDomain> = Object(&[
    Field {
        name: "attach_domain_id",
        shape: Shape::String,
        description: "The ID of the attachment.",
        read: |a, _| Value::string(a.attach_domain_id.as_str()),
    },
    Field {
        name: "type",
        shape: Shape::String,
        description: "`TIDBCLOUD_MANAGED` or `CONFLUENT`.",
        read: |a, _| opt(a.domain_type.as_ref().map(|t| t.as_str())),
    },
    Field {
        name: "unique_name",
        shape: Shape::String,
        description: "The unique part of the domain names.",
        read: |a, _| opt(a.unique_name.as_deref()),
    },
    Field {
        name: "domains",
        shape: Shape::List(|| DOMAIN.attributes()),
        description: "The domains with their states.",
        read: |a, r| Value::List(a.domains.iter().map(|d| DOMAIN.value(d, r)).collect()),
    },
    Field {
        name: "created_by",
        shape: Shape::String,
        description: "Who attached the domains.",
        read: |a, _| opt(a.created_by.as_deref()),
    },
    Field {
        name: "create_time",
        shape: Shape::String,
        description: "When the domains were attached (RFC 3339).",
        read: |a, _| opt(a.create_time.as_deref()),
    },
]);

/// One attached domain.
pub static DOMAIN: Object<Domain> = Object(&[
    Field {
        name: "name",
        shape: Shape::String,
        description: "The domain name, a wildcard such as `*.usw2-az1.kafka.aws.plc.tidbcloud.com`.",
        read: |d, _| Value::string(d.name.as_str()),
    },
    Field {
        name: "state",
        shape: Shape::String,
        description: "`CREATING`, `SUCCEEDED`, `FAILED` or `DELETING`; any other value is transitional and shown as the API reports it.",
        read: |d, _| opt(d.state.as_ref().map(|s| s.as_str())),
    },
    Field {
        name: "message",
        shape: Shape::String,
        description: "Why the domain failed, when it did.",
        read: |d, _| opt(d.message.as_deref()),
    },
]);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::Type;

    /// What a conversion gives has the type its schema declares, for every
    /// described object (a mismatch is Terraform's "unsupported attribute").
    fn conforms<M>(object: &Object<M>, m: &M) {
        let attributes = object.attributes();
        let ty = Type::object(attributes.iter().map(|a| (a.name.clone(), a.value_type())));
        let value = object.value(m, &Read::default());
        let Value::Object(fields) = &value else {
            panic!("not an object")
        };
        let Type::Object(types) = &ty else {
            panic!("not an object type")
        };
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            types.keys().collect::<Vec<_>>()
        );
    }

    #[test]
    fn conversions_match_the_schemas() {
        let mut c = PrivateLinkConnection::aws("1", "x", "svc", None);
        conforms(&CONNECTION, &c);
        c.alicloud_endpoint_service = Some(AlicloudEndpointService::default());
        conforms(&CONNECTION, &c);
        let mut a = AttachDomain::default();
        a.domains.push(Domain::default());
        conforms(&ATTACHMENT, &a);
        conforms(&DOMAIN, &Domain::default());
    }

    #[test]
    fn complete_keeps_the_given_order_and_adds_the_rest() {
        let names: Vec<String> = DOMAIN
            .complete(vec![DOMAIN.argument("message").optional()])
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(names, ["message", "name", "state"]);
    }
}
