//! Services the resources share: the per-cluster watcher that serves every
//! wait.

pub mod watcher;
