# CloudWatch alarms -> SNS topic -> the alert Lambda (runway-lambda alert,
# SEED's "monitoring alerts" function) and optional e-mail subscribers.
# Application-level alerts (5xx rate, p99 latency, job age, push failures)
# are Prometheus rules in deploy/k8s/base/prometheusrule.yaml; these alarms
# cover what only CloudWatch sees: SQS dead-letter queues and backlogs, RDS,
# ElastiCache and Lambda.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  alert_fn   = "${var.name}-alert"
  has_lambda = var.alert_lambda_zip != null
  actions    = [aws_sns_topic.alerts.arn]

  # Webhook secrets the alert Lambda reads (and may read: nothing else).
  alert_secret_arns = compact([var.alert_slack_webhook_secret_arn, var.alert_webhook_secret_arn])

  # runway-lambda alert (crates/runway-lambda/src/alert.rs) reads these.
  alert_environment = merge(
    { RUNWAY_ALERT_ENVIRONMENT = var.name },
    var.alert_slack_webhook_secret_arn == null ? {} : { RUNWAY_ALERT_SLACK_WEBHOOK_SECRET_ARN = var.alert_slack_webhook_secret_arn },
    var.alert_webhook_secret_arn == null ? {} : { RUNWAY_ALERT_WEBHOOK_SECRET_ARN = var.alert_webhook_secret_arn },
    var.alert_lambda_environment,
  )
  alert_target_vars = [
    "RUNWAY_ALERT_SLACK_WEBHOOK_URL",
    "RUNWAY_ALERT_SLACK_WEBHOOK_SECRET_ARN",
    "RUNWAY_ALERT_WEBHOOK_URL",
    "RUNWAY_ALERT_WEBHOOK_SECRET_ARN",
  ]
  alert_has_target = anytrue([
    for k in local.alert_target_vars : trimspace(lookup(local.alert_environment, k, "")) != ""
  ])
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
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
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

resource "aws_kms_key" "alerts" {
  description         = "${var.name}: alert topic, alert Lambda environment and logs"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

resource "aws_kms_alias" "alerts" {
  name          = "alias/${var.name}-alerts"
  target_key_id = aws_kms_key.alerts.key_id
}

# ---------------------------------------------------------------- topic

resource "aws_sns_topic" "alerts" {
  name              = "${var.name}-alerts"
  kms_master_key_id = aws_kms_key.alerts.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = toset(var.alert_emails)

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = each.value
}

# ---------------------------------------------------------------- alarms

resource "aws_cloudwatch_metric_alarm" "dlq" {
  for_each = toset(var.dead_letter_queue_names)

  alarm_name          = "${each.value}-not-empty"
  alarm_description   = "Messages in dead-letter queue ${each.value}: they failed every retry. Inspect, fix the cause, then redrive."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "backlog" {
  for_each = toset(var.backlog_queue_names)

  alarm_name          = "${each.value}-backlog"
  alarm_description   = "Oldest message in ${each.value} is older than ${var.backlog_max_age_seconds}s: workers are down or too few."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.backlog_max_age_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

locals {
  rds_alarms = {
    cpu = {
      metric      = "CPUUtilization", statistic = "Average", threshold = 80, operator = "GreaterThanThreshold"
      description = "RDS CPU above 80% for 15 minutes."
    }
    storage = {
      metric      = "FreeStorageSpace", statistic = "Minimum", threshold = 10 * 1024 * 1024 * 1024, operator = "LessThanThreshold"
      description = "RDS free storage below 10 GiB (autoscaling stalled or at its maximum)."
    }
    memory = {
      metric      = "FreeableMemory", statistic = "Minimum", threshold = 256 * 1024 * 1024, operator = "LessThanThreshold"
      description = "RDS freeable memory below 256 MiB."
    }
    connections = {
      metric      = "DatabaseConnections", statistic = "Maximum", threshold = var.db_max_connections * 0.8, operator = "GreaterThanThreshold"
      description = "RDS connections above 80% of max_connections (${var.db_max_connections}): pods x RUNWAY_DATABASE_MAX_CONNECTIONS is too high."
    }
  }
  cache_alarms = {
    cpu = {
      metric      = "EngineCPUUtilization", statistic = "Average", threshold = 80, operator = "GreaterThanThreshold"
      description = "Redis engine CPU above 80% for 15 minutes."
    }
    memory = {
      metric      = "DatabaseMemoryUsagePercentage", statistic = "Maximum", threshold = 85, operator = "GreaterThanThreshold"
      description = "Redis memory above 85%: evictions of rate-limit and idempotency keys."
    }
    connections = {
      metric      = "CurrConnections", statistic = "Maximum", threshold = var.cache_max_connections, operator = "GreaterThanThreshold"
      description = "Redis connections above ${var.cache_max_connections}: a connection leak or far more pods than planned."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "rds" {
  for_each = local.rds_alarms

  alarm_name          = "${var.rds_identifier}-${each.key}"
  alarm_description   = each.value.description
  namespace           = "AWS/RDS"
  metric_name         = each.value.metric
  dimensions          = { DBInstanceIdentifier = var.rds_identifier }
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 3
  threshold           = each.value.threshold
  comparison_operator = each.value.operator
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "cache" {
  for_each = {
    for pair in setproduct(keys(local.cache_alarms), var.cache_cluster_ids) :
    "${pair[1]}-${pair[0]}" => merge(local.cache_alarms[pair[0]], { cluster = pair[1] })
  }

  alarm_name          = each.key
  alarm_description   = each.value.description
  namespace           = "AWS/ElastiCache"
  metric_name         = each.value.metric
  dimensions          = { CacheClusterId = each.value.cluster }
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 3
  threshold           = each.value.threshold
  comparison_operator = each.value.operator
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = toset(var.lambda_function_names)

  alarm_name          = "${each.value}-errors"
  alarm_description   = "Lambda ${each.value} reported errors (failed batches are retried, then dead-lettered)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

# ---------------------------------------------------------------- alert Lambda

resource "aws_sqs_queue" "alert_dlq" {
  name                      = "${local.alert_fn}-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
  tags                      = var.tags
}

resource "aws_cloudwatch_metric_alarm" "alert_dlq" {
  alarm_name          = "${aws_sqs_queue.alert_dlq.name}-not-empty"
  alarm_description   = "The alert Lambda failed to deliver alerts; they wait in ${aws_sqs_queue.alert_dlq.name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.alert_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  # Not through the Lambda that is failing: e-mail subscribers still get it.
  alarm_actions = local.actions
  tags          = var.tags
}

resource "aws_security_group" "lambda" {
  name        = "${local.alert_fn}-lambda"
  description = "Alert Lambda: HTTPS out (AWS APIs, chat webhook) only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${local.alert_fn}-lambda" })
}

resource "aws_vpc_security_group_egress_rule" "lambda_https" {
  security_group_id = aws_security_group.lambda.id
  description       = "HTTPS to AWS APIs and the alert webhook"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_cloudwatch_log_group" "alert" {
  name              = "/aws/lambda/${local.alert_fn}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.alerts.arn
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

resource "aws_iam_role" "alert" {
  name               = local.alert_fn
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "alert" {
  for_each = toset([
    "service-role/AWSLambdaVPCAccessExecutionRole",
    "AWSXRayDaemonWriteAccess",
  ])

  role       = aws_iam_role.alert.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

data "aws_iam_policy_document" "alert" {
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.alert.arn}:*"]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.alert_dlq.arn]
  }

  statement {
    sid       = "AlertKey"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.alerts.arn]
  }

  # Only the configured webhook secrets; no statement when there are none.
  dynamic "statement" {
    for_each = length(local.alert_secret_arns) > 0 ? [local.alert_secret_arns] : []
    content {
      sid       = "ReadWebhookSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = statement.value
    }
  }
}

resource "aws_iam_role_policy" "alert" {
  name   = "alert"
  role   = aws_iam_role.alert.id
  policy = data.aws_iam_policy_document.alert.json
}

resource "aws_lambda_function" "alert" {
  #checkov:skip=CKV_AWS_272:The zip is built by scripts/build-lambdas from reviewed source in the same release flow as the image; there is no Signer profile in this stack.
  count = local.has_lambda ? 1 : 0

  function_name    = local.alert_fn
  description      = "Forwards CloudWatch alarms (runway-lambda alert)"
  role             = aws_iam_role.alert.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = var.alert_lambda_zip
  source_code_hash = filebase64sha256(var.alert_lambda_zip)
  memory_size      = 256
  # The function posts to its targets concurrently, each with up to 3
  # attempts of at most 5 s plus 1.5 s of backoff (about 17 s); 60 s leaves
  # room for the secret reads and a cold start.
  timeout     = 60
  kms_key_arn = aws_kms_key.alerts.arn

  # Exactly one instance: flap detection keeps each alarm's recent state
  # changes in the warm instance's memory, so one instance must see every
  # alarm. SNS invokes asynchronously; while that instance is busy, further
  # notifications wait in Lambda's async queue (retried for up to 6 hours).
  reserved_concurrent_executions = 1

  environment {
    variables = local.alert_environment
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
    target_arn = aws_sqs_queue.alert_dlq.arn
  }

  tags = var.tags

  depends_on = [
    aws_cloudwatch_log_group.alert,
    aws_iam_role_policy.alert,
    aws_iam_role_policy_attachment.alert,
  ]

  lifecycle {
    # Without a target the function fails its initialisation on every alarm.
    precondition {
      condition     = local.alert_has_target
      error_message = "The alert Lambda needs a target: set alert_slack_webhook_secret_arn and/or alert_webhook_secret_arn (secrets holding the webhook URLs)."
    }
  }
}

resource "aws_lambda_permission" "sns" {
  count = local.has_lambda ? 1 : 0

  statement_id  = "AllowAlertTopic"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.alert[0].function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.alerts.arn
}

resource "aws_sns_topic_subscription" "lambda" {
  count = local.has_lambda ? 1 : 0

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "lambda"
  endpoint  = aws_lambda_function.alert[0].arn

  depends_on = [aws_lambda_permission.sns]
}
