# A connection from a cluster on AWS to your VPC endpoint service. The
# endpoint service must allow the principal from the
# tidbcloud_private_link_availability_zones data source.
resource "tidbcloud_private_link_connection" "kafka" {
  cluster_id   = "1000000000000000001"
  display_name = "kafka-prod"
  aws_endpoint_service = {
    name = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"
  }

  timeouts {
    create = "30m"
    delete = "30m"
  }
}

# A connection from a cluster on Alibaba Cloud to your endpoint service.
resource "tidbcloud_private_link_connection" "rds" {
  cluster_id   = "1000000000000000002"
  display_name = "rds-source"
  alicloud_endpoint_service = {
    name = "com.aliyuncs.privatelink.ap-southeast-1.epsrv-t4n0123456789abcdef"
  }
}

# Accept this endpoint on your endpoint service (e.g. with
# aws_vpc_endpoint_connection_accepter) when it requires acceptance.
output "endpoint_id" {
  value = tidbcloud_private_link_connection.kafka.aws_endpoint_service.endpoint_id
}
