//! End-to-end tests: the real `terraform` CLI drives the built provider
//! against `tidbcloud-sim` on a free loopback port.

#[path = "../support/mod.rs"]
mod support;

mod fault_proxy;
mod harness;
mod proxy;

mod budget;
mod campaign;
mod connection;
mod data_sources;
mod domains;
mod foundation;
mod lifecycle;
mod modules;
mod reconcile;
mod reliability;
