//! API objects as Terraform values. Resources and data sources share these,
//! so a field reads the same wherever it appears.

use std::collections::BTreeMap;

use crate::api::{
    AlicloudEndpointService, AttachDomain, AwsEndpointService, Domain, PrivateLinkConnection,
};
use crate::framework::{Attribute, Type, Value};

/// An optional API string as a value: absent or empty is null.
pub fn opt(s: Option<&str>) -> Value {
    match s {
        Some(s) if !s.is_empty() => Value::string(s),
        _ => Value::Null,
    }
}

pub fn strings(items: &[String]) -> Value {
    Value::List(items.iter().map(|s| Value::string(s.as_str())).collect())
}

pub fn aws_endpoint_service(s: &AwsEndpointService, region_fallback: Option<&str>) -> Value {
    Value::object([
        ("name", Value::string(s.name.as_str())),
        ("region", opt(s.region.as_deref().or(region_fallback))),
        ("endpoint_id", opt(s.endpoint_id.as_deref())),
        ("availability_zone_ids", strings(&s.availability_zone_ids)),
    ])
}

pub fn alicloud_endpoint_service(s: &AlicloudEndpointService) -> Value {
    Value::object([
        ("name", Value::string(s.name.as_str())),
        ("endpoint_id", opt(s.endpoint_id.as_deref())),
        ("availability_zone_ids", strings(&s.availability_zone_ids)),
    ])
}

/// The fields every view of a connection shares (resource state, data
/// sources), keyed by attribute name.
pub fn connection_fields(
    c: &PrivateLinkConnection,
    aws_region_fallback: Option<&str>,
) -> BTreeMap<String, Value> {
    let mut m = BTreeMap::new();
    m.insert(
        "private_link_connection_id".into(),
        Value::string(c.private_link_connection_id.as_str()),
    );
    m.insert("cluster_id".into(), Value::string(c.cluster_id.as_str()));
    m.insert(
        "display_name".into(),
        Value::string(c.display_name.as_str()),
    );
    m.insert(
        "type".into(),
        opt(c.connection_type().as_ref().map(|t| t.as_str())),
    );
    m.insert("state".into(), opt(c.state.as_ref().map(|s| s.as_str())));
    m.insert("message".into(), opt(c.message.as_deref()));
    m.insert("created_by".into(), opt(c.created_by.as_deref()));
    m.insert("create_time".into(), opt(c.create_time.as_deref()));
    m.insert("update_time".into(), opt(c.update_time.as_deref()));
    m.insert(
        "aws_endpoint_service".into(),
        c.aws_endpoint_service.as_ref().map_or(Value::Null, |s| {
            aws_endpoint_service(s, aws_region_fallback)
        }),
    );
    m.insert(
        "alicloud_endpoint_service".into(),
        c.alicloud_endpoint_service
            .as_ref()
            .map_or(Value::Null, alicloud_endpoint_service),
    );
    m
}

pub fn domain(d: &Domain) -> Value {
    Value::object([
        ("name", Value::string(d.name.as_str())),
        ("state", opt(d.state.as_ref().map(|s| s.as_str()))),
        ("message", opt(d.message.as_deref())),
    ])
}

pub fn domains(a: &AttachDomain) -> Value {
    Value::List(a.domains.iter().map(domain).collect())
}

/// AZ id → domain name, for the AZ-scoped patterns on AWS
/// (`*.<az_id>.<unique_name>.aws.plc.tidbcloud.com` and
/// `*.<az_id>.<unique_name>.<region>.aws.confluent.cloud`); empty for Alibaba
/// Cloud's single domain, which spans zones.
pub fn domains_by_az(a: &AttachDomain) -> Value {
    let mut m = BTreeMap::new();
    for d in &a.domains {
        let az_scoped =
            d.name.ends_with(".aws.plc.tidbcloud.com") || d.name.ends_with(".aws.confluent.cloud");
        let az = d
            .name
            .strip_prefix("*.")
            .and_then(|rest| rest.split('.').next());
        if let (true, Some(az)) = (az_scoped, az) {
            m.insert(az.to_string(), Value::string(d.name.as_str()));
        }
    }
    Value::Map(m)
}

/// An attachment as the connection data source lists it.
pub fn attachment(a: &AttachDomain) -> Value {
    Value::object([
        (
            "attach_domain_id",
            Value::string(a.attach_domain_id.as_str()),
        ),
        ("type", opt(a.domain_type.as_ref().map(|t| t.as_str()))),
        ("unique_name", opt(a.unique_name.as_deref())),
        ("domains", domains(a)),
        ("created_by", opt(a.created_by.as_deref())),
        ("create_time", opt(a.create_time.as_deref())),
    ])
}

// ---- computed schema parts shared by data sources -----------------------------

pub fn domain_attributes() -> Vec<Attribute> {
    vec![
        Attribute::string("name").computed().description("The domain name, a wildcard such as `*.usw2-az1.kafka.aws.plc.tidbcloud.com`."),
        Attribute::string("state").computed().description("`CREATING`, `SUCCEEDED`, `FAILED` or `DELETING`; any other value is transitional and shown as the API reports it."),
        Attribute::string("message").computed().description("Why the domain failed, when it did."),
    ]
}

pub fn domains_by_az_type() -> Type {
    Type::map(Type::String)
}
