//! Starting the provider binary the way Terraform does, and reading its
//! handshake line. Every process started here is killed when dropped.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::grpc::{self, ClientIdentity, Curve};

pub const COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
pub const MIN_PORT: u16 = 10000;
pub const MAX_PORT: u16 = 25000;

/// How long any single step (a line, an exit) may take before a test fails.
/// Generous: CI machines are small and debug builds are slow.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_terraform-provider-tidbcloud")
}

/// The provider command with none of the host's variables set, so that
/// tests do not depend on the environment they run in.
pub fn bare_command() -> Command {
    let mut cmd = Command::new(binary());
    for k in [
        COOKIE_KEY,
        "PLUGIN_PROTOCOL_VERSIONS",
        "PLUGIN_MIN_PORT",
        "PLUGIN_MAX_PORT",
        "PLUGIN_CLIENT_CERT",
        "TF_REATTACH_PROVIDERS",
        "TF_LOG",
        "TF_LOG_PROVIDER",
    ] {
        cmd.env_remove(k);
    }
    cmd
}

/// The provider command with the environment Terraform 1.11 sets.
pub fn managed_command(client_cert_pem: &str) -> Command {
    let mut cmd = bare_command();
    cmd.env(COOKIE_KEY, COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", MIN_PORT.to_string())
        .env("PLUGIN_MAX_PORT", MAX_PORT.to_string())
        .env("PLUGIN_CLIENT_CERT", client_cert_pem);
    cmd
}

/// A running child process with its output collected in the background.
pub struct Process {
    child: Child,
    stdout: Receiver<String>,
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Process {
    /// Spawns `cmd` in a process group of its own (so that a group signal
    /// reaches it as a terminal's Ctrl-C would, and nothing else).
    pub fn spawn(mut cmd: Command) -> Process {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let mut child = cmd.spawn().expect("start the provider binary");
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let (tx, stdout) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = BufReader::new(out);
            loop {
                let mut line = Vec::new();
                match out.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line)
                            .trim_end_matches(['\r', '\n'])
                            .to_string();
                        if tx.send(text).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr.clone();
        let stderr_reader = std::thread::spawn(move || {
            let mut err = err;
            let mut buf = [0u8; 4096];
            loop {
                match err.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => sink
                        .lock()
                        .expect("stderr buffer")
                        .extend_from_slice(&buf[..n]),
                }
            }
        });
        Process {
            child,
            stdout,
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line of stdout, or `None` at end of output or after `timeout`.
    pub fn stdout_line(&self, timeout: Duration) -> Option<String> {
        self.stdout.recv_timeout(timeout).ok()
    }

    /// Lines printed since the last read, without waiting.
    pub fn stdout_pending(&self) -> Vec<String> {
        self.stdout.try_iter().collect()
    }

    /// Everything left on stdout up to its end; panics if it does not end
    /// within [`PATIENCE`].
    pub fn stdout_rest(&self) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(RecvTimeoutError::Disconnected) => return lines,
                Err(RecvTimeoutError::Timeout) => panic!("stdout did not end: {lines:?}"),
            }
        }
    }

    /// stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().expect("stderr buffer")).into_owned()
    }

    /// All of stderr, once the process has exited.
    pub fn stderr_to_end(&mut self) -> String {
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        self.stderr()
    }

    /// Waits for the process to exit, at most `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the provider") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for the process to exit, at most `timeout`, without blocking the
    /// async runtime (whose tasks may be closing connections meanwhile).
    pub async fn wait_exit_async(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the provider") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("poll the provider").is_none()
    }

    /// Sends `signal` (e.g. "INT") to the process's group, as a terminal does.
    pub fn signal_group(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg("--")
            .arg(format!("-{}", self.pid()))
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The fields of go-plugin's handshake line `1|6|tcp|ADDR|grpc|CERT`.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub line: String,
    pub core_version: String,
    pub app_version: String,
    pub network: String,
    pub addr: SocketAddr,
    pub protocol: String,
    /// The server certificate, decoded from base64 (standard, unpadded).
    pub cert_der: Vec<u8>,
}

impl Handshake {
    pub fn parse(line: &str) -> Result<Handshake, String> {
        use base64::Engine as _;
        let parts: Vec<&str> = line.split('|').collect();
        let [core, app, network, addr, protocol, cert] = parts[..] else {
            return Err(format!(
                "handshake line has {} fields: {line:?}",
                parts.len()
            ));
        };
        let addr: SocketAddr = addr.parse().map_err(|e| format!("address {addr:?}: {e}"))?;
        let cert_der = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(cert)
            .map_err(|e| format!("certificate is not unpadded standard base64: {e}"))?;
        Ok(Handshake {
            line: line.to_string(),
            core_version: core.to_string(),
            app_version: app.to_string(),
            network: network.to_string(),
            addr,
            protocol: protocol.to_string(),
            cert_der,
        })
    }
}

/// A provider started as Terraform starts it, with the client identity that
/// was passed in `PLUGIN_CLIENT_CERT`.
pub struct Managed {
    pub process: Process,
    pub handshake: Handshake,
    pub identity: ClientIdentity,
}

impl Managed {
    pub fn start(curve: Curve) -> Managed {
        Self::start_with(ClientIdentity::generate(curve))
    }

    pub fn start_with(identity: ClientIdentity) -> Managed {
        let process = Process::spawn(managed_command(&identity.pem()));
        let line = process.stdout_line(PATIENCE).unwrap_or_else(|| {
            panic!(
                "no handshake line from the provider; stderr:\n{}",
                process.stderr()
            )
        });
        let handshake = Handshake::parse(&line).expect("handshake line");
        Managed {
            process,
            handshake,
            identity,
        }
    }

    /// A channel over mTLS with the identity the provider was told to trust.
    pub async fn channel(&self) -> tonic::transport::Channel {
        grpc::connect_mtls(
            self.handshake.addr,
            &self.handshake.cert_der,
            &self.identity,
        )
        .await
        .unwrap_or_else(|e| {
            panic!(
                "connect over mTLS: {e:?}; provider stderr:\n{}",
                self.process.stderr()
            )
        })
    }
}
