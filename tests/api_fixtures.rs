//! The JSON fixtures under `tests/fixtures/api/` and the models, checked
//! against our own description of the API contract,
//! `tests/fixtures/api/contract.json`.
//!
//! Every field name (at any depth) of every fixture must be a field of the
//! contract type it stands for, with a value of the field's type and, for
//! enums, one of the listed values; the models must read the fixtures and
//! know every enum value; and the request bodies the models produce must
//! name only writable fields and every required one. This keeps the
//! fixtures, the models and the simulator tests built on them honest to the
//! real API.
//!
//! The contract is written from the official swagger files; that it still
//! agrees with them is proved by `scripts/check-api-contract`, which `.ci/run`
//! runs where those files are available. This test reads nothing outside
//! the repository.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};
use tidbcloud_provider::api::{
    AttachDomain, AvailabilityZones, CloudProvider, Cluster, ClusterState, ConnectionState,
    ConnectionType, DomainState, DomainType, ListPrivateLinkConnectionsResponse,
    PrivateLinkConnection,
};

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn fixture(name: &str) -> Value {
    read_json(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/api")
            .join(name),
    )
}

/// One field of a contract type: `"<type> [flag…]"`.
#[derive(Debug, Clone)]
struct Field {
    ty: String,
    read_only: bool,
    required: bool,
    nullable: bool,
}

impl Field {
    fn parse(spec: &str) -> Field {
        let mut words = spec.split_whitespace();
        let mut ty = words.next().expect("a type").to_string();
        if ty == "enum" {
            ty = format!("enum {}", words.next().expect("an enum name"));
        }
        let mut field = Field {
            ty,
            read_only: false,
            required: false,
            nullable: false,
        };
        for flag in words {
            match flag {
                "ro" => field.read_only = true,
                "required" => field.required = true,
                "nullable" => field.nullable = true,
                other => panic!("unknown flag {other:?} in {spec:?}"),
            }
        }
        field
    }
}

/// A type of the contract.
struct Type {
    fields: BTreeMap<String, Field>,
    /// Whether other (free-form) properties are allowed.
    open: bool,
    /// Whether only part of the official type is described.
    partial: bool,
}

/// `tests/fixtures/api/contract.json`, parsed.
struct Contract {
    types: BTreeMap<String, Type>,
    enums: BTreeMap<String, Vec<String>>,
    operations: Map<String, Value>,
}

impl Contract {
    fn load() -> Contract {
        let doc = fixture("contract.json");
        let types = doc["types"]
            .as_object()
            .expect("contract types")
            .iter()
            .map(|(name, t)| {
                let fields = t["fields"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{name} has no fields"))
                    .iter()
                    .map(|(f, spec)| (f.clone(), Field::parse(spec.as_str().expect("spec"))))
                    .collect();
                let flag = |k: &str| t.get(k) == Some(&Value::Bool(true));
                (
                    name.clone(),
                    Type {
                        fields,
                        open: flag("open"),
                        partial: flag("partial"),
                    },
                )
            })
            .collect();
        let enums = doc["enums"]
            .as_object()
            .expect("contract enums")
            .iter()
            .map(|(name, e)| {
                let values = e["values"]
                    .as_array()
                    .expect("enum values")
                    .iter()
                    .map(|v| v.as_str().expect("enum value").to_string())
                    .collect();
                (name.clone(), values)
            })
            .collect();
        let operations = doc["operations"].as_object().expect("operations").clone();
        Contract {
            types,
            enums,
            operations,
        }
    }

    fn ty(&self, name: &str) -> &Type {
        self.types
            .get(name)
            .unwrap_or_else(|| panic!("the contract has no type {name}"))
    }

    /// Checks `value` against the type expression `ty`; collects problems
    /// with their path. In `request` mode read-only fields are problems,
    /// and so are missing required ones.
    fn check(
        &self,
        value: &Value,
        ty: &str,
        path: &str,
        request: bool,
        problems: &mut Vec<String>,
    ) {
        let mut wrong = |what: &str| problems.push(format!("{path}: {what}, found {value}"));
        if let Some(item) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            match value.as_array() {
                Some(items) => {
                    for (i, v) in items.iter().enumerate() {
                        self.check(v, item, &format!("{path}[{i}]"), request, problems);
                    }
                }
                None => wrong("expected an array"),
            }
            return;
        }
        if let Some(item) = ty.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            match value.as_object() {
                Some(entries) => {
                    for (k, v) in entries {
                        self.check(v, item, &format!("{path}.{k}"), request, problems);
                    }
                }
                None => wrong("expected an object (map)"),
            }
            return;
        }
        if let Some(name) = ty.strip_prefix("enum ") {
            let values = &self.enums[name];
            match value.as_str() {
                Some(s) if values.iter().any(|v| v == s) => {}
                Some(s) => problems.push(format!("{path}: {s:?} is not one of {values:?}")),
                None => wrong("expected an enum string"),
            }
            return;
        }
        match ty {
            "string" | "date-time" => {
                if !value.is_string() {
                    wrong("expected a string")
                }
            }
            "boolean" => {
                if !value.is_boolean() {
                    wrong("expected a boolean")
                }
            }
            "int32" => {
                if !value.is_i64() {
                    wrong("expected an integer")
                }
            }
            // int64 travels as a decimal string (proto3 JSON) or a number.
            "int64" => {
                let ok = value.is_i64() || value.as_str().is_some_and(|s| s.parse::<i64>().is_ok());
                if !ok {
                    wrong("expected an int64 (string or number)")
                }
            }
            object => self.check_object(value, object, path, request, problems),
        }
    }

    fn check_object(
        &self,
        value: &Value,
        name: &str,
        path: &str,
        request: bool,
        problems: &mut Vec<String>,
    ) {
        let ty = self.ty(name);
        let Some(fields) = value.as_object() else {
            problems.push(format!(
                "{path}: expected an object ({name}), found {value}"
            ));
            return;
        };
        for (key, v) in fields {
            let at = format!("{path}.{key}");
            match ty.fields.get(key) {
                Some(field) => {
                    if request && field.read_only {
                        problems.push(format!("{at}: read-only, must not be sent"));
                    }
                    if v.is_null() {
                        if !field.nullable {
                            problems.push(format!("{at}: null, but the field is not nullable"));
                        }
                    } else {
                        self.check(v, &field.ty, &at, request, problems);
                    }
                }
                None if ty.open => {}
                None => problems.push(format!("{at}: not a field of {name}")),
            }
        }
        if request {
            for (key, field) in &ty.fields {
                if field.required && !fields.contains_key(key) {
                    problems.push(format!("{path}.{key}: required, missing"));
                }
            }
        }
    }

    fn assert_conforms(&self, value: &Value, ty: &str, label: &str, request: bool) {
        let mut problems = Vec::new();
        self.check(value, ty, label, request, &mut problems);
        assert!(
            problems.is_empty(),
            "{label} does not match {ty} of the contract:\n  {}",
            problems.join("\n  ")
        );
    }
}

#[test]
fn the_contract_is_complete_in_itself() {
    let contract = Contract::load();
    let mut problems = Vec::new();
    let known = |ty: &str, at: &str, problems: &mut Vec<String>| {
        let base = ty
            .trim_start_matches(['[', '{'])
            .trim_end_matches([']', '}']);
        let ok = match base.strip_prefix("enum ") {
            Some(e) => contract.enums.contains_key(e),
            None => {
                ["string", "date-time", "boolean", "int32", "int64"].contains(&base)
                    || contract.types.contains_key(base)
            }
        };
        if !ok {
            problems.push(format!("{at}: unknown type {ty:?}"));
        }
    };
    for (name, ty) in &contract.types {
        for (f, field) in &ty.fields {
            known(&field.ty, &format!("{name}.{f}"), &mut problems);
        }
    }
    for (name, op) in &contract.operations {
        let call = op["call"].as_str().unwrap_or_default();
        let (method, path) = call.split_once(' ').unwrap_or_default();
        if !["GET", "POST", "DELETE", "PATCH", "PUT"].contains(&method)
            || !path.starts_with("/v1beta1/")
        {
            problems.push(format!(
                "{name}: call {call:?} is not \"METHOD /v1beta1/…\""
            ));
        }
        for key in ["body", "response"] {
            if let Some(t) = op.get(key).and_then(Value::as_str) {
                known(t, &format!("{name}.{key}"), &mut problems);
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn fixtures_use_only_contract_fields_types_and_enum_values() {
    let contract = Contract::load();
    for (file, ty) in [
        ("connection.json", "Connection"),
        ("connection_alicloud.json", "Connection"),
        ("list_page.json", "ListConnectionsResponse"),
        ("attach_domain.json", "AttachDomain"),
        ("availability_zones.json", "AvailabilityZones"),
        ("error.json", "Status"),
        ("cluster.json", "Cluster"),
    ] {
        contract.assert_conforms(&fixture(file), ty, file, false);
    }
}

#[test]
fn fixtures_cover_every_field_of_the_private_link_types() {
    let contract = Contract::load();
    let connection = fixture("connection.json");
    for (value, ty) in [
        (&connection, "Connection"),
        (&connection["attachedDomains"][0], "AttachDomain"),
        (&connection["attachedDomains"][0]["domains"][0], "Domain"),
        (&connection["awsEndpointService"], "AwsEndpointService"),
        (
            &fixture("connection_alicloud.json")["alicloudEndpointService"],
            "AlicloudEndpointService",
        ),
        (&fixture("list_page.json"), "ListConnectionsResponse"),
        (&fixture("availability_zones.json"), "AvailabilityZones"),
    ] {
        assert!(!contract.ty(ty).partial, "{ty} is described in full");
        let missing: Vec<&String> = contract
            .ty(ty)
            .fields
            .keys()
            .filter(|name| *name != "alicloudEndpointService" && value.get(name.as_str()).is_none())
            .collect();
        assert!(missing.is_empty(), "fixture for {ty} lacks {missing:?}");
    }
}

#[test]
fn the_models_know_every_enum_value_of_the_contract() {
    fn names<T>(known: &[T], text: impl Fn(&T) -> &str) -> Vec<String> {
        known.iter().map(|v| text(v).to_string()).collect()
    }
    let contract = Contract::load();
    for (name, values) in [
        (
            "ConnectionState",
            names(ConnectionState::KNOWN, ConnectionState::as_str),
        ),
        (
            "ConnectionType",
            names(ConnectionType::KNOWN, ConnectionType::as_str),
        ),
        ("DomainType", names(DomainType::KNOWN, DomainType::as_str)),
        (
            "ClusterState",
            names(ClusterState::KNOWN, ClusterState::as_str),
        ),
        (
            "CloudProvider",
            names(CloudProvider::KNOWN, CloudProvider::as_str),
        ),
    ] {
        assert_eq!(values, contract.enums[name], "the model of {name}");
    }
    // The API types a domain's state as a plain string; the model names the
    // values the API documents and keeps any other.
    assert_eq!(contract.ty("Domain").fields["state"].ty, "string");
    assert!(DomainState::KNOWN.contains(&DomainState::Succeeded));
}

#[test]
fn the_contract_describes_every_call_the_client_makes() {
    let contract = Contract::load();
    let calls: Vec<&str> = contract
        .operations
        .values()
        .map(|op| op["call"].as_str().expect("call"))
        .collect();
    for suffix in [":getAvailabilityZones", ":attachDomains", ":detachDomains"] {
        assert!(
            calls.iter().any(|c| c.ends_with(suffix)),
            "the contract describes {suffix}"
        );
    }
    assert!(calls.contains(&"GET /v1beta1/clusters/{clusterId}"));
    assert_eq!(
        contract.operations["CreateConnection"]["body"],
        json!("CreateConnectionBody")
    );
}

#[test]
fn models_read_the_fixtures() {
    let c: PrivateLinkConnection = serde_json::from_value(fixture("connection.json")).unwrap();
    assert_eq!(c.private_link_connection_id, "plc-7h2k4q9x");
    assert_eq!(c.state, Some(ConnectionState::Active));
    assert_eq!(
        c.connection_type(),
        Some(ConnectionType::AwsEndpointService)
    );
    assert_eq!(c.endpoint_id(), Some("vpce-0a1b2c3d4e5f60718"));
    assert_eq!(c.availability_zone_ids(), ["usw2-az1", "usw2-az2"]);
    assert_eq!(c.update_time.as_deref(), Some("2025-03-04T10:22:05Z"));
    let aws = c.aws_endpoint_service.as_ref().unwrap();
    assert_eq!(aws.region.as_deref(), Some("us-west-2"));
    let attached = &c.attached_domains[0];
    assert_eq!(attached.attach_domain_id, "ad-5m3n8p1r");
    assert_eq!(attached.domain_type, Some(DomainType::TidbcloudManaged));
    assert_eq!(attached.domains.len(), 2);
    assert_eq!(attached.domains[0].state, Some(DomainState::Succeeded));

    let ali: PrivateLinkConnection =
        serde_json::from_value(fixture("connection_alicloud.json")).unwrap();
    assert_eq!(ali.state, Some(ConnectionState::Failed));
    assert_eq!(ali.update_time, None, "null is read as absent");
    assert_eq!(
        ali.connection_type(),
        Some(ConnectionType::AlicloudEndpointService)
    );
    assert_eq!(ali.endpoint_id(), Some("ep-t4n9876543210fedcba"));
    assert!(ali.message.unwrap().contains("does not allow"));

    let page: ListPrivateLinkConnectionsResponse =
        serde_json::from_value(fixture("list_page.json")).unwrap();
    assert_eq!(page.private_link_connections.len(), 2);
    assert_eq!(page.next_page_token.as_deref(), Some("b2Zmc2V0PTI"));
    assert_eq!(page.total_size, Some(3), "int64 written as a string");
    assert_eq!(
        page.private_link_connections[1].state,
        Some(ConnectionState::PendingAcceptance)
    );

    let a: AttachDomain = serde_json::from_value(fixture("attach_domain.json")).unwrap();
    assert_eq!(a.domain_type, Some(DomainType::Confluent));
    assert_eq!(a.unique_name.as_deref(), Some("lkc-abc123"));
    assert_eq!(a.domains[1].state, Some(DomainState::Failed));
    assert!(a.domains[1].message.is_some());

    let az: AvailabilityZones = serde_json::from_value(fixture("availability_zones.json")).unwrap();
    assert_eq!(az.account_id, "123456789012");
    assert_eq!(az.az_ids, ["usw2-az1", "usw2-az2", "usw2-az3"]);

    let cluster: Cluster = serde_json::from_value(fixture("cluster.json")).unwrap();
    assert_eq!(cluster.cluster_id, "1000000000000000001");
    assert_eq!(cluster.state, Some(ClusterState::Active));
    assert_eq!(cluster.cloud_provider(), Some("aws"));
    assert_eq!(cluster.region_id(), Some("us-west-2"));

    let error = tidbcloud_provider::api::ApiError::from_response(
        "DELETE",
        "/v1beta1/clusters/1/privateLinkConnections/plc-7h2k4q9x",
        400,
        fixture("error.json").to_string().as_bytes(),
    );
    assert!(error.is_failed_precondition());
}

#[test]
fn request_bodies_name_only_writable_fields_and_every_required_one() {
    let contract = Contract::load();
    // A connection read from the API, sent back as a create: read-only
    // fields must be dropped.
    let read: PrivateLinkConnection = serde_json::from_value(fixture("connection.json")).unwrap();
    let body = json!({ "privateLinkConnection": serde_json::to_value(&read).unwrap() });
    contract.assert_conforms(&body, "CreateConnectionBody", "create body", true);
    assert_eq!(
        body["privateLinkConnection"]["awsEndpointService"],
        json!({"name": "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef", "region": "us-west-2"})
    );

    let ali: PrivateLinkConnection =
        serde_json::from_value(fixture("connection_alicloud.json")).unwrap();
    let body = json!({ "privateLinkConnection": serde_json::to_value(&ali).unwrap() });
    contract.assert_conforms(&body, "CreateConnectionBody", "alicloud create body", true);

    let attach: AttachDomain = serde_json::from_value(fixture("attach_domain.json")).unwrap();
    let body =
        json!({ "attachDomain": serde_json::to_value(&attach).unwrap(), "validateOnly": true });
    contract.assert_conforms(&body, "AttachDomainsBody", "attach body", true);
    assert_eq!(
        body["attachDomain"],
        json!({"type": "CONFLUENT", "uniqueName": "lkc-abc123"})
    );

    contract.assert_conforms(
        &json!({"attachDomainId": "ad-1"}),
        "DetachDomainsBody",
        "detach body",
        true,
    );
}

#[test]
fn the_checker_catches_wrong_names_types_enums_and_read_only_fields() {
    let contract = Contract::load();
    let mut problems = Vec::new();
    contract.check(
        &json!({
            "cluster_id": "snake case",
            "state": "RUNNING",
            "awsEndpointService": {"serviceName": "x", "name": "n"},
            "privateLinkConnectionId": "plc-1",
            "displayName": 7,
            "createTime": null,
            "attachedDomains": {},
        }),
        "Connection",
        "bad",
        true,
        &mut problems,
    );
    let text = problems.join("\n");
    for expected in [
        "bad.cluster_id: not a field of Connection",
        "bad.state: \"RUNNING\" is not one of",
        "bad.awsEndpointService.serviceName: not a field",
        "bad.privateLinkConnectionId: read-only",
        "bad.displayName: expected a string",
        "bad.createTime: null, but the field is not nullable",
        "bad.attachedDomains: expected an array",
        "bad.clusterId: required, missing",
        "bad.type: required, missing",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    let mut problems = Vec::new();
    contract.check(
        &json!({"totalSize": "3x"}),
        "ListConnectionsResponse",
        "page",
        false,
        &mut problems,
    );
    assert!(
        problems.join("\n").contains("expected an int64"),
        "{problems:?}"
    );
}
