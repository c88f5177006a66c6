terraform {
  # Provider-defined functions (provider::tidbcloud::...) need Terraform 1.8.
  required_version = ">= 1.8"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    tidbcloud = {
      # The address the provider is installed under (from a release's
      # filesystem or network mirror, or with dev_overrides for a local
      # build). Change it to wherever you publish the provider.
      source = "terraform.local/tidbcloud/tidbcloud"
    }
  }
}
