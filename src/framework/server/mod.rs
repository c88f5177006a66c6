//! The tfplugin6 `Provider` service: decodes requests, dispatches to the
//! provider's resources and data sources, encodes responses. A panic inside
//! a handler becomes an error diagnostic; the process keeps serving.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock, RwLock};

use futures_util::FutureExt as _;
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use super::codec;
use super::diag::{AttributePath, Diagnostic, Diagnostics, PathStep, Severity};
use super::plan;
use super::resource::{Context, DataSource, Function, PlanChange, Provider, Resource, StopSignal};
use super::schema::Schema;
use super::value::{Type, Value};
use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider as ProviderService;

/// A resource with its schema and value type computed once.
struct ResourceEntry<D: Send + Sync + 'static> {
    resource: Arc<dyn Resource<D>>,
    schema: Schema,
    ty: Type,
}

struct DataSourceEntry<D: Send + Sync + 'static> {
    data_source: Arc<dyn DataSource<D>>,
    schema: Schema,
    ty: Type,
}

/// Everything derived from the provider's definitions, built on first use so
/// that process start-up stays short.
struct Catalog<D: Send + Sync + 'static> {
    provider_schema: Schema,
    provider_type: Type,
    resources: HashMap<&'static str, ResourceEntry<D>>,
    data_sources: HashMap<&'static str, DataSourceEntry<D>>,
    functions: HashMap<&'static str, Arc<dyn Function>>,
    schema_response: pb::get_provider_schema::Response,
}

impl<D: Send + Sync + 'static> Catalog<D> {
    fn resource(&self, type_name: &str) -> Result<&ResourceEntry<D>, Diagnostics> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unknown_type("resource type", type_name))
    }

    fn data_source(&self, type_name: &str) -> Result<&DataSourceEntry<D>, Diagnostics> {
        self.data_sources
            .get(type_name)
            .ok_or_else(|| unknown_type("data source", type_name))
    }
}

/// Serves a [`Provider`] over tfplugin6.
pub struct ProviderServer<P: Provider> {
    provider: Arc<P>,
    catalog: OnceLock<Arc<Catalog<P::Data>>>,
    data: RwLock<Option<Arc<P::Data>>>,
    /// The stop signal of the operations running now. `StopProvider` fires it
    /// and installs a fresh one, so that a process that outlives a stopped
    /// run (debug mode) serves the next run normally.
    stop: RwLock<(watch::Sender<bool>, StopSignal)>,
}

fn stop_pair() -> (watch::Sender<bool>, StopSignal) {
    let (tx, rx) = watch::channel(false);
    (tx, StopSignal::new(rx))
}

impl<P: Provider> ProviderServer<P> {
    pub fn new(provider: P) -> ProviderServer<P> {
        ProviderServer {
            provider: Arc::new(provider),
            catalog: OnceLock::new(),
            data: RwLock::new(None),
            stop: RwLock::new(stop_pair()),
        }
    }

    fn catalog(&self) -> Arc<Catalog<P::Data>> {
        self.catalog
            .get_or_init(|| Arc::new(build_catalog(self.provider.as_ref())))
            .clone()
    }

    fn context(&self) -> Context<P::Data> {
        let data = self.data.read().map(|d| d.clone()).unwrap_or(None);
        let stop = self
            .stop
            .read()
            .map(|s| s.1.clone())
            .unwrap_or_else(|p| p.into_inner().1.clone());
        Context::new(data, stop)
    }

    /// The `GetProviderSchema` answer (also used to generate documentation).
    pub fn schema_response(&self) -> pb::get_provider_schema::Response {
        self.catalog().schema_response.clone()
    }
}

fn build_catalog<P: Provider>(provider: &P) -> Catalog<P::Data> {
    let provider_schema = provider.schema();
    let provider_type = provider_schema.value_type();
    let mut resources = HashMap::new();
    for r in provider.resources() {
        let schema = r.schema();
        let ty = schema.value_type();
        resources.insert(
            r.type_name(),
            ResourceEntry {
                resource: r,
                schema,
                ty,
            },
        );
    }
    let mut data_sources = HashMap::new();
    for d in provider.data_sources() {
        let schema = d.schema();
        let ty = schema.value_type();
        data_sources.insert(
            d.type_name(),
            DataSourceEntry {
                data_source: d,
                schema,
                ty,
            },
        );
    }
    let functions: HashMap<_, _> = provider
        .functions()
        .into_iter()
        .map(|f| (f.name(), f))
        .collect();
    let schema_response = pb::get_provider_schema::Response {
        provider: Some(provider_schema.to_proto()),
        resource_schemas: resources
            .iter()
            .map(|(k, e)| (k.to_string(), e.schema.to_proto()))
            .collect(),
        data_source_schemas: data_sources
            .iter()
            .map(|(k, e)| (k.to_string(), e.schema.to_proto()))
            .collect(),
        functions: functions
            .iter()
            .map(|(k, f)| (k.to_string(), function_to_proto(f.as_ref())))
            .collect(),
        ephemeral_resource_schemas: HashMap::new(),
        diagnostics: Vec::new(),
        provider_meta: None,
        server_capabilities: Some(capabilities()),
    };
    Catalog {
        provider_schema,
        provider_type,
        resources,
        data_sources,
        functions,
        schema_response,
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: true,
        move_resource_state: false,
    }
}

fn function_to_proto(f: &dyn Function) -> pb::Function {
    pb::Function {
        parameters: f
            .parameters()
            .into_iter()
            .map(|p| pb::function::Parameter {
                name: p.name.to_string(),
                r#type: codec::type_json_bytes(&p.ty),
                allow_null_value: false,
                allow_unknown_values: false,
                description: p.description.to_string(),
                description_kind: pb::StringKind::Markdown as i32,
            })
            .collect(),
        variadic_parameter: None,
        r#return: Some(pb::function::Return {
            r#type: codec::type_json_bytes(&f.return_type()),
        }),
        summary: f.summary().to_string(),
        description: f.description().to_string(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecation_message: String::new(),
    }
}

// ---- conversions -------------------------------------------------------------

fn path_to_proto(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    PathStep::Attribute(n) => Selector::AttributeName(n.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

fn diags_to_proto(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    diags
        .iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error,
                Severity::Warning => pb::diagnostic::Severity::Warning,
            } as i32,
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            attribute: d
                .path
                .as_ref()
                .filter(|p| !p.0.is_empty())
                .map(path_to_proto),
        })
        .collect()
}

fn decode(value: Option<&pb::DynamicValue>, ty: &Type) -> Result<Value, Diagnostic> {
    let Some(dv) = value else {
        return Ok(Value::Null);
    };
    let result = if !dv.msgpack.is_empty() {
        codec::decode_msgpack(&dv.msgpack, ty)
    } else if !dv.json.is_empty() {
        codec::decode_json(&dv.json, ty)
    } else {
        return Ok(Value::Null);
    };
    result.map_err(|e| Diagnostic::error("Invalid value from Terraform", e.to_string()))
}

fn encode(value: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostic> {
    codec::encode_msgpack(value, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| Diagnostic::error("Provider produced an invalid value", e.to_string()))
}

fn unknown_type(kind: &str, name: &str) -> Diagnostics {
    Diagnostic::error(
        format!("Unknown {kind}"),
        format!("This provider has no {kind} named {name:?}."),
    )
    .into()
}

/// Runs a handler, turning a panic into an error diagnostic.
async fn guarded<T, F>(what: &str, fut: F) -> Result<T, Diagnostics>
where
    F: Future<Output = T>,
{
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(v) => Ok(v),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            log::error!("panic in {what}: {message}");
            Err(Diagnostic::error(
                "Internal error in the provider",
                format!("The provider failed while handling {what}: {message}. This is a bug; please report it."),
            )
            .into())
        }
    }
}

/// Decodes a configuration, runs the schema's validators and then `check`
/// (guarded against panics): what every `Validate…Config` RPC does.
async fn validate_config(
    what: &str,
    config: Option<&pb::DynamicValue>,
    ty: &Type,
    schema: &Schema,
    check: impl FnOnce(&Value, &mut Diagnostics),
) -> Vec<pb::Diagnostic> {
    let config = match decode(config, ty) {
        Ok(c) => c,
        Err(d) => return diags_to_proto(&d.into()),
    };
    let mut diags = Diagnostics::new();
    schema.validate(&config, &mut diags);
    let more = guarded(what, async {
        let mut d = Diagnostics::new();
        check(&config, &mut d);
        d
    })
    .await
    .unwrap_or_else(|d| d);
    diags.extend(more);
    diags_to_proto(&diags)
}

macro_rules! try_diag {
    ($result:expr, $response:expr) => {
        match $result {
            Ok(v) => v,
            Err(d) => {
                let diags: Diagnostics = d.into();
                return Ok(Response::new($response(diags_to_proto(&diags))));
            }
        }
    };
}

// ---- the service -----------------------------------------------------------------

#[tonic::async_trait]
impl<P: Provider> ProviderService for ProviderServer<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        let catalog = self.catalog();
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            data_sources: catalog
                .data_sources
                .keys()
                .map(|k| pb::get_metadata::DataSourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            resources: catalog
                .resources
                .keys()
                .map(|k| pb::get_metadata::ResourceMetadata {
                    type_name: k.to_string(),
                })
                .collect(),
            functions: catalog
                .functions
                .keys()
                .map(|k| pb::get_metadata::FunctionMetadata {
                    name: k.to_string(),
                })
                .collect(),
            ephemeral_resources: Vec::new(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Ok(Response::new(self.schema_response()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let provider = self.provider.clone();
        let diagnostics = validate_config(
            "ValidateProviderConfig",
            req.config.as_ref(),
            &catalog.provider_type,
            &catalog.provider_schema,
            |config, d| provider.validate(config, d),
        )
        .await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics,
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let respond = |diagnostics| pb::validate_resource_config::Response { diagnostics };
        let entry = try_diag!(catalog.resource(&req.type_name), respond);
        let diagnostics = validate_config(
            "ValidateResourceConfig",
            req.config.as_ref(),
            &entry.ty,
            &entry.schema,
            |config, d| entry.resource.validate(config, d),
        )
        .await;
        Ok(Response::new(respond(diagnostics)))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let respond = |diagnostics| pb::validate_data_resource_config::Response { diagnostics };
        let entry = try_diag!(catalog.data_source(&req.type_name), respond);
        let diagnostics = validate_config(
            "ValidateDataResourceConfig",
            req.config.as_ref(),
            &entry.ty,
            &entry.schema,
            |config, d| entry.data_source.validate(config, d),
        )
        .await;
        Ok(Response::new(respond(diagnostics)))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let respond = |diagnostics| pb::upgrade_resource_state::Response {
            upgraded_state: None,
            diagnostics,
        };
        let entry = try_diag!(catalog.resource(&req.type_name), respond);
        let raw = req.raw_state.unwrap_or_default();
        if raw.json.is_empty() {
            let d = Diagnostic::error(
                "Unsupported state format",
                "The stored state has no JSON form (legacy flatmap states are not supported by this provider).",
            );
            return Ok(Response::new(respond(diags_to_proto(&d.into()))));
        }
        if req.version > entry.schema.version {
            let d = Diagnostic::error(
                "State from a newer provider",
                format!(
                    "The state of this {} was written by a newer version of the provider (schema version {}, this one knows {}). Upgrade the provider.",
                    req.type_name, req.version, entry.schema.version
                ),
            );
            return Ok(Response::new(respond(diags_to_proto(&d.into()))));
        }
        let state = try_diag!(
            codec::decode_json(&raw.json, &entry.ty)
                .map_err(|e| Diagnostic::error("Invalid stored state", e.to_string())),
            respond
        );
        let upgraded = try_diag!(
            guarded("UpgradeResourceState", async {
                entry.resource.upgrade_state(req.version, state)
            })
            .await
            .and_then(|r| r),
            respond
        );
        let encoded = try_diag!(encode(&upgraded, &entry.ty), respond);
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: Some(encoded),
            diagnostics: Vec::new(),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let respond = |diagnostics| pb::configure_provider::Response { diagnostics };
        let config = try_diag!(decode(req.config.as_ref(), &catalog.provider_type), respond);
        let provider = self.provider.clone();
        let (data, diags) = try_diag!(
            guarded(
                "ConfigureProvider",
                provider.configure(&config, &req.terraform_version)
            )
            .await,
            respond
        );
        if let Some(data) = data {
            if let Ok(mut slot) = self.data.write() {
                *slot = Some(Arc::new(data));
            }
        }
        Ok(Response::new(respond(diags_to_proto(&diags))))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let respond = |diagnostics| pb::read_resource::Response {
            new_state: None,
            diagnostics,
            private: Vec::new(),
            deferred: None,
        };
        let entry = try_diag!(catalog.resource(&req.type_name), respond);
        let current = try_diag!(decode(req.current_state.as_ref(), &entry.ty), respond);
        let ctx = self.context();
        let outcome = try_diag!(
            guarded("ReadResource", entry.resource.read(&ctx, &current)).await,
            respond
        );
        // On an error without a new state, keep what Terraform had.
        let new_state = match (&outcome.state, outcome.diags.has_errors()) {
            (Some(s), _) => s.clone(),
            (None, true) => current,
            (None, false) => Value::Null,
        };
        let encoded = try_diag!(encode(&new_state, &entry.ty), respond);
        Ok(Response::new(pb::read_resource::Response {
            new_state: Some(encoded),
            diagnostics: diags_to_proto(&outcome.diags),
            private: req.private,
            deferred: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let respond = |diagnostics| pb::plan_resource_change::Response {
            planned_state: None,
            requires_replace: Vec::new(),
            planned_private: Vec::new(),
            diagnostics,
            legacy_type_system: false,
            deferred: None,
        };
        let entry = try_diag!(catalog.resource(&req.type_name), respond);
        let prior = try_diag!(decode(req.prior_state.as_ref(), &entry.ty), respond);
        let proposed = try_diag!(decode(req.proposed_new_state.as_ref(), &entry.ty), respond);
        let config = try_diag!(decode(req.config.as_ref(), &entry.ty), respond);
        let generic = plan::plan(&entry.schema, &prior, &proposed, &config);
        let mut change = PlanChange {
            prior: &prior,
            config: &config,
            planned: generic.planned,
            requires_replace: generic.requires_replace,
        };
        let ctx = self.context();
        let diags = try_diag!(
            guarded("PlanResourceChange", async {
                let mut d = Diagnostics::new();
                entry.resource.modify_plan(&ctx, &mut change, &mut d).await;
                d
            })
            .await,
            respond
        );
        let encoded = try_diag!(encode(&change.planned, &entry.ty), respond);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: Some(encoded),
            requires_replace: change.requires_replace.iter().map(path_to_proto).collect(),
            planned_private: req.prior_private,
            diagnostics: diags_to_proto(&diags),
            legacy_type_system: false,
            deferred: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let respond = |diagnostics| pb::apply_resource_change::Response {
            new_state: None,
            private: Vec::new(),
            diagnostics,
            legacy_type_system: false,
        };
        let entry = try_diag!(catalog.resource(&req.type_name), respond);
        let prior = try_diag!(decode(req.prior_state.as_ref(), &entry.ty), respond);
        let planned = try_diag!(decode(req.planned_state.as_ref(), &entry.ty), respond);
        let config = try_diag!(decode(req.config.as_ref(), &entry.ty), respond);
        let ctx = self.context();
        let resource = &entry.resource;
        let (new_state, diags) = if planned.is_null() {
            let diags = guarded(
                "ApplyResourceChange (delete)",
                resource.delete(&ctx, &prior),
            )
            .await
            .unwrap_or_else(|d| d);
            // A failed delete keeps the object in the state.
            let state = if diags.has_errors() {
                prior.clone()
            } else {
                Value::Null
            };
            (state, diags)
        } else {
            let outcome = if prior.is_null() {
                guarded(
                    "ApplyResourceChange (create)",
                    resource.create(&ctx, &planned, &config),
                )
                .await
            } else {
                guarded(
                    "ApplyResourceChange (update)",
                    resource.update(&ctx, &prior, &planned, &config),
                )
                .await
            };
            match outcome {
                Ok(o) => (o.state.unwrap_or_else(|| prior.clone()), o.diags),
                Err(d) => (prior.clone(), d),
            }
        };
        // Unknowns left after apply are a provider bug; keep the object (as
        // Terraform itself would) with them as null, so nothing is lost.
        let (new_state, diags) = if new_state.contains_unknown() {
            let mut diags = diags;
            diags.push(Diagnostic::error(
                "Provider returned an unknown value after apply",
                format!(
                    "{} left a value unknown after apply; it is saved as null. This is a bug in the provider.",
                    req.type_name
                ),
            ));
            (new_state.unknown_as_null(), diags)
        } else {
            (new_state, diags)
        };
        let encoded = try_diag!(encode(&new_state, &entry.ty), respond);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: Some(encoded),
            private: req.planned_private,
            diagnostics: diags_to_proto(&diags),
            legacy_type_system: false,
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let respond = |diagnostics| pb::import_resource_state::Response {
            imported_resources: Vec::new(),
            diagnostics,
            deferred: None,
        };
        let entry = try_diag!(catalog.resource(&req.type_name), respond);
        let ctx = self.context();
        let outcome = try_diag!(
            guarded("ImportResourceState", entry.resource.import(&ctx, &req.id)).await,
            respond
        );
        let Some(state) = outcome.state.filter(|_| !outcome.diags.has_errors()) else {
            return Ok(Response::new(respond(diags_to_proto(&outcome.diags))));
        };
        let encoded = try_diag!(encode(&state, &entry.ty), respond);
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: vec![pb::import_resource_state::ImportedResource {
                type_name: req.type_name,
                state: Some(encoded),
                private: Vec::new(),
            }],
            diagnostics: diags_to_proto(&outcome.diags),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = request.into_inner();
        let d = Diagnostic::error(
            "Moving resource state is not supported",
            format!(
                "{} cannot take over state from {} ({}); remove the moved block and import the object instead.",
                req.target_type_name, req.source_type_name, req.source_provider_address
            ),
        );
        Ok(Response::new(pb::move_resource_state::Response {
            target_state: None,
            diagnostics: diags_to_proto(&d.into()),
            target_private: Vec::new(),
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let respond = |diagnostics| pb::read_data_source::Response {
            state: None,
            diagnostics,
            deferred: None,
        };
        let entry = try_diag!(catalog.data_source(&req.type_name), respond);
        let config = try_diag!(decode(req.config.as_ref(), &entry.ty), respond);
        let ctx = self.context();
        let outcome = try_diag!(
            guarded("ReadDataSource", entry.data_source.read(&ctx, &config)).await,
            respond
        );
        let state = match outcome.state {
            Some(s) if !outcome.diags.has_errors() => s,
            _ => return Ok(Response::new(respond(diags_to_proto(&outcome.diags)))),
        };
        let encoded = try_diag!(encode(&state, &entry.ty), respond);
        Ok(Response::new(pb::read_data_source::Response {
            state: Some(encoded),
            diagnostics: diags_to_proto(&outcome.diags),
            deferred: None,
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let name = request.into_inner().type_name;
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: diags_to_proto(&unknown_type("ephemeral resource type", &name)),
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let name = request.into_inner().type_name;
        Ok(Response::new(pb::open_ephemeral_resource::Response {
            diagnostics: diags_to_proto(&unknown_type("ephemeral resource type", &name)),
            ..Default::default()
        }))
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let name = request.into_inner().type_name;
        Ok(Response::new(pb::renew_ephemeral_resource::Response {
            diagnostics: diags_to_proto(&unknown_type("ephemeral resource type", &name)),
            ..Default::default()
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let name = request.into_inner().type_name;
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: diags_to_proto(&unknown_type("ephemeral resource type", &name)),
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response {
            functions: self.catalog().schema_response.functions.clone(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = request.into_inner();
        let catalog = self.catalog();
        let fail = |text: String, argument: Option<i64>| {
            Ok(Response::new(pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text,
                    function_argument: argument,
                }),
            }))
        };
        let Some(function) = catalog.functions.get(req.name.as_str()) else {
            return fail(
                format!("this provider has no function named {:?}", req.name),
                None,
            );
        };
        let parameters = function.parameters();
        if req.arguments.len() != parameters.len() {
            return fail(
                format!(
                    "{} takes {} arguments, got {}",
                    req.name,
                    parameters.len(),
                    req.arguments.len()
                ),
                None,
            );
        }
        let mut arguments = Vec::with_capacity(parameters.len());
        for (i, (dv, p)) in req.arguments.iter().zip(&parameters).enumerate() {
            match decode(Some(dv), &p.ty) {
                Ok(v) if v.is_known() => arguments.push(v),
                Ok(_) => {
                    return fail(
                        format!("argument {} must not be null", p.name),
                        Some(i as i64),
                    )
                }
                Err(d) => return fail(d.detail, Some(i as i64)),
            }
        }
        let result = guarded("CallFunction", async { function.call(&arguments) }).await;
        match result {
            Ok(Ok(value)) => match encode(&value, &function.return_type()) {
                Ok(dv) => Ok(Response::new(pb::call_function::Response {
                    result: Some(dv),
                    error: None,
                })),
                Err(d) => fail(d.detail, None),
            },
            Ok(Err(e)) => fail(e.text, e.argument),
            Err(d) => fail(
                d.0.first().map(|d| d.detail.clone()).unwrap_or_default(),
                None,
            ),
        }
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        log::info!("stop requested: in-flight operations return what they have");
        let mut current = self.stop.write().unwrap_or_else(|p| p.into_inner());
        let _ = current.0.send(true);
        *current = stop_pair();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
