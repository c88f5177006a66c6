# "arn:aws:iam::123456789012:root"
output "aws_principal" {
  value = provider::tidbcloud::endpoint_service_principal("aws", "123456789012")
}

# "acs:ram:*:5012345678901234:*"
output "alicloud_principal" {
  value = provider::tidbcloud::endpoint_service_principal("alicloud", "5012345678901234")
}
