output "availability_zones" {
  description = "The zones TiDB Cloud reaches the endpoint service in."
  value       = local.zones.az_ids
}

output "endpoint_service_name" {
  value = aws_vpc_endpoint_service.kafka.service_name
}

output "private_link_connection_id" {
  description = "Use it when creating the changefeed in TiDB Cloud."
  value       = tidbcloud_private_link_connection.kafka.private_link_connection_id
}

output "domains" {
  value = tidbcloud_private_link_domains.kafka.domains[*].name
}

# What each broker advertises for TiDB Cloud, e.g. in server.properties:
#   listeners=...,PRIVATE_LINK://0.0.0.0:9093
#   advertised.listeners=...,PRIVATE_LINK://b1.usw2-az1.<unique_name>.aws.plc.tidbcloud.com:9093
output "advertised_listeners" {
  description = "Per broker id, the host:port to advertise on the listener TiDB Cloud connects to."
  value = {
    for id, b in local.brokers :
    id => provider::tidbcloud::kafka_advertised_listener(tidbcloud_private_link_domains.kafka.domains_by_az[b.az_id], id, b.port)
  }
}
