//! The world and its rules: clusters, endpoint services, connections and
//! attachments, every operation the API and the control surface perform on
//! them, and the state machine.
//!
//! The world is plain data behind a lock and knows no runtime: it reads the
//! simulator's [`Clock`] for the times it reports, an operation that starts a
//! transitional state records a [`Timer`], and every state change records an
//! [`Event`]; the caller (`app`) takes both after the operation, publishes
//! the events and queues the timers, which come back as [`World::fire`].
//!
//! This file holds the types, reading, clusters, endpoint services,
//! transitions and events; `connections` and `domains` hold the operations on
//! those objects.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::clock::Clock;
use crate::error::ApiError;
use crate::jitter::Durations;
use crate::model::{
    Attachment, Cloud, Cluster, Connection, ConnectionState, DomainState, DomainType,
    EndpointService,
};
use crate::seed::{self, Seed};
use crate::wire::rfc3339;

mod connections;
mod domains;

/// A state change, published on `/_sim/events`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    /// `cluster`, `private_link_connection` or `attach_domain`.
    pub kind: &'static str,
    pub id: String,
    /// The new state; `DELETED` once the object is gone.
    pub state: String,
    pub cluster_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_link_connection_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub time: String,
    /// On entering a transitional state: how long it lasts (with any jitter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lasts_ms: Option<u64>,
}

/// A transition that happens once a transitional state has lasted its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// CREATING → ACTIVE, PENDING_ACCEPTANCE or FAILED.
    ConnectionCreated(String),
    /// DELETING → gone.
    ConnectionDeleted(String),
    /// Domains CREATING → SUCCEEDED.
    DomainsAttached {
        connection: String,
        attachment: String,
    },
    /// Domains DELETING → gone.
    DomainsDetached {
        connection: String,
        attachment: String,
    },
    /// Cluster DELETING → gone.
    ClusterDeleted(String),
}

/// A transition due after a delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub after: Duration,
    pub transition: Transition,
}

/// A validated create request (the checks that need no cluster are done).
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub display_name: String,
    pub cloud: Cloud,
    pub service_name: String,
    /// The region named by the service name.
    pub service_region: String,
    /// AWS only: the region the caller asked for.
    pub region: Option<String>,
}

/// A validated attach-domains request.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub kind: DomainType,
    /// Checked already; `None` only for a TIDBCLOUD_MANAGED dry run.
    pub unique_name: Option<String>,
    pub validate_only: bool,
}

/// The outcome of an attach-domains request.
#[derive(Debug, Clone)]
pub enum Attached {
    /// Domains attached (CREATING).
    Done(Connection),
    /// Dry run: the unique name (generated when none was given) and domains.
    Preview {
        connection: Connection,
        kind: DomainType,
        unique_name: String,
        domains: Vec<String>,
    },
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<Connection>,
    /// Sequence number of the last item when more follow.
    pub next_after: Option<u64>,
    pub total: u64,
}

/// Everything the simulator knows.
#[derive(Debug, Default)]
pub struct World {
    clusters: Vec<Cluster>,
    services: Vec<EndpointService>,
    connections: BTreeMap<u64, Connection>,
    index: HashMap<String, u64>,
    next_seq: u64,
    durations: Durations,
    clock: Clock,
    events: Vec<Event>,
    timers: Vec<Timer>,
}

impl World {
    /// A world from a seed, with `durations` for its transitional states and
    /// `clock` for the times it reports.
    pub fn from_seed(seed: Seed, durations: Durations, clock: Clock) -> Result<World, String> {
        let mut world = World {
            durations,
            clock,
            next_seq: 1,
            ..World::default()
        };
        let now = world.now();
        for c in seed.clusters {
            let cluster = c.build(now)?;
            if world.clusters.iter().any(|x| x.id == cluster.id) {
                return Err(format!("cluster {} is listed twice", cluster.id));
            }
            world.clusters.push(cluster);
        }
        for s in seed.endpoint_services {
            world.register_service(s.build()?);
        }
        Ok(world)
    }

    /// Now, by the simulator's clock.
    pub fn now(&self) -> SystemTime {
        self.clock.system_now()
    }

    /// Takes the events recorded since the last call.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Takes the timers recorded since the last call.
    pub fn take_timers(&mut self) -> Vec<Timer> {
        std::mem::take(&mut self.timers)
    }

    // ------------------------------------------------------------ reading

    /// Every cluster, in seed order.
    pub fn clusters(&self) -> &[Cluster] {
        &self.clusters
    }

    /// Every registered endpoint service.
    pub fn services(&self) -> &[EndpointService] {
        &self.services
    }

    /// A cluster by id, or NOT_FOUND.
    pub fn cluster(&self, id: &str) -> Result<&Cluster, ApiError> {
        self.clusters
            .iter()
            .find(|c| c.id == id)
            .ok_or_else(|| ApiError::not_found(format!("cluster {id} was not found")))
    }

    /// A cluster's connections in creation order.
    pub fn connections_of<'a>(
        &'a self,
        cluster_id: &'a str,
    ) -> impl Iterator<Item = &'a Connection> + 'a {
        self.connections
            .values()
            .filter(move |c| c.cluster_id == cluster_id)
    }

    /// A connection of a cluster, or NOT_FOUND (for the cluster or the connection).
    pub fn connection(&self, cluster_id: &str, id: &str) -> Result<&Connection, ApiError> {
        self.cluster(cluster_id)?;
        self.index
            .get(id)
            .and_then(|seq| self.connections.get(seq))
            .filter(|c| c.cluster_id == cluster_id)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "private link connection {id} was not found in cluster {cluster_id}"
                ))
            })
    }

    /// One page of a cluster's connections after sequence number `after`,
    /// optionally only those in `state`.
    pub fn list(
        &self,
        cluster_id: &str,
        state: Option<ConnectionState>,
        after: Option<u64>,
        page_size: usize,
    ) -> Result<Page, ApiError> {
        self.cluster(cluster_id)?;
        let matching = || {
            self.connections_of(cluster_id)
                .filter(move |c| state.is_none_or(|s| c.state == s))
        };
        let total = matching().count() as u64;
        let mut items: Vec<Connection> = matching()
            .filter(|c| after.is_none_or(|a| c.seq > a))
            .take(page_size + 1)
            .cloned()
            .collect();
        let more = items.len() > page_size;
        items.truncate(page_size);
        let next_after = if more {
            items.last().map(|c| c.seq)
        } else {
            None
        };
        Ok(Page {
            items,
            next_after,
            total,
        })
    }

    // ------------------------------------------------------------ clusters

    /// Deletes a cluster (DELETING, then gone); refused while it has connections.
    pub fn delete_cluster(&mut self, id: &str) -> Result<Cluster, ApiError> {
        self.cluster(id)?;
        let blocking: Vec<&str> = self.connections_of(id).map(|c| c.id.as_str()).collect();
        if !blocking.is_empty() {
            return Err(ApiError::precondition(format!(
                "cluster {id} still has private link connections ({}); delete them before deleting the cluster",
                blocking.join(", ")
            )));
        }
        let now = self.now();
        let cluster = self.cluster_mut(id)?;
        if cluster.state != "DELETING" {
            cluster.state = "DELETING".to_string();
            cluster.update_time = now;
            let snapshot = cluster.clone();
            self.cluster_event(&snapshot);
            self.start_transition(Transition::ClusterDeleted(id.to_string()));
        }
        Ok(self.cluster(id)?.clone())
    }

    /// Sets a cluster's state (control surface).
    pub fn set_cluster_state(&mut self, id: &str, state: &str) -> Result<Cluster, ApiError> {
        seed::check_cluster_state(state).map_err(ApiError::invalid)?;
        let now = self.now();
        let cluster = self.cluster_mut(id)?;
        if cluster.state != state {
            cluster.state = state.to_string();
            cluster.update_time = now;
            let snapshot = cluster.clone();
            self.cluster_event(&snapshot);
        }
        Ok(self.cluster(id)?.clone())
    }

    /// Adds a cluster (control surface).
    pub fn add_cluster(&mut self, cluster: Cluster) -> Result<Cluster, ApiError> {
        if self.clusters.iter().any(|c| c.id == cluster.id) {
            return Err(ApiError::exists(format!(
                "cluster {} already exists",
                cluster.id
            )));
        }
        self.cluster_event(&cluster);
        self.clusters.push(cluster.clone());
        Ok(cluster)
    }

    fn cluster_mut(&mut self, id: &str) -> Result<&mut Cluster, ApiError> {
        self.clusters
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| ApiError::not_found(format!("cluster {id} was not found")))
    }

    // ------------------------------------------------- endpoint services

    /// Registers (or replaces) an endpoint service.
    pub fn register_service(&mut self, service: EndpointService) {
        self.services.retain(|s| s.name != service.name);
        self.services.push(service);
    }

    /// Accepts every PENDING_ACCEPTANCE connection to a service; returns their ids.
    pub fn accept(&mut self, service_name: &str) -> Result<Vec<String>, ApiError> {
        if !self.services.iter().any(|s| s.name == service_name) {
            return Err(ApiError::not_found(format!(
                "endpoint service {service_name} is not registered"
            )));
        }
        let ids: Vec<String> = self
            .connections
            .values()
            .filter(|c| {
                c.service_name == service_name && c.state == ConnectionState::PendingAcceptance
            })
            .map(|c| c.id.clone())
            .collect();
        for id in &ids {
            self.set_connection_state(id, ConnectionState::Active, None);
        }
        Ok(ids)
    }

    // --------------------------------------------------------- transitions

    /// Starts the timer of the transitional state just entered, with the
    /// next drawn duration, which the state's event (the last one recorded)
    /// reports as `lasts_ms`.
    fn start_transition(&mut self, transition: Transition) {
        let after = self.durations.next();
        if let Some(event) = self.events.last_mut() {
            event.lasts_ms = Some(u64::try_from(after.as_millis()).unwrap_or(u64::MAX));
        }
        self.timers.push(Timer { after, transition });
    }

    /// Applies a transition whose delay has passed, if it still applies.
    pub fn fire(&mut self, transition: Transition) {
        match transition {
            Transition::ConnectionCreated(id) => self.resolve_creation(&id),
            Transition::ConnectionDeleted(id) => {
                let deleting = self
                    .connection_by_id(&id)
                    .is_ok_and(|c| c.state == ConnectionState::Deleting);
                if deleting {
                    let _ = self.remove_connection(&id);
                }
            }
            Transition::DomainsAttached {
                connection,
                attachment,
            } => {
                self.move_attachment(
                    &connection,
                    &attachment,
                    DomainState::Creating,
                    Some(DomainState::Succeeded),
                );
            }
            Transition::DomainsDetached {
                connection,
                attachment,
            } => {
                self.move_attachment(&connection, &attachment, DomainState::Deleting, None);
            }
            Transition::ClusterDeleted(id) => {
                if self.cluster(&id).is_ok_and(|c| c.state == "DELETING") {
                    let cluster = self
                        .clusters
                        .iter()
                        .position(|c| c.id == id)
                        .map(|i| self.clusters.remove(i));
                    if let Some(c) = cluster {
                        self.push_event("cluster", &c.id, "DELETED", &c.id, None, None);
                    }
                }
            }
        }
    }

    /// Moves an attachment from `from` to `to` (`None`: removes it).
    fn move_attachment(
        &mut self,
        conn_id: &str,
        attach_id: &str,
        from: DomainState,
        to: Option<DomainState>,
    ) {
        let current = self
            .connection_by_id(conn_id)
            .ok()
            .and_then(|c| c.attachment.clone())
            .filter(|a| a.id == attach_id && a.state() == from);
        let Some(mut attachment) = current else {
            return;
        };
        let next = to.map(|state| {
            attachment.set_state(state, None);
            attachment
        });
        let _ = self.store_attachment(conn_id, next);
    }

    // -------------------------------------------------------------- events

    fn cluster_event(&mut self, c: &Cluster) {
        self.push_event("cluster", &c.id, &c.state, &c.id, None, None);
    }

    fn connection_event(&mut self, c: &Connection) {
        self.push_event(
            "private_link_connection",
            &c.id,
            c.state.as_str(),
            &c.cluster_id,
            None,
            c.message.clone(),
        );
    }

    fn attachment_event(&mut self, conn: &Connection, a: &Attachment, state: &str) {
        let message = a.domains.first().and_then(|d| d.message.clone());
        self.push_event(
            "attach_domain",
            &a.id,
            state,
            &conn.cluster_id,
            Some(conn.id.clone()),
            message,
        );
    }

    fn push_event(
        &mut self,
        kind: &'static str,
        id: &str,
        state: &str,
        cluster_id: &str,
        connection: Option<String>,
        message: Option<String>,
    ) {
        self.events.push(Event {
            kind,
            id: id.to_string(),
            state: state.to_string(),
            cluster_id: cluster_id.to_string(),
            private_link_connection_id: connection,
            message,
            time: rfc3339(self.now()),
            lasts_ms: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;
    use crate::names;

    const AWS: &str = "1000000000000000001";
    const ALI: &str = "1000000000000000002";
    const PAUSED: &str = "1000000000000000003";
    const AUTO: &str = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef";
    const MANUAL: &str = "com.amazonaws.vpce.us-west-2.vpce-svc-0fedcba9876543210";
    const ALI_SVC: &str = "com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef";

    fn world() -> World {
        World::from_seed(
            seed::default_seed(),
            Durations::fixed(Duration::from_millis(10)),
            Clock::new(),
        )
        .unwrap()
    }

    fn aws(service: &str) -> NewConnection {
        NewConnection {
            display_name: "c".into(),
            cloud: Cloud::Aws,
            service_name: service.into(),
            service_region: names::service_region(Cloud::Aws, service).unwrap(),
            region: None,
        }
    }

    /// Creates a connection and runs its CREATING timer.
    fn created(w: &mut World, cluster: &str, req: NewConnection) -> Connection {
        let c = w.create_connection(cluster, req, "apikey-x").unwrap();
        assert_eq!(c.state, ConnectionState::Creating);
        for t in w.take_timers() {
            w.fire(t.transition);
        }
        w.connection(cluster, &c.id).unwrap().clone()
    }

    #[test]
    fn creation_outcomes() {
        let mut w = world();
        let active = created(&mut w, AWS, aws(AUTO));
        assert_eq!(active.state, ConnectionState::Active);
        assert_eq!(active.az_ids, vec!["usw2-az1", "usw2-az2", "usw2-az3"]);
        assert!(active
            .endpoint_id
            .as_deref()
            .is_some_and(|e| e.starts_with("vpce-")));

        let pending = created(&mut w, AWS, aws(MANUAL));
        assert_eq!(pending.state, ConnectionState::PendingAcceptance);
        assert_eq!(w.accept(MANUAL).unwrap(), vec![pending.id.clone()]);
        assert_eq!(
            w.connection(AWS, &pending.id).unwrap().state,
            ConnectionState::Active
        );

        let missing = created(
            &mut w,
            AWS,
            aws("com.amazonaws.vpce.us-west-2.vpce-svc-0aaaaaaaaaaaaaaaa"),
        );
        assert_eq!(missing.state, ConnectionState::Failed);
        assert!(missing.message.unwrap().contains("was not found"));
        assert!(missing.endpoint_id.is_none());

        w.register_service(EndpointService {
            name: "com.amazonaws.vpce.us-west-2.vpce-svc-0bbbbbbbbbbbbbbbb".into(),
            cloud: Cloud::Aws,
            region: "us-west-2".into(),
            az_ids: vec!["usw2-az4".into()],
            allowed_principals: vec!["arn:aws:iam::123456789012:root".into()],
            acceptance_required: false,
            domain_template: None,
        });
        let no_az = created(
            &mut w,
            AWS,
            aws("com.amazonaws.vpce.us-west-2.vpce-svc-0bbbbbbbbbbbbbbbb"),
        );
        assert!(no_az.message.unwrap().contains("no availability zone"));

        w.register_service(EndpointService {
            name: "com.amazonaws.vpce.us-west-2.vpce-svc-0cccccccccccccccc".into(),
            cloud: Cloud::Aws,
            region: "us-west-2".into(),
            az_ids: vec!["usw2-az1".into()],
            allowed_principals: vec!["arn:aws:iam::999:root".into()],
            acceptance_required: false,
            domain_template: None,
        });
        let denied = created(
            &mut w,
            AWS,
            aws("com.amazonaws.vpce.us-west-2.vpce-svc-0cccccccccccccccc"),
        );
        assert!(denied
            .message
            .unwrap()
            .contains("arn:aws:iam::123456789012:root"));
    }

    #[test]
    fn creation_rules() {
        let mut w = world();
        let err = w.create_connection(PAUSED, aws(AUTO), "x").unwrap_err();
        assert_eq!(err.code, Code::FailedPrecondition);
        assert!(err.message.contains("PAUSED"));
        let err = w.create_connection(ALI, aws(AUTO), "x").unwrap_err();
        assert_eq!(err.code, Code::InvalidArgument);
        let err = w.create_connection("nope", aws(AUTO), "x").unwrap_err();
        assert_eq!(err.code, Code::NotFound);
        let mut cross = aws(AUTO);
        cross.region = Some("us-east-1".into());
        assert_eq!(
            w.create_connection(AWS, cross, "x").unwrap_err().code,
            Code::InvalidArgument
        );
    }

    #[test]
    fn attach_once_and_delete_blocked() {
        let mut w = world();
        let c = created(&mut w, AWS, aws(AUTO));
        let req = |name: &str| NewAttachment {
            kind: DomainType::TidbcloudManaged,
            unique_name: Some(name.into()),
            validate_only: false,
        };
        let Attached::Done(conn) = w.attach_domains(AWS, &c.id, req("abc"), "x").unwrap() else {
            panic!("not attached")
        };
        let a = conn.attachment.unwrap();
        assert_eq!(a.domains.len(), 3);
        assert_eq!(a.state(), DomainState::Creating);
        let err = w.attach_domains(AWS, &c.id, req("def"), "x").unwrap_err();
        assert_eq!(err.code, Code::AlreadyExists);
        assert!(err.message.contains(&a.id));
        let err = w.delete_connection(AWS, &c.id).unwrap_err();
        assert_eq!(err.code, Code::FailedPrecondition);
        assert!(err.message.contains(&a.id));

        // A second connection cannot take the same managed name.
        let other = created(&mut w, AWS, aws(AUTO));
        assert_eq!(
            w.attach_domains(AWS, &other.id, req("abc"), "x")
                .unwrap_err()
                .code,
            Code::AlreadyExists
        );

        for t in w.take_timers() {
            w.fire(t.transition);
        }
        assert_eq!(
            w.connection(AWS, &c.id)
                .unwrap()
                .attachment
                .as_ref()
                .unwrap()
                .state(),
            DomainState::Succeeded
        );
        w.detach_domains(AWS, &c.id, &a.id).unwrap();
        for t in w.take_timers() {
            w.fire(t.transition);
        }
        assert!(w.connection(AWS, &c.id).unwrap().attachment.is_none());
        w.delete_connection(AWS, &c.id).unwrap();
        for t in w.take_timers() {
            w.fire(t.transition);
        }
        assert_eq!(w.connection(AWS, &c.id).unwrap_err().code, Code::NotFound);
    }

    #[test]
    fn cluster_delete_refused_with_connections() {
        let mut w = world();
        let c = created(&mut w, AWS, aws(AUTO));
        let err = w.delete_cluster(AWS).unwrap_err();
        assert_eq!(err.code, Code::FailedPrecondition);
        assert!(err.message.contains(&c.id));
        w.remove_connection(&c.id).unwrap();
        assert_eq!(w.delete_cluster(AWS).unwrap().state, "DELETING");
        for t in w.take_timers() {
            w.fire(t.transition);
        }
        assert_eq!(w.cluster(AWS).unwrap_err().code, Code::NotFound);
    }

    #[test]
    fn stale_timers_do_nothing() {
        let mut w = world();
        let c = w.create_connection(AWS, aws(AUTO), "x").unwrap();
        w.fail_connection(&c.id, "broken").unwrap();
        for t in w.take_timers() {
            w.fire(t.transition);
        }
        let c = w.connection(AWS, &c.id).unwrap();
        assert_eq!(c.state, ConnectionState::Failed);
        assert_eq!(c.message.as_deref(), Some("broken"));
    }

    #[test]
    fn pages_follow_creation_order() {
        let mut w = world();
        let ids: Vec<String> = (0..5)
            .map(|_| w.create_connection(AWS, aws(AUTO), "x").unwrap().id)
            .collect();
        let p1 = w.list(AWS, None, None, 2).unwrap();
        assert_eq!(p1.total, 5);
        assert_eq!(
            p1.items.iter().map(|c| &c.id).collect::<Vec<_>>(),
            vec![&ids[0], &ids[1]]
        );
        let p2 = w.list(AWS, None, p1.next_after, 2).unwrap();
        assert_eq!(p2.items[0].id, ids[2]);
        let p3 = w.list(AWS, None, p2.next_after, 2).unwrap();
        assert_eq!(p3.items.len(), 1);
        assert!(p3.next_after.is_none());
        let active = w
            .list(AWS, Some(ConnectionState::Active), None, 10)
            .unwrap();
        assert_eq!(active.total, 0);
    }

    #[test]
    fn alicloud_domains_and_confluent_refused() {
        let mut w = world();
        let req = NewConnection {
            display_name: "a".into(),
            cloud: Cloud::Alicloud,
            service_name: ALI_SVC.into(),
            service_region: "ap-southeast-1".into(),
            region: None,
        };
        let c = created(&mut w, ALI, req);
        assert_eq!(c.state, ConnectionState::Active);
        assert!(c
            .endpoint_id
            .as_deref()
            .is_some_and(|e| e.starts_with("ep-")));
        let confluent = NewAttachment {
            kind: DomainType::Confluent,
            unique_name: Some("x".into()),
            validate_only: true,
        };
        assert_eq!(
            w.attach_domains(ALI, &c.id, confluent, "x")
                .unwrap_err()
                .code,
            Code::InvalidArgument
        );
        let preview = NewAttachment {
            kind: DomainType::TidbcloudManaged,
            unique_name: None,
            validate_only: true,
        };
        let Attached::Preview {
            unique_name,
            domains,
            ..
        } = w.attach_domains(ALI, &c.id, preview, "x").unwrap()
        else {
            panic!("not a preview")
        };
        assert_eq!(
            domains,
            vec![format!("*.{unique_name}.alicloud.plc.tidbcloud.com")]
        );
        assert!(w.connection(ALI, &c.id).unwrap().attachment.is_none());
    }
}
