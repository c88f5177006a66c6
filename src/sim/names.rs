//! Names: validation of what users send (display names, endpoint service
//! names, regions, unique names) and generation of the ids the API assigns.

use rand::Rng;

use crate::model::Cloud;

/// Longest display name, in characters.
pub const DISPLAY_NAME_MAX: usize = 64;
/// Longest unique name (one DNS label).
pub const UNIQUE_NAME_MAX: usize = 63;

/// Checks a connection's display name: 1 to 64 characters, no leading or
/// trailing whitespace.
pub fn check_display_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if len == 0 || len > DISPLAY_NAME_MAX {
        return Err(format!(
            "displayName must be 1 to {DISPLAY_NAME_MAX} characters long (got {len})"
        ));
    }
    if name.starts_with(char::is_whitespace) || name.ends_with(char::is_whitespace) {
        return Err(format!(
            "displayName {name:?} must not start or end with whitespace"
        ));
    }
    Ok(())
}

/// The example shown in endpoint service name errors.
pub fn service_name_example(cloud: Cloud) -> &'static str {
    match cloud {
        Cloud::Aws => "com.amazonaws.vpce.<region>.vpce-svc-<hex>, for example com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef",
        Cloud::Alicloud => "com.aliyuncs.privatelink.<region>.epsrv-<id>, for example com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef",
    }
}

/// Parses an endpoint service name of `cloud` and returns the region it
/// names. AWS: `com.amazonaws.vpce.<region>.vpce-svc-<8 to 17 hex digits>`;
/// Alibaba Cloud: `com.aliyuncs.privatelink.<region>.epsrv-<1 to 32 lowercase
/// letters or digits>`.
pub fn service_region(cloud: Cloud, name: &str) -> Result<String, String> {
    let (prefix, id_prefix) = match cloud {
        Cloud::Aws => ("com.amazonaws.vpce.", "vpce-svc-"),
        Cloud::Alicloud => ("com.aliyuncs.privatelink.", "epsrv-"),
    };
    let bad = || {
        format!(
            "{name:?} is not a valid {} endpoint service name; expected {}",
            cloud.label(),
            service_name_example(cloud)
        )
    };
    let rest = name.strip_prefix(prefix).ok_or_else(bad)?;
    let (region, id) = rest.split_once('.').ok_or_else(bad)?;
    let id = id.strip_prefix(id_prefix).ok_or_else(bad)?;
    let id_ok = match cloud {
        Cloud::Aws => {
            (8..=17).contains(&id.len())
                && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        }
        Cloud::Alicloud => {
            (1..=32).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        }
    };
    if !id_ok || !is_region_code(cloud, region) {
        return Err(bad());
    }
    Ok(region.to_string())
}

/// Whether `region` looks like a region code of `cloud`: lowercase words
/// joined by hyphens starting with a two-letter area (`us-west-2`,
/// `cn-hangzhou`); AWS codes also end in a number.
pub fn is_region_code(cloud: Cloud, region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let word = |p: &&str| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if parts.len() < 2 || !parts.iter().all(word) || parts[0].len() != 2 {
        return false;
    }
    match cloud {
        Cloud::Aws => {
            parts.len() >= 3 && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        }
        Cloud::Alicloud => true,
    }
}

/// Checks a domain unique name: one DNS label of 1 to 63 lowercase letters,
/// digits and hyphens, starting and ending with a letter or digit.
pub fn check_unique_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= UNIQUE_NAME_MAX
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "uniqueName {name:?} is not valid: use 1 to {UNIQUE_NAME_MAX} lowercase letters, digits and hyphens, starting and ending with a letter or digit"
        ))
    }
}

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.random_range(0..alphabet.len())]))
        .collect()
}

/// A new private link connection id, `plc-` and 16 letters or digits.
pub fn connection_id() -> String {
    format!("plc-{}", random_from(LOWER_ALNUM, 16))
}

/// A new attach domain id, `atd-` and 16 letters or digits.
pub fn attach_domain_id() -> String {
    format!("atd-{}", random_from(LOWER_ALNUM, 16))
}

/// A new endpoint id: `vpce-<17 hex>` on AWS, `ep-<20 letters or digits>` on
/// Alibaba Cloud.
pub fn endpoint_id(cloud: Cloud) -> String {
    match cloud {
        Cloud::Aws => format!("vpce-{}", random_from(HEX, 17)),
        Cloud::Alicloud => format!("ep-{}", random_from(LOWER_ALNUM, 20)),
    }
}

/// A generated unique name: a letter and 11 letters or digits.
pub fn unique_name() -> String {
    format!(
        "{}{}",
        random_from(b"abcdefghijklmnopqrstuvwxyz", 1),
        random_from(LOWER_ALNUM, 11)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        assert!(check_display_name("kafka-prod").is_ok());
        assert!(check_display_name(&"é".repeat(64)).is_ok());
        assert!(check_display_name("").is_err());
        assert!(check_display_name(&"a".repeat(65)).is_err());
        assert!(check_display_name(" a").is_err());
        assert!(check_display_name("a\t").is_err());
        assert!(check_display_name("a b").is_ok());
    }

    #[test]
    fn aws_service_names() {
        let ok = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef";
        assert_eq!(service_region(Cloud::Aws, ok).unwrap(), "us-west-2");
        assert_eq!(
            service_region(
                Cloud::Aws,
                "com.amazonaws.vpce.us-gov-west-1.vpce-svc-0123abcd"
            )
            .unwrap(),
            "us-gov-west-1"
        );
        for bad in [
            "",
            "com.amazonaws.vpce.us-west-2.vpce-svc-",
            "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789ABCDEF0",
            "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef01",
            "com.amazonaws.vpce.uswest2.vpce-svc-01234567890abcdef",
            "com.amazonaws.vpce.us-west.vpce-svc-01234567890abcdef",
            "com.amazonaws.us-west-2.vpce-svc-01234567890abcdef",
            "com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef",
        ] {
            assert!(service_region(Cloud::Aws, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn alicloud_service_names() {
        let ok = "com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef";
        assert_eq!(
            service_region(Cloud::Alicloud, ok).unwrap(),
            "ap-southeast-1"
        );
        assert_eq!(
            service_region(
                Cloud::Alicloud,
                "com.aliyuncs.privatelink.cn-hangzhou.epsrv-abc"
            )
            .unwrap(),
            "cn-hangzhou"
        );
        for bad in [
            "com.aliyuncs.privatelink.ap-southeast-1.epsrv-",
            "com.aliyuncs.privatelink.ap-southeast-1.ep-abc",
            "com.aliyuncs.privatelink.ap-southeast-1.epsrv-ABC",
            "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef",
        ] {
            assert!(service_region(Cloud::Alicloud, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unique_names() {
        assert!(check_unique_name("abc").is_ok());
        assert!(check_unique_name("lkc-12ab").is_ok());
        assert!(check_unique_name(&"a".repeat(63)).is_ok());
        for bad in ["", "-a", "a-", "A", "a.b", "a_b", &"a".repeat(64)] {
            assert!(check_unique_name(bad).is_err(), "{bad}");
        }
        let generated = unique_name();
        assert!(check_unique_name(&generated).is_ok());
        assert_ne!(generated, unique_name());
    }

    #[test]
    fn generated_ids() {
        let id = connection_id();
        assert!(id.starts_with("plc-") && id.len() == 20);
        let ep = endpoint_id(Cloud::Aws);
        assert!(ep.starts_with("vpce-") && ep.len() == 22);
        assert!(ep[5..].bytes().all(|b| HEX.contains(&b)));
        assert!(endpoint_id(Cloud::Alicloud).starts_with("ep-"));
        assert!(attach_domain_id().starts_with("atd-"));
    }
}
