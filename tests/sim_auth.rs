//! Digest authentication: both algorithms, one challenge per nonce, replays,
//! stale nonces, wrong keys, extra keys and read-only keys.

mod sim_support;

use reqwest::Method;
use serde_json::json;
use sim_support::{challenges, Algorithm, Sim, AWS, AWS_AUTO};

const CLUSTER: &str = "/v1beta1/clusters/1000000000000000001";

#[tokio::test]
async fn a_request_without_credentials_gets_both_challenges() {
    let sim = Sim::start(&[]);
    let r = sim
        .api()
        .send_raw(Method::GET, CLUSTER, None, None)
        .await
        .unwrap();
    let message = r.expect_error(401, 16);
    assert!(message.contains("Digest"), "{message}");
    let offered = challenges(&r.headers);
    assert_eq!(offered.len(), 2);
    assert_eq!(offered[0]["algorithm"], "SHA-256");
    assert_eq!(offered[1]["algorithm"], "MD5");
    for c in &offered {
        assert_eq!(c["qop"], "auth");
        assert!(!c["nonce"].is_empty());
        assert!(!c.contains_key("stale"));
    }
}

#[tokio::test]
async fn md5_and_sha256_with_one_challenge_per_nonce() {
    let sim = Sim::start(&[]);
    for algorithm in [Algorithm::Md5, Algorithm::Sha256] {
        let api = sim.api_with("demo-public", "demo-private", algorithm);
        for _ in 0..5 {
            let cluster = api.get(CLUSTER).await.ok();
            assert_eq!(cluster["clusterId"], AWS);
        }
        assert_eq!(
            *api.challenges.lock().unwrap(),
            1,
            "{algorithm:?} reuses its nonce"
        );
    }
    let stats = sim.control(Method::GET, "/_sim/stats", None).await.ok();
    assert_eq!(stats["requests_total"], 10);
    assert_eq!(stats["responses_401"], 2);
}

#[tokio::test]
async fn a_replayed_nonce_count_is_refused_as_stale() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    api.get(CLUSTER).await.ok();
    let state = api.nonce.lock().unwrap().clone().unwrap();
    // Same nonce, same nc as the request that just succeeded.
    let replay = api.authorization(&state, "GET", CLUSTER);
    let r = api
        .send_raw(Method::GET, CLUSTER, None, Some(replay))
        .await
        .unwrap();
    r.expect_error(401, 16);
    assert_eq!(challenges(&r.headers)[0]["stale"], "true");
    // A lower count is refused too; a higher one is fine.
    let mut lower = state.clone();
    lower.nc = 0;
    let r = api
        .send_raw(
            Method::GET,
            CLUSTER,
            None,
            Some(api.authorization(&lower, "GET", CLUSTER)),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 401);
    let mut higher = state;
    higher.nc += 10;
    let r = api
        .send_raw(
            Method::GET,
            CLUSTER,
            None,
            Some(api.authorization(&higher, "GET", CLUSTER)),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn an_expired_nonce_is_answered_stale_and_the_client_recovers() {
    let sim = Sim::start(&[]);
    let api = sim.api();
    api.get(CLUSTER).await.ok();
    sim.control(Method::POST, "/_sim/auth/expire-nonces", None)
        .await
        .ok();
    let auth = api.next_authorization("GET", CLUSTER);
    let r = api
        .send_raw(Method::GET, CLUSTER, None, auth)
        .await
        .unwrap();
    r.expect_error(401, 16);
    let offered = challenges(&r.headers);
    assert_eq!(offered.len(), 2);
    assert!(offered.iter().all(|c| c["stale"] == "true"));
    // The client's own loop takes the new nonce and carries on.
    api.get(CLUSTER).await.ok();
    assert_eq!(*api.challenges.lock().unwrap(), 2);
}

#[tokio::test]
async fn wrong_keys_are_unauthenticated() {
    let sim = Sim::start(&[]);
    for (user, pass) in [("demo-public", "wrong"), ("nobody", "demo-private")] {
        let api = sim.api_with(user, pass, Algorithm::Sha256);
        let r = api.get(CLUSTER).await;
        let message = r.expect_error(401, 16);
        assert!(message.contains("API key"), "{message}");
        assert!(
            !message.contains("demo-private"),
            "the private key never appears"
        );
        assert!(challenges(&r.headers)
            .iter()
            .all(|c| !c.contains_key("stale")));
    }
    let stats = sim.control(Method::GET, "/_sim/stats", None).await.ok();
    assert_eq!(
        stats["requests_total"], 0,
        "refused requests are not counted"
    );
}

#[tokio::test]
async fn given_keys_replace_the_default_key() {
    let sim = Sim::start(&[
        "--api-key",
        "ci-public:ci-private",
        "--api-key",
        "other:secret",
    ]);
    sim.api().get(CLUSTER).await.expect_error(401, 16);
    for (user, pass) in [("ci-public", "ci-private"), ("other", "secret")] {
        sim.api_with(user, pass, Algorithm::Md5)
            .get(CLUSTER)
            .await
            .ok();
    }
}

#[tokio::test]
async fn a_read_only_key_may_read_but_not_change() {
    let sim = Sim::start(&[]);
    let key = json!({"public_key": "viewer", "private_key": "v-secret", "read_only": true});
    sim.control(Method::POST, "/_sim/api-keys", Some(key))
        .await
        .ok();
    let viewer = sim.api_with("viewer", "v-secret", Algorithm::Sha256);
    viewer.get(CLUSTER).await.ok();
    let r = viewer
        .create(AWS, "nope", sim_support::aws_body(AWS_AUTO))
        .await;
    let message = r.expect_error(403, 7);
    assert!(message.contains("read-only"), "{message}");
    let list = sim
        .api()
        .get(&format!("{CLUSTER}/privateLinkConnections"))
        .await
        .ok();
    assert_eq!(list["totalSize"], 0);
}

#[tokio::test]
async fn a_read_only_key_from_the_command_line_is_refused_every_change() {
    let sim = Sim::start(&[
        "--api-key",
        "viewer:v-secret:read-only",
        "--api-key",
        "owner:o-secret",
        "--transition-delay-ms",
        "60000",
    ]);
    let owner = sim.api_with("owner", "o-secret", Algorithm::Sha256);
    let id = owner.create_aws("owned", AWS_AUTO).await;
    sim.advance(60_000).await;
    let viewer = sim.api_with("viewer", "v-secret", Algorithm::Md5);
    // Reads work.
    viewer.get(CLUSTER).await.ok();
    viewer
        .get(&format!("{CLUSTER}/privateLinkConnections"))
        .await
        .ok();
    viewer
        .get(&format!(
            "{CLUSTER}/privateLinkConnections:getAvailabilityZones"
        ))
        .await
        .ok();
    assert_eq!(
        viewer.get(&sim_support::conn_path(AWS, &id)).await.ok()["state"],
        "ACTIVE"
    );
    // Every change is PERMISSION_DENIED, the dry run included.
    let attach = format!("{}:attachDomains", sim_support::conn_path(AWS, &id));
    let refused = [
        viewer
            .create(AWS, "nope", sim_support::aws_body(AWS_AUTO))
            .await,
        viewer
            .post(
                &attach,
                json!({"attachDomain": {"type": "TIDBCLOUD_MANAGED"}, "validateOnly": true}),
            )
            .await,
        viewer
            .post(
                &attach,
                json!({"attachDomain": {"type": "TIDBCLOUD_MANAGED", "uniqueName": "x"}}),
            )
            .await,
        viewer
            .post(
                &format!("{}:detachDomains", sim_support::conn_path(AWS, &id)),
                json!({"attachDomainId": "atd-x"}),
            )
            .await,
        viewer.delete(&sim_support::conn_path(AWS, &id)).await,
        viewer.delete(CLUSTER).await,
    ];
    for r in refused {
        let message = r.expect_error(403, 7);
        assert!(message.contains("read-only"), "{message}");
    }
    // Nothing changed; the default key was replaced by the given ones.
    let list = owner
        .get(&format!("{CLUSTER}/privateLinkConnections"))
        .await
        .ok();
    assert_eq!(list["totalSize"], 1);
    assert_eq!(list["privateLinkConnections"][0]["state"], "ACTIVE");
    sim.api().get(CLUSTER).await.expect_error(401, 16);
}
