//! Lists and pages, the rate limit and injected faults.

mod support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use support::digest::*;
use support::sim::*;
use support::world::*;

fn list_path(query: &str) -> String {
    format!("/v1beta1/clusters/{AWS_CLUSTER}/privateLinkConnections{query}")
}

fn ids(page: &Value) -> Vec<String> {
    page["privateLinkConnections"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["privateLinkConnectionId"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn pages_in_creation_order() {
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let api = sim.api();
    let empty = api.get(&list_path("")).await.ok();
    assert_eq!(
        empty,
        json!({"privateLinkConnections": [], "nextPageToken": "", "totalSize": 0}),
        "unpopulated fields are written"
    );

    let mut created = Vec::new();
    for i in 0..23 {
        created.push(api.create_aws(&format!("c{i}"), AWS_AUTO).await);
    }
    // Default page size 10.
    let first = api.get(&list_path("")).await.ok();
    assert_eq!(first["totalSize"], json!(23));
    assert!(first["totalSize"].is_u64(), "totalSize is a JSON number");
    assert_eq!(ids(&first), created[..10]);
    let token = first["nextPageToken"].as_str().unwrap();
    let second = api
        .get(&list_path(&format!("?pageToken={token}")))
        .await
        .ok();
    assert_eq!(ids(&second), created[10..20]);
    let token = second["nextPageToken"].as_str().unwrap();
    let last = api
        .get(&list_path(&format!("?pageToken={token}&pageSize=10")))
        .await
        .ok();
    assert_eq!(ids(&last), created[20..]);
    assert_eq!(last["nextPageToken"], "", "an empty token on the last page");

    // Walking with pageSize 7 sees each connection once.
    let mut seen = Vec::new();
    let mut query = "?pageSize=7".to_string();
    loop {
        let page = api.get(&list_path(&query)).await.ok();
        seen.extend(ids(&page));
        match page["nextPageToken"].as_str() {
            Some("") => break,
            Some(t) => query = format!("?pageSize=7&pageToken={t}"),
            None => panic!("nextPageToken is always written: {page}"),
        }
    }
    assert_eq!(seen, created);

    // Larger sizes are clamped to 100; bad values are refused.
    assert_eq!(
        ids(&api.get(&list_path("?pageSize=1000")).await.ok()).len(),
        23
    );
    api.get(&list_path("?pageSize=-1"))
        .await
        .expect_error(400, 3);
    api.get(&list_path("?pageSize=many"))
        .await
        .expect_error(400, 3);
    api.get(&list_path("?pageToken=not-a-token"))
        .await
        .expect_error(400, 3);
}

#[tokio::test]
async fn a_deleted_item_does_not_shift_pages() {
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let api = sim.api();
    let mut created = Vec::new();
    for i in 0..6 {
        created.push(api.create_aws(&format!("c{i}"), AWS_AUTO).await);
    }
    let first = api.get(&list_path("?pageSize=3")).await.ok();
    sim.control(
        Method::DELETE,
        &format!("/_sim/private-link-connections/{}", created[0]),
        None,
    )
    .await
    .ok();
    let token = first["nextPageToken"].as_str().unwrap();
    let second = api
        .get(&list_path(&format!("?pageSize=3&pageToken={token}")))
        .await
        .ok();
    assert_eq!(ids(&second), created[3..]);
}

#[tokio::test]
async fn state_filter() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let active = api.active_aws("a").await;
    let pending = api.create_aws("p", AWS_MANUAL).await;
    api.wait_state(AWS_CLUSTER, &pending, "PENDING_ACCEPTANCE")
        .await;
    let failed = api
        .create_aws(
            "f",
            "com.amazonaws.vpce.us-west-2.vpce-svc-0aaaaaaaaaaaaaaaa",
        )
        .await;
    api.wait_state(AWS_CLUSTER, &failed, "FAILED").await;
    for (state, expected) in [
        ("ACTIVE", &active),
        ("PENDING_ACCEPTANCE", &pending),
        ("FAILED", &failed),
    ] {
        let page = api.get(&list_path(&format!("?state={state}"))).await.ok();
        assert_eq!(ids(&page), vec![expected.clone()], "{state}");
        assert_eq!(page["totalSize"], 1);
    }
    let none = api.get(&list_path("?state=CREATING")).await.ok();
    assert_eq!(
        none,
        json!({"privateLinkConnections": [], "nextPageToken": "", "totalSize": 0})
    );
    api.get(&list_path("?state=RUNNING"))
        .await
        .expect_error(400, 3);
    assert_eq!(api.get(&list_path("")).await.ok()["totalSize"], 3);
}

#[tokio::test]
async fn rate_limit_headers_and_429() {
    let sim = Sim::start(&["--rate-limit-rpm", "5", "--rate-limit-window-s", "60"]);
    let api = sim.api();
    let cluster = format!("/v1beta1/clusters/{AWS_CLUSTER}");
    // The challenge is not counted.
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let r = api.get(&cluster).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-ratelimit-limit-minute"), Some("5"));
        let reset: u64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
        assert!((1..=60).contains(&reset), "{reset}");
        remaining.push(
            r.header("x-ratelimit-remaining-minute")
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(remaining, ["4", "3", "2", "1", "0"]);
    let limited = api.get(&cluster).await;
    let message = limited.expect_error(429, 8);
    assert!(message.contains("rate limit"), "{message}");
    assert_eq!(limited.header("x-ratelimit-remaining-minute"), Some("0"));
    let reset: u64 = limited
        .header("x-ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&reset), "{reset}");
    // Answered 429, still counted.
    api.get(&cluster).await.expect_error(429, 8);
    let stats = sim.control(Method::GET, "/_sim/stats", None).await.ok();
    assert_eq!(stats["requests_total"], 7);
    assert_eq!(stats["responses_429"], 2);
    // Another key has its own window.
    let key = json!({"public_key": "second", "private_key": "s"});
    sim.control(Method::POST, "/_sim/api-keys", Some(key))
        .await
        .ok();
    sim.api_with("second", "s", Algorithm::Md5)
        .get(&cluster)
        .await
        .ok();

    // X-Ratelimit-Reset counts down on the simulator's clock.
    sim.advance(30_000).await;
    let r = api.get(&cluster).await;
    r.expect_error(429, 8);
    let later: u64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
    assert!(
        later <= reset - 30 + 1 && later >= 1,
        "{reset} then {later}"
    );
    // The window resets after the advertised seconds.
    sim.advance(later * 1000).await;
    let r = api.get(&cluster).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("x-ratelimit-remaining-minute"), Some("4"));
    assert_eq!(r.header("x-ratelimit-reset"), Some("60"));
}

#[tokio::test]
async fn control_calls_are_not_limited_or_counted() {
    let sim = Sim::start(&["--rate-limit-rpm", "1", "--rate-limit-window-s", "60"]);
    for _ in 0..5 {
        sim.control(Method::GET, "/_sim/stats", None).await.ok();
    }
    let stats = sim.control(Method::GET, "/_sim/stats", None).await.ok();
    assert_eq!(stats["requests_total"], 0);
    sim.api()
        .get(&format!("/v1beta1/clusters/{AWS_CLUSTER}"))
        .await
        .ok();
}

#[tokio::test]
async fn no_rate_limit_headers_when_off() {
    let sim = Sim::start(&[]);
    let r = sim
        .api()
        .get(&format!("/v1beta1/clusters/{AWS_CLUSTER}"))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("x-ratelimit-limit-minute").is_none());
}

#[tokio::test]
async fn error_rate_answers_503_without_processing() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    api.get(&format!("/v1beta1/clusters/{AWS_CLUSTER}"))
        .await
        .ok();
    sim.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"error_rate": 1.0})),
    )
    .await
    .ok();
    let r = api.create(AWS_CLUSTER, "never", aws_body(AWS_AUTO)).await;
    r.expect_error(503, 14);
    sim.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"error_rate": 0, "drop_rate": 0, "latency_ms": 0})),
    )
    .await
    .ok();
    assert_eq!(
        api.get(&list_path("")).await.ok()["totalSize"],
        0,
        "nothing was created"
    );
    let stats = sim.control(Method::GET, "/_sim/stats", None).await.ok();
    assert_eq!(stats["faults_errors"], 1);
    sim.control(Method::POST, "/_sim/faults", Some(json!({"error_rate": 2})))
        .await
        .expect_error(400, 3);
    sim.control(Method::POST, "/_sim/faults", Some(json!({"typo": 1})))
        .await
        .expect_error(400, 3);
}

#[tokio::test]
async fn drop_rate_processes_then_drops_the_connection() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    // Get a nonce first so the dropped request is the create itself.
    api.get(&format!("/v1beta1/clusters/{AWS_CLUSTER}"))
        .await
        .ok();
    sim.control(
        Method::POST,
        "/_sim/faults",
        Some(json!({"drop_rate": 1.0})),
    )
    .await
    .ok();
    let body = json!({"privateLinkConnection": {"displayName": "lost-answer", "type": "AWS_ENDPOINT_SERVICE",
        "awsEndpointService": {"name": AWS_AUTO}}});
    let result = api.try_call(Method::POST, &list_path(""), Some(body)).await;
    let err = result.expect_err("the connection is dropped without an answer");
    assert!(!err.is_status(), "{err:?}");
    sim.control(Method::POST, "/_sim/faults", Some(json!({})))
        .await
        .ok();
    let page = api.get(&list_path("")).await.ok();
    assert_eq!(page["totalSize"], 1, "processed exactly once: {page}");
    assert_eq!(
        page["privateLinkConnections"][0]["displayName"],
        "lost-answer"
    );
    let stats = sim.control(Method::GET, "/_sim/stats", None).await.ok();
    assert_eq!(stats["faults_drops"], 1);
}

#[tokio::test]
async fn latency_delays_every_api_response() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    api.get(&format!("/v1beta1/clusters/{AWS_CLUSTER}"))
        .await
        .ok();
    let faults = sim
        .control(
            Method::POST,
            "/_sim/faults",
            Some(json!({"latency_ms": 150})),
        )
        .await
        .ok();
    assert_eq!(faults["latency_ms"], 150);
    assert_eq!(
        sim.control(Method::GET, "/_sim/faults", None).await.ok()["latency_ms"],
        150
    );
    let start = Instant::now();
    api.get(&format!("/v1beta1/clusters/{AWS_CLUSTER}"))
        .await
        .ok();
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn page_tokens_belong_to_their_cluster_and_filter() {
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let api = sim.api();
    for i in 0..3 {
        api.create_aws(&format!("c{i}"), AWS_AUTO).await;
    }
    let all = api.get(&list_path("?pageSize=1")).await.ok();
    let token = all["nextPageToken"].as_str().unwrap().to_string();
    let creating = api.get(&list_path("?pageSize=1&state=CREATING")).await.ok();
    let creating_token = creating["nextPageToken"].as_str().unwrap().to_string();
    // Opaque: nothing in it reads as the position.
    for t in [&token, &creating_token] {
        let readable = hex::decode(t)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        assert!(!readable.contains("after"), "{t} reads as {readable:?}");
    }

    // Each token serves its own query, with any page size.
    assert_eq!(
        ids(&api
            .get(&list_path(&format!("?pageToken={token}&pageSize=5")))
            .await
            .ok())
        .len(),
        2
    );
    api.get(&list_path(&format!(
        "?state=CREATING&pageToken={creating_token}"
    )))
    .await
    .ok();

    // Another cluster or another filter is refused, naming the field.
    let elsewhere = |cluster: &str, query: String| {
        format!("/v1beta1/clusters/{cluster}/privateLinkConnections?{query}")
    };
    for path in [
        elsewhere(ALI_CLUSTER, format!("pageToken={token}")),
        elsewhere(PAUSED_CLUSTER, format!("page_token={token}")),
        list_path(&format!("?pageToken={token}&state=CREATING")),
        list_path(&format!("?pageToken={token}&state=ACTIVE")),
        list_path(&format!("?pageToken={creating_token}")),
        list_path(&format!("?pageToken={creating_token}&state=FAILED")),
    ] {
        let message = api.get(&path).await.expect_error(400, 3);
        assert!(message.contains("pageToken"), "{path}: {message}");
    }

    // Forged or altered tokens are refused too.
    let mut altered = token.clone().into_bytes();
    let last = altered.len() - 1;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    for forged in [hex::encode("after:1"), altered, "x".repeat(40)] {
        let message = api
            .get(&list_path(&format!("?pageToken={forged}")))
            .await
            .expect_error(400, 3);
        assert!(message.contains("pageToken"), "{forged}: {message}");
    }
}
