//! The data sources as users read them: one connection (by id or by name,
//! with its attached domains), a cluster's connections (every page, optional
//! state filter) and the availability zones with the principal to allow, on
//! both clouds; clear errors; and the examples under `examples/`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use tidbcloud_provider::api::{Client, ClientConfig, PrivateLinkConnection};

use crate::harness::*;

const UNKNOWN_CLUSTER: &str = "1000000000000000009";

/// The values of `address` (a resource or `data.` source) in the state.
fn values(state: &Value, address: &str) -> Value {
    find_resource(state, address)
        .unwrap_or_else(|| panic!("{address} is not in the state: {state}"))["values"]
        .clone()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn non_empty(v: &Value, key: &str) {
    assert!(
        v[key].as_str().is_some_and(|s| !s.is_empty()),
        "{key} should be set in {v}"
    );
}

fn ids_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|c| str_of(c, "private_link_connection_id").to_string())
        .collect()
}

/// The fields a connection shows wherever it appears (resource, both data
/// sources) agree with the resource's state.
fn assert_same_connection(read: &Value, resource: &Value) {
    for key in [
        "private_link_connection_id",
        "cluster_id",
        "display_name",
        "type",
        "created_by",
        "create_time",
        "aws_endpoint_service",
        "alicloud_endpoint_service",
    ] {
        assert_eq!(read[key], resource[key], "{key} differs");
    }
}

/// Creates connections straight through the API (Digest auth and all), much
/// faster than as Terraform resources; returns their ids in creation order.
fn create_via_api(sim: &Sim, cluster_id: &str, service: &str, names: &[String]) -> Vec<String> {
    let client = Client::new(ClientConfig {
        endpoint: sim.url.clone(),
        public_key: PUBLIC_KEY.into(),
        private_key: PRIVATE_KEY.into(),
        user_agent_suffix: None,
    })
    .expect("API client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut ids = Vec::new();
        for name in names {
            let request = if service.starts_with("com.aliyuncs.") {
                PrivateLinkConnection::alicloud(cluster_id, name.as_str(), service)
            } else {
                PrivateLinkConnection::aws(cluster_id, name.as_str(), service, None)
            };
            let created = client
                .create_private_link_connection(cluster_id, &request)
                .await
                .unwrap_or_else(|e| panic!("create {name}: {e}"));
            ids.push(created.private_link_connection_id);
        }
        ids
    })
}

/// Waits until no connection is CREATING any more.
fn wait_until_settled(sim: &Sim) {
    eventually("every connection to settle", || {
        let world = sim.control("GET", "/_sim/world", None).1;
        world["private_link_connections"]
            .as_array()
            .is_some_and(|all| all.iter().all(|c| c["state"] != "CREATING"))
    });
}

#[test]
fn aws_connection_by_id_and_name_with_domains_list_filter_and_zones() {
    let sim = Sim::start(&["--transition-delay-ms", "50"]);
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        r#"
{kafka}
{pending}
resource "tidbcloud_private_link_domains" "kafka" {{
  cluster_id                 = "{AWS_CLUSTER}"
  private_link_connection_id = tidbcloud_private_link_connection.kafka.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  unique_name                = "kafka-ds"
}}

data "tidbcloud_private_link_connection" "by_id" {{
  cluster_id                 = "{AWS_CLUSTER}"
  private_link_connection_id = tidbcloud_private_link_connection.kafka.private_link_connection_id
  depends_on                 = [tidbcloud_private_link_domains.kafka]
}}

data "tidbcloud_private_link_connection" "by_name" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "kafka"
  depends_on   = [tidbcloud_private_link_domains.kafka]
}}

data "tidbcloud_private_link_connection" "pending" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = tidbcloud_private_link_connection.pending.display_name
}}

data "tidbcloud_private_link_connections" "all" {{
  cluster_id = "{AWS_CLUSTER}"
  depends_on = [tidbcloud_private_link_domains.kafka, tidbcloud_private_link_connection.pending]
}}

data "tidbcloud_private_link_connections" "active" {{
  cluster_id = "{AWS_CLUSTER}"
  state      = "ACTIVE"
  depends_on = [tidbcloud_private_link_domains.kafka, tidbcloud_private_link_connection.pending]
}}

data "tidbcloud_private_link_connections" "pending" {{
  cluster_id = "{AWS_CLUSTER}"
  state      = "PENDING_ACCEPTANCE"
  depends_on = [tidbcloud_private_link_domains.kafka, tidbcloud_private_link_connection.pending]
}}

data "tidbcloud_private_link_availability_zones" "this" {{
  cluster_id = "{AWS_CLUSTER}"
}}
"#,
        kafka = aws_connection("kafka", "kafka", AWS_AUTO, ""),
        pending = aws_connection("pending", "pending", AWS_MANUAL, ""),
    ));
    tf.apply();
    let state = tf.state();
    let kafka = values(&state, "tidbcloud_private_link_connection.kafka");
    let pending = values(&state, "tidbcloud_private_link_connection.pending");
    let domains = values(&state, "tidbcloud_private_link_domains.kafka");
    let kafka_id = str_of(&kafka, "private_link_connection_id");
    let pending_id = str_of(&pending, "private_link_connection_id");

    // One connection, by id: every field, as the console's detail view.
    let by_id = values(&state, "data.tidbcloud_private_link_connection.by_id");
    assert_same_connection(&by_id, &kafka);
    assert_eq!(by_id["id"], format!("{AWS_CLUSTER},{kafka_id}"));
    assert_eq!(by_id["state"], "ACTIVE");
    assert_eq!(by_id["type"], "AWS_ENDPOINT_SERVICE");
    assert_eq!(by_id["message"], Value::Null);
    non_empty(&by_id, "created_by");
    non_empty(&by_id, "create_time");
    non_empty(&by_id, "update_time");
    let service = &by_id["aws_endpoint_service"];
    assert_eq!(service["name"], AWS_AUTO);
    assert_eq!(service["region"], "us-west-2");
    assert!(str_of(service, "endpoint_id").starts_with("vpce-"));
    assert_eq!(
        service["availability_zone_ids"],
        json!(["usw2-az1", "usw2-az2", "usw2-az3"])
    );
    assert_eq!(by_id["alicloud_endpoint_service"], Value::Null);

    // Its attached domains.
    let attached = by_id["attached_domains"].as_array().expect("attached");
    assert_eq!(attached.len(), 1, "{attached:?}");
    let a = &attached[0];
    assert_eq!(a["attach_domain_id"], domains["attach_domain_id"]);
    assert_eq!(a["type"], "TIDBCLOUD_MANAGED");
    assert_eq!(a["unique_name"], "kafka-ds");
    non_empty(a, "created_by");
    non_empty(a, "create_time");
    assert_eq!(a["created_by"], domains["created_by"]);
    assert_eq!(a["create_time"], domains["create_time"]);
    assert_eq!(
        a["domains"],
        json!([
            {"name": "*.usw2-az1.kafka-ds.aws.plc.tidbcloud.com", "state": "SUCCEEDED", "message": null},
            {"name": "*.usw2-az2.kafka-ds.aws.plc.tidbcloud.com", "state": "SUCCEEDED", "message": null},
            {"name": "*.usw2-az3.kafka-ds.aws.plc.tidbcloud.com", "state": "SUCCEEDED", "message": null},
        ])
    );
    assert_eq!(a["domains"], domains["domains"]);

    // By name: the same connection, the same view.
    let by_name = values(&state, "data.tidbcloud_private_link_connection.by_name");
    assert_eq!(by_name, by_id);

    // A connection waiting for acceptance, with nothing attached.
    let p = values(&state, "data.tidbcloud_private_link_connection.pending");
    assert_same_connection(&p, &pending);
    assert_eq!(p["state"], "PENDING_ACCEPTANCE");
    assert_eq!(p["attached_domains"], json!([]));

    // The list: both, oldest first; and the state filter.
    let all = values(&state, "data.tidbcloud_private_link_connections.all");
    assert_eq!(all["id"], AWS_CLUSTER);
    assert_eq!(all["state"], Value::Null);
    let list = all["private_link_connections"].as_array().expect("list");
    // Terraform creates the two in parallel: either may be the older.
    let (first, second) = (&list[0], &list[1]);
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(str_of(first, "create_time") <= str_of(second, "create_time"));
    let listed = |id: &str| {
        list.iter()
            .find(|c| c["private_link_connection_id"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed: {list:?}"))
    };
    assert_same_connection(listed(kafka_id), &kafka);
    assert_same_connection(listed(pending_id), &pending);
    assert_eq!(listed(kafka_id)["state"], "ACTIVE");
    assert_eq!(listed(pending_id)["state"], "PENDING_ACCEPTANCE");
    assert!(
        list.iter().all(|c| c.get("attached_domains").is_none()),
        "lists carry no attached domains"
    );
    let active = values(&state, "data.tidbcloud_private_link_connections.active");
    assert_eq!(active["state"], "ACTIVE");
    assert_eq!(ids_of(&active["private_link_connections"]), [kafka_id]);
    let waiting = values(&state, "data.tidbcloud_private_link_connections.pending");
    assert_eq!(ids_of(&waiting["private_link_connections"]), [pending_id]);

    // What the endpoint service must allow.
    let zones = values(
        &state,
        "data.tidbcloud_private_link_availability_zones.this",
    );
    assert_eq!(
        zones,
        json!({
            "cluster_id": AWS_CLUSTER,
            "id": AWS_CLUSTER,
            "account_id": "123456789012",
            "az_ids": ["usw2-az1", "usw2-az2", "usw2-az3"],
            "cloud_provider": "aws",
            "region": "us-west-2",
            "principal": "arn:aws:iam::123456789012:root",
        })
    );

    // Reading again finds nothing to change.
    tf.assert_no_changes();
}

#[test]
fn alicloud_connection_by_id_and_name_with_domains_list_and_zones() {
    let sim = Sim::start(&["--transition-delay-ms", "50"]);
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        r#"
resource "tidbcloud_private_link_connection" "rds" {{
  cluster_id   = "{ALI_CLUSTER}"
  display_name = "rds"
  alicloud_endpoint_service = {{
    name = "{ALI_AUTO}"
  }}
}}

resource "tidbcloud_private_link_domains" "rds" {{
  cluster_id                 = "{ALI_CLUSTER}"
  private_link_connection_id = tidbcloud_private_link_connection.rds.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  unique_name                = "rds-ds"
}}

data "tidbcloud_private_link_connection" "by_id" {{
  cluster_id                 = "{ALI_CLUSTER}"
  private_link_connection_id = tidbcloud_private_link_connection.rds.private_link_connection_id
  depends_on                 = [tidbcloud_private_link_domains.rds]
}}

data "tidbcloud_private_link_connection" "by_name" {{
  cluster_id   = "{ALI_CLUSTER}"
  display_name = "rds"
  depends_on   = [tidbcloud_private_link_domains.rds]
}}

data "tidbcloud_private_link_connections" "all" {{
  cluster_id = "{ALI_CLUSTER}"
  depends_on = [tidbcloud_private_link_domains.rds]
}}

data "tidbcloud_private_link_availability_zones" "this" {{
  cluster_id = "{ALI_CLUSTER}"
}}
"#
    ));
    tf.apply();
    let state = tf.state();
    let rds = values(&state, "tidbcloud_private_link_connection.rds");
    let domains = values(&state, "tidbcloud_private_link_domains.rds");
    let id = str_of(&rds, "private_link_connection_id");

    let by_id = values(&state, "data.tidbcloud_private_link_connection.by_id");
    assert_same_connection(&by_id, &rds);
    assert_eq!(by_id["id"], format!("{ALI_CLUSTER},{id}"));
    assert_eq!(by_id["type"], "ALICLOUD_ENDPOINT_SERVICE");
    assert_eq!(by_id["state"], "ACTIVE");
    assert_eq!(by_id["aws_endpoint_service"], Value::Null);
    let service = &by_id["alicloud_endpoint_service"];
    assert_eq!(service["name"], ALI_AUTO);
    assert!(
        str_of(service, "endpoint_id").starts_with("ep-"),
        "{service}"
    );
    assert_eq!(
        service["availability_zone_ids"],
        json!(["ap-southeast-1a", "ap-southeast-1b"])
    );
    let attached = by_id["attached_domains"].as_array().expect("attached");
    assert_eq!(attached.len(), 1, "{attached:?}");
    assert_eq!(attached[0]["attach_domain_id"], domains["attach_domain_id"]);
    assert_eq!(attached[0]["unique_name"], "rds-ds");
    non_empty(&attached[0], "created_by");
    non_empty(&attached[0], "create_time");
    assert_eq!(
        attached[0]["domains"],
        json!([{"name": "*.rds-ds.alicloud.plc.tidbcloud.com", "state": "SUCCEEDED", "message": null}])
    );

    let by_name = values(&state, "data.tidbcloud_private_link_connection.by_name");
    assert_eq!(by_name, by_id);

    let all = values(&state, "data.tidbcloud_private_link_connections.all");
    assert_eq!(ids_of(&all["private_link_connections"]), [id]);
    assert_same_connection(&all["private_link_connections"][0], &rds);

    let zones = values(
        &state,
        "data.tidbcloud_private_link_availability_zones.this",
    );
    assert_eq!(
        zones,
        json!({
            "cluster_id": ALI_CLUSTER,
            "id": ALI_CLUSTER,
            "account_id": "5012345678901234",
            "az_ids": ["ap-southeast-1a", "ap-southeast-1b"],
            "cloud_provider": "alicloud",
            "region": "ap-southeast-1",
            "principal": "acs:ram:*:5012345678901234:*",
        })
    );
}

#[test]
fn lookups_that_find_nothing_or_too_much_are_clear_errors() {
    let sim = Sim::start(&["--transition-delay-ms", "50"]);
    let dup = create_via_api(
        &sim,
        AWS_CLUSTER,
        AWS_AUTO,
        &["dup".to_string(), "dup".to_string()],
    );
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        r#"
data "tidbcloud_private_link_connection" "id_on_unknown_cluster" {{
  cluster_id                 = "{UNKNOWN_CLUSTER}"
  private_link_connection_id = "{first}"
}}

data "tidbcloud_private_link_connection" "name_on_unknown_cluster" {{
  cluster_id   = "{UNKNOWN_CLUSTER}"
  display_name = "dup"
}}

data "tidbcloud_private_link_connections" "unknown_cluster" {{
  cluster_id = "{UNKNOWN_CLUSTER}"
}}

data "tidbcloud_private_link_availability_zones" "unknown_cluster" {{
  cluster_id = "{UNKNOWN_CLUSTER}"
}}

data "tidbcloud_private_link_connection" "unknown_id" {{
  cluster_id                 = "{AWS_CLUSTER}"
  private_link_connection_id = "plc-doesnotexist"
}}

data "tidbcloud_private_link_connection" "other_clusters_id" {{
  cluster_id                 = "{ALI_CLUSTER}"
  private_link_connection_id = "{first}"
}}

data "tidbcloud_private_link_connection" "unknown_name" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "nope"
}}

data "tidbcloud_private_link_connection" "ambiguous" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "dup"
}}
"#,
        first = dup[0],
    ));
    let plan = tf.plan();
    assert_eq!(plan.code, Some(1), "{}", plan.all());
    let error_of = |summary: &str, address: &str| {
        plan.assert_mentions(&format!("Error: {summary} with {address},"));
    };
    // Unknown clusters are named as such, whichever data source meets them.
    for address in [
        "data.tidbcloud_private_link_connection.id_on_unknown_cluster",
        "data.tidbcloud_private_link_connection.name_on_unknown_cluster",
        "data.tidbcloud_private_link_connections.unknown_cluster",
        "data.tidbcloud_private_link_availability_zones.unknown_cluster",
    ] {
        error_of("Cluster not found", address);
    }
    plan.assert_mentions(&format!("There is no cluster \"{UNKNOWN_CLUSTER}\""));
    plan.assert_mentions(&format!("cluster_id = \"{UNKNOWN_CLUSTER}\""));
    // Unknown connections, with the attribute that selected them.
    error_of(
        "Private link connection not found",
        "data.tidbcloud_private_link_connection.unknown_id",
    );
    plan.assert_mentions(&format!(
        "Cluster {AWS_CLUSTER} has no private link connection \"plc-doesnotexist\""
    ));
    error_of(
        "Private link connection not found",
        "data.tidbcloud_private_link_connection.other_clusters_id",
    );
    plan.assert_mentions(&format!(
        "Cluster {ALI_CLUSTER} has no private link connection \"{}\"",
        dup[0]
    ));
    error_of(
        "Private link connection not found",
        "data.tidbcloud_private_link_connection.unknown_name",
    );
    plan.assert_mentions(&format!(
        "Cluster {AWS_CLUSTER} has no private link connection named \"nope\""
    ));
    // A shared name lists every match.
    error_of(
        "Several connections have this name",
        "data.tidbcloud_private_link_connection.ambiguous",
    );
    plan.assert_mentions(&format!(
        "has 2 connections named \"dup\": {}, {}",
        dup[0], dup[1]
    ));
    plan.assert_mentions("Select one with private_link_connection_id");
}

#[test]
fn arguments_are_checked_at_plan_time_with_their_path() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        r#"
data "tidbcloud_private_link_connection" "both" {{
  cluster_id                 = "{AWS_CLUSTER}"
  private_link_connection_id = "plc-both"
  display_name               = "kafka"
}}

data "tidbcloud_private_link_connection" "neither" {{
  cluster_id = "{AWS_CLUSTER}"
}}

data "tidbcloud_private_link_connection" "padded_name" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = " kafka"
}}

data "tidbcloud_private_link_connection" "empty_id" {{
  cluster_id                 = "{AWS_CLUSTER}"
  private_link_connection_id = ""
}}

data "tidbcloud_private_link_connections" "lowercase_state" {{
  cluster_id = "{AWS_CLUSTER}"
  state      = "active"
}}

data "tidbcloud_private_link_availability_zones" "bad_cluster" {{
  cluster_id = "not a cluster"
}}
"#
    ));
    let plan = tf.plan();
    assert_eq!(plan.code, Some(1), "{}", plan.all());
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let all = squash(&plan.all().replace(['│', '╷', '╵'], " "));
    let error_at = |summary: &str, address: &str, line: &str| {
        let (kind, name) = address
            .strip_prefix("data.")
            .and_then(|a| a.split_once('.'))
            .expect("data source address");
        let want = format!("Error: {summary} with {address}, on main.tf line");
        let at = all
            .find(&want)
            .unwrap_or_else(|| panic!("expected {want:?} in:\n{}", plan.all()));
        let block = &all[at..];
        let block = &block[..block[1..].find("Error:").map_or(block.len(), |e| e + 1)];
        assert!(
            block.contains(&format!("in data \"{kind}\" \"{name}\":")),
            "{block}"
        );
        assert!(
            block.contains(&squash(line)),
            "expected {line:?} in {block}"
        );
        block.to_string()
    };
    error_at(
        "Choose how to find the connection",
        "data.tidbcloud_private_link_connection.both",
        "private_link_connection_id = \"plc-both\"",
    );
    let neither = error_at(
        "Choose how to find the connection",
        "data.tidbcloud_private_link_connection.neither",
        "data \"tidbcloud_private_link_connection\" \"neither\" {",
    );
    assert!(neither.contains("Set exactly one of private_link_connection_id and display_name"));
    error_at(
        "Invalid display name",
        "data.tidbcloud_private_link_connection.padded_name",
        "display_name = \" kafka\"",
    );
    error_at(
        "Invalid private link connection ID",
        "data.tidbcloud_private_link_connection.empty_id",
        "private_link_connection_id = \"\"",
    );
    let state = error_at(
        "Invalid state",
        "data.tidbcloud_private_link_connections.lowercase_state",
        "state = \"active\"",
    );
    assert!(
        state.contains("CREATING, ACTIVE, FAILED, PENDING_ACCEPTANCE, DELETING"),
        "{state}"
    );
    error_at(
        "Invalid cluster ID",
        "data.tidbcloud_private_link_availability_zones.bad_cluster",
        "cluster_id = \"not a cluster\"",
    );
    assert_eq!(
        sim.stats()["requests_total"],
        0,
        "validation must not call the API"
    );
}

#[test]
fn lists_and_name_lookups_cover_every_page() {
    // More connections than one page of the client's (100) and far more than
    // the API's default page (10).
    let sim = Sim::start(&["--transition-delay-ms", "20"]);
    let names: Vec<String> = (0..120).map(|i| format!("bulk-{i:03}")).collect();
    let ids = create_via_api(&sim, AWS_CLUSTER, AWS_AUTO, &names);
    wait_until_settled(&sim);
    let failed: Vec<String> = [3, 57, 101, 118].iter().map(|&i| ids[i].clone()).collect();
    for id in &failed {
        sim.post(
            &format!("/_sim/private-link-connections/{id}/fail"),
            json!({"message": "endpoint service was deleted"}),
        );
    }
    sim.post("/_sim/stats/reset", json!({}));

    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        r#"
data "tidbcloud_private_link_connections" "all" {{
  cluster_id = "{AWS_CLUSTER}"
}}

data "tidbcloud_private_link_connections" "failed" {{
  cluster_id = "{AWS_CLUSTER}"
  state      = "FAILED"
}}

data "tidbcloud_private_link_connections" "pending" {{
  cluster_id = "{AWS_CLUSTER}"
  state      = "PENDING_ACCEPTANCE"
}}

data "tidbcloud_private_link_connection" "on_the_second_page" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "bulk-117"
}}
"#
    ));
    tf.apply();
    let state = tf.state();

    let all = values(&state, "data.tidbcloud_private_link_connections.all");
    let list = &all["private_link_connections"];
    assert_eq!(ids_of(list), ids, "every connection, oldest first");
    let unique: BTreeSet<String> = ids_of(list).into_iter().collect();
    assert_eq!(unique.len(), 120);
    let active = list
        .as_array()
        .expect("list")
        .iter()
        .filter(|c| c["state"] == "ACTIVE")
        .count();
    assert_eq!(active, 116);

    let only_failed = values(&state, "data.tidbcloud_private_link_connections.failed");
    let only_failed = &only_failed["private_link_connections"];
    assert_eq!(ids_of(only_failed), failed);
    for c in only_failed.as_array().expect("list") {
        assert_eq!(c["state"], "FAILED");
        assert_eq!(c["message"], "endpoint service was deleted");
    }
    let none = values(&state, "data.tidbcloud_private_link_connections.pending");
    assert_eq!(none["private_link_connections"], json!([]));

    let found = values(
        &state,
        "data.tidbcloud_private_link_connection.on_the_second_page",
    );
    assert_eq!(found["private_link_connection_id"], ids[117].as_str());
    assert_eq!(found["display_name"], "bulk-117");

    // The client asks for the largest page (100): 2 pages for the full list,
    // 1 per filtered list, 2 pages and a read for the name: 7 requests. With
    // the API's default page of 10 the full list alone would take 12.
    let requests = sim.stats()["requests_total"].as_u64().expect("stats");
    assert!(requests <= 10, "{requests} API requests for four reads");
}

// ---- examples ---------------------------------------------------------------

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn examples_are_formatted() {
    let out = Command::new(terraform_binary())
        .args(["fmt", "-check", "-recursive", "examples/"])
        .current_dir(repo())
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run terraform fmt");
    assert!(
        out.status.success(),
        "terraform fmt -check -recursive examples/ found unformatted files (run `terraform fmt -recursive examples/`):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `examples/<kind>/<type>/<file>` for every type of that kind.
fn example_files(kind: &str, file: &str) -> Vec<(String, PathBuf)> {
    let dir = repo().join("examples").join(kind);
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("entry").path())
        .filter(|p| p.join(file).is_file())
        .map(|p| {
            let name = p.file_name().expect("name").to_string_lossy().into_owned();
            (name, p.join(file))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn per_type_examples_exist_and_validate() {
    // Every resource, data source and function has a copyable example.
    let tf = Tf::new(None);
    tf.write("");
    let schema: Value = serde_json::from_str(&tf.ok(&["providers", "schema", "-json"]).stdout)
        .expect("schema JSON");
    let provider = &schema["provider_schemas"]["terraform.local/tidbcloud/tidbcloud"];
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    let resources = example_files("resources", "resource.tf");
    let data_sources = example_files("data-sources", "data-source.tf");
    let functions = example_files("functions", "function.tf");
    let names = |found: &[(String, PathBuf)]| -> Vec<String> {
        found.iter().map(|(n, _)| n.clone()).collect()
    };
    let mut want = keys(&provider["resource_schemas"]);
    want.sort();
    assert_eq!(
        names(&resources),
        want,
        "examples/resources/<type>/resource.tf"
    );
    let mut want = keys(&provider["data_source_schemas"]);
    want.sort();
    assert_eq!(
        names(&data_sources),
        want,
        "examples/data-sources/<type>/data-source.tf"
    );
    let mut want = keys(&provider["functions"]);
    want.sort();
    assert_eq!(
        names(&functions),
        want,
        "examples/functions/<name>/function.tf"
    );

    // Each is valid on its own with the provider's required_providers block
    // (the one thing a reader adds).
    for (_, path) in resources.iter().chain(&data_sources).chain(&functions) {
        let text = std::fs::read_to_string(path).expect("example");
        let tf = Tf::new(None);
        tf.write(&text);
        let run = tf.run(&["validate", "-no-color"]);
        assert!(
            run.success,
            "{} is not valid:\n{}",
            path.display(),
            run.all()
        );
    }
}
