//! Protocol tests: the built provider binary, started exactly as Terraform
//! 1.11 starts it (magic cookie, protocol versions, port range, AutoMTLS
//! client certificate), spoken to over gRPC with mTLS.
//!
//! These tests assert behaviour only; timings live in `benches/provider.rs`.

mod support;

use std::collections::BTreeSet;

use support::grpc::{self, ClientIdentity, Curve};
use support::process::SIGINT;
use support::provider::{self, Handshake, Managed, Process, PATIENCE};
use support::sim::{EventStream, Sim};
use support::wait::eventually_async;
use support::world::{AWS_CLUSTER, AWS_MANUAL, PRIVATE_KEY, PUBLIC_KEY};
use tidbcloud_provider::proto::plugin::grpc_controller_client::GrpcControllerClient;
use tidbcloud_provider::proto::plugin::Empty;
use tidbcloud_provider::proto::tfplugin6 as pb;
use tidbcloud_provider::proto::tfplugin6::attribute_path::step::Selector;
use tidbcloud_provider::proto::tfplugin6::provider_client::ProviderClient;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const CONNECTION: &str = "tidbcloud_private_link_connection";
const DOMAINS: &str = "tidbcloud_private_link_domains";

// ---- helpers ----------------------------------------------------------------------

/// A msgpack value, enough to build the configurations Terraform sends.
enum Mp {
    Nil,
    Bool(bool),
    Str(&'static str),
    Text(String),
    Map(Vec<(&'static str, Mp)>),
}

impl Mp {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Mp::Nil => rmp::encode::write_nil(out).expect("nil"),
            Mp::Bool(b) => rmp::encode::write_bool(out, *b).expect("bool"),
            Mp::Str(s) => rmp::encode::write_str(out, s).expect("str"),
            Mp::Text(s) => rmp::encode::write_str(out, s).expect("str"),
            Mp::Map(entries) => {
                rmp::encode::write_map_len(out, entries.len() as u32).expect("map");
                for (k, v) in entries {
                    rmp::encode::write_str(out, k).expect("key");
                    v.write(out);
                }
            }
        }
    }

    fn dynamic(&self) -> Option<pb::DynamicValue> {
        Some(raw_dynamic(self.encode()))
    }
}

fn raw_dynamic(msgpack: Vec<u8>) -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    }
}

/// msgpack fixstr: the string's bytes behind a one-byte header.
fn fixstr(s: &str) -> Vec<u8> {
    assert!(s.len() < 32, "{s:?} does not fit a fixstr");
    let mut out = vec![0xa0 | s.len() as u8];
    out.extend_from_slice(s.as_bytes());
    out
}

fn errors(diags: &[pb::Diagnostic]) -> Vec<&pb::Diagnostic> {
    diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .collect()
}

/// The attribute names of a diagnostic's path, e.g. `["endpoint"]`.
fn path_of(d: &pb::Diagnostic) -> Vec<String> {
    d.attribute
        .as_ref()
        .map(|p| {
            p.steps
                .iter()
                .map(|s| match &s.selector {
                    Some(Selector::AttributeName(n)) => n.clone(),
                    Some(Selector::ElementKeyString(k)) => format!("[{k:?}]"),
                    Some(Selector::ElementKeyInt(i)) => format!("[{i}]"),
                    None => "?".to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn client(p: &Managed) -> ProviderClient<Channel> {
    ProviderClient::new(p.channel().await)
}

async fn schema_of(c: &mut ProviderClient<Channel>) -> pb::get_provider_schema::Response {
    c.get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner()
}

async fn health(channel: Channel) -> Result<i32, tonic::Status> {
    HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".to_string(),
        })
        .await
        .map(|r| r.into_inner().status)
}

/// A connection configuration that is valid except for what `overrides` says.
fn connection_config(display_name: &'static str) -> Mp {
    Mp::Map(vec![
        ("cluster_id", Mp::Str("10289172581962871234")),
        ("display_name", Mp::Str(display_name)),
        (
            "aws_endpoint_service",
            Mp::Map(vec![
                (
                    "name",
                    Mp::Str("com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"),
                ),
                ("region", Mp::Nil),
                ("endpoint_id", Mp::Nil),
                ("availability_zone_ids", Mp::Nil),
            ]),
        ),
        ("alicloud_endpoint_service", Mp::Nil),
        ("wait_for_active", Mp::Nil),
        ("timeouts", Mp::Nil),
    ])
}

async fn validate_connection(
    c: &mut ProviderClient<Channel>,
    config: Option<pb::DynamicValue>,
) -> Vec<pb::Diagnostic> {
    c.validate_resource_config(pb::validate_resource_config::Request {
        type_name: CONNECTION.to_string(),
        config,
        client_capabilities: None,
    })
    .await
    .expect("ValidateResourceConfig")
    .into_inner()
    .diagnostics
}

/// Every attribute of a block, nested attributes and nested blocks included,
/// with its path.
fn attributes_of(block: &pb::schema::Block, base: &str, out: &mut Vec<(String, String)>) {
    fn attribute(a: &pb::schema::Attribute, path: String, out: &mut Vec<(String, String)>) {
        if let Some(nested) = &a.nested_type {
            for n in &nested.attributes {
                attribute(n, format!("{path}.{}", n.name), out);
            }
        }
        out.push((path, a.description.clone()));
    }
    for a in &block.attributes {
        attribute(a, format!("{base}.{}", a.name), out);
    }
    for b in &block.block_types {
        if let Some(inner) = &b.block {
            attributes_of(inner, &format!("{base}.{}", b.type_name), out);
        }
    }
}

// ---- launch and handshake -------------------------------------------------------------

#[test]
fn handshake_line_has_every_field() {
    let p = Managed::start(Curve::P256);
    let h = &p.handshake;
    assert_eq!(h.core_version, "1", "go-plugin core protocol: {}", h.line);
    assert_eq!(h.app_version, "6", "tfplugin6: {}", h.line);
    assert_eq!(h.network, "tcp", "{}", h.line);
    assert_eq!(h.protocol, "grpc", "{}", h.line);
    assert_eq!(h.addr.ip().to_string(), "127.0.0.1", "{}", h.line);
    assert!(
        (provider::MIN_PORT..=provider::MAX_PORT).contains(&h.addr.port()),
        "port {} outside PLUGIN_MIN_PORT..PLUGIN_MAX_PORT",
        h.addr.port()
    );
    let cert = h.line.rsplit('|').next().expect("cert field");
    assert!(
        !cert.is_empty() && !cert.contains('='),
        "RawStdEncoding: {cert}"
    );
    // A DER certificate: a SEQUENCE that webpki can parse.
    assert_eq!(h.cert_der.first(), Some(&0x30));
    let der = rustls::pki_types::CertificateDer::from(h.cert_der.clone());
    let parsed = webpki::EndEntityCert::try_from(&der).expect("an X.509 certificate");
    assert!(
        parsed
            .verify_is_valid_for_subject_name(
                &rustls::pki_types::ServerName::try_from("localhost").expect("name")
            )
            .is_ok(),
        "the certificate names localhost"
    );
    // Nothing else on stdout.
    assert!(p.process.stdout_pending().is_empty());
}

#[test]
fn without_the_cookie_it_explains_itself_and_exits() {
    let mut cmd = provider::bare_command();
    cmd.env("PLUGIN_PROTOCOL_VERSIONS", "5,6");
    let mut p = Process::spawn(cmd);
    let status = p.wait_exit(PATIENCE).expect("exits without the cookie");
    assert!(!status.success(), "non-zero exit: {status:?}");
    assert!(p.stdout_rest().is_empty(), "stdout stays empty");
    let stderr = p.stderr_to_end();
    assert!(stderr.contains("Terraform"), "human message: {stderr}");
    assert!(
        stderr.lines().count() <= 5 && stderr.len() < 600,
        "short message: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_host_without_protocol_6_is_refused() {
    let identity = ClientIdentity::generate(Curve::P256);
    let mut cmd = provider::managed_command(&identity.pem());
    cmd.env("PLUGIN_PROTOCOL_VERSIONS", "5");
    let mut p = Process::spawn(cmd);
    let status = p.wait_exit(PATIENCE).expect("exits when 6 is not offered");
    assert!(!status.success(), "non-zero exit: {status:?}");
    assert!(p.stdout_rest().is_empty(), "no handshake line");
    let stderr = p.stderr_to_end();
    assert!(
        stderr.contains('5') && stderr.contains('6'),
        "says which versions: {stderr}"
    );
}

// ---- the schema and metadata ------------------------------------------------------

#[tokio::test]
async fn provider_schema_lists_everything_with_descriptions() {
    let p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let s = schema_of(&mut c).await;
    assert!(errors(&s.diagnostics).is_empty(), "{:?}", s.diagnostics);

    let provider = s
        .provider
        .as_ref()
        .and_then(|p| p.block.as_ref())
        .expect("provider");
    let attr = |name: &str| {
        provider
            .attributes
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("provider attribute {name}"))
    };
    assert!(attr("public_key").optional);
    assert!(attr("private_key").sensitive, "private_key is sensitive");
    assert!(!attr("public_key").sensitive);
    assert!(attr("endpoint").optional);

    let resources: BTreeSet<_> = s.resource_schemas.keys().map(String::as_str).collect();
    assert_eq!(resources, BTreeSet::from([CONNECTION, DOMAINS]));
    let data_sources: BTreeSet<_> = s.data_source_schemas.keys().map(String::as_str).collect();
    assert_eq!(
        data_sources,
        BTreeSet::from([
            "tidbcloud_private_link_connection",
            "tidbcloud_private_link_connections",
            "tidbcloud_private_link_availability_zones",
        ])
    );
    let functions: BTreeSet<_> = s.functions.keys().map(String::as_str).collect();
    assert_eq!(
        functions,
        BTreeSet::from(["kafka_advertised_listener", "endpoint_service_principal"])
    );
    assert!(s.ephemeral_resource_schemas.is_empty());

    let mut described = Vec::new();
    let everything = std::iter::once(("provider".to_string(), s.provider.as_ref()))
        .chain(
            s.resource_schemas
                .iter()
                .map(|(k, v)| (format!("resource {k}"), Some(v))),
        )
        .chain(
            s.data_source_schemas
                .iter()
                .map(|(k, v)| (format!("data {k}"), Some(v))),
        );
    for (name, schema) in everything {
        let block = schema.and_then(|s| s.block.as_ref()).expect("block");
        assert!(
            !block.description.trim().is_empty(),
            "{name} has a description"
        );
        assert!(!block.attributes.is_empty(), "{name} has attributes");
        attributes_of(block, &name, &mut described);
    }
    let undescribed: Vec<_> = described
        .iter()
        .filter(|(_, d)| d.trim().is_empty())
        .map(|(p, _)| p.as_str())
        .collect();
    assert!(
        undescribed.is_empty(),
        "attributes without a description: {undescribed:?}"
    );
    // Nested attributes were reached, e.g. the endpoint service's name.
    assert!(described
        .iter()
        .any(|(p, _)| p == "resource tidbcloud_private_link_connection.aws_endpoint_service.name"));
}

#[tokio::test]
async fn metadata_and_functions_agree_with_the_schema() {
    let p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let m = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("GetMetadata")
        .into_inner();
    assert!(errors(&m.diagnostics).is_empty());
    let resources: BTreeSet<_> = m.resources.iter().map(|r| r.type_name.as_str()).collect();
    assert_eq!(resources, BTreeSet::from([CONNECTION, DOMAINS]));
    assert_eq!(m.data_sources.len(), 3);
    let functions: BTreeSet<_> = m.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        functions,
        BTreeSet::from(["kafka_advertised_listener", "endpoint_service_principal"])
    );
    assert!(m.server_capabilities.is_some());

    let f = c
        .get_functions(pb::get_functions::Request {})
        .await
        .expect("GetFunctions")
        .into_inner();
    assert!(errors(&f.diagnostics).is_empty());
    let listener = &f.functions["kafka_advertised_listener"];
    let params: Vec<_> = listener
        .parameters
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                String::from_utf8_lossy(&p.r#type).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        params,
        vec![
            ("domain", "\"string\"".to_string()),
            ("broker_id", "\"string\"".to_string()),
            ("port", "\"number\"".to_string()),
        ]
    );
    let ret = listener.r#return.as_ref().expect("return type");
    assert_eq!(ret.r#type, b"\"string\"");
    assert!(!listener.summary.is_empty() && !listener.description.is_empty());
    assert!(listener
        .parameters
        .iter()
        .all(|p| !p.description.is_empty()));
    assert_eq!(
        f.functions["endpoint_service_principal"].parameters.len(),
        2
    );
}

// ---- functions --------------------------------------------------------------------------

#[tokio::test]
async fn call_function_builds_a_kafka_listener() {
    let p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let mut port = Vec::new();
    rmp::encode::write_sint(&mut port, 9093).expect("int");
    let call = |arguments: Vec<Vec<u8>>| pb::call_function::Request {
        name: "kafka_advertised_listener".to_string(),
        arguments: arguments.into_iter().map(raw_dynamic).collect(),
    };

    let ok = c
        .call_function(call(vec![
            fixstr("*.usw2-az1.kafka.example.com"),
            fixstr("b1"),
            port.clone(),
        ]))
        .await
        .expect("CallFunction")
        .into_inner();
    assert!(ok.error.is_none(), "{:?}", ok.error);
    let result = ok.result.expect("result").msgpack;
    let mut rd = result.as_slice();
    let len = rmp::decode::read_str_len(&mut rd).expect("a msgpack string") as usize;
    assert_eq!(
        std::str::from_utf8(&rd[..len]).expect("utf-8"),
        "b1.usw2-az1.kafka.example.com:9093"
    );

    // Not a wildcard domain: the error names the first argument.
    let bad = c
        .call_function(call(vec![fixstr("kafka.example.com"), fixstr("b1"), port]))
        .await
        .expect("CallFunction")
        .into_inner();
    assert!(bad.result.is_none());
    let error = bad.error.expect("function error");
    assert_eq!(error.function_argument, Some(0), "{error:?}");
    assert!(!error.text.is_empty());

    // A port out of range: the third argument.
    let mut huge = Vec::new();
    rmp::encode::write_sint(&mut huge, 70000).expect("int");
    let bad = c
        .call_function(call(vec![fixstr("*.x.example.com"), fixstr("b1"), huge]))
        .await
        .expect("CallFunction")
        .into_inner();
    assert_eq!(bad.error.expect("error").function_argument, Some(2));

    // Unknown functions are an error, not a failed RPC.
    let unknown = c
        .call_function(pb::call_function::Request {
            name: "nope".to_string(),
            arguments: Vec::new(),
        })
        .await
        .expect("CallFunction")
        .into_inner();
    assert!(unknown.error.is_some());
}

// ---- validation -----------------------------------------------------------------------

#[tokio::test]
async fn provider_config_with_a_bad_endpoint_is_an_error_at_endpoint() {
    let p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let validate = |endpoint: &'static str| pb::validate_provider_config::Request {
        config: Mp::Map(vec![
            ("public_key", Mp::Nil),
            ("private_key", Mp::Nil),
            ("endpoint", Mp::Str(endpoint)),
        ])
        .dynamic(),
    };
    let bad = c
        .validate_provider_config(validate("ftp://example.com"))
        .await
        .expect("ValidateProviderConfig")
        .into_inner()
        .diagnostics;
    let errs = errors(&bad);
    assert_eq!(errs.len(), 1, "{bad:?}");
    assert_eq!(path_of(errs[0]), vec!["endpoint"]);

    let good = c
        .validate_provider_config(validate("https://serverless.tidbapi.com"))
        .await
        .expect("ValidateProviderConfig")
        .into_inner()
        .diagnostics;
    assert!(errors(&good).is_empty(), "{good:?}");
}

#[tokio::test]
async fn resource_config_with_a_malformed_display_name_is_an_error_at_it() {
    let p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let bad = validate_connection(&mut c, connection_config(" kafka").dynamic()).await;
    let errs = errors(&bad);
    assert_eq!(errs.len(), 1, "{bad:?}");
    assert_eq!(path_of(errs[0]), vec!["display_name"]);

    let good = validate_connection(&mut c, connection_config("kafka").dynamic()).await;
    assert!(errors(&good).is_empty(), "{good:?}");
}

#[tokio::test]
async fn malformed_dynamic_values_are_diagnostics_and_the_process_lives_on() {
    let mut p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let garbage = || Some(raw_dynamic(vec![0xc1, 0xff]));

    let diags = validate_connection(&mut c, garbage()).await;
    assert_eq!(errors(&diags).len(), 1, "{diags:?}");

    let diags = c
        .validate_provider_config(pb::validate_provider_config::Request { config: garbage() })
        .await
        .expect("ValidateProviderConfig")
        .into_inner()
        .diagnostics;
    assert!(!errors(&diags).is_empty(), "{diags:?}");

    let plan = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: CONNECTION.to_string(),
            prior_state: garbage(),
            proposed_new_state: garbage(),
            config: garbage(),
            ..Default::default()
        })
        .await
        .expect("PlanResourceChange")
        .into_inner();
    assert!(!errors(&plan.diagnostics).is_empty());
    assert!(plan.planned_state.is_none());

    let call = c
        .call_function(pb::call_function::Request {
            name: "kafka_advertised_listener".to_string(),
            arguments: vec![
                raw_dynamic(vec![0xc1]),
                raw_dynamic(fixstr("b1")),
                raw_dynamic(vec![0x01]),
            ],
        })
        .await
        .expect("CallFunction")
        .into_inner();
    assert_eq!(call.error.expect("error").function_argument, Some(0));

    // Truncated input: a map header that promises more than it has.
    let diags = validate_connection(&mut c, Some(raw_dynamic(vec![0x8f, 0xa1]))).await;
    assert!(!errors(&diags).is_empty(), "{diags:?}");

    // Still serving.
    let s = schema_of(&mut c).await;
    assert_eq!(s.resource_schemas.len(), 2);
    assert!(p.process.running());
}

// ---- RPCs this provider does not implement ------------------------------------------------

#[tokio::test]
async fn ephemeral_resource_rpcs_answer_with_error_diagnostics() {
    let p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let name = || "tidbcloud_nothing".to_string();
    let d = c
        .validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: name(),
            config: None,
        })
        .await
        .expect("ValidateEphemeralResourceConfig")
        .into_inner()
        .diagnostics;
    assert!(!errors(&d).is_empty());
    let d = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: name(),
            ..Default::default()
        })
        .await
        .expect("OpenEphemeralResource")
        .into_inner()
        .diagnostics;
    assert!(!errors(&d).is_empty());
    let d = c
        .renew_ephemeral_resource(pb::renew_ephemeral_resource::Request {
            type_name: name(),
            ..Default::default()
        })
        .await
        .expect("RenewEphemeralResource")
        .into_inner()
        .diagnostics;
    assert!(!errors(&d).is_empty());
    let d = c
        .close_ephemeral_resource(pb::close_ephemeral_resource::Request {
            type_name: name(),
            ..Default::default()
        })
        .await
        .expect("CloseEphemeralResource")
        .into_inner()
        .diagnostics;
    assert!(!errors(&d).is_empty());
}

#[tokio::test]
async fn move_resource_state_is_an_error_diagnostic() {
    let p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let r = c
        .move_resource_state(pb::move_resource_state::Request {
            source_provider_address: "registry.terraform.io/hashicorp/null".to_string(),
            source_type_name: "null_resource".to_string(),
            source_schema_version: 0,
            source_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
            target_type_name: CONNECTION.to_string(),
            source_private: Vec::new(),
        })
        .await
        .expect("MoveResourceState")
        .into_inner();
    assert_eq!(errors(&r.diagnostics).len(), 1, "{:?}", r.diagnostics);
    assert!(r.target_state.is_none());
}

// ---- go-plugin's services and the process's life ------------------------------------------

#[tokio::test]
async fn health_reports_the_plugin_service_serving() {
    let p = Managed::start(Curve::P256);
    let status = health(p.channel().await).await.expect("health check");
    assert_eq!(status, ServingStatus::Serving as i32);
}

/// StopProvider ends the work in flight. A create waits for its connection
/// to become ACTIVE (`wait_for_active`) on an endpoint service that accepts
/// by hand, which nobody does here: without the stop it would wait for its
/// 30-minute timeout. Once the simulator reports the connection
/// PENDING_ACCEPTANCE (the create was sent, so the apply is running), the
/// stop makes the apply return, saying it was interrupted and keeping the
/// created connection in its state. The process serves on.
#[tokio::test]
async fn stop_provider_ends_a_wait_in_flight() {
    let sim = Sim::start(&[]);
    let mut events = EventStream::open(&sim).await;
    let mut p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let configured = c
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.11.4".to_string(),
            config: Mp::Map(vec![
                ("public_key", Mp::Str(PUBLIC_KEY)),
                ("private_key", Mp::Str(PRIVATE_KEY)),
                ("endpoint", Mp::Text(sim.url.clone())),
            ])
            .dynamic(),
            client_capabilities: None,
        })
        .await
        .expect("ConfigureProvider")
        .into_inner()
        .diagnostics;
    assert!(errors(&configured).is_empty(), "{configured:?}");

    let config = Mp::Map(vec![
        ("cluster_id", Mp::Str(AWS_CLUSTER)),
        ("display_name", Mp::Str("pending")),
        ("aws_endpoint_service", aws_service(AWS_MANUAL, None)),
        ("alicloud_endpoint_service", Mp::Nil),
        ("wait_for_active", Mp::Bool(true)),
        ("timeouts", Mp::Nil),
    ]);
    let plan = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: CONNECTION.to_string(),
            prior_state: None,
            proposed_new_state: config.dynamic(),
            config: config.dynamic(),
            prior_private: Vec::new(),
            provider_meta: None,
            client_capabilities: None,
        })
        .await
        .expect("PlanResourceChange")
        .into_inner();
    assert!(
        errors(&plan.diagnostics).is_empty(),
        "{:?}",
        plan.diagnostics
    );

    let mut applying = c.clone();
    let apply = tokio::spawn(async move {
        applying
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: CONNECTION.to_string(),
                prior_state: None,
                planned_state: plan.planned_state,
                config: config.dynamic(),
                planned_private: Vec::new(),
                provider_meta: None,
            })
            .await
    });
    let pending = events
        .wait_for(|e| e["kind"] == "private_link_connection" && e["state"] == "PENDING_ACCEPTANCE")
        .await;
    let id = pending["id"].as_str().expect("connection id").to_string();

    let r = c
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("StopProvider")
        .into_inner();
    assert_eq!(r.error, "");
    let applied = tokio::time::timeout(PATIENCE, apply)
        .await
        .expect("the create returns once stopped (it would wait for its timeout otherwise)")
        .expect("apply task")
        .expect("ApplyResourceChange")
        .into_inner();
    let errs = errors(&applied.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", applied.diagnostics);
    assert!(
        format!("{} {}", errs[0].summary, errs[0].detail)
            .to_lowercase()
            .contains("interrupted"),
        "{:?}",
        errs[0]
    );
    let state = applied
        .new_state
        .expect("the created connection is kept")
        .msgpack;
    assert!(
        state.windows(id.len()).any(|w| w == id.as_bytes()),
        "the state holds {id}"
    );

    // Stopping ends work in flight; it does not end the process.
    assert!(p.process.running());
    schema_of(&mut c).await;
}

#[tokio::test]
async fn controller_shutdown_ends_the_process_cleanly() {
    let mut p = Managed::start(Curve::P256);
    let channel = p.channel().await;
    GrpcControllerClient::new(channel.clone())
        .shutdown(Empty {})
        .await
        .expect("Shutdown");
    // Terraform closes its connection after asking.
    drop(channel);
    let status = p
        .process
        .wait_exit_async(PATIENCE)
        .await
        .expect("the provider exits after GRPCController.Shutdown");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        p.process.stdout_rest().is_empty(),
        "nothing after the handshake line"
    );
}

#[tokio::test]
async fn sigint_to_the_process_group_does_not_stop_the_provider() {
    let mut p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    schema_of(&mut c).await;
    // A terminal's Ctrl-C, twice; Terraform drives the stop itself.
    p.process.signal_group("INT");
    p.process.signal_group("INT");
    let process = &p.process;
    eventually_async("the provider to take SIGINT", || async {
        process.signal_taken(SIGINT).then_some(())
    })
    .await;
    assert!(p.process.running(), "the provider survived SIGINT");
    let s = schema_of(&mut c).await;
    assert_eq!(s.resource_schemas.len(), 2);
    // A new connection works too.
    let status = health(p.channel().await).await.expect("health check");
    assert_eq!(status, ServingStatus::Serving as i32);
}

// ---- AutoMTLS ---------------------------------------------------------------------------

#[tokio::test]
async fn a_client_with_another_certificate_is_refused() {
    let p = Managed::start(Curve::P256);
    let stranger = ClientIdentity::generate(Curve::P256);
    let refused = match grpc::connect_mtls(p.handshake.addr, &p.handshake.cert_der, &stranger).await
    {
        // TLS 1.3: the client may finish its handshake before the server
        // checks the certificate; the first call then fails.
        Ok(channel) => health(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(
        refused,
        "a certificate other than PLUGIN_CLIENT_CERT was accepted"
    );

    let anonymous = match grpc::connect_tls_without_client_cert(
        p.handshake.addr,
        &p.handshake.cert_der,
    )
    .await
    {
        Ok(channel) => health(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(anonymous, "a client without a certificate was accepted");

    // The expected client is still served.
    let status = health(p.channel().await).await.expect("health check");
    assert_eq!(status, ServingStatus::Serving as i32);
}

/// Terraform's own client certificates are ECDSA P-521 (SHA-512), which the
/// ring provider cannot verify; the provider checks them with `p521`.
#[tokio::test]
async fn a_p521_client_certificate_like_terraforms_is_accepted() {
    let p = Managed::start(Curve::P521);
    let mut c = client(&p).await;
    assert_eq!(schema_of(&mut c).await.resource_schemas.len(), 2);

    // And another P-521 certificate is still refused.
    let stranger = ClientIdentity::generate(Curve::P521);
    let refused = match grpc::connect_mtls(p.handshake.addr, &p.handshake.cert_der, &stranger).await
    {
        Ok(channel) => health(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(refused);
}

#[tokio::test]
async fn a_p384_client_certificate_is_accepted() {
    let p = Managed::start(Curve::P384);
    let status = health(p.channel().await).await.expect("health check");
    assert_eq!(status, ServingStatus::Serving as i32);
}

// ---- debug mode -----------------------------------------------------------------------------

#[tokio::test]
async fn debug_mode_prints_reattach_settings_and_serves_plain_grpc() {
    let mut cmd = provider::bare_command();
    cmd.arg("--debug");
    let p = Process::spawn(cmd);
    let mut seen = Vec::new();
    let line = loop {
        let line = p.stdout_line(PATIENCE).unwrap_or_else(|| {
            panic!(
                "no TF_REATTACH_PROVIDERS line; stdout {seen:?}; stderr:\n{}",
                p.stderr()
            )
        });
        if line.contains("TF_REATTACH_PROVIDERS=") {
            break line;
        }
        seen.push(line);
    };
    let json = line
        .split_once("TF_REATTACH_PROVIDERS='")
        .and_then(|(_, rest)| rest.rsplit_once('\''))
        .map(|(json, _)| json)
        .unwrap_or_else(|| panic!("quoted JSON in {line:?}"));
    let v: serde_json::Value = serde_json::from_str(json).expect("reattach JSON");
    let entry = &v["terraform.local/tidbcloud/tidbcloud"];
    assert_eq!(entry["Protocol"], "grpc", "{v}");
    assert_eq!(entry["ProtocolVersion"], 6, "{v}");
    assert_eq!(entry["Pid"], u64::from(p.pid()), "{v}");
    assert_eq!(entry["Addr"]["Network"], "tcp", "{v}");
    let addr: std::net::SocketAddr = entry["Addr"]["String"]
        .as_str()
        .expect("Addr.String")
        .parse()
        .expect("an address");
    assert!(addr.ip().is_loopback());

    let channel = grpc::connect_plain(addr).await.expect("plain connection");
    let s = ProviderClient::new(channel)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema over plain gRPC")
        .into_inner();
    assert_eq!(s.resource_schemas.len(), 2);
}

#[test]
fn handshake_parser_rejects_padding() {
    // The support code's parser is what the tests rely on; pin its strictness.
    assert!(Handshake::parse("1|6|tcp|127.0.0.1:1|grpc|AAA=").is_err());
    assert!(Handshake::parse("1|6|tcp|127.0.0.1:1|grpc").is_err());
}

/// A connection configuration with the given endpoint service block.
fn connection_with(display_name: &'static str, block: &'static str, service: Mp) -> Mp {
    let (aws, alicloud) = if block == "aws_endpoint_service" {
        (service, Mp::Nil)
    } else {
        (Mp::Nil, service)
    };
    Mp::Map(vec![
        ("cluster_id", Mp::Str("10289172581962871234")),
        ("display_name", Mp::Str(display_name)),
        ("aws_endpoint_service", aws),
        ("alicloud_endpoint_service", alicloud),
        ("wait_for_active", Mp::Nil),
        ("timeouts", Mp::Nil),
    ])
}

fn aws_service(name: &'static str, region: Option<&'static str>) -> Mp {
    Mp::Map(vec![
        ("name", Mp::Str(name)),
        ("region", region.map_or(Mp::Nil, Mp::Str)),
        ("endpoint_id", Mp::Nil),
        ("availability_zone_ids", Mp::Nil),
    ])
}

fn alicloud_service(name: &'static str) -> Mp {
    Mp::Map(vec![
        ("name", Mp::Str(name)),
        ("endpoint_id", Mp::Nil),
        ("availability_zone_ids", Mp::Nil),
    ])
}

/// Input that used to pass the plan and fail only at apply is an error at
/// validate time, at the attribute that holds it, nested attributes
/// included (named in the detail, the path being the nested attribute's).
#[tokio::test]
async fn input_the_api_would_refuse_is_an_error_at_its_attribute() {
    let p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let good_aws = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef";
    let cases: Vec<(&str, Mp, Vec<&str>)> = vec![
        (
            "AWS service id shorter than 8 hex digits",
            connection_with(
                "kafka",
                "aws_endpoint_service",
                aws_service("com.amazonaws.vpce.us-west-2.vpce-svc-0123", None),
            ),
            vec!["aws_endpoint_service", "name"],
        ),
        (
            "AWS service id longer than 17 hex digits",
            connection_with(
                "kafka",
                "aws_endpoint_service",
                aws_service(
                    "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef0",
                    None,
                ),
            ),
            vec!["aws_endpoint_service", "name"],
        ),
        (
            "a region not in AWS form",
            connection_with(
                "kafka",
                "aws_endpoint_service",
                aws_service(good_aws, Some("uswest2")),
            ),
            vec!["aws_endpoint_service", "region"],
        ),
        (
            "an Alibaba Cloud service id over its limit",
            connection_with(
                "kafka",
                "alicloud_endpoint_service",
                alicloud_service(
                    "com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef0123",
                ),
            ),
            vec!["alicloud_endpoint_service", "name"],
        ),
        (
            "a display name of invisible characters only",
            connection_with(
                "\u{200b}\u{2060}",
                "aws_endpoint_service",
                aws_service(good_aws, None),
            ),
            vec!["display_name"],
        ),
        (
            "a display name with a bidi control",
            connection_with(
                "kafka\u{202e}prod",
                "aws_endpoint_service",
                aws_service(good_aws, None),
            ),
            vec!["display_name"],
        ),
    ];
    for (what, config, path) in cases {
        let diags = validate_connection(&mut c, config.dynamic()).await;
        let errs = errors(&diags);
        assert_eq!(errs.len(), 1, "{what}: {diags:?}");
        // Terraform finds an attribute inside a nested attribute only by the
        // nested attribute: the path stops there, the detail names the rest.
        assert_eq!(path_of(errs[0]), path[..1], "{what}: {diags:?}");
        if path.len() > 1 {
            assert!(
                errs[0].detail.starts_with(&format!("{}: ", path.join("."))),
                "{what}: {diags:?}"
            );
        }
    }
    // The valid forms pass.
    for config in [
        connection_with(
            "kafka",
            "aws_endpoint_service",
            aws_service(good_aws, Some("us-west-2")),
        ),
        connection_with(
            "kafka",
            "aws_endpoint_service",
            aws_service("com.amazonaws.vpce.us-west-2.vpce-svc-0123abcd", None),
        ),
        connection_with(
            "kafka",
            "alicloud_endpoint_service",
            alicloud_service("com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef"),
        ),
    ] {
        let diags = validate_connection(&mut c, config.dynamic()).await;
        assert!(errors(&diags).is_empty(), "{diags:?}");
    }

    // The domains resource's connection id.
    for bad in ["", "plc-a/b", "plc-a,b", "plc-a:b", "plc-..", "atd-123"] {
        let config = Mp::Map(vec![
            ("cluster_id", Mp::Str("10289172581962871234")),
            ("private_link_connection_id", Mp::Str(bad)),
            ("type", Mp::Str("TIDBCLOUD_MANAGED")),
            ("unique_name", Mp::Nil),
            ("timeouts", Mp::Nil),
        ]);
        let diags = c
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: DOMAINS.to_string(),
                config: config.dynamic(),
                client_capabilities: None,
            })
            .await
            .expect("ValidateResourceConfig")
            .into_inner()
            .diagnostics;
        let errs = errors(&diags);
        assert_eq!(errs.len(), 1, "{bad:?}: {diags:?}");
        assert_eq!(
            path_of(errs[0]),
            vec!["private_link_connection_id"],
            "{bad:?}: {diags:?}"
        );
    }
}

#[tokio::test]
async fn a_state_that_cannot_be_read_says_how_to_recover() {
    // A stored state whose JSON does not match the schema (edited by hand,
    // or written by something else) is an error that names the resource
    // type and schema version, and says how to get back: remove the entry,
    // import the object again with the id of this resource's form.
    let p = Managed::start(Curve::P256);
    let mut c = client(&p).await;
    let r = c
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: CONNECTION.into(),
            version: 0,
            raw_state: Some(pb::RawState {
                json: br#"{"aws_endpoint_service": "not an object"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("UpgradeResourceState")
        .into_inner();
    assert!(r.upgraded_state.is_none());
    let errs = errors(&r.diagnostics);
    assert_eq!(errs.len(), 1, "{:?}", r.diagnostics);
    let detail = &errs[0].detail;
    for part in [
        "tidbcloud_private_link_connection (schema version 0)",
        "terraform state rm tidbcloud_private_link_connection.NAME",
        "terraform import tidbcloud_private_link_connection.NAME <cluster_id>,<private_link_connection_id>",
    ] {
        assert!(detail.contains(part), "{part}: {detail}");
    }
}
