output "repository_url" {
  description = "Repository URL (ACCOUNT.dkr.ecr.REGION.amazonaws.com/runway)."
  value       = aws_ecr_repository.runway.repository_url
}

output "repository_arn" {
  description = "Repository ARN."
  value       = aws_ecr_repository.runway.arn
}

output "kms_key_arn" {
  description = "KMS key of the repository."
  value       = aws_kms_key.ecr.arn
}
