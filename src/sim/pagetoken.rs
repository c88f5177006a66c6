//! List page tokens: opaque to clients and bound to the query they page.
//!
//! A token carries the sequence number the next page starts after and an
//! HMAC-SHA256 tag (truncated to 128 bits) over that position, the cluster
//! and the `state` filter, under a key drawn when the simulator starts. So a
//! token cannot be forged or altered, and one issued for another cluster or
//! another filter (or by an earlier run) is refused instead of silently
//! paging some other list. The page size may change between pages, as
//! AIP-158 allows.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::error::ApiError;
use crate::model::ConnectionState;

/// The token layout's version, its first byte.
const VERSION: u8 = 1;
/// Bytes of the tag kept in a token.
const TAG_LEN: usize = 16;
/// Version, position, tag.
const TOKEN_LEN: usize = 1 + 8 + TAG_LEN;

/// Issues and checks page tokens with this process's key.
pub struct PageTokens {
    key: [u8; 32],
}

impl Default for PageTokens {
    fn default() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        PageTokens { key }
    }
}

impl PageTokens {
    /// The token for the page after sequence number `after` of `cluster`'s
    /// connections filtered by `state`.
    pub fn issue(&self, cluster: &str, state: Option<ConnectionState>, after: u64) -> String {
        let mut bytes = Vec::with_capacity(TOKEN_LEN);
        bytes.push(VERSION);
        bytes.extend_from_slice(&after.to_be_bytes());
        let tag = self.mac(cluster, state, after).finalize().into_bytes();
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position in `token`, if it was issued for this cluster and filter;
    /// else INVALID_ARGUMENT naming `pageToken`.
    pub fn open(
        &self,
        token: &str,
        cluster: &str,
        state: Option<ConnectionState>,
    ) -> Result<u64, ApiError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .filter(|b| b.len() == TOKEN_LEN && b[0] == VERSION)
            .ok_or_else(|| {
                ApiError::invalid(
                    "pageToken is not valid; pass the nextPageToken of a previous list response",
                )
            })?;
        let mut position = [0u8; 8];
        position.copy_from_slice(&bytes[1..9]);
        let after = u64::from_be_bytes(position);
        self.mac(cluster, state, after)
            .verify_truncated_left(&bytes[9..])
            .map_err(|_| {
                ApiError::invalid(format!(
                    "pageToken does not belong to this list (cluster {cluster}, {}): pass the nextPageToken of the previous page of the same list, with the same cluster and state filter",
                    match state {
                        Some(s) => format!("state {}", s.as_str()),
                        None => "no state filter".to_string(),
                    }
                ))
            })?;
        Ok(after)
    }

    fn mac(&self, cluster: &str, state: Option<ConnectionState>, after: u64) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes a key of any size");
        // Length-prefixed fields, so no two queries share a message.
        for field in [
            "privateLinkConnections".as_bytes(),
            cluster.as_bytes(),
            state.map_or("", |s| s.as_str()).as_bytes(),
        ] {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        mac.update(&after.to_be_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "1000000000000000001";

    #[test]
    fn tokens_round_trip_for_their_own_query_only() {
        let tokens = PageTokens::default();
        let active = Some(ConnectionState::Active);
        let t = tokens.issue(C, None, 42);
        assert_eq!(tokens.open(&t, C, None).unwrap(), 42);
        let a = tokens.issue(C, active, 7);
        assert_eq!(tokens.open(&a, C, active).unwrap(), 7);
        for (token, cluster, state) in [
            (&t, "1000000000000000002", None),
            (&t, C, active),
            (&a, C, None),
            (&a, C, Some(ConnectionState::Failed)),
        ] {
            let err = tokens.open(token, cluster, state).unwrap_err();
            assert!(err.message.contains("pageToken"), "{err}");
        }
        // Another run's key refuses it.
        assert!(PageTokens::default().open(&t, C, None).is_err());
        // URL-safe and not readable.
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn altered_and_malformed_tokens_are_refused() {
        let tokens = PageTokens::default();
        let t = tokens.issue(C, None, 1);
        let mut bytes = URL_SAFE_NO_PAD.decode(&t).unwrap();
        bytes[8] ^= 1; // position 0 instead of 1
        let moved = URL_SAFE_NO_PAD.encode(&bytes);
        for bad in [
            moved.as_str(),
            "",
            "zz",
            "not a token",
            &t[..t.len() - 2],
            &hex::encode("after:1"),
        ] {
            let err = tokens.open(bad, C, None).unwrap_err();
            assert!(err.message.contains("pageToken"), "{bad:?}: {err}");
        }
    }
}
