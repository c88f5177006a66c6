//! `tidbcloud_private_link_connection` as users run it: create, wait, read,
//! drift, import and delete, with nothing ever lost.

use std::os::unix::process::CommandExt as _;
use std::process::Stdio;

use serde_json::json;

use crate::harness::*;

const ADDR: &str = "tidbcloud_private_link_connection.c";

fn attr(tf: &Tf, name: &str) -> serde_json::Value {
    tf.resource(ADDR).expect("connection in state")["values"][name].clone()
}

#[test]
fn aws_create_plan_no_changes_destroy() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("c", "kafka-prod", AWS_AUTO, ""));
    tf.apply();
    let r = tf.resource(ADDR).expect("in state");
    let v = &r["values"];
    assert_eq!(v["state"], "ACTIVE");
    assert_eq!(v["type"], "AWS_ENDPOINT_SERVICE");
    assert_eq!(v["aws_endpoint_service"]["region"], "us-west-2");
    assert_eq!(
        v["aws_endpoint_service"]["availability_zone_ids"],
        json!(["usw2-az1", "usw2-az2", "usw2-az3"])
    );
    let id = v["private_link_connection_id"].as_str().expect("id");
    assert!(id.starts_with("plc-"), "{id}");
    assert_eq!(v["id"], format!("{AWS_CLUSTER},{id}"));
    assert!(v["aws_endpoint_service"]["endpoint_id"]
        .as_str()
        .is_some_and(|e| !e.is_empty()));
    tf.assert_no_changes();
    tf.destroy();
    assert!(tf.resource(ADDR).is_none());
    let (status, _) = sim.control("GET", &format!("/_sim/private-link-connections/{id}"), None);
    let world = sim.control("GET", "/_sim/world", None).1.to_string();
    assert!(
        !world.contains(id) || status == 404,
        "connection still exists after destroy: {world}"
    );
}

#[test]
fn alicloud_create_plan_no_changes_destroy() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&Connection::alicloud("c", "rds", ALI_AUTO).to_string());
    tf.apply();
    assert_eq!(attr(&tf, "state"), "ACTIVE");
    assert_eq!(attr(&tf, "type"), "ALICLOUD_ENDPOINT_SERVICE");
    assert_eq!(
        attr(&tf, "alicloud_endpoint_service")["availability_zone_ids"],
        json!(["ap-southeast-1a", "ap-southeast-1b"])
    );
    tf.assert_no_changes();
    tf.destroy();
}

#[test]
fn acceptance_required_warns_then_refresh_shows_active() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("c", "kafka", AWS_MANUAL, ""));
    let run = tf.apply();
    run.assert_mentions("Private link connection created at PENDING_ACCEPTANCE");
    let endpoint = attr(&tf, "aws_endpoint_service")["endpoint_id"]
        .as_str()
        .expect("endpoint")
        .to_string();
    run.assert_mentions(&format!("accept endpoint {endpoint}"));
    assert_eq!(attr(&tf, "state"), "PENDING_ACCEPTANCE");
    sim.accept(AWS_MANUAL);
    tf.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(attr(&tf, "state"), "ACTIVE");
    tf.assert_no_changes();
}

#[test]
fn wait_for_active_waits_through_an_acceptance() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection(
        "c",
        "kafka",
        AWS_MANUAL,
        "  wait_for_active = true",
    ));
    let child = tf
        .command(&["apply", "-auto-approve", "-no-color"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply");
    eventually("the connection to be pending", || {
        sim.control("GET", "/_sim/world", None)
            .1
            .to_string()
            .contains("PENDING_ACCEPTANCE")
    });
    sim.accept(AWS_MANUAL);
    let out = child.wait_with_output().expect("apply finished");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(attr(&tf, "state"), "ACTIVE");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("created at PENDING_ACCEPTANCE"));
}

#[test]
fn failed_create_is_saved_tainted_and_replaced_next_time() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    let unregistered = "com.amazonaws.vpce.us-west-2.vpce-svc-0aaaaaaaaaaaaaaaa";
    tf.write(&aws_connection("c", "kafka", unregistered, ""));
    let run = tf.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(!run.success);
    run.assert_mentions("Private link connection failed");
    run.assert_mentions("not found");
    let r = tf
        .resource(ADDR)
        .expect("the failed connection is in the state");
    assert_eq!(r["tainted"], true, "{r}");
    let first_id = r["values"]["private_link_connection_id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(r["values"]["state"], "FAILED");
    // Make the service exist; the next apply replaces the tainted connection.
    sim.post(
        "/_sim/endpoint-services",
        json!({"name": unregistered, "cloud_provider": "aws", "region": "us-west-2", "az_ids": ["usw2-az1"], "allowed_principals": ["arn:aws:iam::123456789012:root"], "acceptance_required": false}),
    );
    let plan = tf.plan();
    assert_eq!(plan.code, Some(2));
    plan.assert_mentions("is tainted, so must be replaced");
    tf.apply();
    let r = tf.resource(ADDR).expect("in state");
    assert_ne!(r["values"]["private_link_connection_id"], first_id.as_str());
    assert_eq!(r["values"]["state"], "ACTIVE");
    assert!(r.get("tainted").is_none_or(|t| t == false));
}

#[test]
fn create_timeout_keeps_the_id_in_state_tainted() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection(
        "c",
        "kafka",
        AWS_MANUAL,
        "  wait_for_active = true\n  timeouts {\n    create = \"2s\"\n  }",
    ));
    let run = tf.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(!run.success);
    run.assert_mentions("Timed out waiting for the private link connection");
    let r = tf.resource(ADDR).expect("the connection is in the state");
    assert_eq!(r["tainted"], true);
    assert_eq!(r["values"]["state"], "PENDING_ACCEPTANCE");
    let id = r["values"]["private_link_connection_id"]
        .as_str()
        .expect("id");
    assert!(sim
        .control("GET", "/_sim/world", None)
        .1
        .to_string()
        .contains(id));
}

#[test]
fn ctrl_c_during_the_wait_keeps_the_id() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection(
        "c",
        "kafka",
        AWS_MANUAL,
        "  wait_for_active = true",
    ));
    let mut cmd = tf.command(&["apply", "-auto-approve", "-no-color"]);
    cmd.process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().expect("apply");
    let pgid = child.id();
    eventually("the connection to be pending", || {
        sim.control("GET", "/_sim/world", None)
            .1
            .to_string()
            .contains("PENDING_ACCEPTANCE")
    });
    // As a terminal's Ctrl-C: the signal reaches terraform and the provider.
    let status = std::process::Command::new("kill")
        .args(["-INT", "--", &format!("-{pgid}")])
        .status()
        .expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("apply ended");
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("Interrupted"), "{all}");
    let r = tf
        .resource(ADDR)
        .expect("the connection is in the state after Ctrl-C");
    let id = r["values"]["private_link_connection_id"]
        .as_str()
        .expect("id");
    assert!(id.starts_with("plc-"));
    assert_eq!(r["tainted"], true);
}

#[test]
fn out_of_band_delete_plans_a_create() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    tf.apply();
    let id = attr(&tf, "private_link_connection_id")
        .as_str()
        .expect("id")
        .to_string();
    let (status, _) = sim.control(
        "DELETE",
        &format!("/_sim/private-link-connections/{id}"),
        None,
    );
    assert!(status < 300);
    let plan = tf.plan();
    assert_eq!(plan.code, Some(2), "{}", plan.all());
    plan.assert_mentions("will be created");
    tf.apply();
    tf.assert_no_changes();
}

#[test]
fn a_connection_that_fails_later_is_replaced_with_its_message_shown() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    tf.apply();
    let id = attr(&tf, "private_link_connection_id")
        .as_str()
        .expect("id")
        .to_string();
    sim.post(
        &format!("/_sim/private-link-connections/{id}/fail"),
        json!({"message": "endpoint service was deleted"}),
    );
    let plan = tf.plan();
    assert_eq!(plan.code, Some(2), "{}", plan.all());
    plan.assert_mentions("endpoint service was deleted");
    plan.assert_mentions("must be replaced");
    tf.apply();
    assert_eq!(attr(&tf, "state"), "ACTIVE");
    assert_ne!(attr(&tf, "private_link_connection_id"), id.as_str());
}

#[test]
fn changing_an_argument_replaces_and_timeouts_change_in_place() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    tf.apply();
    tf.write(&aws_connection(
        "c",
        "kafka",
        AWS_AUTO,
        "  timeouts {\n    create = \"45m\"\n  }",
    ));
    let plan = tf.plan();
    plan.assert_mentions("1 to change, 0 to destroy");
    tf.apply();
    tf.write(&aws_connection(
        "c",
        "kafka-renamed",
        AWS_AUTO,
        "  timeouts {\n    create = \"45m\"\n  }",
    ));
    let plan = tf.plan();
    plan.assert_mentions("forces replacement");
    plan.assert_mentions("1 to add, 0 to change, 1 to destroy");
    // The replacement plans a new endpoint, but values that cannot change
    // (the type and the region, from the configuration and the cluster) stay
    // known in the plan.
    let unknown = |name: &str| {
        plan.stdout.lines().any(|line| {
            line.trim_start_matches([' ', '+', '-', '~', '/'])
                .starts_with(&format!("{name} "))
                && line.contains("(known after apply)")
        })
    };
    plan.assert_mentions("-/+");
    assert!(unknown("endpoint_id"), "{}", plan.all());
    assert!(!unknown("type"), "{}", plan.all());
    assert!(!unknown("region"), "{}", plan.all());
}

#[test]
fn paused_cluster_and_cloud_mismatch_fail_at_plan() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(
        &Connection::aws("c", "kafka", AWS_AUTO)
            .cluster(PAUSED_CLUSTER)
            .to_string(),
    );
    let plan = tf.plan();
    assert_eq!(plan.code, Some(1));
    plan.assert_mentions("is PAUSED");
    tf.write(
        &Connection::aws("c", "kafka", AWS_AUTO)
            .cluster(ALI_CLUSTER)
            .to_string(),
    );
    let plan = tf.plan();
    assert_eq!(plan.code, Some(1));
    plan.assert_mentions("runs on alicloud");
    plan.assert_mentions("alicloud_endpoint_service");
    assert_eq!(
        sim.stats()["requests_total"].as_u64().map(|n| n > 0),
        Some(true)
    );
}

#[test]
fn malformed_input_fails_at_plan_with_the_attribute_path() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        r#"
resource "tidbcloud_private_link_connection" "c" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = " leading space"
  aws_endpoint_service = {{
    name = "vpce-svc-0123"
  }}
  timeouts {{
    create = "soon"
  }}
}}
resource "tidbcloud_private_link_connection" "both" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "both"
  aws_endpoint_service = {{
    name = "{AWS_AUTO}"
  }}
  alicloud_endpoint_service = {{
    name = "{ALI_AUTO}"
  }}
}}
"#
    ));
    let plan = tf.plan();
    assert_eq!(plan.code, Some(1));
    plan.assert_mentions("Invalid display name");
    plan.assert_mentions("Invalid AWS endpoint service name");
    plan.assert_mentions("com.amazonaws.vpce.<region>.vpce-svc-");
    plan.assert_mentions("Invalid timeout");
    plan.assert_mentions("Conflicting endpoint services");
    // Terraform renders the attribute path as the configuration line.
    plan.assert_mentions("display_name = \" leading space\"");
    assert_eq!(
        sim.stats()["requests_total"],
        0,
        "validation must not call the API"
    );
}

#[test]
fn delete_blocked_by_domains_says_which_and_how() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    tf.apply();
    let id = attr(&tf, "private_link_connection_id")
        .as_str()
        .expect("id")
        .to_string();
    // Another configuration attaches domains to it.
    let other = Tf::new(Some(&sim));
    other.write(&format!(
        r#"
resource "tidbcloud_private_link_domains" "d" {{
  cluster_id                 = "{AWS_CLUSTER}"
  private_link_connection_id = "{id}"
  type                       = "TIDBCLOUD_MANAGED"
}}
"#
    ));
    other.apply();
    let attach = other
        .resource("tidbcloud_private_link_domains.d")
        .expect("domains")["values"]["attach_domain_id"]
        .as_str()
        .expect("attach id")
        .to_string();
    let run = tf.run(&["destroy", "-auto-approve", "-no-color"]);
    assert!(!run.success);
    run.assert_mentions("has attached domains");
    run.assert_mentions(&attach);
    run.assert_mentions("Detach them first");
    // An attachment this state does not manage can be imported.
    run.assert_mentions(&format!(
        "terraform import tidbcloud_private_link_domains.NAME {AWS_CLUSTER},{id},{attach}"
    ));
    run.assert_mentions(&format!(
        "to = tidbcloud_private_link_domains.NAME id = \"{AWS_CLUSTER},{id},{attach}\""
    ));
    assert!(
        tf.resource(ADDR).is_some(),
        "the connection stays in the state"
    );
    other.destroy();
    tf.destroy();
}

#[test]
fn import_round_trip_with_generated_configuration() {
    let sim = Sim::start(&[]);
    let source = Tf::new(Some(&sim));
    source.write(&aws_connection("c", "console-made", AWS_AUTO, ""));
    source.apply();
    let id = attr(&source, "id").as_str().expect("id").to_string();

    // CLI import.
    let cli = Tf::new(Some(&sim));
    cli.write(&aws_connection("c", "console-made", AWS_AUTO, ""));
    cli.ok(&["import", "-no-color", ADDR, &id]);
    cli.assert_no_changes();

    // import block with generated configuration.
    let generated = Tf::new(Some(&sim));
    generated.write(&format!("import {{\n  to = {ADDR}\n  id = \"{id}\"\n}}\n"));
    generated.ok(&["plan", "-no-color", "-generate-config-out=generated.tf"]);
    let text =
        std::fs::read_to_string(generated.path().join("generated.tf")).expect("generated.tf");
    assert!(text.contains("console-made"), "{text}");
    generated.apply();
    generated.assert_no_changes();

    // Malformed ids are clear errors.
    let bad = Tf::new(Some(&sim));
    bad.write(&aws_connection("c", "console-made", AWS_AUTO, ""));
    let run = bad.run(&["import", "-no-color", ADDR, AWS_CLUSTER]);
    assert!(!run.success);
    run.assert_mentions("<cluster_id>,<private_link_connection_id>");
}

#[test]
fn refreshing_many_connections_costs_listings_not_one_call_each() {
    let sim = Sim::start(&["--transition-delay-ms", "20"]);
    let tf = Tf::new(Some(&sim));
    tf.write(
        &Connection::aws("many", "kafka-${count.index}", AWS_AUTO)
            .count(40)
            .to_string(),
    );
    tf.apply();
    sim.post("/_sim/stats/reset", json!({}));
    tf.assert_no_changes();
    let stats = sim.stats();
    let total = stats["requests_total"].as_u64().expect("requests_total");
    // One listing (a page holds 100) serves the refresh; a few more are
    // allowed for reads that start after the listing's window.
    assert!(
        total < 10,
        "refreshing 40 connections took {total} API requests: {stats}"
    );
}

/// An endpoint service in another region than the cluster's: the plan
/// error names the `aws_endpoint_service.region` option for cross-region
/// services.
#[test]
fn an_endpoint_service_in_another_region_names_the_region_option() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection(
        "c",
        "kafka",
        "com.amazonaws.vpce.us-east-1.vpce-svc-01234567890abcdef",
        "",
    ));
    let plan = tf.plan();
    assert_eq!(plan.code, Some(1), "{}", plan.all());
    plan.assert_mentions("Endpoint service in another region");
    plan.assert_mentions("aws_endpoint_service.region = \"us-east-1\"");
}

/// Asserts that `diagnostic` names `resource` and the configuration line of
/// `main.tf` holding `text` (Terraform's "on main.tf line N" and the line
/// itself in the snippet).
fn points_at(tf: &Tf, diagnostic: &str, resource: &str, text: &str) {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let line = tf.line_of(text);
    let diagnostic = squash(diagnostic);
    assert!(
        diagnostic.contains(&format!(
            "with tidbcloud_private_link_connection.{resource},"
        )),
        "{diagnostic}"
    );
    assert!(
        diagnostic.contains(&squash(&format!("{line}: {text}"))),
        "expected line {line} ({text}) in: {diagnostic}"
    );
    assert!(
        !diagnostic.contains(&format!(
            "{line}: resource \"tidbcloud_private_link_connection\""
        )),
        "points at the resource block: {diagnostic}"
    );
}

/// A bad endpoint service name or region is shown at its attribute, not at
/// the resource block, and the message names the attribute.
#[test]
fn endpoint_service_errors_point_at_the_attribute() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        r#"
resource "tidbcloud_private_link_connection" "bad_name" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "bad-name"
  aws_endpoint_service = {{
    name = "vpce-svc-0123"
  }}
}}
resource "tidbcloud_private_link_connection" "bad_region" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "bad-region"
  aws_endpoint_service = {{
    name   = "{AWS_AUTO}"
    region = "uswest2"
  }}
}}
resource "tidbcloud_private_link_connection" "other_region" {{
  cluster_id   = "{AWS_CLUSTER}"
  display_name = "other-region"
  aws_endpoint_service = {{
    name   = "{AWS_AUTO}"
    region = "us-east-1"
  }}
}}
resource "tidbcloud_private_link_connection" "bad_ali" {{
  cluster_id   = "{ALI_CLUSTER}"
  display_name = "bad-ali"
  alicloud_endpoint_service = {{
    name = "epsrv-t4n0123"
  }}
}}
"#
    ));
    let plan = tf.plan();
    assert_eq!(plan.code, Some(1), "{}", plan.all());
    let d = plan.diagnostic("Invalid AWS endpoint service name");
    points_at(&tf, &d, "bad_name", "name = \"vpce-svc-0123\"");
    assert!(d.contains("aws_endpoint_service.name"), "{d}");
    let d = plan.diagnostic("Invalid region");
    points_at(&tf, &d, "bad_region", "region = \"uswest2\"");
    assert!(d.contains("aws_endpoint_service.region"), "{d}");
    let d = plan.diagnostic("Endpoint service in another region");
    points_at(&tf, &d, "other_region", "region = \"us-east-1\"");
    assert!(d.contains("aws_endpoint_service.region"), "{d}");
    let d = plan.diagnostic("Invalid Alibaba Cloud endpoint service name");
    points_at(&tf, &d, "bad_ali", "name = \"epsrv-t4n0123\"");
    assert!(d.contains("alicloud_endpoint_service.name"), "{d}");

    // Checked against the cluster at plan: a service in another region.
    let other = "com.amazonaws.vpce.us-east-1.vpce-svc-01234567890abcdef";
    tf.write(&aws_connection("c", "kafka", other, ""));
    let plan = tf.plan();
    assert_eq!(plan.code, Some(1), "{}", plan.all());
    let d = plan.diagnostic("Endpoint service in another region");
    points_at(&tf, &d, "c", &format!("name = \"{other}\""));
    assert!(d.contains("aws_endpoint_service.name"), "{d}");
}

/// Every import error names what is wrong (the cluster or the connection,
/// the part of the ID) and where to find the right IDs.
#[test]
fn import_errors_name_the_wrong_part_and_where_to_find_the_ids() {
    let sim = Sim::start(&[]);
    let source = Tf::new(Some(&sim));
    source.write(&aws_connection("c", "console-made", AWS_AUTO, ""));
    source.apply();
    let plc = attr(&source, "private_link_connection_id")
        .as_str()
        .expect("id")
        .to_string();
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("c", "console-made", AWS_AUTO, ""));
    let import = |id: &str| {
        let run = tf.run(&["import", "-no-color", ADDR, id]);
        assert!(!run.success, "{id}: {}", run.all());
        run.assert_mentions("data.tidbcloud_private_link_connections");
        assert!(!run.all().contains("resource's id"), "{}", run.all());
        run
    };
    // Both missing a cluster and missing a connection are a 404 on the
    // connection: the cluster is read to tell which.
    let run = import(&format!("1000000000000000009,{plc}"));
    run.assert_mentions("Cannot import from a cluster that does not exist");
    run.assert_mentions("no cluster \"1000000000000000009\"");
    let run = import(&format!("{AWS_CLUSTER},plc-0000000000000000"));
    run.assert_mentions("Cannot import a connection that does not exist");
    run.assert_mentions(&format!(
        "Cluster {AWS_CLUSTER} has no private link connection plc-0000000000000000"
    ));
    for sep in [";", "/"] {
        let run = import(&format!("{AWS_CLUSTER}{sep}{plc}"));
        run.assert_mentions(&format!("separates its parts with \"{sep}\""));
        run.assert_mentions(&format!("ready to copy: {AWS_CLUSTER},{plc}"));
    }
    import(&format!("{AWS_CLUSTER},,{plc}")).assert_mentions("empty part");
    import(&format!("{AWS_CLUSTER},{plc},atd-0123456789abcdef"))
        .assert_mentions("its third part, \"atd-0123456789abcdef\", is an attach domain ID");
    import(&format!("{AWS_CLUSTER},atd-0123456789abcdef"))
        .assert_mentions("imported as tidbcloud_private_link_domains");
    let run = import(&format!("{AWS_CLUSTER}, {plc}"));
    run.assert_mentions("has a space after a comma");
    run.assert_mentions(&format!("ready to copy: {AWS_CLUSTER},{plc}"));
    // The fixed ID imports.
    tf.ok(&["import", "-no-color", ADDR, &format!("{AWS_CLUSTER},{plc}")]);
}
