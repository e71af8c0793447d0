variable "name" {
  description = "Cluster name and name prefix (e.g. runway-prod)."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version. Upgrade by standing up a second cluster in the app_green subnets and moving traffic, not in place."
  type        = string
  default     = "1.34"
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "vpc_cidrs" {
  description = "All CIDRs of the VPC (primary and secondary): allowed to reach the private API endpoint."
  type        = list(string)
}

variable "onprem_cidrs" {
  description = "Company network ranges (Direct Connect) allowed to reach the private API endpoint."
  type        = list(string)
  default     = []
}

variable "control_plane_subnet_ids" {
  description = "Subnets for the control-plane ENIs (the control_plane /28s, at least two AZs)."
  type        = list(string)
}

variable "node_subnet_ids" {
  description = "Private app subnets for the managed node group."
  type        = list(string)
}

variable "pod_subnets" {
  description = "Custom-networking pod subnets by AZ ({az => subnet id}). Non-empty turns on VPC CNI custom networking; apply the ENIConfig manifest from the eniconfig_manifest output."
  type        = map(string)
  default     = {}
}

variable "node_instance_types" {
  description = "Instance types of the managed node group (SEED hard decision 4). m7i.large: 2 vCPU / 8 GiB, 110 pods with prefix delegation."
  type        = list(string)
  default     = ["m7i.large"]
}

variable "node_min_size" {
  description = "Minimum nodes (keep at least one per AZ)."
  type        = number
  default     = 2
}

variable "node_desired_size" {
  description = "Initial node count (afterwards owned by the cluster autoscaler, if any)."
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Maximum nodes."
  type        = number
  default     = 6
}

variable "node_disk_size_gib" {
  description = "Root volume size of each node, in GiB."
  type        = number
  default     = 50
}

variable "admin_role_arns" {
  description = "IAM roles (e.g. the SSO administrator role, and the role Terraform runs as) granted cluster-admin through EKS access entries."
  type        = list(string)
}

variable "deployer_role_arns" {
  description = "IAM roles granted admin inside the application namespace only, by a name fixed in configuration (e.g. { codebuild = <deploy role ARN> }), so the roles may be created in the same apply."
  type        = map(string)
  default     = {}
}

variable "app_namespace" {
  description = "Kubernetes namespace of runway."
  type        = string
  default     = "runway"
}

variable "enable_ebs_csi_driver" {
  description = "Install the aws-ebs-csi-driver add-on (runway itself needs no volumes; Prometheus may)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the control-plane logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
