//! A child process of a test (the provider, the simulator) with its output
//! collected in the background; killed when dropped.

use std::io::{BufRead as _, BufReader, Read as _};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any single step (a line, an exit) may take before a test fails.
/// Generous: CI machines are small and debug builds are slow.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// A running child process with its output collected in the background.
pub struct Process {
    child: Child,
    /// In a mutex so that a process (and the simulator holding one) can be
    /// shared with the threads of a test.
    stdout: Mutex<Receiver<String>>,
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
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("start {:?}: {e}", cmd.get_program()));
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
            stdout: Mutex::new(stdout),
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn lines(&self) -> std::sync::MutexGuard<'_, Receiver<String>> {
        self.stdout.lock().expect("stdout lines")
    }

    /// The next line of stdout, or `None` at end of output or after `timeout`.
    pub fn stdout_line(&self, timeout: Duration) -> Option<String> {
        self.lines().recv_timeout(timeout).ok()
    }

    /// Lines printed since the last read, without waiting.
    pub fn stdout_pending(&self) -> Vec<String> {
        self.lines().try_iter().collect()
    }

    /// Everything left on stdout up to its end; panics if it does not end
    /// within [`PATIENCE`].
    pub fn stdout_rest(&self) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        let stdout = self.lines();
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stdout.recv_timeout(left) {
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
            if let Some(status) = self.child.try_wait().expect("wait for the process") {
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
            if let Some(status) = self.child.try_wait().expect("wait for the process") {
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
        self.child.try_wait().expect("poll the process").is_none()
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

/// Signal numbers (Linux).
pub const SIGINT: u32 = 2;

impl Process {
    /// Whether signal `signo` sent to the process has been taken: it is no
    /// longer pending (it was ignored, handled, or its default action began),
    /// or the process is gone. Read from `/proc/PID/status` (`ShdPnd` for
    /// signals sent to the process, `SigPnd` for its main thread).
    pub fn signal_taken(&self, signo: u32) -> bool {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", self.pid())) else {
            return true;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_default()
                .to_string()
        };
        if field("State:").starts_with('Z') {
            return true;
        }
        let bit = 1u64 << (signo - 1);
        let pending = |name: &str| u64::from_str_radix(&field(name), 16).unwrap_or(0) & bit != 0;
        !pending("ShdPnd:") && !pending("SigPnd:")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
