variable "name" {
  description = "Name prefix (e.g. runway-prod)."
  type        = string
}

variable "repository_name" {
  description = "ECR repository of the runway image."
  type        = string
  default     = "runway"
}

variable "keep_images" {
  description = "Number of most recent release images kept (older ones expire; rollbacks need the last few)."
  type        = number
  default     = 100
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
