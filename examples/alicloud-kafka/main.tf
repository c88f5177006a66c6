# TiDB Cloud changefeeds to a self-managed Kafka on Alibaba Cloud over a
# private link:
#
#   brokers <- NLB (one listener per broker) <- PrivateLink endpoint service
#     <- endpoint created by TiDB Cloud (tidbcloud_private_link_connection)
#
# The endpoint service allows TiDB Cloud's account (the principal from the
# availability zones data source) and does not accept connections
# automatically: alicloud_privatelink_vpc_endpoint_connection accepts the
# endpoint TiDB Cloud creates. The TiDB Cloud managed domain resolves to that
# endpoint; each broker advertises a name under it and its own port.

provider "alicloud" {
  region = var.region
}

# Credentials from TIDBCLOUD_PUBLIC_KEY and TIDBCLOUD_PRIVATE_KEY.
provider "tidbcloud" {}

data "tidbcloud_private_link_availability_zones" "this" {
  cluster_id = var.cluster_id
}

locals {
  zones = data.tidbcloud_private_link_availability_zones.this
}

# ---- the endpoint service TiDB Cloud connects to ---------------------------

resource "alicloud_privatelink_vpc_endpoint_service" "kafka" {
  service_description    = var.name
  service_resource_type  = "nlb"
  auto_accept_connection = false

  lifecycle {
    precondition {
      condition     = local.zones.cloud_provider == "alicloud" && local.zones.region == var.region
      error_message = "Cluster ${var.cluster_id} runs on ${local.zones.cloud_provider} in ${local.zones.region}; the endpoint service must be on alicloud in that region (set region)."
    }
  }
}

# The NLB serves the endpoint service in every zone TiDB Cloud reaches.
resource "alicloud_privatelink_vpc_endpoint_service_resource" "kafka" {
  for_each = toset(local.zones.az_ids)

  service_id    = alicloud_privatelink_vpc_endpoint_service.kafka.id
  resource_id   = var.nlb_id
  resource_type = "nlb"
  zone_id       = each.key
}

# acs:ram:*:<TiDB Cloud's account>:*
resource "alicloud_privatelink_vpc_endpoint_service_user" "tidbcloud" {
  service_id = alicloud_privatelink_vpc_endpoint_service.kafka.id
  user_arn   = local.zones.principal
}

# ---- TiDB Cloud: the connection, its acceptance, the domains ---------------

resource "tidbcloud_private_link_connection" "kafka" {
  cluster_id   = var.cluster_id
  display_name = var.name
  alicloud_endpoint_service = {
    name = alicloud_privatelink_vpc_endpoint_service.kafka.vpc_endpoint_service_name
  }

  timeouts {
    create = "30m"
    delete = "30m"
  }

  # TiDB Cloud may only connect once its account is allowed and the NLB serves.
  depends_on = [
    alicloud_privatelink_vpc_endpoint_service_user.tidbcloud,
    alicloud_privatelink_vpc_endpoint_service_resource.kafka,
  ]
}

# The connection waits in PENDING_ACCEPTANCE until this accepts its endpoint.
resource "alicloud_privatelink_vpc_endpoint_connection" "kafka" {
  service_id  = alicloud_privatelink_vpc_endpoint_service.kafka.id
  endpoint_id = tidbcloud_private_link_connection.kafka.alicloud_endpoint_service.endpoint_id
}

# On Alibaba Cloud one domain, *.<unique_name>.alicloud.plc.tidbcloud.com.
# Attaching waits until the connection is ACTIVE, that is until accepted.
resource "tidbcloud_private_link_domains" "kafka" {
  cluster_id                 = var.cluster_id
  private_link_connection_id = tidbcloud_private_link_connection.kafka.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"

  timeouts {
    create = "30m"
  }

  depends_on = [alicloud_privatelink_vpc_endpoint_connection.kafka]
}
