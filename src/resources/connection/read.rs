//! Read: a refresh goes through the cluster's coalesced listing
//! ([`crate::services::ConnectionSnapshots`]). An entry with an empty
//! connection id (`"<cluster>,"`: a create whose answer and look-up were
//! both lost, or a state saved by older versions) is looked up under the
//! rule of [`evidence`](super::evidence), with the create's time window
//! kept in the resource's private state.

use super::evidence::{self, Verdict, Window};
use crate::api::PrivateLinkConnection as Connection;
use crate::framework::{Context, Diagnostic, ReadOutcome, Value};
use crate::services::cloud;
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
    let (data, op) = match ctx.data().and_then(|d| Ok((d, d.op(&ctx.stop, None)?))) {
        Ok(pair) => pair,
        Err(d) => {
            out.diags.push(d);
            return out;
        }
    };
    let Ok(client) = data.client_within(&op) else {
        return out;
    };
    let client = &client;
    let Some((cluster_id, id)) = ids(state) else {
        out.diags.error(
            "Invalid state",
            "The state has no cluster_id or private_link_connection_id.",
        );
        return out;
    };
    if id.is_empty() {
        return read_without_id(ctx, data, client, &cluster_id, state).await;
    }
    match data.connections.find(client, &cluster_id, &id).await {
        Ok(None) => {
            log::info!("connection {id} no longer exists; removing it from the state");
        }
        // A FAILED connection is reported by the plan, which replaces it.
        Ok(Some(c)) => {
            data.ownership
                .hold(&cluster_id, &c.private_link_connection_id);
            out.state = Some(state_from(&c, state));
        }
        Err(e) => out
            .diags
            .push(api_error("Could not read the private link connection", &e)),
    }
    out
}

/// An entry without a connection id: the connection it stands for is the
/// one the rule of [`evidence`] picks with the window in the private state.
/// Exactly one is adopted with a warning; several, or too little evidence
/// (no window: a state saved by older versions or edited by hand), drop the
/// entry with a warning listing the candidates for import; none drops it
/// too (the next apply creates it). The workspace is never wedged.
async fn read_without_id(
    ctx: &Context<ProviderData>,
    data: &ProviderData,
    client: &crate::api::Client,
    cluster_id: &str,
    state: &Value,
) -> ReadOutcome {
    let mut out = ReadOutcome::default();
    let name = state.str_attr("display_name").unwrap_or_default();
    let service = cloud::of_blocks(state).and_then(|c| state.attr(c.block).str_attr("name"));
    let all = match client.list_private_link_connections(cluster_id, None).await {
        Ok(all) => all,
        Err(e) => {
            out.diags.push(api_error(
                "Could not look up the private link connection saved without an id",
                &e,
            ));
            return out;
        }
    };
    let window = Window::from_private(ctx.private());
    let own = data.ownership.own_creator();
    let key = evidence::Key {
        display_name: name,
        service,
        own_creator: own.as_deref(),
    };
    let verdict = evidence::judge(all, &key, &window.unwrap_or_default(), |id| {
        data.ownership.holds(cluster_id, id)
    });
    let service = service.unwrap_or_default();
    let found = match verdict {
        Verdict::One(c) => {
            let id = &c.private_link_connection_id;
            out.diags.push(Diagnostic::warning(
                format!("Adopted private link connection {id}"),
                format!(
                    "The state held a connection named {name:?} with an empty connection id (\"{cluster_id},\"), left by a create whose answer and look-up were lost. Connection {id} has that name and endpoint service ({service}), was created at {}, inside that create's time window ({}), and is held by no other resource of this provider process, so it is now in the state. Terraform marked the resource tainted when the create failed: run terraform untaint on it after this refresh, or the next apply replaces the connection.",
                    c.create_time.as_deref().unwrap_or("an unknown time"),
                    window.unwrap_or_default().describe()
                ),
            ));
            data.ownership.hold(cluster_id, id);
            ctx.set_private(Vec::new());
            out.state = Some(state_from(&c, state));
            return out;
        }
        Verdict::None => Vec::new(),
        Verdict::Several(found) | Verdict::TooLittle(found) => found,
    };
    let why = if window.is_some() {
        "several connections match it"
    } else {
        "the state keeps no record of when its create was sent, too little evidence to tell which connection it stands for"
    };
    out.diags.push(Diagnostic::warning(
        "Dropped an entry saved with an empty connection id",
        if found.is_empty() {
            format!("The state held a connection named {name:?} with an empty connection id (\"{cluster_id},\"). No connection of cluster {cluster_id} matches it, so it is removed from the state and the next apply creates it.")
        } else {
            format!(
                "The state held a connection named {name:?} to {service} with an empty connection id (\"{cluster_id},\"), and {why}, so none was adopted and the entry is removed from the state. Before applying (or the next apply creates another), import the one it stood for, if any:{}",
                evidence::candidate_list(cluster_id, &found)
            )
        },
    ));
    out
}
