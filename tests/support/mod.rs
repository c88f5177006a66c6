//! Helpers shared by the integration tests (and the benchmark): starting the
//! provider as Terraform does and talking to it over go-plugin's AutoMTLS.
//! Not every test uses every helper.
#![allow(dead_code)]

pub mod grpc;
pub mod provider;
