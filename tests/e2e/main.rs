//! End-to-end tests: the real `terraform` CLI drives the built provider
//! against `tidbcloud-sim` on a free loopback port.

mod harness;
mod proxy;

mod campaign;
mod connection;
mod data_sources;
mod domains;
mod foundation;
mod modules;
mod reconcile;
mod reliability;
