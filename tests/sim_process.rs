//! The simulator as a process: first line, flags, signals, seed files.

mod support;

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use support::sim::{command, Sim};
use support::world::AWS_CLUSTER;

#[test]
fn first_line_names_the_real_address() {
    let sim = Sim::start(&[]);
    let rest = sim
        .first_line
        .strip_prefix("tidbcloud-sim listening on http://127.0.0.1:")
        .expect("first line format");
    let port: u16 = rest.parse().expect("a port number");
    assert_ne!(port, 0);
    // The socket accepts connections once the line is out.
    std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
}

#[test]
fn help_and_bad_flags() {
    let out = command(&["--help"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--listen",
        "--api-key",
        "--transition-delay-ms",
        "--rate-limit-rpm",
        "--rate-limit-window-s",
        "--seed",
        "--domain-states",
        "--transition-jitter",
        "--jitter-seed",
        "--version",
        "TIDBCLOUD_SIM_LOG",
    ] {
        assert!(text.contains(flag), "{flag} missing from --help");
    }
    let levels = text
        .split("TIDBCLOUD_SIM_LOG")
        .nth(1)
        .expect("the log variable");
    for level in ["error", "warn", "info", "debug", "trace", "off"] {
        assert!(
            levels.contains(level),
            "log level {level} missing from --help"
        );
    }
    let out = command(&["--bogus"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--bogus"));
    for bad in [
        &["--transition-delay-ms", "soon"][..],
        &["--transition-delay-ms"],
        &["--transition-jitter", "101"],
        &["--transition-jitter", "-5"],
        &["--transition-jitter", "some"],
        &["--jitter-seed", "x"],
        &["--rate-limit-window-s", "0"],
        &["--api-key", "nocolon"],
        &["stray"],
    ] {
        let out = command(bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(out.stdout.is_empty(), "{bad:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(bad[0]), "{bad:?}: {stderr}");
    }
}

#[test]
fn version_names_the_release_and_the_commit() {
    for flag in ["--version", "-V"] {
        let out = command(&[flag]).output().unwrap();
        assert!(out.status.success(), "{flag}");
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("tidbcloud-sim {}", env!("CARGO_PKG_VERSION")),
            "{flag}"
        );
        let commit = lines[1].strip_prefix("commit: ").expect("commit line");
        match std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
        {
            Ok(head) if head.status.success() => {
                assert_eq!(commit, String::from_utf8_lossy(&head.stdout).trim())
            }
            // Built from a source archive: no git to ask.
            _ => assert!(!commit.is_empty()),
        }
        assert_eq!(lines.len(), 2, "{text}");
    }
}

fn signal(sim: &Sim, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &sim.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn sigterm_and_sigint_exit_zero_promptly() {
    for name in ["TERM", "INT"] {
        let mut sim = Sim::start(&[]);
        signal(&sim, name);
        let status = sim.wait_exit(Duration::from_secs(3)).expect("exited");
        assert_eq!(status.code(), Some(0), "after SIG{name}");
    }
}

#[tokio::test]
async fn sigterm_with_an_open_event_stream() {
    let mut sim = Sim::start(&[]);
    let mut events = support::sim::http_client()
        .get(format!("{}/_sim/events", sim.url))
        .send()
        .await
        .unwrap();
    let first = events.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("subscribed"));
    signal(&sim, "TERM");
    let status = sim.wait_exit(Duration::from_secs(3)).expect("exited");
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn seed_replaces_the_default_world() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        r#"{{"clusters":[{{"cluster_id":"42","display_name":"seeded","cloud_provider":"aws",
            "region_id":"aws-eu-central-1","state":"ACTIVE","account_id":"111122223333",
            "az_ids":["euc1-az1","euc1-az2"]}}],
          "endpoint_services":[{{"name":"com.amazonaws.vpce.eu-central-1.vpce-svc-0123456789abcdef0",
            "cloud_provider":"aws","region":"eu-central-1","az_ids":["euc1-az2","euc1-az3"],
            "allowed_principals":["arn:aws:iam::111122223333:root"],"acceptance_required":false,
            "domain_name_template":"*.{{az_id}}.{{unique_name}}.{{region}}.aws.tidbcloud.com"}}]}}"#
    )
    .unwrap();
    let path = file.path().to_str().unwrap().to_string();
    let sim = Sim::start(&["--seed", &path]);
    let api = sim.api();
    api.get(&format!("/v1beta1/clusters/{AWS_CLUSTER}"))
        .await
        .expect_error(404, 5);
    let cluster = api.get("/v1beta1/clusters/42").await.ok();
    assert_eq!(cluster["displayName"], "seeded");
    assert_eq!(cluster["region"]["regionId"], "aws-eu-central-1");
    assert_eq!(cluster["region"]["name"], "regions/aws-eu-central-1");
    let body =
        support::world::aws_body("com.amazonaws.vpce.eu-central-1.vpce-svc-0123456789abcdef0");
    let created = api.create("42", "seeded-conn", body).await.ok();
    assert_eq!(created["awsEndpointService"]["region"], "eu-central-1");
    let id = created["privateLinkConnectionId"].as_str().unwrap();
    let active = api.wait_state("42", id, "ACTIVE").await;
    // Only the AZ both sides have.
    assert_eq!(
        active["awsEndpointService"]["availabilityZoneIds"],
        serde_json::json!(["euc1-az2"])
    );
    // The seed's domain-name template shapes the service's domains.
    let preview = api
        .post(
            &format!("{}:attachDomains", support::world::conn_path("42", id)),
            serde_json::json!({"attachDomain": {"type": "TIDBCLOUD_MANAGED", "uniqueName": "seeded"},
                "validateOnly": true}),
        )
        .await
        .ok();
    assert_eq!(
        preview["domains"][0]["name"],
        "*.euc1-az2.seeded.eu-central-1.aws.tidbcloud.com"
    );
}

#[test]
fn bad_seed_is_refused_at_start() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        r#"{{"clusters":[{{"cluster_id":"1","cloud_provider":"gcp","region_id":"gcp-x","account_id":"1","az_ids":["a"]}}]}}"#
    )
    .unwrap();
    let out = command(&["--seed", file.path().to_str().unwrap()])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cloud_provider"));
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(
        file,
        r#"{{"endpoint_services":[{{"name":"com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef",
            "cloud_provider":"aws","az_ids":["a"],"domain_name_template":"*.{{az_id}}.aws.tidbcloud.com"}}]}}"#
    )
    .unwrap();
    let out = command(&["--seed", file.path().to_str().unwrap()])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("domain_name_template"));
    let out = command(&["--domain-states", "ready"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--domain-states"));
    let out = command(&["--seed", "/nonexistent/seed.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn busy_port_is_an_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let out = command(&["--listen", &addr])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen"));
}
