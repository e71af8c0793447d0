# The rolling-update pipeline (SEED hard decision 5): scripts/release builds
# and scans the image on-prem, pushes it to ECR, uploads the deploy/ tree to
# the source bucket and starts this CodeBuild project, which runs
# deploy/pipeline/buildspec.yml inside the VPC (the EKS API is private):
# migrate, apply the overlay pinned to the image digest, and wait on
# `kubectl rollout status` (rolling back when the rollout fails).

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition     = data.aws_partition.current.partition
  account_id    = data.aws_caller_identity.current.account_id
  region        = data.aws_region.current.name
  project       = "${var.name}-deploy"
  source_bucket = "${var.name}-deploy-source-${local.account_id}"
  source_key    = "runway-deploy.zip"
  cluster_arn   = "arn:${local.partition}:eks:${local.region}:${local.account_id}:cluster/${var.cluster_name}"
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

resource "aws_kms_key" "pipeline" {
  description         = "${var.name}: deploy source, build artifacts, logs and the pipeline parameters"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

resource "aws_kms_alias" "pipeline" {
  name          = "alias/${var.name}-pipeline"
  target_key_id = aws_kms_key.pipeline.key_id
}

# ---------------------------------------------------------------- source bucket

resource "aws_s3_bucket" "source" {
  #checkov:skip=CKV_AWS_144:Holds only the deploy/ tree of each release, re-uploadable from git; replication adds nothing.
  #checkov:skip=CKV2_AWS_62:scripts/release starts the build explicitly with the object version it uploaded; an event trigger would double-deploy.
  bucket = local.source_bucket
  tags   = var.tags
}

resource "aws_s3_bucket_public_access_block" "source" {
  bucket                  = aws_s3_bucket.source.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "source" {
  bucket = aws_s3_bucket.source.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "source" {
  bucket = aws_s3_bucket.source.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.pipeline.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "source" {
  bucket = aws_s3_bucket.source.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "source" {
  bucket        = aws_s3_bucket.source.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3/deploy-source/"
}

resource "aws_s3_bucket_lifecycle_configuration" "source" {
  bucket = aws_s3_bucket.source.id

  rule {
    id     = "expire-old-sources"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.source]
}

data "aws_iam_policy_document" "source_bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.source.arn, "${aws_s3_bucket.source.arn}/*"]
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

resource "aws_s3_bucket_policy" "source" {
  bucket = aws_s3_bucket.source.id
  policy = data.aws_iam_policy_document.source_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.source]
}

# ---------------------------------------------------------------- parameters

resource "aws_ssm_parameter" "kustomize_env" {
  name        = "/${var.name}/deploy/kustomize-env"
  description = "aws.env of the ${var.overlay} overlay (role ARNs, certificate, host name, URLs; no secrets)"
  type        = "SecureString"
  key_id      = aws_kms_key.pipeline.arn
  value       = var.kustomize_env
  tags        = var.tags
}

# ---------------------------------------------------------------- CodeBuild

resource "aws_cloudwatch_log_group" "build" {
  name              = "/aws/codebuild/${local.project}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.pipeline.arn
  tags              = var.tags
}

resource "aws_security_group" "build" {
  name        = "${local.project}-codebuild"
  description = "Deploy builds: HTTPS out to the EKS API, ECR, AWS APIs and the kubectl download"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${local.project}-codebuild" })
}

resource "aws_vpc_security_group_egress_rule" "build_https" {
  security_group_id = aws_security_group.build.id
  description       = "HTTPS (EKS private endpoint, AWS APIs, dl.k8s.io)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

data "aws_iam_policy_document" "build_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["codebuild.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "build" {
  name               = "${local.project}-codebuild"
  assume_role_policy = data.aws_iam_policy_document.build_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "build" {
  #checkov:skip=CKV_AWS_111:The ec2 network-interface actions CodeBuild needs to run in a VPC cannot be scoped to a resource (AWS documents Resource "*"); creation is limited to the build subnets by condition.
  #checkov:skip=CKV_AWS_356:The ec2 network-interface actions CodeBuild needs to run in a VPC cannot be scoped to a resource (AWS documents Resource "*"); creation is limited to the build subnets by condition.
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.build.arn}:*"]
  }

  statement {
    sid       = "ReadSource"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${aws_s3_bucket.source.arn}/*"]
  }

  statement {
    sid       = "ReadSourceBucket"
    actions   = ["s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketVersioning"]
    resources = [aws_s3_bucket.source.arn]
  }

  statement {
    sid       = "PipelineKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.pipeline.arn]
  }

  statement {
    sid       = "ReadKustomizeEnv"
    actions   = ["ssm:GetParameters", "ssm:GetParameter"]
    resources = [aws_ssm_parameter.kustomize_env.arn]
  }

  statement {
    sid       = "VerifyImage"
    actions   = ["ecr:DescribeImages", "ecr:DescribeImageScanFindings"]
    resources = [var.repository_arn]
  }

  statement {
    sid       = "FindCluster"
    actions   = ["eks:DescribeCluster"]
    resources = [local.cluster_arn]
  }

  statement {
    sid = "VpcNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface",
      "ec2:DeleteNetworkInterface",
      "ec2:DescribeDhcpOptions",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "VpcNetworkInterfacePermission"
    actions   = ["ec2:CreateNetworkInterfacePermission"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"]
    condition {
      test     = "StringEquals"
      variable = "ec2:AuthorizedService"
      values   = ["codebuild.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "ec2:Subnet"
      values   = [for id in var.subnet_ids : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${id}"]
    }
  }
}

resource "aws_iam_role_policy" "build" {
  name   = "deploy"
  role   = aws_iam_role.build.id
  policy = data.aws_iam_policy_document.build.json
}

resource "aws_codebuild_project" "deploy" {
  name           = local.project
  description    = "Rolling update of runway on ${var.cluster_name} (${var.overlay} overlay)"
  service_role   = aws_iam_role.build.arn
  build_timeout  = 30
  queued_timeout = 60
  encryption_key = aws_kms_key.pipeline.arn

  source {
    type      = "S3"
    location  = "${aws_s3_bucket.source.bucket}/${local.source_key}"
    buildspec = "deploy/pipeline/buildspec.yml"
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    compute_type                = "BUILD_GENERAL1_SMALL"
    image                       = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
    type                        = "LINUX_CONTAINER"
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = false

    environment_variable {
      name  = "CLUSTER_NAME"
      value = var.cluster_name
    }
    environment_variable {
      name  = "OVERLAY"
      value = var.overlay
    }
    environment_variable {
      name  = "NAMESPACE"
      value = var.namespace
    }
    environment_variable {
      name  = "IMAGE_REPOSITORY"
      value = var.repository_url
    }
    environment_variable {
      name  = "KUSTOMIZE_ENV"
      type  = "PARAMETER_STORE"
      value = aws_ssm_parameter.kustomize_env.name
    }
    # Set per build by scripts/release (--environment-variables-override).
    environment_variable {
      name  = "IMAGE_DIGEST"
      value = ""
    }
  }

  vpc_config {
    vpc_id             = var.vpc_id
    subnets            = var.subnet_ids
    security_group_ids = [aws_security_group.build.id]
  }

  logs_config {
    cloudwatch_logs {
      group_name = aws_cloudwatch_log_group.build.name
    }
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.build]
}
