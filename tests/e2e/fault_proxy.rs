//! A scripted loopback proxy in front of the simulator, for the faults the
//! simulator cannot produce by itself: an answer that a proxy gives without
//! the request ever reaching the API (a 503 from a gateway), a response lost
//! after a specific request was processed, or an answer rewritten on its way
//! back. Everything else is forwarded byte for byte.
//!
//! Each request is forwarded on a fresh connection to the simulator with
//! `Connection: close`, and the client connection is closed after the
//! answer, so one client connection carries one request.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the proxy sees it.
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: String,
    /// The header lines, as sent.
    pub headers: Vec<String>,
}

impl Request {
    /// The digest nonce count of the request's `Authorization`, if any: a
    /// rule that reorders requests must keep it growing per nonce.
    pub fn nonce_count(&self) -> Option<u32> {
        let auth = self
            .headers
            .iter()
            .find(|h| h.to_ascii_lowercase().starts_with("authorization:"))?;
        let nc = auth
            .split([',', ' '])
            .find_map(|p| p.trim().strip_prefix("nc="))?;
        u32::from_str_radix(nc.trim_matches('"'), 16).ok()
    }

    /// `POST` of a connection create (not a dry run of anything).
    pub fn is_create(&self) -> bool {
        self.method == "POST"
            && self.path.ends_with("/privateLinkConnections")
            && !self.path.contains("privateLinkConnections/")
    }

    /// A real attach (not a dry run).
    pub fn is_attach(&self) -> bool {
        self.method == "POST"
            && (self.path.contains(":attachDomains") || self.path.contains("%3AattachDomains"))
            && !self.body.replace(' ', "").contains("\"validateOnly\":true")
    }

    pub fn is_detach(&self) -> bool {
        self.method == "POST"
            && (self.path.contains(":detachDomains") || self.path.contains("%3AdetachDomains"))
    }

    /// `DELETE` of a connection.
    pub fn is_connection_delete(&self) -> bool {
        self.method == "DELETE" && self.path.contains("/privateLinkConnections/")
    }
}

/// What the proxy does with a request.
pub enum Action {
    /// Forward it and return the answer.
    Forward,
    /// Answer 503 UNAVAILABLE without forwarding.
    Unavailable,
    /// Answer 429 RESOURCE_EXHAUSTED without forwarding, with no budget
    /// left until a reset this many seconds away.
    RateLimited { reset_secs: u32 },
    /// Forward it, then close the connection without an answer.
    Drop,
    /// Forward it, then answer with the upstream's status and this
    /// function of its body.
    Rewrite(fn(&str) -> String),
    /// Forward it (the API processes it), then answer `status` with `body`
    /// instead of the API's answer, as a gateway that lost the answer does.
    /// The upstream's `Date` is passed through.
    ForwardThen { status: u16, body: &'static str },
}

type Rule = Arc<dyn Fn(&Request, usize) -> Action + Send + Sync>;

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    pub url: String,
    stop: Arc<AtomicBool>,
    addr: String,
    /// Requests that a rule did not forward unchanged.
    faults: Arc<AtomicUsize>,
    rule: Arc<Mutex<Rule>>,
}

impl Proxy {
    /// A proxy to `upstream` (`http://HOST:PORT`) applying `rule` to every
    /// request; the rule also gets the number of requests seen before it.
    pub fn start(
        upstream: &str,
        rule: impl Fn(&Request, usize) -> Action + Send + Sync + 'static,
    ) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address").to_string();
        let upstream = upstream.trim_start_matches("http://").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let faults = Arc::new(AtomicUsize::new(0));
        let rule: Arc<Mutex<Rule>> = Arc::new(Mutex::new(Arc::new(rule)));
        let seen = Arc::new(AtomicUsize::new(0));
        {
            let stop = stop.clone();
            let faults = faults.clone();
            let rule = rule.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let upstream = upstream.clone();
                    let faults = faults.clone();
                    let rule = rule.clone();
                    let seen = seen.clone();
                    std::thread::spawn(move || {
                        let _ = serve(stream, &upstream, &rule, &seen, &faults);
                    });
                }
            });
        }
        Proxy {
            url: format!("http://{addr}"),
            stop,
            addr,
            faults,
            rule,
        }
    }

    /// Replaces the rule (e.g. to stop injecting faults).
    pub fn set_rule(&self, rule: impl Fn(&Request, usize) -> Action + Send + Sync + 'static) {
        *self.rule.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(rule);
    }

    /// How many requests the rule answered with something else than a
    /// plain forward.
    pub fn faults(&self) -> usize {
        self.faults.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(&self.addr);
    }
}

fn serve(
    client: TcpStream,
    upstream: &str,
    rule: &Mutex<Rule>,
    seen: &AtomicUsize,
    faults: &AtomicUsize,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(());
    }
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") {
            continue;
        }
        headers.push(line);
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    let mut parts = request_line.split_whitespace();
    let request = Request {
        method: parts.next().unwrap_or_default().to_string(),
        path: parts.next().unwrap_or_default().to_string(),
        body: String::from_utf8_lossy(&body).into_owned(),
        headers: headers.clone(),
    };
    let n = seen.fetch_add(1, Ordering::SeqCst);
    // The rule runs outside the lock: a rule may hold one request back
    // while others go on.
    let rule = rule.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let action = rule(&request, n);
    if !matches!(action, Action::Forward) {
        faults.fetch_add(1, Ordering::SeqCst);
    }
    if let Action::Unavailable = action {
        return respond(
            &mut client,
            503,
            r#"{"code":14,"message":"upstream unavailable","details":[]}"#,
            None,
        );
    }
    if let Action::RateLimited { reset_secs } = action {
        let body = r#"{"code":8,"message":"rate limit exceeded","details":[]}"#;
        write!(
            client,
            "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nX-Ratelimit-Remaining-Minute: 0\r\nX-Ratelimit-Reset: {reset_secs}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let _ = client.shutdown(std::net::Shutdown::Write);
        return Ok(());
    }
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = request_line.clone();
    for h in &headers {
        head.push_str(h);
    }
    head.push_str("Connection: close\r\n\r\n");
    up.write_all(head.as_bytes())?;
    up.write_all(&body)?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    let text = String::from_utf8_lossy(&answer).into_owned();
    // The upstream's `Date`, passed on by every answer the proxy writes.
    let date = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("date")
                .then(|| value.trim().to_string())
        });
    match action {
        Action::Drop => {
            let _ = client.shutdown(std::net::Shutdown::Both);
            Ok(())
        }
        Action::ForwardThen { status, body } => respond(&mut client, status, body, date),
        Action::Rewrite(rewrite) => {
            let status: u16 = text
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(502);
            let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
            respond(&mut client, status, &rewrite(body), date)
        }
        _ => {
            client.write_all(&answer)?;
            let _ = client.shutdown(std::net::Shutdown::Write);
            Ok(())
        }
    }
}

fn respond(
    client: &mut TcpStream,
    status: u16,
    body: &str,
    date: Option<String>,
) -> std::io::Result<()> {
    let date = date.map(|d| format!("Date: {d}\r\n")).unwrap_or_default();
    write!(
        client,
        "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n{date}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let _ = client.shutdown(std::net::Shutdown::Write);
    Ok(())
}
