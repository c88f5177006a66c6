# Every connection of the cluster.
data "tidbcloud_private_link_connections" "all" {
  cluster_id = "1000000000000000001"
}

# Only those waiting for their endpoint to be accepted.
data "tidbcloud_private_link_connections" "pending" {
  cluster_id = "1000000000000000001"
  state      = "PENDING_ACCEPTANCE"
}

output "connection_names" {
  value = data.tidbcloud_private_link_connections.all.private_link_connections[*].display_name
}

output "endpoints_to_accept" {
  value = {
    for c in data.tidbcloud_private_link_connections.pending.private_link_connections :
    c.display_name => c.aws_endpoint_service.endpoint_id if c.aws_endpoint_service != null
  }
}
