variable "cluster_id" {
  description = "The TiDB Cloud Starter or Essential cluster (on AWS) whose changefeeds write to Kafka."
  type        = string
}

variable "aws_region" {
  description = "The AWS region of the Kafka brokers; it must be the cluster's region."
  type        = string
  default     = "us-west-2"
}

variable "name" {
  description = "Display name of the connection and prefix of the AWS names (at most 20 characters, so that target group names fit)."
  type        = string
  default     = "tidbcloud-kafka"
}

variable "vpc_id" {
  description = "The VPC of the Kafka brokers."
  type        = string
}

variable "subnet_ids_by_az" {
  description = "For the network load balancer: one subnet of the VPC per availability zone ID (e.g. usw2-az1), covering every zone of the cluster (see the availability_zones output)."
  type        = map(string)
}

variable "brokers" {
  description = "The Kafka brokers: a DNS label id (e.g. b1), the availability zone ID it runs in, its private IP, and a port unique among the brokers on which it serves the listener TiDB Cloud connects to."
  type = list(object({
    id    = string
    az_id = string
    ip    = string
    port  = number
  }))
  default = [
    { id = "b1", az_id = "usw2-az1", ip = "10.0.1.10", port = 9093 },
    { id = "b2", az_id = "usw2-az2", ip = "10.0.2.10", port = 9094 },
    { id = "b3", az_id = "usw2-az3", ip = "10.0.3.10", port = 9095 },
  ]
}
