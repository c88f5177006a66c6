//! The evidence that a connection is the one a create whose answer was
//! lost made: the rule shared by create-and-reconcile and by the refresh of
//! an entry saved without a connection id.
//!
//! A candidate counts if and only if it has the create's display name and
//! endpoint service, is not DELETING, is not excluded (listed before the
//! create, or held by this process), its `createdBy` is not different from
//! that of the connections this process created (when it has seen one),
//! and floor(D_before) − 2 s ≤ `createTime` < D_after + 3 s, where D_before
//! is the latest `Date` header seen before the create was written and
//! D_after the `Date` of the create's own error answer, else of the first
//! look-up listing. A missing `Date` or `createTime` is too little
//! evidence: nothing is adopted on it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::TYPE_NAME;
use crate::api::{ConnectionState, PrivateLinkConnection as Connection};
use crate::services::errors::import_hint;

/// How far before the latest `Date` seen before the create a connection
/// made by it may say it was created: the API's clocks may disagree by a
/// little, and `Date` has whole seconds.
const EARLIER: Duration = Duration::from_secs(2);

/// How far after the `Date` of the create's answer (or of the first
/// look-up) its connection may say it was created.
const LATER: Duration = Duration::from_secs(3);

/// How long after D_after a listing must be taken before "no candidate"
/// means the create did not happen.
pub(super) const SETTLED_AFTER: Duration = Duration::from_secs(5);

/// The create's time window, from the API's `Date` headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Window {
    /// D_before.
    pub before: Option<SystemTime>,
    /// D_after.
    pub after: Option<SystemTime>,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// An RFC 3339 time as the API writes it, in whole and fractional seconds.
fn rfc3339(text: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339(text.trim()).ok()
}

impl Window {
    /// The window's bounds, when both ends are known.
    pub fn bounds(&self) -> Option<(SystemTime, SystemTime)> {
        let before = at(secs(self.before?)).checked_sub(EARLIER)?;
        Some((before, self.after? + LATER))
    }

    /// Whether a connection created at `create_time` falls in the window:
    /// `None` when the evidence is too little to say.
    pub fn admits(&self, create_time: Option<&str>) -> Option<bool> {
        let (from, until) = self.bounds()?;
        let t = rfc3339(create_time?)?;
        Some(from <= t && t < until)
    }

    /// The window as kept in the resource's private state.
    pub fn to_private(self) -> Vec<u8> {
        serde_json::json!({
            "lost_create": {
                "date_before": self.before.map(secs),
                "date_after": self.after.map(secs),
            }
        })
        .to_string()
        .into_bytes()
    }

    /// The window kept in a private state, if it holds one.
    pub fn from_private(private: &[u8]) -> Option<Window> {
        let v: serde_json::Value = serde_json::from_slice(private).ok()?;
        let lost = v.get("lost_create")?;
        let read = |k: &str| lost.get(k).and_then(|t| t.as_u64()).map(at);
        Some(Window {
            before: read("date_before"),
            after: read("date_after"),
        })
    }

    /// The window for messages.
    pub fn describe(&self) -> String {
        match self.bounds() {
            Some((from, until)) => format!(
                "from {} to {}",
                humantime::format_rfc3339_seconds(from),
                humantime::format_rfc3339_seconds(until)
            ),
            None => "unknown (the API's answers carried no Date header)".to_string(),
        }
    }
}

/// What the candidates say.
#[derive(Debug)]
pub(super) enum Verdict {
    /// Exactly one candidate, with the evidence.
    One(Box<Connection>),
    /// Several candidates in the window.
    Several(Vec<Connection>),
    /// Candidates whose time (or the window) is unknown, alone or with
    /// others in the window.
    TooLittle(Vec<Connection>),
    /// No candidate.
    None,
}

/// What makes a connection the create's.
pub(super) struct Key<'a> {
    pub display_name: &'a str,
    pub service: Option<&'a str>,
    /// `createdBy` of this process's own creates, once seen.
    pub own_creator: Option<&'a str>,
}

/// Whether `c` is a live connection named `display_name` to `service`:
/// what a create of that name would make (DELETING ones are on their way
/// out).
pub(super) fn same_connection(c: &Connection, display_name: &str, service: Option<&str>) -> bool {
    c.display_name == display_name
        && c.endpoint_service_name() == service
        && c.state != Some(ConnectionState::Deleting)
        && !c.private_link_connection_id.is_empty()
}

/// Applies the rule to a listing; `excluded` says which ids cannot be the
/// create's (listed before it, held by this process).
pub(super) fn judge(
    all: Vec<Connection>,
    key: &Key<'_>,
    window: &Window,
    excluded: impl Fn(&str) -> bool,
) -> Verdict {
    let matching: Vec<Connection> = all
        .into_iter()
        .filter(|c| {
            same_connection(c, key.display_name, key.service)
                && !excluded(&c.private_link_connection_id)
                && match (key.own_creator, c.created_by.as_deref()) {
                    (Some(mine), Some(theirs)) => mine == theirs,
                    _ => true,
                }
        })
        .collect();
    let mut inside = Vec::new();
    let mut unknown = Vec::new();
    for c in matching {
        match window.admits(c.create_time.as_deref()) {
            Some(true) => inside.push(c),
            Some(false) => {}
            None => unknown.push(c),
        }
    }
    if !unknown.is_empty() {
        inside.extend(unknown);
        return Verdict::TooLittle(inside);
    }
    match inside.len() {
        0 => Verdict::None,
        1 => Verdict::One(Box::new(inside.remove(0))),
        _ => Verdict::Several(inside),
    }
}

/// The candidates, with both import forms each.
pub(super) fn candidate_list(cluster_id: &str, found: &[Connection]) -> String {
    found
        .iter()
        .map(|c| {
            format!(
                "\n\n- {} (created {}){}",
                c.private_link_connection_id,
                c.create_time.as_deref().unwrap_or("at an unknown time"),
                import_hint(
                    TYPE_NAME,
                    &format!("{cluster_id},{}", c.private_link_connection_id)
                )
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::AwsEndpointService;

    fn date(text: &str) -> SystemTime {
        httpdate::parse_http_date(text).expect("HTTP date")
    }

    fn conn(id: &str, name: &str, created: Option<&str>, by: Option<&str>) -> Connection {
        Connection {
            private_link_connection_id: id.into(),
            display_name: name.into(),
            create_time: created.map(str::to_string),
            created_by: by.map(str::to_string),
            state: Some(ConnectionState::Active),
            aws_endpoint_service: Some(AwsEndpointService {
                name: "svc".into(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn window() -> Window {
        Window {
            before: Some(date("Tue, 01 Jul 2025 10:00:10 GMT")),
            after: Some(date("Tue, 01 Jul 2025 10:00:12 GMT")),
        }
    }

    /// floor(D_before) − 2 s ≤ createTime < D_after + 3 s, both ends.
    #[test]
    fn the_window_runs_from_two_seconds_before_to_three_after() {
        let w = window();
        for (t, inside) in [
            ("2025-07-01T10:00:07.999Z", false),
            ("2025-07-01T10:00:08Z", true),
            ("2025-07-01T10:00:11.5Z", true),
            ("2025-07-01T10:00:14.999Z", true),
            ("2025-07-01T10:00:15Z", false),
            ("2025-07-01T11:00:00Z", false),
        ] {
            assert_eq!(w.admits(Some(t)), Some(inside), "{t}");
        }
        // Too little evidence: no createTime, one it cannot read, no Date.
        assert_eq!(w.admits(None), None);
        assert_eq!(w.admits(Some("yesterday")), None);
        let no_after = Window {
            after: None,
            ..window()
        };
        assert_eq!(no_after.admits(Some("2025-07-01T10:00:11Z")), None);
        let no_before = Window {
            before: None,
            ..window()
        };
        assert_eq!(no_before.admits(Some("2025-07-01T10:00:11Z")), None);
    }

    #[test]
    fn the_window_survives_the_private_state() {
        let w = window();
        assert_eq!(Window::from_private(&w.to_private()), Some(w));
        let half = Window {
            after: None,
            ..window()
        };
        assert_eq!(Window::from_private(&half.to_private()), Some(half));
        assert_eq!(Window::from_private(b""), None);
        assert_eq!(Window::from_private(b"{\"other\":1}"), None);
    }

    #[test]
    fn one_candidate_in_the_window_is_the_one() {
        let key = Key {
            display_name: "dup-0",
            service: Some("svc"),
            own_creator: None,
        };
        let all = vec![
            conn("plc-old", "dup-0", Some("2025-07-01T09:00:00Z"), None),
            conn("plc-new", "dup-0", Some("2025-07-01T10:00:11Z"), None),
            conn("plc-other", "dup-1", Some("2025-07-01T10:00:11Z"), None),
        ];
        match judge(all, &key, &window(), |_| false) {
            Verdict::One(c) => assert_eq!(c.private_link_connection_id, "plc-new"),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn several_or_unknown_times_adopt_nothing() {
        let key = Key {
            display_name: "dup-0",
            service: Some("svc"),
            own_creator: None,
        };
        let two = vec![
            conn("plc-a", "dup-0", Some("2025-07-01T10:00:11Z"), None),
            conn("plc-b", "dup-0", Some("2025-07-01T10:00:12Z"), None),
        ];
        assert!(matches!(
            judge(two, &key, &window(), |_| false),
            Verdict::Several(c) if c.len() == 2
        ));
        let untimed = vec![
            conn("plc-a", "dup-0", Some("2025-07-01T10:00:11Z"), None),
            conn("plc-b", "dup-0", None, None),
        ];
        assert!(matches!(
            judge(untimed, &key, &window(), |_| false),
            Verdict::TooLittle(c) if c.len() == 2
        ));
        let one = vec![conn("plc-a", "dup-0", Some("2025-07-01T10:00:11Z"), None)];
        assert!(matches!(
            judge(one, &key, &Window::default(), |_| false),
            Verdict::TooLittle(c) if c.len() == 1
        ));
    }

    #[test]
    fn excluded_ids_another_creator_and_deleting_ones_never_count() {
        let key = Key {
            display_name: "dup-0",
            service: Some("svc"),
            own_creator: Some("apikey-a"),
        };
        let mut deleting = conn("plc-d", "dup-0", Some("2025-07-01T10:00:11Z"), None);
        deleting.state = Some(ConnectionState::Deleting);
        let all = vec![
            deleting,
            conn("plc-held", "dup-0", Some("2025-07-01T10:00:11Z"), None),
            conn(
                "plc-b",
                "dup-0",
                Some("2025-07-01T10:00:11Z"),
                Some("apikey-b"),
            ),
            conn(
                "plc-a",
                "dup-0",
                Some("2025-07-01T10:00:11Z"),
                Some("apikey-a"),
            ),
        ];
        match judge(all, &key, &window(), |id| id == "plc-held") {
            Verdict::One(c) => assert_eq!(c.private_link_connection_id, "plc-a"),
            v => panic!("{v:?}"),
        }
        let none = vec![conn("plc-x", "dup-0", Some("2025-07-01T09:00:00Z"), None)];
        assert!(matches!(
            judge(none, &key, &window(), |_| false),
            Verdict::None
        ));
    }
}
