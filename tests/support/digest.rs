//! A Digest client for the simulator's API, written here from RFC 7616 and
//! independent of both the simulator's code and the provider's client, so
//! that each is checked against the RFC and not against the other.

use std::collections::HashMap;
use std::sync::Mutex;

use md5::Md5;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::sim::{http_client, Resp};
use super::wait::eventually_async;
use super::world::{aws_body, conn_path, AWS_AUTO, AWS_CLUSTER};

/// Digest algorithms the test client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    pub fn hash(self, s: &str) -> String {
        match self {
            Algorithm::Md5 => hex::encode(Md5::digest(s.as_bytes())),
            Algorithm::Sha256 => hex::encode(Sha256::digest(s.as_bytes())),
        }
    }
}

/// A nonce in use.
#[derive(Debug, Clone)]
pub struct NonceState {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub nc: u32,
}

/// A Digest client that keeps its nonce and counts challenges.
pub struct Api {
    http: reqwest::Client,
    pub base: String,
    user: String,
    pass: String,
    algorithm: Algorithm,
    pub nonce: Mutex<Option<NonceState>>,
    /// How many 401 challenges it has answered.
    pub challenges: Mutex<u32>,
}

impl Api {
    pub fn new(url: &str, user: &str, pass: &str, algorithm: Algorithm) -> Api {
        Api {
            http: http_client(),
            base: url.to_string(),
            user: user.to_string(),
            pass: pass.to_string(),
            algorithm,
            nonce: Mutex::new(None),
            challenges: Mutex::new(0),
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.call(Method::DELETE, path, None).await
    }

    /// A call that must get an HTTP answer.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.try_call(method, path, body)
            .await
            .expect("HTTP answer")
    }

    /// A call, answering challenges (at most twice) and reusing the nonce.
    pub async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Resp, reqwest::Error> {
        for _ in 0..3 {
            let auth = self.next_authorization(method.as_str(), path);
            let r = self
                .send_raw(method.clone(), path, body.clone(), auth)
                .await?;
            if r.status != 401 {
                return Ok(r);
            }
            let Some(challenge) = pick_challenge(&r.headers, self.algorithm) else {
                return Ok(r);
            };
            let had_nonce = self.nonce.lock().unwrap().is_some();
            // A 401 to a request that carried credentials is final unless stale.
            if had_nonce && challenge.get("stale").map(String::as_str) != Some("true") {
                return Ok(r);
            }
            *self.challenges.lock().unwrap() += 1;
            *self.nonce.lock().unwrap() = Some(NonceState {
                realm: challenge.get("realm").cloned().unwrap_or_default(),
                nonce: challenge.get("nonce").cloned().unwrap_or_default(),
                opaque: challenge.get("opaque").cloned(),
                nc: 0,
            });
        }
        panic!("too many challenges for {path}");
    }

    /// Sends one request with an explicit Authorization header.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        authorization: Option<String>,
    ) -> Result<Resp, reqwest::Error> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Resp::read(req.send().await?).await
    }

    /// The Authorization header for the next request with the current nonce.
    pub fn next_authorization(&self, method: &str, uri: &str) -> Option<String> {
        let mut guard = self.nonce.lock().unwrap();
        let state = guard.as_mut()?;
        state.nc += 1;
        Some(self.authorization(state, method, uri))
    }

    /// An Authorization header for `state` as it is (no nc increment).
    pub fn authorization(&self, state: &NonceState, method: &str, uri: &str) -> String {
        let nc = format!("{:08x}", state.nc);
        let cnonce = format!("c{}", state.nc);
        let h = |s: &str| self.algorithm.hash(s);
        let ha1 = h(&format!("{}:{}:{}", self.user, state.realm, self.pass));
        let ha2 = h(&format!("{method}:{uri}"));
        let response = h(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", state.nonce));
        let mut header = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\", algorithm={}, qop=auth, nc={nc}, cnonce=\"{cnonce}\", response=\"{response}\"",
            self.user,
            state.realm,
            state.nonce,
            self.algorithm.name()
        );
        if let Some(o) = &state.opaque {
            header.push_str(&format!(", opaque=\"{o}\""));
        }
        header
    }

    /// Polls a connection until it is in `state`.
    pub async fn wait_state(&self, cluster: &str, id: &str, state: &str) -> Value {
        let path = conn_path(cluster, id);
        eventually_async(&format!("{id} to reach {state}"), || async {
            let r = self.get(&path).await;
            (r.status == 200 && r.body["state"] == state).then_some(r.body)
        })
        .await
    }

    /// Polls a path until it answers 404.
    pub async fn wait_gone(&self, path: &str) {
        eventually_async(&format!("{path} to go away"), || async {
            (self.get(path).await.status == 404).then_some(())
        })
        .await
    }

    /// Polls a connection until its attached domains are in `state`.
    pub async fn wait_domains(&self, cluster: &str, id: &str, state: &str) -> Value {
        let path = conn_path(cluster, id);
        eventually_async(&format!("the domains of {id} to reach {state}"), || async {
            let body = self.get(&path).await.ok();
            let domains = &body["attachedDomains"][0]["domains"];
            domains
                .as_array()
                .is_some_and(|d| !d.is_empty() && d.iter().all(|x| x["state"] == state))
                .then_some(body)
        })
        .await
    }

    /// Creates a connection and returns the answer.
    pub async fn create(&self, cluster: &str, name: &str, body: Value) -> Resp {
        let mut conn = body;
        conn["displayName"] = Value::from(name);
        self.post(
            &format!("/v1beta1/clusters/{cluster}/privateLinkConnections"),
            serde_json::json!({ "privateLinkConnection": conn }),
        )
        .await
    }

    /// Creates an AWS connection to `service` on [`AWS_CLUSTER`] and returns its id.
    pub async fn create_aws(&self, name: &str, service: &str) -> String {
        let body = self.create(AWS_CLUSTER, name, aws_body(service)).await.ok();
        body["privateLinkConnectionId"]
            .as_str()
            .expect("id")
            .to_string()
    }

    /// Creates an AWS connection and waits for ACTIVE.
    pub async fn active_aws(&self, name: &str) -> String {
        let id = self.create_aws(name, AWS_AUTO).await;
        self.wait_state(AWS_CLUSTER, &id, "ACTIVE").await;
        id
    }
}

/// Every Digest challenge of a 401, as parameter maps, in order.
pub fn challenges(headers: &HeaderMap) -> Vec<HashMap<String, String>> {
    headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("Digest "))
        .map(parse_params)
        .collect()
}

fn pick_challenge(headers: &HeaderMap, algorithm: Algorithm) -> Option<HashMap<String, String>> {
    challenges(headers)
        .into_iter()
        .find(|c| c.get("algorithm").map(String::as_str) == Some(algorithm.name()))
}

/// Parses `k=v, k="v"` pairs (values here never contain quotes or commas).
fn parse_params(s: &str) -> HashMap<String, String> {
    s.split(',')
        .filter_map(|part| part.trim().split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}
