//! The API client against the real simulator binary (`tidbcloud-sim`, on a
//! free loopback port): every operation, every error class, the rate limit
//! and injected faults.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::sim::Sim;
use support::wait::eventually_async as eventually;
use support::world::{
    ALI_AUTO as ALI_SVC, ALI_CLUSTER, AWS_AUTO as AUTO_ACCEPT_SVC, AWS_CLUSTER,
    AWS_MANUAL as MANUAL_ACCEPT_SVC, PAUSED_CLUSTER, PRIVATE_KEY, PUBLIC_KEY,
};
use tidbcloud_provider::api::{
    AttachDomain, Client, ClientConfig, ClientOptions, ClusterState, ConnectionState, DomainState,
    DomainType, PrivateLinkConnection, RetryPolicy,
};

/// The provider's API client pointed at a simulator.
trait ClientFor {
    fn client(&self) -> Client;
    fn client_with(&self, public: &str, private: &str, options: ClientOptions) -> Client;
}

impl ClientFor for Sim {
    fn client(&self) -> Client {
        self.client_with(PUBLIC_KEY, PRIVATE_KEY, test_options())
    }

    fn client_with(&self, public: &str, private: &str, options: ClientOptions) -> Client {
        Client::with_options(
            ClientConfig {
                endpoint: self.url.clone(),
                public_key: public.into(),
                private_key: private.into(),
                user_agent_suffix: Some("api-client-test".into()),
            },
            options,
        )
        .expect("client")
    }
}

/// Quick retries so fault tests stay fast; rate limiting as in production.
fn test_options() -> ClientOptions {
    ClientOptions {
        retry: RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            max_elapsed: Duration::from_secs(20),
        },
        ..ClientOptions::default()
    }
}

fn stat(stats: &Value, name: &str) -> u64 {
    stats[name]
        .as_u64()
        .unwrap_or_else(|| panic!("/_sim/stats has no number {name}: {stats}"))
}

async fn wait_for_state(client: &Client, cluster: &str, id: &str, want: ConnectionState) {
    eventually(&format!("{id} to be {want}"), || async {
        let c = client
            .get_private_link_connection(cluster, id)
            .await
            .unwrap();
        (c.state.as_ref() == Some(&want)).then_some(())
    })
    .await
}

async fn wait_until_gone(client: &Client, cluster: &str, id: &str) {
    eventually(&format!("{id} to be deleted"), || async {
        match client.get_private_link_connection(cluster, id).await {
            Err(e) if e.is_not_found() => Some(()),
            Err(e) => panic!("unexpected error while waiting for deletion: {e}"),
            Ok(_) => None,
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_on_an_aws_cluster() {
    let sim = Sim::start(&[]);
    let client = sim.client();

    let cluster = client.get_cluster(AWS_CLUSTER).await.unwrap();
    assert_eq!(cluster.cluster_id, AWS_CLUSTER);
    assert_eq!(cluster.state, Some(ClusterState::Active));
    assert_eq!(cluster.cloud_provider(), Some("aws"));
    assert_eq!(cluster.region_id(), Some("us-west-2"));

    let zones = client.get_availability_zones(AWS_CLUSTER).await.unwrap();
    assert_eq!(zones.account_id, "123456789012");
    assert_eq!(zones.az_ids, ["usw2-az1", "usw2-az2", "usw2-az3"]);

    // Create: returns at once, still settling.
    let request = PrivateLinkConnection::aws(AWS_CLUSTER, "kafka-prod", AUTO_ACCEPT_SVC, None);
    let created = client
        .create_private_link_connection(AWS_CLUSTER, &request)
        .await
        .unwrap();
    let id = created.private_link_connection_id.clone();
    assert!(id.starts_with("plc-"), "{id}");
    assert_eq!(created.display_name, "kafka-prod");
    assert_eq!(created.endpoint_service_name(), Some(AUTO_ACCEPT_SVC));
    wait_for_state(&client, AWS_CLUSTER, &id, ConnectionState::Active).await;

    let got = client
        .get_private_link_connection(AWS_CLUSTER, &id)
        .await
        .unwrap();
    let aws = got.aws_endpoint_service.as_ref().unwrap();
    assert_eq!(
        aws.region.as_deref(),
        Some("us-west-2"),
        "defaults to the cluster's region"
    );
    assert!(got.endpoint_id().is_some());
    assert_eq!(got.availability_zone_ids().len(), 3);
    assert!(got.attached_domains.is_empty());

    // Lists, with and without a state filter.
    let all = client
        .list_private_link_connections(AWS_CLUSTER, None)
        .await
        .unwrap();
    assert!(all.iter().any(|c| c.private_link_connection_id == id));
    let active = client
        .list_private_link_connections(AWS_CLUSTER, Some(&ConnectionState::Active))
        .await
        .unwrap();
    assert!(active.iter().any(|c| c.private_link_connection_id == id));
    let pending = client
        .list_private_link_connections(AWS_CLUSTER, Some(&ConnectionState::PendingAcceptance))
        .await
        .unwrap();
    assert!(pending.iter().all(|c| c.private_link_connection_id != id));

    // A dry run previews the domains and a generated unique name.
    let managed = AttachDomain::new(DomainType::TidbcloudManaged, None);
    let preview = client
        .attach_domains(AWS_CLUSTER, &id, &managed, true)
        .await
        .unwrap();
    let unique = preview.unique_name.clone().expect("generated unique name");
    assert_eq!(preview.domains.len(), 3, "one wildcard per AZ: {preview:?}");
    for d in &preview.domains {
        assert!(
            d.name.starts_with("*.usw2-az")
                && d.name
                    .ends_with(&format!(".{unique}.aws.plc.tidbcloud.com")),
            "{}",
            d.name
        );
    }
    let got = client
        .get_private_link_connection(AWS_CLUSTER, &id)
        .await
        .unwrap();
    assert!(
        got.attached_domains.is_empty(),
        "a dry run attaches nothing"
    );

    // Attach for real, wait for the domains.
    let attached = client
        .attach_domains(
            AWS_CLUSTER,
            &id,
            &AttachDomain::new(DomainType::TidbcloudManaged, Some(unique.clone())),
            false,
        )
        .await
        .unwrap();
    let attach_id = attached.attach_domain_id.clone();
    assert!(!attach_id.is_empty());
    eventually("domains to succeed", || async {
        let c = client
            .get_private_link_connection(AWS_CLUSTER, &id)
            .await
            .unwrap();
        let a = c
            .attached_domains
            .iter()
            .find(|a| a.attach_domain_id == attach_id)?;
        (a.domains.len() == 3
            && a.domains
                .iter()
                .all(|d| d.state == Some(DomainState::Succeeded)))
        .then_some(())
    })
    .await;

    // Attached domains block deletion.
    let err = client
        .delete_private_link_connection(AWS_CLUSTER, &id)
        .await
        .unwrap_err();
    assert!(err.is_failed_precondition(), "{err:?}");
    assert_eq!(err.status(), Some(400));
    println!("delete with attached domains: {err}");

    // Detach, then delete.
    client
        .detach_domains(AWS_CLUSTER, &id, &attach_id)
        .await
        .unwrap();
    eventually("domains to be detached", || async {
        let c = client
            .get_private_link_connection(AWS_CLUSTER, &id)
            .await
            .unwrap();
        c.attached_domains.is_empty().then_some(())
    })
    .await;
    client
        .delete_private_link_connection(AWS_CLUSTER, &id)
        .await
        .unwrap();
    wait_until_gone(&client, AWS_CLUSTER, &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alicloud_connection_and_domains() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let cluster = client.get_cluster(ALI_CLUSTER).await.unwrap();
    assert_eq!(cluster.cloud_provider(), Some("alicloud"));
    assert_eq!(cluster.region_id(), Some("ap-southeast-1"));
    let zones = client.get_availability_zones(ALI_CLUSTER).await.unwrap();
    assert_eq!(zones.account_id, "5012345678901234");

    let created = client
        .create_private_link_connection(
            ALI_CLUSTER,
            &PrivateLinkConnection::alicloud("", "rds", ALI_SVC),
        )
        .await
        .unwrap();
    assert_eq!(created.cluster_id, ALI_CLUSTER, "filled in from the path");
    let id = created.private_link_connection_id;
    wait_for_state(&client, ALI_CLUSTER, &id, ConnectionState::Active).await;
    let got = client
        .get_private_link_connection(ALI_CLUSTER, &id)
        .await
        .unwrap();
    assert!(got.alicloud_endpoint_service.is_some());
    assert!(got.aws_endpoint_service.is_none());

    let preview = client
        .attach_domains(
            ALI_CLUSTER,
            &id,
            &AttachDomain::new(DomainType::TidbcloudManaged, Some("rdsmig".into())),
            true,
        )
        .await
        .unwrap();
    let names: Vec<&str> = preview.domains.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["*.rdsmig.alicloud.plc.tidbcloud.com"]);

    // Confluent domains exist on AWS only.
    let err = client
        .attach_domains(
            ALI_CLUSTER,
            &id,
            &AttachDomain::new(DomainType::Confluent, Some("lkc-1".into())),
            true,
        )
        .await
        .unwrap_err();
    assert!(
        err.is_invalid_argument() || err.is_failed_precondition(),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_acceptance_until_the_service_accepts() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let created = client
        .create_private_link_connection(
            AWS_CLUSTER,
            &PrivateLinkConnection::aws(AWS_CLUSTER, "needs-accept", MANUAL_ACCEPT_SVC, None),
        )
        .await
        .unwrap();
    let id = created.private_link_connection_id;
    wait_for_state(
        &client,
        AWS_CLUSTER,
        &id,
        ConnectionState::PendingAcceptance,
    )
    .await;
    let pending = client
        .list_private_link_connections(AWS_CLUSTER, Some(&ConnectionState::PendingAcceptance))
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    sim.control(
        reqwest::Method::POST,
        &format!("/_sim/endpoint-services/{MANUAL_ACCEPT_SVC}/accept"),
        None,
    )
    .await
    .ok();
    wait_for_state(&client, AWS_CLUSTER, &id, ConnectionState::Active).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_follow_every_page() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let total = 23;
    for i in 0..total {
        client
            .create_private_link_connection(
                AWS_CLUSTER,
                &PrivateLinkConnection::aws(AWS_CLUSTER, format!("c{i:02}"), AUTO_ACCEPT_SVC, None),
            )
            .await
            .unwrap();
    }
    let first = client
        .list_private_link_connections_page(AWS_CLUSTER, None, Some(10), None)
        .await
        .unwrap();
    assert_eq!(first.private_link_connections.len(), 10);
    assert_eq!(first.total_size, Some(total));
    let token = first.next_page_token.clone().expect("a next page");
    let second = client
        .list_private_link_connections_page(AWS_CLUSTER, None, Some(10), Some(&token))
        .await
        .unwrap();
    assert_eq!(second.private_link_connections.len(), 10);
    let third = client
        .list_private_link_connections_page(
            AWS_CLUSTER,
            None,
            Some(10),
            second.next_page_token.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(third.private_link_connections.len(), 3);
    assert_eq!(third.next_page_token, None, "last page");

    let mut ids: Vec<String> = [first, second, third]
        .into_iter()
        .flat_map(|p| p.private_link_connections)
        .map(|c| c.private_link_connection_id)
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total as usize, "pages neither overlap nor skip");

    let all = client
        .list_private_link_connections(AWS_CLUSTER, None)
        .await
        .unwrap();
    assert_eq!(all.len(), total as usize);
    assert!(
        all.iter().all(|c| c.attached_domains.is_empty()),
        "lists carry no domains"
    );

    // A cluster without connections: an empty list, whether or not the
    // body names the field.
    let none = client
        .list_private_link_connections(ALI_CLUSTER, None)
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_class_is_typed_and_explained() {
    let sim = Sim::start(&[]);
    let client = sim.client();

    // 404: unknown connection, unknown cluster.
    let err = client
        .get_private_link_connection(AWS_CLUSTER, "plc-doesnotexist")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.status(), Some(404));
    let err = client.get_cluster("999").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let err = client
        .list_private_link_connections("999", None)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let err = client
        .delete_private_link_connection(AWS_CLUSTER, "plc-doesnotexist")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    // 401: a wrong private key. The message says what to fix, never the key.
    let wrong_key = "wrong-private-key-4f9a";
    let bad = sim.client_with(PUBLIC_KEY, wrong_key, test_options());
    let err = bad.get_cluster(AWS_CLUSTER).await.unwrap_err();
    assert!(err.is_unauthenticated(), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("TIDBCLOUD_PUBLIC_KEY/TIDBCLOUD_PRIVATE_KEY"),
        "{text}"
    );
    assert!(!text.contains(wrong_key) && !format!("{err:?}").contains(wrong_key));
    assert!(!format!("{bad:?}").contains(wrong_key));
    println!("401: {text}");
    let unknown_user = sim.client_with("nobody", PRIVATE_KEY, test_options());
    assert!(unknown_user
        .get_cluster(AWS_CLUSTER)
        .await
        .unwrap_err()
        .is_unauthenticated());

    // 400 invalid argument: bad display names, a type that does not match
    // the cluster's cloud.
    for name in ["", " padded", &"x".repeat(65)] {
        let err = client
            .create_private_link_connection(
                AWS_CLUSTER,
                &PrivateLinkConnection::aws(AWS_CLUSTER, name, AUTO_ACCEPT_SVC, None),
            )
            .await
            .unwrap_err();
        assert!(err.is_invalid_argument(), "{name:?}: {err:?}");
        assert_eq!(err.status(), Some(400));
    }
    let err = client
        .create_private_link_connection(
            AWS_CLUSTER,
            &PrivateLinkConnection::alicloud(AWS_CLUSTER, "wrong-cloud", ALI_SVC),
        )
        .await
        .unwrap_err();
    assert!(err.is_invalid_argument(), "{err:?}");
    println!("type mismatch: {err}");

    // 400 failed precondition: a paused cluster.
    let paused = client.get_cluster(PAUSED_CLUSTER).await.unwrap();
    assert_eq!(paused.state, Some(ClusterState::Paused));
    let err = client
        .create_private_link_connection(
            PAUSED_CLUSTER,
            &PrivateLinkConnection::aws(PAUSED_CLUSTER, "on-paused", AUTO_ACCEPT_SVC, None),
        )
        .await
        .unwrap_err();
    assert!(err.is_failed_precondition(), "{err:?}");
    assert!(!err.is_ambiguous(), "a 400 is a definite no");
    println!("paused cluster: {err}");

    // A second attachment to one connection is refused.
    let created = client
        .create_private_link_connection(
            AWS_CLUSTER,
            &PrivateLinkConnection::aws(AWS_CLUSTER, "twice", AUTO_ACCEPT_SVC, None),
        )
        .await
        .unwrap();
    let id = created.private_link_connection_id;
    wait_for_state(&client, AWS_CLUSTER, &id, ConnectionState::Active).await;
    let domain = AttachDomain::new(DomainType::TidbcloudManaged, Some("first".into()));
    client
        .attach_domains(AWS_CLUSTER, &id, &domain, false)
        .await
        .unwrap();
    let again = AttachDomain::new(DomainType::TidbcloudManaged, Some("second".into()));
    let err = client
        .attach_domains(AWS_CLUSTER, &id, &again, false)
        .await
        .unwrap_err();
    assert!(
        err.is_already_exists() || err.is_failed_precondition(),
        "{err:?}"
    );
    println!("second attach: {err}");

    // Detaching an unknown attachment.
    let err = client
        .detach_domains(AWS_CLUSTER, &id, "ad-doesnotexist")
        .await
        .unwrap_err();
    assert!(err.is_not_found() || err.is_invalid_argument(), "{err:?}");

    // Transport: nothing listens.
    let closed = Client::with_options(
        ClientConfig {
            endpoint: "http://127.0.0.1:9".into(),
            public_key: PUBLIC_KEY.into(),
            private_key: PRIVATE_KEY.into(),
            user_agent_suffix: None,
        },
        test_options(),
    )
    .unwrap();
    let err = closed.get_cluster(AWS_CLUSTER).await.unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    println!("transport: {err}");
}

/// Sends `per_client` concurrent GETs through each client; returns how
/// many 429s reached the callers.
async fn burst(clients: &[Client], per_client: usize) -> usize {
    let mut tasks = Vec::new();
    for client in clients {
        for _ in 0..per_client {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                client.get_cluster(AWS_CLUSTER).await
            }));
        }
    }
    let mut seen_429 = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => {}
            Err(e) if e.is_rate_limited() => seen_429 += 1,
            Err(e) => panic!("unexpected error in the burst: {e}"),
        }
    }
    seen_429
}

async fn rate_limited_burst(clients: usize, per_client: usize) {
    let sim = Sim::start(&["--rate-limit-rpm", "20", "--rate-limit-window-s", "2"]);
    let clients: Vec<Client> = (0..clients).map(|_| sim.client()).collect();
    let before = sim.stats().await;
    let started = Instant::now();
    let seen_429 = burst(&clients, per_client).await;
    let elapsed = started.elapsed();
    let after = sim.stats().await;
    let received = stat(&after, "requests_total") - stat(&before, "requests_total");
    let server_429 = stat(&after, "responses_429") - stat(&before, "responses_429");
    let challenges = stat(&after, "responses_401") - stat(&before, "responses_401");
    println!(
        "burst with {} client(s): {} calls, {received} requests received by the server, \
         {server_429} answered 429 by the server, {seen_429} 429s seen by callers, \
         {challenges} Digest challenges, {elapsed:.1?}",
        clients.len(),
        clients.len() * per_client,
    );
    assert_eq!(seen_429, 0, "no 429 may reach a caller");
    assert_eq!(
        received - server_429,
        (clients.len() * per_client) as u64,
        "every call processed exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limit_burst_from_one_client_never_surfaces_a_429() {
    rate_limited_burst(1, 60).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rate_limit_burst_from_two_clients_sharing_a_key_never_surfaces_a_429() {
    rate_limited_burst(2, 30).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn digest_costs_one_round_trip_per_request_after_the_first() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let before = sim.stats().await;
    for _ in 0..20 {
        client.get_cluster(AWS_CLUSTER).await.unwrap();
    }
    let after = sim.stats().await;
    let challenges = stat(&after, "responses_401") - stat(&before, "responses_401");
    let requests = stat(&after, "requests_total") - stat(&before, "requests_total");
    assert_eq!(
        (challenges, requests),
        (1, 20),
        "one challenge, then one exchange each"
    );

    // Concurrent callers each use a nonce of their own, so the simulator's
    // replay check (nc must grow) never refuses one, and every nonce goes
    // back to the client's pool for later calls. A call is challenged only
    // when every nonce the client holds is in use by another call, so with
    // at most 30 calls in flight the client never holds more than 30
    // nonces: over any number of bursts of 30, at most 29 more challenges
    // than the one above, however many calls. (Without reuse, every call
    // of a burst after the first would be challenged again.)
    const BURST: usize = 30;
    for _ in 0..3 {
        let tasks: Vec<_> = (0..BURST)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.get_cluster(AWS_CLUSTER).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    }
    let end = sim.stats().await;
    let challenges = stat(&end, "responses_401") - stat(&after, "responses_401");
    let requests = stat(&end, "requests_total") - stat(&after, "requests_total");
    println!("3 bursts of {BURST} concurrent calls: {challenges} Digest challenges");
    assert_eq!(
        requests,
        3 * BURST as u64,
        "one authorised exchange per call"
    );
    assert!(
        challenges < BURST as u64,
        "{challenges} challenges for 3 bursts of {BURST}: nonces are not reused across bursts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gets_succeed_through_injected_server_errors() {
    let sim = Sim::start(&[]);
    let options = ClientOptions {
        retry: RetryPolicy {
            // 0.3^10: a spurious failure is a one-in-170000 event per call.
            max_attempts: 10,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            max_elapsed: Duration::from_secs(30),
        },
        ..ClientOptions::default()
    };
    let client = sim.client_with(PUBLIC_KEY, PRIVATE_KEY, options);
    client.get_cluster(AWS_CLUSTER).await.unwrap();
    sim.faults(json!({"error_rate": 0.3})).await;
    let before = stat(&sim.stats().await, "requests_total");
    let calls = 30;
    for _ in 0..calls {
        client.get_cluster(AWS_CLUSTER).await.unwrap();
        client
            .list_private_link_connections(AWS_CLUSTER, None)
            .await
            .unwrap();
    }
    let received = stat(&sim.stats().await, "requests_total") - before;
    println!(
        "error_rate 0.3: {} calls succeeded with {received} requests",
        calls * 2
    );
    assert!(received > (calls * 2) as u64, "some requests were retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_create_is_ambiguous_and_sent_once() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    // Warm up: learn the nonce, so the create is a single exchange.
    client.get_cluster(AWS_CLUSTER).await.unwrap();
    let before = stat(&sim.stats().await, "requests_total");
    sim.faults(json!({"drop_rate": 1.0})).await;
    let err = client
        .create_private_link_connection(
            AWS_CLUSTER,
            &PrivateLinkConnection::aws(AWS_CLUSTER, "dropped", AUTO_ACCEPT_SVC, None),
        )
        .await
        .unwrap_err();
    sim.faults(json!({"error_rate": 0.0, "drop_rate": 0.0, "latency_ms": 0}))
        .await;
    let after = stat(&sim.stats().await, "requests_total");
    assert!(err.is_ambiguous(), "{err:?}");
    // The server dropped the connection: not a proxy, DNS or TLS problem.
    assert!(err.is_connection_dropped(), "{err:?}");
    assert!(!err.is_unreachable(), "{err:?}");
    assert!(!err.to_string().contains("HTTPS_PROXY"), "{err}");
    println!("dropped create: {err}");
    assert_eq!(after - before, 1, "the create was sent exactly once");
    let found: Vec<_> = client
        .list_private_link_connections(AWS_CLUSTER, None)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.display_name == "dropped")
        .collect();
    assert_eq!(found.len(), 1, "the server processed it once: {found:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detach_answered_503_is_sent_again_until_it_succeeds() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let id = client
        .create_private_link_connection(
            AWS_CLUSTER,
            &PrivateLinkConnection::aws(AWS_CLUSTER, "detach-503", AUTO_ACCEPT_SVC, None),
        )
        .await
        .unwrap()
        .private_link_connection_id;
    wait_for_state(&client, AWS_CLUSTER, &id, ConnectionState::Active).await;
    let attached = client
        .attach_domains(
            AWS_CLUSTER,
            &id,
            &AttachDomain::new(DomainType::TidbcloudManaged, Some("d503".into())),
            false,
        )
        .await
        .unwrap();
    // Half the requests answer 503 without reaching the API.
    sim.faults(json!({"error_rate": 0.5})).await;
    let options = ClientOptions {
        retry: RetryPolicy {
            max_attempts: 20,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(5),
            max_elapsed: Duration::from_secs(30),
        },
        ..test_options()
    };
    let patient = sim.client_with(PUBLIC_KEY, PRIVATE_KEY, options);
    patient
        .detach_domains(AWS_CLUSTER, &id, &attached.attach_domain_id)
        .await
        .expect("the detach is retried through 503s");
    sim.faults(json!({"error_rate": 0.0})).await;
    // Sent again after it was done, it finds nothing: done as well.
    let again = client
        .detach_domains(AWS_CLUSTER, &id, &attached.attach_domain_id)
        .await;
    assert!(
        again.is_ok() || again.as_ref().is_err_and(|e| e.is_not_found()),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_answered_503_are_not_retried() {
    let sim = Sim::start(&[]);
    let client = sim.client();
    let existing = client
        .create_private_link_connection(
            AWS_CLUSTER,
            &PrivateLinkConnection::aws(AWS_CLUSTER, "existing", AUTO_ACCEPT_SVC, None),
        )
        .await
        .unwrap()
        .private_link_connection_id;
    wait_for_state(&client, AWS_CLUSTER, &existing, ConnectionState::Active).await;
    sim.faults(json!({"error_rate": 1.0})).await;

    // A create: ambiguous, sent once.
    let before = stat(&sim.stats().await, "requests_total");
    let err = client
        .create_private_link_connection(
            AWS_CLUSTER,
            &PrivateLinkConnection::aws(AWS_CLUSTER, "answered-503", AUTO_ACCEPT_SVC, None),
        )
        .await
        .unwrap_err();
    let after = stat(&sim.stats().await, "requests_total");
    assert!(err.is_ambiguous(), "{err:?}");
    assert_eq!(err.status(), Some(503));
    assert_eq!(after - before, 1, "create not retried");

    // Attach: the server error as is, sent once (its caller reconciles).
    let domain = AttachDomain::new(DomainType::TidbcloudManaged, Some("x503".into()));
    let err = client
        .attach_domains(AWS_CLUSTER, &existing, &domain, false)
        .await
        .unwrap_err();
    assert!(err.is_server_error(), "{err:?}");
    let after_attach = stat(&sim.stats().await, "requests_total");
    assert_eq!(after_attach - after, 1, "attach not retried");
    // Detach is idempotent: retried like a GET, up to max_attempts.
    let err = client
        .detach_domains(AWS_CLUSTER, &existing, "ad-x")
        .await
        .unwrap_err();
    assert!(err.is_server_error(), "{err:?}");
    let after_posts = stat(&sim.stats().await, "requests_total");
    assert_eq!(after_posts - after_attach, 5, "detach retried like a read");

    // GETs are retried, and give up after the policy's attempts.
    let err = client.get_cluster(AWS_CLUSTER).await.unwrap_err();
    assert!(err.is_server_error(), "{err:?}");
    let after_get = stat(&sim.stats().await, "requests_total");
    assert_eq!(after_get - after_posts, 5, "max_attempts GETs");
    sim.faults(json!({"error_rate": 0.0})).await;
}
