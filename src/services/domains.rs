//! What the provider reads from attached domains, depending only on what the
//! API's contract says about them.
//!
//! * States. The swagger types `Domain.state` as a free string and the
//!   product spec uses two vocabularies (succeeded / creating / deleting and
//!   attached / attaching / detaching), so a state is classified, never
//!   matched against one expected word: [`phase`].
//! * Zones. Domain names come in several shapes (with or without `plc`, with
//!   or without a region), so the domain of an availability zone is found by
//!   looking for the connection's zone ids among a name's labels, never by
//!   assuming a suffix: [`by_zone`].

use std::collections::BTreeMap;

use crate::api::{AttachDomain, DomainState, PrivateLinkConnection};
use crate::framework::{Diagnostic, Type, Value};

use super::cloud;

/// Where a domain (or an attachment) is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Being attached or detached, or no state yet: keep waiting.
    Transitional,
    /// Attaching failed; the domain's message says why.
    Failed,
    /// Attached: any other word.
    Settled,
}

/// The words that mean "still moving", in both vocabularies of the spec.
const TRANSITIONAL: [&str; 4] = ["CREATING", "ATTACHING", "DELETING", "DETACHING"];
/// Settled words the provider expects; others settle too, and are logged.
const FAMILIAR_SETTLED: [&str; 3] = ["SUCCEEDED", "ATTACHED", "ACTIVE"];

/// The phase of one domain state: an empty or missing state (grpc-gateway
/// writes an unset string as `""`) and CREATING, ATTACHING, DELETING,
/// DETACHING are transitional; FAILED is failed; every other word is
/// settled, so that an attach never waits for a word the API does not use.
pub fn phase(state: Option<&DomainState>) -> Phase {
    let word = state.map(|s| s.as_str().trim()).unwrap_or("");
    if word.is_empty() || TRANSITIONAL.iter().any(|t| t.eq_ignore_ascii_case(word)) {
        Phase::Transitional
    } else if word.eq_ignore_ascii_case("FAILED") {
        Phase::Failed
    } else {
        if !FAMILIAR_SETTLED
            .iter()
            .any(|t| t.eq_ignore_ascii_case(word))
        {
            log::info!("domain state {word:?} is not one the provider knows; taking it as settled (attached)");
        }
        Phase::Settled
    }
}

/// An attachment's phase: failed when any domain failed, settled when it
/// has domains and all are settled, otherwise transitional.
pub fn attachment_phase(a: &AttachDomain) -> Phase {
    let phases: Vec<Phase> = a.domains.iter().map(|d| phase(d.state.as_ref())).collect();
    if phases.contains(&Phase::Failed) {
        Phase::Failed
    } else if !phases.is_empty() && phases.iter().all(|p| *p == Phase::Settled) {
        Phase::Settled
    } else {
        Phase::Transitional
    }
}

/// The domains that failed, as `name: message`.
pub fn failures(a: &AttachDomain) -> Vec<String> {
    a.domains
        .iter()
        .filter(|d| phase(d.state.as_ref()) == Phase::Failed)
        .map(|d| {
            format!(
                "{}: {}",
                d.name,
                d.message.as_deref().unwrap_or("no reason given")
            )
        })
        .collect()
}

/// The availability zones a connection's domains may be keyed by: its
/// endpoint's zone ids, on a cloud whose domains are per zone. `None` when
/// the connection has no zones yet (the map cannot be known); an empty list
/// on a cloud whose single domain spans zones (Alibaba Cloud).
pub fn zones(c: &PrivateLinkConnection) -> Option<Vec<String>> {
    let per_zone = cloud::of_connection(c).is_some_and(|cl| cl.domains_per_zone);
    if !per_zone {
        return Some(Vec::new());
    }
    let ids = c.availability_zone_ids();
    (!ids.is_empty()).then(|| ids.to_vec())
}

/// Domains keyed by zone, and the domains that name no zone.
#[derive(Debug, Default, PartialEq)]
pub struct ByZone {
    pub map: BTreeMap<String, String>,
    pub unmatched: Vec<String>,
}

/// Keys each domain by the one zone id among its labels (compared without
/// regard to case, as DNS does). The unique name is one of the labels too,
/// and may itself look like a zone id, so one label equal to it is set aside
/// first. A domain naming no zone, several zones, or a zone another domain
/// already took, is unmatched: it stays in `domains` and is reported.
pub fn by_zone<'a>(
    names: impl IntoIterator<Item = &'a str>,
    zones: &[String],
    unique_name: Option<&str>,
) -> ByZone {
    let mut out = ByZone::default();
    for name in names {
        let mut labels: Vec<&str> = name.split('.').collect();
        if let Some(u) = unique_name.filter(|u| !u.is_empty()) {
            if let Some(i) = labels.iter().position(|l| l.eq_ignore_ascii_case(u)) {
                labels.remove(i);
            }
        }
        let mut named: Vec<&String> = zones
            .iter()
            .filter(|z| labels.iter().any(|l| l.eq_ignore_ascii_case(z)))
            .collect();
        named.dedup();
        match named.as_slice() {
            [zone] if !out.map.contains_key(zone.as_str()) => {
                out.map.insert(zone.to_string(), name.to_string());
            }
            _ => out.unmatched.push(name.to_string()),
        }
    }
    out
}

/// `domains_by_az` for an attachment of connection `c`: unknown when the
/// connection's zones are not known. The second value is the warning for
/// domains that name no zone, so that the map is never silently short.
pub fn domains_by_az(a: &AttachDomain, c: &PrivateLinkConnection) -> (Value, Option<Diagnostic>) {
    let Some(zones) = zones(c) else {
        return (Value::unknown(), None);
    };
    if zones.is_empty() {
        return (Value::Map(BTreeMap::new()), None);
    }
    let keyed = by_zone(
        a.domains.iter().map(|d| d.name.as_str()),
        &zones,
        a.unique_name.as_deref(),
    );
    let warning =
        (!keyed.unmatched.is_empty()).then(|| unmatched_warning(&keyed.unmatched, &zones));
    let map = keyed
        .map
        .into_iter()
        .map(|(z, n)| (z, Value::string(n)))
        .collect();
    (Value::Map(map), warning)
}

fn unmatched_warning(unmatched: &[String], zones: &[String]) -> Diagnostic {
    Diagnostic::warning(
        "Domains without an availability zone",
        format!(
            "{} {} not name exactly one of the connection's availability zones ({}), so domains_by_az leaves {} out. Every domain is listed in domains; use that attribute for {}.",
            unmatched.join(", "),
            if unmatched.len() == 1 { "does" } else { "do" },
            zones.join(", "),
            if unmatched.len() == 1 { "it" } else { "them" },
            if unmatched.len() == 1 { "it" } else { "them" },
        ),
    )
}

pub fn domains_by_az_type() -> Type {
    Type::map(Type::String)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{AwsEndpointService, Domain};

    fn p(word: Option<&str>) -> Phase {
        phase(word.map(DomainState::from).as_ref())
    }

    #[test]
    fn states_in_both_vocabularies_and_beyond() {
        for w in [
            None,
            Some(""),
            Some("  "),
            Some("CREATING"),
            Some("ATTACHING"),
            Some("DELETING"),
            Some("DETACHING"),
            Some("attaching"),
        ] {
            assert_eq!(p(w), Phase::Transitional, "{w:?}");
        }
        assert_eq!(p(Some("FAILED")), Phase::Failed);
        assert_eq!(p(Some("failed")), Phase::Failed);
        for w in ["SUCCEEDED", "ATTACHED", "ACTIVE", "READY", "VERIFIED"] {
            assert_eq!(p(Some(w)), Phase::Settled, "{w}");
        }
    }

    fn attachment(states: &[Option<&str>]) -> AttachDomain {
        AttachDomain {
            domains: states
                .iter()
                .map(|s| Domain {
                    name: "*.x".into(),
                    state: s.map(DomainState::from),
                    message: Some("m".into()),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn attachments_settle_on_any_word() {
        let ph = |s: &[Option<&str>]| attachment_phase(&attachment(s));
        assert_eq!(ph(&[]), Phase::Transitional);
        assert_eq!(ph(&[Some("ATTACHED"), Some("ATTACHED")]), Phase::Settled);
        assert_eq!(ph(&[Some("SUCCEEDED"), Some("READY")]), Phase::Settled);
        assert_eq!(
            ph(&[Some("ATTACHED"), Some("ATTACHING")]),
            Phase::Transitional
        );
        assert_eq!(ph(&[Some("ATTACHED"), None]), Phase::Transitional);
        assert_eq!(ph(&[Some("ATTACHING"), Some("FAILED")]), Phase::Failed);
        assert_eq!(
            failures(&attachment(&[Some("FAILED"), Some("ATTACHED")])),
            ["*.x: m"]
        );
    }

    fn zs(z: &[&str]) -> Vec<String> {
        z.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn zones_are_found_among_the_labels_whatever_the_shape() {
        let zones = zs(&["usw2-az1", "usw2-az2"]);
        for shape in [
            "*.{az}.kafka.aws.plc.tidbcloud.com",
            "*.{az}.kafka.us-west-2.aws.tidbcloud.com",
            "*.kafka.{az}.example.net",
            "*.{az}.kafka.us-west-2.aws.confluent.cloud",
        ] {
            let names: Vec<String> = zones.iter().map(|z| shape.replace("{az}", z)).collect();
            let got = by_zone(names.iter().map(String::as_str), &zones, Some("kafka"));
            assert!(got.unmatched.is_empty(), "{shape}");
            assert_eq!(got.map["usw2-az2"], shape.replace("{az}", "usw2-az2"));
        }
    }

    #[test]
    fn the_unique_name_is_not_taken_for_a_zone() {
        let zones = zs(&["usw2-az1", "usw2-az2"]);
        let names = [
            "*.usw2-az1.usw2-az1.aws.plc.tidbcloud.com",
            "*.usw2-az2.usw2-az1.aws.plc.tidbcloud.com",
        ];
        let got = by_zone(names, &zones, Some("usw2-az1"));
        assert_eq!(got.unmatched, Vec::<String>::new());
        assert_eq!(got.map["usw2-az1"], names[0]);
        assert_eq!(got.map["usw2-az2"], names[1]);
    }

    #[test]
    fn domains_naming_no_single_zone_are_unmatched() {
        let zones = zs(&["usw2-az1", "usw2-az2"]);
        let got = by_zone(
            [
                "*.kafka.us-west-2.aws.tidbcloud.com",
                "*.usw2-az1.usw2-az2.kafka.example.net",
                "*.USW2-AZ1.kafka.example.net",
                "*.usw2-az1.other.example.net",
            ],
            &zones,
            Some("kafka"),
        );
        assert_eq!(got.map.len(), 1);
        assert_eq!(got.map["usw2-az1"], "*.USW2-AZ1.kafka.example.net");
        assert_eq!(got.unmatched.len(), 3);
    }

    fn aws_connection(zones: &[&str]) -> PrivateLinkConnection {
        PrivateLinkConnection {
            aws_endpoint_service: Some(AwsEndpointService {
                availability_zone_ids: zs(zones),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_map_is_unknown_without_zones_and_never_silently_short() {
        let a = AttachDomain {
            unique_name: Some("kafka".into()),
            domains: vec![
                Domain {
                    name: "*.usw2-az1.kafka.aws.plc.tidbcloud.com".into(),
                    ..Default::default()
                },
                Domain {
                    name: "*.kafka.aws.plc.tidbcloud.com".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let (map, warning) = domains_by_az(&a, &aws_connection(&[]));
        assert!(!map.is_known() && warning.is_none());
        let (map, warning) = domains_by_az(&a, &aws_connection(&["usw2-az1"]));
        assert_eq!(
            map,
            Value::Map(
                [(
                    "usw2-az1".to_string(),
                    Value::string("*.usw2-az1.kafka.aws.plc.tidbcloud.com")
                )]
                .into()
            )
        );
        let warning = warning.expect("a warning for the unmatched domain");
        assert!(
            warning.detail.contains("*.kafka.aws.plc.tidbcloud.com"),
            "{}",
            warning.detail
        );
        let ali = PrivateLinkConnection::alicloud("1", "x", "svc");
        assert_eq!(domains_by_az(&a, &ali), (Value::Map(BTreeMap::new()), None));
    }
}
