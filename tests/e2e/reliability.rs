//! Nothing is lost: under injected faults every connection the API created
//! ends up in the Terraform state, and nothing in the state is missing from
//! the API.

use std::collections::BTreeSet;

use serde_json::json;

use crate::harness::*;

fn api_connection_ids(sim: &Sim) -> BTreeSet<String> {
    let world = sim.control("GET", "/_sim/world", None).1;
    world["private_link_connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| {
            c["privateLinkConnectionId"]
                .as_str()
                .or_else(|| c["private_link_connection_id"].as_str())
                .or_else(|| c["id"].as_str())
                .expect("connection id")
                .to_string()
        })
        .collect()
}

fn state_connection_ids(tf: &Tf) -> BTreeSet<String> {
    let state = tf.state();
    state["values"]["root_module"]["resources"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .filter(|r| r["type"] == "tidbcloud_private_link_connection")
                .map(|r| {
                    r["values"]["private_link_connection_id"]
                        .as_str()
                        .expect("id")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn no_orphans_under_server_errors_and_dropped_responses() {
    let sim = Sim::start(&["--transition-delay-ms", "50"]);
    let tf = Tf::new(Some(&sim));
    tf.write(
        &Connection::aws("many", "faulty-${count.index}", AWS_AUTO)
            .count(12)
            .to_string(),
    );
    sim.post(
        "/_sim/faults",
        json!({"error_rate": 0.2, "drop_rate": 0.15, "latency_ms": 5}),
    );
    // Applies may fail under faults; whatever they created must be in the state.
    for _ in 0..4 {
        let _ = tf.run(&["apply", "-auto-approve", "-no-color", "-parallelism=4"]);
        let api = api_connection_ids(&sim);
        let state = state_connection_ids(&tf);
        let orphans: Vec<_> = api.difference(&state).collect();
        assert!(
            orphans.is_empty(),
            "created by the API but not in the state: {orphans:?}"
        );
    }
    sim.post(
        "/_sim/faults",
        json!({"error_rate": 0.0, "drop_rate": 0.0, "latency_ms": 0}),
    );
    tf.apply();
    let api = api_connection_ids(&sim);
    let state = state_connection_ids(&tf);
    assert_eq!(api, state, "the state and the API disagree");
    assert_eq!(state.len(), 12);
    tf.assert_no_changes();
    tf.destroy();
    assert!(api_connection_ids(&sim).is_empty());
}

#[test]
fn ctrl_c_at_any_point_leaves_no_orphans() {
    use std::os::unix::process::CommandExt as _;
    // Interrupt applies at a spread of points, each reached by watching the
    // API rather than by timing: once the provider has called it, once the
    // first connection exists, once all three the parallelism allows wait
    // for acceptance. After each, the state holds everything the API created.
    type Point = (&'static str, fn(&Sim) -> bool);
    let points: [Point; 3] = [
        ("the first API request", |sim| {
            sim.stats()["requests_total"].as_u64().unwrap_or(0) >= 1
        }),
        ("the first connection", |sim| {
            !api_connection_ids(sim).is_empty()
        }),
        ("three connections", |sim| {
            api_connection_ids(sim).len() >= 3
        }),
    ];
    for (point, reached) in points {
        let sim = Sim::start(&["--transition-delay-ms", "300"]);
        let tf = Tf::new(Some(&sim));
        tf.write(
            &Connection::aws("many", "interrupted-${count.index}", AWS_MANUAL)
                .count(6)
                .line("  wait_for_active = true")
                .to_string(),
        );
        let mut cmd = tf.command(&["apply", "-auto-approve", "-no-color", "-parallelism=3"]);
        cmd.process_group(0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().expect("apply");
        eventually(point, || reached(&sim));
        let pgid = child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-INT", "--", &format!("-{pgid}")])
            .status();
        let status = child.wait().expect("apply ended");
        assert!(
            !status.success(),
            "the apply waits for acceptance, so only the interrupt ends it"
        );
        let api = api_connection_ids(&sim);
        let state = state_connection_ids(&tf);
        assert_eq!(
            api, state,
            "after Ctrl-C at {point} the state and the API disagree"
        );
    }
}

#[test]
fn a_low_rate_limit_slows_apply_down_but_never_fails_it() {
    let sim = Sim::start(&[
        "--rate-limit-rpm",
        "15",
        "--rate-limit-window-s",
        "2",
        "--transition-delay-ms",
        "20",
    ]);
    let tf = Tf::new(Some(&sim));
    tf.write(
        &Connection::aws("many", "limited-${count.index}", AWS_AUTO)
            .count(12)
            .to_string(),
    );
    tf.apply();
    tf.assert_no_changes();
    let stats = sim.stats();
    assert!(
        stats["requests_total"].as_u64().unwrap_or(0) > 15,
        "the limit was not exercised: {stats}"
    );
    assert_eq!(state_connection_ids(&tf).len(), 12);
}

#[test]
fn a_plan_warns_of_a_connection_that_an_import_would_bring_in() {
    // A connection made in the console (or by a run killed before it could
    // save it) has the name and endpoint service of a planned create. The
    // plan names it and says how to import it, in both forms; a connection
    // this configuration's state holds is not mentioned.
    let sim = Sim::start(&[]);
    let api = sim.api();
    let made = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(api.create_aws("kafka-0", AWS_AUTO));
    let tf = Tf::new(Some(&sim));
    let config = |name: &str| {
        format!(
            r#"
resource "tidbcloud_private_link_connection" "c" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "{name}"
  aws_endpoint_service = {{
    name = "{AWS_AUTO}"
  }}
}}
"#
        )
    };
    tf.write(&config("kafka-0"));
    let before = sim.stats()["requests_total"].as_u64().unwrap();
    let plan = tf.plan();
    let said = plan.all();
    assert_eq!(plan.code, Some(2), "{said}");
    assert!(
        said.contains(&format!(
            "Connection {made} already exists with this name and endpoint service"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "terraform import tidbcloud_private_link_connection.NAME {AWS_CLUSTER},{made}"
        )),
        "{said}"
    );
    assert!(
        said.contains(&format!("id = \"{AWS_CLUSTER},{made}\"")),
        "{said}"
    );
    // One cluster check and one listing for it, nothing more.
    let cost = sim.stats()["requests_total"].as_u64().unwrap() - before;
    assert!(cost <= 2, "the plan sent {cost} requests");
    // Another name: no warning.
    tf.write(&config("kafka-1"));
    let said = tf.plan().all();
    assert!(!said.contains("already exists with this name"), "{said}");
    // Once imported, the connection is this configuration's own.
    tf.write(&format!(
        "{}\nimport {{\n  to = tidbcloud_private_link_connection.c\n  id = \"{AWS_CLUSTER},{made}\"\n}}\n",
        config("kafka-0")
    ));
    let applied = tf.apply();
    assert!(
        !applied.all().contains("already exists with this name"),
        "{}",
        applied.all()
    );
    tf.assert_no_changes();
}
