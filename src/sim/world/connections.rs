//! Connections: create (rules 1 and 2), the outcome of CREATING, delete
//! (rule 3), and the control surface's out-of-band changes.

use super::{NewConnection, Transition, World};
use crate::error::ApiError;
use crate::model::{Cloud, Connection, ConnectionState, DomainState};
use crate::names;

impl World {
    /// Creates a connection (CREATING); the outcome is decided when CREATING ends.
    pub fn create_connection(
        &mut self,
        cluster_id: &str,
        req: NewConnection,
        created_by: &str,
    ) -> Result<Connection, ApiError> {
        let cluster = self.cluster(cluster_id)?;
        if cluster.state != "ACTIVE" {
            return Err(ApiError::precondition(format!(
                "cluster {cluster_id} is {}; private link connections can only be created on an ACTIVE (running) cluster",
                cluster.state
            )));
        }
        if req.cloud != cluster.cloud {
            return Err(ApiError::invalid(format!(
                "cluster {cluster_id} runs on {}, so the connection type must be {} with {}; {} is not available there",
                cluster.cloud.label(),
                cluster.cloud.connection_type(),
                match cluster.cloud {
                    Cloud::Aws => "awsEndpointService",
                    Cloud::Alicloud => "alicloudEndpointService",
                },
                req.cloud.connection_type()
            )));
        }
        let region = match (&req.region, req.cloud) {
            (Some(r), Cloud::Aws) => r.clone(),
            _ => cluster.region_code().to_string(),
        };
        if req.service_region != region {
            let origin = if req.region.is_some() {
                "awsEndpointService.region"
            } else {
                "the cluster's region"
            };
            return Err(ApiError::invalid(format!(
                "endpoint service {} is in region {}, but the connection uses region {region} ({origin}); {}",
                req.service_name,
                req.service_region,
                match req.cloud {
                    Cloud::Aws => "set awsEndpointService.region to the service's region for a cross-region service",
                    Cloud::Alicloud => "an Alibaba Cloud endpoint service must be in the cluster's region",
                }
            )));
        }
        let now = self.now();
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut id = names::connection_id();
        while self.index.contains_key(&id) {
            id = names::connection_id();
        }
        let conn = Connection {
            seq,
            id: id.clone(),
            cluster_id: cluster_id.to_string(),
            display_name: req.display_name,
            state: ConnectionState::Creating,
            message: None,
            created_by: created_by.to_string(),
            create_time: now,
            update_time: now,
            cloud: req.cloud,
            service_name: req.service_name,
            region,
            endpoint_id: None,
            az_ids: Vec::new(),
            attachment: None,
        };
        self.index.insert(id.clone(), seq);
        self.connections.insert(seq, conn.clone());
        self.connection_event(&conn);
        self.start_transition(Transition::ConnectionCreated(id));
        Ok(conn)
    }

    /// Deletes a connection (DELETING, then gone); refused while domains are attached.
    pub fn delete_connection(
        &mut self,
        cluster_id: &str,
        id: &str,
    ) -> Result<Connection, ApiError> {
        let conn = self.connection(cluster_id, id)?;
        if let Some(a) = &conn.attachment {
            let detaching = if a.state() == DomainState::Deleting {
                " (being detached; retry once it is gone)"
            } else {
                ""
            };
            return Err(ApiError::precondition(format!(
                "private link connection {id} has attached domains: {}{detaching}; detach them (detachDomains with attachDomainId {}) before deleting the connection",
                a.id, a.id
            )));
        }
        if conn.state != ConnectionState::Deleting {
            self.set_connection_state(id, ConnectionState::Deleting, None);
            self.start_transition(Transition::ConnectionDeleted(id.to_string()));
        }
        Ok(self.connection(cluster_id, id)?.clone())
    }

    /// Moves a connection to FAILED with a message (control surface).
    pub fn fail_connection(&mut self, id: &str, message: &str) -> Result<Connection, ApiError> {
        let conn = self.connection_by_id(id)?;
        if conn.state == ConnectionState::Deleting {
            return Err(ApiError::precondition(format!(
                "private link connection {id} is being deleted"
            )));
        }
        self.set_connection_state(id, ConnectionState::Failed, Some(message.to_string()));
        Ok(self.connection_by_id(id)?.clone())
    }

    /// Removes a connection at once, bypassing every rule (control surface).
    pub fn remove_connection(&mut self, id: &str) -> Result<Connection, ApiError> {
        let seq = *self.index.get(id).ok_or_else(|| {
            ApiError::not_found(format!("private link connection {id} was not found"))
        })?;
        self.index.remove(id);
        let conn = self.connections.remove(&seq).ok_or_else(|| {
            ApiError::not_found(format!("private link connection {id} was not found"))
        })?;
        if let Some(a) = &conn.attachment {
            self.attachment_event(&conn, a, "DELETED");
        }
        self.push_event(
            "private_link_connection",
            &conn.id,
            "DELETED",
            &conn.cluster_id,
            None,
            None,
        );
        Ok(conn)
    }

    /// A connection by id alone, or NOT_FOUND.
    pub fn connection_by_id(&self, id: &str) -> Result<&Connection, ApiError> {
        self.index
            .get(id)
            .and_then(|seq| self.connections.get(seq))
            .ok_or_else(|| {
                ApiError::not_found(format!("private link connection {id} was not found"))
            })
    }

    pub(super) fn connection_mut(&mut self, id: &str) -> Option<&mut Connection> {
        let seq = self.index.get(id)?;
        self.connections.get_mut(seq)
    }

    pub(super) fn set_connection_state(
        &mut self,
        id: &str,
        state: ConnectionState,
        message: Option<String>,
    ) {
        let now = self.now();
        if let Some(conn) = self.connection_mut(id) {
            conn.state = state;
            conn.message = message;
            conn.update_time = now;
            let snapshot = conn.clone();
            self.connection_event(&snapshot);
        }
    }

    /// Decides how CREATING ends: the service must exist, allow the cluster's
    /// principal and share an AZ with the cluster.
    pub(super) fn resolve_creation(&mut self, id: &str) {
        let Ok(conn) = self.connection_by_id(id) else {
            return;
        };
        if conn.state != ConnectionState::Creating {
            return;
        }
        let Ok(cluster) = self.cluster(&conn.cluster_id) else {
            return;
        };
        let service = self
            .services
            .iter()
            .find(|s| s.name == conn.service_name && s.cloud == conn.cloud);
        let outcome = match service {
            None => Err(format!(
                "endpoint service {} was not found in {} region {}; check the service name and that the service exists",
                conn.service_name,
                conn.cloud.label(),
                conn.region
            )),
            Some(s) => {
                let principal = conn.cloud.principal(&cluster.account_id);
                // A cross-region endpoint lives in the cluster's zones.
                let common: Vec<String> = if s.region != cluster.region_code() {
                    cluster.az_ids.clone()
                } else {
                    cluster.az_ids.iter().filter(|az| s.az_ids.contains(az)).cloned().collect()
                };
                if !s.allows(&principal) {
                    Err(format!(
                        "endpoint service {} does not allow the principal {principal}; add it to the service's allowed principals and create the connection again",
                        s.name
                    ))
                } else if common.is_empty() {
                    Err(format!(
                        "endpoint service {} shares no availability zone with cluster {} (cluster: {}; service: {}); make the service available in at least one of the cluster's zones",
                        s.name,
                        cluster.id,
                        cluster.az_ids.join(", "),
                        s.az_ids.join(", ")
                    ))
                } else {
                    Ok((common, s.acceptance_required))
                }
            }
        };
        match outcome {
            Err(message) => self.set_connection_state(id, ConnectionState::Failed, Some(message)),
            Ok((azs, acceptance_required)) => {
                if let Some(conn) = self.connection_mut(id) {
                    conn.az_ids = azs;
                    conn.endpoint_id = Some(names::endpoint_id(conn.cloud));
                }
                let state = if acceptance_required {
                    ConnectionState::PendingAcceptance
                } else {
                    ConnectionState::Active
                };
                self.set_connection_state(id, state, None);
            }
        }
    }
}
