provider "tidbcloud" {
  # Or set TIDBCLOUD_PUBLIC_KEY and TIDBCLOUD_PRIVATE_KEY.
  public_key  = var.tidbcloud_public_key
  private_key = var.tidbcloud_private_key
  # endpoint  = "https://serverless.tidbapi.com" # or TIDBCLOUD_SERVERLESS_ENDPOINT
}
