//! Logs as Terraform reads them: one JSON object per line on stderr, with
//! `@level`, `@message`, `@module` and `@timestamp`. The level comes from
//! `TF_LOG_PROVIDER`, else `TF_LOG`; without either only warnings and errors
//! are written (Terraform discards them unless logging is on).

use std::io::Write;

use log::{Level, LevelFilter, Log, Metadata, Record};

struct JsonLogger {
    module: &'static str,
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
    let level = level_from_env(provider.as_deref().or(global.as_deref()));
    if log::set_boxed_logger(Box::new(JsonLogger { module })).is_ok() {
        log::set_max_level(level);
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
        metadata.level() <= log::max_level()
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
    fn lines_are_terraform_json() {
        let line = render("provider.x", Level::Debug, "hello \"world\"", "api");
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["@level"], "debug");
        assert_eq!(v["@message"], "hello \"world\"");
        assert_eq!(v["@module"], "provider.x");
        assert!(v["@timestamp"].as_str().is_some());
    }
}
