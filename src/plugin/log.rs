//! Logs as Terraform reads them: one JSON object per line on stderr, with
//! `@level`, `@message`, `@module` and `@timestamp`. The level comes from
//! `TF_LOG_PROVIDER`, else `TF_LOG`; without either only warnings and errors
//! are written (Terraform discards them unless logging is on).
//!
//! Those levels apply to the provider's own lines. The libraries under it
//! (the HTTP client, TLS, gRPC) log under their own targets (`reqwest::…`,
//! `rustls::…`), at a level of their own: `TIDBCLOUD_LOG_HTTP`, by default
//! warnings and errors only, so that `TF_LOG_PROVIDER=trace` shows the
//! provider's API lines without the HTTP library's connection chatter.

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};

/// The variable that sets the level of the libraries' own lines.
pub const LIBRARY_LEVEL_ENV: &str = "TIDBCLOUD_LOG_HTTP";

struct JsonLogger {
    module: &'static str,
    levels: Levels,
}

/// The level of the provider's own lines and of its libraries' lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Levels {
    pub own: LevelFilter,
    pub libraries: LevelFilter,
}

impl Levels {
    /// From `TF_LOG_PROVIDER` (else `TF_LOG`) and `TIDBCLOUD_LOG_HTTP`.
    /// Without the latter, libraries write warnings and errors, and nothing
    /// when the provider's level is lower still.
    pub fn from_values(provider: Option<&str>, libraries: Option<&str>) -> Levels {
        let own = level_from_env(provider);
        let libraries = match libraries.map(str::trim).filter(|v| !v.is_empty()) {
            Some(value) => level_from_env(Some(value)),
            None => own.min(LevelFilter::Warn),
        };
        Levels { own, libraries }
    }

    /// Whether a record of `target` at `level` is written.
    pub fn allows(&self, target: &str, level: Level) -> bool {
        let limit = if is_own_target(target) {
            self.own
        } else {
            self.libraries
        };
        level <= limit
    }

    fn max(&self) -> LevelFilter {
        self.own.max(self.libraries)
    }
}

/// Whether `target` is this provider's code (its library or its binaries)
/// rather than a dependency's.
pub fn is_own_target(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    matches!(
        krate,
        "tidbcloud_provider" | "terraform_provider_tidbcloud" | "tidbcloud_docs"
    )
}

/// Parses a Terraform log level name.
pub fn level_from_env(value: Option<&str>) -> LevelFilter {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("trace") | Some("json") => LevelFilter::Trace,
        Some("debug") => LevelFilter::Debug,
        Some("info") => LevelFilter::Info,
        Some("warn") => LevelFilter::Warn,
        Some("error") => LevelFilter::Error,
        Some("off") => LevelFilter::Off,
        Some("") | None => LevelFilter::Warn,
        // Terraform treats any other non-empty value as trace.
        Some(_) => LevelFilter::Trace,
    }
}

/// Installs the logger for this process (once; later calls do nothing).
pub fn init(module: &'static str) {
    let provider = std::env::var("TF_LOG_PROVIDER").ok();
    let global = std::env::var("TF_LOG").ok();
    let libraries = std::env::var(LIBRARY_LEVEL_ENV).ok();
    let levels = Levels::from_values(
        provider.as_deref().or(global.as_deref()),
        libraries.as_deref(),
    );
    if log::set_boxed_logger(Box::new(JsonLogger { module, levels })).is_ok() {
        log::set_max_level(levels.max());
    }
}

/// Renders one log line (without the trailing newline).
pub fn render(module: &str, level: Level, message: &str, target: &str) -> String {
    let level = match level {
        Level::Error => "error",
        Level::Warn => "warn",
        Level::Info => "info",
        Level::Debug => "debug",
        Level::Trace => "trace",
    };
    let line = serde_json::json!({
        "@level": level,
        "@message": message,
        "@module": module,
        "@timestamp": humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
        "target": target,
    });
    line.to_string()
}

impl Log for JsonLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.levels.allows(metadata.target(), metadata.level())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = render(
            self.module,
            record.level(),
            &record.args().to_string(),
            record.target(),
        );
        let mut err = std::io::stderr().lock();
        if let Err(e) = writeln!(err, "{line}") {
            // The host reads stderr through a pipe; a broken pipe means it
            // is gone. A Go plugin dies of SIGPIPE here; do the same.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(1);
            }
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_terraform_names() {
        assert_eq!(level_from_env(Some("DEBUG")), LevelFilter::Debug);
        assert_eq!(level_from_env(Some("json")), LevelFilter::Trace);
        assert_eq!(level_from_env(None), LevelFilter::Warn);
        assert_eq!(level_from_env(Some("whatever")), LevelFilter::Trace);
    }

    #[test]
    fn library_lines_have_their_own_level() {
        let trace = Levels::from_values(Some("trace"), None);
        assert!(trace.allows("tidbcloud_provider::api::transport", Level::Trace));
        assert!(trace.allows("terraform_provider_tidbcloud", Level::Debug));
        // The HTTP library's "starting new connection" and "shouldn't
        // retry!" stay out at the provider's trace level...
        assert!(!trace.allows("reqwest::connect", Level::Debug));
        assert!(!trace.allows("reqwest::retry", Level::Trace));
        assert!(trace.allows("reqwest::connect", Level::Warn));
        // ...unless asked for.
        let asked = Levels::from_values(Some("trace"), Some("TRACE"));
        assert!(asked.allows("reqwest::retry", Level::Trace));
        assert!(asked.allows("rustls::client", Level::Debug));
        // Library warnings follow the provider's level when it is lower.
        let quiet = Levels::from_values(Some("off"), None);
        assert!(!quiet.allows("reqwest::connect", Level::Warn));
        assert!(!quiet.allows("tidbcloud_provider::api", Level::Error));
        // A library level alone does not turn on the provider's lines.
        let libraries_only = Levels::from_values(None, Some("debug"));
        assert!(libraries_only.allows("reqwest::connect", Level::Debug));
        assert!(!libraries_only.allows("tidbcloud_provider::api", Level::Debug));
        assert_eq!(libraries_only.max(), LevelFilter::Debug);
    }

    #[test]
    fn lines_are_terraform_json() {
        let line = render("provider.x", Level::Debug, "hello \"world\"", "api");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["@level"], "debug");
        assert_eq!(v["@message"], "hello \"world\"");
        assert_eq!(v["@module"], "provider.x");
        assert!(v["@timestamp"].as_str().is_some());
    }
}
