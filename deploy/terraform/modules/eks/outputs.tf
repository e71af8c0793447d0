output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = aws_eks_cluster.this.arn
}

output "cluster_endpoint" {
  description = "Private endpoint of the Kubernetes API."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_certificate_authority" {
  description = "Base64 CA certificate of the Kubernetes API."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "Security group EKS created for the control plane and the managed nodes (and so for pods)."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (for IRSA trust policies)."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "oidc_issuer" {
  description = "OIDC issuer host and path, without https:// (the prefix of IRSA condition keys)."
  value       = local.oidc_issuer
}

output "node_role_arn" {
  description = "IAM role of the managed nodes."
  value       = aws_iam_role.node.arn
}

output "eniconfig_manifest" {
  description = "ENIConfig objects for VPC CNI custom networking (empty without pod subnets): terraform output -raw eniconfig_manifest | kubectl apply -f -"
  value = join("---\n", [
    for az, subnet_id in var.pod_subnets : yamlencode({
      apiVersion = "crd.k8s.amazonaws.com/v1alpha1"
      kind       = "ENIConfig"
      metadata   = { name = az }
      spec = {
        subnet         = subnet_id
        securityGroups = [aws_eks_cluster.this.vpc_config[0].cluster_security_group_id]
      }
    })
  ])
}
