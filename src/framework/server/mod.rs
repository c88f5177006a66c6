//! The tfplugin6 `Provider` service: decodes requests, dispatches to the
//! provider's resources and data sources, encodes responses. What an answer
//! holds when something fails (a read, a delete, a panic) is decided by the
//! pure functions of [`rules`], one section per RPC family; this module only
//! carries values between them and the wire ([`convert`]).

mod convert;
pub mod rules;

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock, RwLock};

use futures_util::FutureExt as _;
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use self::convert::{decode, diags_to_proto, encode, function_to_proto, path_to_proto};
use self::rules::{unknown_type, Change};
use crate::framework::codec;
use crate::framework::diag::Diagnostics;
use crate::framework::plan;
use crate::framework::resource::{
    Context, DataSource, Function, FunctionError, PlanChange, Provider, Resource, StopSignal,
};
use crate::framework::schema::Schema;
use crate::framework::value::{Type, Value};
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

// ---- plumbing ----------------------------------------------------------------------

/// The diagnostic of a panic while handling `what`, logged as well.
fn panicked(what: &str, payload: &(dyn std::any::Any + Send)) -> Diagnostics {
    let message = rules::panic_message(payload);
    log::error!("panic in {what}: {message}");
    rules::panic_diagnostic(what, &message).into()
}

/// Runs an async handler, turning a panic into an error diagnostic.
async fn guarded<T, F>(what: &str, fut: F) -> Result<T, Diagnostics>
where
    F: Future<Output = T>,
{
    AssertUnwindSafe(fut)
        .catch_unwind()
        .await
        .map_err(|panic| panicked(what, panic.as_ref()))
}

/// Runs a synchronous handler, turning a panic into an error diagnostic.
fn caught<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, Diagnostics> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|panic| panicked(what, panic.as_ref()))
}

/// Answers early with the diagnostics of an `Err`.
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

/// What a `Validate…Config` RPC validates.
enum Validated<'a> {
    Provider,
    Resource(&'a str),
    DataSource(&'a str),
    EphemeralResource(&'a str),
}

/// An object's own validation.
type Check<'a> = Box<dyn FnOnce(&Value, &mut Diagnostics) + 'a>;

impl<P: Provider> ProviderServer<P> {
    /// Every `Validate…Config` RPC: finds the schema and the object's own
    /// check, then [`rules::validate_config`].
    fn validate(
        &self,
        target: Validated<'_>,
        config: Option<&pb::DynamicValue>,
    ) -> Vec<pb::Diagnostic> {
        let catalog = self.catalog();
        let found: Result<(&str, &Type, &Schema, Check<'_>), Diagnostics> = match target {
            Validated::Provider => Ok((
                "ValidateProviderConfig",
                &catalog.provider_type,
                &catalog.provider_schema,
                Box::new(|c, d| self.provider.validate(c, d)),
            )),
            Validated::Resource(name) => catalog.resource(name).map(|e| {
                let check: Check<'_> = Box::new(|c, d| e.resource.validate(c, d));
                ("ValidateResourceConfig", &e.ty, &e.schema, check)
            }),
            Validated::DataSource(name) => catalog.data_source(name).map(|e| {
                let check: Check<'_> = Box::new(|c, d| e.data_source.validate(c, d));
                ("ValidateDataResourceConfig", &e.ty, &e.schema, check)
            }),
            Validated::EphemeralResource(name) => {
                Err(unknown_type("ephemeral resource type", name))
            }
        };
        let (what, ty, schema, check) = match found {
            Ok(f) => f,
            Err(d) => return diags_to_proto(&d),
        };
        let diags = rules::validate_config(decode(config, ty), schema, |config| {
            caught(what, || {
                let mut d = Diagnostics::new();
                check(config, &mut d);
                d
            })
            .unwrap_or_else(|d| d)
        });
        diags_to_proto(&schema.locate(diags))
    }
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
        let diagnostics = self.validate(Validated::Provider, req.config.as_ref());
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics,
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let diagnostics = self.validate(Validated::Resource(&req.type_name), req.config.as_ref());
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics,
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        let diagnostics = self.validate(Validated::DataSource(&req.type_name), req.config.as_ref());
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics,
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let req = request.into_inner();
        let diagnostics = self.validate(
            Validated::EphemeralResource(&req.type_name),
            req.config.as_ref(),
        );
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response { diagnostics },
        ))
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
        try_diag!(
            rules::stored_state_usable(
                &req.type_name,
                !raw.json.is_empty(),
                req.version,
                entry.schema.version
            ),
            respond
        );
        let state = try_diag!(
            codec::decode_json(&raw.json, &entry.ty).map_err(|e| rules::invalid_stored_state(
                &req.type_name,
                req.version,
                entry.resource.import_id_format(),
                e
            )),
            respond
        );
        let upgraded = try_diag!(
            caught("UpgradeResourceState", || {
                entry.resource.upgrade_state(req.version, state)
            })
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
        let ctx = self.context().with_private(req.private);
        let outcome = guarded("ReadResource", entry.resource.read(&ctx, &current)).await;
        let (new_state, diags) = rules::read_resource(current, outcome);
        let Some(new_state) = new_state else {
            return Ok(Response::new(respond(diags_to_proto(&diags))));
        };
        let encoded = try_diag!(encode(&new_state, &entry.ty), respond);
        Ok(Response::new(pb::read_resource::Response {
            new_state: Some(encoded),
            diagnostics: diags_to_proto(&diags),
            private: ctx.private_out(),
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
        let modified = guarded("PlanResourceChange", async {
            let mut d = Diagnostics::new();
            entry.resource.modify_plan(&ctx, &mut change, &mut d).await;
            d
        })
        .await;
        let requires_replace = change.requires_replace.iter().map(path_to_proto).collect();
        let (planned, diags) = rules::plan_resource(change.planned, modified);
        let Some(planned) = planned else {
            return Ok(Response::new(respond(diags_to_proto(&diags))));
        };
        let encoded = try_diag!(encode(&planned, &entry.ty), respond);
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: Some(encoded),
            requires_replace,
            planned_private: req.prior_private,
            diagnostics: diags_to_proto(&entry.schema.locate(diags)),
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
        let ctx = self.context().with_private(req.planned_private);
        let resource = &entry.resource;
        let change = Change::of(&prior, &planned);
        let (new_state, diags) = match change {
            Change::Delete => {
                let result = guarded(change.rpc(), resource.delete(&ctx, &prior)).await;
                rules::after_delete(prior, result)
            }
            Change::Create => {
                let result = guarded(change.rpc(), resource.create(&ctx, &planned, &config)).await;
                rules::after_create_or_update(prior, result)
            }
            Change::Update => {
                let result = guarded(
                    change.rpc(),
                    resource.update(&ctx, &prior, &planned, &config),
                )
                .await;
                rules::after_create_or_update(prior, result)
            }
        };
        let (new_state, diags) = rules::unknowns_after_apply(&req.type_name, new_state, diags);
        let encoded = try_diag!(encode(&new_state, &entry.ty), respond);
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state: Some(encoded),
            private: ctx.private_out(),
            diagnostics: diags_to_proto(&entry.schema.locate(diags)),
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
        let outcome = guarded("ImportResourceState", entry.resource.import(&ctx, &req.id)).await;
        let (state, diags) = rules::import_resource(outcome);
        let Some(state) = state else {
            return Ok(Response::new(respond(diags_to_proto(&diags))));
        };
        let encoded = try_diag!(encode(&state, &entry.ty), respond);
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources: vec![pb::import_resource_state::ImportedResource {
                type_name: req.type_name,
                state: Some(encoded),
                private: Vec::new(),
            }],
            diagnostics: diags_to_proto(&diags),
            deferred: None,
        }))
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = request.into_inner();
        let d = rules::move_refused(
            &req.target_type_name,
            &req.source_type_name,
            &req.source_provider_address,
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
        let outcome = guarded("ReadDataSource", entry.data_source.read(&ctx, &config)).await;
        let (state, diags) = rules::read_data_source(outcome);
        let Some(state) = state else {
            return Ok(Response::new(respond(diags_to_proto(&diags))));
        };
        let encoded = try_diag!(encode(&state, &entry.ty), respond);
        Ok(Response::new(pb::read_data_source::Response {
            state: Some(encoded),
            diagnostics: diags_to_proto(&diags),
            deferred: None,
        }))
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
        let fail = |e: FunctionError| {
            Ok(Response::new(pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: e.text,
                    function_argument: e.argument,
                }),
            }))
        };
        let Some(function) = catalog.functions.get(req.name.as_str()) else {
            return fail(rules::unknown_function(&req.name));
        };
        let parameters = function.parameters();
        let arguments =
            match rules::function_arguments(&req.name, &parameters, &req.arguments, |dv, ty| {
                decode(Some(dv), ty)
            }) {
                Ok(a) => a,
                Err(e) => return fail(e),
            };
        let result = rules::function_result(caught("CallFunction", || function.call(&arguments)));
        match result.and_then(|value| {
            encode(&value, &function.return_type()).map_err(|d| FunctionError {
                text: d.detail,
                argument: None,
            })
        }) {
            Ok(dv) => Ok(Response::new(pb::call_function::Response {
                result: Some(dv),
                error: None,
            })),
            Err(e) => fail(e),
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
