//! Checks of user input that need no API call: names, formats, import ids.
//! Each returns a message that says what is wrong and what is expected.

use crate::framework::Value;

/// `endpoint`: the rules the API client enforces (https, or http to a
/// loopback host), checked at validate time so the error points at the
/// attribute.
pub fn endpoint(v: &Value) -> Result<(), String> {
    crate::api::config::validate_endpoint(v.as_str().unwrap_or_default())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `display_name`: 1 to 64 characters, no leading or trailing spaces.
pub fn display_name(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    let len = s.chars().count();
    if len == 0 || len > 64 {
        return Err(format!(
            "The display name must be 1 to 64 characters long; {s:?} has {len}."
        ));
    }
    if s.trim() != s {
        return Err(format!(
            "The display name must not start or end with spaces: {s:?}."
        ));
    }
    if s.chars().any(char::is_control) {
        return Err("The display name must not contain control characters.".to_string());
    }
    Ok(())
}

fn is_region(s: &str) -> bool {
    // e.g. us-west-2, ap-southeast-1, us-gov-west-1, cn-hangzhou, eu-central-1
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
}

/// Splits an AWS endpoint service name `com.amazonaws.vpce.<region>.vpce-svc-<hex>`
/// into its region, or explains what is wrong.
pub fn aws_service_region(name: &str) -> Result<&str, String> {
    let expected = "expected com.amazonaws.vpce.<region>.vpce-svc-<hex id>, e.g. com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef";
    let rest = name
        .strip_prefix("com.amazonaws.vpce.")
        .ok_or_else(|| format!("{name:?} is not an AWS endpoint service name: {expected}"))?;
    let (region, id) = rest
        .split_once('.')
        .ok_or_else(|| format!("{name:?} is not an AWS endpoint service name: {expected}"))?;
    if !is_region(region) {
        return Err(format!(
            "{name:?} has no valid region ({region:?}): {expected}"
        ));
    }
    let hex = id
        .strip_prefix("vpce-svc-")
        .ok_or_else(|| format!("{name:?} does not end in vpce-svc-<hex id>: {expected}"))?;
    if hex.len() < 8
        || hex.len() > 32
        || !hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    {
        return Err(format!(
            "{name:?} has an invalid service id {hex:?} (lowercase hexadecimal): {expected}"
        ));
    }
    Ok(region)
}

/// Splits an Alibaba Cloud endpoint service name
/// `com.aliyuncs.privatelink.<region>.epsrv-<id>` into its region.
pub fn alicloud_service_region(name: &str) -> Result<&str, String> {
    let expected = "expected com.aliyuncs.privatelink.<region>.epsrv-<id>, e.g. com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef";
    let rest = name
        .strip_prefix("com.aliyuncs.privatelink.")
        .ok_or_else(|| {
            format!("{name:?} is not an Alibaba Cloud endpoint service name: {expected}")
        })?;
    let (region, id) = rest.split_once('.').ok_or_else(|| {
        format!("{name:?} is not an Alibaba Cloud endpoint service name: {expected}")
    })?;
    if !is_region(region) {
        return Err(format!(
            "{name:?} has no valid region ({region:?}): {expected}"
        ));
    }
    let id = id
        .strip_prefix("epsrv-")
        .ok_or_else(|| format!("{name:?} does not end in epsrv-<id>: {expected}"))?;
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Err(format!(
            "{name:?} has an invalid service id {id:?} (lowercase letters and digits): {expected}"
        ));
    }
    Ok(region)
}

pub fn aws_service_name(v: &Value) -> Result<(), String> {
    aws_service_region(v.as_str().unwrap_or_default()).map(|_| ())
}

pub fn alicloud_service_name(v: &Value) -> Result<(), String> {
    alicloud_service_region(v.as_str().unwrap_or_default()).map(|_| ())
}

/// An AWS region name such as `us-west-2`.
pub fn region(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    if is_region(s) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a region name; expected e.g. \"us-west-2\""
        ))
    }
}

/// The domain types of an attachment.
pub const DOMAIN_TYPES: [&str; 2] = ["TIDBCLOUD_MANAGED", "CONFLUENT"];

pub fn domain_type(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    if DOMAIN_TYPES.contains(&s) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a domain type; use \"TIDBCLOUD_MANAGED\" or \"CONFLUENT\"."
        ))
    }
}

/// A unique name: a DNS label (lowercase letters, digits and hyphens, not
/// starting or ending with a hyphen, at most 63 characters).
pub fn unique_name(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a valid unique name: use 1 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen."
        ))
    }
}

/// Connection states, for the list filter.
pub const CONNECTION_STATES: [&str; 5] = [
    "CREATING",
    "ACTIVE",
    "FAILED",
    "PENDING_ACCEPTANCE",
    "DELETING",
];

pub fn connection_state(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    if CONNECTION_STATES.contains(&s) {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a connection state; use one of {}.",
            CONNECTION_STATES.join(", ")
        ))
    }
}

/// A cluster id: digits (TiDB Cloud cluster ids are numeric).
pub fn cluster_id(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    if !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Ok(())
    } else {
        Err(format!("{s:?} is not a cluster id; copy it from the cluster's overview page, e.g. \"1000000000000000001\"."))
    }
}

/// Splits an import id into exactly `parts.len()` non-empty, comma-separated
/// fields named by `parts`.
pub fn import_id<'a>(id: &'a str, parts: &[&str]) -> Result<Vec<&'a str>, String> {
    let fields: Vec<&str> = id.split(',').map(str::trim).collect();
    if fields.len() != parts.len() || fields.iter().any(|f| f.is_empty()) {
        return Err(format!(
            "The import id {id:?} is not in the form {}.",
            parts
                .iter()
                .map(|p| format!("<{p}>"))
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::string(x)
    }

    #[test]
    fn display_names() {
        assert!(display_name(&s("kafka-prod")).is_ok());
        assert!(display_name(&s(&"x".repeat(64))).is_ok());
        assert!(display_name(&s(&"x".repeat(65))).is_err());
        assert!(display_name(&s("")).is_err());
        assert!(display_name(&s(" kafka")).is_err());
        assert!(display_name(&s("kafka ")).is_err());
    }

    #[test]
    fn aws_service_names() {
        assert_eq!(
            aws_service_region("com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"),
            Ok("us-west-2")
        );
        for bad in [
            "",
            "vpce-svc-01234567890abcdef",
            "com.amazonaws.vpce.us-west-2",
            "com.amazonaws.vpce.us-west-2.vpce-svc-XYZ",
            "com.amazonaws.vpce.US.vpce-svc-0123456789",
            "com.amazonaws.vpce.us-west-2.svc-01234567890abcdef",
            "com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef",
        ] {
            assert!(aws_service_region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn alicloud_service_names() {
        assert_eq!(
            alicloud_service_region(
                "com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef"
            ),
            Ok("ap-southeast-1")
        );
        assert_eq!(
            alicloud_service_region("com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1abc"),
            Ok("cn-hangzhou")
        );
        for bad in [
            "com.aliyuncs.privatelink.ap-southeast-1",
            "com.aliyuncs.privatelink.ap-southeast-1.epsrv-",
            "com.aliyuncs.privatelink.ap-southeast-1.ep-123",
            "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef",
        ] {
            assert!(alicloud_service_region(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unique_names_and_types() {
        assert!(unique_name(&s("kafka-1")).is_ok());
        for bad in ["", "-a", "a-", "UPPER", "a.b", &"a".repeat(64)] {
            assert!(unique_name(&s(bad)).is_err(), "{bad}");
        }
        assert!(domain_type(&s("CONFLUENT")).is_ok());
        assert!(domain_type(&s("confluent")).is_err());
    }

    #[test]
    fn import_ids() {
        assert_eq!(
            import_id("1,plc-x", &["cluster_id", "id"]),
            Ok(vec!["1", "plc-x"])
        );
        let err = import_id("1", &["cluster_id", "private_link_connection_id"]).unwrap_err();
        assert!(
            err.contains("<cluster_id>,<private_link_connection_id>"),
            "{err}"
        );
        assert!(import_id("1,,x", &["a", "b", "c"]).is_err());
        assert!(import_id("1,2,3,4", &["a", "b", "c"]).is_err());
    }

    #[test]
    fn endpoints() {
        assert!(endpoint(&s("https://serverless.tidbapi.com")).is_ok());
        assert!(endpoint(&s("http://127.0.0.1:8090")).is_ok());
        assert!(endpoint(&s("serverless.tidbapi.com")).is_err());
        assert!(endpoint(&s("https://")).is_err());
        assert!(endpoint(&s("http://api.example.com")).is_err());
    }
}
