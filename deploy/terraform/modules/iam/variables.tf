variable "name" {
  description = "Name prefix (e.g. runway-prod)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider."
  type        = string
}

variable "oidc_issuer" {
  description = "OIDC issuer of the cluster without https:// (prefix of the IRSA condition keys)."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of runway."
  type        = string
  default     = "runway"
}

variable "service_accounts" {
  description = "Kubernetes service accounts of runway's roles (must match deploy/k8s/base)."
  type = object({
    api     = string
    worker  = string
    secrets = string
  })
  default = {
    api     = "runway-api"
    worker  = "runway-worker"
    secrets = "runway-secrets"
  }
}

variable "media_bucket_arn" {
  description = "The media bucket: the only bucket the app roles may use."
  type        = string
}

variable "storage_prefix" {
  description = "Prefix of runway's objects in the media bucket; the app roles reach nothing else."
  type        = string
}

variable "media_kms_key_arn" {
  description = "KMS key of the media bucket."
  type        = string
}

variable "queue_arns" {
  description = "runway's SQS queues (jobs, push), by name."
  type        = map(string)
}

variable "dead_letter_queue_arns" {
  description = "Their dead-letter queues, by queue name (workers dead-letter jobs themselves)."
  type        = map(string)
}

variable "thumbnail_results_queue_arn" {
  description = "Queue the thumbnail Lambda reports on; the worker role consumes it (media.processor = lambda)."
  type        = string
}

variable "platform_application_names" {
  description = "Names of the SNS platform applications (ios, android)."
  type        = map(string)
}

variable "secret_arns" {
  description = "Secrets Manager secrets runway's pods receive (through External Secrets)."
  type        = list(string)
}

variable "extra_secret_names" {
  description = "Secrets created outside Terraform (e.g. the CDN signing key) that runway's pods also receive, by name."
  type        = list(string)
  default     = []
}

variable "secrets_kms_key_arn" {
  description = "KMS key of those secrets."
  type        = string
}

variable "zone_id" {
  description = "Route 53 hosted zone external-dns may change."
  type        = string
}

variable "developer_managed_policy_arns" {
  description = "AWS managed policies for the developers group (least privilege for day-to-day work; admins use a separate role)."
  type        = list(string)
  default     = ["arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"]
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
