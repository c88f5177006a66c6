//! The whole connection and domains lifecycle (create, acceptance, attach,
//! plan shows no changes, import, drift, destroy) in every shape the API's
//! contract leaves open: both vocabularies of domain states and a
//! domain-name shape with a region in it. One test, parametrised.
//! Also what the provider sends and keeps for the region, and a plan with a
//! read-only key.

use serde_json::{json, Value};

use crate::harness::*;
use crate::proxy::Proxy;

const CONNECTION: &str = "tidbcloud_private_link_connection.c";
const DOMAINS: &str = "tidbcloud_private_link_domains.d";
const UNIQUE: &str = "kafka-life";

struct Variant {
    flags: &'static [&'static str],
    seed: Option<Value>,
    cluster: &'static str,
    service: &'static str,
    zones: &'static [&'static str],
    /// The domain name of a zone.
    domain: fn(&str) -> String,
    /// The word of an attached domain.
    settled: &'static str,
}

fn plc_domain(az: &str) -> String {
    format!("*.{az}.{UNIQUE}.aws.plc.tidbcloud.com")
}

fn region_domain(az: &str) -> String {
    format!("*.{az}.{UNIQUE}.eu-central-1.aws.tidbcloud.com")
}

const SEEDED_CLUSTER: &str = "4200000000000000042";
const SEEDED_SERVICE: &str = "com.amazonaws.vpce.eu-central-1.vpce-svc-0123456789abcdef0";

fn region_seed(template: &str) -> Value {
    json!({
        "clusters": [{
            "cluster_id": SEEDED_CLUSTER, "display_name": "seeded", "cloud_provider": "aws",
            "region_id": "aws-eu-central-1", "state": "ACTIVE", "account_id": "111122223333",
            "az_ids": ["euc1-az1", "euc1-az2", "euc1-az3"]
        }],
        "endpoint_services": [{
            "name": SEEDED_SERVICE, "cloud_provider": "aws", "region": "eu-central-1",
            "az_ids": ["euc1-az1", "euc1-az2", "euc1-az3"],
            "allowed_principals": ["arn:aws:iam::111122223333:root"],
            "acceptance_required": true,
            "domain_name_template": template
        }]
    })
}

fn start(flags: &[&str], seed: Option<&Value>) -> (Sim, Option<tempfile::TempDir>) {
    let mut args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    let dir = seed.map(|seed| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("seed.json");
        std::fs::write(&path, seed.to_string()).expect("write seed");
        args.push("--seed".into());
        args.push(path.display().to_string());
        dir
    });
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    (Sim::start(&args), dir)
}

fn config(v: &Variant, accept_url: Option<&str>) -> String {
    let connection = format!(
        r#"
resource "tidbcloud_private_link_connection" "c" {{
  cluster_id   = "{cluster}"
  display_name = "kafka"
  aws_endpoint_service = {{
    name = "{service}"
  }}
}}
"#,
        cluster = v.cluster,
        service = v.service
    );
    let (accept, depends) = match accept_url {
        Some(url) => (
            format!(
                r#"
resource "terraform_data" "accept" {{
  input = tidbcloud_private_link_connection.c.aws_endpoint_service.endpoint_id
  provisioner "local-exec" {{
    command = "curl -fsS -X POST '{url}/_sim/endpoint-services/{service}/accept'"
  }}
}}
"#,
                service = v.service
            ),
            "  depends_on                 = [terraform_data.accept]\n",
        ),
        None => (String::new(), ""),
    };
    format!(
        r#"{connection}{accept}
resource "tidbcloud_private_link_domains" "d" {{
  cluster_id                 = "{cluster}"
  private_link_connection_id = tidbcloud_private_link_connection.c.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  unique_name                = "{UNIQUE}"
{depends}}}

output "listener" {{
  value = provider::tidbcloud::kafka_advertised_listener(tidbcloud_private_link_domains.d.domains_by_az["{zone}"], "b1", 9093)
}}
"#,
        cluster = v.cluster,
        zone = v.zones[0],
    )
}

/// The domains in the state are the variant's, in its settled word, and
/// `domains_by_az` keys each by its zone.
fn assert_domains(tf: &Tf, v: &Variant) {
    let d = tf.resource(DOMAINS).expect("domains in state");
    let mut names: Vec<String> = d["values"]["domains"]
        .as_array()
        .expect("domains")
        .iter()
        .map(|x| {
            assert_eq!(x["state"], v.settled, "{x}");
            x["name"].as_str().expect("name").to_string()
        })
        .collect();
    names.sort();
    let mut expected: Vec<String> = v.zones.iter().map(|z| (v.domain)(z)).collect();
    expected.sort();
    assert_eq!(names, expected);
    let by_az: serde_json::Map<String, Value> = v
        .zones
        .iter()
        .map(|z| (z.to_string(), Value::String((v.domain)(z))))
        .collect();
    assert_eq!(d["values"]["domains_by_az"], Value::Object(by_az));
}

fn lifecycle(v: Variant) {
    let (sim, _seed) = start(v.flags, v.seed.as_ref());
    let tf = Tf::new(Some(&sim));
    tf.write(&config(&v, Some(&sim.url)));
    // Create, acceptance (by the provisioner) and attach in one apply.
    tf.apply();
    assert_domains(&tf, &v);
    let listener = tf.ok(&["output", "-raw", "listener"]).stdout;
    assert_eq!(
        listener,
        format!("b1.{}:9093", &(v.domain)(v.zones[0])[2..])
    );
    tf.ok(&["apply", "-refresh-only", "-auto-approve", "-no-color"]);
    let c = tf.resource(CONNECTION).expect("connection");
    assert_eq!(c["values"]["state"], "ACTIVE");
    tf.assert_no_changes();

    // Import both into another configuration: nothing to change after.
    let plc = c["values"]["private_link_connection_id"]
        .as_str()
        .expect("id")
        .to_string();
    let d = tf.resource(DOMAINS).expect("domains");
    let attach_id = d["values"]["attach_domain_id"].as_str().expect("attach id");
    let imported = Tf::new(Some(&sim));
    imported.write(&config(&v, None));
    imported.ok(&[
        "import",
        "-no-color",
        CONNECTION,
        &format!("{},{plc}", v.cluster),
    ]);
    imported.ok(&[
        "import",
        "-no-color",
        DOMAINS,
        &format!("{},{plc},{attach_id}", v.cluster),
    ]);
    assert_domains(&imported, &v);
    let imported_connection = imported.resource(CONNECTION).expect("imported connection");
    assert_eq!(
        imported_connection["values"]["aws_endpoint_service"]["region"],
        c["values"]["aws_endpoint_service"]["region"]
    );
    imported.assert_no_changes();

    // Drift: an out-of-band detach plans a re-attach, which restores it all.
    let (status, _) = sim.control(
        "DELETE",
        &format!("/_sim/private-link-connections/{plc}/domains"),
        None,
    );
    assert!(status < 300, "out-of-band detach answered {status}");
    let plan = tf.plan();
    assert_eq!(plan.code, Some(2), "{}", plan.all());
    plan.assert_mentions(&format!("{DOMAINS} will be created"));
    tf.apply();
    assert_domains(&tf, &v);
    tf.assert_no_changes();

    // Destroy detaches, then deletes the connection.
    tf.destroy();
    let world = sim.control("GET", "/_sim/world", None).1.to_string();
    assert!(!world.contains(&plc), "left behind: {world}");
}

#[test]
fn lifecycle_with_succeeded_states() {
    lifecycle(Variant {
        flags: &["--domain-states", "succeeded"],
        seed: None,
        cluster: AWS_CLUSTER,
        service: AWS_MANUAL,
        zones: &["usw2-az1", "usw2-az2", "usw2-az3"],
        domain: plc_domain,
        settled: "SUCCEEDED",
    });
}

#[test]
fn lifecycle_with_attached_states() {
    lifecycle(Variant {
        flags: &["--domain-states", "attached"],
        seed: None,
        cluster: AWS_CLUSTER,
        service: AWS_MANUAL,
        zones: &["usw2-az1", "usw2-az2", "usw2-az3"],
        domain: plc_domain,
        settled: "ATTACHED",
    });
}

#[test]
fn lifecycle_with_region_bearing_domain_names() {
    lifecycle(Variant {
        flags: &[],
        seed: Some(region_seed(
            "*.{az_id}.{unique_name}.{region}.aws.tidbcloud.com",
        )),
        cluster: SEEDED_CLUSTER,
        service: SEEDED_SERVICE,
        zones: &["euc1-az1", "euc1-az2", "euc1-az3"],
        domain: region_domain,
        settled: "SUCCEEDED",
    });
}

/// A domain that names no zone (one domain spanning zones on AWS) is in
/// `domains`, and the short `domains_by_az` is reported, never silent.
#[test]
fn domains_naming_no_zone_are_listed_and_reported() {
    let seed = region_seed("*.{unique_name}.{region}.aws.tidbcloud.com");
    let (sim, _seed) = start(&[], Some(&seed));
    let tf = Tf::new(Some(&sim));
    let connection = format!(
        r#"
resource "tidbcloud_private_link_connection" "c" {{
  cluster_id      = "{SEEDED_CLUSTER}"
  display_name    = "kafka"
  aws_endpoint_service = {{
    name = "{SEEDED_SERVICE}"
  }}
}}
"#
    );
    tf.write(&connection);
    tf.apply();
    sim.accept(SEEDED_SERVICE);
    tf.write(&format!(
        r#"{connection}
resource "tidbcloud_private_link_domains" "d" {{
  cluster_id                 = "{SEEDED_CLUSTER}"
  private_link_connection_id = tidbcloud_private_link_connection.c.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  unique_name                = "{UNIQUE}"
}}
"#
    ));
    let plan = tf.ok(&["plan", "-no-color"]);
    plan.assert_mentions("Domains without an availability zone");
    let apply = tf.apply();
    apply.assert_mentions("Domains without an availability zone");
    let d = tf.resource(DOMAINS).expect("domains");
    assert_eq!(
        d["values"]["domains"][0]["name"],
        format!("*.{UNIQUE}.eu-central-1.aws.tidbcloud.com")
    );
    assert_eq!(d["values"]["domains_by_az"], json!({}));
    tf.assert_no_changes();
}

fn create_bodies(proxy: &Proxy) -> Vec<Value> {
    proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/privateLinkConnections"))
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .collect()
}

/// The region is sent only when the configuration sets it; whatever form
/// the API echoes it in (or none), nothing changes, and only a genuinely
/// different region shows up.
#[test]
fn region_is_sent_only_when_set_and_survives_the_apis_forms() {
    let sim = Sim::start(&[]);
    let proxy = Proxy::start(&sim);
    // The API answers with the region in the cluster's long form.
    proxy.rewrite(|_, _, body| {
        body.replace(r#""region":"us-west-2""#, r#""region":"aws-us-west-2""#)
    });
    let mut tf = Tf::new(Some(&sim));
    tf.set_env("TIDBCLOUD_SERVERLESS_ENDPOINT", &proxy.url);
    let configs = format!(
        "{}{}",
        aws_connection("c", "no-region", AWS_AUTO, ""),
        aws_connection("r", "with-region", AWS_AUTO, "").replace(
            &format!("name = \"{AWS_AUTO}\""),
            &format!("name = \"{AWS_AUTO}\"\n    region = \"us-west-2\"")
        )
    );
    tf.write(&configs);
    tf.apply();
    // Every create sent (a request answered with a Digest challenge is sent
    // again), by display name.
    let bodies = create_bodies(&proxy);
    let services = |name: &str| -> Vec<Value> {
        bodies
            .iter()
            .filter(|b| b["privateLinkConnection"]["displayName"] == name)
            .map(|b| b["privateLinkConnection"]["awsEndpointService"].clone())
            .collect()
    };
    let (unset, set) = (services("no-region"), services("with-region"));
    assert_eq!(unset.len() + set.len(), bodies.len(), "{bodies:?}");
    assert!(!unset.is_empty() && !set.is_empty(), "{bodies:?}");
    for s in &unset {
        assert!(s.get("region").is_none(), "region sent although unset: {s}");
    }
    for s in &set {
        assert_eq!(s["region"], "us-west-2", "{s}");
    }
    for address in [CONNECTION, "tidbcloud_private_link_connection.r"] {
        let r = tf.resource(address).expect("in state");
        assert_eq!(
            r["values"]["aws_endpoint_service"]["region"], "us-west-2",
            "{address}"
        );
    }
    tf.assert_no_changes();

    // The API leaves the region out: still nothing to change.
    proxy.rewrite(|_, _, body| body.replace(r#""region":"us-west-2""#, r#""region":"""#));
    tf.assert_no_changes();

    // Import while the API says `aws-us-west-2`: the region code, no changes.
    proxy.rewrite(|_, _, body| {
        body.replace(r#""region":"us-west-2""#, r#""region":"aws-us-west-2""#)
    });
    let id = tf.resource(CONNECTION).expect("c")["values"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let mut imported = Tf::new(Some(&sim));
    imported.set_env("TIDBCLOUD_SERVERLESS_ENDPOINT", &proxy.url);
    imported.write(&aws_connection("c", "no-region", AWS_AUTO, ""));
    imported.ok(&["import", "-no-color", CONNECTION, &id]);
    assert_eq!(
        imported.resource(CONNECTION).expect("imported")["values"]["aws_endpoint_service"]
            ["region"],
        "us-west-2"
    );
    imported.assert_no_changes();

    // A genuinely different region is shown (and replaces a connection
    // whose configuration says otherwise).
    proxy.rewrite(|_, _, body| body.replace(r#""region":"us-west-2""#, r#""region":"us-east-1""#));
    let plan = tf.plan();
    assert_eq!(plan.code, Some(2), "{}", plan.all());
    plan.assert_mentions("tidbcloud_private_link_connection.r must be replaced");
}

/// A pull-request plan with a read-only key: the dry run is refused (403),
/// the plan succeeds with the domains unknown and a warning, and apply with a
/// full key attaches them.
#[test]
fn a_read_only_key_plans_with_the_domains_unknown_and_a_warning() {
    let sim = Sim::start(&[
        "--api-key",
        &format!("{PUBLIC_KEY}:{PRIVATE_KEY}"),
        "--api-key",
        "viewer-public:viewer-private:read-only",
    ]);
    let mut tf = Tf::new(Some(&sim));
    let connection = aws_connection("c", "kafka", AWS_AUTO, "");
    tf.write(&connection);
    tf.apply();
    tf.write(&format!(
        r#"{connection}
resource "tidbcloud_private_link_domains" "d" {{
  cluster_id                 = "{AWS_CLUSTER}"
  private_link_connection_id = tidbcloud_private_link_connection.c.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  unique_name                = "{UNIQUE}"
}}
"#
    ));
    tf.set_env("TIDBCLOUD_PUBLIC_KEY", "viewer-public");
    tf.set_env("TIDBCLOUD_PRIVATE_KEY", "viewer-private");
    let plan = tf.run(&[
        "plan",
        "-detailed-exitcode",
        "-no-color",
        "-input=false",
        "-out=tfplan",
    ]);
    assert_eq!(plan.code, Some(2), "{}", plan.all());
    plan.assert_mentions("Domains not previewed");
    plan.assert_mentions("read-only");
    assert!(
        sim.stats()["responses_by_status"]["403"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "the dry run was not refused: {}",
        sim.stats()
    );
    let shown: Value =
        serde_json::from_str(&tf.ok(&["show", "-json", "tfplan"]).stdout).expect("plan JSON");
    let change = shown["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == DOMAINS)
        .expect("domains change")
        .clone();
    assert_eq!(
        change["change"]["after_unknown"]["domains"], true,
        "{change}"
    );
    assert_eq!(
        change["change"]["after_unknown"]["domains_by_az"], true,
        "{change}"
    );

    tf.set_env("TIDBCLOUD_PUBLIC_KEY", PUBLIC_KEY);
    tf.set_env("TIDBCLOUD_PRIVATE_KEY", PRIVATE_KEY);
    tf.apply();
    assert_eq!(
        tf.resource(DOMAINS).expect("domains")["values"]["domains_by_az"]["usw2-az1"],
        plc_domain("usw2-az1")
    );
    tf.assert_no_changes();
}
