output "project_name" {
  description = "CodeBuild project that scripts/release starts."
  value       = aws_codebuild_project.deploy.name
}

output "role_arn" {
  description = "IAM role of the deploy builds (granted admin in the runway namespace through an EKS access entry)."
  value       = aws_iam_role.build.arn
}

output "source_bucket" {
  description = "Bucket scripts/release uploads the deploy/ tree to."
  value       = aws_s3_bucket.source.bucket
}

output "source_key" {
  description = "Object key of the deploy/ tree in the source bucket."
  value       = local.source_key
}
