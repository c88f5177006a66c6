//! A small Terraform provider framework: values, schemas, diagnostics and the
//! tfplugin6 server.

pub mod codec;
pub mod value;
