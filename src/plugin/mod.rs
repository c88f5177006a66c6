//! go-plugin host protocol.
