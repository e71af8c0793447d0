variable "name" {
  description = "Name prefix (e.g. runway-prod). Bucket names add the account ID to be globally unique."
  type        = string
}

variable "cdn_domain" {
  description = "Host name of the media CDN, e.g. media.example.com (an input: your domain)."
  type        = string
}

variable "zone_id" {
  description = "Route 53 hosted zone that holds cdn_domain (for the certificate's DNS validation)."
  type        = string
}

variable "signing_public_keys" {
  description = "PEM public keys trusted for CloudFront signed URLs, by a name you choose (e.g. the month made). Several keys allow rotation without downtime (docs/operations.md); keep each private key in Secrets Manager only."
  type        = map(string)
  validation {
    condition     = length(var.signing_public_keys) > 0
    error_message = "At least one signing public key is required."
  }
}

variable "storage_prefix" {
  description = "Prefix of everything runway stores in the bucket (RUNWAY_STORAGE_URL is s3://BUCKET/PREFIX); the app roles are limited to it. Uploads are staged under PREFIX/uploads/ (abandoned ones expire); processed files live under PREFIX/private/ and PREFIX/public/, where the thumbnail Lambda writes them."
  type        = string
  default     = "media"
  validation {
    condition     = can(regex("^[A-Za-z0-9!_.'()-]+(/[A-Za-z0-9!_.'()-]+)*$", var.storage_prefix))
    error_message = "storage_prefix must be a non-empty S3 key prefix without leading or trailing \"/\" and without IAM wildcards (e.g. \"media\")."
  }
}

variable "abandoned_upload_days" {
  description = "Days after which staged uploads (objects under <storage_prefix>/uploads/) and incomplete multipart uploads are removed."
  type        = number
  default     = 2
}

variable "noncurrent_version_days" {
  description = "Days a replaced or deleted object version is kept (recovery window)."
  type        = number
  default     = 30
}

variable "price_class" {
  description = "CloudFront price class (PriceClass_All serves users abroad from the nearest edge)."
  type        = string
  default     = "PriceClass_All"
}

variable "thumbnail_lambda_zip" {
  description = "Path of target/lambda/thumbnail.zip built by scripts/build-lambdas; null until the Lambda is built (the function is then not created and runway's worker makes the thumbnails: output media_processor)."
  type        = string
  default     = null
}

variable "lambda_architecture" {
  description = "Architecture the Lambda zips are built for (x86_64 or arm64)."
  type        = string
  default     = "x86_64"
}

variable "lambda_subnet_ids" {
  description = "Private app subnets for the thumbnail Lambda's ENIs."
  type        = list(string)
}

variable "vpc_id" {
  description = "VPC for the Lambda's security group."
  type        = string
}

variable "thumbnail_concurrency" {
  description = "Reserved concurrent thumbnail invocations, and the SQS event source's maximum concurrency (the same number, so polled messages are never throttled)."
  type        = number
  default     = 10
  validation {
    # SQS event sources accept a maximum concurrency of 2 or more, and it must
    # not exceed the reserved concurrency: throttled invocations would count
    # as receives towards the uploads DLQ.
    condition     = var.thumbnail_concurrency >= 2
    error_message = "thumbnail_concurrency must be at least 2 (the minimum maximum concurrency of an SQS event source)."
  }
}

variable "media_settings" {
  description = "runway's media pipeline settings (RUNWAY_MEDIA__MAX_PIXELS = \"50000000\", ...) for the thumbnail Lambda's environment; pass the same map the pods get (envs: kustomize_env). RUNWAY_MEDIA__PROCESSOR and RUNWAY_MEDIA__RESULTS_QUEUE_URL are this module's to set."
  type        = map(string)
  default     = {}
  validation {
    condition = alltrue([
      for k in keys(var.media_settings) :
      startswith(k, "RUNWAY_MEDIA__") && !contains(["RUNWAY_MEDIA__PROCESSOR", "RUNWAY_MEDIA__RESULTS_QUEUE_URL"], k)
    ])
    error_message = "media_settings keys must start with RUNWAY_MEDIA__ and must not be RUNWAY_MEDIA__PROCESSOR or RUNWAY_MEDIA__RESULTS_QUEUE_URL."
  }
}

variable "log_retention_days" {
  description = "Retention of logs (Lambda) and access logs (S3, CloudFront) in days."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
