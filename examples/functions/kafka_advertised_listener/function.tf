# "b1.usw2-az1.kafka.aws.plc.tidbcloud.com:9093"
output "broker_b1_listener" {
  value = provider::tidbcloud::kafka_advertised_listener("*.usw2-az1.kafka.aws.plc.tidbcloud.com", "b1", 9093)
}
