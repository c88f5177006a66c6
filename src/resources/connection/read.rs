//! Read: a refresh goes through the cluster's coalesced listing
//! ([`crate::services::ConnectionSnapshots`]).

use crate::api::PrivateLinkConnection as Connection;
use crate::framework::{Context, ReadOutcome, Value};
use crate::services::describe::{self, RegionRead, CONNECTION};
use crate::services::errors::api_error;
use crate::services::ProviderData;

/// The state for a connection the API returned, keeping what only this
/// provider knows (`wait_for_active`, `timeouts`) from `base`. A region in
/// `base` (the prior state) is kept unless the API reports a genuinely
/// different one.
pub(super) fn state_from(c: &Connection, base: &Value) -> Value {
    let prior = base.attr("aws_endpoint_service").str_attr("region");
    let region = prior.map_or(RegionRead::Reported, RegionRead::Refresh);
    state_reading(c, base, region)
}

/// The state after a create: the planned region stays, whatever the API
/// echoes (Terraform requires the applied value to be the planned one).
pub(super) fn created_state(c: &Connection, planned: &Value) -> Value {
    let region = planned.attr("aws_endpoint_service").str_attr("region");
    state_reading(
        c,
        planned,
        region.map_or(RegionRead::Reported, RegionRead::Planned),
    )
}

fn state_reading(c: &Connection, base: &Value, aws_region: RegionRead<'_>) -> Value {
    let mut fields = CONNECTION.read(c, &describe::Read { aws_region });
    let cluster_id = if c.cluster_id.is_empty() {
        base.str_attr("cluster_id").unwrap_or_default().to_string()
    } else {
        c.cluster_id.clone()
    };
    fields.insert("cluster_id".into(), Value::string(cluster_id.as_str()));
    fields.insert(
        "id".into(),
        Value::string(format!("{cluster_id},{}", c.private_link_connection_id)),
    );
    fields.insert(
        "wait_for_active".into(),
        base.attr("wait_for_active").clone(),
    );
    fields.insert("timeouts".into(), base.attr("timeouts").clone());
    Value::Object(fields)
}

pub(super) fn ids(state: &Value) -> Option<(String, String)> {
    let cluster = state.str_attr("cluster_id")?.to_string();
    let id = state
        .str_attr("private_link_connection_id")
        .map(str::to_string)
        .or_else(|| {
            state
                .str_attr("id")
                .and_then(|i| i.split_once(','))
                .map(|(_, b)| b.to_string())
        })?;
    Some((cluster, id))
}

pub(super) async fn read(ctx: &Context<ProviderData>, state: &Value) -> ReadOutcome {
    let mut out = ReadOutcome::default();
    let (data, client) = match ctx.data().and_then(|d| Ok((d, d.client()?))) {
        Ok(pair) => pair,
        Err(d) => {
            out.diags.push(d);
            return out;
        }
    };
    let Some((cluster_id, id)) = ids(state) else {
        out.diags.error(
            "Invalid state",
            "The state has no cluster_id or private_link_connection_id.",
        );
        return out;
    };
    match data.connections.find(client, &cluster_id, &id).await {
        Ok(None) => {
            log::info!("connection {id} no longer exists; removing it from the state");
        }
        // A FAILED connection is reported by the plan, which replaces it.
        Ok(Some(c)) => out.state = Some(state_from(&c, state)),
        Err(e) => out
            .diags
            .push(api_error("Could not read the private link connection", &e)),
    }
    out
}
