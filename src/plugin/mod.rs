//! go-plugin's host protocol: how Terraform starts, talks to and stops a
//! provider process.
//!
//! [`serve`] checks the magic cookie, negotiates the protocol, listens on a
//! loopback port inside the host's range, sets up AutoMTLS, prints the
//! handshake line and serves gRPC (the given application services plus
//! health, controller, stdio and broker) until the host calls
//! `GRPCController.Shutdown`. This layer knows nothing of Terraform values.

pub mod log;
mod services;
pub mod tls;

use std::future::Future;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_rustls::server::TlsStream;
use tonic::service::Routes;
use tonic::transport::server::Connected;

use crate::proto::plugin::grpc_broker_server::GrpcBrokerServer;
use crate::proto::plugin::grpc_controller_server::GrpcControllerServer;
use crate::proto::plugin::grpc_stdio_server::GrpcStdioServer;

/// The cookie Terraform sets so that a provider knows it was launched by
/// Terraform rather than by a person.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// How the process was started.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Launched by Terraform: cookie, negotiation, AutoMTLS.
    Managed,
    /// Started by a person with `--debug`: no cookie, no TLS; prints a
    /// `TF_REATTACH_PROVIDERS` value for Terraform to attach to.
    Debug { source_address: String },
}

/// What a plugin serves.
pub struct Plugin {
    /// The application protocol major version (6 for tfplugin6).
    pub app_protocol_version: u32,
    /// Name of this plugin in messages to people.
    pub name: &'static str,
    /// Application services (tfplugin6's `Provider`).
    pub routes: Routes,
}

/// A start-up failure, with the message a person should see.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "{0} is a Terraform provider plugin: Terraform starts it, it is not meant to be run by hand.\n\
         Use it from a Terraform configuration, or start it with --debug and attach terraform to it."
    )]
    NotLaunchedByHost(&'static str),
    #[error(
        "the host speaks plugin protocol versions {offered:?}, this plugin speaks only {ours}"
    )]
    ProtocolMismatch { offered: String, ours: u32 },
    #[error("{0}")]
    Setup(String),
}

/// Reads the environment Terraform sets and decides how to serve.
pub struct HostEnvironment {
    pub cookie: Option<String>,
    pub protocol_versions: Option<String>,
    pub min_port: Option<String>,
    pub max_port: Option<String>,
    pub client_cert: Option<String>,
}

impl HostEnvironment {
    pub fn from_process() -> HostEnvironment {
        let var = |k: &str| std::env::var(k).ok();
        HostEnvironment {
            cookie: var(MAGIC_COOKIE_KEY),
            protocol_versions: var("PLUGIN_PROTOCOL_VERSIONS"),
            min_port: var("PLUGIN_MIN_PORT"),
            max_port: var("PLUGIN_MAX_PORT"),
            client_cert: var("PLUGIN_CLIENT_CERT").filter(|c| !c.trim().is_empty()),
        }
    }

    /// Picks `ours` from the host's comma-separated list of versions.
    pub fn negotiate(&self, ours: u32) -> Result<u32, ServeError> {
        let offered = self.protocol_versions.clone().unwrap_or_default();
        // A host that does not say which versions it speaks gets ours.
        if offered.trim().is_empty() {
            return Ok(ours);
        }
        if offered
            .split(',')
            .any(|v| v.trim().parse::<u32>().ok() == Some(ours))
        {
            Ok(ours)
        } else {
            Err(ServeError::ProtocolMismatch { offered, ours })
        }
    }

    /// The port range to listen in (go-plugin's default when unset).
    pub fn port_range(&self) -> Result<(u16, u16), ServeError> {
        let parse = |v: &Option<String>, default: u16, name: &str| match v {
            None => Ok(default),
            Some(s) if s.trim().is_empty() => Ok(default),
            Some(s) => s
                .trim()
                .parse::<u16>()
                .map_err(|_| ServeError::Setup(format!("{name} is not a port number: {s:?}"))),
        };
        let min = parse(&self.min_port, 10000, "PLUGIN_MIN_PORT")?;
        let max = parse(&self.max_port, 25000, "PLUGIN_MAX_PORT")?;
        if min > max {
            return Err(ServeError::Setup(format!(
                "PLUGIN_MIN_PORT {min} is above PLUGIN_MAX_PORT {max}"
            )));
        }
        Ok((min, max))
    }
}

/// Binds a loopback listener on a free port in `min..=max`, starting at a
/// pseudo-random offset so that concurrent plugins rarely collide.
pub fn bind_in_range(min: u16, max: u16) -> Result<StdTcpListener, ServeError> {
    let span = u32::from(max - min) + 1;
    let seed = std::process::id().wrapping_mul(2_654_435_761)
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
    let start = seed % span;
    for i in 0..span {
        let port = min + ((start + i) % span) as u16;
        if let Ok(listener) = StdTcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            return Ok(listener);
        }
    }
    Err(ServeError::Setup(format!(
        "no free port on 127.0.0.1 between {min} and {max}"
    )))
}

/// Ignores SIGINT for the rest of the process's life, as go-plugin servers
/// do: a terminal's Ctrl-C reaches every process of the group, and the host
/// stops its plugins itself (`StopProvider`, then `Shutdown`).
fn ignore_interrupts() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut interrupts) = signal(SignalKind::interrupt()) {
            tokio::spawn(async move {
                while interrupts.recv().await.is_some() {
                    ::log::debug!("interrupt received and ignored; the host stops this plugin");
                }
            });
        }
    }
}

/// Serves `plugin` until the host shuts it down.
pub async fn serve(plugin: Plugin, mode: Mode) -> Result<(), ServeError> {
    // Before the handshake line: the host may die as soon as it is out.
    let host = host_pid();
    // Launched by Terraform, Ctrl-C is Terraform's to handle; started by a
    // person with --debug, Ctrl-C ends the process as usual.
    if matches!(mode, Mode::Managed) {
        ignore_interrupts();
    }
    let env = HostEnvironment::from_process();
    let tls = match &mode {
        Mode::Managed => {
            if env.cookie.as_deref() != Some(MAGIC_COOKIE_VALUE) {
                return Err(ServeError::NotLaunchedByHost(plugin.name));
            }
            env.negotiate(plugin.app_protocol_version)?;
            match &env.client_cert {
                None => None,
                Some(pem) => {
                    let client = tls::parse_client_cert_pem(pem).map_err(ServeError::Setup)?;
                    let identity = tls::ServerIdentity::generate()
                        .map_err(|e| ServeError::Setup(format!("certificate: {e}")))?;
                    let config = tls::server_config(&identity, client)
                        .map_err(|e| ServeError::Setup(format!("TLS: {e}")))?;
                    Some((identity, Arc::new(config)))
                }
            }
        }
        Mode::Debug { .. } => None,
    };
    let listener = match &mode {
        Mode::Managed => {
            let (min, max) = env.port_range()?;
            bind_in_range(min, max)?
        }
        Mode::Debug { .. } => StdTcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|e| ServeError::Setup(format!("listen: {e}")))?,
    };
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError::Setup(format!("listen: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| ServeError::Setup(format!("listen: {e}")))?;
    let listener =
        TcpListener::from_std(listener).map_err(|e| ServeError::Setup(format!("listen: {e}")))?;

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let routes = plugin
        .routes
        .add_service(health_service)
        .add_service(GrpcControllerServer::new(services::Controller {
            shutdown: shutdown_tx,
        }))
        .add_service(GrpcStdioServer::new(services::Stdio {
            shutdown: shutdown_rx.clone(),
        }))
        .add_service(GrpcBrokerServer::new(services::Broker {
            shutdown: shutdown_rx.clone(),
        }));

    let incoming = accept_loop(listener, tls.as_ref().map(|(_, c)| c.clone()));
    announce(
        &mode,
        plugin.app_protocol_version,
        addr,
        tls.as_ref().map(|(id, _)| id),
    )?;

    let mut stop = shutdown_rx.clone();
    let server = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .initial_stream_window_size(Some(4 * 1024 * 1024))
        .initial_connection_window_size(Some(16 * 1024 * 1024))
        .serve_with_incoming_shutdown(routes, incoming, async move {
            let _ = stop.wait_for(|down| *down).await;
        });
    // Once shutdown is requested, in-flight calls get a moment to finish; then
    // the process ends regardless of what the host keeps open.
    let mut stop = shutdown_rx;
    let deadline = async move {
        let _ = stop.wait_for(|down| *down).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    // Launched by Terraform, the plugin lives no longer than Terraform: a
    // killed Terraform never calls Shutdown. In debug mode a person owns
    // the process and ends it; the parent's end is only logged.
    let orphaned = async move {
        watch_parent(host, PARENT_POLL).await;
        match mode {
            Mode::Managed => {
                ::log::warn!("the host process (pid {host}) is gone; stopping the plugin");
            }
            Mode::Debug { .. } => {
                ::log::info!(
                    "the process that started this one (pid {host}) is gone; in debug mode the plugin serves on until it is interrupted"
                );
                std::future::pending().await
            }
        }
    };
    tokio::select! {
        result = server => result.map_err(|e| ServeError::Setup(format!("gRPC server: {e}"))),
        () = deadline => Ok(()),
        () = orphaned => Ok(()),
    }
}

/// How often the plugin checks that its host is still alive.
const PARENT_POLL: Duration = Duration::from_millis(500);

/// Returns once the process that started this one has died, which the
/// process notices as a new parent (the reaper: init or a subreaper).
/// go-plugin plugins end the same way, through their broken stdio pipes;
/// this does not depend on a write happening.
async fn watch_parent(parent: u32, every: Duration) {
    #[cfg(unix)]
    {
        loop {
            tokio::time::sleep(every).await;
            let now = std::os::unix::process::parent_id();
            if now != parent {
                return;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (parent, every);
        std::future::pending::<()>().await
    }
}

/// The pid of the process that started this one (0 where unknown).
fn host_pid() -> u32 {
    #[cfg(unix)]
    {
        std::os::unix::process::parent_id()
    }
    #[cfg(not(unix))]
    {
        0
    }
}

/// Prints the handshake line (managed) or the reattach instructions (debug).
fn announce(
    mode: &Mode,
    app_version: u32,
    addr: SocketAddr,
    identity: Option<&tls::ServerIdentity>,
) -> Result<(), ServeError> {
    let mut out = std::io::stdout().lock();
    let result = match mode {
        Mode::Managed => {
            let cert = identity.map(|i| i.handshake_encoding()).unwrap_or_default();
            writeln!(
                out,
                "{CORE_PROTOCOL_VERSION}|{app_version}|tcp|{addr}|grpc|{cert}"
            )
        }
        Mode::Debug { source_address } => {
            let reattach = serde_json::json!({
                source_address.as_str(): {
                    "Protocol": "grpc",
                    "ProtocolVersion": app_version,
                    "Pid": std::process::id(),
                    "Test": true,
                    "Addr": { "Network": "tcp", "String": addr.to_string() },
                }
            });
            writeln!(
                out,
                "Provider started. To attach Terraform, set TF_REATTACH_PROVIDERS in the shell that runs terraform:\n\n\tTF_REATTACH_PROVIDERS='{reattach}'\n"
            )
        }
    };
    result
        .and_then(|()| out.flush())
        .map_err(|e| ServeError::Setup(format!("stdout: {e}")))
}

/// Accepts connections, completing the TLS handshake (when configured) off
/// the accept path so a slow client cannot hold up others.
fn accept_loop(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> tokio_stream::wrappers::ReceiverStream<Result<PluginStream, std::io::Error>> {
    let (tx, rx) = mpsc::channel(16);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    ::log::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let tx = tx.clone();
            match &acceptor {
                None => {
                    if tx.send(Ok(PluginStream::Plain(stream))).await.is_err() {
                        return;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        match acceptor.accept(stream).await {
                            Ok(tls) => {
                                let _ = tx.send(Ok(PluginStream::Tls(Box::new(tls)))).await;
                            }
                            Err(e) => ::log::warn!("TLS handshake with the host failed: {e}"),
                        }
                    });
                }
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// A connection from the host: plain in debug mode, TLS otherwise.
pub enum PluginStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Connected for PluginStream {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for PluginStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            PluginStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            PluginStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PluginStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            PluginStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            PluginStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            PluginStream::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            PluginStream::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            PluginStream::Plain(s) => s.is_write_vectored(),
            PluginStream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            PluginStream::Plain(s) => Pin::new(s).poll_flush(cx),
            PluginStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            PluginStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            PluginStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Runs a future to completion on a runtime sized for a plugin.
pub fn run<F: Future<Output = Result<(), ServeError>>>(f: F) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| ServeError::Setup(format!("runtime: {e}")))?;
    runtime.block_on(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(versions: Option<&str>) -> HostEnvironment {
        HostEnvironment {
            cookie: None,
            protocol_versions: versions.map(str::to_string),
            min_port: None,
            max_port: None,
            client_cert: None,
        }
    }

    #[test]
    fn negotiation_picks_six_from_the_host_list() {
        assert_eq!(env(Some("5,6")).negotiate(6).expect("6"), 6);
        assert_eq!(env(Some(" 6 ")).negotiate(6).expect("6"), 6);
        assert!(env(Some("5")).negotiate(6).is_err());
        assert_eq!(env(None).negotiate(6).expect("default"), 6);
    }

    #[test]
    fn port_range_defaults_and_errors() {
        assert_eq!(env(None).port_range().expect("range"), (10000, 25000));
        let mut e = env(None);
        e.min_port = Some("x".into());
        assert!(e.port_range().is_err());
        e.min_port = Some("30000".into());
        e.max_port = Some("20000".into());
        assert!(e.port_range().is_err());
    }

    #[test]
    fn binds_inside_the_range() {
        let l = bind_in_range(20000, 20100).expect("bind");
        let port = l.local_addr().expect("addr").port();
        assert!((20000..=20100).contains(&port));
    }
}
