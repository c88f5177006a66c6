//! Waiting spends the shared rate limit budget sparingly: every wait goes
//! through one watcher per cluster (one listing per tick for connections,
//! one GET per connection per tick for domains), polls keep headroom for
//! mutations, and no 429 reaches the user. Requests are counted with
//! `/_sim/stats`, never timed.

use std::os::unix::process::CommandExt;

use serde_json::{json, Value};

use crate::harness::*;

const N: u64 = 20;

fn route(stats: &Value, template: &str) -> u64 {
    stats["requests_by_route"][template].as_u64().unwrap_or(0)
}

const LIST: &str = "GET /v1beta1/clusters/{clusterId}/privateLinkConnections";
const GET: &str =
    "GET /v1beta1/clusters/{clusterId}/privateLinkConnections/{privateLinkConnectionId}";
const CREATE: &str = "POST /v1beta1/clusters/{clusterId}/privateLinkConnections";
const DELETE: &str =
    "DELETE /v1beta1/clusters/{clusterId}/privateLinkConnections/{privateLinkConnectionId}";
const ATTACH: &str = "POST /v1beta1/clusters/{clusterId}/privateLinkConnections/{privateLinkConnectionId}:attachDomains";
const DETACH: &str = "POST /v1beta1/clusters/{clusterId}/privateLinkConnections/{privateLinkConnectionId}:detachDomains";
const CLUSTER: &str = "GET /v1beta1/clusters/{clusterId}";

/// `n` connections of the AWS cluster, `kafka-0` and on.
fn connections(n: u64) -> String {
    format!(
        r#"
resource "tidbcloud_private_link_connection" "c" {{
  count        = {n}
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "kafka-${{count.index}}"
  aws_endpoint_service = {{
    name = "{AWS_AUTO}"
  }}
}}
"#
    )
}

fn summary(stats: &Value) -> String {
    format!(
        "total {}, 429s {}, by route {}",
        stats["requests_total"], stats["responses_429"], stats["requests_by_route"]
    )
}

#[test]
fn many_connections_and_domains_at_a_low_rate_limit_cost_few_requests() {
    // 25 requests per 4-second window: the apply needs several windows, so
    // the pacing and the headroom for mutations are exercised.
    let sim = Sim::start(&[
        "--transition-delay-ms",
        "600",
        "--rate-limit-rpm",
        "25",
        "--rate-limit-window-s",
        "4",
    ]);
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        r#"{}
resource "tidbcloud_private_link_domains" "d" {{
  count                      = {N}
  cluster_id                 = "{AWS_CLUSTER}"
  private_link_connection_id = tidbcloud_private_link_connection.c[count.index].private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
}}
"#,
        connections(N)
    ));

    tf.apply();
    let stats = sim.stats();
    let s = summary(&stats);
    eprintln!("apply: {s}");
    // What cannot be avoided: one cluster check per process (plan, apply),
    // a create, a dry run for the generated unique name, an attach and one
    // GET that sees the domains settled, per pair.
    assert_eq!(route(&stats, CREATE), N, "{s}");
    assert_eq!(route(&stats, ATTACH), 2 * N, "{s}");
    assert_eq!(stats["attach_dry_runs"].as_u64(), Some(N), "{s}");
    assert!(route(&stats, CLUSTER) <= 2, "{s}");
    let unavoidable = 2 + 4 * N;
    // Waiting adds at most a quarter on top: GETs only for domain waits,
    // connection waits served by shared listings. Polling each resource on
    // its own, as before the watcher, costs several times as much.
    let total = stats["requests_total"].as_u64().expect("requests_total");
    assert!(
        total <= unavoidable + unavoidable / 4,
        "apply took {total} requests, more than 1.25x the {unavoidable} unavoidable: {s}"
    );
    assert!(route(&stats, GET) <= N + N / 2, "{s}");
    // Listings: the polls, and the listing each create needs before it is
    // sent (the baseline a lost answer is reconciled against), shared by the
    // creates queued together and handed to the waits as a poll.
    assert!(route(&stats, LIST) <= N / 2 + N / 5, "{s}");
    for i in 0..N {
        let r = tf
            .resource(&format!("tidbcloud_private_link_domains.d[{i}]"))
            .expect("domains in state");
        for d in r["values"]["domains"].as_array().expect("domains") {
            assert_eq!(d["state"], "SUCCEEDED", "{r}");
        }
    }

    // Destroy: the refresh (one listing, one GET per attachment), then a
    // detach, a GET that sees it gone and a delete per pair; no read before
    // a delete.
    sim.post("/_sim/stats/reset", json!({}));
    tf.destroy();
    let stats = sim.stats();
    let s = summary(&stats);
    eprintln!("destroy: {s}");
    assert_eq!(route(&stats, DETACH), N, "{s}");
    assert_eq!(route(&stats, DELETE), N, "{s}");
    let unavoidable = 1 + 4 * N;
    let total = stats["requests_total"].as_u64().expect("requests_total");
    assert!(
        total <= unavoidable + unavoidable / 4,
        "destroy took {total} requests, more than 1.25x the {unavoidable} unavoidable: {s}"
    );
    assert!(!sim
        .control("GET", "/_sim/world", None)
        .1
        .to_string()
        .contains("plc-"));
}

#[test]
fn creates_started_together_share_the_listing_they_need_first() {
    // Three waves of ten creates (Terraform's parallelism), 1.5 s apart.
    // Each create first needs a listing answered after it was queued (what
    // a lost answer is reconciled against); the creates Terraform starts
    // together as a wave ends share one.
    const N: u64 = 30;
    let sim = Sim::start(&["--transition-delay-ms", "1500"]);
    let tf = Tf::new(Some(&sim));
    tf.write(&connections(N));
    tf.apply();
    let stats = sim.stats();
    let s = summary(&stats);
    eprintln!("apply: {s}");
    assert_eq!(route(&stats, CREATE), N, "{s}");
    // Per wave: a listing before the creates and one that sees them
    // settle; the first wave's exploration adds a few (first poll after
    // 0.5 s, then about one a second). One listing per create is what this
    // guards against.
    let waves = N / 10;
    assert!(
        route(&stats, LIST) <= 2 * waves + 4,
        "{} listings for {N} creates in {waves} waves: {s}",
        route(&stats, LIST)
    );
}

/// Spends up to `n` requests of the key's window, as another pipeline on
/// the key would; whether a 429 said the window was spent.
fn spend(sim: &Sim, n: u64) -> bool {
    let api = sim.api();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            for _ in 0..n {
                let r = api.get(&format!("/v1beta1/clusters/{AWS_CLUSTER}")).await;
                if r.status == 429 {
                    return true;
                }
            }
            false
        })
}

#[test]
fn a_create_waits_for_budget_no_longer_than_its_timeout() {
    // Another user of the key has spent the window, which resets only in
    // ten minutes. A saved plan's create with `timeouts { create = "20s" }`
    // must not wait for that reset: it ends at once, says when the budget
    // comes back, and creates nothing.
    let sim = Sim::start(&["--rate-limit-rpm", "6", "--rate-limit-window-s", "600"]);
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        r#"
resource "tidbcloud_private_link_connection" "c" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "budget"
  aws_endpoint_service = {{
    name = "{AWS_AUTO}"
  }}
  timeouts {{
    create = "20s"
  }}
}}
"#
    ));
    tf.ok(&["plan", "-out=saved", "-no-color", "-input=false"]);
    // Spend all but one request of the window, as another pipeline on the
    // key would; the one left serves the cluster check of Terraform's plan
    // during apply, which no timeout bounds.
    let used = sim.stats()["requests_total"].as_u64().unwrap();
    assert!(
        !spend(&sim, 5u64.saturating_sub(used)),
        "one request is left"
    );
    let applied = tf.run(&["apply", "-no-color", "-input=false", "saved"]);
    let said = applied.all();
    assert!(!applied.success, "{said}");
    assert!(said.contains("the budget comes back in"), "{said}");
    // The product says how long it waited for budget: less than the
    // timeout (it did not wait for the reset at all).
    let waited: Vec<&str> = said
        .split("waited ")
        .nth(1)
        .map(|rest| rest.split_whitespace().take(2).collect())
        .unwrap_or_else(|| panic!("no waited figure: {said}"));
    assert_eq!(waited.get(1), Some(&"ms"), "waited {waited:?}: {said}");
    let world = sim.control("GET", "/_sim/world", None).1.to_string();
    assert!(!world.contains("plc-"), "nothing was created: {world}");
}

#[test]
fn ctrl_c_ends_a_wait_for_budget_at_once() {
    // The window is spent and resets only in ten minutes, well within the
    // create's default timeout of 30 minutes, so applying a saved plan
    // waits for it. Ctrl-C must end that wait at once: Terraform asks the
    // provider to stop, and the run ends without creating anything.
    // (Terraform 1.11 does not ask providers to stop during a plan; there
    // a second Ctrl-C ends Terraform, which loses nothing.)
    let sim = Sim::start(&["--rate-limit-rpm", "3", "--rate-limit-window-s", "600"]);
    let mut tf = Tf::new(Some(&sim));
    tf.write(&connections(1));
    tf.ok(&["plan", "-out=saved", "-no-color", "-input=false"]);
    let log = tf.path().join("provider.log");
    tf.set_env("TF_LOG_PROVIDER", "info");
    tf.set_env("TF_LOG_PATH", &log.display().to_string());
    assert!(spend(&sim, 10), "the window was not spent");
    let mut cmd = tf.command(&["apply", "-no-color", "-input=false", "saved"]);
    cmd.process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("terraform");
    let pgid = child.id();
    // The provider's own line says it waits for the window's reset.
    crate::support::wait::eventually("the provider to wait for budget", || {
        std::fs::read_to_string(&log).is_ok_and(|l| l.contains("rate limit reached: waiting"))
    });
    let status = std::process::Command::new("kill")
        .args(["-INT", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    assert!(status.success());
    // Without the stop reaching the wait, the run would go on for ten
    // minutes; the bound below only fails the test.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(output) = rx.recv_timeout(std::time::Duration::from_secs(120)) else {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .status();
        panic!(
            "terraform did not end after Ctrl-C; its log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    };
    let output = output.unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!output.status.success(), "{said}");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(logged.contains("stop requested"), "{logged}");
    let world = sim.control("GET", "/_sim/world", None).1.to_string();
    assert!(!world.contains("plc-"), "nothing was created: {world}");
}

#[test]
fn a_settle_times_file_is_ignored_with_a_warning_and_left_alone() {
    // Earlier versions remembered settle times in a file outside the
    // state. Nothing is kept outside Terraform's state now: a set variable
    // is ignored with a warning, the file it names is not touched (even
    // when it is not a regular file), and nothing is written under HOME.
    let sim = Sim::start(&["--transition-delay-ms", "100"]);
    let mut tf = Tf::new(Some(&sim));
    let home = tf.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let file = tf.path().join("settle-times.json");
    let before = br#"{"version":1,"endpoints":{}}"#;
    std::fs::write(&file, before).unwrap();
    tf.set_env("TIDBCLOUD_SETTLE_TIMES_FILE", &file.display().to_string());
    tf.set_env("HOME", &home.display().to_string());
    tf.set_env("XDG_CACHE_HOME", &home.join(".cache").display().to_string());
    tf.write(&connections(1));
    let applied = tf.apply();
    let said = applied.all();
    assert_eq!(
        said.matches("TIDBCLOUD_SETTLE_TIMES_FILE is ignored")
            .count(),
        1,
        "one warning: {said}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the file is left alone"
    );
    let mut left: Vec<_> = walk(&home);
    left.retain(|p| !p.starts_with(home.join(".terraform.d")));
    assert!(left.is_empty(), "nothing written under HOME: {left:?}");
    tf.destroy();
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

/// Every file below `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The floor the benchmark prints beside each apply and destroy row.
mod floor_of_a_run {
    use std::time::Duration;

    use crate::support::floor::*;

    const LIMITS: Limits = Limits {
        parallelism: 10,
        settle: Duration::from_secs(10),
        budget: 100,
        window: Duration::from_secs(60),
    };

    fn of(phases: &[Phase]) -> Floor {
        floor(&[phases], LIMITS)
    }

    fn secs(s: u64, requests: u64) -> Floor {
        Floor {
            time: Duration::from_secs(s),
            requests,
        }
    }

    #[test]
    fn without_enough_requests_to_fill_a_window_it_is_waves_of_the_settle_time() {
        assert_eq!(of(&apply_phases(30, false)), secs(30, 40));
        assert_eq!(of(&destroy_phases(30, false)), secs(30, 34));
        let apply = apply_phases(15, false);
        assert_eq!(floor(&[&apply, &apply], LIMITS), secs(20, 46));
    }

    #[test]
    fn requests_past_the_window_wait_for_the_next_one() {
        // One request a minute: the second operation starts at 60 s.
        let one = Phase::of(3, Cost::each(1), Cost::default());
        let limits = Limits {
            budget: 1,
            ..LIMITS
        };
        assert_eq!(floor(&[&[one]], limits), secs(130, 3));
    }

    #[test]
    fn thirty_connections_and_thirty_domains() {
        // The apply's third wave of domain resources cannot start before
        // the window resets at 60 s.
        assert_eq!(of(&apply_phases(30, true)), secs(70, 130));
        // The refresh and the detach phase leave 9 requests of the first
        // window for deletes; the other 21 take three waves from 60 s.
        assert_eq!(of(&destroy_phases(30, true)), secs(90, 125));
        // Even a refresh of 30 requests leaves two waves past 60 s.
        let mut cheaper = destroy_phases(30, true);
        cheaper[0].before = 30;
        assert_eq!(of(&cheaper).time, Duration::from_secs(80));
    }
}
