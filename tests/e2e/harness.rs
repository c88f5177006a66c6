//! The parts of an end-to-end test, all real: the `tidbcloud-sim` binary on a
//! free loopback port, the built provider, and the `terraform` CLI on PATH
//! finding the provider through a CLI configuration written per test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support;

#[allow(unused_imports)] // not every suite that includes the harness builds HCL
pub use crate::support::hcl::{aws_connection, Connection, HEADER};
#[allow(unused_imports)]
pub use crate::support::wait::eventually;
pub use crate::support::world::*;

/// The `terraform` binary, or a test failure that says how to get one.
pub fn terraform_binary() -> PathBuf {
    let path = std::env::var_os("TERRAFORM")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join("terraform"))
                    .find(|p| p.is_file())
            })
        });
    match path {
        Some(p) => p,
        None => panic!(
            "the end-to-end tests need the terraform CLI (1.11 or later) on PATH or in $TERRAFORM; none was found"
        ),
    }
}

/// The simulator as the end-to-end tests use it: the shared launcher with
/// transitions long enough for Terraform to see them, and blocking control
/// calls (Terraform runs on the test's thread).
pub struct Sim(support::sim::Sim);

impl std::ops::Deref for Sim {
    type Target = support::sim::Sim;
    fn deref(&self) -> &support::sim::Sim {
        &self.0
    }
}

impl Sim {
    /// A simulator with 150 ms transitions and no rate limit; `extra` flags
    /// come last and win.
    pub fn start(extra: &[&str]) -> Sim {
        let mut args = vec!["--transition-delay-ms", "150"];
        args.extend_from_slice(extra);
        Sim(support::sim::Sim::start(&args))
    }

    /// Calls the control surface (no auth) and returns the status and JSON answer.
    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("HTTP method");
        let r = block_on(self.0.control(method, path, body));
        (r.status, r.body)
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        let (status, v) = self.control("POST", path, Some(body));
        assert!(status < 300, "POST {path} answered {status}: {v}");
        v
    }

    pub fn accept(&self, service: &str) {
        self.post(
            &format!("/_sim/endpoint-services/{service}/accept"),
            serde_json::json!({}),
        );
    }

    pub fn stats(&self) -> Value {
        block_on(self.0.stats())
    }

    /// Moves the simulator's clock forward by `ms` milliseconds.
    pub fn advance(&self, ms: u64) -> Value {
        block_on(self.0.advance(ms))
    }
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A Terraform working directory using the built provider.
pub struct Tf {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

pub fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-tidbcloud"))
        .parent()
        .expect("binary directory")
        .to_path_buf()
}

impl Tf {
    /// A working directory whose provider talks to `sim` with the default key.
    pub fn new(sim: Option<&Sim>) -> Tf {
        let dir = tempfile::tempdir().expect("temp dir");
        let cli_config = dir.path().join("terraform.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"terraform.local/tidbcloud/tidbcloud\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                provider_dir().display()
            ),
        )
        .expect("write CLI config");
        let mut env = vec![
            (
                "TF_CLI_CONFIG_FILE".to_string(),
                cli_config.display().to_string(),
            ),
            ("CHECKPOINT_DISABLE".to_string(), "1".to_string()),
            ("TF_IN_AUTOMATION".to_string(), "1".to_string()),
        ];
        if let Some(sim) = sim {
            env.extend(sim.provider_env());
        }
        Tf { dir, env }
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The 1-based number of the first line of `main.tf` containing `text`.
    pub fn line_of(&self, text: &str) -> usize {
        let main = std::fs::read_to_string(self.dir.path().join("main.tf")).expect("main.tf");
        main.lines()
            .position(|l| l.contains(text))
            .map(|i| i + 1)
            .unwrap_or_else(|| panic!("no line with {text:?} in main.tf:\n{main}"))
    }

    /// Writes `main.tf`: the provider header plus `body`.
    pub fn write(&self, body: &str) {
        std::fs::write(self.dir.path().join("main.tf"), format!("{HEADER}\n{body}"))
            .expect("write main.tf");
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(terraform_binary());
        cmd.args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        for key in [
            "TF_LOG",
            "TF_LOG_PROVIDER",
            "TIDBCLOUD_LOG_HTTP",
            "TIDBCLOUD_PUBLIC_KEY",
            "TIDBCLOUD_PRIVATE_KEY",
            "TIDBCLOUD_SERVERLESS_ENDPOINT",
        ] {
            cmd.env_remove(key);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs terraform and returns what it did.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run terraform");
        Run::from(output, args)
    }

    /// Runs terraform and fails the test unless it succeeds.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args);
        assert!(run.success, "terraform {args:?} failed:\n{}", run.all());
        run
    }

    pub fn apply(&self) -> Run {
        self.ok(&["apply", "-auto-approve", "-no-color", "-input=false"])
    }

    pub fn destroy(&self) -> Run {
        self.ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error.
    pub fn plan(&self) -> Run {
        self.run(&["plan", "-detailed-exitcode", "-no-color", "-input=false"])
    }

    /// Asserts that a plan finds nothing to change.
    pub fn assert_no_changes(&self) {
        let run = self.plan();
        assert_eq!(run.code, Some(0), "expected no changes:\n{}", run.all());
    }

    /// The state as `terraform show -json` reports it.
    pub fn state(&self) -> Value {
        let run = self.ok(&["show", "-json", "-no-color"]);
        serde_json::from_str(&run.stdout).expect("state JSON")
    }

    /// The state's resource at `address` (e.g. `tidbcloud_private_link_connection.c`).
    pub fn resource(&self, address: &str) -> Option<Value> {
        find_resource(&self.state(), address)
    }
}

pub fn find_resource(state: &Value, address: &str) -> Option<Value> {
    state["values"]["root_module"]["resources"]
        .as_array()?
        .iter()
        .find(|r| r["address"] == address)
        .cloned()
}

/// The outcome of one terraform command.
pub struct Run {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(output: Output, args: &[&str]) -> Run {
        let run = Run {
            success: output.status.success(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        if std::env::var_os("E2E_VERBOSE").is_some() {
            eprintln!("$ terraform {}\n{}", args.join(" "), run.all());
        }
        run
    }

    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The diagnostic whose summary is `summary` ("Error: ..." or
    /// "Warning: ..."), up to the next one, without Terraform's frame
    /// characters; a test failure if there is none.
    pub fn diagnostic(&self, summary: &str) -> String {
        let all = self.all().replace(['│', '╷', '╵'], " ");
        let lines: Vec<&str> = all.lines().map(str::trim).collect();
        let is_head = |l: &str| l.starts_with("Error: ") || l.starts_with("Warning: ");
        let start = lines
            .iter()
            .position(|l| is_head(l) && l.split_once(": ").map(|(_, s)| s) == Some(summary))
            .unwrap_or_else(|| panic!("no diagnostic {summary:?} in:\n{}", self.all()));
        let end = lines[start + 1..]
            .iter()
            .position(|l| is_head(l))
            .map_or(lines.len(), |n| start + 1 + n);
        lines[start..end].join("\n")
    }

    /// Asserts that the output mentions `text` (whitespace-insensitive, so
    /// Terraform's line wrapping does not matter).
    pub fn assert_mentions(&self, text: &str) {
        let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let all = squash(&self.all().replace(['│', '╷', '╵'], " "));
        assert!(
            all.contains(&squash(text)),
            "expected {text:?} in:\n{}",
            self.all()
        );
    }
}

/// The `hashicorp/aws` provider in a local filesystem mirror
/// (`$TF_PLUGIN_MIRROR`, else `/opt/tf-plugins`): `(version, platform, binary)`.
pub fn local_aws_provider() -> Option<(String, String, PathBuf)> {
    let mirror = std::env::var_os("TF_PLUGIN_MIRROR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/tf-plugins"));
    let platform = terraform_platform();
    let versions = mirror.join("registry.terraform.io/hashicorp/aws");
    let mut found: Vec<(String, PathBuf)> = std::fs::read_dir(versions)
        .ok()?
        .filter_map(|entry| {
            let version = entry.ok()?.path();
            let binary = std::fs::read_dir(version.join(&platform))
                .ok()?
                .filter_map(|f| f.ok().map(|f| f.path()))
                .find(|f| {
                    f.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("terraform-provider-aws"))
                })?;
            let name = version.file_name()?.to_string_lossy().into_owned();
            Some((name, binary))
        })
        .collect();
    found.sort();
    let (version, binary) = found.pop()?;
    Some((version, platform, binary))
}

/// Terraform's name of this machine's platform, e.g. `linux_amd64`.
pub fn terraform_platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

/// Where `hashicorp/aws` comes from for the tests that need its schema.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum AwsSource {
    /// A local filesystem mirror: nothing from the network.
    LocalMirror,
    /// None found locally: the registry, through a normal `terraform init`.
    Registry,
}

/// Points `tf` at a filesystem mirror in its directory holding the built
/// provider and, when there is one locally (see [`local_aws_provider`]),
/// `hashicorp/aws`; without it, `hashicorp/aws` comes from the registry.
/// Run `terraform init` with [`init_with_aws`], which says what to provide
/// when neither works.
#[must_use]
pub fn use_aws_mirror(tf: &mut Tf) -> AwsSource {
    let platform = terraform_platform();
    let aws = local_aws_provider();
    let mirror = tf.path().join("mirror");
    let link = |target: &Path, dir: PathBuf, name: &str| {
        std::fs::create_dir_all(&dir).expect("mirror dir");
        std::os::unix::fs::symlink(target, dir.join(name)).expect("symlink");
    };
    if let Some((aws_version, _, aws_binary)) = &aws {
        link(
            aws_binary,
            mirror.join(format!(
                "registry.terraform.io/hashicorp/aws/{aws_version}/{platform}"
            )),
            &aws_binary.file_name().expect("name").to_string_lossy(),
        );
    }
    // `terraform init` does not install providers under dev_overrides, so
    // the built provider is in the mirror (a link: always this build),
    // under its own version, which the docs' version constraints admit.
    let version = env!("CARGO_PKG_VERSION");
    link(
        Path::new(env!("CARGO_BIN_EXE_terraform-provider-tidbcloud")),
        mirror.join(format!(
            "terraform.local/tidbcloud/tidbcloud/{version}/{platform}"
        )),
        &format!("terraform-provider-tidbcloud_v{version}"),
    );
    let (installation, source) = match aws {
        Some(_) => (
            format!("  filesystem_mirror {{\n    path = \"{}\"\n  }}\n", mirror.display()),
            AwsSource::LocalMirror,
        ),
        None => (
            format!(
                "  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"terraform.local/*/*\"]\n  }}\n  \
                 direct {{\n    exclude = [\"terraform.local/*/*\"]\n  }}\n",
                mirror.display()
            ),
            AwsSource::Registry,
        ),
    };
    let cli_config = tf.path().join("mirror.tfrc");
    std::fs::write(
        &cli_config,
        format!("provider_installation {{\n{installation}}}\n"),
    )
    .expect("CLI config");
    tf.set_env("TF_CLI_CONFIG_FILE", &cli_config.display().to_string());
    source
}

/// `terraform init` in `dir` (a directory of `tf`'s), failing the test
/// with what to provide when `hashicorp/aws` cannot be installed.
pub fn init_with_aws(tf: &Tf, dir: &Path, source: AwsSource) {
    let out = tf
        .command(&["init", "-no-color", "-input=false"])
        .current_dir(dir)
        .output()
        .expect("run terraform init");
    let platform = terraform_platform();
    assert!(
        out.status.success(),
        "terraform init failed{}:\n{}{}",
        if source == AwsSource::Registry {
            format!(
                " to install hashicorp/aws, which this test needs for its schema (terraform \
                 test mocks it) and found in no local mirror. Provide either network access to \
                 registry.terraform.io, or a filesystem mirror at /opt/tf-plugins or in \
                 TF_PLUGIN_MIRROR=<dir> holding \
                 <dir>/registry.terraform.io/hashicorp/aws/<version>/{platform}/terraform-provider-aws_v<version>_x5 \
                 (unzip terraform-provider-aws_<version>_{platform}.zip from \
                 releases.hashicorp.com there)"
            )
        } else {
            String::new()
        },
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copies a directory tree of configuration (skipping `.terraform` and lock
/// files left by a local run) to `to`.
pub fn copy_configuration(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create directory");
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("name");
        if name == ".terraform" || name == ".terraform.lock.hcl" {
            continue;
        }
        if path.is_dir() {
            copy_configuration(&path, &to.join(name));
        } else {
            std::fs::copy(&path, to.join(name)).expect("copy file");
        }
    }
}
