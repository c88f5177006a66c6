resource "tidbcloud_private_link_connection" "kafka" {
  cluster_id   = "1000000000000000001"
  display_name = "kafka-prod"
  aws_endpoint_service = {
    name = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"
  }
}

# Domains managed by TiDB Cloud: on AWS one wildcard per availability zone,
# *.<az_id>.<unique_name>.aws.plc.tidbcloud.com. Attaching waits until the
# connection is ACTIVE (accepted).
resource "tidbcloud_private_link_domains" "kafka" {
  cluster_id                 = tidbcloud_private_link_connection.kafka.cluster_id
  private_link_connection_id = tidbcloud_private_link_connection.kafka.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  # unique_name = "kafka-prod"  # generated when omitted; required for type = "CONFLUENT"

  timeouts {
    create = "30m"
  }
}

# What broker b1 in usw2-az1 advertises, e.g. in a PRIVATE_LINK listener.
output "broker_b1_listener" {
  value = provider::tidbcloud::kafka_advertised_listener(
    tidbcloud_private_link_domains.kafka.domains_by_az["usw2-az1"], "b1", 9093
  )
}
