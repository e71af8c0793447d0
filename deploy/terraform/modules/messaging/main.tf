# The notification pipeline (SEED hard decision 7): SQS queues with
# dead-letter queues (server-side encrypted) feed SNS mobile push, which has
# one platform application for iOS (APNs, token-based) and one for Android
# (FCM HTTP v1). Push credentials are read from Secrets Manager, where an
# administrator stores them; they are never in a file in the repository.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
}

# ---------------------------------------------------------------- SQS

resource "aws_sqs_queue" "dlq" {
  for_each = var.queues

  name                      = "${var.name}-${each.key}-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
  tags                      = var.tags
}

resource "aws_sqs_queue" "this" {
  for_each = var.queues

  name                       = "${var.name}-${each.key}"
  sqs_managed_sse_enabled    = true
  visibility_timeout_seconds = each.value.visibility_timeout_seconds
  message_retention_seconds  = 1209600
  receive_wait_time_seconds  = 20
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = each.value.max_receive_count
  })
  tags = var.tags
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  for_each = var.queues

  queue_url = aws_sqs_queue.dlq[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this[each.key].arn]
  })
}

# ---------------------------------------------------------------- SNS mobile push

data "aws_secretsmanager_secret_version" "apns" {
  count     = var.apns_secret_name == null ? 0 : 1
  secret_id = var.apns_secret_name
}

data "aws_secretsmanager_secret_version" "fcm" {
  count     = var.fcm_secret_name == null ? 0 : 1
  secret_id = var.fcm_secret_name
}

locals {
  apns = var.apns_secret_name == null ? null : jsondecode(data.aws_secretsmanager_secret_version.apns[0].secret_string)
}

data "aws_iam_policy_document" "feedback_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "feedback" {
  statement {
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:PutRetentionPolicy",
    ]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:sns/${local.region}/${local.account_id}/app/*",
    ]
  }
}

resource "aws_iam_role" "feedback" {
  name               = "${var.name}-sns-push-feedback"
  assume_role_policy = data.aws_iam_policy_document.feedback_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "feedback" {
  name   = "delivery-status-logs"
  role   = aws_iam_role.feedback.id
  policy = data.aws_iam_policy_document.feedback.json
}

resource "aws_sns_platform_application" "apns" {
  count = var.apns_secret_name == null ? 0 : 1

  name                         = "${var.name}-ios"
  platform                     = var.apns_platform
  platform_credential          = local.apns.private_key
  platform_principal           = local.apns.key_id
  apple_platform_team_id       = local.apns.team_id
  apple_platform_bundle_id     = local.apns.bundle_id
  success_feedback_role_arn    = aws_iam_role.feedback.arn
  failure_feedback_role_arn    = aws_iam_role.feedback.arn
  success_feedback_sample_rate = var.feedback_sample_rate
}

resource "aws_sns_platform_application" "fcm" {
  count = var.fcm_secret_name == null ? 0 : 1

  name                         = "${var.name}-android"
  platform                     = "GCM"
  platform_credential          = data.aws_secretsmanager_secret_version.fcm[0].secret_string
  success_feedback_role_arn    = aws_iam_role.feedback.arn
  failure_feedback_role_arn    = aws_iam_role.feedback.arn
  success_feedback_sample_rate = var.feedback_sample_rate
}
