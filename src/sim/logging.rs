//! Logging to stderr through a background writer, so a full stderr pipe
//! (a parent that never reads it) can never stall the simulator: when the
//! queue is full, lines are dropped instead.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use log::{LevelFilter, Log, Metadata, Record};

/// Lines that may wait for the writer.
const QUEUE: usize = 4096;

struct Logger {
    level: LevelFilter,
    queue: SyncSender<String>,
    pending: Arc<AtomicUsize>,
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        metadata.level() <= self.level
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format!(
            "{} {:5} tidbcloud-sim: {}\n",
            humantime::format_rfc3339_millis(SystemTime::now()),
            record.level(),
            record.args()
        );
        if self.queue.try_send(line).is_ok() {
            self.pending.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Waits briefly for queued lines to be written.
    fn flush(&self) {
        let start = Instant::now();
        while self.pending.load(Ordering::SeqCst) > 0
            && start.elapsed() < Duration::from_millis(200)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Installs the logger; the level comes from `TIDBCLOUD_SIM_LOG` (error,
/// warn, info, debug, trace, off), default info.
pub fn init() {
    let level = std::env::var("TIDBCLOUD_SIM_LOG")
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::Info);
    let (queue, lines) = sync_channel::<String>(QUEUE);
    let pending = Arc::new(AtomicUsize::new(0));
    let written = Arc::clone(&pending);
    let spawned = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || {
            let stderr = std::io::stderr();
            for line in lines {
                let _ = stderr.lock().write_all(line.as_bytes());
                written.fetch_sub(1, Ordering::SeqCst);
            }
        });
    if spawned.is_err() {
        return;
    }
    let logger = Logger {
        level,
        queue,
        pending,
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(level);
    }
}
