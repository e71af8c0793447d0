variable "name" {
  description = "Name prefix (e.g. runway-prod)."
  type        = string
}

variable "dead_letter_queue_names" {
  description = "SQS dead-letter queues to alarm on (any visible message alarms)."
  type        = list(string)
}

variable "backlog_queue_names" {
  description = "SQS queues whose oldest message age is alarmed on."
  type        = list(string)
}

variable "backlog_max_age_seconds" {
  description = "Age of the oldest message above which a queue alarms (workers down or too few)."
  type        = number
  default     = 300
}

variable "rds_identifier" {
  description = "RDS instance to alarm on."
  type        = string
}

variable "db_max_connections" {
  description = "max_connections of the RDS instance (it depends on the instance memory); the alarm fires at 80%."
  type        = number
  default     = 600
}

variable "cache_max_connections" {
  description = "Redis connection count above which to alarm."
  type        = number
  default     = 2000
}

variable "cache_cluster_ids" {
  description = "ElastiCache clusters (members of the replication group) to alarm on."
  type        = list(string)
}

variable "lambda_function_names" {
  description = "Lambda functions whose errors alarm (the thumbnail function)."
  type        = list(string)
  default     = []
}

variable "alert_lambda_zip" {
  description = "Path of target/lambda/alert.zip built by scripts/build-lambdas; null until built (alarms then reach only alert_emails)."
  type        = string
  default     = null
}

variable "alert_lambda_environment" {
  description = "Extra environment of the alert Lambda (e.g. the Secrets Manager name of a chat webhook). No secret values here."
  type        = map(string)
  default     = {}
}

variable "lambda_architecture" {
  description = "Architecture the Lambda zips are built for (x86_64 or arm64)."
  type        = string
  default     = "x86_64"
}

variable "lambda_subnet_ids" {
  description = "Private app subnets for the alert Lambda's ENIs (they reach the internet through NAT)."
  type        = list(string)
}

variable "vpc_id" {
  description = "VPC for the Lambda's security group."
  type        = string
}

variable "alert_emails" {
  description = "E-mail addresses subscribed to the alert topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the alert Lambda's logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
