terraform {
  # Provider-defined functions (provider::tidbcloud::...) need Terraform 1.8.
  required_version = ">= 1.8"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    tidbcloud = {
      # The address the provider is installed or published under; change it
      # together with the callers' required_providers.
      source = "terraform.local/tidbcloud/tidbcloud"
    }
  }
}
