variable "cluster_id" {
  description = "The TiDB Cloud Starter or Essential cluster (on AWS, ACTIVE) whose changefeeds write to Kafka."
  type        = string
}

variable "name" {
  description = "Display name of the private link connection and prefix of the AWS names (at most 20 characters, so that target group names fit)."
  type        = string
  default     = "tidbcloud-kafka"

  validation {
    condition     = length(var.name) >= 1 && length(var.name) <= 20 && can(regex("^[a-zA-Z0-9-]+$", var.name))
    error_message = "name must be 1 to 20 letters, digits or hyphens: it prefixes the NLB and target group names."
  }
}

variable "vpc_id" {
  description = "The VPC of the Kafka brokers."
  type        = string
}

variable "subnet_ids_by_az" {
  description = "One subnet of the VPC per availability zone ID (for example usw2-az1, not us-west-2a), covering every zone of the cluster (see the availability_zones output). The network load balancer gets a node in each."
  type        = map(string)
}

variable "brokers" {
  description = "The Kafka brokers: a DNS label id (for example b1), the availability zone ID it runs in, its private IP, and a port, unique among the brokers, on which it serves the listener TiDB Cloud connects to. The NLB listens on the same port and forwards to that broker only."
  type = list(object({
    id    = string
    az_id = string
    ip    = string
    port  = number
  }))

  validation {
    condition     = length(var.brokers) > 0 && length(distinct([for b in var.brokers : b.id])) == length(var.brokers) && length(distinct([for b in var.brokers : b.port])) == length(var.brokers)
    error_message = "brokers needs at least one broker, with unique ids and unique ports."
  }
  validation {
    condition     = alltrue([for b in var.brokers : can(regex("^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", b.id))])
    error_message = "Every broker id must be a DNS label: lowercase letters, digits and hyphens."
  }
}

variable "tags" {
  description = "Tags for the AWS resources this module creates."
  type        = map(string)
  default     = {}
}

variable "timeouts" {
  description = "How long to wait for TiDB Cloud: connection create and delete, domains attach (which includes waiting for the acceptance) and detach."
  type = object({
    connection_create = optional(string, "30m")
    connection_delete = optional(string, "30m")
    domains_create    = optional(string, "30m")
    domains_delete    = optional(string, "20m")
  })
  default = {}
}
