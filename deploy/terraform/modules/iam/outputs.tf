output "api_role_arn" {
  description = "IRSA role of the runway-api service account."
  value       = aws_iam_role.api.arn
}

output "worker_role_arn" {
  description = "IRSA role of the runway-worker service account."
  value       = aws_iam_role.worker.arn
}

output "secrets_role_arn" {
  description = "IRSA role of the runway-secrets service account (External Secrets SecretStore)."
  value       = aws_iam_role.secrets.arn
}

output "alb_controller_role_arn" {
  description = "IRSA role for the AWS Load Balancer Controller (helm value serviceAccount.annotations)."
  value       = aws_iam_role.alb_controller.arn
}

output "external_dns_role_arn" {
  description = "IRSA role for external-dns."
  value       = aws_iam_role.external_dns.arn
}

output "require_mfa_policy_arn" {
  description = "Policy that requires MFA; attach it to every group or role of humans."
  value       = aws_iam_policy.require_mfa.arn
}
