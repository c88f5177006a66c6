output "availability_zones" {
  description = "The availability zone IDs TiDB Cloud reaches the endpoint service in."
  value       = local.zones.az_ids
}

output "nlb_arn" {
  description = "The network load balancer in front of the brokers."
  value       = aws_lb.this.arn
}

output "endpoint_service_id" {
  description = "The VPC endpoint service."
  value       = aws_vpc_endpoint_service.this.id
}

output "endpoint_service_name" {
  description = "The VPC endpoint service's name."
  value       = aws_vpc_endpoint_service.this.service_name
}

output "private_link_connection_id" {
  description = "The connection's ID: choose it when creating the changefeed in TiDB Cloud."
  value       = tidbcloud_private_link_connection.this.private_link_connection_id
}

output "domains_by_az" {
  description = "The wildcard domain of each availability zone ID."
  value       = tidbcloud_private_link_domains.this.domains_by_az
}

# What each broker advertises for TiDB Cloud, for example in server.properties:
#   listeners=...,PRIVATE_LINK://0.0.0.0:9093
#   advertised.listeners=...,PRIVATE_LINK://b1.usw2-az1.<unique_name>.aws.plc.tidbcloud.com:9093
output "advertised_listeners" {
  description = "Per broker id, the host:port the broker advertises on the listener TiDB Cloud connects to."
  value = {
    for id, b in local.brokers :
    id => provider::tidbcloud::kafka_advertised_listener(tidbcloud_private_link_domains.this.domains_by_az[b.az_id], id, b.port)
  }
}
