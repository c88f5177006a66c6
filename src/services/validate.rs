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
    if s.chars().any(is_bidi_control) {
        return Err(format!(
            "The display name must not contain bidirectional control characters (U+202A to U+202E, U+2066 to U+2069, U+200E, U+200F, U+061C): they make a name read differently from what it is. {:?}",
            s
        ));
    }
    if s.chars().all(is_invisible) {
        return Err(format!(
            "The display name {s:?} has no visible character; use a name people can read in the console."
        ));
    }
    Ok(())
}

/// Characters that reorder text when displayed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that show nothing: white space, zero-width and other
/// formatting characters, fillers.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{206A}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{E0000}'..='\u{E007F}'
        )
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

/// An AWS region name: two letters, an optional partition word (`gov`,
/// `iso`, ...), a direction word and a number, e.g. `us-west-2`,
/// `ap-southeast-1`, `us-gov-west-1`.
fn is_aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let word = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase());
    matches!(parts.len(), 3 | 4)
        && parts[0].len() == 2
        && word(parts[0])
        && parts[1..parts.len() - 1].iter().all(|p| word(p))
        && parts
            .last()
            .is_some_and(|n| !n.is_empty() && n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit()))
}

/// The longest service id after `vpce-svc-`, and the shortest.
const AWS_SERVICE_ID_HEX: std::ops::RangeInclusive<usize> = 8..=17;

/// The longest Alibaba Cloud service id after `epsrv-`.
const ALICLOUD_SERVICE_ID_MAX: usize = 20;

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
    if !is_aws_region(region) {
        return Err(format!(
            "{name:?} has no valid region ({region:?}): {expected}"
        ));
    }
    let hex = id
        .strip_prefix("vpce-svc-")
        .ok_or_else(|| format!("{name:?} does not end in vpce-svc-<hex id>: {expected}"))?;
    if !AWS_SERVICE_ID_HEX.contains(&hex.len())
        || !hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    {
        return Err(format!(
            "{name:?} has an invalid service id {hex:?} ({} to {} lowercase hexadecimal digits): {expected}",
            AWS_SERVICE_ID_HEX.start(),
            AWS_SERVICE_ID_HEX.end()
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
        || id.len() > ALICLOUD_SERVICE_ID_MAX
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Err(format!(
            "{name:?} has an invalid service id {id:?} (1 to {ALICLOUD_SERVICE_ID_MAX} lowercase letters and digits): {expected}"
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
    if is_aws_region(s) {
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

/// A private link connection id as the API assigns them: `plc-` and
/// letters or digits; never empty, and never holding `/`, `,`, `:` or `..`
/// (it becomes part of a request path).
pub fn connection_id(v: &Value) -> Result<(), String> {
    let s = v.as_str().unwrap_or_default();
    connection_id_str(s)
}

fn connection_id_str(s: &str) -> Result<(), String> {
    let ok = s.len() > "plc-".len()
        && s.len() <= 64
        && s.starts_with("plc-")
        && !s.contains("..")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("{s:?} is not a private link connection ID. Use the connection's private_link_connection_id (\"plc-...\"), not the resource's id (\"<cluster_id>,<private_link_connection_id>\")."))
    }
}

/// An id the API assigned to an attachment (`atd-...`): letters, digits,
/// `-` and `_`.
fn attach_domain_id_str(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("{s:?} is not an attach domain ID (\"atd-...\")."))
    }
}

/// What a part of an import ID looks like, to say what it is when it is in
/// the wrong place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cluster,
    Connection,
    Attachment,
    Other,
}

impl Kind {
    fn of(s: &str) -> Kind {
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
            Kind::Cluster
        } else if s.starts_with("plc-") {
            Kind::Connection
        } else if s.starts_with("atd-") {
            Kind::Attachment
        } else {
            Kind::Other
        }
    }

    fn expected(part: &str) -> Kind {
        match part {
            "cluster_id" => Kind::Cluster,
            "private_link_connection_id" => Kind::Connection,
            "attach_domain_id" => Kind::Attachment,
            _ => Kind::Other,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Cluster => "a cluster ID",
            Kind::Connection => "a private link connection ID (\"plc-...\")",
            Kind::Attachment => "an attach domain ID (\"atd-...\")",
            Kind::Other => "something else",
        }
    }
}

/// Characters people use to separate the parts of an ID instead of commas.
const OTHER_SEPARATORS: [char; 4] = [';', '/', '|', ':'];

/// The form of the domains' import ID, for advice given on a connection's.
const DOMAINS_FORM: &str = "<cluster_id>,<private_link_connection_id>,<attach_domain_id>";

fn ordinal(i: usize) -> String {
    match i {
        0 => "first".into(),
        1 => "second".into(),
        2 => "third".into(),
        n => format!("{}th", n + 1),
    }
}

/// Splits an import ID into exactly `parts.len()` comma-separated fields
/// named by `parts`, each checked by its kind (`cluster_id`,
/// `private_link_connection_id`, `attach_domain_id`), so that a malformed ID
/// costs no API request. The message names the wrong part and, where the
/// fix is plain (spaces, another separator, the parts in another order),
/// ends with the ID fixed, ready to copy.
pub fn import_id<'a>(id: &'a str, parts: &[&str]) -> Result<Vec<&'a str>, String> {
    let form = parts
        .iter()
        .map(|p| format!("<{p}>"))
        .collect::<Vec<_>>()
        .join(",");
    // (what the ID does, why that is wrong)
    let mut fixes: Vec<(String, &str)> = Vec::new();
    let mut fixed = id.to_string();
    if fixed.chars().any(char::is_whitespace) {
        let what = if fixed.contains(", ") {
            "has a space after a comma"
        } else {
            "has spaces"
        };
        fixes.push((what.into(), "TiDB Cloud IDs have none"));
        fixed.retain(|c| !c.is_whitespace());
    }
    if fixed.is_empty() {
        return Err(format!("The import ID is empty; it has the form {form}."));
    }
    if let Some(sep) = fixed.chars().find(|c| OTHER_SEPARATORS.contains(c)) {
        fixes.push((
            format!(
                "separates its parts with {:?} instead of commas",
                sep.to_string()
            ),
            "",
        ));
        fixed = fixed
            .chars()
            .map(|c| {
                if OTHER_SEPARATORS.contains(&c) {
                    ','
                } else {
                    c
                }
            })
            .collect();
    }
    let fields: Vec<&str> = fixed.split(',').collect();
    let problem = part_problem(&fields, parts, &form);
    let said = fixes
        .iter()
        .map(|(what, why)| match *why {
            "" => what.clone(),
            why => format!("{what} ({why})"),
        })
        .collect::<Vec<_>>()
        .join(" and ");
    match (problem, fixes.is_empty()) {
        (None, true) => Ok(id.split(',').collect()),
        (None, false) => Err(format!(
            "The import ID {id:?} {said}. Its form is {form}; fixed, ready to copy:{}",
            ready(&fixed)
        )),
        (Some(p), true) => Err(format!(
            "The import ID {id:?} is not in the form {form}: {p}"
        )),
        (Some(p), false) => Err(format!(
            "The import ID {id:?} {said}, and even as {fixed:?} it is not in the form {form}: {p}"
        )),
    }
}

/// A fixed import ID at the end of a message: on a line of its own and
/// indented, so that Terraform neither wraps it nor runs it into the text.
fn ready(id: &str) -> String {
    format!("\n\n  {id}")
}

/// What is wrong with the parts of an import ID, naming the part; `None`
/// when nothing is.
fn part_problem(fields: &[&str], parts: &[&str], form: &str) -> Option<String> {
    let (n, m) = (fields.len(), parts.len());
    if n != m {
        let present: Vec<&str> = fields.iter().copied().filter(|f| !f.is_empty()).collect();
        if present.len() == m {
            let without = present.join(",");
            return Some(match part_problem(&present, parts, form) {
                None => format!("it has an empty part (two commas in a row, or one at the start or end). Without it:{}", ready(&without)),
                Some(p) => format!("it has an empty part (two commas in a row, or one at the start or end), and without it: {p}"),
            });
        }
        if n > m {
            let extra = &fields[m..];
            let kept = fields[..m].join(",");
            if m == 2 && extra.len() == 1 && Kind::of(extra[0]) == Kind::Attachment {
                return Some(format!(
                    "its third part, {:?}, is an attach domain ID. That belongs to the import ID of tidbcloud_private_link_domains ({DOMAINS_FORM}), which imports the domains attached to a connection; a connection's import ID ends at its private_link_connection_id:{}",
                    extra[0],
                    ready(&kept)
                ));
            }
            let listed = extra
                .iter()
                .map(|e| format!("{e:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Some(format!(
                "it has {n} parts, where {m} belong; the extra part{} {listed}. Without {}:{}",
                if extra.len() == 1 { " is" } else { "s are" },
                if extra.len() == 1 { "it" } else { "them" },
                ready(&kept)
            ));
        }
        // Too few: the parts present are taken in order, each at the first
        // place its kind fits, so the missing ones can be named.
        let missing = missing_parts(fields, parts);
        let named = missing
            .iter()
            .map(|&i| format!("its {} (the {} part)", parts[i], ordinal(i)))
            .collect::<Vec<_>>();
        return Some(format!(
            "{} {} missing.",
            cloud_list(&named),
            if named.len() == 1 { "is" } else { "are" }
        ));
    }
    if let Some(i) = fields.iter().position(|f| f.is_empty()) {
        return Some(format!(
            "its {} (the {} part) is empty.",
            parts[i],
            ordinal(i)
        ));
    }
    let kinds: Vec<Kind> = fields.iter().map(|f| Kind::of(f)).collect();
    let expected: Vec<Kind> = parts.iter().map(|p| Kind::expected(p)).collect();
    if kinds != expected && kinds.iter().all(|k| *k != Kind::Other) {
        let mut sorted_kinds = kinds.clone();
        let mut sorted_expected = expected.clone();
        sorted_kinds.sort_by_key(|k| *k as u8);
        sorted_expected.sort_by_key(|k| *k as u8);
        if sorted_kinds == sorted_expected {
            let reordered = expected
                .iter()
                .map(|k| fields[kinds.iter().position(|x| x == k).unwrap_or(0)])
                .collect::<Vec<_>>()
                .join(",");
            return Some(format!(
                "its parts are in another order. In the order {form}:{}",
                ready(&reordered)
            ));
        }
    }
    for (i, (field, part)) in fields.iter().zip(parts).enumerate() {
        let what = format!("its {part} (the {} part)", ordinal(i));
        let (kind, want) = (Kind::of(field), Kind::expected(part));
        if kind != want && kind != Kind::Other && want != Kind::Other {
            let advice = match (want, kind, m) {
                (Kind::Connection, Kind::Attachment, 2) => format!(
                    " An attach domain ID names the domains attached to a connection: those are imported as tidbcloud_private_link_domains, with {DOMAINS_FORM}. The second part of a connection's import ID is the connection's own ID, \"plc-...\"."
                ),
                _ => format!(" {} belongs there.", capitalized(want.name())),
            };
            return Some(format!("{what} is {field:?}, {}.{advice}", kind.name()));
        }
        let checked = match want {
            Kind::Cluster => cluster_id(&Value::string(*field)),
            Kind::Connection => connection_id_shape(field),
            Kind::Attachment => attach_domain_id_str(field),
            Kind::Other => Ok(()),
        };
        if let Err(why) = checked {
            return Some(format!("{what} is wrong. {why}"));
        }
    }
    None
}

/// The places of `parts` that `fields` (fewer) leave empty.
fn missing_parts(fields: &[&str], parts: &[&str]) -> Vec<usize> {
    let mut taken = Vec::new();
    let mut next = 0;
    for field in fields {
        let kind = Kind::of(field);
        let place =
            (next..parts.len()).find(|&i| kind == Kind::Other || Kind::expected(parts[i]) == kind);
        match place {
            Some(i) => {
                taken.push(i);
                next = i + 1;
            }
            None => return (fields.len()..parts.len()).collect(),
        }
    }
    (0..parts.len()).filter(|i| !taken.contains(i)).collect()
}

/// `a`, `a and b`, `a, b and c`.
fn cloud_list(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A private link connection ID in an import ID.
fn connection_id_shape(s: &str) -> Result<(), String> {
    connection_id_str(s).map_err(|_| {
        format!("{s:?} is not a private link connection ID: TiDB Cloud gives connections IDs of \"plc-\" and letters or digits.")
    })
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
    fn invisible_and_bidi_display_names() {
        for bad in [
            "\u{200B}",
            "\u{200B}\u{200D}\u{FEFF}",
            "\u{3164}",
            "kafka\u{202E}fdp",
            "a\u{2066}b",
        ] {
            assert!(display_name(&s(bad)).is_err(), "{bad:?}");
        }
        for good in ["kafka", "kafka\u{200D}prod", "日本語", "a b"] {
            assert!(display_name(&s(good)).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn service_id_lengths_and_regions() {
        let aws = |id: &str, region: &str| {
            aws_service_region(&format!("com.amazonaws.vpce.{region}.vpce-svc-{id}")).is_ok()
        };
        assert!(aws("0123abcd", "us-west-2"));
        assert!(aws("01234567890abcdef", "us-west-2"));
        assert!(!aws("0123abc", "us-west-2"));
        assert!(!aws("01234567890abcdef0", "us-west-2"));
        assert!(aws("01234567890abcdef", "us-gov-west-1"));
        for bad_region in [
            "uswest2",
            "us-west",
            "us-west-two",
            "usa-west-2",
            "cn-hangzhou",
        ] {
            assert!(!aws("01234567890abcdef", bad_region), "{bad_region}");
            assert!(region(&s(bad_region)).is_err(), "{bad_region}");
        }
        assert!(region(&s("ap-southeast-1")).is_ok());
        let ali = |id: &str| {
            alicloud_service_region(&format!("com.aliyuncs.privatelink.cn-hangzhou.epsrv-{id}"))
                .is_ok()
        };
        assert!(ali(&"a".repeat(20)));
        assert!(!ali(&"a".repeat(21)));
    }

    #[test]
    fn connection_ids() {
        assert!(connection_id(&s("plc-abc123")).is_ok());
        for bad in [
            "", "plc-", "abc", "plc-a/b", "plc-a,b", "plc-a:b", "plc-a..b", "1,plc-a",
        ] {
            assert!(connection_id(&s(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn import_ids() {
        assert_eq!(
            import_id("1,plc-x", &["cluster_id", "private_link_connection_id"]),
            Ok(vec!["1", "plc-x"])
        );
        assert!(import_id("1,x", &["cluster_id", "private_link_connection_id"]).is_err());
        assert!(import_id("a b,plc-x", &["cluster_id", "private_link_connection_id"]).is_err());
        assert!(import_id(
            "1,plc-x,atd/1",
            &[
                "cluster_id",
                "private_link_connection_id",
                "attach_domain_id"
            ]
        )
        .is_err());
        let err = import_id("1", &["cluster_id", "private_link_connection_id"]).unwrap_err();
        assert!(
            err.contains("<cluster_id>,<private_link_connection_id>"),
            "{err}"
        );
        assert!(import_id("1,,x", &["a", "b", "c"]).is_err());
        assert!(import_id("1,2,3,4", &["a", "b", "c"]).is_err());
    }

    const CONN: [&str; 2] = ["cluster_id", "private_link_connection_id"];
    const DOMS: [&str; 3] = [
        "cluster_id",
        "private_link_connection_id",
        "attach_domain_id",
    ];

    fn import_error(id: &str, parts: &[&str]) -> String {
        let err = import_id(id, parts).expect_err(id);
        assert!(!err.contains("resource's id"), "{err}");
        err
    }

    #[test]
    fn import_ids_with_another_separator_name_it_and_give_the_fixed_id() {
        for sep in [";", "/"] {
            let err = import_error(&format!("1000000000000000001{sep}plc-abc"), &CONN);
            assert!(err.contains(&format!("{sep:?}")), "{err}");
            assert!(err.contains("comma"), "{err}");
            assert!(err.ends_with("\n\n  1000000000000000001,plc-abc"), "{err}");
        }
        let err = import_error("1/plc-abc/atd-x", &DOMS);
        assert!(err.ends_with("\n\n  1,plc-abc,atd-x"), "{err}");
    }

    #[test]
    fn import_ids_with_an_empty_or_missing_part_name_it() {
        let err = import_error("1,,atd-x", &DOMS);
        assert!(
            err.contains("private_link_connection_id (the second part) is empty"),
            "{err}"
        );
        let err = import_error("1,plc-x,", &DOMS);
        assert!(
            err.contains("attach_domain_id (the third part) is empty"),
            "{err}"
        );
        let err = import_error("1,plc-x", &DOMS);
        assert!(
            err.contains("attach_domain_id (the third part) is missing"),
            "{err}"
        );
        let err = import_error("1", &CONN);
        assert!(
            err.contains("private_link_connection_id (the second part) is missing"),
            "{err}"
        );
        let err = import_error("plc-x", &CONN);
        assert!(
            err.contains("cluster_id (the first part) is missing"),
            "{err}"
        );
        let err = import_error("1,,plc-x", &CONN);
        assert!(err.contains("empty part"), "{err}");
        assert!(err.ends_with("\n\n  1,plc-x"), "{err}");
        let err = import_error("", &CONN);
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn import_ids_with_an_extra_part_name_it() {
        let err = import_error("1,plc-x,atd-y", &CONN);
        assert!(err.contains("\"atd-y\""), "{err}");
        assert!(err.contains("tidbcloud_private_link_domains"), "{err}");
        assert!(err.ends_with("\n\n  1,plc-x"), "{err}");
        let err = import_error("1,plc-x,atd-y,z", &DOMS);
        assert!(err.contains("extra part is \"z\""), "{err}");
    }

    #[test]
    fn an_attach_domain_id_where_the_connection_id_belongs_gets_fitting_advice() {
        let err = import_error("1,atd-y", &CONN);
        assert!(err.contains("an attach domain ID"), "{err}");
        assert!(err.contains("tidbcloud_private_link_domains"), "{err}");
        assert!(err.contains("plc-"), "{err}");
        let err = import_error("1,atd-y,plc-x", &DOMS);
        assert!(err.contains("order"), "{err}");
        assert!(err.ends_with("\n\n  1,plc-x,atd-y"), "{err}");
        let err = import_error("plc-x,1", &CONN);
        assert!(err.ends_with("\n\n  1,plc-x"), "{err}");
    }

    #[test]
    fn spaces_in_import_ids_are_rejected_with_the_id_without_them() {
        let err = import_error("1, plc-x", &CONN);
        assert!(err.contains("space after a comma"), "{err}");
        assert!(err.ends_with("\n\n  1,plc-x"), "{err}");
        let err = import_error(" 1,plc-x,atd-y ", &DOMS);
        assert!(err.ends_with("\n\n  1,plc-x,atd-y"), "{err}");
        // Fixing the spaces is not all that is wrong.
        let err = import_error("1, atd-y", &CONN);
        assert!(err.contains("space after a comma"), "{err}");
        assert!(err.contains("an attach domain ID"), "{err}");
    }

    #[test]
    fn wrong_parts_are_named() {
        let err = import_error("abc!,plc-x", &CONN);
        assert!(err.contains("cluster_id (the first part)"), "{err}");
        let err = import_error("1,plc-a..b", &CONN);
        assert!(
            err.contains("private_link_connection_id (the second part)"),
            "{err}"
        );
        let err = import_error("1,x", &CONN);
        assert!(
            err.contains("private_link_connection_id (the second part)"),
            "{err}"
        );
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
