output "cluster_name" {
  description = "EKS cluster (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "vpc_id" {
  description = "VPC of the environment (AWS Load Balancer Controller helm value vpcId)."
  value       = module.network.vpc_id
}

output "vpn_gateway_id" {
  description = "Virtual private gateway to associate with the Direct Connect gateway."
  value       = module.network.vpn_gateway_id
}

output "eniconfig_manifest" {
  description = "ENIConfig objects for custom networking (empty when pods use node subnets)."
  value       = module.eks.eniconfig_manifest
}

output "alb_controller_role_arn" {
  description = "IRSA role for the AWS Load Balancer Controller."
  value       = module.iam.alb_controller_role_arn
}

output "external_dns_role_arn" {
  description = "IRSA role for external-dns."
  value       = module.iam.external_dns_role_arn
}

output "repository_url" {
  description = "ECR repository scripts/release pushes to."
  value       = module.registry.repository_url
}

output "deploy_project" {
  description = "CodeBuild project scripts/release starts."
  value       = module.pipeline.project_name
}

output "deploy_source_bucket" {
  description = "Bucket scripts/release uploads the deploy/ tree to."
  value       = module.pipeline.source_bucket
}

output "cdn_signing_key_ids" {
  description = "CloudFront key IDs for signed media URLs, by name."
  value       = module.media.signing_key_ids
}

output "kustomize_env" {
  description = "Contents of deploy/k8s/overlays/prod/aws.env for this account."
  value       = local.kustomize_env
}
