//! The JSON fixtures under `tests/fixtures/api/` against the swagger files in
//! the reference directory, and the models against both.
//!
//! Every field name (at any depth) of every fixture must be a property of
//! the swagger definition it stands for, and every enum value one the
//! swagger lists; the models must read the fixtures; and the request bodies
//! the models produce must name only writable properties of the request
//! definitions. This keeps the fixtures, the models and the simulator tests
//! built on them honest to the real API.
//!
//! The reference directory is `$TIDBCLOUD_REFERENCE_DIR`, else
//! `../shared/reference` next to the crate; a missing one fails the test.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use tidbcloud_provider::api::{
    AttachDomain, AvailabilityZones, Cluster, ClusterState, ConnectionState, ConnectionType,
    DomainState, DomainType, ListPrivateLinkConnectionsResponse, PrivateLinkConnection,
};

const PRIVATELINK: &str = "tidbcloud-privatelink-v1beta1.swagger.json";
const CLUSTER: &str = "tidbcloud-cluster-v1beta1.swagger.json";

fn reference_dir() -> PathBuf {
    let dir = std::env::var_os("TIDBCLOUD_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"));
    assert!(
        dir.join(PRIVATELINK).is_file() && dir.join(CLUSTER).is_file(),
        "the swagger files {PRIVATELINK} and {CLUSTER} are not in {}: set \
         TIDBCLOUD_REFERENCE_DIR to the directory that holds them",
        dir.display()
    );
    dir
}

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

/// The `definitions` of one swagger file.
struct Swagger {
    file: &'static str,
    definitions: Map<String, Value>,
}

impl Swagger {
    fn load(file: &'static str) -> Swagger {
        let doc = read_json(&reference_dir().join(file));
        let definitions = doc["definitions"]
            .as_object()
            .unwrap_or_else(|| panic!("{file} has no definitions"))
            .clone();
        Swagger { file, definitions }
    }

    fn definition(&self, name: &str) -> Value {
        self.definitions
            .get(name)
            .unwrap_or_else(|| panic!("{} has no definition {name}", self.file))
            .clone()
    }

    /// A schema with `$ref` and `allOf` resolved: properties merged, and
    /// `readOnly` kept from the referring schema.
    fn resolve(&self, schema: &Value) -> Value {
        let mut out = schema.clone();
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.trim_start_matches("#/definitions/");
            let mut target = self.resolve(&self.definition(name));
            merge(&mut target, schema);
            out = target;
        }
        if let Some(parts) = schema.get("allOf").and_then(Value::as_array) {
            for part in parts {
                let resolved = self.resolve(part);
                let mut base = resolved;
                merge(&mut base, &out);
                out = base;
            }
        }
        out
    }

    /// Checks `value` against `schema`; collects problems with their path.
    /// In `request` mode read-only properties are problems too.
    fn check(
        &self,
        value: &Value,
        schema: &Value,
        path: &str,
        request: bool,
        problems: &mut Vec<String>,
    ) {
        let schema = self.resolve(schema);
        match value {
            Value::Object(fields) => {
                let properties = schema.get("properties").and_then(Value::as_object);
                let free_form = schema.get("additionalProperties").is_some();
                for (name, field) in fields {
                    let at = format!("{path}.{name}");
                    match properties.and_then(|p| p.get(name)) {
                        Some(property) => {
                            let property = self.resolve(property);
                            if request && property.get("readOnly") == Some(&Value::Bool(true)) {
                                problems.push(format!("{at}: read-only, must not be sent"));
                            }
                            self.check(field, &property, &at, request, problems);
                        }
                        None if free_form => {}
                        None => problems.push(format!("{at}: not a property in {}", self.file)),
                    }
                }
            }
            Value::Array(items) => {
                let item_schema = schema.get("items").cloned().unwrap_or(Value::Null);
                for (i, item) in items.iter().enumerate() {
                    self.check(
                        item,
                        &item_schema,
                        &format!("{path}[{i}]"),
                        request,
                        problems,
                    );
                }
            }
            Value::String(s) => {
                if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
                    if !allowed.iter().any(|a| a.as_str() == Some(s)) {
                        problems.push(format!("{path}: {s:?} is not one of {allowed:?}"));
                    }
                }
            }
            _ => {}
        }
    }

    fn assert_conforms(&self, value: &Value, definition: &str, label: &str, request: bool) {
        let mut problems = Vec::new();
        let schema = json!({ "$ref": format!("#/definitions/{definition}") });
        self.check(value, &schema, label, request, &mut problems);
        assert!(
            problems.is_empty(),
            "{label} does not match {definition} of {}:\n  {}",
            self.file,
            problems.join("\n  ")
        );
    }

    /// Every property of the definition, as names.
    fn property_names(&self, definition: &str) -> Vec<String> {
        let schema = self.resolve(&self.definition(definition));
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// Copies `from`'s keys into `into`, except `$ref` and `allOf`.
fn merge(into: &mut Value, from: &Value) {
    if let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) {
        for (k, v) in from {
            if k != "$ref" && k != "allOf" {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

#[test]
fn fixtures_use_only_swagger_field_names_and_enum_values() {
    let privatelink = Swagger::load(PRIVATELINK);
    let cluster = Swagger::load(CLUSTER);
    let cases: BTreeMap<&str, (&Swagger, &str)> = BTreeMap::from([
        ("connection.json", (&privatelink, "PrivateLinkConnection")),
        (
            "connection_alicloud.json",
            (&privatelink, "PrivateLinkConnection"),
        ),
        (
            "list_page.json",
            (&privatelink, "ListPrivateLinkConnectionsResponse"),
        ),
        ("attach_domain.json", (&privatelink, "AttachDomain")),
        (
            "availability_zones.json",
            (&privatelink, "GetAvailabilityZonesResponse"),
        ),
        ("error.json", (&privatelink, "Status")),
        (
            "cluster.json",
            (&cluster, "tidb_cloud_open_apiserverlessv1beta1Cluster"),
        ),
    ]);
    for (file, (swagger, definition)) in cases {
        swagger.assert_conforms(&fixture(file), definition, file, false);
    }
}

#[test]
fn fixtures_cover_every_property_of_the_private_link_models() {
    let swagger = Swagger::load(PRIVATELINK);
    let connection = fixture("connection.json");
    for (value, definition) in [
        (&connection, "PrivateLinkConnection"),
        (&connection["attachedDomains"][0], "AttachDomain"),
        (&connection["attachedDomains"][0]["domains"][0], "Domain"),
        (&connection["awsEndpointService"], "AwsEndpointService"),
        (
            &fixture("connection_alicloud.json")["alicloudEndpointService"],
            "AlicloudEndpointService",
        ),
        (
            &fixture("list_page.json"),
            "ListPrivateLinkConnectionsResponse",
        ),
        (
            &fixture("availability_zones.json"),
            "GetAvailabilityZonesResponse",
        ),
    ] {
        let missing: Vec<String> = swagger
            .property_names(definition)
            .into_iter()
            .filter(|name| name != "alicloudEndpointService" && value.get(name).is_none())
            .collect();
        assert!(
            missing.is_empty(),
            "fixture for {definition} lacks {missing:?}"
        );
    }
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
fn request_bodies_name_only_writable_swagger_properties() {
    let swagger = Swagger::load(PRIVATELINK);
    // A connection read from the API, sent back as a create: read-only
    // fields must be dropped.
    let read: PrivateLinkConnection = serde_json::from_value(fixture("connection.json")).unwrap();
    let body = json!({ "privateLinkConnection": serde_json::to_value(&read).unwrap() });
    swagger.assert_conforms(
        &body,
        "PrivateLinkConnectionService.CreatePrivateLinkConnectionBody",
        "create body",
        true,
    );
    assert_eq!(
        body["privateLinkConnection"]["awsEndpointService"],
        json!({"name": "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef", "region": "us-west-2"})
    );

    let ali: PrivateLinkConnection =
        serde_json::from_value(fixture("connection_alicloud.json")).unwrap();
    let body = json!({ "privateLinkConnection": serde_json::to_value(&ali).unwrap() });
    swagger.assert_conforms(
        &body,
        "PrivateLinkConnectionService.CreatePrivateLinkConnectionBody",
        "alicloud create body",
        true,
    );

    let attach: AttachDomain = serde_json::from_value(fixture("attach_domain.json")).unwrap();
    let body =
        json!({ "attachDomain": serde_json::to_value(&attach).unwrap(), "validateOnly": true });
    swagger.assert_conforms(
        &body,
        "PrivateLinkConnectionService.AttachDomainsBody",
        "attach body",
        true,
    );
    assert_eq!(
        body["attachDomain"],
        json!({"type": "CONFLUENT", "uniqueName": "lkc-abc123"})
    );

    swagger.assert_conforms(
        &json!({"attachDomainId": "ad-1"}),
        "PrivateLinkConnectionService.DetachDomainsBody",
        "detach body",
        true,
    );
}

#[test]
fn the_checker_catches_wrong_names_enums_and_read_only_fields() {
    let swagger = Swagger::load(PRIVATELINK);
    let mut problems = Vec::new();
    let schema = json!({"$ref": "#/definitions/PrivateLinkConnection"});
    swagger.check(
        &json!({
            "cluster_id": "snake case",
            "state": "RUNNING",
            "awsEndpointService": {"serviceName": "x"},
            "privateLinkConnectionId": "plc-1",
        }),
        &schema,
        "bad",
        true,
        &mut problems,
    );
    let text = problems.join("\n");
    assert!(text.contains("bad.cluster_id: not a property"), "{text}");
    assert!(
        text.contains("bad.state: \"RUNNING\" is not one of"),
        "{text}"
    );
    assert!(
        text.contains("bad.awsEndpointService.serviceName"),
        "{text}"
    );
    assert!(
        text.contains("bad.privateLinkConnectionId: read-only"),
        "{text}"
    );
}
