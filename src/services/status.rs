//! Finding TiDB Cloud objects and reading their states: each finder gives
//! the object or a typed "not found", each status maps an API object to the
//! state the waits and the messages use. No I/O beyond the one GET of a
//! finder, no waiting (that is [`waits`](super::waits)).

use crate::api::{
    ApiError, AttachDomain, Client, ConnectionState, DomainState, PrivateLinkConnection,
};

use super::domains::{self, Phase};

/// The connection, or `None` when the API says it does not exist.
pub async fn find_connection(
    client: &Client,
    cluster_id: &str,
    id: &str,
) -> Result<Option<PrivateLinkConnection>, ApiError> {
    match client.get_private_link_connection(cluster_id, id).await {
        Ok(c) => Ok(Some(c)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether the connection is still on its way somewhere: only CREATING and
/// DELETING (and a missing state) are transitional; any other state, an
/// unfamiliar one included, settles a wait.
pub fn connection_transitional(c: &PrivateLinkConnection) -> bool {
    matches!(
        connection_state(c),
        None | Some(ConnectionState::Creating | ConnectionState::Deleting)
    )
}

/// The connection's state, if the API gave one.
pub fn connection_state(c: &PrivateLinkConnection) -> Option<&ConnectionState> {
    c.state.as_ref()
}

/// The connection's state as the API spells it ("" when absent), for messages.
pub fn connection_status(c: &PrivateLinkConnection) -> &str {
    c.state.as_ref().map(|s| s.as_str()).unwrap_or("")
}

/// The attachment `attach_domain_id` of a connection fetched with GET.
pub fn find_attachment<'a>(
    c: &'a PrivateLinkConnection,
    attach_domain_id: &str,
) -> Option<&'a AttachDomain> {
    c.attached_domains
        .iter()
        .find(|a| a.attach_domain_id == attach_domain_id)
}

/// Whether an attachment is being detached already (DELETING or DETACHING,
/// in either vocabulary of the spec).
pub fn attachment_going_away(a: &AttachDomain) -> bool {
    let state = attachment_state(a);
    ["DELETING", "DETACHING"]
        .iter()
        .any(|w| state.as_str().eq_ignore_ascii_case(w))
}

/// An attachment's state for messages: FAILED when any domain failed, else
/// the first state that is not settled (verbatim; CREATING when a domain has
/// none), else the first domain's settled word. Which states count as
/// settled is [`domains::phase`]'s decision.
pub fn attachment_state(a: &AttachDomain) -> DomainState {
    let first = |wanted: Phase| {
        a.domains
            .iter()
            .find(|d| domains::phase(d.state.as_ref()) == wanted)
    };
    if first(Phase::Failed).is_some() {
        return DomainState::Failed;
    }
    let shown = first(Phase::Transitional).or_else(|| a.domains.first());
    match shown.and_then(|d| d.state.clone()) {
        Some(s) if !s.as_str().trim().is_empty() => s,
        _ => DomainState::Creating,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Domain;

    fn attachment(states: &[Option<&str>]) -> AttachDomain {
        AttachDomain {
            domains: states
                .iter()
                .map(|s| Domain {
                    state: s.map(DomainState::from),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn attachment_states() {
        let s = |states: &[Option<&str>]| attachment_state(&attachment(states)).to_string();
        assert_eq!(s(&[]), "CREATING");
        assert_eq!(s(&[Some("SUCCEEDED"), Some("SUCCEEDED")]), "SUCCEEDED");
        assert_eq!(s(&[Some("SUCCEEDED"), Some("FAILED")]), "FAILED");
        assert_eq!(s(&[Some("SUCCEEDED"), Some("DELETING")]), "DELETING");
        assert_eq!(s(&[Some("SUCCEEDED"), None]), "CREATING");
        assert_eq!(s(&[Some("SUCCEEDED"), Some("")]), "CREATING");
        assert_eq!(s(&[Some("ATTACHED"), Some("ATTACHING")]), "ATTACHING");
        assert_eq!(s(&[Some("ATTACHED")]), "ATTACHED");
        assert_eq!(s(&[Some("VERIFYING")]), "VERIFYING");
    }
}
