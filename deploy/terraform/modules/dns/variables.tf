variable "zone_id" {
  description = "Route 53 hosted zone of the environment's domain (an input: create or delegate it first, see docs/deployment.md)."
  type        = string
}

variable "api_domain" {
  description = "Host name of the API, e.g. api.example.com (an input: your domain)."
  type        = string
}

variable "cdn_domain" {
  description = "Host name of the media CDN, e.g. media.example.com."
  type        = string
}

variable "cdn_distribution_domain_name" {
  description = "CloudFront domain name of the media distribution."
  type        = string
}

variable "cdn_distribution_zone_id" {
  description = "Hosted zone ID of the CloudFront distribution."
  type        = string
}

variable "manage_api_record" {
  description = "Create the API alias record here, pointing at the ALB the AWS Load Balancer Controller made for the Ingress. Leave false when external-dns manages it (the default set-up), or the two will fight over the record."
  type        = bool
  default     = false
}

variable "cluster_name" {
  description = "EKS cluster whose Ingress ALB the API record points at (with manage_api_record)."
  type        = string
  default     = ""
}

variable "ingress_stack" {
  description = "The Ingress's stack tag (NAMESPACE/NAME) set by the AWS Load Balancer Controller."
  type        = string
  default     = "runway/runway-api"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
