output "bucket_name" {
  description = "Name of the media bucket."
  value       = aws_s3_bucket.media.bucket
}

output "bucket_arn" {
  description = "ARN of the media bucket."
  value       = aws_s3_bucket.media.arn
}

output "storage_url" {
  description = "RUNWAY_STORAGE_URL for the API and worker pods."
  value       = "s3://${aws_s3_bucket.media.bucket}/${var.storage_prefix}"
}

output "kms_key_arn" {
  description = "KMS key that encrypts the media bucket."
  value       = aws_kms_key.media.arn
}

output "cdn_domain" {
  description = "Public host name of the media CDN."
  value       = var.cdn_domain
}

output "distribution_id" {
  description = "CloudFront distribution ID."
  value       = aws_cloudfront_distribution.media.id
}

output "distribution_domain_name" {
  description = "CloudFront domain (target of the CDN alias record)."
  value       = aws_cloudfront_distribution.media.domain_name
}

output "distribution_hosted_zone_id" {
  description = "Hosted zone ID of CloudFront aliases."
  value       = aws_cloudfront_distribution.media.hosted_zone_id
}

output "storage_prefix" {
  description = "Prefix of runway's objects in the bucket."
  value       = var.storage_prefix
}

output "signing_key_ids" {
  description = "CloudFront public key IDs by name (the Key-Pair-Id runway puts in signed URLs)."
  value       = { for name, k in aws_cloudfront_public_key.signing : name => k.id }
}

output "uploads_queue_arn" {
  description = "Queue receiving upload notifications."
  value       = aws_sqs_queue.uploads.arn
}

output "thumbnail_results_queue_url" {
  description = "Queue the thumbnail Lambda reports on (RUNWAY_MEDIA__RESULTS_QUEUE_URL of the worker pods)."
  value       = aws_sqs_queue.thumbnail_results.url
}

output "thumbnail_results_queue_arn" {
  description = "ARN of the thumbnail results queue (the worker role consumes it)."
  value       = aws_sqs_queue.thumbnail_results.arn
}

output "media_processor" {
  description = "RUNWAY_MEDIA__PROCESSOR for the pods: lambda when the thumbnail Lambda exists, else worker."
  value       = local.has_lambda ? "lambda" : "worker"
}

output "dead_letter_queue_names" {
  description = "DLQs of this module (for alarms)."
  value       = [aws_sqs_queue.uploads_dlq.name, aws_sqs_queue.thumbnail_results_dlq.name]
}

output "lambda_function_names" {
  description = "Lambda functions of this module (for alarms)."
  value       = local.has_lambda ? [aws_lambda_function.thumbnail[0].function_name] : []
}

output "access_log_bucket" {
  description = "Bucket receiving S3 server access logs (s3/ prefix) and CloudFront logs (cloudfront/ prefix)."
  value       = aws_s3_bucket.logs.bucket
}
