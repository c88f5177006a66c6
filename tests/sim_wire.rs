//! The wire format of the grpc-gateway service behind the swagger: every
//! field written, int64 as numbers, RFC 3339 times, trace ids, and requests
//! parsed as grpc-gateway parses them.

mod sim_support;

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{json, Value};
use sim_support::*;

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

fn is_rfc3339_utc(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|t| t.ends_with('Z') && humantime::parse_rfc3339(t).is_ok())
}

#[tokio::test]
async fn every_field_is_written() {
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let api = sim.api();
    let conn_fields = set(&[
        "privateLinkConnectionId",
        "clusterId",
        "displayName",
        "state",
        "message",
        "createdBy",
        "createTime",
        "updateTime",
        "type",
        "attachedDomains",
        "awsEndpointService",
        "alicloudEndpointService",
    ]);
    let aws = api.create(AWS, "a", aws_body(AWS_AUTO)).await.ok();
    assert_eq!(keys(&aws), conn_fields);
    assert_eq!(
        aws["awsEndpointService"],
        json!({"name": AWS_AUTO, "region": "us-west-2", "endpointId": "", "availabilityZoneIds": []})
    );
    assert_eq!(aws["alicloudEndpointService"], Value::Null);
    assert_eq!(aws["message"], "");
    assert_eq!(aws["attachedDomains"], json!([]));
    assert!(is_rfc3339_utc(&aws["createTime"]) && is_rfc3339_utc(&aws["updateTime"]));

    let ali = api.create(ALI, "b", ali_body(ALI_AUTO)).await.ok();
    assert_eq!(keys(&ali), conn_fields);
    assert_eq!(ali["awsEndpointService"], Value::Null);
    assert_eq!(
        ali["alicloudEndpointService"],
        json!({"name": ALI_AUTO, "endpointId": "", "availabilityZoneIds": []})
    );

    let page = api
        .get(&format!("/v1beta1/clusters/{AWS}/privateLinkConnections"))
        .await
        .ok();
    assert_eq!(
        keys(&page),
        set(&["privateLinkConnections", "nextPageToken", "totalSize"])
    );
    assert_eq!(page["nextPageToken"], "");
    assert!(
        page["totalSize"].is_u64(),
        "int64 stays a JSON number: {page}"
    );
    assert_eq!(keys(&page["privateLinkConnections"][0]), conn_fields);

    let cluster = api.get(&format!("/v1beta1/clusters/{AWS}")).await.ok();
    for (field, value) in [
        ("endpoints", Value::Null),
        ("spendingLimit", Value::Null),
        ("rootPassword", json!("")),
        ("annotations", json!({})),
    ] {
        assert_eq!(cluster[field], value, "{field}: {cluster}");
    }
    assert_eq!(cluster["region"]["provider"], Value::Null);
    assert!(is_rfc3339_utc(&cluster["createTime"]));
}

#[tokio::test]
async fn every_response_carries_a_trace_id() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let cluster = format!("/v1beta1/clusters/{AWS}");
    // A challenge is an error envelope too.
    let challenge = api
        .send_raw(Method::GET, &cluster, None, None)
        .await
        .unwrap();
    let message = challenge.expect_error(401, 16);
    assert!(message.contains("Digest"), "{message}");
    let ok = api.get(&cluster).await;
    let first = ok.trace_id().to_string();
    let second = api.get(&cluster).await.trace_id().to_string();
    assert_ne!(first, second, "one id per request");
    api.get("/v1beta1/clusters/404").await.expect_error(404, 5);
    // The control surface and the console too.
    sim.control(Method::GET, "/_sim/stats", None)
        .await
        .trace_id();
    sim.control(Method::POST, "/_sim/faults", Some(json!({"typo": 1})))
        .await
        .expect_error(400, 3);
    let page = http_client()
        .get(format!("{}/", sim.base))
        .send()
        .await
        .unwrap();
    assert!(page.headers().contains_key("x-debug-trace-id"));
}

#[tokio::test]
async fn unknown_body_fields_are_discarded() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let body = json!({
        "privateLinkConnection": {
            "displayName": "extra",
            "type": "AWS_ENDPOINT_SERVICE",
            "awsEndpointService": {"name": AWS_AUTO, "futureField": true},
            "labels": {"team": "data"},
        },
        "requestId": "abc",
    });
    let created = api
        .post(
            &format!("/v1beta1/clusters/{AWS}/privateLinkConnections"),
            body,
        )
        .await
        .ok();
    assert_eq!(created["displayName"], "extra");
    assert!(created.get("labels").is_none());
    let id = created["privateLinkConnectionId"].as_str().unwrap();
    api.wait_state(AWS, id, "ACTIVE").await;
    // Proto field names are read as well as JSON names; null is absent.
    let preview = api
        .post(
            &format!("{}:attachDomains", conn_path(AWS, id)),
            json!({"attach_domain": {"type": "TIDBCLOUD_MANAGED", "unique_name": null, "color": "red"},
                "validate_only": true}),
        )
        .await
        .ok();
    assert_eq!(preview["attachDomainId"], "", "a dry run attaches nothing");
    assert!(!preview["uniqueName"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn query_parameters_are_parsed_as_grpc_gateway_does() {
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let api = sim.api();
    let list = format!("/v1beta1/clusters/{AWS}/privateLinkConnections");
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(api.create_aws(&format!("c{i}"), AWS_AUTO).await);
    }
    // page_size and page_token as well as pageSize and pageToken.
    let first = api.get(&format!("{list}?page_size=2")).await.ok();
    assert_eq!(first["privateLinkConnections"].as_array().unwrap().len(), 2);
    let token = first["nextPageToken"].as_str().unwrap();
    assert!(!token.is_empty());
    let rest = api.get(&format!("{list}?page_token={token}")).await.ok();
    assert_eq!(
        rest["privateLinkConnections"][0]["privateLinkConnectionId"],
        ids[2].as_str()
    );
    assert_eq!(rest["nextPageToken"], "");
    // A parameter that names no field is ignored.
    api.get(&format!("{list}?orderBy=name&pageSize=1"))
        .await
        .ok();

    // A field that is not repeated takes one value, whatever its spelling.
    for (query, name) in [
        ("pageSize=1&pageSize=2", "pageSize"),
        ("pageSize=1&page_size=2", "pageSize"),
        ("state=ACTIVE&state=FAILED", "state"),
        ("pageToken=a&pageToken=b", "pageToken"),
    ] {
        let message = api
            .get(&format!("{list}?{query}"))
            .await
            .expect_error(400, 3);
        assert!(
            message.contains("too many values") && message.contains(name),
            "{query}: {message}"
        );
    }
    let message = api
        .get(&format!("/v1beta1/clusters/{AWS}?view=FULL&view=BASIC"))
        .await
        .expect_error(400, 3);
    assert!(
        message.contains("too many values") && message.contains("view"),
        "{message}"
    );

    // An invalid enum is refused, naming the parameter.
    let message = api
        .get(&format!("{list}?state=RUNNING"))
        .await
        .expect_error(400, 3);
    assert!(
        message.contains("state") && message.contains("RUNNING"),
        "{message}"
    );
    let message = api
        .get(&format!("/v1beta1/clusters/{AWS}?view=EVERYTHING"))
        .await
        .expect_error(400, 3);
    assert!(
        message.contains("view") && message.contains("EVERYTHING"),
        "{message}"
    );
    // pageSize is an int32.
    let message = api
        .get(&format!("{list}?page_size=4294967296"))
        .await
        .expect_error(400, 3);
    assert!(message.contains("pageSize"), "{message}");
}
