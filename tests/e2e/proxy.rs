//! A recording loopback proxy between the provider and the simulator: it
//! keeps every request (method, path, body) so a test can assert on what the
//! provider sent, and may rewrite response bodies to play an API that
//! answers in forms the simulator does not use (a scripted fault).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use crate::harness::Sim;

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: String,
}

type Rewrite = Box<dyn Fn(&str, &str, String) -> String + Send>;

pub struct Proxy {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    rewrite: Arc<Mutex<Option<Rewrite>>>,
}

impl Proxy {
    pub fn start(sim: &Sim) -> Proxy {
        let upstream = sim.url.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let rewrite: Arc<Mutex<Option<Rewrite>>> = Arc::new(Mutex::new(None));
        let (r, w) = (requests.clone(), rewrite.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (r, w, upstream) = (r.clone(), w.clone(), upstream.clone());
                std::thread::spawn(move || serve(client, &upstream, &r, &w));
            }
        });
        Proxy {
            url,
            requests,
            rewrite,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("requests").clone()
    }

    /// From now on, passes every response body (with the request's method
    /// and path) through `f`.
    pub fn rewrite(&self, f: impl Fn(&str, &str, String) -> String + Send + 'static) {
        *self.rewrite.lock().expect("rewrite") = Some(Box::new(f));
    }
}

/// One exchange per client connection (answered with `Connection: close`).
fn serve(
    mut client: TcpStream,
    upstream: &str,
    requests: &Mutex<Vec<Recorded>>,
    rewrite: &Mutex<Option<Rewrite>>,
) {
    let Some((head, body)) = read_message(&mut client) else {
        return;
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers: Vec<&str> = lines
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    requests.lock().expect("requests").push(Recorded {
        method: method.clone(),
        path: path.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let Ok(mut up) = TcpStream::connect(upstream) else {
        return;
    };
    let forwarded = format!(
        "{request_line}\r\n{}\r\nConnection: close\r\n\r\n",
        headers.join("\r\n")
    );
    if up.write_all(forwarded.as_bytes()).is_err() || up.write_all(&body).is_err() {
        return;
    }
    let mut answer = Vec::new();
    if up.read_to_end(&mut answer).is_err() {
        return;
    }
    let text = String::from_utf8_lossy(&answer).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return;
    };
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let mut body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    if let Some(f) = rewrite.lock().expect("rewrite").as_ref() {
        body = f(&method, &path, body);
    }
    let kept: Vec<&str> = head
        .split("\r\n")
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !(l.starts_with("content-length:")
                || l.starts_with("transfer-encoding:")
                || l.starts_with("connection:"))
        })
        .collect();
    let out = format!(
        "{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        kept.join("\r\n"),
        body.len()
    );
    let _ = client.write_all(out.as_bytes());
}

/// A request's head and body (by `Content-Length`).
fn read_message(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf[..buf.len() - 4]).into_owned();
    let length = head
        .split("\r\n")
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).ok()?;
    Some((head, body))
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}
