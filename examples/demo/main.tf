# A Kafka private link, end to end, against the local simulator:
# the connection to an endpoint service that requires acceptance, the
# acceptance (here through the simulator's control surface; on AWS an
# aws_vpc_endpoint_connection_accepter), and the TiDB Cloud managed domains
# the Kafka brokers advertise.
terraform {
  # Provider-defined functions (provider::tidbcloud::...) need Terraform 1.8.
  required_version = ">= 1.8"

  required_providers {
    tidbcloud = {
      source = "terraform.local/tidbcloud/tidbcloud"
    }
  }
}

variable "simulator_url" {
  description = "The tidbcloud-sim base URL (the provider reads the same from TIDBCLOUD_SERVERLESS_ENDPOINT)."
  type        = string
}

variable "cluster_id" {
  type    = string
  default = "1000000000000000001"
}

variable "endpoint_service_name" {
  type    = string
  default = "com.amazonaws.vpce.us-west-2.vpce-svc-0fedcba9876543210"
}

provider "tidbcloud" {}

data "tidbcloud_private_link_availability_zones" "this" {
  cluster_id = var.cluster_id
}

resource "tidbcloud_private_link_connection" "kafka" {
  cluster_id   = var.cluster_id
  display_name = "kafka-demo"
  aws_endpoint_service = {
    name = var.endpoint_service_name
  }
}

# Stands in for aws_vpc_endpoint_connection_accepter.
resource "terraform_data" "accept" {
  input = tidbcloud_private_link_connection.kafka.aws_endpoint_service.endpoint_id
  provisioner "local-exec" {
    command = "curl -fsS -X POST '${var.simulator_url}/_sim/endpoint-services/${var.endpoint_service_name}/accept'"
  }
}

resource "tidbcloud_private_link_domains" "kafka" {
  cluster_id                 = var.cluster_id
  private_link_connection_id = tidbcloud_private_link_connection.kafka.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"
  depends_on                 = [terraform_data.accept]
}

output "principal_to_allow" {
  value = data.tidbcloud_private_link_availability_zones.this.principal
}

output "domains_by_az" {
  value = tidbcloud_private_link_domains.kafka.domains_by_az
}

output "broker_b1_listener" {
  value = provider::tidbcloud::kafka_advertised_listener(tidbcloud_private_link_domains.kafka.domains_by_az["usw2-az1"], "b1", 9093)
}
