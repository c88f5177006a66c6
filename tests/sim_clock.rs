//! The simulator's clock: `POST /_sim/clock/advance` moves it forward, and
//! everything time-dependent (state transitions, the times the API reports,
//! nonce expiry; rate-limit windows in `sim_limits`) follows it.

mod support;

use reqwest::Method;
use serde_json::json;
use support::sim::*;
use support::world::*;

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
    let created = api.get(&conn_path(AWS_CLUSTER, &auto)).await.ok();

    let clock = sim.advance(300_000).await;
    assert_eq!(clock["offset_ms"], 300_000);
    assert_eq!(clock["transitions_applied"], 0);
    for id in [&auto, &manual, &missing] {
        assert_eq!(
            api.get(&conn_path(AWS_CLUSTER, id)).await.ok()["state"],
            "CREATING"
        );
    }

    let clock = sim.advance(300_000).await;
    assert_eq!(clock["offset_ms"], 600_000);
    assert_eq!(clock["transitions_applied"], 3);
    let active = api.get(&conn_path(AWS_CLUSTER, &auto)).await.ok();
    assert_eq!(active["state"], "ACTIVE");
    assert_eq!(
        api.get(&conn_path(AWS_CLUSTER, &manual)).await.ok()["state"],
        "PENDING_ACCEPTANCE"
    );
    assert_eq!(
        api.get(&conn_path(AWS_CLUSTER, &missing)).await.ok()["state"],
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
        api.get(&conn_path(AWS_CLUSTER, &id)).await.ok()["state"],
        "CREATING"
    );
    sim.advance(30_000).await;
    assert_eq!(
        api.get(&conn_path(AWS_CLUSTER, &id)).await.ok()["state"],
        "ACTIVE"
    );
    // Deleting and the cluster's own DELETING follow it too.
    api.delete(&conn_path(AWS_CLUSTER, &id)).await.ok();
    sim.advance(60_000).await;
    api.get(&conn_path(AWS_CLUSTER, &id))
        .await
        .expect_error(404, 5);
    let cluster = format!("/v1beta1/clusters/{AWS_CLUSTER}");
    assert_eq!(api.delete(&cluster).await.ok()["state"], "DELETING");
    sim.advance(60_000).await;
    api.get(&cluster).await.expect_error(404, 5);
}

#[tokio::test]
async fn nonces_expire_when_the_clock_passes_their_lifetime() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    let cluster = format!("/v1beta1/clusters/{AWS_CLUSTER}");
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

/// Creates `n` AWS connections in order and returns, for each, its id and
/// how long its CREATING lasts (the `lasts_ms` of its CREATING event).
async fn creating_durations(sim: &Sim, n: usize) -> Vec<(String, u64)> {
    let mut events = EventStream::open(sim).await;
    let api = sim.api();
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(api.create_aws(&format!("j{i}"), AWS_AUTO).await);
    }
    let mut durations = Vec::new();
    for id in ids {
        let event = events
            .wait_for(|e| e["id"] == id.as_str() && e["state"] == "CREATING")
            .await;
        let lasts = event["lasts_ms"]
            .as_u64()
            .unwrap_or_else(|| panic!("a transitional state says how long it lasts: {event}"));
        durations.push((id, lasts));
    }
    durations
}

fn only_durations(d: &[(String, u64)]) -> Vec<u64> {
    d.iter().map(|(_, ms)| *ms).collect()
}

#[tokio::test]
async fn jittered_transitions_land_within_their_bounds() {
    // 10000 s ± 50%: every CREATING lasts between 5000 and 15000 s.
    let sim = Sim::start(&[
        "--transition-delay-ms",
        "10000000",
        "--transition-jitter",
        "50",
        "--jitter-seed",
        "7",
    ]);
    let api = sim.api();
    let mut durations = creating_durations(&sim, 8).await;
    for (id, ms) in &durations {
        assert!((5_000_000..=15_000_000).contains(ms), "{id}: {ms} ms");
    }
    let mut distinct = only_durations(&durations);
    distinct.dedup();
    assert!(distinct.len() > 1, "each transition draws its own factor");

    // Each lands when its event said, on the simulator's clock. (A minute
    // before, it is still CREATING: real time that passes meanwhile counts
    // too, but it is far less than a minute.)
    durations.sort_by_key(|(_, ms)| *ms);
    let mut offset = 0;
    for (id, ms) in &durations {
        if ms - 60_000 > offset {
            sim.advance(ms - 60_000 - offset).await;
            offset = ms - 60_000;
            assert_eq!(
                api.get(&conn_path(AWS_CLUSTER, id)).await.ok()["state"],
                "CREATING",
                "{id} a minute before its {ms} ms"
            );
        }
        if *ms > offset {
            sim.advance(ms - offset).await;
            offset = *ms;
        }
        assert_eq!(
            api.get(&conn_path(AWS_CLUSTER, id)).await.ok()["state"],
            "ACTIVE",
            "{id} after its {ms} ms"
        );
    }

    // Deleting draws too, within the same bounds.
    let mut events = EventStream::open(&sim).await;
    let (id, _) = &durations[0];
    api.delete(&conn_path(AWS_CLUSTER, id)).await.ok();
    let deleting = events
        .wait_for(|e| e["id"] == id.as_str() && e["state"] == "DELETING")
        .await;
    let ms = deleting["lasts_ms"].as_u64().expect("lasts_ms");
    assert!((5_000_000..=15_000_000).contains(&ms), "DELETING {ms} ms");

    // Without jitter every transition lasts the delay exactly.
    let plain = Sim::start(&["--transition-delay-ms", "1000000"]);
    assert_eq!(
        only_durations(&creating_durations(&plain, 3).await),
        vec![1_000_000; 3]
    );
}

#[tokio::test]
async fn the_same_jitter_seed_gives_the_same_durations() {
    let flags = |seed: &'static str| {
        [
            "--transition-delay-ms",
            "600000",
            "--transition-jitter",
            "30",
            "--jitter-seed",
            seed,
        ]
    };
    let first = only_durations(&creating_durations(&Sim::start(&flags("42")), 6).await);
    let again = only_durations(&creating_durations(&Sim::start(&flags("42")), 6).await);
    let other = only_durations(&creating_durations(&Sim::start(&flags("43")), 6).await);
    assert_eq!(first, again);
    assert_ne!(first, other);

    // Without --jitter-seed the simulator picks one and says which on stderr.
    let unseeded = Sim::start(&[
        "--transition-delay-ms",
        "600000",
        "--transition-jitter",
        "30",
    ]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let seed = loop {
        let stderr = unseeded.stderr();
        if let Some(rest) = stderr.split("--jitter-seed ").nth(1) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() && rest.len() > digits.len() {
                break digits;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no --jitter-seed on stderr: {stderr}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    let picked = only_durations(&creating_durations(&unseeded, 6).await);
    let repeated = Sim::start(&[
        "--transition-delay-ms",
        "600000",
        "--transition-jitter",
        "30",
        "--jitter-seed",
        &seed,
    ]);
    assert_eq!(
        only_durations(&creating_durations(&repeated, 6).await),
        picked
    );
}

/// Seconds since the epoch of an HTTP `Date` header.
fn date_secs(r: &Resp) -> u64 {
    let date = r.header("date").unwrap_or_else(|| panic!("no Date: {r:?}"));
    httpdate::parse_http_date(date)
        .unwrap_or_else(|e| panic!("Date {date:?}: {e}"))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn the_date_header_follows_the_clock() {
    let sim = Sim::start(&["--transition-delay-ms", "600000"]);
    let api = sim.api();
    let cluster = format!("/v1beta1/clusters/{AWS_CLUSTER}");
    let before = date_secs(&api.get(&cluster).await);

    let advanced = sim
        .control(
            Method::POST,
            "/_sim/clock/advance",
            Some(json!({"ms": 3_600_000})),
        )
        .await;
    assert!(date_secs(&advanced) >= before + 3600, "{advanced:?}");
    let created = api.create(AWS_CLUSTER, "dated", aws_body(AWS_AUTO)).await;
    let date = date_secs(&created);
    assert!(date >= before + 3600, "{created:?}");
    // The Date header and createTime read the same clock: they agree to
    // the second (the Date is stamped just after the connection is made).
    let create_time = humantime::parse_rfc3339(created.body["createTime"].as_str().unwrap())
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        (create_time..=create_time + 1).contains(&date),
        "Date {date} vs createTime {create_time}"
    );
    // Every response: errors, 401 challenges, the control surface, the console.
    let unauthenticated = support::sim::http_client()
        .get(format!("{}{cluster}", sim.url))
        .send()
        .await
        .unwrap();
    let unauthenticated = Resp::read(unauthenticated).await.unwrap();
    assert_eq!(unauthenticated.status, 401);
    assert!(date_secs(&unauthenticated) >= before + 3600);
    let missing = api.get(&conn_path(AWS_CLUSTER, "plc-missing")).await;
    assert_eq!(missing.status, 404);
    assert!(date_secs(&missing) >= before + 3600);
    let stats = sim.control(Method::GET, "/_sim/stats", None).await;
    assert!(date_secs(&stats) >= before + 3600);
    let console = sim.control(Method::GET, "/", None).await;
    assert!(date_secs(&console) >= before + 3600);
}
