# TiDB Cloud changefeeds to a self-managed Kafka on AWS over a private link,
# with the reusable module in modules/aws-kafka-privatelink:
#
#   brokers <- NLB (one listener per broker) <- VPC endpoint service
#     <- endpoint created by TiDB Cloud (tidbcloud_private_link_connection)
#
# The module creates the NLB, a listener and target group per broker, the
# endpoint service allowing TiDB Cloud's account, the connection, its
# acceptance and the TiDB Cloud managed domains; each broker then advertises
# the host:port in the advertised_listeners output.

provider "aws" {
  region = var.aws_region
}

# Credentials from TIDBCLOUD_PUBLIC_KEY and TIDBCLOUD_PRIVATE_KEY.
provider "tidbcloud" {}

module "kafka_privatelink" {
  source = "../../modules/aws-kafka-privatelink"

  cluster_id       = var.cluster_id
  name             = var.name
  vpc_id           = var.vpc_id
  subnet_ids_by_az = var.subnet_ids_by_az
  brokers          = var.brokers
}
