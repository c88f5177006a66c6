//! Small helpers of the conversions from API objects to Terraform values;
//! the objects themselves are converted by their descriptions
//! ([`super::describe`]).

use std::collections::BTreeMap;

use crate::api::AttachDomain;
use crate::framework::{Type, Value};

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

pub fn domains_by_az_type() -> Type {
    Type::map(Type::String)
}
