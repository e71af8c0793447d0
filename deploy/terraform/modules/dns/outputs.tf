output "api_certificate_arn" {
  description = "Validated ACM certificate of the API (the Ingress's certificate-arn)."
  value       = aws_acm_certificate_validation.api.certificate_arn
}
