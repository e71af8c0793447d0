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
  description = "Path of target/lambda/alert.zip built by scripts/build-lambdas; null until built (alarms then reach only alert_emails). With it, at least one webhook target is required."
  type        = string
  default     = null
}

variable "alert_slack_webhook_secret_arn" {
  description = "Full ARN (with Secrets Manager's 6-character suffix) of a secret holding a Slack-compatible incoming webhook URL: the URL itself or JSON {\"url\": ...}. Becomes RUNWAY_ALERT_SLACK_WEBHOOK_SECRET_ARN; the function may read only the configured secrets."
  type        = string
  default     = null
  validation {
    condition     = var.alert_slack_webhook_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+-[A-Za-z0-9]{6}$", var.alert_slack_webhook_secret_arn))
    error_message = "alert_slack_webhook_secret_arn must be a secret's full ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX)."
  }
}

variable "alert_webhook_secret_arn" {
  description = "Full ARN (with Secrets Manager's 6-character suffix) of a secret holding the URL of a generic JSON webhook: the URL itself or JSON {\"url\": ...}. Becomes RUNWAY_ALERT_WEBHOOK_SECRET_ARN."
  type        = string
  default     = null
  validation {
    condition     = var.alert_webhook_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+-[A-Za-z0-9]{6}$", var.alert_webhook_secret_arn))
    error_message = "alert_webhook_secret_arn must be a secret's full ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX)."
  }
}

variable "alert_lambda_environment" {
  description = "Extra environment of the alert Lambda, merged last (e.g. RUNWAY_ALERT_FLAP_WINDOW_SECS, default 900; RUNWAY_ALERT_FLAP_THRESHOLD, default 3). No secret values here: webhook URLs carry credentials, so give them as secrets (alert_*_secret_arn)."
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
