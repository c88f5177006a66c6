//! HTTP Digest access authentication (RFC 7616), client side.
//!
//! The API answers an unauthenticated request with `401` and one or more
//! `WWW-Authenticate: Digest ...` challenges. A nonce may be used for many
//! requests as long as each carries a higher nonce count (`nc`). Servers that
//! guard against replays refuse a count that is not higher than the last one
//! they saw, so two requests sharing a nonce concurrently can fail when they
//! arrive out of order. [`DigestAuth`] therefore keeps a small pool of nonce
//! sessions: a request checks one out, uses the next count, and checks it
//! back in when answered. Requests on one nonce are thus strictly sequential,
//! and after the first exchange on each concurrent "lane" every request is
//! authorised up front and costs a single round trip. A challenge with
//! `stale=true` (expired or replayed nonce) replaces the session's nonce.
//!
//! Supported: algorithms `MD5`, `MD5-sess`, `SHA-256`, `SHA-256-sess`
//! (SHA-256 preferred when offered), `qop=auth` (and the RFC 2069 form when
//! a server offers no qop). Not supported: `auth-int`, `userhash`.

use std::fmt;
use std::sync::Mutex;

use md5::Md5;
use sha2::{Digest as _, Sha256};

/// A hash algorithm of the Digest scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    fn parse(name: &str) -> Option<Algorithm> {
        match name.to_ascii_uppercase().as_str() {
            "MD5" => Some(Algorithm::Md5),
            "MD5-SESS" => Some(Algorithm::Md5Sess),
            "SHA-256" => Some(Algorithm::Sha256),
            "SHA-256-SESS" => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Preference when a server offers several challenges: SHA-256 first.
    fn strength(self) -> u8 {
        match self {
            Algorithm::Sha256 => 4,
            Algorithm::Sha256Sess => 3,
            Algorithm::Md5 => 2,
            Algorithm::Md5Sess => 1,
        }
    }

    /// Lower-case hex of the hash of `data`.
    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(Md5::digest(data.as_bytes())),
            Algorithm::Sha256 | Algorithm::Sha256Sess => {
                hex::encode(Sha256::digest(data.as_bytes()))
            }
        }
    }
}

/// One `Digest` challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// Whether the server sent `algorithm=`; echoed back only then.
    algorithm_named: bool,
    /// `true` when the server offers `qop=auth`; `false` for RFC 2069 servers.
    pub qop_auth: bool,
    /// The server says the previous nonce expired (credentials were fine).
    pub stale: bool,
}

impl Challenge {
    /// The best Digest challenge among `WWW-Authenticate` header values.
    ///
    /// Returns `None` when none is usable (no Digest challenge, unknown
    /// algorithm, a qop list without `auth`, or no nonce).
    pub fn select<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
        headers
            .into_iter()
            .flat_map(parse_challenges)
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("digest"))
            .filter_map(|(_, params)| Challenge::from_params(&params))
            .max_by_key(|c| c.algorithm.strength())
    }

    fn from_params(params: &[(String, String)]) -> Option<Challenge> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let (algorithm, algorithm_named) = match get("algorithm") {
            Some(name) => (Algorithm::parse(name)?, true),
            None => (Algorithm::Md5, false),
        };
        let qop_auth = match get("qop") {
            Some(list) => {
                if !list
                    .split(',')
                    .any(|q| q.trim().eq_ignore_ascii_case("auth"))
                {
                    return None;
                }
                true
            }
            None => false,
        };
        Some(Challenge {
            realm: get("realm").unwrap_or_default().to_string(),
            nonce: get("nonce").filter(|n| !n.is_empty())?.to_string(),
            opaque: get("opaque").map(str::to_string),
            algorithm,
            algorithm_named,
            qop_auth,
            stale: get("stale").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }
}

/// Splits a `WWW-Authenticate` value into challenges: `(scheme, params)`.
///
/// Commas separate both challenges and parameters, and may also appear
/// inside quoted strings (`qop="auth, auth-int"`); a new challenge starts
/// at an item whose first token is followed by a space rather than `=`.
/// Anything malformed is skipped rather than rejected.
pub fn parse_challenges(header: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for item in split_outside_quotes(header) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let first_space = item.find(char::is_whitespace);
        let first_eq = item.find('=');
        let (scheme, rest) = match (first_space, first_eq) {
            (Some(sp), Some(eq)) if sp < eq => {
                // `Digest realm="x"`: but not `realm = "x"` (spaces around `=`).
                let candidate = &item[..sp];
                let after = item[sp..].trim_start();
                if after.starts_with('=') {
                    (None, item)
                } else {
                    (Some(candidate), after)
                }
            }
            (Some(sp), None) => (Some(&item[..sp]), item[sp..].trim_start()),
            (None, None) => (Some(item), ""),
            _ => (None, item),
        };
        if let Some(scheme) = scheme {
            out.push((scheme.to_string(), Vec::new()));
        }
        if rest.is_empty() {
            continue;
        }
        let Some((_, params)) = out.last_mut() else {
            continue; // parameters before any scheme
        };
        if let Some((name, value)) = rest.split_once('=') {
            params.push((name.trim().to_string(), unquote(value.trim())));
        }
    }
    out
}

/// Splits on commas that are not inside a quoted string.
fn split_outside_quotes(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_quotes, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Removes surrounding quotes and backslash escapes of a quoted string.
fn unquote(v: &str) -> String {
    let Some(inner) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return v.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Quotes a value for an auth-param, escaping `"` and `\`.
fn quote(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Computes the `Authorization` header for one request.
///
/// `nc` is the nonce count (1 for the first use of a nonce) and `cnonce`
/// the client nonce; both are ignored for RFC 2069 challenges.
pub fn authorization(
    challenge: &Challenge,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    nc: u32,
    cnonce: &str,
) -> String {
    let alg = challenge.algorithm;
    let mut ha1 = alg.hash(&format!("{username}:{}:{password}", challenge.realm));
    if alg.is_session() {
        ha1 = alg.hash(&format!("{ha1}:{}:{cnonce}", challenge.nonce));
    }
    let ha2 = alg.hash(&format!("{method}:{uri}"));
    let nc = format!("{nc:08x}");
    let response = if challenge.qop_auth {
        alg.hash(&format!(
            "{ha1}:{}:{nc}:{cnonce}:auth:{ha2}",
            challenge.nonce
        ))
    } else {
        alg.hash(&format!("{ha1}:{}:{ha2}", challenge.nonce))
    };

    let mut header = format!(
        "Digest username={}, realm={}, uri={}",
        quote(username),
        quote(&challenge.realm),
        quote(uri)
    );
    if challenge.algorithm_named {
        header.push_str(&format!(", algorithm={}", alg.name()));
    }
    header.push_str(&format!(", nonce={}", quote(&challenge.nonce)));
    if challenge.qop_auth {
        header.push_str(&format!(", nc={nc}, cnonce={}, qop=auth", quote(cnonce)));
    }
    header.push_str(&format!(", response={}", quote(&response)));
    if let Some(opaque) = &challenge.opaque {
        header.push_str(&format!(", opaque={}", quote(opaque)));
    }
    header
}

/// A fresh client nonce: 16 random bytes in hex.
fn new_cnonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Most nonce sessions kept between requests; more concurrent requests
/// than this simply fetch new nonces.
const MAX_IDLE_SESSIONS: usize = 64;

/// A server nonce and the last nonce count used with it. Held by one
/// request at a time.
#[derive(Debug)]
pub struct NonceSession {
    challenge: Challenge,
    nc: u32,
}

impl NonceSession {
    /// A session on a fresh challenge; the first request uses `nc` 1.
    pub fn new(challenge: Challenge) -> Self {
        NonceSession { challenge, nc: 0 }
    }

    pub fn nonce(&self) -> &str {
        &self.challenge.nonce
    }
}

/// Digest credentials and the pool of nonce sessions, shared by every
/// request of a client.
pub struct DigestAuth {
    username: String,
    password: String,
    idle: Mutex<Vec<NonceSession>>,
}

impl DigestAuth {
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        DigestAuth {
            username: username.into(),
            password: password.into(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Takes the most recently used idle session, if any.
    pub fn checkout(&self) -> Option<NonceSession> {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop()
    }

    /// Returns a session for later requests.
    pub fn checkin(&self, session: NonceSession) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() >= MAX_IDLE_SESSIONS {
            idle.remove(0); // the least recently used
        }
        idle.push(session);
    }

    /// The `Authorization` header for one request on `session`, using its
    /// next nonce count.
    pub fn authorize(&self, session: &mut NonceSession, method: &str, uri: &str) -> String {
        session.nc = session.nc.wrapping_add(1);
        authorization(
            &session.challenge,
            &self.username,
            &self.password,
            method,
            uri,
            session.nc,
            &new_cnonce(),
        )
    }

    /// Number of idle sessions (for tests and diagnostics).
    pub fn idle_sessions(&self) -> usize {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl fmt::Debug for DigestAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAuth")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The challenge of RFC 7616 section 3.9.1, as one header with two
    /// challenges (servers may also send two headers).
    const RFC_CHALLENGE: &str = r#"Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
    const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    fn param<'a>(header: &'a str, name: &str) -> Option<&'a str> {
        let rest = header.strip_prefix("Digest ")?;
        split_outside_quotes(rest).into_iter().find_map(|item| {
            let (k, v) = item.trim().split_once('=')?;
            (k == name).then_some(v)
        })
    }

    #[test]
    fn rfc7616_worked_example_sha256_and_md5() {
        let challenges = parse_challenges(RFC_CHALLENGE);
        assert_eq!(challenges.len(), 2);
        let mut parsed: Vec<Challenge> = challenges
            .iter()
            .filter_map(|(_, p)| Challenge::from_params(p))
            .collect();
        assert_eq!(parsed.len(), 2);
        let md5 = parsed.pop().unwrap();
        let sha = parsed.pop().unwrap();
        assert_eq!(sha.algorithm, Algorithm::Sha256);
        assert_eq!(md5.algorithm, Algorithm::Md5);
        assert_eq!(sha.realm, "http-auth@example.org");
        assert!(sha.qop_auth);

        let h = authorization(
            &sha,
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            1,
            CNONCE,
        );
        assert_eq!(
            param(&h, "response"),
            Some("\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\"")
        );
        assert_eq!(param(&h, "nc"), Some("00000001"));
        assert_eq!(param(&h, "qop"), Some("auth"));
        assert_eq!(param(&h, "algorithm"), Some("SHA-256"));
        assert_eq!(
            param(&h, "opaque"),
            Some("\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"")
        );
        assert_eq!(param(&h, "uri"), Some("\"/dir/index.html\""));

        let h = authorization(
            &md5,
            "Mufasa",
            "Circle of Life",
            "GET",
            "/dir/index.html",
            1,
            CNONCE,
        );
        assert_eq!(
            param(&h, "response"),
            Some("\"8ca523f5e9506fed4657c9700eebdbec\"")
        );
    }

    #[test]
    fn prefers_sha256_across_headers() {
        let md5 = r#"Digest realm="r", nonce="n", qop="auth", algorithm=MD5"#;
        let sha = r#"Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256"#;
        let basic = r#"Basic realm="r""#;
        let c = Challenge::select([basic, md5, sha]).unwrap();
        assert_eq!(c.algorithm, Algorithm::Sha256);
        assert_eq!(Challenge::select([md5]).unwrap().algorithm, Algorithm::Md5);
        assert_eq!(Challenge::select([basic]), None, "never Basic");
    }

    #[test]
    fn parses_quoted_commas_escapes_and_odd_spacing() {
        let h = r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Digest realm="a, b", qop="auth,auth-int", nonce="x,y" , stale=TRUE"#;
        let all = parse_challenges(h);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].0, "Newauth");
        assert!(all[0]
            .1
            .contains(&("title".into(), r#"Login to "apps""#.into())));
        let c = Challenge::select([h]).unwrap();
        assert_eq!(c.realm, "a, b");
        assert_eq!(c.nonce, "x,y");
        assert!(c.stale);
        assert!(c.qop_auth);
        assert_eq!(c.algorithm, Algorithm::Md5);
        assert!(!c.algorithm_named);
    }

    #[test]
    fn rejects_unusable_challenges() {
        assert!(
            Challenge::select([r#"Digest realm="r", nonce="n", algorithm=SHA-512-256"#]).is_none()
        );
        assert!(Challenge::select([r#"Digest realm="r", nonce="n", qop="auth-int""#]).is_none());
        assert!(Challenge::select([r#"Digest realm="r""#]).is_none());
        assert!(Challenge::select(["", ",,,", "Digest"]).is_none());
    }

    #[test]
    fn without_qop_uses_the_rfc2069_form() {
        let c = Challenge::select([r#"Digest realm="r", nonce="n""#]).unwrap();
        let h = authorization(&c, "u", "p", "GET", "/", 1, "c");
        assert!(!h.contains("qop="));
        assert!(!h.contains("nc="));
        let ha1 = Algorithm::Md5.hash("u:r:p");
        let ha2 = Algorithm::Md5.hash("GET:/");
        let want = Algorithm::Md5.hash(&format!("{ha1}:n:{ha2}"));
        assert_eq!(param(&h, "response"), Some(format!("\"{want}\"").as_str()));
    }

    #[test]
    fn session_variant_hashes_ha1_with_nonces() {
        let c =
            Challenge::select([r#"Digest realm="r", nonce="n", qop=auth, algorithm=SHA-256-sess"#])
                .unwrap();
        let h = authorization(&c, "u", "p", "POST", "/x", 7, "cn");
        let alg = Algorithm::Sha256;
        let ha1 = alg.hash(&format!("{}:n:cn", alg.hash("u:r:p")));
        let ha2 = alg.hash("POST:/x");
        let want = alg.hash(&format!("{ha1}:n:00000007:cn:auth:{ha2}"));
        assert_eq!(param(&h, "response"), Some(format!("\"{want}\"").as_str()));
        assert_eq!(param(&h, "algorithm"), Some("SHA-256-sess"));
    }

    #[test]
    fn nonce_count_increments_and_restarts_on_a_new_nonce() {
        let auth = DigestAuth::new("pub", "secret");
        assert!(auth.checkout().is_none(), "no challenge yet");
        let first = Challenge::select([r#"Digest realm="r", nonce="n1", qop="auth""#]).unwrap();
        let mut session = NonceSession::new(first);
        let nc = |h: &str| param(h, "nc").unwrap().to_string();
        assert_eq!(nc(&auth.authorize(&mut session, "GET", "/")), "00000001");
        auth.checkin(session);
        // Checked out again, the session keeps counting.
        let mut session = auth.checkout().unwrap();
        assert_eq!(session.nonce(), "n1");
        assert_eq!(nc(&auth.authorize(&mut session, "GET", "/")), "00000002");
        let a = auth.authorize(&mut session, "GET", "/");
        let b = auth.authorize(&mut session, "GET", "/");
        assert_eq!((nc(&a), nc(&b)), ("00000003".into(), "00000004".into()));
        assert_ne!(
            param(&a, "cnonce"),
            param(&b, "cnonce"),
            "fresh cnonce per request"
        );

        // A stale answer brings a fresh nonce: a new session, counting from 1.
        let stale =
            Challenge::select([r#"Digest realm="r", nonce="n2", qop="auth", stale=true"#]).unwrap();
        assert!(stale.stale);
        let mut session = NonceSession::new(stale);
        let h = auth.authorize(&mut session, "GET", "/");
        assert_eq!(nc(&h), "00000001");
        assert_eq!(param(&h, "nonce"), Some("\"n2\""));
    }

    #[test]
    fn concurrent_requests_get_distinct_sessions() {
        let auth = DigestAuth::new("pub", "secret");
        let challenge = |n: &str| {
            Challenge::select([format!(r#"Digest realm="r", nonce="{n}", qop="auth""#).as_str()])
                .unwrap()
        };
        auth.checkin(NonceSession::new(challenge("a")));
        auth.checkin(NonceSession::new(challenge("b")));
        let one = auth.checkout().unwrap();
        let two = auth.checkout().unwrap();
        assert_ne!(one.nonce(), two.nonce());
        assert!(
            auth.checkout().is_none(),
            "a third request fetches its own nonce"
        );
        auth.checkin(one);
        auth.checkin(two);
        assert_eq!(auth.idle_sessions(), 2);
        for i in 0..100 {
            auth.checkin(NonceSession::new(challenge(&i.to_string())));
        }
        assert_eq!(auth.idle_sessions(), MAX_IDLE_SESSIONS);
        assert_eq!(auth.checkout().unwrap().nonce(), "99", "most recent first");
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", DigestAuth::new("pub", "very-secret-key"));
        assert!(shown.contains("pub"));
        assert!(!shown.contains("very-secret-key"));
    }
}
