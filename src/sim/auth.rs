//! HTTP Digest authentication (RFC 7616) with `qop=auth`, SHA-256 and MD5
//! (and their `-sess` variants), as TiDB Cloud's API uses it: the public key
//! is the user name, the private key the password.
//!
//! A nonce stays valid for [`NONCE_LIFETIME`] and its nonce count must grow
//! with every request, so a client pays one challenge round trip and then one
//! round trip per request. A correct response with an expired, unknown or
//! replayed nonce is refused with `stale=true`, telling the client to retry
//! with the fresh nonce without asking for credentials again.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use md5::Md5;
use rand::RngCore;
use sha2::{Digest as _, Sha256};

use crate::clock::Clock;

/// How long a nonce may be used.
pub const NONCE_LIFETIME: Duration = Duration::from_secs(300);
/// The realm of every challenge.
pub const REALM: &str = "tidbcloud-sim";

/// Hash algorithms of RFC 7616.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    /// Parses an `algorithm` directive (absent means MD5, per the RFC).
    pub fn parse(s: Option<&str>) -> Option<Algorithm> {
        match s.map(str::to_ascii_uppercase).as_deref() {
            None | Some("MD5") => Some(Algorithm::Md5),
            Some("MD5-SESS") => Some(Algorithm::Md5Sess),
            Some("SHA-256") => Some(Algorithm::Sha256),
            Some("SHA-256-SESS") => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    /// The lowercase hex hash of `data`.
    pub fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(Md5::digest(data.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => {
                hex::encode(Sha256::digest(data.as_bytes()))
            }
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }
}

/// The values a `qop=auth` response is computed from.
#[derive(Debug, Clone)]
pub struct Credentials<'a> {
    pub algorithm: Algorithm,
    pub username: &'a str,
    pub realm: &'a str,
    pub password: &'a str,
    pub method: &'a str,
    pub uri: &'a str,
    pub nonce: &'a str,
    pub nc: &'a str,
    pub cnonce: &'a str,
}

/// The `response` directive for `qop=auth` (RFC 7616 section 3.4.1).
pub fn expected_response(c: &Credentials<'_>) -> String {
    let h = |s: &str| c.algorithm.hash(s);
    let mut ha1 = h(&format!("{}:{}:{}", c.username, c.realm, c.password));
    if c.algorithm.is_sess() {
        ha1 = h(&format!("{ha1}:{}:{}", c.nonce, c.cnonce));
    }
    let ha2 = h(&format!("{}:{}", c.method, c.uri));
    h(&format!(
        "{ha1}:{}:{}:{}:auth:{ha2}",
        c.nonce, c.nc, c.cnonce
    ))
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The credentials were right but the nonce was not: retry with a new one.
    pub stale: bool,
    pub message: String,
    /// The public key the client claimed, when it is a known one.
    pub key: Option<String>,
}

impl Rejection {
    fn new(message: impl Into<String>) -> Self {
        Rejection {
            stale: false,
            message: message.into(),
            key: None,
        }
    }
}

/// An accepted API key.
struct Key {
    private: String,
    /// A read-only key may only GET (like a Project Viewer's key).
    read_only: bool,
}

/// Who made an authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The API public key.
    pub key: String,
    pub read_only: bool,
}

struct NonceState {
    issued: Instant,
    last_nc: u32,
}

/// Nonces kept at once; beyond this the oldest are forgotten (their
/// clients get `stale=true` and a new one).
const MAX_NONCES: usize = 4096;

/// The verifier: accepted keys and the nonces handed out.
pub struct DigestAuth {
    keys: RwLock<HashMap<String, Key>>,
    opaque: String,
    nonces: Mutex<HashMap<String, NonceState>>,
    /// Nonce ages are measured on the simulator's clock.
    clock: Clock,
}

impl DigestAuth {
    /// A verifier accepting `keys` (public, private), aging nonces by `clock`.
    pub fn new(keys: &[(String, String)], clock: Clock) -> Self {
        DigestAuth {
            keys: RwLock::new(
                keys.iter()
                    .map(|(public, private)| {
                        let key = Key {
                            private: private.clone(),
                            read_only: false,
                        };
                        (public.clone(), key)
                    })
                    .collect(),
            ),
            opaque: random_hex(16),
            nonces: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// Adds (or replaces) an accepted key (control surface).
    pub fn add_key(&self, public: &str, private: &str, read_only: bool) {
        let key = Key {
            private: private.to_string(),
            read_only,
        };
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(public.to_string(), key);
    }

    /// Two `WWW-Authenticate` challenges sharing a fresh nonce, SHA-256 first.
    pub fn challenges(&self, stale: bool) -> [String; 2] {
        let nonce = random_hex(16);
        let now = self.clock.now();
        {
            let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
            if nonces.len() >= MAX_NONCES {
                nonces.retain(|_, n| now.saturating_duration_since(n.issued) < NONCE_LIFETIME);
            }
            // Still full (a flood of challenges): forget the oldest.
            while nonces.len() >= MAX_NONCES {
                let oldest = nonces
                    .iter()
                    .min_by_key(|(_, n)| n.issued)
                    .map(|(k, _)| k.clone());
                match oldest {
                    Some(k) => nonces.remove(&k),
                    None => break,
                };
            }
            nonces.insert(
                nonce.clone(),
                NonceState {
                    issued: now,
                    last_nc: 0,
                },
            );
        }
        let stale = if stale { ", stale=true" } else { "" };
        ["SHA-256", "MD5"].map(|alg| {
            format!(
                "Digest realm=\"{REALM}\", qop=\"auth\", algorithm={alg}, nonce=\"{nonce}\", opaque=\"{}\"{stale}",
                self.opaque
            )
        })
    }

    /// Makes every nonce handed out so far expired (control surface).
    pub fn expire_nonces(&self) {
        self.nonces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Checks an `Authorization` header for a request; returns the public key.
    pub fn verify(
        &self,
        method: &str,
        uri: &str,
        header: Option<&str>,
    ) -> Result<Identity, Rejection> {
        let header = header.ok_or_else(|| {
            Rejection::new("this API requires HTTP Digest authentication: use your API public key as the user name and the private key as the password")
        })?;
        let (scheme, rest) = header.trim_start().split_once(' ').unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("digest") {
            return Err(Rejection::new(format!(
                "{scheme} authentication is not supported; use HTTP Digest authentication with your API key"
            )));
        }
        let params = parse_params(rest)
            .ok_or_else(|| Rejection::new("the Digest Authorization header is malformed"))?;
        let get = |k: &str| params.get(k).map(String::as_str);
        let required = |k: &str| {
            get(k).ok_or_else(|| {
                Rejection::new(format!("the Digest Authorization header lacks `{k}`"))
            })
        };
        // Only what the challenge offered: SHA-256 or MD5 (not the -sess forms).
        let offered = get("algorithm")
            .is_none_or(|a| a.eq_ignore_ascii_case("SHA-256") || a.eq_ignore_ascii_case("MD5"));
        let algorithm = Algorithm::parse(get("algorithm"))
            .filter(|_| offered)
            .ok_or_else(|| Rejection::new("unsupported Digest algorithm; use SHA-256 or MD5"))?;
        if get("opaque") != Some(self.opaque.as_str()) {
            return Err(Rejection::new(
                "the Digest Authorization header must echo the challenge's opaque value",
            ));
        }
        let (username, realm, nonce, req_uri, response) = (
            required("username")?,
            required("realm")?,
            required("nonce")?,
            required("uri")?,
            required("response")?,
        );
        if get("qop") != Some("auth") {
            return Err(Rejection::new("Digest qop must be `auth`"));
        }
        let (nc, cnonce) = (required("nc")?, required("cnonce")?);
        let nc_value = (nc.len() == 8)
            .then(|| u32::from_str_radix(nc, 16).ok())
            .flatten()
            .ok_or_else(|| Rejection::new("Digest nc must be 8 hexadecimal digits"))?;
        if realm != REALM {
            return Err(Rejection::new(format!("Digest realm must be {REALM:?}")));
        }
        if req_uri != uri {
            return Err(Rejection::new("the Digest uri does not match the request"));
        }
        let keys = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let found = if get("userhash").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            keys.iter()
                .find(|(k, _)| algorithm.hash(&format!("{k}:{REALM}")) == username)
        } else {
            keys.get_key_value(username)
        };
        let bad_key =
            || Rejection::new("the API key is not valid: unknown public key or wrong private key");
        let (public, key) = found.ok_or_else(bad_key)?;
        let expected = expected_response(&Credentials {
            algorithm,
            username: public.as_str(),
            realm,
            password: &key.private,
            method,
            uri,
            nonce,
            nc,
            cnonce,
        });
        if !constant_time_eq(
            expected.as_bytes(),
            response.to_ascii_lowercase().as_bytes(),
        ) {
            return Err(bad_key());
        }
        let stale = |message: &str| Rejection {
            stale: true,
            message: message.to_string(),
            key: Some(public.to_string()),
        };
        let now = self.clock.now();
        let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        match nonces.get_mut(nonce) {
            Some(n) if now.saturating_duration_since(n.issued) >= NONCE_LIFETIME => {
                nonces.remove(nonce);
                Err(stale("the Digest nonce has expired; retry with the new nonce"))
            }
            None => Err(stale("the Digest nonce is unknown or has expired; retry with the new nonce")),
            Some(n) if nc_value <= n.last_nc => Err(stale(
                "the Digest nonce count was already used (replay); use a higher nc or the new nonce",
            )),
            Some(n) => {
                n.last_nc = nc_value;
                Ok(Identity {
                    key: public.to_string(),
                    read_only: key.read_only,
                })
            }
        }
    }
}

/// Parses `k=v, k="quoted", ...` auth parameters.
fn parse_params(s: &str) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') || key.is_empty() {
            return None;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.to_ascii_lowercase(), value);
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 section 3.9.1.
    fn rfc_example(algorithm: Algorithm) -> String {
        expected_response(&Credentials {
            algorithm,
            username: "Mufasa",
            realm: "http-auth@example.org",
            password: "Circle of Life",
            method: "GET",
            uri: "/dir/index.html",
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            nc: "00000001",
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        })
    }

    #[test]
    fn rfc_7616_example() {
        assert_eq!(
            rfc_example(Algorithm::Md5),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        assert_eq!(
            rfc_example(Algorithm::Sha256),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    fn nonce_of(challenge: &str) -> String {
        let params = parse_params(challenge.trim_start_matches("Digest ")).unwrap();
        params["nonce"].clone()
    }

    fn header(
        auth: &DigestAuth,
        alg: &str,
        user: &str,
        pass: &str,
        nonce: &str,
        nc: u32,
        extra: &str,
    ) -> String {
        let algorithm = Algorithm::parse(Some(alg)).unwrap();
        let nc = format!("{nc:08x}");
        let response = expected_response(&Credentials {
            algorithm,
            username: user,
            realm: REALM,
            password: pass,
            method: "GET",
            uri: "/v1beta1/x",
            nonce,
            nc: &nc,
            cnonce: "abc",
        });
        format!(
            r#"Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="/v1beta1/x", algorithm={alg}, response="{response}", qop=auth, nc={nc}, cnonce="abc", opaque="{}"{extra}"#,
            auth.opaque
        )
    }

    #[test]
    fn only_offered_algorithms_and_the_opaque_value_are_accepted() {
        let auth = DigestAuth::new(&[("p".into(), "s".into())], Clock::new());
        let nonce = nonce_of(&auth.challenges(false)[0]);
        let sess = header(&auth, "MD5-sess", "p", "s", &nonce, 1, "");
        assert!(auth.verify("GET", "/v1beta1/x", Some(&sess)).is_err());
        let wrong = header(&auth, "MD5", "p", "s", &nonce, 2, "").replace(&auth.opaque, "0000");
        assert!(auth.verify("GET", "/v1beta1/x", Some(&wrong)).is_err());
        let right = header(&auth, "MD5", "p", "s", &nonce, 3, "");
        assert!(auth.verify("GET", "/v1beta1/x", Some(&right)).is_ok());
    }

    #[test]
    fn challenges_offer_sha256_first() {
        let auth = DigestAuth::new(&[("p".into(), "s".into())], Clock::new());
        let [first, second] = auth.challenges(true);
        assert!(first.contains("algorithm=SHA-256") && first.ends_with("stale=true"));
        assert!(second.contains("algorithm=MD5"));
        assert_eq!(nonce_of(&first), nonce_of(&second));
    }

    #[test]
    fn nonce_counts_must_grow() {
        let auth = DigestAuth::new(&[("p".into(), "s".into())], Clock::new());
        for alg in ["SHA-256", "MD5"] {
            let nonce = nonce_of(&auth.challenges(false)[0]);
            let ok = |nc| {
                auth.verify(
                    "GET",
                    "/v1beta1/x",
                    Some(&header(&auth, alg, "p", "s", &nonce, nc, "")),
                )
            };
            assert_eq!(ok(1).map(|i| i.key), Ok("p".to_string()), "{alg}");
            assert!(ok(2).is_ok());
            let replay = ok(2).unwrap_err();
            assert!(replay.stale, "{replay:?}");
            assert!(ok(5).is_ok());
        }
    }

    #[test]
    fn wrong_keys_and_unknown_nonces() {
        let auth = DigestAuth::new(&[("p".into(), "s".into())], Clock::new());
        let nonce = nonce_of(&auth.challenges(false)[0]);
        let wrong = auth
            .verify(
                "GET",
                "/v1beta1/x",
                Some(&header(&auth, "MD5", "p", "bad", &nonce, 1, "")),
            )
            .unwrap_err();
        assert!(!wrong.stale);
        let unknown = auth
            .verify(
                "GET",
                "/v1beta1/x",
                Some(&header(&auth, "MD5", "q", "s", &nonce, 1, "")),
            )
            .unwrap_err();
        assert!(!unknown.stale);
        let other_uri = auth
            .verify(
                "GET",
                "/v1beta1/y",
                Some(&header(&auth, "MD5", "p", "s", &nonce, 1, "")),
            )
            .unwrap_err();
        assert!(!other_uri.stale);
        auth.expire_nonces();
        let expired = auth
            .verify(
                "GET",
                "/v1beta1/x",
                Some(&header(&auth, "MD5", "p", "s", &nonce, 1, "")),
            )
            .unwrap_err();
        assert!(expired.stale);
        assert!(auth.verify("GET", "/v1beta1/x", None).is_err());
        assert!(auth
            .verify("GET", "/v1beta1/x", Some("Basic cDpz"))
            .is_err());
    }

    #[test]
    fn nonces_expire_on_the_simulators_clock() {
        let clock = Clock::new();
        let auth = DigestAuth::new(&[("p".into(), "s".into())], clock.clone());
        let nonce = nonce_of(&auth.challenges(false)[0]);
        let call = |nc| {
            auth.verify(
                "GET",
                "/v1beta1/x",
                Some(&header(&auth, "MD5", "p", "s", &nonce, nc, "")),
            )
        };
        assert!(call(1).is_ok());
        clock
            .advance(NONCE_LIFETIME - Duration::from_secs(5))
            .unwrap();
        assert!(call(2).is_ok());
        clock.advance(Duration::from_secs(5)).unwrap();
        assert!(call(3).unwrap_err().stale);
    }

    #[test]
    fn userhash() {
        let auth = DigestAuth::new(&[("p".into(), "s".into())], Clock::new());
        let nonce = nonce_of(&auth.challenges(false)[0]);
        let hashed = Algorithm::Sha256.hash(&format!("p:{REALM}"));
        // The response is computed over the real user name.
        let h = header(&auth, "SHA-256", "p", "s", &nonce, 1, ", userhash=true")
            .replace("username=\"p\"", &format!("username=\"{hashed}\""));
        assert_eq!(
            auth.verify("GET", "/v1beta1/x", Some(&h)).map(|i| i.key),
            Ok("p".to_string())
        );
    }

    #[test]
    fn keys_added_later() {
        let auth = DigestAuth::new(&[], Clock::new());
        auth.add_key("viewer", "v", true);
        let nonce = nonce_of(&auth.challenges(false)[0]);
        let id = auth
            .verify(
                "GET",
                "/v1beta1/x",
                Some(&header(&auth, "MD5", "viewer", "v", &nonce, 1, "")),
            )
            .unwrap();
        assert!(id.read_only);
    }

    #[test]
    fn parameter_parsing() {
        let p = parse_params(r#"a=1, b="x, \"y\"",c = "z""#).unwrap();
        assert_eq!(p["a"], "1");
        assert_eq!(p["b"], "x, \"y\"");
        assert_eq!(p["c"], "z");
        assert!(parse_params(r#"a="unterminated"#).is_none());
        assert!(parse_params("=x").is_none());
    }
}
