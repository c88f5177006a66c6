output "availability_zones" {
  description = "The zones TiDB Cloud reaches the endpoint service in."
  value       = module.kafka_privatelink.availability_zones
}

output "endpoint_service_name" {
  value = module.kafka_privatelink.endpoint_service_name
}

output "private_link_connection_id" {
  description = "Use it when creating the changefeed in TiDB Cloud."
  value       = module.kafka_privatelink.private_link_connection_id
}

output "domains_by_az" {
  value = module.kafka_privatelink.domains_by_az
}

# What each broker advertises for TiDB Cloud, e.g. in server.properties:
#   listeners=...,PRIVATE_LINK://0.0.0.0:9093
#   advertised.listeners=...,PRIVATE_LINK://b1.usw2-az1.<unique_name>.aws.plc.tidbcloud.com:9093
output "advertised_listeners" {
  description = "Per broker id, the host:port to advertise on the listener TiDB Cloud connects to."
  value       = module.kafka_privatelink.advertised_listeners
}
