# Inputs of the network module. The address plan (vpc_cidr, subnets, …) is
# produced by `runway plan-network --tfvars FILE`, whose JSON output has
# exactly these keys; a test in crates/runway-netplan checks the two agree.

variable "name" {
  description = "Name prefix for every resource (e.g. runway-prod)."
  type        = string
}

variable "vpc_cidr" {
  description = "Primary VPC CIDR, from runway plan-network."
  type        = string
}

variable "secondary_cidr_blocks" {
  description = "Extra VPC CIDRs, e.g. 100.64.0.0/16 for EKS custom networking (pods outside the primary range). Empty when pods use the node subnets."
  type        = list(string)
  default     = []
}

variable "az_count" {
  description = "Availability zones to use (2 or 3). The subnet lists below hold one CIDR per AZ, in AZ order."
  type        = number
  validation {
    condition     = var.az_count == 2 || var.az_count == 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "subnets" {
  description = <<-EOT
    Subnet CIDRs per tier, one per AZ (lists may be empty where a tier is not planned):
    public (ALB, NAT), app (EKS nodes of the live "blue" cluster), app_green (reserved for a
    second cluster during blue/green upgrades), control_plane (/28s for EKS control-plane ENIs),
    db (RDS, ElastiCache), endpoint (VPC interface endpoints; no internet route),
    pods (custom-networking pod subnets in the secondary CIDRs).
  EOT
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
  description = "Company network ranges reached over Direct Connect (allowed to reach the EKS API and RDS)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
