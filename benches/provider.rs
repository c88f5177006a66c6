//! Performance figures for docs/performance.md, each next to a baseline
//! measured in the same run:
//!
//! ```text
//! cargo bench --bench provider -- [--runs 50] [--rpcs 500] [--resources 200] [--tf-runs 5] [--skip-terraform] [--skip-apply] [--apply-only] [--only NAME]
//! ```
//!
//! With `--apply-only`, `--only NAME` keeps the apply/destroy rows whose
//! name contains NAME (for example `--apply-only --only ±50%`).
//!
//! Prints a markdown table. Nothing here asserts on time; tests assert
//! behaviour, this reports numbers.
//!
//! To add a Terraform scenario (for example a plan against `tidbcloud-sim`),
//! push a [`Scenario`] in [`scenarios`]: it names the command, writes the
//! configuration under test and its baseline, may carry environment variables
//! (the simulator's endpoint and keys) and a `setup` hook that runs once per
//! working directory before timing (for example `terraform apply` so that a
//! plan has state to refresh).

#[path = "../tests/support/mod.rs"]
mod support;

/// The simulator's transition durations, so that the model's figure of a
/// jitter row draws the same sequence as the simulator it stands beside.
#[path = "../src/sim/jitter.rs"]
#[allow(dead_code, unused_imports)]
mod sim_jitter;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::api_model::{ApiModel, ModelConfig};
use support::floor::{self, Floor, Limits, Phase};
use support::grpc::{ClientIdentity, Curve};
use support::provider::{self, Managed};
use support::sim::Sim;
use support::tf_walk;
use tidbcloud_provider::proto::tfplugin6 as pb;
use tidbcloud_provider::proto::tfplugin6::provider_client::ProviderClient;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const SOURCE: &str = "terraform.local/tidbcloud/tidbcloud";

struct Options {
    runs: usize,
    rpcs: usize,
    resources: usize,
    tf_runs: usize,
    terraform: bool,
    /// Apply/destroy rows against a rate-limited simulator (minutes).
    apply: bool,
    /// Only the apply/destroy rows.
    apply_only: bool,
    /// Only the Terraform scenarios whose name contains this (no process
    /// start, RPC or apply rows).
    only: Option<String>,
}

fn options() -> Options {
    let mut o = Options {
        runs: 50,
        rpcs: 500,
        resources: 200,
        tf_runs: 5,
        terraform: true,
        apply: true,
        apply_only: false,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut number = |name: &str| -> usize {
            args.next()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or_else(|| fail(&format!("{name} needs a positive number")))
        };
        match a.as_str() {
            "--runs" => o.runs = number("--runs"),
            "--rpcs" => o.rpcs = number("--rpcs"),
            "--resources" => o.resources = number("--resources"),
            "--tf-runs" => o.tf_runs = number("--tf-runs"),
            "--skip-terraform" => o.terraform = false,
            "--skip-apply" => o.apply = false,
            "--apply-only" => o.apply_only = true,
            "--only" => {
                o.only = Some(
                    args.next()
                        .unwrap_or_else(|| fail("--only needs part of a scenario's name")),
                )
            }
            // cargo bench passes --bench to harness-less benchmarks.
            "--bench" => {}
            other => fail(&format!(
                "unknown argument {other:?}; use --runs N --rpcs N --resources N --tf-runs N --skip-terraform --skip-apply --apply-only --only NAME"
            )),
        }
    }
    o
}

fn fail(message: &str) -> ! {
    eprintln!("bench: {message}");
    std::process::exit(2)
}

// ---- statistics and formatting -----------------------------------------------------------

fn quantile(samples: &[Duration], q: f64) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    // Nearest rank.
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

fn median(samples: &[Duration]) -> Duration {
    let mut s = samples.to_vec();
    s.sort();
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2
    }
}

fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1000.0;
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        return "—".to_string();
    }
    format!("{:.1}x", a.as_secs_f64() / b.as_secs_f64())
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

struct Row {
    what: String,
    subject: String,
    baseline: String,
    ratio: String,
    target: String,
}

impl Row {
    fn new(what: impl Into<String>, subject: impl Into<String>) -> Row {
        Row {
            what: what.into(),
            subject: subject.into(),
            baseline: "—".into(),
            ratio: "—".into(),
            target: "—".into(),
        }
    }
    fn baseline(mut self, b: impl Into<String>, ratio: impl Into<String>) -> Row {
        self.baseline = b.into();
        self.ratio = ratio.into();
        self
    }
    fn target(mut self, t: impl Into<String>) -> Row {
        self.target = t.into();
        self
    }
}

// ---- process start to handshake line --------------------------------------------------------

/// Spawns `cmd` and times until the first line (or end) of its stdout.
fn time_to_first_line(mut cmd: Command) -> (Duration, String) {
    use std::io::BufRead as _;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read stdout");
    let elapsed = start.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    (elapsed, line)
}

fn bench_start(o: &Options, rows: &mut Vec<Row>) {
    let pem = ClientIdentity::generate(Curve::P521).pem();
    let true_bin = ["/bin/true", "/usr/bin/true"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| fail("no /bin/true for the spawn baseline"));
    // Warm the page cache, then alternate provider and baseline runs so that
    // drift in the machine's load affects both alike.
    let _ = time_to_first_line(provider::managed_command(&pem));
    let _ = time_to_first_line(Command::new(true_bin));
    let mut provider_times = Vec::with_capacity(o.runs);
    let mut true_times = Vec::with_capacity(o.runs);
    for _ in 0..o.runs {
        let (t, line) = time_to_first_line(provider::managed_command(&pem));
        if !line.starts_with("1|6|tcp|") {
            fail(&format!("unexpected handshake line {line:?}"));
        }
        provider_times.push(t);
        true_times.push(time_to_first_line(Command::new(true_bin)).0);
    }
    let (pm, tm) = (median(&provider_times), median(&true_times));
    let (p90, t90) = (quantile(&provider_times, 0.9), quantile(&true_times, 0.9));
    rows.push(
        Row::new(
            format!("process start → handshake line, median of {}", o.runs),
            ms(pm),
        )
        .baseline(format!("{} (`{true_bin}`)", ms(tm)), ratio(pm, tm))
        .target("≤ 3 ms"),
    );
    rows.push(
        Row::new(
            format!("process start → handshake line, p90 of {}", o.runs),
            ms(p90),
        )
        .baseline(format!("{} (`{true_bin}`)", ms(t90)), ratio(p90, t90)),
    );
}

// ---- RPCs over mTLS ----------------------------------------------------------------------------

async fn bench_rpcs(o: &Options, rows: &mut Vec<Row>) {
    // Connecting and the first schema: what Terraform pays per launch. The
    // baseline connects the same way and asks for health instead, so the
    // difference is building and sending the schema.
    let mut first = Vec::new();
    let mut first_health = Vec::new();
    let mut first_health_p256 = Vec::new();
    for _ in 0..o.runs.clamp(1, 20) {
        let p = Managed::start(Curve::P521);
        let start = Instant::now();
        let mut c = ProviderClient::new(p.channel().await);
        c.get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .expect("GetProviderSchema");
        first.push(start.elapsed());
        drop(p);
        first_health.push(connect_and_check(Curve::P521).await);
        first_health_p256.push(connect_and_check(Curve::P256).await);
    }
    let (fm, hm) = (median(&first), median(&first_health));
    rows.push(
        Row::new(
            format!(
                "handshake → mTLS connect + first GetProviderSchema, median of {}",
                first.len()
            ),
            ms(fm),
        )
        .baseline(
            format!("{} (mTLS connect + Health.Check)", ms(hm)),
            ratio(fm, hm),
        ),
    );
    let pm = median(&first_health_p256);
    rows.push(
        Row::new(
            format!(
                "handshake → mTLS connect + Health.Check, P-521 client certificate (Terraform's), median of {}",
                first.len()
            ),
            ms(hm),
        )
        .baseline(format!("{} (P-256 client certificate)", ms(pm)), ratio(hm, pm)),
    );

    let p = Managed::start(Curve::P521);
    let channel = p.channel().await;
    let mut c = ProviderClient::new(channel.clone());
    let mut h = HealthClient::new(channel);
    let config = connection_config_msgpack();
    let validate = || pb::validate_resource_config::Request {
        type_name: "tidbcloud_private_link_connection".to_string(),
        config: Some(pb::DynamicValue {
            msgpack: config.clone(),
            json: Vec::new(),
        }),
        client_capabilities: None,
    };
    let check = || HealthCheckRequest {
        service: "plugin".to_string(),
    };
    // Warm up both paths.
    for _ in 0..20 {
        c.validate_resource_config(validate())
            .await
            .expect("validate");
        h.check(check()).await.expect("health");
    }
    let mut rpc = Vec::with_capacity(o.rpcs);
    let mut base = Vec::with_capacity(o.rpcs);
    for _ in 0..o.rpcs {
        let t = Instant::now();
        let r = c
            .validate_resource_config(validate())
            .await
            .expect("validate")
            .into_inner();
        rpc.push(t.elapsed());
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        let t = Instant::now();
        h.check(check()).await.expect("health");
        base.push(t.elapsed());
    }
    let (rm, bm) = (median(&rpc), median(&base));
    rows.push(
        Row::new(
            format!("ValidateResourceConfig round trip, median of {}", o.rpcs),
            us(rm),
        )
        .baseline(
            format!("{} (Health.Check, same channel)", us(bm)),
            ratio(rm, bm),
        ),
    );
    let (r90, b90) = (quantile(&rpc, 0.9), quantile(&base, 0.9));
    rows.push(
        Row::new(
            format!("ValidateResourceConfig round trip, p90 of {}", o.rpcs),
            us(r90),
        )
        .baseline(format!("{} (Health.Check)", us(b90)), ratio(r90, b90)),
    );
}

/// Starts a provider, then times connecting over mTLS with a client
/// certificate on `curve` and one health check.
async fn connect_and_check(curve: Curve) -> Duration {
    let p = Managed::start(curve);
    let start = Instant::now();
    HealthClient::new(p.channel().await)
        .check(HealthCheckRequest {
            service: "plugin".to_string(),
        })
        .await
        .expect("health");
    start.elapsed()
}

/// A valid `tidbcloud_private_link_connection` configuration, as Terraform
/// encodes it.
fn connection_config_msgpack() -> Vec<u8> {
    let mut out = Vec::new();
    let s = |out: &mut Vec<u8>, v: &str| rmp::encode::write_str(out, v).expect("str");
    rmp::encode::write_map_len(&mut out, 6).expect("map");
    s(&mut out, "cluster_id");
    s(&mut out, "10289172581962871234");
    s(&mut out, "display_name");
    s(&mut out, "kafka");
    s(&mut out, "aws_endpoint_service");
    rmp::encode::write_map_len(&mut out, 4).expect("map");
    s(&mut out, "name");
    s(
        &mut out,
        "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef",
    );
    for k in ["region", "endpoint_id", "availability_zone_ids"] {
        s(&mut out, k);
        rmp::encode::write_nil(&mut out).expect("nil");
    }
    for k in ["alicloud_endpoint_service", "wait_for_active", "timeouts"] {
        s(&mut out, k);
        rmp::encode::write_nil(&mut out).expect("nil");
    }
    out
}

// ---- Terraform scenarios ----------------------------------------------------------------------

/// Prepares a working directory before timing (e.g. `terraform apply`).
type Setup = dyn Fn(&Path, &TerraformEnv) -> Result<(), String>;

/// A Terraform command run on a configuration that uses the provider and on a
/// baseline configuration of as many built-in `terraform_data` resources.
struct Scenario {
    /// What the row says, e.g. "terraform validate".
    name: String,
    /// Arguments to `terraform`.
    args: Vec<&'static str>,
    /// `main.tf` for the provider, given the resource count.
    subject: Box<dyn Fn(usize) -> String>,
    /// `main.tf` for the baseline.
    baseline: Box<dyn Fn(usize) -> String>,
    /// Extra environment for both runs (e.g. a simulator's endpoint).
    env: Vec<(String, String)>,
    /// Runs once per working directory before timing, e.g. an apply.
    setup: Option<Box<Setup>>,
}

const REQUIRED_PROVIDERS: &str = r#"terraform {
  required_providers {
    tidbcloud = { source = "terraform.local/tidbcloud/tidbcloud" }
  }
}
"#;

fn connections(n: usize) -> String {
    let mut s = String::from(REQUIRED_PROVIDERS);
    for i in 0..n {
        let _ = write!(
            s,
            r#"
resource "tidbcloud_private_link_connection" "c{i}" {{
  cluster_id           = "10289172581962871234"
  display_name         = "kafka-{i}"
  aws_endpoint_service = {{ name = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef" }}
}}
"#
        );
    }
    s
}

fn terraform_data(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let _ = write!(
            s,
            "\nresource \"terraform_data\" \"d{i}\" {{\n  input = \"b{i}.usw2-az1.kafka.example.com:9093\"\n}}\n"
        );
    }
    s
}

fn terraform_data_from_function(n: usize) -> String {
    let mut s = String::from(REQUIRED_PROVIDERS);
    for i in 0..n {
        let _ = write!(
            s,
            "\nresource \"terraform_data\" \"d{i}\" {{\n  input = provider::tidbcloud::kafka_advertised_listener(\"*.usw2-az1.kafka.example.com\", \"b{i}\", 9093)\n}}\n"
        );
    }
    s
}

fn sim_connections(n: usize) -> String {
    let mut s = String::from(REQUIRED_PROVIDERS);
    let _ = write!(
        s,
        r#"
resource "tidbcloud_private_link_connection" "c" {{
  count                = {n}
  cluster_id           = "1000000000000000001"
  display_name         = "kafka-${{count.index}}"
  aws_endpoint_service = {{ name = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef" }}
}}
"#
    );
    s
}

/// The scenarios measured, in order. Add new ones here.
fn scenarios(sim_env: &[(String, String)]) -> Vec<Scenario> {
    let apply_env = sim_env.to_vec();
    vec![
        Scenario {
            name: "terraform providers schema -json".into(),
            args: vec!["providers", "schema", "-json"],
            subject: Box::new(connections),
            baseline: Box::new(terraform_data),
            env: Vec::new(),
            setup: None,
        },
        Scenario {
            name: "terraform validate".into(),
            args: vec!["validate", "-no-color"],
            subject: Box::new(connections),
            baseline: Box::new(terraform_data),
            env: Vec::new(),
            setup: None,
        },
        Scenario {
            name: "terraform plan, inputs from a provider function".into(),
            args: vec![
                "plan",
                "-input=false",
                "-refresh=false",
                "-lock=false",
                "-no-color",
            ],
            subject: Box::new(terraform_data_from_function),
            baseline: Box::new(terraform_data),
            env: Vec::new(),
            setup: None,
        },
        Scenario {
            name: "terraform plan of connections against tidbcloud-sim (refresh included)".into(),
            args: vec!["plan", "-input=false", "-lock=false", "-no-color"],
            subject: Box::new(sim_connections),
            baseline: Box::new(terraform_data),
            env: sim_env.to_vec(),
            setup: Some(Box::new(move |dir: &Path, tf: &TerraformEnv| {
                tf.run(
                    dir,
                    &["apply", "-auto-approve", "-input=false", "-no-color"],
                    &apply_env,
                    false,
                )
                .map(|_| ())
            })),
        },
    ]
}

/// What every Terraform run gets: a CLI configuration with `dev_overrides`
/// for this provider and no network.
struct TerraformEnv {
    /// Holds the CLI configuration; removed with it.
    _dir: tempfile::TempDir,
    cli_config: PathBuf,
    provider_bin: PathBuf,
}

impl TerraformEnv {
    fn new() -> TerraformEnv {
        let dir = tempfile::tempdir().expect("temp dir");
        let provider_bin = std::fs::canonicalize(provider::binary()).expect("provider binary");
        let plugin_dir = provider_bin.parent().expect("binary directory");
        let cli_config = dir.path().join("terraform.rc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"{SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                plugin_dir.display()
            ),
        )
        .expect("write CLI configuration");
        TerraformEnv {
            _dir: dir,
            cli_config,
            provider_bin,
        }
    }

    fn command(&self, dir: &Path, args: &[&str], env: &[(String, String)]) -> Command {
        let mut cmd = Command::new("terraform");
        cmd.args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for k in [
            "TF_LOG",
            "TF_LOG_PROVIDER",
            "TF_LOG_PATH",
            "TF_REATTACH_PROVIDERS",
            "TF_CLI_ARGS",
            "TF_DATA_DIR",
            "TF_PLUGIN_CACHE_DIR",
        ] {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs one command to completion; with `watch_rss`, also samples the
    /// peak RSS of every provider process Terraform starts.
    fn run(
        &self,
        dir: &Path,
        args: &[&str],
        env: &[(String, String)],
        watch_rss: bool,
    ) -> Result<Run, String> {
        let start = Instant::now();
        let mut child = self
            .command(dir, args, env)
            .spawn()
            .map_err(|e| format!("terraform: {e}"))?;
        let mut peaks: HashMap<u32, u64> = HashMap::new();
        let mut cpu: HashMap<u32, u64> = HashMap::new();
        let children_before = children_cpu();
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                break status;
            }
            if watch_rss {
                sample_provider_rss(child.id(), &self.provider_bin, &mut peaks, &mut cpu);
                std::thread::sleep(Duration::from_millis(1));
            } else {
                std::thread::sleep(Duration::from_micros(200));
            }
        };
        let elapsed = start.elapsed();
        if !status.success() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read as _;
                let _ = e.read_to_string(&mut err);
            }
            return Err(format!(
                "terraform {} failed in {}: {err}",
                args.join(" "),
                dir.display()
            ));
        }
        Ok(Run {
            elapsed,
            launches: peaks.len(),
            peak_rss: peaks.values().copied().max(),
            provider_cpu: Duration::from_nanos(cpu.values().sum()),
            total_cpu: children_cpu().saturating_sub(children_before),
        })
    }
}

struct Run {
    elapsed: Duration,
    launches: usize,
    peak_rss: Option<u64>,
    /// CPU time of the provider processes (sampled, with `watch_rss`).
    provider_cpu: Duration,
    /// CPU time of the command and all its children (terraform, providers).
    total_cpu: Duration,
}

/// User + system time of this process's children that have been waited
/// for (terraform, and through it the provider processes it waited for).
fn children_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: state is field 3, cutime 16 and cstime 17.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // The kernel's USER_HZ is 100 on Linux.
    Duration::from_millis((ticks(13) + ticks(14)) * 10)
}

/// Records `VmHWM` (peak resident set) of each child of `parent` that runs
/// `binary`. Sampling can miss growth in a process's last millisecond.
fn sample_provider_rss(
    parent: u32,
    binary: &Path,
    peaks: &mut HashMap<u32, u64>,
    cpu: &mut HashMap<u32, u64>,
) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_string())
        };
        if field("PPid:").and_then(|p| p.parse::<u32>().ok()) != Some(parent) {
            continue;
        }
        if std::fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .as_deref()
            != Some(binary)
        {
            continue;
        }
        // CPU time of the whole process (every thread, also those that
        // ended): utime + stime of /proc/<pid>/stat, in clock ticks of 10
        // ms. (`schedstat` of the pid would count its main thread only,
        // which hardly runs in a tokio program.)
        if let Some(ns) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let (_, rest) = stat.rsplit_once(')')?;
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
                Some((ticks(11)? + ticks(12)?) * 10_000_000)
            })
        {
            let seen = cpu.entry(pid).or_insert(0);
            *seen = (*seen).max(ns);
        }
        if let Some(kb) =
            field("VmHWM:").and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            let peak = peaks.entry(pid).or_insert(0);
            *peak = (*peak).max(kb * 1024);
        }
    }
}

fn workspace(root: &Path, name: &str, main_tf: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("workspace");
    std::fs::write(dir.join("main.tf"), main_tf).expect("main.tf");
    dir
}

fn bench_terraform(o: &Options, rows: &mut Vec<Row>) -> Result<(), String> {
    let tf = TerraformEnv::new();
    let root = tempfile::tempdir().map_err(|e| e.to_string())?;
    let n = o.resources;
    // For the plan scenario.
    let sim = Sim::start(&["--transition-delay-ms", "10"]);
    for (i, s) in scenarios(&sim.provider_env()).into_iter().enumerate() {
        if o.only
            .as_ref()
            .is_some_and(|only| !s.name.contains(only.as_str()))
        {
            continue;
        }
        let subject_dir = workspace(root.path(), &format!("s{i}-provider"), &(s.subject)(n));
        let baseline_dir = workspace(root.path(), &format!("s{i}-baseline"), &(s.baseline)(n));
        if let Some(setup) = &s.setup {
            setup(&subject_dir, &tf)?;
            setup(&baseline_dir, &tf)?;
        }
        // One untimed run each: page cache, and a check that both succeed.
        tf.run(&subject_dir, &s.args, &s.env, false)?;
        tf.run(&baseline_dir, &s.args, &s.env, false)?;
        let mut subject = Vec::new();
        let mut baseline = Vec::new();
        for _ in 0..o.tf_runs {
            subject.push(tf.run(&subject_dir, &s.args, &s.env, false)?.elapsed);
            baseline.push(tf.run(&baseline_dir, &s.args, &s.env, false)?.elapsed);
        }
        let (sm, bm) = (median(&subject), median(&baseline));
        rows.push(
            Row::new(
                format!("{}, {n} resources, median of {}", s.name, o.tf_runs),
                ms(sm),
            )
            .baseline(format!("{} (`terraform_data`)", ms(bm)), ratio(sm, bm)),
        );
        // Memory in a separate run: sampling /proc costs CPU the timed runs
        // should not share.
        let watched = tf.run(&subject_dir, &s.args, &s.env, true)?;
        if let Some(peak) = watched.peak_rss {
            rows.push(
                Row::new(
                    format!(
                        "peak RSS of the provider during {} ({} launch{})",
                        s.name,
                        watched.launches,
                        if watched.launches == 1 { "" } else { "es" }
                    ),
                    mib(peak),
                )
                .target("≤ 20 MB"),
            );
        }
        if s.args.first() == Some(&"plan") && !watched.total_cpu.is_zero() {
            let share = watched.provider_cpu.as_secs_f64() / watched.total_cpu.as_secs_f64();
            rows.push(
                Row::new(
                    format!(
                        "provider processes' share of the CPU of {}, {n} resources",
                        s.name
                    ),
                    format!("{:.1} %", share * 100.0),
                )
                .baseline(
                    format!(
                        "{} of {} (terraform and its children)",
                        ms(watched.provider_cpu),
                        ms(watched.total_cpu)
                    ),
                    "—",
                )
                .target(if s.env.is_empty() {
                    "—"
                } else {
                    "≤ 10 % at 500"
                }),
            );
        }
    }
    Ok(())
}

// ---- apply and destroy against a rate-limited simulator ---------------------------------------

/// The simulator's settings for the apply rows: the real API's 100 requests
/// a minute per key, and 10 s for every transition.
const RATE_LIMIT_RPM: u64 = 100;
const RATE_WINDOW: Duration = Duration::from_secs(60);
const SETTLE: Duration = Duration::from_secs(10);
/// Terraform's default `-parallelism`.
const PARALLELISM: u64 = 10;
/// The jitter row: each transition lasts `SETTLE` times a factor drawn
/// uniformly from [0.5, 1.5] (the waiting grid's jitter), from this seed.
const JITTER: Jitter = Jitter {
    pct: 50.0,
    seed: 20_250_304,
};

/// The simulator's `--transition-jitter PCT --jitter-seed N`.
#[derive(Debug, Clone, Copy)]
struct Jitter {
    pct: f64,
    seed: u64,
}

impl Jitter {
    fn flags(self) -> [String; 4] {
        [
            "--transition-jitter".into(),
            self.pct.to_string(),
            "--jitter-seed".into(),
            self.seed.to_string(),
        ]
    }
}

// ---- the model's figure of a row --------------------------------------------------------------

/// A row's command as the waiting grid runs it (`tests/waiting_grid.rs`):
/// the provider's resources driven by `tests/support/tf_walk.rs` over the
/// API model of `tests/support/api_model.rs`, under tokio's paused clock,
/// with the row's rate limit, settle time, jitter and parallelism.
#[derive(Debug, Clone, Copy)]
struct ModelFigure {
    /// Virtual time, from the command's start to the end of its last
    /// workspace.
    time: Duration,
    /// Requests the model answered, those answered 429 included.
    requests: u64,
    answered_429: u64,
    /// Error diagnostics of the run (none expected).
    errors: usize,
}

/// The model's apply of `n` connections (and domains) in each of
/// `workspaces` workspaces on one key, then, with `destroy`, their
/// destroy on another key (a fresh rate window, as the rows run it).
///
/// The settle times are the simulator's: `SETTLE`, or with `jitter` the
/// same sequence of draws, the n-th transition started taking the n-th.
fn model_figures(
    workspaces: usize,
    n: usize,
    domains: bool,
    jitter: Option<Jitter>,
    destroy: bool,
) -> (ModelFigure, Option<ModelFigure>) {
    use std::sync::{Arc, Mutex};
    let durations = Mutex::new(match jitter {
        Some(j) => sim_jitter::Durations::jittered(SETTLE, j.pct, j.seed),
        None => sim_jitter::Durations::fixed(SETTLE),
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a paused runtime");
    runtime.block_on(async {
        let model = ApiModel::new(ModelConfig {
            budget: RATE_LIMIT_RPM,
            window: RATE_WINDOW,
            settle: Arc::new(move |_, _| {
                durations.lock().unwrap_or_else(|e| e.into_inner()).next()
            }),
            abort: None,
        });
        let figure = |outcomes: &[&tf_walk::Outcome]| {
            let mut f = ModelFigure {
                time: Duration::ZERO,
                requests: 0,
                answered_429: 0,
                errors: 0,
            };
            for w in 0..workspaces {
                let c = model.counts(w);
                f.requests += c.total();
                f.answered_429 += c.rejected;
            }
            for o in outcomes {
                f.time = f.time.max(o.elapsed);
                f.errors += o.errors.len();
                if let Some(e) = o.errors.first() {
                    eprintln!("bench: the model's run failed: {e}");
                }
            }
            f
        };
        let parallelism = PARALLELISM as usize;
        let applied = futures_util::future::join_all(
            (0..workspaces)
                .map(|w| tf_walk::apply(&model, "model-apply", w, n, domains, parallelism)),
        )
        .await;
        let apply = figure(&applied.iter().map(|(o, _)| o).collect::<Vec<_>>());
        if !destroy {
            return (apply, None);
        }
        model.reset_counts();
        let destroyed = futures_util::future::join_all(
            applied
                .iter()
                .enumerate()
                .map(|(w, (_, s))| tf_walk::destroy(&model, "model-destroy", w, s, parallelism)),
        )
        .await;
        (apply, Some(figure(&destroyed.iter().collect::<Vec<_>>())))
    })
}

/// What the apply rows need of the simulator beyond the shared launcher.
trait BenchSim {
    fn raw_control(&self, method: &str, path: &str) -> Result<serde_json::Value, String>;
    fn env_with_key(&self, public: &str, private: &str) -> Vec<(String, String)>;
}

impl BenchSim for Sim {
    /// Calls the control surface (no auth) through the shared test client
    /// and returns the JSON answer.
    fn raw_control(&self, method: &str, path: &str) -> Result<serde_json::Value, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let body = (method != reqwest::Method::GET).then(|| serde_json::json!({}));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("simulator: {e}"))?;
        let r = runtime.block_on(self.control(method, path, body));
        if r.status >= 300 {
            return Err(format!(
                "simulator answered {} to {path}: {}",
                r.status, r.body
            ));
        }
        Ok(r.body)
    }

    fn env_with_key(&self, public: &str, private: &str) -> Vec<(String, String)> {
        vec![
            ("TIDBCLOUD_SERVERLESS_ENDPOINT".into(), self.url.clone()),
            ("TIDBCLOUD_PUBLIC_KEY".into(), public.into()),
            ("TIDBCLOUD_PRIVATE_KEY".into(), private.into()),
        ]
    }
}

fn pairs_config(n: usize, domains: bool, prefix: &str) -> String {
    let mut s = String::from(REQUIRED_PROVIDERS);
    let _ = write!(
        s,
        r#"
resource "tidbcloud_private_link_connection" "c" {{
  count                = {n}
  cluster_id           = "1000000000000000001"
  display_name         = "{prefix}-${{count.index}}"
  aws_endpoint_service = {{ name = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef" }}
}}
"#
    );
    if domains {
        let _ = write!(
            s,
            r#"
resource "tidbcloud_private_link_domains" "d" {{
  count                      = {n}
  cluster_id                 = "1000000000000000001"
  private_link_connection_id = tidbcloud_private_link_connection.c[count.index].private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
}}
"#
        );
    }
    s
}

/// API requests of one run, by kind, from `/_sim/stats`.
#[derive(Default, Clone, Copy)]
struct Requests {
    total: u64,
    creates: u64,
    deletes: u64,
    attaches: u64,
    dry_runs: u64,
    detaches: u64,
    listings: u64,
    gets: u64,
    cluster_gets: u64,
    answered_429: u64,
}

impl Requests {
    fn from_stats(stats: &serde_json::Value) -> Requests {
        let route = |t: &str| stats["requests_by_route"][t].as_u64().unwrap_or(0);
        const C: &str = "/v1beta1/clusters/{clusterId}";
        const PLC: &str = "/v1beta1/clusters/{clusterId}/privateLinkConnections";
        const ONE: &str =
            "/v1beta1/clusters/{clusterId}/privateLinkConnections/{privateLinkConnectionId}";
        let dry_runs = stats["attach_dry_runs"].as_u64().unwrap_or(0);
        Requests {
            total: stats["requests_total"].as_u64().unwrap_or(0),
            creates: route(&format!("POST {PLC}")),
            deletes: route(&format!("DELETE {ONE}")),
            attaches: route(&format!("POST {ONE}:attachDomains")).saturating_sub(dry_runs),
            dry_runs,
            detaches: route(&format!("POST {ONE}:detachDomains")),
            listings: route(&format!("GET {PLC}")),
            gets: route(&format!("GET {ONE}")),
            cluster_gets: route(&format!("GET {C}")),
            answered_429: stats["responses_429"].as_u64().unwrap_or(0),
        }
    }
}

/// One apply or destroy row.
struct ApplyRow {
    what: String,
    wall: Duration,
    bound: Duration,
    requests: Requests,
    /// The fastest schedule of the unavoidable requests in Terraform's
    /// order; its request count is the unavoidable one.
    floor: Floor,
    /// Runs whose output mentions a rate limit error (429s that reached the user).
    user_429s: usize,
    /// The same command in the waiting grid's model.
    model: ModelFigure,
    target: &'static str,
}

/// The lower bound of a run: `slots` operations that each take the settle
/// time, `PARALLELISM` at a time, and the whole rate windows the unavoidable
/// requests need (a run that needs more than one window's budget cannot end
/// before the next window starts).
fn lower_bound(slots: u64, unavoidable: u64) -> Duration {
    let work = SETTLE * (slots.div_ceil(PARALLELISM) as u32);
    let windows = RATE_WINDOW * (unavoidable.saturating_sub(1) / RATE_LIMIT_RPM) as u32;
    work.max(windows)
}

/// The floor of runs at once on one key (see `tests/support/floor.rs`).
fn floor_of(runs: &[&[Phase]]) -> Floor {
    floor::floor(
        runs,
        Limits {
            parallelism: PARALLELISM,
            settle: SETTLE,
            budget: RATE_LIMIT_RPM,
            window: RATE_WINDOW,
        },
    )
}

fn rate_limited_sim(jitter: Option<Jitter>) -> Result<Sim, String> {
    let (settle_ms, rpm, window_s) = (
        SETTLE.as_millis().to_string(),
        RATE_LIMIT_RPM.to_string(),
        RATE_WINDOW.as_secs().to_string(),
    );
    let jitter = jitter.map(Jitter::flags);
    let mut args = vec![
        "--transition-delay-ms",
        &settle_ms,
        "--rate-limit-rpm",
        &rpm,
        "--rate-limit-window-s",
        &window_s,
        "--api-key",
        "bench-apply:apply-secret",
        "--api-key",
        "bench-destroy:destroy-secret",
        "--api-key",
        "bench-other:other-secret",
    ];
    args.extend(jitter.iter().flatten().map(String::as_str));
    Ok(Sim::start(&args))
}

fn mentions_429(err_or_out: &str) -> bool {
    let s = err_or_out.to_ascii_lowercase();
    s.contains("rate limit") || s.contains("429")
}

/// Apply then destroy of `n` connections (and as many domains), each in a
/// fresh rate window: the destroy uses a second key of the same simulator.
/// With `jitter`, every transition lasts its own draw.
fn bench_pairs(
    tf: &TerraformEnv,
    root: &Path,
    n: usize,
    domains: bool,
    jitter: Option<Jitter>,
    rows: &mut Vec<ApplyRow>,
) -> Result<(), String> {
    let sim = rate_limited_sim(jitter)?;
    let mut label = if domains {
        format!("{n} connections + {n} managed domains")
    } else {
        format!("{n} connections")
    };
    if let Some(j) = jitter {
        // The bound and the floor take every transition at SETTLE.
        let _ = write!(
            label,
            ", settle times ±{}% (seed {}; bound and floor at {} s)",
            j.pct,
            j.seed,
            SETTLE.as_secs()
        );
    }
    let dir = workspace(
        root,
        &format!("apply-{n}-{domains}-{}", jitter.is_some()),
        &pairs_config(n, domains, "bench"),
    );
    let n64 = n as u64;
    let slots = if domains { 2 * n64 } else { n64 };
    // The requests each run cannot avoid, phase by phase, are listed in
    // `floor::apply_phases` and `floor::destroy_phases`.
    let apply_floor = floor_of(&[&floor::apply_phases(n64, domains)]);
    let destroy_floor = floor_of(&[&floor::destroy_phases(n64, domains)]);
    let target = if domains {
        "≤ 1.25x bound, ≤ 75 s, ≤ 150 requests"
    } else {
        "≤ 1.25x bound, ≤ 40 s"
    };
    let apply = vec!["apply", "-auto-approve", "-input=false", "-no-color"];
    let destroy = vec!["destroy", "-auto-approve", "-input=false", "-no-color"];
    // Each run's provider processes learn on their own: nothing crosses
    // from the apply to the destroy.
    let (model_apply, model_destroy) = model_figures(1, n, domains, jitter, true);
    let runs = [
        (
            "apply",
            ("bench-apply", "apply-secret"),
            &apply,
            apply_floor,
            model_apply,
        ),
        (
            "destroy",
            ("bench-destroy", "destroy-secret"),
            &destroy,
            destroy_floor,
            model_destroy.expect("a destroy"),
        ),
    ];
    for (phase, key, args, floor, model) in runs {
        sim.raw_control("POST", "/_sim/stats/reset")?;
        let env = sim.env_with_key(key.0, key.1);
        let outcome = tf.run(&dir, args, &env, false);
        let stats = sim.raw_control("GET", "/_sim/stats")?;
        let run = outcome?;
        rows.push(ApplyRow {
            what: format!("{phase} {label}"),
            wall: run.elapsed,
            bound: lower_bound(slots, floor.requests),
            requests: Requests::from_stats(&stats),
            floor,
            user_429s: 0,
            model,
            target,
        });
        eprintln!(
            "bench: {phase} {label}: {:.1?} (model {:.1?})",
            run.elapsed, model.time
        );
    }
    Ok(())
}

/// Two applies of `n` connections each at once, sharing one key.
fn bench_shared_key(
    tf: &TerraformEnv,
    root: &Path,
    n: usize,
    rows: &mut Vec<ApplyRow>,
) -> Result<(), String> {
    let sim = rate_limited_sim(None)?;
    let env = sim.env_with_key("bench-other", "other-secret");
    let dirs: Vec<PathBuf> = ["a", "b"]
        .iter()
        .map(|p| workspace(root, &format!("shared-{p}"), &pairs_config(n, false, p)))
        .collect();
    sim.raw_control("POST", "/_sim/stats/reset")?;
    let start = Instant::now();
    let mut children = Vec::new();
    for dir in &dirs {
        let mut cmd = tf.command(
            dir,
            &["apply", "-auto-approve", "-input=false", "-no-color"],
            &env,
        );
        cmd.stdout(Stdio::piped());
        children.push(cmd.spawn().map_err(|e| format!("terraform: {e}"))?);
    }
    let mut user_429s = 0;
    for child in children {
        let out = child
            .wait_with_output()
            .map_err(|e| format!("terraform: {e}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if !out.status.success() {
            if mentions_429(&text) {
                user_429s += 1;
            } else {
                return Err(format!("a concurrent apply failed: {text}"));
            }
        }
    }
    let wall = start.elapsed();
    let stats = sim.raw_control("GET", "/_sim/stats")?;
    let n64 = n as u64;
    let each = floor::apply_phases(n64, false);
    let floor = floor_of(&[&each, &each]);
    rows.push(ApplyRow {
        what: format!("2 concurrent applies of {n} connections, one key"),
        wall,
        bound: lower_bound(n64, floor.requests),
        requests: Requests::from_stats(&stats),
        floor,
        user_429s,
        model: model_figures(2, n, false, None, false).0,
        target: "no 429 seen by either user",
    });
    eprintln!("bench: shared key: {wall:.1?}");
    Ok(())
}

/// The apply/destroy rows; with `only`, those whose name contains it.
fn bench_apply(rows: &mut Vec<ApplyRow>, only: Option<&str>) -> Result<(), String> {
    let tf = TerraformEnv::new();
    let root = tempfile::tempdir().map_err(|e| e.to_string())?;
    let wanted = |name: &str| only.is_none_or(|o| name.contains(o));
    let pairs: [(usize, bool, Option<Jitter>, &str); 3] = [
        (30, false, None, "30 connections"),
        (30, true, None, "30 connections + 30 managed domains"),
        (30, false, Some(JITTER), "30 connections, settle times ±50%"),
    ];
    for (n, domains, jitter, name) in pairs {
        if wanted(name) {
            bench_pairs(&tf, root.path(), n, domains, jitter, rows)?;
        }
    }
    if wanted("2 concurrent applies of 15 connections, one key") {
        bench_shared_key(&tf, root.path(), 15, rows)?;
    }
    Ok(())
}

/// The table of measurements beside their baselines.
fn print_rows(rows: &[Row]) {
    println!("| measurement | provider | baseline | ratio | target |");
    println!("| --- | --- | --- | --- | --- |");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.what, r.subject, r.baseline, r.ratio, r.target
        );
    }
}

fn print_apply_rows(rows: &[ApplyRow]) {
    println!(
        "Apply and destroy against tidbcloud-sim at {RATE_LIMIT_RPM} requests per {}-second window, {} s per transition, default parallelism ({PARALLELISM}); each run starts in a fresh rate window.",
        RATE_WINDOW.as_secs(),
        SETTLE.as_secs()
    );
    println!();
    println!("The model columns run the same command in the waiting grid's model of Terraform and the API, under a paused clock (`tests/waiting_grid.rs`); its ratio is wall time ÷ model time.");
    println!();
    println!("| run | wall time | model | ratio | model requests (429s) | lower bound | ratio | floor in Terraform's order | ratio | API requests | unavoidable | creates | deletes | dry runs | attaches | detaches | listings | connection GETs | cluster GETs | 429 answers (absorbed) | 429s seen by the user | target |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for r in rows {
        let q = r.requests;
        let m = r.model;
        let failed = if m.errors > 0 {
            format!(", {} errors", m.errors)
        } else {
            String::new()
        };
        println!(
            "| {} | {:.1} s | {:.1} s | {:.2}x | {} ({}{failed}) | {:.0} s | {} | {:.0} s | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.what,
            r.wall.as_secs_f64(),
            m.time.as_secs_f64(),
            r.wall.as_secs_f64() / m.time.as_secs_f64().max(f64::MIN_POSITIVE),
            m.requests,
            m.answered_429,
            r.bound.as_secs_f64(),
            ratio(r.wall, r.bound),
            r.floor.time.as_secs_f64(),
            ratio(r.wall, r.floor.time),
            q.total,
            r.floor.requests,
            q.creates,
            q.deletes,
            q.dry_runs,
            q.attaches,
            q.detaches,
            q.listings,
            q.gets,
            q.cluster_gets,
            q.answered_429,
            r.user_429s,
            r.target
        );
    }
}

fn terraform_version() -> Option<String> {
    let out = Command::new("terraform")
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(str::to_string)
}

fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), Linux {kernel}")
}

fn main() {
    let o = options();
    let mut rows = Vec::new();
    let mut apply_rows = Vec::new();
    if o.apply_only {
        if terraform_version().is_none() {
            fail("terraform is not on PATH; install Terraform 1.11.4");
        }
        if let Err(e) = bench_apply(&mut apply_rows, o.only.as_deref()) {
            fail(&e);
        }
        println!("Machine: {}", machine());
        println!();
        print_apply_rows(&apply_rows);
        return;
    }

    if o.only.is_some() {
        if terraform_version().is_none() {
            fail("terraform is not on PATH; install Terraform 1.11.4");
        }
        if let Err(e) = bench_terraform(&o, &mut rows) {
            fail(&e);
        }
        println!("Machine: {}", machine());
        println!();
        print_rows(&rows);
        return;
    }
    bench_start(&o, &mut rows);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench_rpcs(&o, &mut rows));
    drop(runtime);

    let size = std::fs::metadata(provider::binary())
        .expect("provider binary")
        .len();
    rows.push(Row::new("release binary size", mib(size)).target("≤ 12 MB"));

    let tf_version = if o.terraform {
        let Some(v) = terraform_version() else {
            fail("terraform is not on PATH; install Terraform 1.11.4 or pass --skip-terraform");
        };
        if let Err(e) = bench_terraform(&o, &mut rows) {
            fail(&e);
        }
        if o.apply {
            if let Err(e) = bench_apply(&mut apply_rows, None) {
                fail(&e);
            }
        }
        Some(v)
    } else {
        None
    };

    println!("Machine: {}", machine());
    if let Some(v) = tf_version {
        println!("Terraform: {v}");
    }
    println!("Provider: {} (release profile)", provider::binary());
    println!();
    print_rows(&rows);
    if !apply_rows.is_empty() {
        println!();
        print_apply_rows(&apply_rows);
    }
}
