//! The simulator's clock: `POST /_sim/clock/advance` moves it forward, and
//! everything time-dependent (state transitions, the times the API reports,
//! nonce expiry; rate-limit windows in `sim_limits`) follows it.

mod sim_support;

use reqwest::Method;
use serde_json::json;
use sim_support::*;

#[tokio::test]
async fn advancing_applies_the_transitions_due_by_then_at_once() {
    // Ten minutes of CREATING: far more than the test takes in real time.
    let sim = Sim::start(&["--transition-delay-ms", "600000"]);
    let api = sim.api();
    let auto = api.create_aws("auto", AWS_AUTO).await;
    let manual = api.create_aws("manual", AWS_MANUAL).await;
    let missing = api
        .create_aws(
            "missing",
            "com.amazonaws.vpce.us-west-2.vpce-svc-0aaaaaaaaaaaaaaaa",
        )
        .await;
    let created = api.get(&conn_path(AWS, &auto)).await.ok();

    let clock = sim.advance(300_000).await;
    assert_eq!(clock["offset_ms"], 300_000);
    assert_eq!(clock["transitions_applied"], 0);
    for id in [&auto, &manual, &missing] {
        assert_eq!(api.get(&conn_path(AWS, id)).await.ok()["state"], "CREATING");
    }

    let clock = sim.advance(300_000).await;
    assert_eq!(clock["offset_ms"], 600_000);
    assert_eq!(clock["transitions_applied"], 3);
    let active = api.get(&conn_path(AWS, &auto)).await.ok();
    assert_eq!(active["state"], "ACTIVE");
    assert_eq!(
        api.get(&conn_path(AWS, &manual)).await.ok()["state"],
        "PENDING_ACCEPTANCE"
    );
    assert_eq!(
        api.get(&conn_path(AWS, &missing)).await.ok()["state"],
        "FAILED"
    );
    // The API reports times on the same clock: ten minutes have passed.
    let secs = |v: &serde_json::Value| {
        humantime::parse_rfc3339(v.as_str().unwrap())
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    assert!(
        secs(&active["updateTime"]) >= secs(&created["createTime"]) + 600,
        "{created} then {active}"
    );
    let shown = sim.control(Method::GET, "/_sim/clock", None).await.ok();
    assert_eq!(shown["offset_ms"], 600_000);
    assert!(secs(&shown["now"]) >= secs(&created["createTime"]) + 600);
}

#[tokio::test]
async fn transitions_set_later_run_from_the_moved_clock() {
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let api = sim.api();
    sim.advance(3_600_000).await;
    let id = api.create_aws("later", AWS_AUTO).await;
    sim.advance(30_000).await;
    assert_eq!(
        api.get(&conn_path(AWS, &id)).await.ok()["state"],
        "CREATING"
    );
    sim.advance(30_000).await;
    assert_eq!(api.get(&conn_path(AWS, &id)).await.ok()["state"], "ACTIVE");
    // Deleting and the cluster's own DELETING follow it too.
    api.delete(&conn_path(AWS, &id)).await.ok();
    sim.advance(60_000).await;
    api.get(&conn_path(AWS, &id)).await.expect_error(404, 5);
    let cluster = format!("/v1beta1/clusters/{AWS}");
    assert_eq!(api.delete(&cluster).await.ok()["state"], "DELETING");
    sim.advance(60_000).await;
    api.get(&cluster).await.expect_error(404, 5);
}

#[tokio::test]
async fn nonces_expire_when_the_clock_passes_their_lifetime() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let cluster = format!("/v1beta1/clusters/{AWS}");
    api.get(&cluster).await.ok();
    sim.advance(4 * 60 * 1000).await;
    api.get(&cluster).await.ok();
    assert_eq!(*api.challenges.lock().unwrap(), 1, "the nonce still holds");
    sim.advance(60 * 1000).await;
    // Stale: the client answers the new challenge without asking for credentials.
    api.get(&cluster).await.ok();
    assert_eq!(
        *api.challenges.lock().unwrap(),
        2,
        "a new nonce after 5 minutes"
    );
    let stats = sim.control(Method::GET, "/_sim/stats", None).await.ok();
    assert_eq!(stats["responses_401"], 2);
    assert_eq!(stats["requests_total"], 3);
}

#[tokio::test]
async fn advance_takes_a_whole_number_of_milliseconds() {
    let sim = Sim::start(&[]);
    for bad in [
        json!({}),
        json!({"ms": -1}),
        json!({"ms": 1.5}),
        json!({"ms": "10"}),
        json!({"ms": 1, "seconds": 1}),
        json!({"ms": u64::MAX}),
    ] {
        sim.control(Method::POST, "/_sim/clock/advance", Some(bad.clone()))
            .await
            .expect_error(400, 3);
    }
    let clock = sim.control(Method::GET, "/_sim/clock", None).await.ok();
    assert_eq!(clock["offset_ms"], 0, "refused calls move nothing");
    assert_eq!(sim.advance(0).await["offset_ms"], 0);
}
