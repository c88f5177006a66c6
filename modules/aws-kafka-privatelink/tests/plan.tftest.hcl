# Plan only, with AWS mocked (nothing is created anywhere). TiDB Cloud is
# the API the provider is configured for through TIDBCLOUD_* variables, for
# example a local tidbcloud-sim, whose default world has cluster
# 1000000000000000001 on AWS in us-west-2 with zones usw2-az1..3 and
# account 123456789012.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = {
      name = "us-west-2"
    }
  }
}

variables {
  cluster_id = "1000000000000000001"
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

run "one_listener_and_target_group_per_broker" {
  command = plan

  assert {
    condition     = aws_lb.this.subnets == toset(["subnet-01", "subnet-02", "subnet-03"])
    error_message = "NLB subnets: ${jsonencode(aws_lb.this.subnets)}"
  }
  assert {
    condition     = aws_lb.this.internal && aws_lb.this.load_balancer_type == "network"
    error_message = "the NLB must be internal and of type network"
  }
  assert {
    condition     = length(aws_lb_listener.broker) == 3 && aws_lb_listener.broker["b2"].port == 9094 && aws_lb_listener.broker["b2"].protocol == "TCP"
    error_message = "listeners: ${jsonencode(keys(aws_lb_listener.broker))}"
  }
  assert {
    condition     = aws_lb_target_group.broker["b3"].port == 9095 && aws_lb_target_group.broker["b3"].target_type == "ip"
    error_message = "b3's target group"
  }
  assert {
    condition     = aws_lb_target_group_attachment.broker["b1"].target_id == "10.0.1.10" && aws_lb_target_group_attachment.broker["b1"].port == 9093
    error_message = "b1's target: ${aws_lb_target_group_attachment.broker["b1"].target_id}"
  }
  assert {
    condition     = aws_vpc_endpoint_service.this.allowed_principals == toset(["arn:aws:iam::123456789012:root"])
    error_message = "allowed_principals: ${jsonencode(aws_vpc_endpoint_service.this.allowed_principals)}"
  }
  assert {
    condition     = aws_vpc_endpoint_service.this.acceptance_required
    error_message = "the endpoint service must require acceptance"
  }
  assert {
    condition     = tidbcloud_private_link_connection.this.display_name == "tidbcloud-kafka" && tidbcloud_private_link_domains.this.type == "TIDBCLOUD_MANAGED"
    error_message = "the connection and the domains"
  }
}

run "a_zone_without_a_subnet_is_refused" {
  command = plan

  variables {
    subnet_ids_by_az = {
      "usw2-az1" = "subnet-01"
      "usw2-az2" = "subnet-02"
    }
  }

  expect_failures = [aws_lb.this]
}

run "a_broker_outside_the_cluster_zones_is_refused" {
  command = plan

  variables {
    brokers = [{ id = "b1", az_id = "usw2-az4", ip = "10.0.4.10", port = 9093 }]
  }

  expect_failures = [aws_lb.this]
}

run "duplicate_broker_ports_are_refused" {
  command = plan

  variables {
    brokers = [
      { id = "b1", az_id = "usw2-az1", ip = "10.0.1.10", port = 9093 },
      { id = "b2", az_id = "usw2-az2", ip = "10.0.2.10", port = 9093 },
    ]
  }

  expect_failures = [var.brokers]
}

run "an_endpoint_service_in_another_region_is_refused" {
  command = plan

  override_data {
    target = data.aws_region.current
    values = {
      name = "eu-central-1"
    }
  }

  expect_failures = [aws_vpc_endpoint_service.this]
}
