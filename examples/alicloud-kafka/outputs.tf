output "availability_zones" {
  description = "The zones TiDB Cloud reaches the endpoint service in."
  value       = local.zones.az_ids
}

output "endpoint_service_name" {
  value = alicloud_privatelink_vpc_endpoint_service.kafka.vpc_endpoint_service_name
}

output "private_link_connection_id" {
  description = "Use it when creating the changefeed in TiDB Cloud."
  value       = tidbcloud_private_link_connection.kafka.private_link_connection_id
}

output "domain" {
  value = tidbcloud_private_link_domains.kafka.domains[0].name
}

# What each broker advertises for TiDB Cloud, e.g. in server.properties:
#   advertised.listeners=...,PRIVATE_LINK://b1.<unique_name>.alicloud.plc.tidbcloud.com:9093
output "advertised_listeners" {
  description = "Per broker id, the host:port to advertise on the listener TiDB Cloud connects to."
  value = {
    for b in var.brokers :
    b.id => provider::tidbcloud::kafka_advertised_listener(tidbcloud_private_link_domains.kafka.domains[0].name, b.id, b.port)
  }
}
