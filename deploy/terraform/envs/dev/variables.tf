# ---------------------------------------------------------------- inputs of this account

variable "account_id" {
  description = "INPUT: the AWS account ID of this environment (Terraform refuses to run against any other)."
  type        = string
}

variable "region" {
  description = "INPUT: AWS region, e.g. eu-central-1."
  type        = string
}

variable "zone_id" {
  description = "INPUT: Route 53 hosted zone ID of the environment's domain (created or delegated beforehand)."
  type        = string
}

variable "api_domain" {
  description = "INPUT: host name of the API, e.g. api.dev.example.com."
  type        = string
}

variable "cdn_domain" {
  description = "INPUT: host name of the media CDN, e.g. media.dev.example.com."
  type        = string
}

variable "admin_role_arns" {
  description = "INPUT: IAM roles given cluster-admin on EKS (your SSO administrator role and the role Terraform runs as)."
  type        = list(string)
}

variable "cdn_signing_public_key_files" {
  description = "PEM public keys for CloudFront signed URLs, by name, as paths relative to this directory. Keep two during a rotation (docs/operations.md). Private keys go to Secrets Manager only."
  type        = map(string)
  default     = { primary = "cdn-signing-public-key.pem" }
}

variable "cdn_active_signing_key" {
  description = "Name (in cdn_signing_public_key_files) of the key runway signs with; its private key is the secret <name>/runway/cdn-signing-key."
  type        = string
  default     = "primary"
}

variable "alert_emails" {
  description = "E-mail addresses that receive CloudWatch alarms."
  type        = list(string)
  default     = []
}

variable "apns_secret_name" {
  description = "Secrets Manager secret with the APNs token key (see modules/messaging); null until created."
  type        = string
  default     = null
}

variable "fcm_secret_name" {
  description = "Secrets Manager secret with the FCM service-account JSON; null until created."
  type        = string
  default     = null
}

variable "thumbnail_lambda_zip" {
  description = "Path of the thumbnail Lambda zip (e.g. ../../../../target/lambda/thumbnail.zip from scripts/build-lambdas); null until built."
  type        = string
  default     = null
}

variable "media_settings" {
  description = "runway's media pipeline settings that differ from its defaults, e.g. { RUNWAY_MEDIA__MAX_PIXELS = \"40000000\" }: written to aws.env for the pods (kustomize_env) and given to the thumbnail Lambda, so both use the same values. Only the keys deploy/k8s/components/aws-env copies into the pods' configuration."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for k in keys(var.media_settings) : contains(keys(local.media_defaults), k)])
    error_message = "media_settings keys must be among RUNWAY_MEDIA__MAX_UPLOAD_BYTES, RUNWAY_MEDIA__MAX_PIXELS, RUNWAY_MEDIA__MAX_SIDE, RUNWAY_MEDIA__MAX_FRAMES, RUNWAY_MEDIA__KEEP_ORIGINAL_METADATA, RUNWAY_MEDIA__VARIANT_FORMAT and RUNWAY_MEDIA__VARIANT_QUALITY (the settings both the pods and the thumbnail Lambda receive)."
  }
}

variable "alert_lambda_zip" {
  description = "Path of the alert Lambda zip (e.g. ../../../../target/lambda/alert.zip); null until built."
  type        = string
  default     = null
}

variable "alert_slack_webhook_secret_arn" {
  description = "Full ARN of a Secrets Manager secret holding a Slack-compatible incoming webhook URL (the URL, or JSON {\"url\": ...}), e.g. of runway-dev/alerts/slack. The alert Lambda needs this or alert_webhook_secret_arn."
  type        = string
  default     = null
}

variable "alert_webhook_secret_arn" {
  description = "Full ARN of a Secrets Manager secret holding the URL of a generic JSON alert webhook (the URL, or JSON {\"url\": ...})."
  type        = string
  default     = null
}

# ---------------------------------------------------------------- the network plan
# Written by `runway plan-network --tfvars network.auto.tfvars.json`; the
# types match modules/network/variables.tf (the planner's contract).

variable "vpc_cidr" {
  description = "Primary VPC CIDR, from runway plan-network."
  type        = string
}

variable "secondary_cidr_blocks" {
  description = "Extra VPC CIDRs (custom-networking pod ranges), from runway plan-network."
  type        = list(string)
  default     = []
}

variable "az_count" {
  description = "Availability zones (2 or 3), from runway plan-network."
  type        = number
}

variable "subnets" {
  description = "Subnet CIDRs per tier, one per AZ, from runway plan-network."
  type = object({
    public        = list(string)
    app           = list(string)
    app_green     = list(string)
    control_plane = list(string)
    db            = list(string)
    endpoint      = list(string)
    pods          = list(string)
  })
}

variable "onprem_cidrs" {
  description = "Company network ranges reached over Direct Connect, from runway plan-network."
  type        = list(string)
  default     = []
}
