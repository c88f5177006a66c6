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

use super::cloud;
use super::convert::{opt, strings};

/// What a conversion needs besides the object.
#[derive(Default, Clone, Copy)]
pub struct Read<'a> {
    /// How the region of an AWS endpoint service is read.
    pub aws_region: RegionRead<'a>,
}

/// How the region of an AWS endpoint service is read. The API may echo it in
/// another form (`aws-us-west-2`), normalise it or omit it; none of these is
/// a change. The region in the service name is the service's region (the
/// name is built from it), so it stands in when nothing else is known.
#[derive(Default, Clone, Copy, Debug, PartialEq)]
pub enum RegionRead<'a> {
    /// What the API reports, as a region code, or else the region in the
    /// name (data sources, import).
    #[default]
    Reported,
    /// A refresh of a state holding this region: kept unless the API
    /// reports a genuinely different one.
    Refresh(&'a str),
    /// After a create: the planned value, whatever the API echoes.
    Planned(&'a str),
}

/// The region of an AWS endpoint service as the state shows it.
pub fn aws_region(s: &AwsEndpointService, how: RegionRead<'_>) -> Value {
    let reported = s.region.as_deref().and_then(|r| cloud::AWS.region_code(r));
    let in_name = || {
        (cloud::AWS.service_region)(&s.name)
            .ok()
            .map(str::to_string)
    };
    let same = |a: &str, b: &str| cloud::AWS.region_code(a) == cloud::AWS.region_code(b);
    let region = match how {
        RegionRead::Planned(planned) => Some(planned.to_string()),
        RegionRead::Refresh(prior) => match reported {
            Some(r) if !same(&r, prior) => Some(r),
            _ => Some(prior.to_string()),
        },
        RegionRead::Reported => reported.or_else(in_name),
    };
    opt(region.as_deref())
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
        read: |s, r| aws_region(s, r.aws_region),
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
        description: "The domain's state as the API reports it. `CREATING`, `ATTACHING`, `DELETING`, `DETACHING` (or no state yet) are transitional, `FAILED` is failed, and any other state, such as `SUCCEEDED` or `ATTACHED`, means attached.",
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
    fn regions_change_only_when_the_api_reports_another_one() {
        let service = |region: Option<&str>| AwsEndpointService {
            name: "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef".into(),
            region: region.map(str::to_string),
            ..Default::default()
        };
        let read = |region, how| aws_region(&service(region), how);
        let s = Value::string;
        // Import and data sources: the API's region as a code, else the name's.
        assert_eq!(
            read(Some("aws-us-east-1"), RegionRead::Reported),
            s("us-east-1")
        );
        assert_eq!(read(None, RegionRead::Reported), s("us-west-2"));
        assert_eq!(read(Some(""), RegionRead::Reported), s("us-west-2"));
        // Refresh: another spelling or nothing keeps the prior value verbatim.
        for echoed in [
            None,
            Some(""),
            Some("aws-us-west-2"),
            Some("US-WEST-2"),
            Some("us-west-2"),
        ] {
            assert_eq!(
                read(echoed, RegionRead::Refresh("us-west-2")),
                s("us-west-2"),
                "{echoed:?}"
            );
        }
        assert_eq!(
            read(Some("us-west-2"), RegionRead::Refresh("aws-us-west-2")),
            s("aws-us-west-2")
        );
        assert_eq!(
            read(Some("aws-us-east-1"), RegionRead::Refresh("us-west-2")),
            s("us-east-1")
        );
        // After a create: the plan's value, whatever the echo.
        assert_eq!(
            read(Some("aws-us-east-1"), RegionRead::Planned("us-west-2")),
            s("us-west-2")
        );
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
