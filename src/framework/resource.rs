//! The capabilities a provider, its resources and data sources implement.
//! Each trait method has one job; defaults cover what most types do not need.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;

use super::diag::{Diagnostic, Diagnostics};
use super::schema::Schema;
use super::value::{Type, Value};

/// Signals that Terraform asked the provider to stop (`StopProvider`, sent on
/// Ctrl-C). Waits select on [`StopSignal::stopped`] and return what they have.
#[derive(Clone, Debug)]
pub struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    pub fn new(receiver: watch::Receiver<bool>) -> StopSignal {
        StopSignal(receiver)
    }

    /// A signal that never fires (for tests and tools).
    pub fn never() -> StopSignal {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        StopSignal(rx)
    }

    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// The underlying channel, for layers that cannot know this type (the
    /// API client's [`cancel`](crate::api::cancel) scope).
    pub fn receiver(&self) -> watch::Receiver<bool> {
        self.0.clone()
    }

    /// Completes once a stop was requested.
    pub async fn stopped(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|s| *s).await;
    }
}

/// What every operation receives: the configured provider data and the stop
/// signal.
pub struct Context<D> {
    data: Option<Arc<D>>,
    pub stop: StopSignal,
    /// The resource's private state as Terraform sent it (read, apply).
    private: Vec<u8>,
    /// The private state to return instead, when the operation set one.
    private_out: std::sync::Mutex<Option<Vec<u8>>>,
}

impl<D> Context<D> {
    pub fn new(data: Option<Arc<D>>, stop: StopSignal) -> Context<D> {
        Context {
            data,
            stop,
            private: Vec::new(),
            private_out: std::sync::Mutex::new(None),
        }
    }

    /// The same context carrying the resource's private state.
    pub fn with_private(mut self, private: Vec<u8>) -> Context<D> {
        self.private = private;
        self
    }

    /// The resource's private state: opaque bytes Terraform keeps with the
    /// state and sends back to read and apply (empty when there is none).
    pub fn private(&self) -> &[u8] {
        &self.private
    }

    /// Replaces the private state Terraform keeps with this resource's new
    /// state (an empty one clears it). Without a call, what came in is
    /// returned.
    pub fn set_private(&self, private: Vec<u8>) {
        *self.private_out.lock().unwrap_or_else(|p| p.into_inner()) = Some(private);
    }

    /// The private state to return: the one set, else the one that came in.
    pub fn private_out(&self) -> Vec<u8> {
        self.private_out
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_else(|| self.private.clone())
    }

    /// The provider's configured data, or an error diagnostic when the
    /// provider was not configured (e.g. its configuration had errors).
    pub fn data(&self) -> Result<&D, Diagnostic> {
        self.data.as_deref().ok_or_else(|| {
            Diagnostic::error(
                "Provider not configured",
                "The provider must be configured before this operation; check the provider block for errors.",
            )
        })
    }
}

/// A plan being made for a resource; the hook may change `planned` and add
/// replacement paths.
pub struct PlanChange<'a> {
    pub prior: &'a Value,
    pub config: &'a Value,
    pub planned: Value,
    pub requires_replace: Vec<super::diag::AttributePath>,
}

impl PlanChange<'_> {
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }
    pub fn is_destroy(&self) -> bool {
        self.planned.is_null()
    }
}

/// The result of create or update: the new state (even on error, so nothing
/// the API created is lost; Terraform then marks it tainted) and diagnostics.
#[derive(Debug, Default)]
pub struct ApplyOutcome {
    pub state: Option<Value>,
    pub diags: Diagnostics,
}

impl ApplyOutcome {
    pub fn ok(state: Value) -> ApplyOutcome {
        ApplyOutcome {
            state: Some(state),
            diags: Diagnostics::new(),
        }
    }
    pub fn failed(diags: impl Into<Diagnostics>) -> ApplyOutcome {
        ApplyOutcome {
            state: None,
            diags: diags.into(),
        }
    }
}

/// The result of a read: the refreshed state, or `None` when the object is
/// gone (Terraform then plans to create it again).
#[derive(Debug, Default)]
pub struct ReadOutcome {
    pub state: Option<Value>,
    pub diags: Diagnostics,
}

/// A managed resource.
#[async_trait]
pub trait Resource<D: Send + Sync + 'static>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Checks of the configuration beyond per-attribute validators.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Refines the generic plan (checks needing the API, previews, replacement).
    async fn modify_plan(
        &self,
        _ctx: &Context<D>,
        _plan: &mut PlanChange<'_>,
        _diags: &mut Diagnostics,
    ) {
    }

    async fn create(&self, ctx: &Context<D>, planned: &Value, config: &Value) -> ApplyOutcome;
    async fn read(&self, ctx: &Context<D>, state: &Value) -> ReadOutcome;

    /// An in-place update. Only attributes without `RequiresReplace` can
    /// change; by default the plan is stored as it is.
    async fn update(
        &self,
        _ctx: &Context<D>,
        _prior: &Value,
        planned: &Value,
        _config: &Value,
    ) -> ApplyOutcome {
        ApplyOutcome::ok(planned.clone())
    }

    async fn delete(&self, ctx: &Context<D>, state: &Value) -> Diagnostics;

    /// Turns an import id into a state for Terraform to read.
    async fn import(&self, _ctx: &Context<D>, _id: &str) -> ApplyOutcome {
        ApplyOutcome::failed(Diagnostic::error(
            "Import not supported",
            format!("{} cannot be imported.", self.type_name()),
        ))
    }

    /// The form of this resource's import id (such as `<a>,<b>`), for the
    /// advice given when a stored state cannot be read: remove it from the
    /// state, then import the object again.
    fn import_id_format(&self) -> Option<&'static str> {
        None
    }

    /// Upgrades a state decoded with the current schema from an older
    /// schema version (identity by default).
    fn upgrade_state(&self, _version: i64, state: Value) -> Result<Value, Diagnostics> {
        Ok(state)
    }
}

/// A data source.
#[async_trait]
pub trait DataSource<D: Send + Sync + 'static>: Send + Sync {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn read(&self, ctx: &Context<D>, config: &Value) -> ReadOutcome;
}

/// A parameter of a provider function.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: &'static str,
    pub ty: Type,
    pub description: &'static str,
}

/// An error from a provider function, optionally naming the argument.
#[derive(Debug, Clone)]
pub struct FunctionError {
    pub text: String,
    pub argument: Option<i64>,
}

/// One way a function call fails, for its documentation: what is wrong,
/// and arguments that show it (the page quotes the error they give).
#[derive(Debug, Clone)]
pub struct FunctionErrorCase {
    pub when: &'static str,
    pub arguments: Vec<Value>,
}

/// A provider-defined function (`provider::<name>::<function>`).
pub trait Function: Send + Sync {
    fn name(&self) -> &'static str;
    fn summary(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn parameters(&self) -> Vec<Parameter>;
    fn return_type(&self) -> Type;
    /// Called with known, non-null arguments.
    fn call(&self, arguments: &[Value]) -> Result<Value, FunctionError>;
    /// The ways a call fails, listed on the function's page.
    fn error_cases(&self) -> Vec<FunctionErrorCase> {
        Vec::new()
    }
}

/// The provider: its own configuration and what it offers.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What `configure` produces and every operation receives.
    type Data: Send + Sync + 'static;

    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn configure(
        &self,
        config: &Value,
        terraform_version: &str,
    ) -> (Option<Self::Data>, Diagnostics);
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Data>>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Data>>>;
    fn functions(&self) -> Vec<Arc<dyn Function>> {
        Vec::new()
    }
}
