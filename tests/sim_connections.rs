//! Private link connections: every path, the state machine's outcomes, the
//! product's rules and the request checks.

mod sim_support;

use reqwest::Method;
use serde_json::{json, Value};
use sim_support::*;

#[tokio::test]
async fn cluster_get_and_availability_zones() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let c = api.get(&format!("/v1beta1/clusters/{AWS}")).await.ok();
    assert_eq!(c["clusterId"], AWS);
    assert_eq!(c["name"], format!("clusters/{AWS}"));
    assert_eq!(c["state"], "ACTIVE");
    assert_eq!(c["region"]["name"], "regions/aws-us-west-2");
    assert_eq!(c["region"]["regionId"], "aws-us-west-2");
    assert_eq!(c["region"]["cloudProvider"], "aws");
    assert!(c["region"]["displayName"]
        .as_str()
        .unwrap()
        .contains("us-west-2"));
    let c = api
        .get(&format!("/v1beta1/clusters/{ALI}?view=BASIC"))
        .await
        .ok();
    assert_eq!(c["region"]["cloudProvider"], "alicloud");
    assert_eq!(c["region"]["regionId"], "alicloud-ap-southeast-1");
    assert_eq!(
        api.get(&format!("/v1beta1/clusters/{PAUSED}")).await.ok()["state"],
        "PAUSED"
    );
    let message = api.get("/v1beta1/clusters/999").await.expect_error(404, 5);
    assert!(message.contains("999"), "{message}");

    let azs = api
        .get(&format!(
            "/v1beta1/clusters/{AWS}/privateLinkConnections:getAvailabilityZones"
        ))
        .await
        .ok();
    assert_eq!(
        azs,
        json!({"accountId": "123456789012", "azIds": ["usw2-az1", "usw2-az2", "usw2-az3"]})
    );
    let azs = api
        .get(&format!(
            "/v1beta1/clusters/{ALI}/privateLinkConnections:getAvailabilityZones"
        ))
        .await
        .ok();
    assert_eq!(
        azs,
        json!({"accountId": "5012345678901234", "azIds": ["ap-southeast-1a", "ap-southeast-1b"]})
    );
}

#[tokio::test]
async fn create_then_active_with_every_field() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let created = api.create(AWS, "kafka-prod", aws_body(AWS_AUTO)).await.ok();
    let id = created["privateLinkConnectionId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        id.starts_with("plc-") && id[4..].chars().all(|c| c.is_ascii_alphanumeric()),
        "{id}"
    );
    assert_eq!(created["state"], "CREATING");
    assert_eq!(created["clusterId"], AWS);
    assert_eq!(created["displayName"], "kafka-prod");
    assert_eq!(created["type"], "AWS_ENDPOINT_SERVICE");
    assert_eq!(created["createdBy"], "apikey-demo-public");
    assert_eq!(created["awsEndpointService"]["region"], "us-west-2");
    // Unpopulated fields are written, as grpc-gateway's marshaller does.
    assert_eq!(created["alicloudEndpointService"], Value::Null);
    assert!(created
        .as_object()
        .unwrap()
        .contains_key("alicloudEndpointService"));
    assert_eq!(created["message"], "");
    assert_eq!(created["attachedDomains"], json!([]));
    assert_eq!(created["awsEndpointService"]["endpointId"], "");
    assert_eq!(
        created["awsEndpointService"]["availabilityZoneIds"],
        json!([])
    );
    let t = created["createTime"].as_str().unwrap();
    assert!(t.ends_with('Z') && t.contains('T'), "{t}");

    let active = api.wait_state(AWS, &id, "ACTIVE").await;
    let svc = &active["awsEndpointService"];
    assert_eq!(svc["name"], AWS_AUTO);
    assert_eq!(
        svc["availabilityZoneIds"],
        json!(["usw2-az1", "usw2-az2", "usw2-az3"])
    );
    let endpoint = svc["endpointId"].as_str().unwrap();
    assert!(
        endpoint.starts_with("vpce-") && endpoint.len() == 22,
        "{endpoint}"
    );
    assert!(endpoint[5..].chars().all(|c| c.is_ascii_hexdigit()));
    assert!(active["updateTime"].as_str().unwrap() >= t);
    assert_eq!(active["message"], "");
    assert_eq!(active["attachedDomains"], json!([]));
}

#[tokio::test]
async fn alicloud_connection() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let created = api.create(ALI, "ali", ali_body(ALI_AUTO)).await.ok();
    assert_eq!(created["type"], "ALICLOUD_ENDPOINT_SERVICE");
    let id = created["privateLinkConnectionId"].as_str().unwrap();
    let active = api.wait_state(ALI, id, "ACTIVE").await;
    let svc = &active["alicloudEndpointService"];
    assert!(svc["endpointId"].as_str().unwrap().starts_with("ep-"));
    assert_eq!(
        svc["availabilityZoneIds"],
        json!(["ap-southeast-1a", "ap-southeast-1b"])
    );
    assert!(
        svc.get("region").is_none(),
        "AlicloudEndpointService has no region"
    );
    assert_eq!(active["awsEndpointService"], Value::Null);
    assert!(active
        .as_object()
        .unwrap()
        .contains_key("awsEndpointService"));
}

#[tokio::test]
async fn pending_acceptance_until_accepted() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let id = api.create_aws("needs-accept", AWS_MANUAL).await;
    let pending = api.wait_state(AWS, &id, "PENDING_ACCEPTANCE").await;
    assert!(pending["awsEndpointService"]["endpointId"]
        .as_str()
        .unwrap()
        .starts_with("vpce-"));
    // Nothing happens by itself, however long one waits.
    sim.advance(24 * 3600 * 1000).await;
    assert_eq!(
        api.get(&conn_path(AWS, &id)).await.ok()["state"],
        "PENDING_ACCEPTANCE"
    );
    let accepted = sim
        .control(
            Method::POST,
            &format!("/_sim/endpoint-services/{AWS_MANUAL}/accept"),
            None,
        )
        .await
        .ok();
    assert_eq!(accepted["accepted"], json!([id]));
    assert_eq!(api.get(&conn_path(AWS, &id)).await.ok()["state"], "ACTIVE");
    sim.control(
        Method::POST,
        "/_sim/endpoint-services/com.amazonaws.vpce.us-west-2.vpce-svc-0aaaaaaaaaaaaaaaa/accept",
        None,
    )
    .await
    .expect_error(404, 5);
}

#[tokio::test]
async fn failures_explain_themselves() {
    // CREATING lasts until the test moves the clock.
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let api = sim.api();
    let missing = "com.amazonaws.vpce.us-west-2.vpce-svc-0aaaaaaaaaaaaaaaa";
    let id = api.create_aws("missing", missing).await;
    sim.advance(60_000).await;
    let failed = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(failed["state"], "FAILED");
    let message = failed["message"].as_str().unwrap();
    assert!(
        message.contains(missing) && message.contains("not found"),
        "{message}"
    );

    let denied = "com.amazonaws.vpce.us-west-2.vpce-svc-0bbbbbbbbbbbbbbbb";
    let no_az = "com.amazonaws.vpce.us-west-2.vpce-svc-0cccccccccccccccc";
    for (name, azs, principal) in [
        (denied, vec!["usw2-az1"], "arn:aws:iam::999999999999:root"),
        (no_az, vec!["usw2-az9"], "arn:aws:iam::123456789012:root"),
    ] {
        let service = json!({"name": name, "cloud_provider": "aws", "region": "us-west-2",
            "az_ids": azs, "allowed_principals": [principal], "acceptance_required": false});
        sim.control(Method::POST, "/_sim/endpoint-services", Some(service))
            .await
            .ok();
    }
    let id = api.create_aws("denied", denied).await;
    sim.advance(60_000).await;
    let message = api.get(&conn_path(AWS, &id)).await.ok()["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("arn:aws:iam::123456789012:root"),
        "{message}"
    );
    let id = api.create_aws("no-az", no_az).await;
    sim.advance(60_000).await;
    let failed = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(failed["state"], "FAILED");
    let message = failed["message"].as_str().unwrap();
    assert!(message.contains("availability zone"), "{message}");
    assert_eq!(
        failed["awsEndpointService"]["availabilityZoneIds"],
        json!([])
    );
    assert_eq!(failed["awsEndpointService"]["endpointId"], "");

    // A service registered while the connection is CREATING counts.
    let late = "com.amazonaws.vpce.us-west-2.vpce-svc-0dddddddddddddddd";
    let id = api.create_aws("late", late).await;
    sim.advance(30_000).await;
    let service = json!({"name": late, "cloud_provider": "aws", "az_ids": ["usw2-az2"],
        "allowed_principals": ["*"]});
    sim.control(Method::POST, "/_sim/endpoint-services", Some(service))
        .await
        .ok();
    assert_eq!(
        api.get(&conn_path(AWS, &id)).await.ok()["state"],
        "CREATING"
    );
    sim.advance(30_000).await;
    let active = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(active["state"], "ACTIVE");
    assert_eq!(
        active["awsEndpointService"]["availabilityZoneIds"],
        json!(["usw2-az2"])
    );
}

#[tokio::test]
async fn fail_out_of_band() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let id = api.active_aws("to-break").await;
    let failed = sim
        .control(
            Method::POST,
            &format!("/_sim/private-link-connections/{id}/fail"),
            Some(json!({"message": "endpoint rejected by the service owner"})),
        )
        .await
        .ok();
    assert_eq!(failed["state"], "FAILED");
    let got = api.get(&conn_path(AWS, &id)).await.ok();
    assert_eq!(got["state"], "FAILED");
    assert_eq!(got["message"], "endpoint rejected by the service owner");
    // A failed connection can still be deleted.
    assert_eq!(
        api.delete(&conn_path(AWS, &id)).await.ok()["state"],
        "DELETING"
    );
    api.wait_gone(&conn_path(AWS, &id)).await;
}

#[tokio::test]
async fn delete_goes_through_deleting() {
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let api = sim.api();
    let id = api.create_aws("short-lived", AWS_AUTO).await;
    sim.advance(60_000).await;
    let deleting = api.delete(&conn_path(AWS, &id)).await.ok();
    assert_eq!(deleting["state"], "DELETING");
    // Deleting again while DELETING is harmless (safe to retry).
    assert_eq!(
        api.delete(&conn_path(AWS, &id)).await.ok()["state"],
        "DELETING"
    );
    sim.advance(30_000).await;
    assert_eq!(
        api.get(&conn_path(AWS, &id)).await.ok()["state"],
        "DELETING"
    );
    sim.advance(30_000).await;
    let message = api.delete(&conn_path(AWS, &id)).await.expect_error(404, 5);
    assert!(message.contains(&id));
}

#[tokio::test]
async fn rule_1_only_on_an_active_cluster() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let message = api
        .create(PAUSED, "x", aws_body(AWS_AUTO))
        .await
        .expect_error(400, 9);
    assert!(message.contains("PAUSED"), "{message}");
    sim.control(
        Method::POST,
        &format!("/_sim/clusters/{AWS}/state"),
        Some(json!({"state": "MAINTENANCE"})),
    )
    .await
    .ok();
    let message = api
        .create(AWS, "x", aws_body(AWS_AUTO))
        .await
        .expect_error(400, 9);
    assert!(message.contains("MAINTENANCE"), "{message}");
    sim.control(
        Method::POST,
        &format!("/_sim/clusters/{PAUSED}/state"),
        Some(json!({"state": "ACTIVE"})),
    )
    .await
    .ok();
    api.create(PAUSED, "x", aws_body(AWS_AUTO)).await.ok();
    sim.control(
        Method::POST,
        &format!("/_sim/clusters/{AWS}/state"),
        Some(json!({"state": "SLEEPY"})),
    )
    .await
    .expect_error(400, 3);
    api.create("404404", "x", aws_body(AWS_AUTO))
        .await
        .expect_error(404, 5);
}

#[tokio::test]
async fn rule_2_type_and_region_follow_the_cluster() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let message = api
        .create(ALI, "x", aws_body(AWS_AUTO))
        .await
        .expect_error(400, 3);
    assert!(message.contains("ALICLOUD_ENDPOINT_SERVICE"), "{message}");
    api.create(AWS, "x", ali_body(ALI_AUTO))
        .await
        .expect_error(400, 3);

    // The service's region must be the region in use.
    let east = "com.amazonaws.vpce.us-east-1.vpce-svc-01234567890abcdef";
    let message = api
        .create(AWS, "x", aws_body(east))
        .await
        .expect_error(400, 3);
    assert!(
        message.contains("us-east-1") && message.contains("us-west-2"),
        "{message}"
    );
    let mut body = aws_body(AWS_AUTO);
    body["awsEndpointService"]["region"] = json!("us-east-1");
    api.create(AWS, "x", body).await.expect_error(400, 3);
    // A cross-region service names its region explicitly.
    let mut body = aws_body(east);
    body["awsEndpointService"]["region"] = json!("us-east-1");
    let created = api.create(AWS, "cross", body).await.ok();
    assert_eq!(created["awsEndpointService"]["region"], "us-east-1");
    let ali_other = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-abc123";
    api.create(ALI, "x", ali_body(ali_other))
        .await
        .expect_error(400, 3);
}

#[tokio::test]
async fn rule_4_cluster_delete_refused_while_it_has_connections() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let id = api.active_aws("blocker").await;
    let cluster = format!("/v1beta1/clusters/{AWS}");
    let message = api.delete(&cluster).await.expect_error(400, 9);
    assert!(message.contains(&id), "{message}");
    api.delete(&conn_path(AWS, &id)).await.ok();
    api.wait_gone(&conn_path(AWS, &id)).await;
    assert_eq!(api.delete(&cluster).await.ok()["state"], "DELETING");
    api.wait_gone(&cluster).await;
    api.get(&format!("{cluster}/privateLinkConnections"))
        .await
        .expect_error(404, 5);
}

#[tokio::test]
async fn request_checks() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let path = format!("/v1beta1/clusters/{AWS}/privateLinkConnections");
    let bad: Vec<(Value, &str)> = vec![
        (json!({}), "privateLinkConnection"),
        (
            json!({"privateLinkConnection": {"type": "AWS_ENDPOINT_SERVICE", "awsEndpointService": {"name": AWS_AUTO}}}),
            "displayName",
        ),
        (
            json!({"privateLinkConnection": {"displayName": "", "type": "AWS_ENDPOINT_SERVICE", "awsEndpointService": {"name": AWS_AUTO}}}),
            "displayName",
        ),
        (
            json!({"privateLinkConnection": {"displayName": "a".repeat(65), "type": "AWS_ENDPOINT_SERVICE", "awsEndpointService": {"name": AWS_AUTO}}}),
            "64",
        ),
        (
            json!({"privateLinkConnection": {"displayName": "trailing ", "type": "AWS_ENDPOINT_SERVICE", "awsEndpointService": {"name": AWS_AUTO}}}),
            "whitespace",
        ),
        (
            json!({"privateLinkConnection": {"displayName": "a", "awsEndpointService": {"name": AWS_AUTO}}}),
            "type",
        ),
        (
            json!({"privateLinkConnection": {"displayName": "a", "type": "GCP_PSC", "awsEndpointService": {"name": AWS_AUTO}}}),
            "GCP_PSC",
        ),
        (
            json!({"privateLinkConnection": {"displayName": "a", "type": "AWS_ENDPOINT_SERVICE"}}),
            "exactly one",
        ),
        (
            json!({"privateLinkConnection": {"displayName": "a", "type": "AWS_ENDPOINT_SERVICE", "awsEndpointService": {"name": AWS_AUTO}, "alicloudEndpointService": {"name": ALI_AUTO}}}),
            "exactly one",
        ),
        (
            json!({"privateLinkConnection": {"displayName": "a", "type": "AWS_ENDPOINT_SERVICE", "awsEndpointService": {"name": "vpce-svc-123"}}}),
            "com.amazonaws.vpce",
        ),
        (
            json!({"privateLinkConnection": {"displayName": "a", "type": "AWS_ENDPOINT_SERVICE", "awsEndpointService": {"name": AWS_AUTO, "region": "Oregon"}}}),
            "region",
        ),
        (
            json!({"privateLinkConnection": {"clusterId": ALI, "displayName": "a", "type": "AWS_ENDPOINT_SERVICE", "awsEndpointService": {"name": AWS_AUTO}}}),
            "clusterId",
        ),
        (
            json!({"privateLinkConnection": {"displayName": 7}}),
            "not valid",
        ),
    ];
    for (body, needle) in bad {
        let message = api.post(&path, body.clone()).await.expect_error(400, 3);
        assert!(message.contains(needle), "{body}: {message}");
    }
    // Not JSON at all.
    let r = api.call(Method::POST, &path, None).await;
    r.expect_error(400, 3);
    // Nothing was created by any of them.
    assert_eq!(api.get(&path).await.ok()["totalSize"], 0);
    // Read-only fields and the matching clusterId are accepted and ignored.
    let body = json!({"privateLinkConnection": {"clusterId": AWS, "displayName": "ok", "state": "ACTIVE",
        "privateLinkConnectionId": "plc-mine", "type": "AWS_ENDPOINT_SERVICE",
        "awsEndpointService": {"name": AWS_AUTO, "endpointId": "vpce-x"}}});
    let created = api.post(&path, body).await.ok();
    assert_eq!(created["state"], "CREATING");
    assert_ne!(created["privateLinkConnectionId"], "plc-mine");
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let base = format!("/v1beta1/clusters/{AWS}/privateLinkConnections");
    api.get(&format!("{base}/plc-nothere"))
        .await
        .expect_error(404, 5);
    api.get(&format!(
        "/v1beta1/clusters/{ALI}/privateLinkConnections/plc-nothere"
    ))
    .await
    .expect_error(404, 5);
    api.get(&format!("{base}:nosuchverb"))
        .await
        .expect_error(404, 5);
    api.get("/v1beta1/projects").await.expect_error(404, 5);
    // A method not allowed on a path: UNIMPLEMENTED, HTTP 501 (grpc-gateway's default).
    api.call(Method::PUT, &base, None)
        .await
        .expect_error(501, 12);
    api.get(&format!("{base}/plc-x:attachDomains"))
        .await
        .expect_error(501, 12);
    api.call(Method::PATCH, &format!("/v1beta1/clusters/{AWS}"), None)
        .await
        .expect_error(501, 12);
    // A connection is only found under its own cluster.
    let id = api.create_aws("mine", AWS_AUTO).await;
    api.get(&conn_path(ALI, &id)).await.expect_error(404, 5);
    // Outside the API and the control surface: 404 without auth.
    let r = sim.control(Method::GET, "/elsewhere", None).await;
    r.expect_error(404, 5);
}

#[tokio::test]
async fn events_report_every_state_change() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let mut events = EventStream::open(&sim).await;
    let id = api.create_aws("watched", AWS_MANUAL).await;
    events
        .wait_for(|e| e["state"] == "PENDING_ACCEPTANCE")
        .await;
    let seen = &events.seen;
    let states: Vec<&str> = seen
        .iter()
        .filter(|e| e["id"] == id.as_str())
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["CREATING", "PENDING_ACCEPTANCE"]);
    assert_eq!(seen[0]["kind"], "private_link_connection");
    assert_eq!(seen[0]["cluster_id"], AWS);
}

#[tokio::test]
async fn states_advance_without_polling() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let mut events = EventStream::open(&sim).await;
    let id = api.create_aws("unwatched", AWS_AUTO).await;
    // Nobody asks the API about it; the change is announced all the same.
    events
        .wait_for(|e| e["id"] == id.as_str() && e["state"] == "ACTIVE")
        .await;
    let world = sim.control(Method::GET, "/_sim/world", None).await.ok();
    let conn = world["private_link_connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["privateLinkConnectionId"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(conn["state"], "ACTIVE");
    let stats = sim.control(Method::GET, "/_sim/stats", None).await.ok();
    assert_eq!(stats["requests_total"], 1, "only the create: {stats}");
}

#[tokio::test]
async fn out_of_band_delete_for_drift() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let id = api.active_aws("drifting").await;
    sim.control(
        Method::DELETE,
        &format!("/_sim/private-link-connections/{id}"),
        None,
    )
    .await
    .ok();
    api.get(&conn_path(AWS, &id)).await.expect_error(404, 5);
    sim.control(
        Method::DELETE,
        &format!("/_sim/private-link-connections/{id}"),
        None,
    )
    .await
    .expect_error(404, 5);
}

/// The console is a shell whose script reads everything through the API
/// (its behaviour is tested in a browser by `tests/console`): the page names
/// the clusters, and its assets come from the binary under a strict policy.
#[tokio::test]
async fn console_page_and_assets_are_served() {
    let sim = Sim::start(&[]);
    let page = http_client()
        .get(format!("{}/", sim.base))
        .send()
        .await
        .unwrap();
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains(AWS) && html.contains(ALI) && html.contains(PAUSED));
    assert!(html.contains("/console/console.js") && html.contains("/console/console.css"));
    for (path, kind) in [
        ("/console/console.js", "text/javascript"),
        ("/console/console.css", "text/css"),
    ] {
        let asset = http_client()
            .get(format!("{}{path}", sim.base))
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status(), 200, "{path}");
        assert!(asset.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(kind));
    }
}
