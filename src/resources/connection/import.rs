//! Import: `<cluster_id>,<private_link_connection_id>`, checked before any call.

use super::read::state_from;
use crate::framework::{ApplyOutcome, Context, Diagnostic, Value};
use crate::services::errors::api_error;
use crate::services::waits;
use crate::services::{validate, ProviderData};

pub(super) async fn import(ctx: &Context<ProviderData>, id: &str) -> ApplyOutcome {
    let parts = match validate::import_id(id, &["cluster_id", "private_link_connection_id"]) {
        Ok(p) => p,
        Err(message) => {
            return ApplyOutcome::failed(Diagnostic::error("Invalid import ID", message))
        }
    };
    let (_op, client) = match ctx.data().and_then(|d| {
        d.op(&ctx.stop, None)
            .and_then(|op| Ok((d.client_within(&op)?, op)))
    }) {
        Ok((client, op)) => (op, client),
        Err(d) => return ApplyOutcome::failed(d),
    };
    let client = &client;
    match waits::find_connection(client, parts[0], parts[1]).await {
        Ok(Some(c)) => {
            if let Ok(data) = ctx.data() {
                data.ownership.hold(parts[0], &c.private_link_connection_id);
            }
            let base = Value::object([("cluster_id", Value::string(parts[0]))]);
            ApplyOutcome::ok(state_from(&c, &base))
        }
        Ok(None) => ApplyOutcome::failed(Diagnostic::error(
            "Cannot import a connection that does not exist",
            format!(
                "Cluster {} has no private link connection {}.",
                parts[0], parts[1]
            ),
        )),
        Err(e) => ApplyOutcome::failed(api_error("Could not read the private link connection", &e)),
    }
}
