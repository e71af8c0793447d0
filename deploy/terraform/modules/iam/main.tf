# Identity (SEED "Security"): least-privilege IRSA roles for runway's pods
# (api, worker, secrets sync) and for the cluster add-ons that need AWS (AWS
# Load Balancer Controller, external-dns); no IAM users and no access keys.
# Account-wide guards: MFA required for every human IAM identity, the S3
# public access block and EBS encryption by default.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  irsa_subjects = {
    api          = "system:serviceaccount:${var.namespace}:${var.service_accounts.api}"
    worker       = "system:serviceaccount:${var.namespace}:${var.service_accounts.worker}"
    secrets      = "system:serviceaccount:${var.namespace}:${var.service_accounts.secrets}"
    alb          = "system:serviceaccount:kube-system:aws-load-balancer-controller"
    external_dns = "system:serviceaccount:kube-system:external-dns"
  }

  # SNS mobile-push endpoints of runway's platform applications:
  # arn:aws:sns:REGION:ACCOUNT:endpoint/{APNS,APNS_SANDBOX,GCM}/APP/ID
  platform_app_arns = [
    for app in values(var.platform_application_names) :
    "arn:${local.partition}:sns:${local.region}:${local.account_id}:app/*/${app}"
  ]
  platform_endpoint_arns = [
    for app in values(var.platform_application_names) :
    "arn:${local.partition}:sns:${local.region}:${local.account_id}:endpoint/*/${app}/*"
  ]
}

# ---------------------------------------------------------------- IRSA trust

data "aws_iam_policy_document" "irsa_assume" {
  for_each = local.irsa_subjects

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = [each.value]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

# ---------------------------------------------------------------- runway api

data "aws_iam_policy_document" "api" {
  statement {
    sid       = "MediaObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${var.media_bucket_arn}/${var.storage_prefix}/*"]
  }

  statement {
    sid       = "MediaList"
    actions   = ["s3:ListBucket"]
    resources = [var.media_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.storage_prefix}/*"]
    }
  }

  statement {
    sid       = "MediaKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.media_kms_key_arn]
  }

  statement {
    sid       = "EnqueueJobs"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    resources = values(var.queue_arns)
  }

  statement {
    sid       = "RegisterDevices"
    actions   = ["sns:CreatePlatformEndpoint"]
    resources = local.platform_app_arns
  }

  statement {
    sid = "ManageDeviceEndpoints"
    actions = [
      "sns:GetEndpointAttributes",
      "sns:SetEndpointAttributes",
      "sns:DeleteEndpoint",
    ]
    resources = local.platform_endpoint_arns
  }
}

resource "aws_iam_role" "api" {
  name               = "${var.name}-api"
  description        = "runway API pods (IRSA ${local.irsa_subjects.api})"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["api"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "api" {
  name   = "runway-api"
  role   = aws_iam_role.api.id
  policy = data.aws_iam_policy_document.api.json
}

# ---------------------------------------------------------------- runway worker

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "MediaObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${var.media_bucket_arn}/${var.storage_prefix}/*"]
  }

  statement {
    sid       = "MediaList"
    actions   = ["s3:ListBucket"]
    resources = [var.media_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.storage_prefix}/*"]
    }
  }

  statement {
    sid       = "MediaKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.media_kms_key_arn]
  }

  statement {
    sid = "ConsumeJobs"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:SendMessage",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
    ]
    resources = concat(values(var.queue_arns), values(var.dead_letter_queue_arns))
  }

  # Reports of the thumbnail Lambda (media.processor = lambda); redelivery
  # and dead-lettering are the queue's redrive policy, so no SendMessage.
  statement {
    sid = "ConsumeThumbnailResults"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
    ]
    resources = [var.thumbnail_results_queue_arn]
  }

  statement {
    sid       = "RegisterDevices"
    actions   = ["sns:CreatePlatformEndpoint"]
    resources = local.platform_app_arns
  }

  statement {
    sid = "Push"
    actions = [
      "sns:Publish",
      "sns:GetEndpointAttributes",
      "sns:SetEndpointAttributes",
      "sns:DeleteEndpoint",
    ]
    resources = local.platform_endpoint_arns
  }
}

resource "aws_iam_role" "worker" {
  name               = "${var.name}-worker"
  description        = "runway worker pods (IRSA ${local.irsa_subjects.worker})"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["worker"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "worker" {
  name   = "runway-worker"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.worker.json
}

# ---------------------------------------------------------------- secrets sync

data "aws_iam_policy_document" "secrets" {
  statement {
    sid     = "ReadRunwaySecrets"
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    # Secrets Manager appends a random 6-character suffix to each secret's ARN.
    resources = concat(var.secret_arns, [
      for name in var.extra_secret_names : "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${name}-??????"
    ])
  }

  statement {
    sid       = "SecretsKey"
    actions   = ["kms:Decrypt"]
    resources = [var.secrets_kms_key_arn]
  }
}

resource "aws_iam_role" "secrets" {
  name               = "${var.name}-secrets-sync"
  description        = "External Secrets SecretStore of runway (IRSA ${local.irsa_subjects.secrets})"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["secrets"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "secrets" {
  name   = "read-runway-secrets"
  role   = aws_iam_role.secrets.id
  policy = data.aws_iam_policy_document.secrets.json
}

# ---------------------------------------------------------------- external-dns

data "aws_iam_policy_document" "external_dns" {
  statement {
    sid       = "ChangeRecords"
    actions   = ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets", "route53:ListTagsForResource"]
    resources = ["arn:${local.partition}:route53:::hostedzone/${var.zone_id}"]
  }

  statement {
    sid       = "ListZones"
    actions   = ["route53:ListHostedZones"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "external_dns" {
  name               = "${var.name}-external-dns"
  description        = "external-dns (IRSA ${local.irsa_subjects.external_dns})"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["external_dns"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "external_dns" {
  name   = "external-dns"
  role   = aws_iam_role.external_dns.id
  policy = data.aws_iam_policy_document.external_dns.json
}

# ---------------------------------------------------------------- AWS Load Balancer Controller

resource "aws_iam_role" "alb_controller" {
  name               = "${var.name}-aws-load-balancer-controller"
  description        = "AWS Load Balancer Controller (IRSA ${local.irsa_subjects.alb})"
  assume_role_policy = data.aws_iam_policy_document.irsa_assume["alb"].json
  tags               = var.tags
}

resource "aws_iam_role_policy" "alb_controller" {
  name   = "aws-load-balancer-controller"
  role   = aws_iam_role.alb_controller.id
  policy = data.aws_iam_policy_document.alb_controller.json
}

# ---------------------------------------------------------------- account guards

resource "aws_s3_account_public_access_block" "this" {
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_ebs_encryption_by_default" "this" {
  enabled = true
}

resource "aws_iam_account_password_policy" "this" {
  minimum_password_length        = 14
  require_lowercase_characters   = true
  require_uppercase_characters   = true
  require_numbers                = true
  require_symbols                = true
  allow_users_to_change_password = true
  max_password_age               = 90
  password_reuse_prevention      = 24
}

# Every human IAM identity must sign in with MFA: without it, everything is
# denied except what is needed to set MFA up. Attach to the humans' groups
# (or use IAM Identity Center, which enforces MFA itself). The account root
# is never used: lock it away with hardware MFA (docs/deployment.md).
data "aws_iam_policy_document" "require_mfa" {
  statement {
    sid    = "AllowManageOwnMfaAndPassword"
    effect = "Allow"
    actions = [
      "iam:ChangePassword",
      "iam:GetUser",
      "iam:GetLoginProfile",
      "iam:CreateVirtualMFADevice",
      "iam:EnableMFADevice",
      "iam:ListMFADevices",
      "iam:ResyncMFADevice",
    ]
    resources = [
      "arn:${local.partition}:iam::${local.account_id}:user/$${aws:username}",
      "arn:${local.partition}:iam::${local.account_id}:mfa/$${aws:username}",
    ]
  }

  statement {
    sid    = "DenyAllExceptMfaSetupWithoutMfa"
    effect = "Deny"
    not_actions = [
      "iam:ChangePassword",
      "iam:GetUser",
      "iam:GetLoginProfile",
      "iam:CreateVirtualMFADevice",
      "iam:EnableMFADevice",
      "iam:ListMFADevices",
      "iam:ListVirtualMFADevices",
      "iam:ResyncMFADevice",
      "sts:GetSessionToken",
    ]
    resources = ["*"]
    condition {
      test     = "BoolIfExists"
      variable = "aws:MultiFactorAuthPresent"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyAccessKeys"
    effect    = "Deny"
    actions   = ["iam:CreateAccessKey", "iam:UpdateAccessKey"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "require_mfa" {
  name        = "${var.name}-require-mfa"
  description = "Deny everything but MFA set-up until the caller signed in with MFA; no access keys."
  policy      = data.aws_iam_policy_document.require_mfa.json
  tags        = var.tags
}

resource "aws_iam_group" "developers" {
  #checkov:skip=CKV2_AWS_14:People are added by the account administrator (or come through IAM Identity Center); no IAM user is created in code.
  name = "${var.name}-developers"
}

resource "aws_iam_group_policy_attachment" "developers_mfa" {
  group      = aws_iam_group.developers.name
  policy_arn = aws_iam_policy.require_mfa.arn
}

resource "aws_iam_group_policy_attachment" "developers" {
  for_each = toset(var.developer_managed_policy_arns)

  group      = aws_iam_group.developers.name
  policy_arn = each.value
}

resource "aws_iam_group" "administrators" {
  #checkov:skip=CKV2_AWS_14:People are added by the account administrator (or come through IAM Identity Center); no IAM user is created in code.
  name = "${var.name}-administrators"
}

resource "aws_iam_group_policy_attachment" "administrators_mfa" {
  group      = aws_iam_group.administrators.name
  policy_arn = aws_iam_policy.require_mfa.arn
}

resource "aws_iam_group_policy_attachment" "administrators" {
  group      = aws_iam_group.administrators.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AdministratorAccess"
}
