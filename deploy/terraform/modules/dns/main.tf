# Domains and TLS (SEED "Route 53, Certificate Manager"): the API's regional
# ACM certificate (used by the ALB through the Ingress) with DNS validation,
# and the CDN alias. The API record itself is kept by external-dns from the
# Ingress; set manage_api_record to own it here instead. The CDN's own
# certificate lives in us-east-1 and is made by the media module.

resource "aws_acm_certificate" "api" {
  domain_name       = var.api_domain
  validation_method = "DNS"
  key_algorithm     = "EC_prime256v1"
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "api_validation" {
  for_each = {
    for o in aws_acm_certificate.api.domain_validation_options : o.domain_name => o
  }

  zone_id         = var.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "api" {
  certificate_arn         = aws_acm_certificate.api.arn
  validation_record_fqdns = [for r in aws_route53_record.api_validation : r.fqdn]
}

resource "aws_route53_record" "cdn" {
  for_each = toset(["A", "AAAA"])

  zone_id = var.zone_id
  name    = var.cdn_domain
  type    = each.value

  alias {
    name                   = var.cdn_distribution_domain_name
    zone_id                = var.cdn_distribution_zone_id
    evaluate_target_health = false
  }
}

data "aws_lb" "api" {
  count = var.manage_api_record ? 1 : 0

  tags = {
    "elbv2.k8s.aws/cluster" = var.cluster_name
    "ingress.k8s.aws/stack" = var.ingress_stack
  }
}

resource "aws_route53_record" "api" {
  count = var.manage_api_record ? 1 : 0

  zone_id = var.zone_id
  name    = var.api_domain
  type    = "A"

  alias {
    name                   = data.aws_lb.api[0].dns_name
    zone_id                = data.aws_lb.api[0].zone_id
    evaluate_target_health = true
  }
}
