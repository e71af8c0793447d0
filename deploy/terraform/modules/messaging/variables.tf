variable "name" {
  description = "Name prefix (e.g. runway-prod)."
  type        = string
}

variable "queues" {
  description = "SQS queues runway uses, each with its own dead-letter queue: jobs (RUNWAY_QUEUE_URL, background jobs) and push (notifications to send through SNS)."
  type = map(object({
    visibility_timeout_seconds = number
    max_receive_count          = number
  }))
  default = {
    # runway renews leases every third of jobs.lease_secs and dead-letters after
    # jobs.max_attempts (8); SQS's redrive is the backstop above that.
    jobs = { visibility_timeout_seconds = 30, max_receive_count = 10 }
    push = { visibility_timeout_seconds = 30, max_receive_count = 10 }
  }
}

variable "apns_platform" {
  description = "APNS for production iOS builds, APNS_SANDBOX for development builds."
  type        = string
  default     = "APNS"
  validation {
    condition     = contains(["APNS", "APNS_SANDBOX"], var.apns_platform)
    error_message = "apns_platform must be APNS or APNS_SANDBOX."
  }
}

variable "apns_secret_name" {
  description = "Secrets Manager secret (created by hand, never in a file) holding the APNs token key as JSON: {\"key_id\": \"…\", \"team_id\": \"…\", \"bundle_id\": \"…\", \"private_key\": \"-----BEGIN PRIVATE KEY-----…\"}. null: no iOS platform application yet."
  type        = string
  default     = null
}

variable "fcm_secret_name" {
  description = "Secrets Manager secret (created by hand) holding the Firebase service-account JSON for FCM HTTP v1. null: no Android platform application yet."
  type        = string
  default     = null
}

variable "feedback_sample_rate" {
  description = "Percentage of successful push deliveries SNS logs to CloudWatch (failures are always logged)."
  type        = number
  default     = 10
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
