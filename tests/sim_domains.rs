//! Attached domains: name patterns on both clouds and for Confluent, dry
//! runs, once per connection, unique names, lifecycle, drift helpers.

mod sim_support;

use reqwest::Method;
use serde_json::{json, Value};
use sim_support::*;

fn attach_path(cluster: &str, id: &str) -> String {
    format!("{}:attachDomains", conn_path(cluster, id))
}

fn detach_path(cluster: &str, id: &str) -> String {
    format!("{}:detachDomains", conn_path(cluster, id))
}

fn attach_body(kind: &str, unique: Option<&str>, validate_only: bool) -> Value {
    let mut domain = json!({ "type": kind });
    if let Some(u) = unique {
        domain["uniqueName"] = json!(u);
    }
    json!({ "attachDomain": domain, "validateOnly": validate_only })
}

fn names(attachment: &Value) -> Vec<String> {
    attachment["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn tidbcloud_managed_on_aws_one_wildcard_per_az() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let id = api.active_aws("kafka").await;
    let a = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", Some("kafka-a1"), false),
        )
        .await
        .ok();
    assert!(a["attachDomainId"].as_str().unwrap().starts_with("atd-"));
    assert_eq!(a["clusterId"], AWS);
    assert_eq!(a["privateLinkConnectionId"], id.as_str());
    assert_eq!(a["type"], "TIDBCLOUD_MANAGED");
    assert_eq!(a["uniqueName"], "kafka-a1");
    assert_eq!(a["createdBy"], "apikey-demo-public");
    assert!(a["createTime"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        names(&a),
        vec![
            "*.usw2-az1.kafka-a1.aws.plc.tidbcloud.com",
            "*.usw2-az2.kafka-a1.aws.plc.tidbcloud.com",
            "*.usw2-az3.kafka-a1.aws.plc.tidbcloud.com",
        ]
    );
    assert!(a["domains"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["state"] == "CREATING"));

    let conn = api.wait_domains(AWS, &id, "SUCCEEDED").await;
    let attached = &conn["attachedDomains"];
    assert_eq!(attached.as_array().unwrap().len(), 1);
    assert_eq!(attached[0]["attachDomainId"], a["attachDomainId"]);
    // Lists never carry attached domains.
    let list = api
        .get(&format!("/v1beta1/clusters/{AWS}/privateLinkConnections"))
        .await
        .ok();
    assert_eq!(
        list["privateLinkConnections"][0]["attachedDomains"],
        json!([])
    );
}

#[tokio::test]
async fn tidbcloud_managed_on_alicloud_has_no_az() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let created = api.create(ALI, "ali", ali_body(ALI_AUTO)).await.ok();
    let id = created["privateLinkConnectionId"].as_str().unwrap();
    api.wait_state(ALI, id, "ACTIVE").await;
    let a = api
        .post(
            &attach_path(ALI, id),
            attach_body("TIDBCLOUD_MANAGED", Some("ali-1"), false),
        )
        .await
        .ok();
    assert_eq!(names(&a), vec!["*.ali-1.alicloud.plc.tidbcloud.com"]);
    let message = api
        .post(
            &attach_path(ALI, id),
            attach_body("CONFLUENT", Some("lkc-1"), true),
        )
        .await
        .expect_error(400, 3);
    assert!(message.contains("AWS"), "{message}");
}

#[tokio::test]
async fn confluent_on_aws_needs_a_unique_name() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let id = api.active_aws("confluent").await;
    let message = api
        .post(
            &attach_path(AWS, &id),
            attach_body("CONFLUENT", None, false),
        )
        .await
        .expect_error(400, 3);
    assert!(message.contains("uniqueName"), "{message}");
    let a = api
        .post(
            &attach_path(AWS, &id),
            attach_body("CONFLUENT", Some("pr1jy6"), false),
        )
        .await
        .ok();
    assert_eq!(
        names(&a),
        vec![
            "*.usw2-az1.pr1jy6.us-west-2.aws.confluent.cloud",
            "*.usw2-az2.pr1jy6.us-west-2.aws.confluent.cloud",
            "*.usw2-az3.pr1jy6.us-west-2.aws.confluent.cloud",
        ]
    );
}

#[tokio::test]
async fn validate_only_previews_without_attaching() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let id = api.active_aws("dry-run").await;
    let first = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", None, true),
        )
        .await
        .ok();
    let second = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", Some(""), true),
        )
        .await
        .ok();
    let (u1, u2) = (
        first["uniqueName"].as_str().unwrap(),
        second["uniqueName"].as_str().unwrap(),
    );
    assert!(
        !u1.is_empty() && u1 != u2,
        "a fresh name on each call: {u1} {u2}"
    );
    assert_eq!(
        names(&first)[0],
        format!("*.usw2-az1.{u1}.aws.plc.tidbcloud.com")
    );
    // What a dry run does not create is written unpopulated.
    assert_eq!(first["attachDomainId"], "");
    assert_eq!(first["createdBy"], "");
    assert_eq!(first["createTime"], Value::Null);
    assert!(first["domains"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["state"] == "" && d["message"] == ""));
    // A given name is echoed and previewed.
    let named = api
        .post(
            &attach_path(AWS, &id),
            attach_body("CONFLUENT", Some("lkc-9"), true),
        )
        .await
        .ok();
    assert_eq!(named["uniqueName"], "lkc-9");
    // Nothing was attached.
    assert_eq!(
        api.get(&conn_path(AWS, &id)).await.ok()["attachedDomains"],
        json!([])
    );
    // A real attach needs the name.
    let message = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", None, false),
        )
        .await
        .expect_error(400, 3);
    assert!(message.contains("validateOnly"), "{message}");
    // The generated name can then be attached.
    let a = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", Some(u1), false),
        )
        .await
        .ok();
    assert_eq!(a["uniqueName"], u1);
}

#[tokio::test]
async fn rule_5_attached_once_and_unique_names() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let id = api.active_aws("once").await;
    let a = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", Some("shared"), false),
        )
        .await
        .ok();
    let attach_id = a["attachDomainId"].as_str().unwrap();
    let message = api
        .post(
            &attach_path(AWS, &id),
            attach_body("CONFLUENT", Some("other"), false),
        )
        .await
        .expect_error(409, 6);
    assert!(message.contains(attach_id), "{message}");

    // The same managed name on another connection is taken, even in a dry run.
    let other = api.active_aws("other").await;
    for validate_only in [true, false] {
        let message = api
            .post(
                &attach_path(AWS, &other),
                attach_body("TIDBCLOUD_MANAGED", Some("shared"), validate_only),
            )
            .await
            .expect_error(409, 6);
        assert!(message.contains("shared"), "{message}");
    }
    for bad in ["UPPER", "-lead", "trail-", "dots.no", &"x".repeat(64)] {
        api.post(
            &attach_path(AWS, &other),
            attach_body("TIDBCLOUD_MANAGED", Some(bad), true),
        )
        .await
        .expect_error(400, 3);
    }
    api.post(
        &attach_path(AWS, &other),
        attach_body("SELF_MANAGED", Some("x"), true),
    )
    .await
    .expect_error(400, 3);
    api.post(&attach_path(AWS, &other), json!({"validateOnly": true}))
        .await
        .expect_error(400, 3);
}

#[tokio::test]
async fn attach_needs_an_active_connection() {
    let sim = Sim::start(&["--transition-delay-ms", "300"]);
    let api = sim.api();
    let id = api.create_aws("creating", AWS_AUTO).await;
    let message = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", Some("early"), false),
        )
        .await
        .expect_error(400, 9);
    assert!(message.contains("CREATING"), "{message}");
    let pending = api.create_aws("pending", AWS_MANUAL).await;
    api.wait_state(AWS, &pending, "PENDING_ACCEPTANCE").await;
    let message = api
        .post(
            &attach_path(AWS, &pending),
            attach_body("TIDBCLOUD_MANAGED", Some("early"), false),
        )
        .await
        .expect_error(400, 9);
    assert!(message.contains("PENDING_ACCEPTANCE"), "{message}");
    // Its domains can already be previewed: the AZs are known.
    api.post(
        &attach_path(AWS, &pending),
        attach_body("TIDBCLOUD_MANAGED", Some("early"), true),
    )
    .await
    .ok();
    api.post(
        &attach_path(AWS, "plc-nothere"),
        attach_body("TIDBCLOUD_MANAGED", Some("x"), false),
    )
    .await
    .expect_error(404, 5);
}

#[tokio::test]
async fn rule_3_delete_blocked_until_detached() {
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let api = sim.api();
    let id = api.create_aws("attached", AWS_AUTO).await;
    sim.advance(60_000).await;
    let a = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", Some("blocker"), false),
        )
        .await
        .ok();
    let attach_id = a["attachDomainId"].as_str().unwrap().to_string();
    sim.advance(60_000).await;
    let message = api.delete(&conn_path(AWS, &id)).await.expect_error(400, 9);
    assert!(
        message.contains(&attach_id) && message.contains("detach"),
        "{message}"
    );

    api.post(&detach_path(AWS, &id), json!({}))
        .await
        .expect_error(400, 3);
    api.post(
        &detach_path(AWS, &id),
        json!({"attachDomainId": "atd-nothere"}),
    )
    .await
    .expect_error(404, 5);
    let detached = api
        .post(&detach_path(AWS, &id), json!({"attachDomainId": attach_id}))
        .await
        .ok();
    assert!(detached["domains"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["state"] == "DELETING"));
    // Detaching again while DELETING is harmless; deleting is still blocked.
    api.post(&detach_path(AWS, &id), json!({"attachDomainId": attach_id}))
        .await
        .ok();
    api.delete(&conn_path(AWS, &id)).await.expect_error(400, 9);
    sim.advance(30_000).await;
    let conn = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(
        conn["attachedDomains"][0]["attachDomainId"],
        attach_id.as_str()
    );
    assert_eq!(
        conn["attachedDomains"][0]["domains"][0]["state"],
        "DELETING"
    );
    sim.advance(30_000).await;
    assert_eq!(
        api.get(&conn_path(AWS, &id)).await.ok()["attachedDomains"],
        json!([])
    );
    // The name is free again, and the connection can go.
    api.post(
        &attach_path(AWS, &id),
        attach_body("TIDBCLOUD_MANAGED", Some("blocker"), true),
    )
    .await
    .ok();
    api.delete(&conn_path(AWS, &id)).await.ok();
    sim.advance(60_000).await;
    api.get(&conn_path(AWS, &id)).await.expect_error(404, 5);
}

#[tokio::test]
async fn out_of_band_detach_and_failed_domains() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let id = api.active_aws("drift").await;
    api.post(
        &attach_path(AWS, &id),
        attach_body("TIDBCLOUD_MANAGED", Some("drift"), false),
    )
    .await
    .ok();
    api.wait_domains(AWS, &id, "SUCCEEDED").await;
    let failed = sim
        .control(
            Method::POST,
            &format!("/_sim/private-link-connections/{id}/domains/fail"),
            Some(json!({"message": "DNS zone conflict"})),
        )
        .await
        .ok();
    assert!(failed["domains"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["state"] == "FAILED"));
    let conn = api.wait_domains(AWS, &id, "FAILED").await;
    assert_eq!(
        conn["attachedDomains"][0]["domains"][0]["message"],
        "DNS zone conflict"
    );

    sim.control(
        Method::DELETE,
        &format!("/_sim/private-link-connections/{id}/domains"),
        None,
    )
    .await
    .ok();
    assert_eq!(
        api.get(&conn_path(AWS, &id)).await.ok()["attachedDomains"],
        json!([])
    );
    sim.control(
        Method::DELETE,
        &format!("/_sim/private-link-connections/{id}/domains"),
        None,
    )
    .await
    .expect_error(404, 5);
    // Without domains the connection deletes normally.
    api.delete(&conn_path(AWS, &id)).await.ok();
}

/// The words every domain of a connection's attachment is in.
fn domain_states(conn: &Value) -> Vec<String> {
    conn["attachedDomains"][0]["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["state"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn domain_states_in_the_attached_vocabulary() {
    let sim = Sim::start(&[
        "--domain-states",
        "attached",
        "--transition-delay-ms",
        "60000",
    ]);
    let api = sim.api();
    let mut events = EventStream::open(&sim).await;
    let id = api.create_aws("words", AWS_AUTO).await;
    sim.advance(60_000).await;
    let a = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", Some("words"), false),
        )
        .await
        .ok();
    assert!(a["domains"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["state"] == "ATTACHING"));
    let conn = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(domain_states(&conn), ["ATTACHING"; 3]);
    sim.advance(60_000).await;
    let conn = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(domain_states(&conn), ["ATTACHED"; 3]);
    let attach_id = a["attachDomainId"].as_str().unwrap();
    let detached = api
        .post(
            &detach_path(AWS, &id),
            json!({ "attachDomainId": attach_id }),
        )
        .await
        .ok();
    assert_eq!(detached["domains"][0]["state"], "DETACHING");
    let conn = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(domain_states(&conn), ["DETACHING"; 3]);
    sim.control(
        Method::POST,
        &format!("/_sim/private-link-connections/{id}/domains/fail"),
        Some(json!({"message": "broken"})),
    )
    .await
    .ok();
    let conn = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(domain_states(&conn), ["FAILED"; 3]);
    // Events speak the same words.
    events
        .wait_for(|e| e["kind"] == "attach_domain" && e["state"] == "FAILED")
        .await;
    let words: Vec<&str> = events
        .seen
        .iter()
        .filter(|e| e["kind"] == "attach_domain")
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["ATTACHING", "ATTACHED", "DETACHING", "FAILED"]);
}

#[tokio::test]
async fn the_default_vocabulary_is_succeeded() {
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let api = sim.api();
    let id = api.create_aws("words", AWS_AUTO).await;
    sim.advance(60_000).await;
    let a = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", Some("words"), false),
        )
        .await
        .ok();
    assert_eq!(a["domains"][0]["state"], "CREATING");
    sim.advance(60_000).await;
    let conn = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(domain_states(&conn), ["SUCCEEDED"; 3]);
    let attach_id = a["attachDomainId"].as_str().unwrap();
    api.post(
        &detach_path(AWS, &id),
        json!({ "attachDomainId": attach_id }),
    )
    .await
    .ok();
    let conn = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(domain_states(&conn), ["DELETING"; 3]);
}

#[tokio::test]
async fn an_endpoint_service_gives_the_shape_of_its_domain_names() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let svc = "com.amazonaws.vpce.us-west-2.vpce-svc-0123456789abcdef0";
    let template = "*.{az_id}.{unique_name}.{region}.aws.tidbcloud.com";
    let service = json!({"name": svc, "cloud_provider": "aws", "az_ids": ["usw2-az1", "usw2-az3"],
        "allowed_principals": ["*"], "domain_name_template": template});
    let registered = sim
        .control(Method::POST, "/_sim/endpoint-services", Some(service))
        .await
        .ok();
    assert_eq!(registered["domain_name_template"], template);
    let id = api.create_aws("shaped", svc).await;
    api.wait_state(AWS, &id, "ACTIVE").await;
    let preview = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", Some("kafka"), true),
        )
        .await
        .ok();
    let expected = [
        "*.usw2-az1.kafka.us-west-2.aws.tidbcloud.com",
        "*.usw2-az3.kafka.us-west-2.aws.tidbcloud.com",
    ];
    assert_eq!(names(&preview), expected);
    let attached = api
        .post(
            &attach_path(AWS, &id),
            attach_body("TIDBCLOUD_MANAGED", Some("kafka"), false),
        )
        .await
        .ok();
    assert_eq!(names(&attached), expected);
    // Confluent names are Confluent's, whatever the service's template.
    let confluent = api
        .post(
            &attach_path(AWS, &id),
            attach_body("CONFLUENT", Some("lkc-1"), true),
        )
        .await
        .ok();
    assert_eq!(
        names(&confluent)[0],
        "*.usw2-az1.lkc-1.us-west-2.aws.confluent.cloud"
    );
    // Other services keep the default shape.
    let plain = api.active_aws("plain").await;
    let preview = api
        .post(
            &attach_path(AWS, &plain),
            attach_body("TIDBCLOUD_MANAGED", Some("other"), true),
        )
        .await
        .ok();
    assert_eq!(names(&preview)[0], "*.usw2-az1.other.aws.plc.tidbcloud.com");
    // A template must name the unique name and be a wildcard domain.
    for bad in [
        "*.{az_id}.aws.tidbcloud.com",
        "{unique_name}.tidbcloud.com",
        "*.{unique_name}.{zone}.com",
    ] {
        let service = json!({"name": svc, "cloud_provider": "aws", "az_ids": ["usw2-az1"],
            "domain_name_template": bad});
        let message = sim
            .control(Method::POST, "/_sim/endpoint-services", Some(service))
            .await
            .expect_error(400, 3);
        assert!(message.contains("domain_name_template"), "{bad}: {message}");
    }
}
