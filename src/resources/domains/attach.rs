//! Attach-and-reconcile, one of the two deliberate exceptions to "resources
//! never retry" (ARCHITECTURE.md, Rules): the transport never retries an
//! attach, because a lost answer may hide an attachment that was made. Here
//! the connection's attachments are looked up before anyone sends again, and
//! an attachment with the requested unique name is adopted. (A detach whose
//! answer was lost needs no reconciling: delete goes on to wait for the
//! attachment to go, which tells whether it happened.)

use crate::api::AttachDomain;
use crate::framework::{Diagnostic, StopSignal};
use crate::services::errors::api_error;
use crate::services::waits;
use crate::services::watcher::{stopped_before_sending, Watchers};

/// Attaches, reconciling a lost answer against the connection's attachments.
pub(super) async fn attach(
    watch: &Watchers,
    stop: &StopSignal,
    cluster_id: &str,
    connection_id: &str,
    request: &AttachDomain,
) -> Result<AttachDomain, Diagnostic> {
    let client = watch.client();
    let sent = watch.mutate(
        stop,
        client.attach_domains(cluster_id, connection_id, request, false),
    );
    match sent.await {
        Ok(a) => Ok(a),
        Err(e) if stopped_before_sending(stop, &e) => Err(Diagnostic::error(
            "Interrupted before attaching the domains",
            "The attach request was still waiting for the API rate limit budget and was not sent: nothing was attached.",
        )),
        Err(e) if e.is_already_exists() => {
            // No read before the attach: the API refuses a second attachment,
            // and only then is the connection read to name the one it has.
            match waits::find_connection(client, cluster_id, connection_id).await {
                Ok(Some(c)) => match super::already_attached(&c) {
                    Some(d) => Err(d),
                    None => Err(api_error("Could not attach the domains", &e)),
                },
                _ => Err(api_error("Could not attach the domains", &e)),
            }
        }
        Err(e) if e.outcome_unknown() => {
            // The attach may have happened: look before anything is sent again.
            match waits::find_connection(client, cluster_id, connection_id).await {
                Ok(Some(c)) => c
                    .attached_domains
                    .iter()
                    .find(|a| a.unique_name == request.unique_name)
                    .cloned()
                    .ok_or_else(|| api_error("Could not attach the domains", &e)),
                _ => Err(Diagnostic::error(
                    "Outcome of the attach is unknown",
                    format!("{e}. Looking the attachment up failed too; check the connection's domains in the console and import the attachment if it exists."),
                )),
            }
        }
        Err(e) => Err(api_error("Could not attach the domains", &e)),
    }
}
