# Media storage and delivery: a private S3 bucket (public access blocked,
# SSE-KMS, versioning, lifecycle for abandoned uploads), CloudFront in front
# of it with Origin Access Control and signed URLs (key group), an ACM
# certificate in us-east-1, S3 -> SQS upload notifications and the thumbnail
# Lambda that consumes them (SEED hard decision 6), reporting each upload on
# the thumbnail-results queue that runway's worker consumes.
#
# Object layout (keys relative to RUNWAY_STORAGE_URL = s3://BUCKET/PREFIX):
#   PREFIX/uploads/<user>/<visibility>/<media>   staged client uploads (expire)
#   PREFIX/private/<user>/<media>/...            processed files, signed URLs
#   PREFIX/public/<user>/<media>/...             processed files, unsigned URLs

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition    = data.aws_partition.current.partition
  account_id   = data.aws_caller_identity.current.account_id
  region       = data.aws_region.current.name
  bucket_name  = "${var.name}-media-${local.account_id}"
  logs_bucket  = "${var.name}-media-logs-${local.account_id}"
  thumbnail_fn = "${var.name}-thumbnail"
  has_lambda   = var.thumbnail_lambda_zip != null
  origin_id    = "s3-media"

  # Bucket-relative prefixes (runway_thumbnail::keys, under the storage prefix).
  storage_prefix = trim(var.storage_prefix, "/")
  uploads_prefix = "${local.storage_prefix}/uploads/"
}

# ---------------------------------------------------------------- KMS

data "aws_iam_policy_document" "key" {
  #checkov:skip=CKV_AWS_109:Key policy: "*" means this key; the account root statement delegates to IAM policies, as AWS requires.
  #checkov:skip=CKV_AWS_111:Key policy: "*" means this key; the account root statement delegates to IAM policies, as AWS requires.
  #checkov:skip=CKV_AWS_356:Key policy: "*" means this key; the account root statement delegates to IAM policies, as AWS requires.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudFrontReadsMedia"
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:cloudfront::${local.account_id}:distribution/*"]
    }
  }

  statement {
    sid       = "CloudWatchLogsUse"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "media" {
  description         = "${var.name}: media bucket, thumbnail Lambda environment and logs"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

resource "aws_kms_alias" "media" {
  name          = "alias/${var.name}-media"
  target_key_id = aws_kms_key.media.key_id
}

# ---------------------------------------------------------------- access-log bucket

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log bucket; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Access logs stay in the region they describe; replicating them adds cost and no recovery value.
  #checkov:skip=CKV_AWS_145:S3 server access logging only delivers to SSE-S3 buckets, so this bucket uses AES256.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of log objects; they are read with Athena when needed.
  bucket = local.logs_bucket
  tags   = var.tags
}

# CloudFront standard logging writes through the bucket ACL, so ACLs stay
# enabled (owner preferred); everything else is blocked.
resource "aws_s3_bucket_ownership_controls" "logs" {
  #checkov:skip=CKV2_AWS_65:CloudFront standard logging delivers through the bucket ACL (awslogsdelivery grant), so ACLs must stay enabled on this log bucket; public access is blocked.
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "logs_bucket" {
  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      # The media bucket and the other buckets of this environment (deploy source).
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:s3:::${var.name}-*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.logs.arn, "${aws_s3_bucket.logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# ---------------------------------------------------------------- media bucket

resource "aws_s3_bucket" "media" {
  #checkov:skip=CKV_AWS_144:Single-region deployment; versioning with a noncurrent-version window protects against deletion. Add replication when a recovery region is chosen.
  bucket = local.bucket_name
  tags   = var.tags
}

resource "aws_s3_bucket_ownership_controls" "media" {
  bucket = aws_s3_bucket.media.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "media" {
  bucket                  = aws_s3_bucket.media.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "media" {
  bucket = aws_s3_bucket.media.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.media.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "media" {
  bucket = aws_s3_bucket.media.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "media" {
  bucket        = aws_s3_bucket.media.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/"
}

resource "aws_s3_bucket_lifecycle_configuration" "media" {
  bucket = aws_s3_bucket.media.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abandoned_upload_days
    }
  }

  rule {
    id     = "expire-abandoned-uploads"
    status = "Enabled"
    filter {
      prefix = local.uploads_prefix
    }
    expiration {
      days = var.abandoned_upload_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    expiration {
      expired_object_delete_marker = true
    }
  }

  depends_on = [aws_s3_bucket_versioning.media]
}

data "aws_iam_policy_document" "media_bucket" {
  statement {
    sid       = "CloudFrontReads"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.media.arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.media.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.media.arn, "${aws_s3_bucket.media.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "media" {
  bucket = aws_s3_bucket.media.id
  policy = data.aws_iam_policy_document.media_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.media]
}

# ---------------------------------------------------------------- upload notifications

resource "aws_sqs_queue" "uploads_dlq" {
  name                      = "${var.name}-uploads-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
  tags                      = var.tags
}

resource "aws_sqs_queue" "uploads" {
  name                    = "${var.name}-uploads"
  sqs_managed_sse_enabled = true
  # Six times the Lambda timeout, as Lambda's SQS integration recommends.
  visibility_timeout_seconds = 360
  message_retention_seconds  = 345600
  receive_wait_time_seconds  = 20
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.uploads_dlq.arn
    maxReceiveCount     = 5
  })
  tags = var.tags
}

resource "aws_sqs_queue_redrive_allow_policy" "uploads_dlq" {
  queue_url = aws_sqs_queue.uploads_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.uploads.arn]
  })
}

data "aws_iam_policy_document" "uploads_queue" {
  statement {
    sid       = "S3SendsUploadEvents"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.uploads.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.media.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "uploads" {
  queue_url = aws_sqs_queue.uploads.id
  policy    = data.aws_iam_policy_document.uploads_queue.json
}

resource "aws_s3_bucket_notification" "media" {
  bucket = aws_s3_bucket.media.id

  queue {
    id            = "uploads"
    queue_arn     = aws_sqs_queue.uploads.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = local.uploads_prefix
  }

  depends_on = [aws_sqs_queue_policy.uploads]
}

# ---------------------------------------------------------------- thumbnail results

# The thumbnail Lambda sends one JSON report per upload here; runway's worker
# pods (media.processor = lambda) record it and mark the media ready or failed.
resource "aws_sqs_queue" "thumbnail_results_dlq" {
  name                      = "${var.name}-thumbnail-results-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
  tags                      = var.tags
}

resource "aws_sqs_queue" "thumbnail_results" {
  name                       = "${var.name}-thumbnail-results"
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = 60
  message_retention_seconds  = 345600
  receive_wait_time_seconds  = 20
  # A report the worker cannot record (the database is down) becomes visible
  # again after the 60 s visibility timeout; 20 receives absorb ~20 minutes
  # of database outage before valid reports are dead-lettered. Re-drive the
  # DLQ once the database is back (docs/operations.md, Media).
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.thumbnail_results_dlq.arn
    maxReceiveCount     = 20
  })
  tags = var.tags
}

resource "aws_sqs_queue_redrive_allow_policy" "thumbnail_results_dlq" {
  queue_url = aws_sqs_queue.thumbnail_results_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.thumbnail_results.arn]
  })
}

# ---------------------------------------------------------------- certificate (us-east-1)

resource "aws_acm_certificate" "cdn" {
  provider = aws.us_east_1

  domain_name       = var.cdn_domain
  validation_method = "DNS"
  key_algorithm     = "EC_prime256v1"
  tags              = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "cdn_validation" {
  for_each = {
    for o in aws_acm_certificate.cdn.domain_validation_options : o.domain_name => o
  }

  zone_id         = var.zone_id
  name            = each.value.resource_record_name
  type            = each.value.resource_record_type
  records         = [each.value.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "cdn" {
  provider = aws.us_east_1

  certificate_arn         = aws_acm_certificate.cdn.arn
  validation_record_fqdns = [for r in aws_route53_record.cdn_validation : r.fqdn]
}

# ---------------------------------------------------------------- CloudFront

resource "aws_cloudfront_origin_access_control" "media" {
  name                              = "${var.name}-media"
  description                       = "CloudFront reads the private media bucket with SigV4"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_public_key" "signing" {
  for_each = var.signing_public_keys

  name        = "${var.name}-media-${each.key}"
  comment     = "Verifies runway's signed media URLs (key ${each.key})"
  encoded_key = each.value
}

resource "aws_cloudfront_key_group" "signing" {
  name    = "${var.name}-media"
  comment = "Keys trusted for signed media URLs"
  items   = [for k in aws_cloudfront_public_key.signing : k.id]
}

data "aws_cloudfront_cache_policy" "optimized" {
  name = "Managed-CachingOptimized"
}

resource "aws_cloudfront_response_headers_policy" "media" {
  #checkov:skip=CKV_AWS_259:HSTS is sent for two years with includeSubDomains; "preload" is a commitment for the whole registrable domain, which a media host must not make on the owner's behalf.
  name    = "${var.name}-media"
  comment = "Security headers for media responses"

  security_headers_config {
    strict_transport_security {
      access_control_max_age_sec = 63072000
      include_subdomains         = true
      preload                    = false
      override                   = true
    }
    content_type_options {
      override = true
    }
    frame_options {
      frame_option = "DENY"
      override     = true
    }
    referrer_policy {
      referrer_policy = "no-referrer"
      override        = true
    }
    content_security_policy {
      content_security_policy = "default-src 'none'; img-src 'self'; sandbox"
      override                = true
    }
  }
}

resource "aws_cloudfront_distribution" "media" {
  #checkov:skip=CKV_AWS_68:Every object needs a signed URL (trusted key group) and only GET/HEAD reach a private bucket; a WAF adds cost without a rule to enforce. Attach one via web_acl_id if abuse appears.
  #checkov:skip=CKV_AWS_310:One origin (the bucket); S3 is regional and already multi-AZ, so there is no second origin to fail over to.
  #checkov:skip=CKV_AWS_374:The app serves users abroad; there is no country to block.
  #checkov:skip=CKV_AWS_305:A media CDN has no index document; requests for / are signed-URL misses (403).
  #checkov:skip=CKV2_AWS_47:No WAF attached (see CKV_AWS_68); signed URLs gate every request.
  enabled         = true
  is_ipv6_enabled = true
  http_version    = "http2and3"
  comment         = "${var.name}: media"
  aliases         = [var.cdn_domain]
  price_class     = var.price_class

  origin {
    origin_id                = local.origin_id
    domain_name              = aws_s3_bucket.media.bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.media.id
    # runway's object keys are relative to RUNWAY_STORAGE_URL's prefix, and
    # so are the CDN URLs it builds (`<cdn>/private/...`, `<cdn>/public/...`).
    origin_path = "/${trim(var.storage_prefix, "/")}"
  }

  # Public media (`visibility: public`) have stable, unsigned URLs. Only
  # this prefix is served without a signature; staged uploads and private
  # media never are.
  ordered_cache_behavior {
    path_pattern               = "/public/*"
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.media.id
  }

  default_cache_behavior {
    target_origin_id           = local.origin_id
    viewer_protocol_policy     = "redirect-to-https"
    allowed_methods            = ["GET", "HEAD", "OPTIONS"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true
    cache_policy_id            = data.aws_cloudfront_cache_policy.optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.media.id
    trusted_key_groups         = [aws_cloudfront_key_group.signing.id]
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    acm_certificate_arn      = aws_acm_certificate_validation.cdn.certificate_arn
    ssl_support_method       = "sni-only"
    minimum_protocol_version = "TLSv1.2_2021"
  }

  logging_config {
    bucket          = aws_s3_bucket.logs.bucket_domain_name
    prefix          = "cloudfront/"
    include_cookies = false
  }

  tags = var.tags

  depends_on = [aws_s3_bucket_ownership_controls.logs]
}

# ---------------------------------------------------------------- thumbnail Lambda

resource "aws_security_group" "lambda" {
  name        = "${var.name}-thumbnail-lambda"
  description = "Thumbnail Lambda: HTTPS out to AWS APIs only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-thumbnail-lambda" })
}

resource "aws_vpc_security_group_egress_rule" "lambda_https" {
  security_group_id = aws_security_group.lambda.id
  description       = "HTTPS to S3, SQS, CloudWatch and X-Ray"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_cloudwatch_log_group" "thumbnail" {
  name              = "/aws/lambda/${local.thumbnail_fn}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.media.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "thumbnail" {
  name               = local.thumbnail_fn
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "thumbnail" {
  for_each = toset([
    "service-role/AWSLambdaVPCAccessExecutionRole",
    "AWSXRayDaemonWriteAccess",
  ])

  role       = aws_iam_role.thumbnail.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

data "aws_iam_policy_document" "thumbnail" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.thumbnail.arn}:*"]
  }

  statement {
    sid       = "ReadUploads"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.media.arn}/${local.uploads_prefix}*"]
  }

  # Without s3:ListBucket, S3 answers a read of a missing key with 403, not
  # 404: an upload already recorded and deleted (a duplicate event) would
  # then look like an outage, be retried and dead-lettered instead of being
  # reported `upload_missing`. S3 checks this on the bucket itself (no
  # prefix condition applies), so it grants listing key names, not reading.
  statement {
    sid       = "MissingUploadsAre404"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.media.arn]
  }

  # The original, variants and placeholder, content-addressed under
  # <prefix>/{private,public}/<user>/<media>/.
  statement {
    sid     = "WriteProcessedMedia"
    actions = ["s3:PutObject"]
    resources = [
      "${aws_s3_bucket.media.arn}/${local.storage_prefix}/private/*",
      "${aws_s3_bucket.media.arn}/${local.storage_prefix}/public/*",
    ]
  }

  statement {
    sid       = "MediaKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.media.arn]
  }

  statement {
    sid = "ConsumeUploadEvents"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [aws_sqs_queue.uploads.arn]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.uploads_dlq.arn]
  }

  statement {
    sid       = "SendResults"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.thumbnail_results.arn]
  }
}

resource "aws_iam_role_policy" "thumbnail" {
  name   = "thumbnail"
  role   = aws_iam_role.thumbnail.id
  policy = data.aws_iam_policy_document.thumbnail.json
}

resource "aws_lambda_function" "thumbnail" {
  #checkov:skip=CKV_AWS_272:The zip is built by scripts/build-lambdas from reviewed source in the same release flow as the image; there is no Signer profile in this stack.
  count = local.has_lambda ? 1 : 0

  function_name    = local.thumbnail_fn
  description      = "Makes thumbnails when an image is uploaded (runway-lambda thumbnail)"
  role             = aws_iam_role.thumbnail.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = var.thumbnail_lambda_zip
  source_code_hash = filebase64sha256(var.thumbnail_lambda_zip)
  memory_size      = 2048
  timeout          = 60
  kms_key_arn      = aws_kms_key.media.arn

  reserved_concurrent_executions = var.thumbnail_concurrency

  # runway's own configuration (runway_core::Config), read exactly as by the
  # pods: the pipeline settings (var.media_settings, RUNWAY_MEDIA__*; the
  # envs pass the same map to the pods' kustomize_env), the storage URL, from
  # which the function derives the uploads/, private/ and public/ prefixes,
  # and the queue it reports on. The last two are merged last, so they win.
  environment {
    variables = merge(var.media_settings, {
      RUNWAY_STORAGE_URL              = "s3://${aws_s3_bucket.media.bucket}/${var.storage_prefix}"
      RUNWAY_MEDIA__RESULTS_QUEUE_URL = aws_sqs_queue.thumbnail_results.url
    })
  }

  # The Rust runtime logs JSON when Lambda sets AWS_LAMBDA_LOG_FORMAT=JSON.
  logging_config {
    log_format = "JSON"
  }

  vpc_config {
    subnet_ids         = var.lambda_subnet_ids
    security_group_ids = [aws_security_group.lambda.id]
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.uploads_dlq.arn
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.thumbnail,
    aws_iam_role_policy.thumbnail,
    aws_iam_role_policy_attachment.thumbnail,
  ]
}

resource "aws_lambda_event_source_mapping" "thumbnail" {
  count = local.has_lambda ? 1 : 0

  event_source_arn = aws_sqs_queue.uploads.arn
  function_name    = aws_lambda_function.thumbnail[0].arn
  # One image per invocation: an image that is slow (the invocation times
  # out) or crashes the function fails only its own message, never making
  # other uploads of the same batch be received and processed again.
  batch_size              = 1
  function_response_types = ["ReportBatchItemFailures"]

  # Never more pollers than reserved concurrency (variable validation: at
  # least 2, the SQS minimum): throttled invocations would otherwise return
  # messages to the queue and count as receives towards the DLQ.
  scaling_config {
    maximum_concurrency = var.thumbnail_concurrency
  }
}
