//! The provider process lives no longer than the Terraform that started
//! it: started as Terraform starts it, from an intermediate parent that is
//! then killed with SIGKILL (so nothing calls Shutdown), it exits by
//! itself. Started with `--debug` (reattach), it is a person's to stop and
//! stays up.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A failure timeout, not a performance bound.
const PATIENCE: Duration = Duration::from_secs(30);

/// A shell that starts the provider in the background with `args` and
/// waits for it, the provider's pid, and the first line the provider
/// printed.
struct Parent {
    shell: Child,
    provider_pid: u32,
    first_line: String,
}

/// Starts the provider under a shell; with `log`, its log at info level
/// goes to that file (not a pipe either).
fn start_under_a_parent(args: &str, log: Option<&Path>) -> Parent {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(r#""$0" {args} & echo "pid $!"; wait"#))
        .arg(env!("CARGO_BIN_EXE_terraform-provider-tidbcloud"))
        .env(COOKIE_KEY, COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env_remove("PLUGIN_CLIENT_CERT")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Not a pipe: the exit must not depend on a write failing.
        .stderr(Stdio::null());
    if let Some(path) = log {
        cmd.env("TF_LOG_PROVIDER", "info")
            .stderr(std::fs::File::create(path).expect("log file"));
    }
    let mut shell = cmd.spawn().expect("start sh");
    let out = shell.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading (and holding the pipe open) until both ends close.
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut pid = None;
    let mut first = None;
    let started = Instant::now();
    while pid.is_none() || first.is_none() {
        let left = PATIENCE.saturating_sub(started.elapsed());
        let line = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no pid and first line in {PATIENCE:?}: {pid:?} {first:?}"));
        match line.strip_prefix("pid ") {
            Some(p) => pid = Some(p.trim().parse::<u32>().unwrap()),
            None if first.is_none() => first = Some(line),
            None => {}
        }
    }
    Parent {
        shell,
        provider_pid: pid.unwrap(),
        first_line: first.unwrap(),
    }
}

/// Whether the process is still running (a zombie waiting to be reaped
/// counts as ended).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => false,
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or("?");
            state != "Z" && state != "X"
        }
    }
}

fn kill9(pid: u32) {
    let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
}

/// Kills the provider if a test fails before it is gone.
struct Cleanup(u32);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if alive(self.0) {
            kill9(self.0);
        }
    }
}

#[test]
fn the_provider_exits_when_terraform_is_killed() {
    let mut parent = start_under_a_parent("", None);
    let _cleanup = Cleanup(parent.provider_pid);
    assert!(
        parent.first_line.starts_with("1|6|tcp|127.0.0.1:"),
        "handshake: {:?}",
        parent.first_line
    );
    assert!(alive(parent.provider_pid));
    parent.shell.kill().expect("SIGKILL the parent");
    parent.shell.wait().unwrap();
    let killed = Instant::now();
    while alive(parent.provider_pid) {
        assert!(
            killed.elapsed() < PATIENCE,
            "the provider (pid {}) outlived its killed parent by {PATIENCE:?}",
            parent.provider_pid
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    println!(
        "provider exited {:?} after its parent was killed",
        killed.elapsed()
    );
}

#[test]
fn a_debug_mode_provider_outlives_the_shell_that_started_it() {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let mut parent = start_under_a_parent("--debug", Some(log.path()));
    let _cleanup = Cleanup(parent.provider_pid);
    assert!(
        parent.first_line.starts_with("Provider started"),
        "{:?}",
        parent.first_line
    );
    parent.shell.kill().expect("SIGKILL the parent");
    parent.shell.wait().unwrap();
    // Waits for the provider's log line saying it saw its parent go: the
    // moment a managed provider stops. Only after it does being alive show
    // that a debug one does not.
    let seen = "in debug mode the plugin serves on";
    let killed = Instant::now();
    loop {
        let text = std::fs::read_to_string(log.path()).unwrap_or_default();
        if text.contains(seen) {
            break;
        }
        assert!(
            alive(parent.provider_pid),
            "a --debug provider is stopped by a person, not by its parent's death; its log:\n{text}"
        );
        assert!(
            killed.elapsed() < PATIENCE,
            "no {seen:?} line {PATIENCE:?} after its parent was killed; its log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        alive(parent.provider_pid),
        "a --debug provider is stopped by a person, not by its parent's death"
    );
}
