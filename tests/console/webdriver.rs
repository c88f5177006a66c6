//! A small W3C WebDriver client for the console tests: Debian's
//! `chromedriver` driving Debian's headless `chromium`.
//!
//! WebDriver is JSON over HTTP, and the tests need a dozen of its commands,
//! so this speaks it over `std::net::TcpStream` with `serde_json` (already a
//! dependency) rather than pulling in a client crate and its HTTP stack.
//!
//! One browser per test binary: the first [`Page::open`] starts chromedriver
//! and one Chromium session; every test gets its own window in it. Commands
//! are serialised (each switches to its window first), so tests may run in
//! parallel. chromedriver runs under a small shell watchdog in its own
//! process group: when the test binary exits, its end of the watchdog's
//! stdin closes and the watchdog ends the group (chromedriver and Chromium).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// W3C's key for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// WebDriver's codes for the keys the tests press (W3C WebDriver, "Keyboard actions").
pub mod key {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const END: &str = "\u{E010}";
    pub const HOME: &str = "\u{E011}";
    pub const ARROW_UP: &str = "\u{E013}";
    pub const ARROW_DOWN: &str = "\u{E015}";
}

/// How long a wait for a condition may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// What the tests need installed, for failure messages.
const INSTALL: &str = "the console tests need Debian's Chromium and ChromeDriver: \
     `apt-get install -y chromium chromium-driver` (.ci/run installs them); \
     or set CHROMIUM and CHROMEDRIVER to their paths";

fn find(var: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default));
    assert!(path.is_file(), "{} not found: {INSTALL}", path.display());
    path
}

/// The shared browser: one chromedriver, one session.
struct Browser {
    addr: String,
    session: String,
    /// The window commands currently go to; held for the length of a command.
    current: Mutex<String>,
    /// Kept open for the life of the process: closing it stops the browser.
    _watchdog: Mutex<ChildStdin>,
    _profile: tempfile::TempDir,
}

static BROWSER: OnceLock<Result<Browser, String>> = OnceLock::new();

/// The browser, started by the first caller; a failure to start is kept, so
/// every test fails at once with the same message.
fn browser() -> &'static Browser {
    let started = BROWSER.get_or_init(|| {
        std::panic::catch_unwind(Browser::start).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the browser did not start".to_string())
        })
    });
    match started {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    }
}

impl Browser {
    // The watchdog shell is never waited for on purpose: it lives as long as
    // the test binary and ends the browser's process group when its stdin closes.
    #[allow(clippy::zombie_processes)]
    fn start() -> Browser {
        let chromium = find("CHROMIUM", "/usr/bin/chromium");
        let chromedriver = find("CHROMEDRIVER", "/usr/bin/chromedriver");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port for chromedriver")
            .port();
        // The watchdog: start chromedriver, wait for stdin to close, end the group.
        let mut child = Command::new("sh")
            .args([
                "-c",
                r#""$0" --port="$1" --allowed-ips=127.0.0.1 </dev/null >/dev/null 2>&1 & read -r _; kill -TERM 0"#,
            ])
            .arg(&chromedriver)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL}", chromedriver.display()));
        let watchdog = child.stdin.take().expect("watchdog stdin");
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok((200, v)) = http(&addr, "GET", "/status", None) {
                if v["value"]["ready"] == true {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not become ready on {addr}; {INSTALL}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let profile = tempfile::tempdir().expect("a Chromium profile directory");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-background-timer-throttling",
                    "--disable-renderer-backgrounding",
                    "--disable-backgrounding-occluded-windows",
                    "--hide-scrollbars", "--force-device-scale-factor=1",
                    "--lang=en-US",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let (status, v) = http(&addr, "POST", "/session", Some(&caps))
            .unwrap_or_else(|e| panic!("chromedriver at {addr}: {e}"));
        assert_eq!(status, 200, "cannot start Chromium ({INSTALL}): {v}");
        let session = v["value"]["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        let b = Browser {
            addr,
            current: Mutex::new(String::new()),
            session,
            _watchdog: Mutex::new(watchdog),
            _profile: profile,
        };
        let first = b.raw("GET", "/window", None);
        *b.current.lock().unwrap() = first.as_str().expect("window handle").to_string();
        b
    }

    /// A command to the session (no window switch).
    fn raw(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        self.try_raw(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    fn try_raw(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
        let path = format!("/session/{}{path}", self.session);
        let (status, v) = http(&self.addr, method, &path, body)?;
        if status == 200 {
            Ok(v["value"].clone())
        } else {
            Err(format!(
                "{status} {}: {}",
                v["value"]["error"].as_str().unwrap_or("?"),
                v["value"]["message"].as_str().unwrap_or("")
            ))
        }
    }

    /// Holds the browser for `window` (switching to it when needed).
    fn on(&self, window: &str) -> MutexGuard<'_, String> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if *current != window {
            self.raw("POST", "/window", Some(&json!({ "handle": window })));
            *current = window.to_string();
        }
        current
    }
}

/// One HTTP/1.1 exchange with chromedriver. It may keep the connection
/// open whatever the request says, so the body is read by its length.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .map_err(|e| e.to_string())?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("malformed status line {status_line:?}"))?;
    let (mut length, mut chunked) = (None, false);
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "content-length" {
                length = value.parse::<usize>().ok();
            } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let mut payload = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).map_err(|e| e.to_string())?;
            let n = usize::from_str_radix(size.trim(), 16).map_err(|e| e.to_string())?;
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            payload.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = length {
        payload.resize(n, 0);
        reader.read_exact(&mut payload).map_err(|e| e.to_string())?;
    } else {
        reader
            .read_to_end(&mut payload)
            .map_err(|e| e.to_string())?;
    }
    Ok((
        status,
        serde_json::from_slice(&payload).unwrap_or(Value::Null),
    ))
}

/// Where screenshots go: `target/test-artifacts/console/`.
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target directory")
        .join("test-artifacts")
        .join("console");
    std::fs::create_dir_all(&dir).expect("create the artifacts directory");
    dir
}

/// A browser window of one test; closed when dropped.
pub struct Page {
    window: String,
}

impl Page {
    /// A new 1280×1000 window at `url`.
    pub fn open(url: &str) -> Page {
        let b = browser();
        let window = {
            let _hold = b.current.lock().unwrap_or_else(|e| e.into_inner());
            b.raw("POST", "/window/new", Some(&json!({"type": "window"})))["handle"]
                .as_str()
                .expect("new window handle")
                .to_string()
        };
        let page = Page { window };
        page.cmd(
            "POST",
            "/window/rect",
            json!({"width": 1280, "height": 1000}),
        );
        page.goto(url);
        page
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        self.try_cmd(method, path, body)
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    fn try_cmd(&self, method: &str, path: &str, body: Value) -> Result<Value, String> {
        let b = browser();
        let _hold = b.on(&self.window);
        let body = (method != "GET").then_some(&body);
        b.try_raw(method, path, body)
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub fn js(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            json!({ "script": script, "args": args }),
        )
    }

    /// Waits until `expr` (a JavaScript expression over `arguments`) is
    /// truthy and returns its value.
    pub fn wait(&self, what: &str, expr: &str, args: Value) -> Value {
        let script = format!("return ({expr});");
        let deadline = Instant::now() + WAIT;
        let mut last = Value::Null;
        while Instant::now() < deadline {
            last = self.js(&script, args.clone());
            let truthy = match &last {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return last;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let shot = self.screenshot(&format!("timeout-{}", slug(what)));
        panic!(
            "gave up waiting for {what} (last value {last}); page text:\n{}\nscreenshot: {}",
            self.text("body"),
            shot.display()
        );
    }

    /// The element matching `css`, waiting for it to exist.
    pub fn find(&self, css: &str) -> Element<'_> {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.try_cmd(
                "POST",
                "/element",
                json!({"using": "css selector", "value": css}),
            ) {
                Ok(v) => {
                    return Element {
                        page: self,
                        id: v[ELEMENT].as_str().expect("element id").to_string(),
                    }
                }
                Err(e) if Instant::now() > deadline => panic!("no element {css}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(25)),
            }
        }
    }

    /// Clicks the element matching `css` once it can be clicked (WebDriver
    /// checks that it is visible, enabled and not covered); finds it again
    /// after a re-render.
    pub fn click(&self, css: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let e = self.find(css);
            match self.try_cmd("POST", &e.path("/click"), json!({})) {
                Ok(_) => return,
                Err(err) if Instant::now() > deadline => panic!("click {css}: {err}"),
                Err(_) => std::thread::sleep(Duration::from_millis(25)),
            }
        }
    }

    /// Replaces the text of the input matching `css`.
    pub fn fill(&self, css: &str, text: &str) {
        let e = self.find(css);
        e.clear();
        e.type_text(text);
    }

    /// The rendered text of the element matching `css`.
    pub fn text(&self, css: &str) -> String {
        self.find(css).text()
    }

    /// Writes a PNG of the window to the artifacts directory and returns its path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.cmd("GET", "/screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().expect("screenshot data"))
            .expect("screenshot base64");
        let path = artifacts().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Moves the mouse over the element matching `css`.
    pub fn hover(&self, css: &str) {
        let e = self.find(css);
        let mut origin = serde_json::Map::new();
        origin.insert(ELEMENT.to_string(), Value::String(e.id.clone()));
        self.cmd(
            "POST",
            "/actions",
            json!({"actions": [{
                "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
                "actions": [{"type": "pointerMove", "duration": 0, "origin": origin, "x": 0, "y": 0}],
            }]}),
        );
    }
}

impl Page {
    /// Presses and releases each of `keys` in turn on whatever has focus, as
    /// a keyboard would (trusted key events, default actions included).
    pub fn press(&self, keys: &[&str]) {
        let actions: Vec<Value> = keys
            .iter()
            .flat_map(|k| {
                [
                    json!({"type": "keyDown", "value": k}),
                    json!({"type": "keyUp", "value": k}),
                ]
            })
            .collect();
        self.key_actions(actions);
    }

    fn key_actions(&self, actions: Vec<Value>) {
        self.cmd(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
        );
    }

    /// The accessible name the browser computes for the element matching `css`.
    pub fn accessible_name(&self, css: &str) -> String {
        let e = self.find(css);
        self.cmd("GET", &e.path("/computedlabel"), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        let b = browser();
        let mut current = b.current.lock().unwrap_or_else(|e| e.into_inner());
        if b.try_raw("POST", "/window", Some(&json!({ "handle": self.window })))
            .is_ok()
        {
            let _ = b.try_raw("DELETE", "/window", None);
        }
        // Back to a window that stays open.
        if let Ok(v) = b.try_raw("GET", "/window/handles", None) {
            if let Some(h) = v.as_array().and_then(|a| a.first()).and_then(Value::as_str) {
                let _ = b.try_raw("POST", "/window", Some(&json!({ "handle": h })));
                *current = h.to_string();
            }
        }
    }
}

/// An element of a page.
pub struct Element<'a> {
    page: &'a Page,
    id: String,
}

impl Element<'_> {
    fn path(&self, tail: &str) -> String {
        format!("/element/{}{tail}", self.id)
    }

    pub fn clear(&self) {
        self.page.cmd("POST", &self.path("/clear"), json!({}));
    }

    pub fn type_text(&self, text: &str) {
        self.page
            .cmd("POST", &self.path("/value"), json!({ "text": text }));
    }

    pub fn text(&self) -> String {
        self.page
            .cmd("GET", &self.path("/text"), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// A DOM property (`disabled`, `value`, ...).
    pub fn property(&self, name: &str) -> Value {
        self.page
            .cmd("GET", &self.path(&format!("/property/{name}")), Value::Null)
    }
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .chars()
        .take(60)
        .collect()
}
