output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidrs" {
  description = "Every range of the VPC: the primary CIDR first, then the secondary CIDRs."
  value       = local.vpc_cidrs
}

output "azs" {
  description = "Availability zones in use, in the order of the subnet lists."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "Public subnets (ALB, NAT), one per AZ."
  value       = [for az in local.azs : aws_subnet.public[az].id]
}

output "app_subnet_ids" {
  description = "Private app subnets of the live cluster (EKS nodes), one per AZ."
  value       = [for az in local.azs : aws_subnet.private["app-${az}"].id]
}

output "app_green_subnet_ids" {
  description = "Private app subnets reserved for a blue/green cluster (empty when not planned)."
  value       = [for az, _ in local.tier_subnets.app_green : aws_subnet.private["app_green-${az}"].id]
}

output "pod_subnets" {
  description = "Custom-networking pod subnets by AZ ({az => subnet id}); empty when pods use the node subnets."
  value       = { for az, _ in local.tier_subnets.pods : az => aws_subnet.private["pods-${az}"].id }
}

output "control_plane_subnet_ids" {
  description = "Subnets for the EKS control-plane ENIs; falls back to the app subnets when the tier is not planned."
  value = length(local.tier_subnets.control_plane) > 0 ? [
    for az, _ in local.tier_subnets.control_plane : aws_subnet.private["control_plane-${az}"].id
  ] : [for az in local.azs : aws_subnet.private["app-${az}"].id]
}

output "db_subnet_ids" {
  description = "Private database subnets (RDS, ElastiCache), one per AZ."
  value       = [for az in local.azs : aws_subnet.private["db-${az}"].id]
}

output "endpoint_subnet_ids" {
  description = "Private subnets holding the VPC interface endpoints, one per AZ."
  value       = [for az in local.azs : aws_subnet.private["endpoint-${az}"].id]
}

output "app_cidrs" {
  description = "CIDRs from which the application runs (app, app_green and pod subnets): the only VPC sources allowed to reach the data tier."
  value       = concat(var.subnets.app, var.subnets.app_green, var.subnets.pods)
}

output "public_cidrs" {
  description = "CIDRs of the public subnets (where the ALB's nodes live)."
  value       = var.subnets.public
}

output "onprem_cidrs" {
  description = "Company network ranges reached over Direct Connect."
  value       = var.onprem_cidrs
}

output "vpn_gateway_id" {
  description = "Virtual private gateway to associate with the Direct Connect gateway (null without onprem_cidrs)."
  value       = local.has_onprem ? aws_vpn_gateway.onprem[0].id : null
}

output "private_route_table_ids" {
  description = "Route tables of the NAT tiers (app, app_green, pods) by AZ."
  value       = { for az, rt in aws_route_table.private : az => rt.id }
}

output "isolated_route_table_ids" {
  description = "Route tables of the tiers without internet access (control_plane, db, endpoint)."
  value       = { for tier, rt in aws_route_table.isolated : tier => rt.id }
}

output "endpoints_security_group_id" {
  description = "Security group of the interface VPC endpoints."
  value       = aws_security_group.endpoints.id
}

output "s3_gateway_endpoint_id" {
  description = "ID of the S3 gateway endpoint (usable in bucket policies as aws:SourceVpce)."
  value       = aws_vpc_endpoint.s3.id
}
