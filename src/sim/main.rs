//! `tidbcloud-sim`: a local, faithful implementation of the TiDB Cloud API
//! for private link connections (see `docs/simulator.md`).
//!
//! An independent implementation of the swagger: it shares no code with the
//! provider's API client, so both are checked against the swagger rather
//! than against each other.
//!
//! Modules, each with one job:
//! * [`cli`]: flags; [`logging`]: stderr logs.
//! * [`model`], [`names`], [`seed`], [`world`]: the world, its rules and
//!   state machine; [`app`]: the shared state that runs the timers.
//! * [`clock`]: the one virtual clock everything time-dependent reads
//!   (also the `Date` header); [`jitter`]: how long transitions last.
//! * [`gateway`]: auth ([`auth`]), rate limit ([`ratelimit`]), faults
//!   ([`faults`]) and counters ([`stats`]) in front of [`api`], which speaks
//!   the swagger's shapes ([`wire`]) and errors ([`error`]); [`trace`]
//!   gives every response its trace id; [`pagetoken`] issues and checks
//!   list page tokens.
//! * [`control`]: the `/_sim/` control surface; [`console`]: the HTML page.

mod api;
mod app;
mod auth;
mod cli;
mod clock;
mod console;
mod control;
mod error;
mod faults;
mod gateway;
mod jitter;
mod logging;
mod model;
mod names;
mod pagetoken;
mod ratelimit;
mod seed;
mod stats;
mod trace;
mod wire;
mod world;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use axum::routing::any;
use axum::Router;
use tokio::net::TcpListener;

use crate::app::App;
use crate::cli::Config;
use crate::clock::Clock;
use crate::error::ApiError;
use crate::jitter::Durations;
use crate::world::World;

fn main() -> ExitCode {
    let config = match cli::parse(std::env::args_os()) {
        Ok(config) => config,
        Err(e) => {
            // Help and version go to stdout with 0; errors to stderr with 2.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    logging::init();
    let code = run(config);
    log::logger().flush();
    code
}

/// Builds the world and serves until SIGINT or SIGTERM.
fn run(config: Config) -> ExitCode {
    let seed = match &config.seed {
        Some(path) => seed::load(path),
        None => Ok(seed::default_seed()),
    };
    config.domain_states.install();
    let clock = Clock::new();
    let durations = transition_durations(&config);
    let world = match seed.and_then(|s| World::from_seed(s, durations, clock.clone())) {
        Ok(world) => world,
        Err(e) => {
            eprintln!("tidbcloud-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tidbcloud-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config, world, clock))
}

/// The durations of transitional states; with jitter, says on stderr which
/// seed the draws come from (a random one unless `--jitter-seed` is given),
/// so that a run can be repeated.
fn transition_durations(config: &Config) -> Durations {
    if config.transition_jitter == 0.0 {
        return Durations::fixed(config.transition_delay);
    }
    let seed = config.jitter_seed.unwrap_or_else(rand::random);
    eprintln!(
        "tidbcloud-sim: transition jitter ±{}% of {} ms, seed {seed} (start with --jitter-seed {seed} to repeat these durations)",
        config.transition_jitter,
        config.transition_delay.as_millis()
    );
    Durations::jittered(config.transition_delay, config.transition_jitter, seed)
}

async fn serve(config: Config, world: World, clock: Clock) -> ExitCode {
    // Signals are caught before the first line, so a prompt SIGTERM still exits 0.
    let shutdown = match Shutdown::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tidbcloud-sim: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match TcpListener::bind(&config.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tidbcloud-sim: cannot listen on {}: {e}", config.listen);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("tidbcloud-sim: cannot read the listening address: {e}");
            return ExitCode::FAILURE;
        }
    };
    let app = App::new(world, clock, &config);
    tokio::spawn(Arc::clone(&app).run_timers());
    let router = routes(app);

    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "tidbcloud-sim listening on http://{addr}");
    let _ = stdout.flush();
    log::info!(
        "serving {} API key(s) ({} read-only), transition delay {} ms (jitter {}%), domain states {:?}, rate limit {}",
        config.api_keys.len() + config.read_only_keys.len(),
        config.read_only_keys.len(),
        config.transition_delay.as_millis(),
        config.transition_jitter,
        config.domain_states,
        if config.rate_limit == 0 {
            "off".to_string()
        } else {
            format!(
                "{} per {} s",
                config.rate_limit,
                config.rate_limit_window.as_secs()
            )
        }
    );

    tokio::select! {
        result = axum::serve(listener, router) => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                log::error!("server stopped: {e}");
                ExitCode::FAILURE
            }
        },
        signal = shutdown.wait() => {
            log::info!("{signal} received, exiting");
            ExitCode::SUCCESS
        }
    }
}

/// The HTTP routes: the console, the API and the control surface.
fn routes(app: Arc<App>) -> Router {
    let clock = app.clock.clone();
    Router::new()
        .merge(console::router())
        .route("/v1beta1/{*rest}", any(gateway::entry))
        .merge(control::router())
        .fallback(|uri: axum::http::Uri| async move {
            ApiError::not_found(format!("nothing at {}", uri.path()))
        })
        .layer(axum::middleware::from_fn(trace::layer))
        .layer(axum::middleware::from_fn_with_state(
            clock,
            clock::date_layer,
        ))
        .with_state(app)
}

/// SIGINT and SIGTERM, registered up front.
struct Shutdown {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn install() -> std::io::Result<Shutdown> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Shutdown {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Shutdown {})
    }

    /// Waits for a signal and names it.
    async fn wait(mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = &mut self;
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
