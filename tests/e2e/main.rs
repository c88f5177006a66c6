//! End-to-end tests: the real `terraform` CLI drives the built provider
//! against `tidbcloud-sim` on a free loopback port.

#[path = "../support/mod.rs"]
mod support;

mod harness;

mod budget;
mod connection;
mod data_sources;
mod domains;
mod foundation;
mod lifecycle;
mod modules;
mod proxy;
mod reliability;
