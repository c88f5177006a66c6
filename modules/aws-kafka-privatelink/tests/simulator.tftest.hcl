# Apply and destroy against a TiDB Cloud API with AWS mocked: a local
# tidbcloud-sim with its default world, reached through the TIDBCLOUD_*
# variables. A mocked accepter accepts nothing, so the endpoint service's
# name is mocked to the simulator's service that accepts connections
# automatically; the connection then becomes ACTIVE and the domains attach.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-west-2"
    }
  }
  # Mocked values are random strings; the AWS provider checks ARNs.
  mock_resource "aws_lb" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:us-west-2:111122223333:loadbalancer/net/kafka/0123456789abcdef"
    }
  }
  mock_resource "aws_lb_target_group" {
    defaults = {
      arn = "arn:aws:elasticloadbalancing:us-west-2:111122223333:targetgroup/kafka/0123456789abcdef"
    }
  }
  mock_resource "aws_vpc_endpoint_service" {
    defaults = {
      id           = "vpce-svc-01234567890abcdef"
      service_name = "com.amazonaws.vpce.us-west-2.vpce-svc-01234567890abcdef"
    }
  }
}

variables {
  cluster_id = "1000000000000000001"
  name       = "kafka-module-test"
  vpc_id     = "vpc-0123456789abcdef0"
  subnet_ids_by_az = {
    "usw2-az1" = "subnet-01"
    "usw2-az2" = "subnet-02"
    "usw2-az3" = "subnet-03"
  }
  brokers = [
    { id = "b1", az_id = "usw2-az1", ip = "10.0.1.10", port = 9093 },
    { id = "b2", az_id = "usw2-az2", ip = "10.0.2.10", port = 9094 },
    { id = "b3", az_id = "usw2-az3", ip = "10.0.3.10", port = 9095 },
  ]
}

run "kafka_over_private_link" {
  assert {
    condition     = tidbcloud_private_link_connection.this.state == "ACTIVE"
    error_message = "connection state ${tidbcloud_private_link_connection.this.state}"
  }
  assert {
    condition     = startswith(aws_vpc_endpoint_connection_accepter.this.vpc_endpoint_id, "vpce-") && aws_vpc_endpoint_connection_accepter.this.vpc_endpoint_id == tidbcloud_private_link_connection.this.aws_endpoint_service.endpoint_id
    error_message = "the accepter accepts ${aws_vpc_endpoint_connection_accepter.this.vpc_endpoint_id}"
  }
  assert {
    condition     = aws_vpc_endpoint_connection_accepter.this.vpc_endpoint_service_id == aws_vpc_endpoint_service.this.id
    error_message = "the accepter is on ${aws_vpc_endpoint_connection_accepter.this.vpc_endpoint_service_id}"
  }
  assert {
    condition     = toset(keys(output.domains_by_az)) == toset(["usw2-az1", "usw2-az2", "usw2-az3"])
    error_message = "domains: ${jsonencode(output.domains_by_az)}"
  }
  assert {
    condition     = length(output.advertised_listeners) == 3
    error_message = "advertised listeners: ${jsonencode(output.advertised_listeners)}"
  }
  assert {
    condition     = length(regexall("^b1\\.usw2-az1\\.[a-z0-9-]+\\.aws\\.plc\\.tidbcloud\\.com:9093$", output.advertised_listeners["b1"])) == 1
    error_message = "b1 advertises ${output.advertised_listeners["b1"]}"
  }
  assert {
    condition     = length(regexall("^b3\\.usw2-az3\\.[a-z0-9-]+\\.aws\\.plc\\.tidbcloud\\.com:9095$", output.advertised_listeners["b3"])) == 1
    error_message = "b3 advertises ${output.advertised_listeners["b3"]}"
  }
  assert {
    condition     = output.private_link_connection_id == tidbcloud_private_link_connection.this.private_link_connection_id && startswith(output.private_link_connection_id, "plc-")
    error_message = "connection id ${output.private_link_connection_id}"
  }
}
