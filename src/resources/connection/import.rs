//! Import: `<cluster_id>,<private_link_connection_id>`, checked before any call.

use super::read::state_from;
use crate::framework::{ApplyOutcome, Context, Value};
use crate::services::errors::import_error;
use crate::services::{import, validate, ProviderData};

pub(super) async fn import(ctx: &Context<ProviderData>, id: &str) -> ApplyOutcome {
    let parts = match validate::import_id(id, &["cluster_id", "private_link_connection_id"]) {
        Ok(p) => p,
        Err(message) => {
            return ApplyOutcome::failed(import_error("Invalid import ID", &message, None, false))
        }
    };
    let (data, op) = match ctx.data().and_then(|d| Ok((d, d.op(&ctx.stop, None)?))) {
        Ok(pair) => pair,
        Err(d) => return ApplyOutcome::failed(d),
    };
    let Ok(client) = data.client_within(&op) else {
        return ApplyOutcome::failed(crate::framework::Diagnostic::error(
            "Provider not configured",
            "The provider has no API client.",
        ));
    };
    match import::connection(data, &client, parts[0], parts[1], false).await {
        Ok(c) => {
            data.ownership.hold(parts[0], &c.private_link_connection_id);
            let base = Value::object([("cluster_id", Value::string(parts[0]))]);
            ApplyOutcome::ok(state_from(&c, &base))
        }
        Err(d) => ApplyOutcome::failed(d),
    }
}
