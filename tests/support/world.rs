//! The simulator's default world (docs/simulator.md, "Default world") as the
//! tests name it, and request bodies built from it.

use serde_json::Value;

/// The ACTIVE AWS cluster (`aws-us-west-2`, three AZs).
pub const AWS_CLUSTER: &str = "1000000000000000001";
/// The ACTIVE Alibaba Cloud cluster (`alicloud-ap-southeast-1`).
pub const ALI_CLUSTER: &str = "1000000000000000002";
/// A PAUSED cluster.
pub const PAUSED_CLUSTER: &str = "1000000000000000003";
/// An AWS endpoint service that accepts connections by itself.
pub const AWS_AUTO: &str = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef";
/// An AWS endpoint service whose connections wait in PENDING_ACCEPTANCE.
pub const AWS_MANUAL: &str = "com.amazonaws.vpce.us-west-2.vpce-svc-0fedcba9876543210";
/// An Alibaba Cloud endpoint service that accepts connections by itself.
pub const ALI_AUTO: &str = "com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef";
/// The default API key.
pub const PUBLIC_KEY: &str = "demo-public";
pub const PRIVATE_KEY: &str = "demo-private";

/// A create body for an AWS endpoint service.
pub fn aws_body(service: &str) -> Value {
    serde_json::json!({"type": "AWS_ENDPOINT_SERVICE", "awsEndpointService": {"name": service}})
}

/// A create body for an Alibaba Cloud endpoint service.
pub fn ali_body(service: &str) -> Value {
    serde_json::json!({"type": "ALICLOUD_ENDPOINT_SERVICE", "alicloudEndpointService": {"name": service}})
}

/// The API path of a connection.
pub fn conn_path(cluster: &str, id: &str) -> String {
    format!("/v1beta1/clusters/{cluster}/privateLinkConnections/{id}")
}
