//! Attached domains: attach once per connection (rules 5 and 6) or preview
//! them, detach, and the control surface's out-of-band changes.

use super::{Attached, NewAttachment, Transition, World};
use crate::error::ApiError;
use crate::model::{
    domain_names, Attachment, Cloud, Connection, ConnectionState, Domain, DomainState, DomainType,
};
use crate::names;

impl World {
    /// Attaches domains to a connection, or previews them (`validate_only`).
    pub fn attach_domains(
        &mut self,
        cluster_id: &str,
        id: &str,
        req: NewAttachment,
        created_by: &str,
    ) -> Result<Attached, ApiError> {
        let conn = self.connection(cluster_id, id)?;
        if req.kind == DomainType::Confluent && conn.cloud != Cloud::Aws {
            return Err(ApiError::invalid(
                "CONFLUENT domains are only available on AWS endpoint service connections; use TIDBCLOUD_MANAGED on Alibaba Cloud",
            ));
        }
        if req.validate_only {
            if !matches!(
                conn.state,
                ConnectionState::Active | ConnectionState::PendingAcceptance
            ) {
                return Err(ApiError::precondition(format!(
                    "private link connection {id} is {}; its availability zones, and so its domains, are known once it is ACTIVE or PENDING_ACCEPTANCE",
                    conn.state.as_str()
                )));
            }
        } else {
            if conn.state != ConnectionState::Active {
                return Err(ApiError::precondition(format!(
                    "private link connection {id} is {}; domains can only be attached to an ACTIVE connection",
                    conn.state.as_str()
                )));
            }
            if let Some(a) = &conn.attachment {
                return Err(ApiError::exists(format!(
                    "private link connection {id} already has domains attached (attachDomainId {}); domains are attached once per connection, detach them first to attach others",
                    a.id
                )));
            }
        }
        let unique_name = match &req.unique_name {
            Some(name) => {
                if let Some(holder) = self.unique_name_holder(req.kind, name, conn) {
                    return Err(ApiError::exists(format!(
                        "unique name {name} is already used by {} domains on private link connection {holder}; choose another",
                        req.kind.as_str()
                    )));
                }
                name.clone()
            }
            None => loop {
                let candidate = names::unique_name();
                if self
                    .unique_name_holder(req.kind, &candidate, conn)
                    .is_none()
                {
                    break candidate;
                }
            },
        };
        let template = self
            .services
            .iter()
            .find(|s| s.name == conn.service_name && s.cloud == conn.cloud)
            .and_then(|s| s.domain_template.as_ref());
        let domains = domain_names(req.kind, &unique_name, conn, template);
        if req.validate_only {
            return Ok(Attached::Preview {
                connection: conn.clone(),
                kind: req.kind,
                unique_name,
                domains,
            });
        }
        let attachment = Attachment {
            id: names::attach_domain_id(),
            kind: req.kind,
            unique_name,
            domains: domains
                .into_iter()
                .map(|name| Domain {
                    name,
                    state: DomainState::Creating,
                    message: None,
                })
                .collect(),
            created_by: created_by.to_string(),
            create_time: self.now(),
        };
        let transition = Transition::DomainsAttached {
            connection: id.to_string(),
            attachment: attachment.id.clone(),
        };
        let conn = self.store_attachment(id, Some(attachment))?;
        self.start_transition(transition);
        Ok(Attached::Done(conn))
    }

    /// The connection that holds `name` for domains of `kind`, other than
    /// `conn`. TIDBCLOUD_MANAGED names live in TiDB Cloud's DNS and are unique
    /// everywhere; CONFLUENT names are unique within a cluster.
    fn unique_name_holder(
        &self,
        kind: DomainType,
        name: &str,
        conn: &Connection,
    ) -> Option<String> {
        self.connections
            .values()
            .filter(|c| c.id != conn.id)
            .filter(|c| kind == DomainType::TidbcloudManaged || c.cluster_id == conn.cluster_id)
            .find(|c| {
                c.attachment
                    .as_ref()
                    .is_some_and(|a| a.kind == kind && a.unique_name == name)
            })
            .map(|c| c.id.clone())
    }

    /// Detaches an attachment (domains DELETING, then gone).
    pub fn detach_domains(
        &mut self,
        cluster_id: &str,
        id: &str,
        attach_domain_id: &str,
    ) -> Result<(Attachment, Connection), ApiError> {
        let conn = self.connection(cluster_id, id)?;
        let mut attachment = conn
            .attachment
            .clone()
            .filter(|a| a.id == attach_domain_id)
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "attached domains {attach_domain_id} were not found on private link connection {id}"
                ))
            })?;
        if attachment.state() != DomainState::Deleting {
            attachment.set_state(DomainState::Deleting, None);
            self.store_attachment(id, Some(attachment.clone()))?;
            self.start_transition(Transition::DomainsDetached {
                connection: id.to_string(),
                attachment: attachment.id.clone(),
            });
        }
        Ok((attachment, self.connection(cluster_id, id)?.clone()))
    }

    /// Removes a connection's attachment at once (control surface).
    pub fn remove_domains(&mut self, id: &str) -> Result<Attachment, ApiError> {
        let conn = self.connection_by_id(id)?;
        let attachment = conn.attachment.clone().ok_or_else(|| {
            ApiError::not_found(format!(
                "private link connection {id} has no attached domains"
            ))
        })?;
        self.store_attachment(id, None)?;
        Ok(attachment)
    }

    /// Moves a connection's domains to FAILED with a message (control surface).
    pub fn fail_domains(&mut self, id: &str, message: &str) -> Result<Attachment, ApiError> {
        let conn = self.connection_by_id(id)?;
        let mut attachment = conn.attachment.clone().ok_or_else(|| {
            ApiError::not_found(format!(
                "private link connection {id} has no attached domains"
            ))
        })?;
        attachment.set_state(DomainState::Failed, Some(message));
        self.store_attachment(id, Some(attachment.clone()))?;
        Ok(attachment)
    }

    /// Replaces a connection's attachment and records the event.
    pub(super) fn store_attachment(
        &mut self,
        id: &str,
        attachment: Option<Attachment>,
    ) -> Result<Connection, ApiError> {
        let conn = self.connection_mut(id).ok_or_else(|| {
            ApiError::not_found(format!("private link connection {id} was not found"))
        })?;
        let old = std::mem::replace(&mut conn.attachment, attachment);
        let conn = conn.clone();
        match (&conn.attachment, old) {
            (Some(a), _) => self.attachment_event(&conn, a, a.state().as_str()),
            (None, Some(old)) => self.attachment_event(&conn, &old, "DELETED"),
            (None, None) => {}
        }
        Ok(conn)
    }
}
