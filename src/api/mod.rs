//! TiDB Cloud API client.
