variable "cluster_id" {
  description = "The TiDB Cloud Starter or Essential cluster (on Alibaba Cloud) whose changefeeds write to Kafka."
  type        = string
}

variable "region" {
  description = "The Alibaba Cloud region of the Kafka brokers; it must be the cluster's region."
  type        = string
  default     = "ap-southeast-1"
}

variable "name" {
  description = "Display name of the private link connection and description of the endpoint service."
  type        = string
  default     = "tidbcloud-kafka"
}

variable "nlb_id" {
  description = "An internal Network Load Balancer (alicloud_nlb_load_balancer) in front of the brokers, with a zone in each of the cluster's zones (see the availability_zones output) and one listener per broker port forwarding to that broker."
  type        = string
}

variable "brokers" {
  description = "The Kafka brokers: a DNS label id (e.g. b1) and the NLB port, unique among the brokers, that forwards to its listener for TiDB Cloud."
  type = list(object({
    id   = string
    port = number
  }))
  default = [
    { id = "b1", port = 9093 },
    { id = "b2", port = 9094 },
    { id = "b3", port = 9095 },
  ]
}
