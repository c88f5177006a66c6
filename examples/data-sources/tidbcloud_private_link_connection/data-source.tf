# By ID.
data "tidbcloud_private_link_connection" "by_id" {
  cluster_id                 = "1000000000000000001"
  private_link_connection_id = "plc-0123456789abcdef"
}

# By display name: an error if no connection or several have it.
data "tidbcloud_private_link_connection" "kafka" {
  cluster_id   = "1000000000000000001"
  display_name = "kafka-prod"
}

output "kafka_state" {
  value = data.tidbcloud_private_link_connection.kafka.state
}

# Every attached domain with its state, as the console's detail view shows.
output "kafka_domains" {
  value = flatten([
    for a in data.tidbcloud_private_link_connection.kafka.attached_domains :
    [for d in a.domains : "${d.name}: ${d.state}"]
  ])
}
