terraform {
  # Provider-defined functions (provider::tidbcloud::...) need Terraform 1.8.
  required_version = ">= 1.8"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    tidbcloud = {
      # The address this repository's provider is installed under with a
      # dev_overrides block in the Terraform CLI configuration (see the
      # README). Change it to wherever you publish the provider.
      source = "terraform.local/tidbcloud/tidbcloud"
    }
  }
}
