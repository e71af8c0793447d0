output "queue_urls" {
  description = "Queue URLs by name (jobs is RUNWAY_QUEUE_URL)."
  value       = { for k, q in aws_sqs_queue.this : k => q.url }
}

output "queue_arns" {
  description = "Queue ARNs by name."
  value       = { for k, q in aws_sqs_queue.this : k => q.arn }
}

output "queue_names" {
  description = "Queue names by name (for alarms)."
  value       = { for k, q in aws_sqs_queue.this : k => q.name }
}

output "dead_letter_queue_arns" {
  description = "Dead-letter queue ARNs by queue."
  value       = { for k, q in aws_sqs_queue.dlq : k => q.arn }
}

output "dead_letter_queue_names" {
  description = "Dead-letter queue names (for alarms)."
  value       = [for q in aws_sqs_queue.dlq : q.name]
}

output "platform_application_arns" {
  description = "SNS platform application ARNs by platform (ios, android); absent until the credentials exist."
  value = merge(
    { for a in aws_sns_platform_application.apns : "ios" => a.arn },
    { for a in aws_sns_platform_application.fcm : "android" => a.arn },
  )
}

output "platform_application_names" {
  description = "Names the SNS platform applications have (or will have), for IAM policies on their endpoints."
  value       = { ios = "${var.name}-ios", android = "${var.name}-android" }
}
