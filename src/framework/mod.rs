//! A small Terraform provider framework: values and their codecs, schemas,
//! diagnostics with attribute paths, the traits resources and data sources
//! implement, the generic planning rules and the tfplugin6
//! server.

pub mod codec;
pub mod diag;
pub mod docs;
pub mod plan;
pub mod resource;
pub mod schema;
pub mod server;
pub mod timeouts;
pub mod value;

pub use diag::{AttributePath, Diagnostic, Diagnostics};
pub use resource::{
    ApplyOutcome, Context, DataSource, Function, FunctionError, FunctionErrorCase, Parameter,
    PlanChange, Provider, ReadOutcome, Resource, StopSignal,
};
pub use schema::{Attribute, Block, Schema};
pub use value::{Number, Type, Value};
