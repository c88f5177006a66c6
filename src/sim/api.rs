//! The API under `/v1beta1`: resolving a method and path to an operation
//! (custom verbs such as `:attachDomains` are split off the last segment),
//! checking request bodies, and answering with the swagger's shapes.

use std::sync::Arc;

use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::app::App;
use crate::error::{parse_json, ApiError, Code};
use crate::model::{Cloud, ConnectionState, DomainType};
use crate::names;
use crate::wire::{
    AttachBody, AttachDomainJson, AvailabilityZonesJson, ClusterJson, ConnectionJson, CreateBody,
    DetachBody, ListJson,
};
use crate::world::{Attached, NewAttachment, NewConnection};

/// Page size when none is given.
pub const DEFAULT_PAGE_SIZE: usize = 10;
/// Largest page; larger requests are clamped to it.
pub const MAX_PAGE_SIZE: usize = 100;

/// An API operation with its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    GetCluster(String),
    DeleteCluster(String),
    ListConnections(String),
    CreateConnection(String),
    GetAvailabilityZones(String),
    GetConnection(String, String),
    DeleteConnection(String, String),
    AttachDomains(String, String),
    DetachDomains(String, String),
}

impl Route {
    /// Whether the operation only reads (allowed to read-only keys).
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Route::GetCluster(_)
                | Route::ListConnections(_)
                | Route::GetAvailabilityZones(_)
                | Route::GetConnection(..)
        )
    }

    /// `METHOD /path/template`, for stats and logs.
    pub fn template(&self) -> &'static str {
        match self {
            Route::GetCluster(_) => "GET /v1beta1/clusters/{clusterId}",
            Route::DeleteCluster(_) => "DELETE /v1beta1/clusters/{clusterId}",
            Route::ListConnections(_) => "GET /v1beta1/clusters/{clusterId}/privateLinkConnections",
            Route::CreateConnection(_) => "POST /v1beta1/clusters/{clusterId}/privateLinkConnections",
            Route::GetAvailabilityZones(_) => {
                "GET /v1beta1/clusters/{clusterId}/privateLinkConnections:getAvailabilityZones"
            }
            Route::GetConnection(..) => {
                "GET /v1beta1/clusters/{clusterId}/privateLinkConnections/{privateLinkConnectionId}"
            }
            Route::DeleteConnection(..) => {
                "DELETE /v1beta1/clusters/{clusterId}/privateLinkConnections/{privateLinkConnectionId}"
            }
            Route::AttachDomains(..) => {
                "POST /v1beta1/clusters/{clusterId}/privateLinkConnections/{privateLinkConnectionId}:attachDomains"
            }
            Route::DetachDomains(..) => {
                "POST /v1beta1/clusters/{clusterId}/privateLinkConnections/{privateLinkConnectionId}:detachDomains"
            }
        }
    }
}

/// Resolves a request to an operation: NOT_FOUND for an unknown path,
/// UNIMPLEMENTED (HTTP 501, as grpc-gateway answers) for a known path with
/// another method.
pub fn resolve(method: &Method, path: &str) -> Result<Route, ApiError> {
    let not_found = || ApiError::not_found(format!("no API operation at {path}"));
    let rest = path.strip_prefix("/v1beta1/").ok_or_else(not_found)?;
    let segments: Vec<String> = rest.split('/').map(percent_decode).collect();
    if segments.iter().any(String::is_empty) {
        return Err(not_found());
    }
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let wrong_method = |allowed: &str| {
        ApiError::new(
            Code::Unimplemented,
            format!("{method} is not allowed on {path}; use {allowed}"),
        )
    };
    let m = method.as_str();
    match seg.as_slice() {
        ["clusters", cluster] => {
            let c = cluster.to_string();
            match m {
                "GET" => Ok(Route::GetCluster(c)),
                "DELETE" => Ok(Route::DeleteCluster(c)),
                _ => Err(wrong_method("GET or DELETE")),
            }
        }
        ["clusters", cluster, collection] => {
            let c = cluster.to_string();
            match (collection.split_once(':'), m) {
                (None, "GET") if *collection == "privateLinkConnections" => {
                    Ok(Route::ListConnections(c))
                }
                (None, "POST") if *collection == "privateLinkConnections" => {
                    Ok(Route::CreateConnection(c))
                }
                (None, _) if *collection == "privateLinkConnections" => {
                    Err(wrong_method("GET or POST"))
                }
                (Some(("privateLinkConnections", "getAvailabilityZones")), "GET") => {
                    Ok(Route::GetAvailabilityZones(c))
                }
                (Some(("privateLinkConnections", "getAvailabilityZones")), _) => {
                    Err(wrong_method("GET"))
                }
                _ => Err(not_found()),
            }
        }
        ["clusters", cluster, "privateLinkConnections", last] => {
            let c = cluster.to_string();
            match last.split_once(':') {
                None => match m {
                    "GET" => Ok(Route::GetConnection(c, last.to_string())),
                    "DELETE" => Ok(Route::DeleteConnection(c, last.to_string())),
                    _ => Err(wrong_method("GET or DELETE")),
                },
                Some((id, verb)) if !id.is_empty() => {
                    let id = id.to_string();
                    match (verb, m) {
                        ("attachDomains", "POST") => Ok(Route::AttachDomains(c, id)),
                        ("detachDomains", "POST") => Ok(Route::DetachDomains(c, id)),
                        ("attachDomains" | "detachDomains", _) => Err(wrong_method("POST")),
                        _ => Err(not_found()),
                    }
                }
                Some(_) => Err(not_found()),
            }
        }
        _ => Err(not_found()),
    }
}

/// Decodes `%XX` escapes in a path segment (invalid escapes stay as they
/// are; bytes that are not UTF-8 become U+FFFD).
fn percent_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

/// Performs an operation for the holder of API key `key`.
pub fn handle(
    app: &Arc<App>,
    route: Route,
    uri: &Uri,
    body: &[u8],
    key: &str,
) -> Result<Response, ApiError> {
    let created_by = format!("apikey-{key}");
    match route {
        Route::GetCluster(cluster) => {
            let query = Query::parse(uri)?;
            if let Some(view) = query.single(&["view"])? {
                if view != "BASIC" && view != "FULL" {
                    return Err(ApiError::invalid(format!(
                        "query parameter view: {view:?} is not a valid value; use BASIC or FULL"
                    )));
                }
            }
            let c = app.with_world(|w| w.cluster(&cluster).cloned())?;
            ok(ClusterJson::from(&c))
        }
        Route::DeleteCluster(cluster) => {
            let c = app.with_world(|w| w.delete_cluster(&cluster))?;
            ok(ClusterJson::from(&c))
        }
        Route::GetAvailabilityZones(cluster) => {
            let c = app.with_world(|w| w.cluster(&cluster).cloned())?;
            ok(AvailabilityZonesJson {
                account_id: c.account_id,
                az_ids: c.az_ids,
            })
        }
        Route::ListConnections(cluster) => {
            let params = list_params(uri)?;
            let after = match &params.token {
                Some(token) => Some(app.page_tokens.open(token, &cluster, params.state)?),
                None => None,
            };
            let page =
                app.with_world(|w| w.list(&cluster, params.state, after, params.page_size))?;
            ok(ListJson {
                private_link_connections: page
                    .items
                    .iter()
                    .map(|c| ConnectionJson::new(c, false))
                    .collect(),
                next_page_token: page
                    .next_after
                    .map(|after| app.page_tokens.issue(&cluster, params.state, after))
                    .unwrap_or_default(),
                total_size: page.total,
            })
        }
        Route::CreateConnection(cluster) => {
            let req = new_connection(&cluster, parse_json(body)?)?;
            let c = app.with_world(|w| w.create_connection(&cluster, req, &created_by))?;
            ok(ConnectionJson::new(&c, true))
        }
        Route::GetConnection(cluster, id) => {
            let c = app.with_world(|w| w.connection(&cluster, &id).cloned())?;
            ok(ConnectionJson::new(&c, true))
        }
        Route::DeleteConnection(cluster, id) => {
            let c = app.with_world(|w| w.delete_connection(&cluster, &id))?;
            ok(ConnectionJson::new(&c, true))
        }
        Route::AttachDomains(cluster, id) => {
            let req = new_attachment(parse_json(body)?)?;
            if req.validate_only {
                app.stats.update(|s| s.attach_dry_runs += 1);
            }
            let answer = match app
                .with_world(|w| w.attach_domains(&cluster, &id, req, &created_by))?
            {
                Attached::Done(conn) => match &conn.attachment {
                    Some(a) => AttachDomainJson::new(a, &conn),
                    None => return Err(ApiError::new(Code::Internal, "the attachment vanished")),
                },
                Attached::Preview {
                    connection,
                    kind,
                    unique_name,
                    domains,
                } => AttachDomainJson::preview(kind, unique_name, domains, &connection),
            };
            ok(answer)
        }
        Route::DetachDomains(cluster, id) => {
            let body: DetachBody = parse_json(body)?;
            let attach_id = body
                .attach_domain_id
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    ApiError::invalid(
                        "attachDomainId is required: the id of the attached domains to detach",
                    )
                })?;
            let (a, conn) = app.with_world(|w| w.detach_domains(&cluster, &id, &attach_id))?;
            ok(AttachDomainJson::new(&a, &conn))
        }
    }
}

/// A 200 answer with a JSON body.
fn ok<T: serde::Serialize>(body: T) -> Result<Response, ApiError> {
    Ok(Json(body).into_response())
}

/// A query string, read as grpc-gateway reads one into a request message:
/// a field may be named by its JSON name (`pageSize`) or its proto name
/// (`page_size`); parameters that name no field are ignored; a field that is
/// not repeated takes one value.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(uri: &Uri) -> Result<Query, ApiError> {
        axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
            .map(|q| Query(q.0))
            .map_err(|e| ApiError::invalid(format!("the query string is not valid: {e}")))
    }

    /// The value of the field spelled `names` (the JSON name first); `None`
    /// when absent or empty; 400 when given more than once.
    fn single(&self, names: &[&str]) -> Result<Option<&str>, ApiError> {
        let values: Vec<&str> = self
            .0
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(_, v)| v.as_str())
            .collect();
        match values.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one).filter(|v| !v.is_empty())),
            many => Err(ApiError::invalid(format!(
                "too many values for query parameter {}: {}; it takes one value",
                names[0],
                many.join(", ")
            ))),
        }
    }
}

/// Checked list parameters.
struct ListParams {
    page_size: usize,
    /// Checked against the cluster and `state` by [`crate::pagetoken`].
    token: Option<String>,
    state: Option<ConnectionState>,
}

fn list_params(uri: &Uri) -> Result<ListParams, ApiError> {
    let q = Query::parse(uri)?;
    let page_size = match q.single(&["pageSize", "page_size"])? {
        None => DEFAULT_PAGE_SIZE,
        Some(s) => {
            // An int32 in the swagger.
            let n: i32 = s.parse().map_err(|_| {
                ApiError::invalid(format!(
                    "query parameter pageSize: {s:?} is not a valid value; use a whole number up to {MAX_PAGE_SIZE}"
                ))
            })?;
            if n < 0 {
                return Err(ApiError::invalid("pageSize must not be negative"));
            }
            match n as usize {
                0 => DEFAULT_PAGE_SIZE,
                n => n.min(MAX_PAGE_SIZE),
            }
        }
    };
    let token = q.single(&["pageToken", "page_token"])?.map(str::to_string);
    let state = match q.single(&["state"])? {
        None => None,
        Some(s) => Some(ConnectionState::parse(s).ok_or_else(|| {
            ApiError::invalid(format!(
                "query parameter state: {s:?} is not a valid value; use one of {}",
                ConnectionState::ALL.map(|s| s.as_str()).join(", ")
            ))
        })?),
    };
    Ok(ListParams {
        page_size,
        token,
        state,
    })
}

/// Checks a create body (everything that needs no cluster).
fn new_connection(cluster_id: &str, body: CreateBody) -> Result<NewConnection, ApiError> {
    let input = body
        .private_link_connection
        .ok_or_else(|| ApiError::invalid("privateLinkConnection is required"))?;
    if let Some(id) = input.cluster_id.filter(|s| !s.is_empty()) {
        if id != cluster_id {
            return Err(ApiError::invalid(format!(
                "privateLinkConnection.clusterId {id} does not match cluster {cluster_id} in the path"
            )));
        }
    }
    let display_name = input
        .display_name
        .ok_or_else(|| ApiError::invalid("displayName is required"))?;
    names::check_display_name(&display_name).map_err(ApiError::invalid)?;
    let kind = input.kind.filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::invalid("type is required: AWS_ENDPOINT_SERVICE or ALICLOUD_ENDPOINT_SERVICE")
    })?;
    let cloud = Cloud::from_connection_type(&kind).ok_or_else(|| {
        ApiError::invalid(format!(
            "type {kind:?} is not valid; use AWS_ENDPOINT_SERVICE or ALICLOUD_ENDPOINT_SERVICE"
        ))
    })?;
    let (name, region, field) = match (cloud, input.aws_endpoint_service, input.alicloud_endpoint_service) {
        (_, Some(_), Some(_)) | (_, None, None) => {
            return Err(ApiError::invalid(format!(
                "set exactly one of awsEndpointService and alicloudEndpointService ({} for type {kind})",
                match cloud {
                    Cloud::Aws => "awsEndpointService",
                    Cloud::Alicloud => "alicloudEndpointService",
                }
            )))
        }
        (Cloud::Aws, Some(s), None) => (s.name, s.region.filter(|r| !r.is_empty()), "awsEndpointService"),
        (Cloud::Alicloud, None, Some(s)) => (s.name, None, "alicloudEndpointService"),
        (Cloud::Aws, None, Some(_)) => {
            return Err(ApiError::invalid(
                "type AWS_ENDPOINT_SERVICE takes awsEndpointService, not alicloudEndpointService",
            ))
        }
        (Cloud::Alicloud, Some(_), None) => {
            return Err(ApiError::invalid(
                "type ALICLOUD_ENDPOINT_SERVICE takes alicloudEndpointService, not awsEndpointService",
            ))
        }
    };
    let name = name
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::invalid(format!("{field}.name is required")))?;
    let service_region = names::service_region(cloud, &name)
        .map_err(|e| ApiError::invalid(format!("{field}.name: {e}")))?;
    if let Some(r) = &region {
        if !names::is_region_code(Cloud::Aws, r) {
            return Err(ApiError::invalid(format!(
                "awsEndpointService.region {r:?} is not an AWS region code such as us-west-2"
            )));
        }
    }
    Ok(NewConnection {
        display_name,
        cloud,
        service_name: name,
        service_region,
        region,
    })
}

/// Checks an attach body (everything that needs no connection).
fn new_attachment(body: AttachBody) -> Result<NewAttachment, ApiError> {
    let input = body
        .attach_domain
        .ok_or_else(|| ApiError::invalid("attachDomain is required"))?;
    let validate_only = body.validate_only.unwrap_or(false);
    let kind = input.kind.filter(|s| !s.is_empty()).ok_or_else(|| {
        ApiError::invalid("attachDomain.type is required: TIDBCLOUD_MANAGED or CONFLUENT")
    })?;
    let kind = DomainType::parse(&kind).ok_or_else(|| {
        ApiError::invalid(format!(
            "attachDomain.type {kind:?} is not valid; use TIDBCLOUD_MANAGED or CONFLUENT"
        ))
    })?;
    let unique_name = input.unique_name.filter(|s| !s.is_empty());
    match (&unique_name, kind) {
        (Some(name), _) => names::check_unique_name(name).map_err(ApiError::invalid)?,
        (None, DomainType::Confluent) => {
            return Err(ApiError::invalid(
                "attachDomain.uniqueName is required for CONFLUENT domains (the unique name of your Confluent network's domain)",
            ))
        }
        (None, DomainType::TidbcloudManaged) if !validate_only => {
            return Err(ApiError::invalid(
                "attachDomain.uniqueName is required to attach domains; call attachDomains with validateOnly=true to get a generated one",
            ))
        }
        (None, DomainType::TidbcloudManaged) => {}
    }
    Ok(NewAttachment {
        kind,
        unique_name,
        validate_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "/v1beta1/clusters/1/privateLinkConnections";

    #[test]
    fn routes_with_custom_verbs() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(
            resolve(&get, "/v1beta1/clusters/1"),
            Ok(Route::GetCluster("1".into()))
        );
        assert_eq!(resolve(&get, C), Ok(Route::ListConnections("1".into())));
        assert_eq!(resolve(&post, C), Ok(Route::CreateConnection("1".into())));
        assert_eq!(
            resolve(&get, &format!("{C}:getAvailabilityZones")),
            Ok(Route::GetAvailabilityZones("1".into()))
        );
        assert_eq!(
            resolve(&get, &format!("{C}/plc-a")),
            Ok(Route::GetConnection("1".into(), "plc-a".into()))
        );
        assert_eq!(
            resolve(&post, &format!("{C}/plc-a:attachDomains")),
            Ok(Route::AttachDomains("1".into(), "plc-a".into()))
        );
        assert_eq!(
            resolve(&post, &format!("{C}/plc-a%3AdetachDomains")),
            Ok(Route::DetachDomains("1".into(), "plc-a".into()))
        );
        assert_eq!(
            resolve(&get, &format!("{C}/plc-a:attachDomains"))
                .unwrap_err()
                .code,
            Code::Unimplemented
        );
        assert_eq!(
            resolve(&post, &format!("{C}/plc-a:bogus"))
                .unwrap_err()
                .code,
            Code::NotFound
        );
        assert_eq!(
            resolve(&get, &format!("{C}:bogus")).unwrap_err().code,
            Code::NotFound
        );
        assert_eq!(
            resolve(&get, "/v1beta1/clusters//privateLinkConnections")
                .unwrap_err()
                .code,
            Code::NotFound
        );
        assert_eq!(
            resolve(&Method::PUT, "/v1beta1/clusters/1")
                .unwrap_err()
                .code,
            Code::Unimplemented
        );
    }

    #[test]
    fn path_segments_are_percent_decoded() {
        assert_eq!(
            percent_decode("plc-a%3AattachDomains"),
            "plc-a:attachDomains"
        );
        assert_eq!(percent_decode("a%3a"), "a:");
        assert_eq!(percent_decode("%41%42"), "AB");
        // Invalid or cut escapes stay as they are.
        for kept in ["100%", "%4", "%zz1", "a%%3"] {
            assert_eq!(percent_decode(kept), kept);
        }
        assert_eq!(percent_decode("a%%3A"), "a%:");
        assert_eq!(percent_decode("%FF"), "\u{FFFD}");
    }

    #[test]
    fn page_sizes() {
        let size = |q: &str| list_params(&format!("/x?{q}").parse().unwrap()).map(|p| p.page_size);
        assert_eq!(size("").unwrap(), 10);
        assert_eq!(size("pageSize=0").unwrap(), 10);
        assert_eq!(size("pageSize=7").unwrap(), 7);
        assert_eq!(size("pageSize=1000").unwrap(), 100);
        assert!(size("pageSize=-1").is_err());
        assert!(size("pageSize=x").is_err());
        assert!(size("pageSize=99999999999").is_err());
        assert_eq!(size("page_size=7").unwrap(), 7);
        assert_eq!(size("pageSize=").unwrap(), 10);
        assert_eq!(size("unknown=1&pageSize=3").unwrap(), 3);
        let err = size("pageSize=1&pageSize=2").err().unwrap();
        assert!(err.message.contains("too many values") && err.message.contains("pageSize"));
        let err = size("pageSize=1&page_size=2").err().unwrap();
        assert!(err.message.contains("too many values"), "{err}");
        let err = size("state=BOGUS").err().unwrap();
        assert!(err.message.contains("state") && err.message.contains("BOGUS"));
        assert!(size("state=ACTIVE&state=FAILED").is_err());
    }

    #[test]
    fn create_bodies() {
        let parse = |s: &str| new_connection("1", serde_json::from_str(s).unwrap());
        let ok = parse(
            r#"{"privateLinkConnection":{"displayName":"a","type":"AWS_ENDPOINT_SERVICE","awsEndpointService":{"name":"com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"}}}"#,
        )
        .unwrap();
        assert_eq!(ok.service_region, "us-west-2");
        for bad in [
            r#"{}"#,
            r#"{"privateLinkConnection":{"displayName":"a","type":"AWS_ENDPOINT_SERVICE"}}"#,
            r#"{"privateLinkConnection":{"displayName":" a","type":"AWS_ENDPOINT_SERVICE","awsEndpointService":{"name":"com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"}}}"#,
            r#"{"privateLinkConnection":{"displayName":"a","type":"GCP","awsEndpointService":{"name":"x"}}}"#,
            r#"{"privateLinkConnection":{"displayName":"a","type":"AWS_ENDPOINT_SERVICE","awsEndpointService":{"name":"bad"}}}"#,
            r#"{"privateLinkConnection":{"displayName":"a","type":"ALICLOUD_ENDPOINT_SERVICE","awsEndpointService":{"name":"com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"}}}"#,
            r#"{"privateLinkConnection":{"clusterId":"2","displayName":"a","type":"AWS_ENDPOINT_SERVICE","awsEndpointService":{"name":"com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"}}}"#,
        ] {
            assert_eq!(parse(bad).unwrap_err().code, Code::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn attach_bodies() {
        let parse = |s: &str| new_attachment(serde_json::from_str(s).unwrap());
        assert!(
            parse(r#"{"attachDomain":{"type":"TIDBCLOUD_MANAGED"},"validateOnly":true}"#).is_ok()
        );
        assert!(parse(r#"{"attachDomain":{"type":"TIDBCLOUD_MANAGED","uniqueName":""}}"#).is_err());
        assert!(parse(r#"{"attachDomain":{"type":"CONFLUENT"},"validateOnly":true}"#).is_err());
        assert!(parse(r#"{"attachDomain":{"type":"CONFLUENT","uniqueName":"Bad_Name"}}"#).is_err());
        assert!(parse(r#"{"attachDomain":{"type":"OTHER","uniqueName":"a"}}"#).is_err());
        assert!(parse(r#"{"validateOnly":true}"#).is_err());
    }
}
