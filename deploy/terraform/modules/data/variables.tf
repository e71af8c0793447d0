variable "name" {
  description = "Name prefix (e.g. runway-prod)."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the data tier."
  type        = string
}

variable "db_subnet_ids" {
  description = "Private db-tier subnets (one per AZ)."
  type        = list(string)
}

variable "app_cidrs" {
  description = "CIDRs of the app, app_green and pod subnets: the only VPC sources allowed to reach the database and the cache."
  type        = list(string)
}

variable "onprem_cidrs" {
  description = "Company network ranges (Direct Connect) allowed to reach MySQL (not the cache)."
  type        = list(string)
  default     = []
}

variable "mysql_engine_version" {
  description = "RDS MySQL engine version (major.minor; minor upgrades are automatic)."
  type        = string
  default     = "8.4"
}

variable "mysql_parameter_group_family" {
  description = "Parameter group family matching mysql_engine_version."
  type        = string
  default     = "mysql8.4"
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.m7g.large"
}

variable "db_allocated_storage_gib" {
  description = "Initial storage (GiB); grows automatically up to db_max_allocated_storage_gib."
  type        = number
  default     = 50
}

variable "db_max_allocated_storage_gib" {
  description = "Upper bound of storage autoscaling (GiB)."
  type        = number
  default     = 500
}

variable "db_name" {
  description = "Database (schema) that runway uses."
  type        = string
  default     = "runway"
}

variable "db_username" {
  description = "Master user name, which runway uses."
  type        = string
  default     = "runway"
}

variable "db_backup_retention_days" {
  description = "Automated backup (point-in-time recovery) retention, in days."
  type        = number
  default     = 14
}

variable "deletion_protection" {
  description = "Protect the database and the final snapshot from accidental deletion."
  type        = bool
  default     = true
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.m7g.large"
}

variable "cache_engine_version" {
  description = "ElastiCache Redis OSS engine version."
  type        = string
  default     = "7.1"
}

variable "rds_ca_bundle_path" {
  description = "Where pods find the RDS CA bundle (the rds-ca-bundle key of the runway-secrets Secret, mounted by deploy/k8s)."
  type        = string
  default     = "/var/run/secrets/runway/rds-ca-bundle"
}

variable "log_retention_days" {
  description = "Retention of the database and cache logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
