output "alert_topic_arn" {
  description = "SNS topic every alarm publishes to."
  value       = aws_sns_topic.alerts.arn
}

output "alert_function_name" {
  description = "Name of the alert Lambda (null until its zip is given)."
  value       = local.has_lambda ? aws_lambda_function.alert[0].function_name : null
}
