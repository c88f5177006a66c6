//! The simulated world's objects: clusters, endpoint services, private link
//! connections and their attached domains. Wire shapes live in `wire`.

use std::sync::OnceLock;
use std::time::SystemTime;

/// A cloud provider, spelled as the cluster API does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Aws,
    Alicloud,
}

impl Cloud {
    /// Parses `aws` or `alicloud` (any case).
    pub fn parse(s: &str) -> Option<Cloud> {
        match s.to_ascii_lowercase().as_str() {
            "aws" => Some(Cloud::Aws),
            "alicloud" => Some(Cloud::Alicloud),
            _ => None,
        }
    }

    /// The cluster API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Alicloud => "alicloud",
        }
    }

    /// A name for messages.
    pub fn label(self) -> &'static str {
        match self {
            Cloud::Aws => "AWS",
            Cloud::Alicloud => "Alibaba Cloud",
        }
    }

    /// The private link connection type that reaches this cloud.
    pub fn connection_type(self) -> &'static str {
        match self {
            Cloud::Aws => "AWS_ENDPOINT_SERVICE",
            Cloud::Alicloud => "ALICLOUD_ENDPOINT_SERVICE",
        }
    }

    /// The cloud a connection type belongs to.
    pub fn from_connection_type(s: &str) -> Option<Cloud> {
        match s {
            "AWS_ENDPOINT_SERVICE" => Some(Cloud::Aws),
            "ALICLOUD_ENDPOINT_SERVICE" => Some(Cloud::Alicloud),
            _ => None,
        }
    }

    /// The principal TiDB Cloud connects as, which an endpoint service must allow.
    pub fn principal(self, account_id: &str) -> String {
        match self {
            Cloud::Aws => format!("arn:aws:iam::{account_id}:root"),
            Cloud::Alicloud => format!("acs:ram:*:{account_id}:*"),
        }
    }
}

/// Cluster states of the cluster API.
pub const CLUSTER_STATES: &[&str] = &[
    "CREATING",
    "DELETING",
    "ACTIVE",
    "RESTORING",
    "MAINTENANCE",
    "DELETED",
    "INACTIVE",
    "UPGRADING",
    "IMPORTING",
    "MODIFYING",
    "PAUSING",
    "PAUSED",
    "RESUMING",
];

/// A TiDB Cloud Starter or Essential cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub id: String,
    pub display_name: String,
    pub cloud: Cloud,
    /// `<cloud>-<region code>`, e.g. `aws-us-west-2`.
    pub region_id: String,
    /// One of [`CLUSTER_STATES`].
    pub state: String,
    /// The TiDB Cloud account in the cluster's cloud.
    pub account_id: String,
    pub az_ids: Vec<String>,
    pub create_time: SystemTime,
    pub update_time: SystemTime,
}

impl Cluster {
    /// The region code without the cloud prefix, e.g. `us-west-2`.
    pub fn region_code(&self) -> &str {
        self.region_id
            .strip_prefix(self.cloud.as_str())
            .and_then(|r| r.strip_prefix('-'))
            .unwrap_or(&self.region_id)
    }
}

/// A customer's endpoint service, as registered in the simulated cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointService {
    pub name: String,
    pub cloud: Cloud,
    pub region: String,
    pub az_ids: Vec<String>,
    pub allowed_principals: Vec<String>,
    pub acceptance_required: bool,
    /// The shape of TIDBCLOUD_MANAGED domain names on connections to this
    /// service; `None`: the cloud's default shape.
    pub domain_template: Option<DomainTemplate>,
}

impl EndpointService {
    /// Whether connections as `principal` are allowed (`*` allows everyone).
    pub fn allows(&self, principal: &str) -> bool {
        self.allowed_principals
            .iter()
            .any(|p| p == "*" || p == principal)
    }
}

/// States of a private link connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    Creating,
    Active,
    Failed,
    PendingAcceptance,
    Deleting,
}

impl ConnectionState {
    pub const ALL: [ConnectionState; 5] = [
        ConnectionState::Creating,
        ConnectionState::Active,
        ConnectionState::Failed,
        ConnectionState::PendingAcceptance,
        ConnectionState::Deleting,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Creating => "CREATING",
            ConnectionState::Active => "ACTIVE",
            ConnectionState::Failed => "FAILED",
            ConnectionState::PendingAcceptance => "PENDING_ACCEPTANCE",
            ConnectionState::Deleting => "DELETING",
        }
    }

    pub fn parse(s: &str) -> Option<ConnectionState> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// A private link connection from a cluster to an endpoint service.
#[derive(Debug, Clone)]
pub struct Connection {
    /// Creation order; list pages follow it.
    pub seq: u64,
    pub id: String,
    pub cluster_id: String,
    pub display_name: String,
    pub state: ConnectionState,
    pub message: Option<String>,
    pub created_by: String,
    pub create_time: SystemTime,
    pub update_time: SystemTime,
    /// The connection type, as the cloud it reaches.
    pub cloud: Cloud,
    pub service_name: String,
    /// The region in use (AWS: given or the cluster's; Alibaba Cloud: the cluster's).
    pub region: String,
    /// Set once the endpoint exists (ACTIVE or PENDING_ACCEPTANCE).
    pub endpoint_id: Option<String>,
    /// AZs common to the endpoint service and the cluster, once known.
    pub az_ids: Vec<String>,
    /// Domains are attached at most once per connection.
    pub attachment: Option<Attachment>,
}

/// Domain types of an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainType {
    TidbcloudManaged,
    Confluent,
}

impl DomainType {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainType::TidbcloudManaged => "TIDBCLOUD_MANAGED",
            DomainType::Confluent => "CONFLUENT",
        }
    }

    pub fn parse(s: &str) -> Option<DomainType> {
        match s {
            "TIDBCLOUD_MANAGED" => Some(DomainType::TidbcloudManaged),
            "CONFLUENT" => Some(DomainType::Confluent),
            _ => None,
        }
    }
}

/// States of an attached domain: being attached, attached, failed, being
/// detached. The words the API uses for them depend on [`DomainStates`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainState {
    Creating,
    Succeeded,
    Failed,
    Deleting,
}

impl DomainState {
    /// The word of the vocabulary in use (`--domain-states`).
    pub fn as_str(self) -> &'static str {
        self.word(DomainStates::current())
    }

    /// The word in `vocabulary`.
    pub fn word(self, vocabulary: DomainStates) -> &'static str {
        match (vocabulary, self) {
            (DomainStates::Succeeded, DomainState::Creating) => "CREATING",
            (DomainStates::Succeeded, DomainState::Succeeded) => "SUCCEEDED",
            (DomainStates::Succeeded, DomainState::Deleting) => "DELETING",
            (DomainStates::Attached, DomainState::Creating) => "ATTACHING",
            (DomainStates::Attached, DomainState::Succeeded) => "ATTACHED",
            (DomainStates::Attached, DomainState::Deleting) => "DETACHING",
            (_, DomainState::Failed) => "FAILED",
        }
    }
}

/// The words domain states are spelled with (`--domain-states`): the
/// swagger leaves `Domain.state` a free string and the spec uses both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DomainStates {
    /// `CREATING` -> `SUCCEEDED`, `DELETING`, `FAILED`.
    #[default]
    Succeeded,
    /// `ATTACHING` -> `ATTACHED`, `DETACHING`, `FAILED`.
    Attached,
}

/// The vocabulary of this process, set once at start-up.
static DOMAIN_STATES: OnceLock<DomainStates> = OnceLock::new();

impl DomainStates {
    /// `succeeded` or `attached`.
    pub fn parse(s: &str) -> Option<DomainStates> {
        match s {
            "succeeded" => Some(DomainStates::Succeeded),
            "attached" => Some(DomainStates::Attached),
            _ => None,
        }
    }

    /// Makes this the vocabulary of the process (the first call wins).
    pub fn install(self) {
        let _ = DOMAIN_STATES.set(self);
    }

    /// The vocabulary in use: the installed one, else the default.
    pub fn current() -> DomainStates {
        DOMAIN_STATES.get().copied().unwrap_or_default()
    }
}

/// The shape of TIDBCLOUD_MANAGED domain names, from an endpoint service's
/// `domain_name_template`, such as
/// `*.{az_id}.{unique_name}.{region}.aws.tidbcloud.com`.
///
/// Placeholders: `{unique_name}` (required), `{az_id}` (one domain per AZ of
/// the connection; without it the attachment has a single domain) and
/// `{region}` (the connection's region code). The text must start with `*.`
/// and otherwise be lowercase letters, digits, `-` and `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainTemplate(String);

impl DomainTemplate {
    const PLACEHOLDERS: [&'static str; 3] = ["{az_id}", "{unique_name}", "{region}"];

    /// Checks a template.
    pub fn parse(text: &str) -> Result<DomainTemplate, String> {
        let bad = |why: &str| {
            format!(
                "domain_name_template {text:?} {why}; use placeholders {{unique_name}}, {{az_id}} and {{region}} in a wildcard name such as \"*.{{az_id}}.{{unique_name}}.{{region}}.aws.tidbcloud.com\""
            )
        };
        if !text.contains("{unique_name}") {
            return Err(bad("lacks {unique_name}"));
        }
        let mut rest = text.to_string();
        for p in Self::PLACEHOLDERS {
            rest = rest.replace(p, "x");
        }
        let Some(tail) = rest.strip_prefix("*.") else {
            return Err(bad("must start with \"*.\""));
        };
        let ok = tail.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
        if !ok {
            return Err(bad("is not a domain name (or has an unknown placeholder)"));
        }
        Ok(DomainTemplate(text.to_string()))
    }

    /// The template as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The names for a connection's AZs: one per AZ when the template uses
    /// `{az_id}`, else one.
    pub fn render(&self, unique_name: &str, region: &str, az_ids: &[String]) -> Vec<String> {
        let base = self
            .0
            .replace("{unique_name}", unique_name)
            .replace("{region}", region);
        if base.contains("{az_id}") {
            az_ids
                .iter()
                .map(|az| base.replace("{az_id}", az))
                .collect()
        } else {
            vec![base]
        }
    }
}

/// One attach-domains operation on a connection and the domains it created.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub id: String,
    pub kind: DomainType,
    pub unique_name: String,
    pub domains: Vec<Domain>,
    pub created_by: String,
    pub create_time: SystemTime,
}

impl Attachment {
    /// The state shared by the attachment's domains.
    pub fn state(&self) -> DomainState {
        self.domains
            .first()
            .map(|d| d.state)
            .unwrap_or(DomainState::Succeeded)
    }

    /// Moves every domain to `state` (with an optional message).
    pub fn set_state(&mut self, state: DomainState, message: Option<&str>) {
        for d in &mut self.domains {
            d.state = state;
            d.message = message.map(str::to_string);
        }
    }
}

/// One domain name of an attachment.
#[derive(Debug, Clone)]
pub struct Domain {
    pub name: String,
    pub state: DomainState,
    pub message: Option<String>,
}

/// The domain names an attachment of `kind` with `unique_name` gets on a
/// connection (rule 6 of the product); `template` is the endpoint service's
/// shape for TIDBCLOUD_MANAGED names, if it has one.
pub fn domain_names(
    kind: DomainType,
    unique_name: &str,
    conn: &Connection,
    template: Option<&DomainTemplate>,
) -> Vec<String> {
    match (kind, conn.cloud) {
        (DomainType::TidbcloudManaged, _) if template.is_some() => template
            .map(|t| t.render(unique_name, &conn.region, &conn.az_ids))
            .unwrap_or_default(),
        (DomainType::TidbcloudManaged, Cloud::Aws) => conn
            .az_ids
            .iter()
            .map(|az| format!("*.{az}.{unique_name}.aws.plc.tidbcloud.com"))
            .collect(),
        (DomainType::TidbcloudManaged, Cloud::Alicloud) => {
            vec![format!("*.{unique_name}.alicloud.plc.tidbcloud.com")]
        }
        (DomainType::Confluent, _) => conn
            .az_ids
            .iter()
            .map(|az| format!("*.{az}.{unique_name}.{}.aws.confluent.cloud", conn.region))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(cloud: Cloud) -> Connection {
        Connection {
            seq: 1,
            id: "plc-x".into(),
            cluster_id: "1".into(),
            display_name: "d".into(),
            state: ConnectionState::Active,
            message: None,
            created_by: "me".into(),
            create_time: SystemTime::UNIX_EPOCH,
            update_time: SystemTime::UNIX_EPOCH,
            cloud,
            service_name: "s".into(),
            region: "us-west-2".into(),
            endpoint_id: None,
            az_ids: vec!["usw2-az1".into(), "usw2-az2".into()],
            attachment: None,
        }
    }

    #[test]
    fn domain_patterns() {
        let aws = connection(Cloud::Aws);
        assert_eq!(
            domain_names(DomainType::TidbcloudManaged, "abc", &aws, None),
            vec![
                "*.usw2-az1.abc.aws.plc.tidbcloud.com",
                "*.usw2-az2.abc.aws.plc.tidbcloud.com"
            ]
        );
        assert_eq!(
            domain_names(DomainType::Confluent, "lkc-1", &aws, None),
            vec![
                "*.usw2-az1.lkc-1.us-west-2.aws.confluent.cloud",
                "*.usw2-az2.lkc-1.us-west-2.aws.confluent.cloud"
            ]
        );
        let ali = connection(Cloud::Alicloud);
        assert_eq!(
            domain_names(DomainType::TidbcloudManaged, "abc", &ali, None),
            vec!["*.abc.alicloud.plc.tidbcloud.com"]
        );
    }

    #[test]
    fn principals_and_region_codes() {
        assert_eq!(Cloud::Aws.principal("1"), "arn:aws:iam::1:root");
        assert_eq!(Cloud::Alicloud.principal("2"), "acs:ram:*:2:*");
        let c = Cluster {
            id: "1".into(),
            display_name: "c".into(),
            cloud: Cloud::Alicloud,
            region_id: "alicloud-ap-southeast-1".into(),
            state: "ACTIVE".into(),
            account_id: "1".into(),
            az_ids: vec![],
            create_time: SystemTime::UNIX_EPOCH,
            update_time: SystemTime::UNIX_EPOCH,
        };
        assert_eq!(c.region_code(), "ap-southeast-1");
    }

    #[test]
    fn wildcard_principal() {
        let s = EndpointService {
            name: "n".into(),
            cloud: Cloud::Aws,
            region: "us-west-2".into(),
            az_ids: vec![],
            allowed_principals: vec!["*".into()],
            acceptance_required: false,
            domain_template: None,
        };
        assert!(s.allows("anyone"));
    }

    #[test]
    fn domain_templates() {
        let aws = connection(Cloud::Aws);
        let t =
            DomainTemplate::parse("*.{az_id}.{unique_name}.{region}.aws.tidbcloud.com").unwrap();
        assert_eq!(
            domain_names(DomainType::TidbcloudManaged, "abc", &aws, Some(&t)),
            vec![
                "*.usw2-az1.abc.us-west-2.aws.tidbcloud.com",
                "*.usw2-az2.abc.us-west-2.aws.tidbcloud.com"
            ]
        );
        // Confluent names are Confluent's, whatever the template.
        assert_eq!(
            domain_names(DomainType::Confluent, "lkc-1", &aws, Some(&t))[0],
            "*.usw2-az1.lkc-1.us-west-2.aws.confluent.cloud"
        );
        let single =
            DomainTemplate::parse("*.{unique_name}.{region}.alicloud.tidbcloud.com").unwrap();
        assert_eq!(
            single.render("abc", "ap-southeast-1", &["a".into(), "b".into()]),
            vec!["*.abc.ap-southeast-1.alicloud.tidbcloud.com"]
        );
        for bad in [
            "*.{az_id}.aws.tidbcloud.com",
            "{unique_name}.aws.tidbcloud.com",
            "*.{unique_name}.{zone}.aws.tidbcloud.com",
            "*.{unique_name}..tidbcloud.com",
            "*.{unique_name}.AWS.tidbcloud.com",
        ] {
            assert!(DomainTemplate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn domain_state_words() {
        use DomainState::*;
        let words = |v| [Creating, Succeeded, Deleting, Failed].map(|s| s.word(v));
        assert_eq!(
            words(DomainStates::Succeeded),
            ["CREATING", "SUCCEEDED", "DELETING", "FAILED"]
        );
        assert_eq!(
            words(DomainStates::Attached),
            ["ATTACHING", "ATTACHED", "DETACHING", "FAILED"]
        );
        assert_eq!(
            DomainStates::parse("attached"),
            Some(DomainStates::Attached)
        );
        assert_eq!(DomainStates::parse("ATTACHED"), None);
    }
}
