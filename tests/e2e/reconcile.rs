//! Mutations whose answer was lost or odd: a create or an attach answered
//! 503 by a proxy, a create answered without an id, states saved by older
//! versions with an empty connection id, detaches answered 503, and the
//! lifecycle edges around them. Each fault comes from a scripted loopback
//! proxy in front of the simulator ([`crate::fault_proxy`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::fault_proxy::{Action, Proxy, Request};
use crate::harness::*;

const CONN: &str = "tidbcloud_private_link_connection.c";
const DOMAINS: &str = "tidbcloud_private_link_domains.d";

fn connection_id(tf: &Tf, address: &str) -> String {
    tf.resource(address).expect("connection in state")["values"]["private_link_connection_id"]
        .as_str()
        .expect("id")
        .to_string()
}

/// The connections the API holds, by id.
fn api_connections(sim: &Sim) -> Vec<serde_json::Value> {
    sim.control("GET", "/_sim/world", None).1["private_link_connections"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn api_id(c: &serde_json::Value) -> String {
    c["privateLinkConnectionId"]
        .as_str()
        .or_else(|| c["private_link_connection_id"].as_str())
        .or_else(|| c["id"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// A rule answering 503 to the first `n` requests that `matches` selects,
/// forwarding everything else.
fn first_n_unavailable(
    n: usize,
    matches: fn(&Request) -> bool,
) -> impl Fn(&Request, usize) -> Action + Send + Sync + 'static {
    let hits = Arc::new(AtomicUsize::new(0));
    move |r, _| {
        if matches(r) && hits.fetch_add(1, Ordering::SeqCst) < n {
            Action::Unavailable
        } else {
            Action::Forward
        }
    }
}

fn through(tf: &mut Tf, proxy: &Proxy) {
    tf.set_env("TIDBCLOUD_SERVERLESS_ENDPOINT", &proxy.url);
}

/// Defect A: workspace two's create is answered 503 by a proxy and never
/// reaches the API. Workspace one's connection of the same name and service
/// existed before workspace two queued its create, so it is not adopted:
/// workspace two sends the create again and owns a connection of its own.
#[test]
fn a_create_lost_before_the_api_never_adopts_another_workspaces_connection() {
    let sim = Sim::start(&[]);
    let one = Tf::new(Some(&sim));
    one.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    one.apply();
    let first = connection_id(&one, CONN);

    let proxy = Proxy::start(&sim.url, first_n_unavailable(1, Request::is_create));
    let mut two = Tf::new(Some(&sim));
    through(&mut two, &proxy);
    two.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    two.apply();
    assert_eq!(proxy.faults(), 1, "the create was not answered 503 once");
    let second = connection_id(&two, CONN);
    assert_ne!(
        first, second,
        "workspace two adopted workspace one's connection"
    );
    let ids: Vec<String> = api_connections(&sim).iter().map(api_id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids.contains(&first) && ids.contains(&second), "{ids:?}");

    // Destroying workspace two leaves workspace one's connection alone.
    two.destroy();
    let ids: Vec<String> = api_connections(&sim).iter().map(api_id).collect();
    assert_eq!(ids, vec![first.clone()]);
    one.assert_no_changes();
}

/// Defect A, the other side: a create whose answer is dropped after the API
/// made the connection adopts it (it is absent from the listing taken before
/// the create was sent) instead of creating a second one.
#[test]
fn a_create_whose_answer_was_dropped_adopts_what_it_made() {
    let sim = Sim::start(&[]);
    let one = Tf::new(Some(&sim));
    one.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    one.apply();
    let first = connection_id(&one, CONN);

    let hits = Arc::new(AtomicUsize::new(0));
    let proxy = Proxy::start(&sim.url, move |r, _| {
        if r.is_create() && hits.fetch_add(1, Ordering::SeqCst) == 0 {
            Action::Drop
        } else {
            Action::Forward
        }
    });
    let mut two = Tf::new(Some(&sim));
    through(&mut two, &proxy);
    two.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    two.apply();
    assert_eq!(proxy.faults(), 1);
    let second = connection_id(&two, CONN);
    assert_ne!(first, second);
    assert_eq!(api_connections(&sim).len(), 2, "a duplicate was created");
}

/// Defect C: a create answered 200 without `privateLinkConnectionId` never
/// saves an empty id; the connection it made is found and adopted.
#[test]
fn a_create_answered_without_an_id_is_reconciled() {
    let sim = Sim::start(&[]);
    let hits = Arc::new(AtomicUsize::new(0));
    let proxy = Proxy::start(&sim.url, move |r, _| {
        if r.is_create() && hits.fetch_add(1, Ordering::SeqCst) == 0 {
            Action::Rewrite(|body| {
                let mut v: serde_json::Value =
                    serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.remove("privateLinkConnectionId");
                }
                v.to_string()
            })
        } else {
            Action::Forward
        }
    });
    let mut tf = Tf::new(Some(&sim));
    through(&mut tf, &proxy);
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    tf.apply();
    let id = connection_id(&tf, CONN);
    assert!(id.starts_with("plc-"), "{id:?}");
    let ids: Vec<String> = api_connections(&sim).iter().map(api_id).collect();
    assert_eq!(ids, vec![id]);
    tf.assert_no_changes();
}

/// An entry with an empty connection id and no evidence of the create that
/// lost it (a state saved by older versions, or edited by hand) is never
/// adopted, not even when a single connection matches its name and service:
/// it is dropped with a warning naming the candidate for import.
#[test]
fn an_empty_connection_id_in_state_is_adopted_or_dropped() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    tf.apply();
    let id = connection_id(&tf, CONN);
    let path = tf.path().join("terraform.tfstate");
    let text = std::fs::read_to_string(&path).expect("state file");
    let wedged = text
        .replace(
            &format!("\"{AWS_CLUSTER},{id}\""),
            &format!("\"{AWS_CLUSTER},\""),
        )
        .replace(&format!("\"{id}\""), "\"\"");
    assert_ne!(text, wedged);
    std::fs::write(&path, wedged).expect("write state");

    let run = tf.ok(&["plan", "-no-color", "-refresh-only", "-input=false"]);
    run.assert_mentions("empty connection id");
    run.assert_mentions(&id);
    run.assert_mentions(&format!(
        "terraform import tidbcloud_private_link_connection.NAME {AWS_CLUSTER},{id}"
    ));
    run.assert_mentions("import {");
    assert!(
        !run.all().contains("Adopted"),
        "adopted without evidence:\n{}",
        run.all()
    );
    tf.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert!(tf.resource(CONN).is_none(), "the entry was kept");
    let ids: Vec<String> = api_connections(&sim).iter().map(api_id).collect();
    assert_eq!(ids, vec![id], "the connection itself must be left alone");
}

/// Holds the first request `matches` selects until the test releases it,
/// then answers it with `then`.
struct Gate {
    held: Arc<std::sync::Mutex<bool>>,
    released: Arc<std::sync::Mutex<bool>>,
    cv: Arc<std::sync::Condvar>,
}

impl Gate {
    fn new() -> Gate {
        Gate {
            held: Arc::default(),
            released: Arc::default(),
            cv: Arc::default(),
        }
    }

    fn rule(
        &self,
        matches: fn(&Request) -> bool,
        then: fn() -> Action,
    ) -> impl Fn(&Request, usize) -> Action + Send + Sync + 'static {
        let (held, released, cv) = (self.held.clone(), self.released.clone(), self.cv.clone());
        let hits = Arc::new(AtomicUsize::new(0));
        move |r, _| {
            if !matches(r) || hits.fetch_add(1, Ordering::SeqCst) > 0 {
                return Action::Forward;
            }
            *held.lock().unwrap() = true;
            cv.notify_all();
            let mut done = released.lock().unwrap();
            while !*done {
                done = cv.wait(done).unwrap();
            }
            then()
        }
    }

    fn wait_held(&self) {
        let mut held = self.held.lock().unwrap();
        while !*held {
            held = self.cv.wait(held).unwrap();
        }
    }

    fn release(&self) {
        *self.released.lock().unwrap() = true;
        self.cv.notify_all();
    }
}

/// Runs `one`'s apply while its first create is held at `gate`; `two`
/// applies the same configuration meanwhile, straight to the API. Returns
/// `one`'s run.
fn race(one: &Tf, two: &Tf, gate: &Gate) -> Run {
    std::thread::scope(|s| {
        let first = s.spawn(|| one.run(&["apply", "-auto-approve", "-no-color", "-input=false"]));
        gate.wait_held();
        two.apply();
        gate.release();
        first.join().expect("apply thread")
    })
}

/// Item 1 of the reliability issue: a create the API answered 503 UNAVAILABLE
/// (code 14) was not processed. Another workspace's connection of the same
/// name made meanwhile (after this workspace's baseline listing, within
/// seconds of its create) is never adopted: the create is sent again.
#[test]
fn a_create_the_api_did_not_process_never_adopts_a_connection_made_meanwhile() {
    let sim = Sim::start(&[]);
    let gate = Gate::new();
    let proxy = Proxy::start(
        &sim.url,
        gate.rule(Request::is_create, || Action::Unavailable),
    );
    let mut one = Tf::new(Some(&sim));
    through(&mut one, &proxy);
    one.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    let two = Tf::new(Some(&sim));
    two.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    let run = race(&one, &two, &gate);
    assert!(run.success, "{}", run.all());
    assert!(!run.all().contains("Adopted"), "{}", run.all());
    let mine = connection_id(&one, CONN);
    let theirs = connection_id(&two, CONN);
    assert_ne!(
        mine, theirs,
        "workspace one took workspace two's connection"
    );
    assert_eq!(api_connections(&sim).len(), 2);
}

/// Item 2: a create the API processed whose answer a gateway replaced by
/// a 503 without the API's envelope is adopted, with a warning naming the
/// connection and why.
#[test]
fn a_create_processed_then_answered_503_is_adopted_with_a_warning() {
    let sim = Sim::start(&[]);
    let hits = Arc::new(AtomicUsize::new(0));
    let proxy = Proxy::start(&sim.url, move |r, _| {
        if r.is_create() && hits.fetch_add(1, Ordering::SeqCst) == 0 {
            Action::ForwardThen {
                status: 503,
                body: "<html>503 Service Unavailable</html>",
            }
        } else {
            Action::Forward
        }
    });
    let mut tf = Tf::new(Some(&sim));
    through(&mut tf, &proxy);
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    let run = tf.apply();
    let id = connection_id(&tf, CONN);
    let warning = run.diagnostic(&format!("Adopted private link connection {id}"));
    assert!(warning.contains("created at"), "{warning}");
    let ids: Vec<String> = api_connections(&sim).iter().map(api_id).collect();
    assert_eq!(ids, vec![id]);
    tf.assert_no_changes();
}

/// Item 2: two workspaces create the same name on the same service in the
/// same seconds and the create of one is processed, then its answer lost.
/// The look-up finds two candidates in the window; nothing is adopted, and
/// the error lists both with both import forms.
#[test]
fn two_creates_of_one_name_in_one_window_adopt_nothing() {
    let sim = Sim::start(&[]);
    let gate = Gate::new();
    let proxy = Proxy::start(
        &sim.url,
        gate.rule(Request::is_create, || Action::ForwardThen {
            status: 502,
            body: "bad gateway",
        }),
    );
    let mut one = Tf::new(Some(&sim));
    through(&mut one, &proxy);
    one.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    let two = Tf::new(Some(&sim));
    two.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    let run = race(&one, &two, &gate);
    assert!(!run.success, "{}", run.all());
    let theirs = connection_id(&two, CONN);
    run.assert_mentions(&theirs);
    run.assert_mentions("terraform import");
    run.assert_mentions("import {");
    let ids: Vec<String> = api_connections(&sim).iter().map(api_id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    for id in &ids {
        run.assert_mentions(id);
    }
    assert!(
        one.resource(CONN)
            .is_none_or(|r| r["values"]["private_link_connection_id"] != theirs.as_str()),
        "workspace one holds workspace two's connection"
    );
}

/// Item 3: a create processed, its answer lost, and the look-up listings
/// failing too, leaves an entry with an empty connection id carrying the
/// create's evidence; the error says what the next run does. A refresh
/// adopts the connection through that entry (with a warning), so retrying
/// never duplicates it.
#[test]
fn a_lost_create_whose_look_up_failed_is_adopted_by_the_next_refresh() {
    let sim = Sim::start(&[]);
    let created = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = created.clone();
    let proxy = Proxy::start(&sim.url, move |r, _| {
        if r.is_create() && !seen.swap(true, Ordering::SeqCst) {
            return Action::ForwardThen {
                status: 503,
                body: "",
            };
        }
        if seen.load(Ordering::SeqCst) && r.method == "GET" {
            return Action::Unavailable;
        }
        Action::Forward
    });
    let mut tf = Tf::new(Some(&sim));
    through(&mut tf, &proxy);
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    let run = tf.run(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    assert!(!run.success, "{}", run.all());
    run.assert_mentions("terraform apply -refresh-only");
    run.assert_mentions("terraform untaint");
    let entry = tf.resource(CONN).expect("the entry of the lost create");
    assert_eq!(entry["values"]["private_link_connection_id"], "");
    assert_eq!(api_connections(&sim).len(), 1);

    proxy.set_rule(|_, _| Action::Forward);
    let run = tf.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    let ids: Vec<String> = api_connections(&sim).iter().map(api_id).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    run.assert_mentions(&format!("Adopted private link connection {}", ids[0]));
    assert_eq!(connection_id(&tf, CONN), ids[0]);
    tf.ok(&["untaint", CONN]);
    tf.assert_no_changes();
    assert_eq!(api_connections(&sim).len(), 1);
}

/// Defect B: an attach answered 503 by a proxy (never reaching the API) is
/// sent again once the read-back finds no attachment.
#[test]
fn an_attach_lost_before_the_api_is_sent_again() {
    let sim = Sim::start(&[]);
    let proxy = Proxy::start(&sim.url, first_n_unavailable(1, Request::is_attach));
    let mut tf = Tf::new(Some(&sim));
    through(&mut tf, &proxy);
    tf.write(&format!(
        "{}{}",
        aws_connection("c", "kafka", AWS_AUTO, ""),
        r#"
resource "tidbcloud_private_link_domains" "d" {
  cluster_id                 = tidbcloud_private_link_connection.c.cluster_id
  private_link_connection_id = tidbcloud_private_link_connection.c.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  unique_name                = "lost"
}
"#
    ));
    tf.apply();
    assert_eq!(proxy.faults(), 1);
    assert!(tf.resource(DOMAINS).is_some());
    tf.assert_no_changes();
}

/// Defect B: detaches answered 503 do not leave destroy waiting for the
/// delete timeout; the detach is sent again and destroy finishes.
#[test]
fn destroy_finishes_when_detaches_are_answered_503() {
    let sim = Sim::start(&[]);
    let mut tf = Tf::new(Some(&sim));
    tf.write(&format!(
        "{}{}",
        aws_connection(
            "c",
            "kafka",
            AWS_AUTO,
            "  timeouts {\n    delete = \"60s\"\n  }\n"
        ),
        r#"
resource "tidbcloud_private_link_domains" "d" {
  cluster_id                 = tidbcloud_private_link_connection.c.cluster_id
  private_link_connection_id = tidbcloud_private_link_connection.c.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  unique_name                = "flaky"
  timeouts {
    delete = "60s"
  }
}
"#
    ));
    tf.apply();
    let proxy = Proxy::start(&sim.url, move |r, _| {
        // Every other detach and connection delete is answered 503.
        if r.is_detach() || r.is_connection_delete() {
            static N: AtomicUsize = AtomicUsize::new(0);
            if N.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
                return Action::Unavailable;
            }
        }
        Action::Forward
    });
    through(&mut tf, &proxy);
    tf.destroy();
    assert!(proxy.faults() >= 1);
    assert!(api_connections(&sim).is_empty());
}

/// Lifecycle edge: domains imported with generated configuration name the
/// connection by a literal id, so Terraform deletes both at once. The
/// connection delete waits for the detach of this process instead of
/// failing on "has attached domains".
#[test]
fn imported_domains_and_connection_destroy_together() {
    let sim = Sim::start(&[]);
    let setup = Tf::new(Some(&sim));
    setup.write(&format!(
        "{}{}",
        aws_connection("c", "kafka", AWS_AUTO, ""),
        r#"
resource "tidbcloud_private_link_domains" "d" {
  cluster_id                 = tidbcloud_private_link_connection.c.cluster_id
  private_link_connection_id = tidbcloud_private_link_connection.c.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  unique_name                = "imported"
}
"#
    ));
    setup.apply();
    let conn_import = setup.resource(CONN).expect("c")["values"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let domains_import = setup.resource(DOMAINS).expect("d")["values"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    // The first workspace lets go of both (state rm), the second imports them.
    setup.ok(&["state", "rm", CONN, DOMAINS]);

    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        "import {{\n  to = {CONN}\n  id = \"{conn_import}\"\n}}\nimport {{\n  to = {DOMAINS}\n  id = \"{domains_import}\"\n}}\n"
    ));
    tf.ok(&["plan", "-no-color", "-generate-config-out=generated.tf"]);
    tf.apply();
    tf.assert_no_changes();
    tf.destroy();
    assert!(api_connections(&sim).is_empty());
}

/// Lifecycle edge: `create_before_destroy` on domains makes the new attach
/// meet the old attachment; the error says so.
#[test]
fn create_before_destroy_on_domains_is_named_as_the_likely_cause() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    let body = |unique: &str| {
        format!(
            r#"{}
resource "tidbcloud_private_link_domains" "d" {{
  cluster_id                 = tidbcloud_private_link_connection.c.cluster_id
  private_link_connection_id = tidbcloud_private_link_connection.c.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  unique_name                = "{unique}"
  lifecycle {{
    create_before_destroy = true
  }}
}}
"#,
            aws_connection("c", "kafka", AWS_AUTO, "")
        )
    };
    tf.write(&body("before"));
    tf.apply();
    tf.write(&body("after"));
    let run = tf.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(!run.success, "{}", run.all());
    run.assert_mentions("create_before_destroy");
}

/// Defect I: a connection state the provider does not know settles the
/// create with a warning that names it, instead of waiting until the
/// timeout. The proxy plays an API that reports `PROVISIONING` where the
/// simulator says `CREATING`; the simulator's transition takes far longer
/// than the create timeout, so waiting for it would fail the apply.
#[test]
fn an_unfamiliar_connection_state_settles_with_a_warning() {
    let sim = Sim::start(&["--transition-delay-ms", "600000"]);
    let proxy = Proxy::start(&sim.url, |r, _| {
        if r.path.contains("/privateLinkConnections") && !r.path.contains("Domains") {
            Action::Rewrite(|body| body.replace("\"CREATING\"", "\"PROVISIONING\""))
        } else {
            Action::Forward
        }
    });
    let mut tf = Tf::new(Some(&sim));
    through(&mut tf, &proxy);
    tf.write(&aws_connection(
        "c",
        "kafka",
        AWS_AUTO,
        "timeouts {\n    create = \"20s\"\n  }",
    ));
    let run = tf.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(run.success, "{}\n{}", run.stdout, run.stderr);
    run.assert_mentions("unfamiliar state");
    run.assert_mentions("PROVISIONING");
    assert_eq!(
        tf.resource(CONN).expect("in state")["values"]["state"],
        "PROVISIONING"
    );
}

/// Defect I: a wait says at INFO what it waits for and for how long, and,
/// while the connection is PENDING_ACCEPTANCE, which endpoint to accept.
#[test]
fn a_wait_for_acceptance_logs_the_endpoint_to_accept() {
    let sim = Sim::start(&["--transition-delay-ms", "50"]);
    let mut tf = Tf::new(Some(&sim));
    tf.set_env("TF_LOG_PROVIDER", "INFO");
    tf.write(&aws_connection(
        "c",
        "kafka",
        AWS_MANUAL,
        "wait_for_active = true\n  timeouts {\n    create = \"4s\"\n  }",
    ));
    let run = tf.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(!run.success, "nobody accepts the endpoint: {}", run.all());
    run.assert_mentions("Timed out waiting for the private link connection");
    let endpoint = tf.resource(CONN).expect("kept in the state as tainted")["values"]
        ["aws_endpoint_service"]["endpoint_id"]
        .as_str()
        .expect("endpoint id")
        .to_string();
    assert!(endpoint.starts_with("vpce-"), "{endpoint:?}");
    let waiting = run
        .stderr
        .lines()
        .filter(|l| l.contains("to become ACTIVE: PENDING_ACCEPTANCE after"))
        .collect::<Vec<_>>();
    assert!(
        !waiting.is_empty(),
        "no INFO line on the wait:\n{}",
        run.stderr
    );
    assert!(
        waiting.iter().any(|l| l.contains(&format!(
            "accept endpoint {endpoint} on endpoint service {AWS_MANUAL}"
        ))),
        "{waiting:#?}"
    );
}

/// How many connections the simulator holds, created or still CREATING;
/// callable from a proxy's thread.
fn api_connection_count(sim_url: &str) -> usize {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let world: serde_json::Value = crate::support::sim::http_client()
                .get(format!("{sim_url}/_sim/world"))
                .send()
                .await
                .expect("GET /_sim/world")
                .json()
                .await
                .expect("world JSON");
            world["private_link_connections"]
                .as_array()
                .map_or(0, Vec::len)
        })
}

/// Defect A: when the answers of two creates of the same name and service
/// are lost together, neither can tell which new connection is its own:
/// the apply stops with an error that lists both for import, and adopts
/// neither.
#[test]
fn lost_creates_with_several_candidates_stop_and_list_them() {
    let sim = Sim::start(&[]);
    let arrived = Arc::new(AtomicUsize::new(0));
    let counts = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sim_url = sim.url.clone();
    let proxy = Proxy::start(&sim.url, move |r, _| {
        let listing = r.method == "GET"
            && r.path.contains("/privateLinkConnections")
            && !r.path.contains("/privateLinkConnections/");
        // A request without credentials only fetches a digest challenge.
        if let (true, Some(nc)) = (r.is_create(), r.nonce_count()) {
            // Both creates reach the API before either answer is lost, in
            // the order they were signed (the digest nonce count must grow).
            counts.lock().expect("counts").push(nc);
            arrived.fetch_add(1, Ordering::SeqCst);
            eventually("both creates to reach the proxy", || {
                arrived.load(Ordering::SeqCst) >= 2
            });
            if counts.lock().expect("counts").iter().any(|c| *c < nc) {
                // Waits for the simulator to hold the earlier one's connection.
                eventually("the earlier-signed create to be processed", || {
                    api_connection_count(&sim_url) >= 1
                });
            }
            Action::Drop
        } else {
            if listing && arrived.load(Ordering::SeqCst) >= 2 {
                // The look-ups come after both creates were processed: waits
                // for the simulator to hold both connections.
                eventually("both creates to be processed", || {
                    api_connection_count(&sim_url) >= 2
                });
            }
            Action::Forward
        }
    });
    let mut tf = Tf::new(Some(&sim));
    through(&mut tf, &proxy);
    tf.write(&format!(
        "{}\n{}",
        aws_connection("a", "kafka", AWS_AUTO, ""),
        aws_connection("b", "kafka", AWS_AUTO, "")
    ));
    let run = tf.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(!run.success, "{}", run.all());
    run.assert_mentions("Several matching connections");
    let ids: Vec<String> = api_connections(&sim).iter().map(api_id).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    for id in &ids {
        run.assert_mentions(id);
    }
    assert!(tf.resource("tidbcloud_private_link_connection.a").is_none());
    assert!(tf.resource("tidbcloud_private_link_connection.b").is_none());
}

/// Defect D: a rate limit that outlasts a wait ends it with an error that
/// says the rate limit was exhausted, not with a plain timeout. After the
/// create, the proxy answers every read 429 with the next budget two
/// minutes away, past the create timeout.
#[test]
fn a_rate_limit_that_outlasts_a_wait_is_named_in_its_error() {
    use std::sync::atomic::AtomicBool;
    let sim = Sim::start(&["--transition-delay-ms", "60000"]);
    let created = Arc::new(AtomicBool::new(false));
    let proxy = Proxy::start(&sim.url, move |r, _| {
        if r.is_create() && r.nonce_count().is_some() {
            created.store(true, Ordering::SeqCst);
            Action::Forward
        } else if r.method == "GET" && created.load(Ordering::SeqCst) {
            Action::RateLimited { reset_secs: 120 }
        } else {
            Action::Forward
        }
    });
    let mut tf = Tf::new(Some(&sim));
    through(&mut tf, &proxy);
    tf.write(&aws_connection(
        "c",
        "kafka",
        AWS_AUTO,
        "timeouts {\n    create = \"10s\"\n  }",
    ));
    let run = tf.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(!run.success, "{}", run.all());
    run.assert_mentions("rate limit");
    run.assert_mentions("exhausted");
    assert!(
        tf.resource(CONN).is_some(),
        "the connection is kept in the state"
    );
}
