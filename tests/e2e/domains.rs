//! `tidbcloud_private_link_domains`: attach, preview in the plan, detach,
//! drift and import.

use serde_json::json;

use crate::harness::*;

const DOMAINS: &str = "tidbcloud_private_link_domains.d";

fn domain_names(tf: &Tf) -> Vec<String> {
    let r = tf.resource(DOMAINS).expect("domains in state");
    r["values"]["domains"]
        .as_array()
        .expect("domains")
        .iter()
        .map(|d| d["name"].as_str().expect("name").to_string())
        .collect()
}

fn connection_id(tf: &Tf, address: &str) -> String {
    tf.resource(address).expect("connection")["values"]["private_link_connection_id"]
        .as_str()
        .expect("id")
        .to_string()
}

fn domains_block(
    connection_id: &str,
    cluster: &str,
    kind: &str,
    unique_name: Option<&str>,
) -> String {
    let unique = unique_name
        .map(|u| format!("  unique_name = \"{u}\"\n"))
        .unwrap_or_default();
    format!(
        r#"
resource "tidbcloud_private_link_domains" "d" {{
  cluster_id                 = "{cluster}"
  private_link_connection_id = {connection_id}
  type                       = "{kind}"
{unique}}}
"#
    )
}

#[test]
fn one_apply_creates_accepts_and_attaches() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        r#"
{connection}
resource "terraform_data" "accept" {{
  input = tidbcloud_private_link_connection.c.aws_endpoint_service.endpoint_id
  provisioner "local-exec" {{
    command = "curl -fsS -X POST '{url}/_sim/endpoint-services/{AWS_MANUAL}/accept'"
  }}
}}
resource "tidbcloud_private_link_domains" "d" {{
  cluster_id                 = "{AWS_CLUSTER}"
  private_link_connection_id = tidbcloud_private_link_connection.c.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  depends_on                 = [terraform_data.accept]
}}
"#,
        connection = aws_connection("c", "kafka", AWS_MANUAL, ""),
        url = sim.url
    ));
    let run = tf.apply();
    // The warning at the end stays true although this apply accepted.
    let warning = run.diagnostic("Private link connection created at PENDING_ACCEPTANCE");
    assert!(
        warning.contains("If this configuration accepts"),
        "{warning}"
    );
    assert!(
        !run.all().contains("is waiting for acceptance"),
        "{}",
        run.all()
    );
    let r = tf.resource(DOMAINS).expect("domains");
    let unique = r["values"]["unique_name"]
        .as_str()
        .expect("generated unique name")
        .to_string();
    let mut names = domain_names(&tf);
    names.sort();
    let expected: Vec<String> = ["usw2-az1", "usw2-az2", "usw2-az3"]
        .iter()
        .map(|az| format!("*.{az}.{unique}.aws.plc.tidbcloud.com"))
        .collect();
    assert_eq!(names, expected);
    for d in r["values"]["domains"].as_array().expect("domains") {
        assert_eq!(d["state"], "SUCCEEDED");
    }
    assert_eq!(
        r["values"]["domains_by_az"]["usw2-az2"],
        format!("*.usw2-az2.{unique}.aws.plc.tidbcloud.com")
    );
    tf.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    assert_eq!(
        tf.resource("tidbcloud_private_link_connection.c")
            .expect("c")["values"]["state"],
        "ACTIVE"
    );
    tf.assert_no_changes();
    // Destroy detaches before deleting the connection.
    tf.destroy();
    assert!(!sim
        .control("GET", "/_sim/world", None)
        .1
        .to_string()
        .contains("plc-"));
}

#[test]
fn plan_lists_the_exact_domains_and_the_saved_plan_applies() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    tf.apply();
    let conn = "tidbcloud_private_link_connection.c.private_link_connection_id";
    tf.write(&format!(
        "{}{}",
        aws_connection("c", "kafka", AWS_AUTO, ""),
        domains_block(conn, AWS_CLUSTER, "TIDBCLOUD_MANAGED", Some("kafka-prod"))
    ));
    let plan = tf.ok(&["plan", "-no-color", "-out=tfplan"]);
    for az in ["usw2-az1", "usw2-az2", "usw2-az3"] {
        plan.assert_mentions(&format!("\"*.{az}.kafka-prod.aws.plc.tidbcloud.com\""));
    }
    let attached = sim.control("GET", "/_sim/world", None).1.to_string();
    assert!(
        !attached.contains("kafka-prod.aws.plc"),
        "the preview must not attach anything"
    );
    tf.ok(&["apply", "-no-color", "tfplan"]);
    assert_eq!(domain_names(&tf).len(), 3);
    tf.assert_no_changes();
}

#[test]
fn taken_unique_names_warn_at_plan_and_fail_at_apply() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    let conns = format!(
        "{}{}",
        aws_connection("a", "a", AWS_AUTO, ""),
        aws_connection("b", "b", AWS_AUTO, "")
    );
    tf.write(&format!(
        "{conns}{}",
        domains_block(
            "tidbcloud_private_link_connection.a.private_link_connection_id",
            AWS_CLUSTER,
            "TIDBCLOUD_MANAGED",
            Some("taken")
        )
    ));
    tf.apply();
    tf.write(&format!(
        "{conns}{}{}",
        domains_block(
            "tidbcloud_private_link_connection.a.private_link_connection_id",
            AWS_CLUSTER,
            "TIDBCLOUD_MANAGED",
            Some("taken")
        ),
        domains_block(
            "tidbcloud_private_link_connection.b.private_link_connection_id",
            AWS_CLUSTER,
            "TIDBCLOUD_MANAGED",
            Some("taken")
        )
        .replace("\"d\"", "\"e\"")
    ));
    // A name the dry run reports as taken may be held by an attachment this
    // apply replaces, so the plan only warns; apply reports the outcome.
    let plan = tf.plan();
    assert_eq!(plan.code, Some(2), "{}", plan.all());
    plan.assert_mentions("Domains not previewed");
    plan.assert_mentions("taken");
    let run = tf.run(&["apply", "-auto-approve", "-no-color", "-input=false"]);
    assert!(!run.success, "{}", run.all());
    run.assert_mentions("Could not attach the domains");
    assert!(tf.resource("tidbcloud_private_link_domains.e").is_none());
}

/// Moving an attachment to another connection keeps its unique name, which
/// the attachment being replaced still holds at plan time: the plan does
/// not fail on it, and the apply (detach first) succeeds.
#[test]
fn a_replacement_keeping_the_unique_name_applies() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    let conns = format!(
        "{}{}",
        aws_connection("a", "a", AWS_AUTO, ""),
        aws_connection("b", "b", AWS_AUTO, "")
    );
    let on = |c: &str| {
        domains_block(
            &format!("tidbcloud_private_link_connection.{c}.private_link_connection_id"),
            AWS_CLUSTER,
            "TIDBCLOUD_MANAGED",
            Some("moving"),
        )
    };
    tf.write(&format!("{conns}{}", on("a")));
    tf.apply();
    tf.write(&format!("{conns}{}", on("b")));
    let plan = tf.plan();
    assert_eq!(plan.code, Some(2), "{}", plan.all());
    plan.assert_mentions("must be replaced");
    tf.apply();
    assert_eq!(
        tf.resource(DOMAINS).expect("d")["values"]["private_link_connection_id"],
        tf.resource("tidbcloud_private_link_connection.b")
            .expect("b")["values"]["private_link_connection_id"]
    );
    tf.assert_no_changes();
}

#[test]
fn alicloud_managed_has_one_domain() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&format!(
        "{}{}",
        Connection::alicloud("c", "kafka", ALI_AUTO),
        domains_block(
            "tidbcloud_private_link_connection.c.private_link_connection_id",
            ALI_CLUSTER,
            "TIDBCLOUD_MANAGED",
            None
        )
    ));
    tf.apply();
    let r = tf.resource(DOMAINS).expect("domains");
    let unique = r["values"]["unique_name"].as_str().expect("unique");
    assert_eq!(
        domain_names(&tf),
        [format!("*.{unique}.alicloud.plc.tidbcloud.com")]
    );
    assert_eq!(r["values"]["domains_by_az"], json!({}));
    tf.assert_no_changes();
    tf.destroy();
}

#[test]
fn confluent_domains_and_a_change_of_type_replaces() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    let conn = aws_connection("c", "kafka", AWS_AUTO, "");
    let id = "tidbcloud_private_link_connection.c.private_link_connection_id";
    tf.write(&format!(
        "{conn}{}",
        domains_block(id, AWS_CLUSTER, "CONFLUENT", Some("lkc-abc123"))
    ));
    tf.apply();
    let mut names = domain_names(&tf);
    names.sort();
    assert_eq!(
        names[0],
        "*.usw2-az1.lkc-abc123.us-west-2.aws.confluent.cloud"
    );
    assert_eq!(names.len(), 3);
    let first = tf.resource(DOMAINS).expect("d")["values"]["attach_domain_id"].clone();
    tf.write(&format!(
        "{conn}{}",
        domains_block(id, AWS_CLUSTER, "TIDBCLOUD_MANAGED", Some("kafka2"))
    ));
    let plan = tf.plan();
    plan.assert_mentions("forces replacement");
    plan.assert_mentions("1 to add, 0 to change, 1 to destroy");
    tf.apply();
    let r = tf.resource(DOMAINS).expect("d");
    assert_ne!(r["values"]["attach_domain_id"], first);
    assert_eq!(r["values"]["type"], "TIDBCLOUD_MANAGED");
    tf.assert_no_changes();
}

#[test]
fn out_of_band_detach_plans_a_reattach() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    let conn = aws_connection("c", "kafka", AWS_AUTO, "");
    tf.write(&format!(
        "{conn}{}",
        domains_block(
            "tidbcloud_private_link_connection.c.private_link_connection_id",
            AWS_CLUSTER,
            "TIDBCLOUD_MANAGED",
            None
        )
    ));
    tf.apply();
    let id = connection_id(&tf, "tidbcloud_private_link_connection.c");
    let (status, _) = sim.control(
        "DELETE",
        &format!("/_sim/private-link-connections/{id}/domains"),
        None,
    );
    assert!(status < 300);
    let plan = tf.plan();
    assert_eq!(plan.code, Some(2), "{}", plan.all());
    plan.assert_mentions("tidbcloud_private_link_domains.d will be created");
    tf.apply();
    tf.assert_no_changes();
}

#[test]
fn import_and_second_attachment_error() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    let conn = aws_connection("c", "kafka", AWS_AUTO, "");
    tf.write(&format!(
        "{conn}{}",
        domains_block(
            "tidbcloud_private_link_connection.c.private_link_connection_id",
            AWS_CLUSTER,
            "TIDBCLOUD_MANAGED",
            Some("imp")
        )
    ));
    tf.apply();
    let r = tf.resource(DOMAINS).expect("d");
    let import_id = r["values"]["id"].as_str().expect("id").to_string();
    let attach_id = r["values"]["attach_domain_id"]
        .as_str()
        .expect("attach")
        .to_string();
    let plc = connection_id(&tf, "tidbcloud_private_link_connection.c");

    let other = Tf::new(Some(&sim));
    other.write(&domains_block(
        &format!("\"{plc}\""),
        AWS_CLUSTER,
        "TIDBCLOUD_MANAGED",
        Some("imp"),
    ));
    other.ok(&["import", "-no-color", DOMAINS, &import_id]);
    other.assert_no_changes();
    let bad = other.run(&[
        "import",
        "-no-color",
        "tidbcloud_private_link_domains.x",
        "1,2",
    ]);
    assert!(!bad.success);

    // An import block with generated configuration plans no changes after.
    let generated = Tf::new(Some(&sim));
    generated.write(&format!(
        "import {{\n  to = {DOMAINS}\n  id = \"{import_id}\"\n}}\n"
    ));
    generated.ok(&["plan", "-no-color", "-generate-config-out=generated.tf"]);
    let text =
        std::fs::read_to_string(generated.path().join("generated.tf")).expect("generated.tf");
    assert!(
        text.contains("unique_name                = \"imp\""),
        "{text}"
    );
    generated.apply();
    generated.assert_no_changes();

    // A second attachment on the same connection names the existing one.
    let second = Tf::new(Some(&sim));
    second.write(&domains_block(
        &format!("\"{plc}\""),
        AWS_CLUSTER,
        "TIDBCLOUD_MANAGED",
        None,
    ));
    let run = second.run(&["apply", "-auto-approve", "-no-color"]);
    assert!(!run.success);
    run.assert_mentions("already has domains attached");
    run.assert_mentions(&attach_id);
    // The hint to import it shows the command and the block.
    run.assert_mentions(&format!(
        "terraform import tidbcloud_private_link_domains.NAME {import_id}"
    ));
    run.assert_mentions(&format!(
        "to = tidbcloud_private_link_domains.NAME id = \"{import_id}\""
    ));
}

#[test]
fn confluent_rules_are_checked_at_plan() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    // Validation first (no API call), then the checks that need the cluster.
    tf.write(&domains_block("\"plc-x\"", AWS_CLUSTER, "CONFLUENT", None));
    let plan = tf.plan();
    assert_eq!(plan.code, Some(1));
    plan.assert_mentions("Missing unique name");
    tf.write(&domains_block(
        "\"plc-y\"",
        ALI_CLUSTER,
        "CONFLUENT",
        Some("lkc-1"),
    ));
    let plan = tf.plan();
    assert_eq!(plan.code, Some(1));
    plan.assert_mentions("CONFLUENT domains need an AWS cluster");
    tf.write(&domains_block("\"plc-x\"", AWS_CLUSTER, "KAFKA", None));
    let plan = tf.plan();
    plan.assert_mentions("Invalid domain type");
}

/// Import errors of the domains say which part is missing or wrong, and
/// where the IDs are listed.
#[test]
fn domains_import_errors_say_what_is_missing() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    tf.apply();
    let plc = connection_id(&tf, "tidbcloud_private_link_connection.c");
    let other = Tf::new(Some(&sim));
    other.write(&domains_block(
        &format!("\"{plc}\""),
        AWS_CLUSTER,
        "TIDBCLOUD_MANAGED",
        None,
    ));
    let import = |id: &str| {
        let run = other.run(&["import", "-no-color", DOMAINS, id]);
        assert!(!run.success, "{id}: {}", run.all());
        run.assert_mentions("data.tidbcloud_private_link_connections");
        run.assert_mentions("attached_domains");
        run
    };
    import(&format!("{AWS_CLUSTER},{plc}"))
        .assert_mentions("its attach_domain_id (the third part) is missing");
    import(&format!("1000000000000000009,{plc},atd-0123456789abcdef"))
        .assert_mentions("no cluster \"1000000000000000009\"");
    import(&format!(
        "{AWS_CLUSTER},plc-0000000000000000,atd-0123456789abcdef"
    ))
    .assert_mentions("has no private link connection plc-0000000000000000");
    import(&format!("{AWS_CLUSTER},{plc},atd-0123456789abcdef"))
        .assert_mentions("has no attachment atd-0123456789abcdef");
}
