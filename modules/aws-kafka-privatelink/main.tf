# TiDB Cloud changefeeds to a self-managed Kafka on AWS over a private link:
#
#   brokers <- NLB (one listener and target group per broker)
#     <- VPC endpoint service (allows TiDB Cloud's account, requires acceptance)
#     <- VPC endpoint created by TiDB Cloud (tidbcloud_private_link_connection)
#
# The accepter accepts TiDB Cloud's endpoint; the TiDB Cloud managed domains
# then resolve, per availability zone, to that endpoint. Each broker
# advertises a name under its zone's domain and its own port (see the
# advertised_listeners output).

data "tidbcloud_private_link_availability_zones" "this" {
  cluster_id = var.cluster_id
}

data "aws_region" "current" {}

locals {
  zones   = data.tidbcloud_private_link_availability_zones.this
  brokers = { for b in var.brokers : b.id => b }
}

# ---- the Kafka side: an internal NLB with one listener per broker ----------

resource "aws_lb" "this" {
  name               = "${var.name}-nlb"
  internal           = true
  load_balancer_type = "network"
  # Subnets are chosen by AZ ID: AZ names such as us-west-2a map to different
  # zones in different AWS accounts; IDs such as usw2-az1 do not.
  subnets = [for az in local.zones.az_ids : var.subnet_ids_by_az[az] if contains(keys(var.subnet_ids_by_az), az)]
  # A broker runs in one zone; let every zone's node reach it.
  enable_cross_zone_load_balancing = true
  tags                             = var.tags

  lifecycle {
    precondition {
      condition     = alltrue([for az in local.zones.az_ids : contains(keys(var.subnet_ids_by_az), az)])
      error_message = "subnet_ids_by_az needs a subnet in each of the cluster's availability zones: ${join(", ", local.zones.az_ids)}."
    }
    precondition {
      condition     = alltrue([for b in var.brokers : contains(local.zones.az_ids, b.az_id)])
      error_message = "Every broker's az_id must be one of the cluster's availability zones: ${join(", ", local.zones.az_ids)}."
    }
  }
}

resource "aws_lb_target_group" "broker" {
  for_each = local.brokers

  name        = "${var.name}-${each.key}"
  port        = each.value.port
  protocol    = "TCP"
  target_type = "ip"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_lb_target_group_attachment" "broker" {
  for_each = local.brokers

  target_group_arn = aws_lb_target_group.broker[each.key].arn
  target_id        = each.value.ip
  port             = each.value.port
}

resource "aws_lb_listener" "broker" {
  for_each = local.brokers

  load_balancer_arn = aws_lb.this.arn
  port              = each.value.port
  protocol          = "TCP"
  tags              = var.tags

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.broker[each.key].arn
  }
}

# ---- the endpoint service TiDB Cloud connects to ---------------------------

resource "aws_vpc_endpoint_service" "this" {
  acceptance_required        = true
  network_load_balancer_arns = [aws_lb.this.arn]
  # arn:aws:iam::<TiDB Cloud's account>:root
  allowed_principals = [local.zones.principal]

  tags = merge(var.tags, { Name = "${var.name}-endpoint-service" })

  lifecycle {
    precondition {
      condition     = local.zones.cloud_provider == "aws" && local.zones.region == data.aws_region.current.name
      error_message = "Cluster ${var.cluster_id} runs on ${local.zones.cloud_provider} in ${local.zones.region}; the endpoint service must be on aws in that region (this module's AWS provider is in ${data.aws_region.current.name})."
    }
  }
}

# ---- TiDB Cloud: the connection, its acceptance, the domains ---------------

resource "tidbcloud_private_link_connection" "this" {
  cluster_id   = var.cluster_id
  display_name = var.name
  aws_endpoint_service = {
    name = aws_vpc_endpoint_service.this.service_name
  }

  timeouts {
    create = var.timeouts.connection_create
    delete = var.timeouts.connection_delete
  }

  # TiDB Cloud may only connect once the NLB serves.
  depends_on = [aws_lb_listener.broker]
}

# The connection waits in PENDING_ACCEPTANCE until this accepts its endpoint.
resource "aws_vpc_endpoint_connection_accepter" "this" {
  vpc_endpoint_service_id = aws_vpc_endpoint_service.this.id
  vpc_endpoint_id         = tidbcloud_private_link_connection.this.aws_endpoint_service.endpoint_id
}

# One wildcard domain per availability zone of the connection:
# *.<az_id>.<unique_name>.aws.plc.tidbcloud.com. Attaching waits until the
# connection is ACTIVE, that is until the accepter has run.
resource "tidbcloud_private_link_domains" "this" {
  cluster_id                 = var.cluster_id
  private_link_connection_id = tidbcloud_private_link_connection.this.private_link_connection_id
  type                       = "TIDBCLOUD_MANAGED"

  timeouts {
    create = var.timeouts.domains_create
    delete = var.timeouts.domains_delete
  }

  depends_on = [aws_vpc_endpoint_connection_accepter.this]
}
