//! Starting the provider binary the way Terraform does, and reading its
//! handshake line. Every process started here is killed when dropped.

use std::net::SocketAddr;
use std::process::Command;

use super::grpc::{self, ClientIdentity, Curve};
pub use super::process::{Process, PATIENCE};

pub const COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
pub const MIN_PORT: u16 = 10000;
pub const MAX_PORT: u16 = 25000;

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
    cmd.env_remove("TIDBCLOUD_SETTLE_TIMES_FILE");
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
