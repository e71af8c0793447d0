variable "name" {
  description = "Name prefix (e.g. runway-prod)."
  type        = string
}

variable "cluster_name" {
  description = "EKS cluster the pipeline deploys to."
  type        = string
}

variable "overlay" {
  description = "Kustomize overlay under deploy/k8s/overlays applied by the pipeline (dev or prod)."
  type        = string
}

variable "namespace" {
  description = "Kubernetes namespace of runway."
  type        = string
  default     = "runway"
}

variable "repository_url" {
  description = "ECR repository URL of the runway image."
  type        = string
}

variable "repository_arn" {
  description = "ECR repository ARN."
  type        = string
}

variable "kustomize_env" {
  description = "Contents of the overlay's aws.env (account-specific values: role ARNs, certificate, host name, URLs), stored in SSM for the pipeline."
  type        = string
}

variable "vpc_id" {
  description = "VPC the build runs in (the EKS endpoint is private)."
  type        = string
}

variable "subnet_ids" {
  description = "Private app subnets for the build (they reach the internet through NAT)."
  type        = list(string)
}

variable "access_log_bucket" {
  description = "Bucket receiving S3 server access logs of the source bucket."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the build logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
