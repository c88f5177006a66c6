//! The provider as Terraform first meets it: schema, validation without
//! credentials, configuration errors.

use crate::harness::*;

const ALL_TYPES: &str = r#"
provider "tidbcloud" {}

data "tidbcloud_private_link_availability_zones" "this" {
  cluster_id = "1000000000000000001"
}

data "tidbcloud_private_link_connections" "all" {
  cluster_id = "1000000000000000001"
  state      = "ACTIVE"
}

data "tidbcloud_private_link_connection" "one" {
  cluster_id   = "1000000000000000001"
  display_name = "kafka"
}

resource "tidbcloud_private_link_connection" "kafka" {
  cluster_id   = "1000000000000000001"
  display_name = "kafka"
  aws_endpoint_service = {
    name = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"
  }
  timeouts {
    create = "10m"
  }
}

resource "tidbcloud_private_link_domains" "kafka" {
  cluster_id                 = tidbcloud_private_link_connection.kafka.cluster_id
  private_link_connection_id = tidbcloud_private_link_connection.kafka.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
}

output "principal" {
  value = provider::tidbcloud::endpoint_service_principal(data.tidbcloud_private_link_availability_zones.this.cloud_provider, data.tidbcloud_private_link_availability_zones.this.account_id)
}

output "listener" {
  value = provider::tidbcloud::kafka_advertised_listener("*.usw2-az1.kafka.aws.plc.tidbcloud.com", "b1", 9093)
}
"#;

#[test]
fn schema_lists_every_resource_and_data_source_with_descriptions() {
    let tf = Tf::new(None);
    tf.write(ALL_TYPES);
    let run = tf.ok(&["providers", "schema", "-json"]);
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).expect("schema JSON");
    let provider = &schema["provider_schemas"]["terraform.local/tidbcloud/tidbcloud"];
    let resources = provider["resource_schemas"].as_object().expect("resources");
    let data_sources = provider["data_source_schemas"]
        .as_object()
        .expect("data sources");
    let mut names: Vec<&str> = resources.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "tidbcloud_private_link_connection",
            "tidbcloud_private_link_domains"
        ]
    );
    let mut names: Vec<&str> = data_sources.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "tidbcloud_private_link_availability_zones",
            "tidbcloud_private_link_connection",
            "tidbcloud_private_link_connections"
        ]
    );
    for (name, s) in resources.iter().chain(data_sources.iter()) {
        let block = &s["block"];
        assert!(
            block["description"].as_str().is_some_and(|d| d.len() > 20),
            "{name} has no description"
        );
        for (attr, a) in block["attributes"].as_object().expect("attributes") {
            assert!(
                a["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{name}.{attr} has no description"
            );
        }
    }
    assert_eq!(
        provider["provider"]["block"]["attributes"]["private_key"]["sensitive"],
        true
    );
    let functions = provider["functions"].as_object().expect("functions");
    assert!(functions.contains_key("kafka_advertised_listener"));
    assert!(functions.contains_key("endpoint_service_principal"));
}

#[test]
fn validate_passes_without_credentials() {
    let tf = Tf::new(None);
    tf.write(ALL_TYPES);
    let run = tf.ok(&["validate", "-no-color"]);
    run.assert_mentions("The configuration is valid");
}

#[test]
fn missing_credentials_are_one_clear_error_at_plan() {
    let tf = Tf::new(None);
    tf.write(ALL_TYPES);
    let run = tf.plan();
    assert_eq!(run.code, Some(1));
    run.assert_mentions("Missing TiDB Cloud API key");
    run.assert_mentions("TIDBCLOUD_PRIVATE_KEY");
}

#[test]
fn plain_http_endpoints_are_refused_unless_loopback() {
    let mut tf = Tf::new(None);
    tf.set_env("TIDBCLOUD_PUBLIC_KEY", "a");
    tf.set_env("TIDBCLOUD_PRIVATE_KEY", "super-secret-private-key");
    tf.set_env("TIDBCLOUD_SERVERLESS_ENDPOINT", "http://api.example.com");
    tf.write(ALL_TYPES);
    let run = tf.plan();
    assert_eq!(run.code, Some(1));
    run.assert_mentions("https");
    assert!(
        !run.all().contains("super-secret-private-key"),
        "the private key leaked:\n{}",
        run.all()
    );
}

#[test]
fn a_wrong_key_is_reported_without_leaking_it() {
    let sim = Sim::start(&[]);
    let mut tf = Tf::new(Some(&sim));
    tf.set_env("TIDBCLOUD_PRIVATE_KEY", "not-the-right-private-key");
    tf.write(
        r#"
data "tidbcloud_private_link_availability_zones" "this" {
  cluster_id = "1000000000000000001"
}
"#,
    );
    let run = tf.plan();
    assert_eq!(run.code, Some(1));
    run.assert_mentions("API key was rejected");
    assert!(!run.all().contains("not-the-right-private-key"));
}

/// At the provider's trace level, the log shows the provider's API lines
/// (with the host, the trace id, and the 401 that starts Digest called a
/// challenge) and none of the HTTP library's own lines, which
/// `TIDBCLOUD_LOG_HTTP` turns on; no secret in either.
#[test]
fn trace_logs_keep_the_http_library_behind_its_own_variable() {
    let sim = Sim::start(&[]);
    let mut tf = Tf::new(Some(&sim));
    tf.set_env("TF_LOG_PROVIDER", "TRACE");
    tf.write(
        r#"
data "tidbcloud_private_link_availability_zones" "this" {
  cluster_id = "1000000000000000001"
}
"#,
    );
    let run = tf.plan();
    assert!(run.code == Some(0) || run.code == Some(2), "{}", run.all());
    let host = sim.url.trim_start_matches("http://").trim_end_matches('/');
    let api: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("TiDB Cloud API GET /v1beta1/clusters/1000000000000000001"))
        .collect();
    assert!(
        api.iter().any(|l| l.contains("-> 401")
            && l.contains("the Digest challenge, expected")
            && l.contains(&format!("(host {host}, trace id "))),
        "{api:#?}"
    );
    assert!(
        api.iter()
            .any(|l| l.contains("-> 200") && l.contains(&format!("(host {host}, trace id "))),
        "{api:#?}"
    );
    for library_line in ["starting new connection", "shouldn't retry"] {
        assert!(
            !run.stderr.contains(library_line),
            "{library_line:?} shows at the provider's trace level:\n{}",
            run.stderr
        );
    }

    tf.set_env("TIDBCLOUD_LOG_HTTP", "trace");
    let run = tf.plan();
    assert!(
        run.stderr.contains("starting new connection"),
        "TIDBCLOUD_LOG_HTTP=trace shows the HTTP library's lines:\n{}",
        run.stderr
    );
    assert!(
        !run.all().contains("demo-private"),
        "the private key leaked"
    );
}

#[test]
fn functions_work_in_outputs() {
    let sim = Sim::start(&[]);
    let tf = Tf::new(Some(&sim));
    tf.write(r#"
data "tidbcloud_private_link_availability_zones" "this" {
  cluster_id = "1000000000000000001"
}
output "principal" {
  value = provider::tidbcloud::endpoint_service_principal(data.tidbcloud_private_link_availability_zones.this.cloud_provider, data.tidbcloud_private_link_availability_zones.this.account_id)
}
output "listener" {
  value = provider::tidbcloud::kafka_advertised_listener("*.usw2-az1.kafka.aws.plc.tidbcloud.com", "b1", 9093)
}
"#);
    tf.apply();
    let out = tf.ok(&["output", "-json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("outputs");
    assert_eq!(v["principal"]["value"], "arn:aws:iam::123456789012:root");
    assert_eq!(
        v["listener"]["value"],
        "b1.usw2-az1.kafka.aws.plc.tidbcloud.com:9093"
    );
}

#[test]
fn filesystem_mirror_installs_with_terraform_init() {
    let tf = Tf::new(None);
    let mirror = tf
        .path()
        .join("mirror/terraform.local/tidbcloud/tidbcloud/0.1.0/linux_amd64");
    std::fs::create_dir_all(&mirror).expect("mirror dir");
    std::fs::copy(
        provider_dir().join("terraform-provider-tidbcloud"),
        mirror.join("terraform-provider-tidbcloud_v0.1.0"),
    )
    .expect("copy provider");
    std::fs::write(
        tf.path().join("terraform.tfrc"),
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"terraform.local/*/*\"]\n  }}\n  direct {{\n    exclude = [\"terraform.local/*/*\"]\n  }}\n}}\n",
            tf.path().join("mirror").display()
        ),
    )
    .expect("CLI config");
    tf.write(ALL_TYPES);
    let init = tf.ok(&["init", "-no-color", "-input=false"]);
    init.assert_mentions("Installing terraform.local/tidbcloud/tidbcloud v0.1.0");
    assert!(tf.path().join(".terraform.lock.hcl").is_file());
    tf.ok(&["validate", "-no-color"]);
}

#[test]
fn a_debug_mode_provider_serves_again_after_a_stopped_run() {
    use std::io::BufRead as _;
    use std::os::unix::process::CommandExt as _;
    use std::process::{Command, Stdio};

    let sim = Sim::start(&[]);
    let mut provider = Command::new(env!("CARGO_BIN_EXE_terraform-provider-tidbcloud"))
        .arg("--debug")
        .env("TIDBCLOUD_SERVERLESS_ENDPOINT", &sim.url)
        .env("TIDBCLOUD_PUBLIC_KEY", PUBLIC_KEY)
        .env("TIDBCLOUD_PRIVATE_KEY", PRIVATE_KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start the provider in debug mode");
    // Stopped even when an assertion below fails.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = provider.stdout.take().expect("stdout");
    let _provider = KillOnDrop(provider);
    let mut reattach = None;
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("read");
        if let Some(rest) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(rest.trim_end_matches('\'').to_string());
            break;
        }
    }
    let reattach = reattach.expect("the reattach line");

    let mut tf = Tf::new(Some(&sim));
    tf.set_env("TF_REATTACH_PROVIDERS", &reattach);
    tf.write(&aws_connection(
        "pending",
        "pending",
        AWS_MANUAL,
        "  wait_for_active = true",
    ));
    let mut cmd = tf.command(&["apply", "-auto-approve", "-no-color"]);
    cmd.process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd.spawn().expect("apply");
    eventually("the connection to be pending", || {
        sim.control("GET", "/_sim/world", None)
            .1
            .to_string()
            .contains("PENDING_ACCEPTANCE")
    });
    // Ctrl-C in terraform's terminal: terraform asks the provider to stop.
    let pgid = child.id();
    let _ = Command::new("kill")
        .args(["-INT", "--", &format!("-{pgid}")])
        .status();
    let out = child.wait_with_output().expect("apply ended");
    assert!(!out.status.success());
    assert!(tf
        .resource("tidbcloud_private_link_connection.pending")
        .is_some());

    // The same provider process serves the next run normally.
    tf.write(&format!(
        "{}{}",
        aws_connection("pending", "pending", AWS_MANUAL, "  wait_for_active = true"),
        aws_connection("next", "next", AWS_AUTO, "")
    ));
    let run = tf.run(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-target=tidbcloud_private_link_connection.next",
    ]);
    assert!(run.success, "{}", run.all());
    assert_eq!(
        tf.resource("tidbcloud_private_link_connection.next")
            .expect("next")["values"]["state"],
        "ACTIVE"
    );
}

#[test]
fn a_rejected_key_says_so_in_the_summary_of_a_resource_plan() {
    let sim = Sim::start(&[]);
    let mut tf = Tf::new(Some(&sim));
    tf.set_env("TIDBCLOUD_PRIVATE_KEY", "not-the-right-private-key");
    tf.write(&aws_connection("c", "kafka", AWS_AUTO, ""));
    let run = tf.plan();
    assert_eq!(run.code, Some(1));
    run.assert_mentions("Error: TiDB Cloud rejected the API key");
    assert!(!run.all().contains("not-the-right-private-key"));
}
