data "tidbcloud_private_link_availability_zones" "this" {
  cluster_id = "1000000000000000001"
}

# Allow this principal on your endpoint service, e.g. in
# aws_vpc_endpoint_service.allowed_principals ("arn:aws:iam::<account_id>:root")
# or alicloud_privatelink_vpc_endpoint_service_user.user_arn
# ("acs:ram:*:<account_id>:*").
output "principal" {
  value = data.tidbcloud_private_link_availability_zones.this.principal
}

# Serve the endpoint service in these zones (e.g. usw2-az1) of this region.
output "zones" {
  value = {
    cloud_provider = data.tidbcloud_private_link_availability_zones.this.cloud_provider
    region         = data.tidbcloud_private_link_availability_zones.this.region
    az_ids         = data.tidbcloud_private_link_availability_zones.this.az_ids
  }
}
