# RDS MySQL (Multi-AZ, encrypted, private, TLS required and verified) and ElastiCache
# Redis (TLS, AUTH token, Multi-AZ with automatic failover), both in the db
# tier and reachable only from the app subnets (and MySQL from the company
# network). The connection URLs runway reads through RUNWAY_DATABASE_URL_FILE
# and RUNWAY_CACHE_URL_FILE, and the token-signing key, are written to
# Secrets Manager; the cluster syncs them into a Kubernetes Secret (External
# Secrets Operator). They never appear in a file in the repository.
#
# The generated passwords are kept in the Terraform state: keep the state
# bucket encrypted and readable only by administrators.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  partition     = data.aws_partition.current.partition
  account_id    = data.aws_caller_identity.current.account_id
  region        = data.aws_region.current.name
  identifier    = "${var.name}-mysql"
  cache_id      = "${var.name}-cache"
  secret_prefix = "${var.name}/runway"
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

resource "aws_kms_key" "data" {
  description         = "${var.name}: RDS, ElastiCache, their logs and the runway secrets"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.key.json
  tags                = var.tags
}

resource "aws_kms_alias" "data" {
  name          = "alias/${var.name}-data"
  target_key_id = aws_kms_key.data.key_id
}

# ---------------------------------------------------------------- network access

resource "aws_security_group" "mysql" {
  name        = "${var.name}-mysql"
  description = "RDS MySQL: from the app subnets and the company network only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-mysql" })
}

resource "aws_vpc_security_group_ingress_rule" "mysql" {
  for_each = toset(concat(var.app_cidrs, var.onprem_cidrs))

  security_group_id = aws_security_group.mysql.id
  description       = "MySQL from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 3306
  to_port           = 3306
  cidr_ipv4         = each.value
}

resource "aws_security_group" "cache" {
  name        = "${var.name}-cache"
  description = "ElastiCache Redis: from the app subnets only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-cache" })
}

resource "aws_vpc_security_group_ingress_rule" "cache" {
  for_each = toset(var.app_cidrs)

  security_group_id = aws_security_group.cache.id
  description       = "Redis from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 6379
  to_port           = 6379
  cidr_ipv4         = each.value
}

# ---------------------------------------------------------------- RDS MySQL

resource "random_password" "mysql" {
  length  = 40
  special = false
}

resource "aws_db_subnet_group" "this" {
  name        = local.identifier
  description = "${var.name}: db tier"
  subnet_ids  = var.db_subnet_ids
  tags        = var.tags
}

resource "aws_db_parameter_group" "this" {
  name_prefix = "${local.identifier}-"
  family      = var.mysql_parameter_group_family
  description = "${var.name}: TLS required, utf8mb4"

  parameter {
    name  = "require_secure_transport"
    value = "1"
  }

  parameter {
    name  = "character_set_server"
    value = "utf8mb4"
  }

  parameter {
    name  = "collation_server"
    value = "utf8mb4_0900_ai_ci"
  }

  parameter {
    name  = "slow_query_log"
    value = "1"
  }

  parameter {
    name  = "long_query_time"
    value = "1"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "mysql" {
  for_each = toset(["error", "slowquery"])

  name              = "/aws/rds/instance/${local.identifier}/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${local.identifier}-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "this" {
  identifier     = local.identifier
  engine         = "mysql"
  engine_version = var.mysql_engine_version
  instance_class = var.db_instance_class

  db_name  = var.db_name
  username = var.db_username
  password = random_password.mysql.result
  port     = 3306

  allocated_storage     = var.db_allocated_storage_gib
  max_allocated_storage = var.db_max_allocated_storage_gib
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.data.arn

  multi_az               = true
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.mysql.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name

  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  allow_major_version_upgrade         = false
  apply_immediately                   = false

  backup_retention_period   = var.db_backup_retention_days
  backup_window             = "02:00-03:00"
  maintenance_window        = "sun:03:30-sun:04:30"
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.identifier}-final"

  enabled_cloudwatch_logs_exports       = ["error", "slowquery"]
  monitoring_interval                   = 30
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.data.arn
  performance_insights_retention_period = 7

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.mysql]
}

# ---------------------------------------------------------------- ElastiCache Redis

resource "random_password" "cache" {
  length  = 64
  special = false
}

resource "aws_elasticache_subnet_group" "this" {
  name        = local.cache_id
  description = "${var.name}: db tier"
  subnet_ids  = var.db_subnet_ids
  tags        = var.tags
}

resource "aws_cloudwatch_log_group" "cache" {
  name              = "/aws/elasticache/${local.cache_id}/slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.data.arn
  tags              = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = local.cache_id
  description          = "${var.name}: runway cache, rate limits and idempotency keys"
  engine               = "redis"
  engine_version       = var.cache_engine_version
  node_type            = var.cache_node_type
  port                 = 6379

  # One primary and one replica in another AZ; failover is automatic.
  num_cache_clusters         = 2
  automatic_failover_enabled = true
  multi_az_enabled           = true

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.cache.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.data.arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.cache.result
  auth_token_update_strategy = "ROTATE"

  auto_minor_version_upgrade = true
  snapshot_retention_limit   = 7
  snapshot_window            = "01:00-02:00"
  maintenance_window         = "sun:04:30-sun:05:30"
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.cache.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  tags = var.tags
}

# ---------------------------------------------------------------- secrets for runway

# The CA bundle of RDS in this region, so runway verifies the database's
# certificate and host name (ssl-mode=VERIFY_IDENTITY). AWS publishes it;
# it is public data and is fetched when Terraform plans.
data "http" "rds_ca" {
  url = "https://truststore.pki.rds.amazonaws.com/${local.region}/${local.region}-bundle.pem"

  lifecycle {
    postcondition {
      condition     = self.status_code == 200 && strcontains(self.response_body, "BEGIN CERTIFICATE")
      error_message = "Could not fetch the RDS CA bundle for ${local.region}."
    }
  }
}

resource "random_password" "jwt" {
  length  = 64
  special = false
}

locals {
  app_secrets = {
    "database-url" = {
      description = "RUNWAY_DATABASE_URL: RDS MySQL connection URL (TLS required)."
      value       = "mysql://${var.db_username}:${random_password.mysql.result}@${aws_db_instance.this.address}:${aws_db_instance.this.port}/${var.db_name}?ssl-mode=VERIFY_IDENTITY&ssl-ca=${var.rds_ca_bundle_path}"
    }
    "cache-url" = {
      description = "RUNWAY_CACHE_URL: ElastiCache Redis URL (TLS, AUTH token)."
      value       = "rediss://:${random_password.cache.result}@${aws_elasticache_replication_group.this.primary_endpoint_address}:6379"
    }
    "rds-ca-bundle" = {
      description = "CA certificates of RDS in this region (public; mounted next to the database URL, which names it in ssl-ca)."
      value       = data.http.rds_ca.response_body
    }
    "jwt-secret" = {
      description = "RUNWAY_AUTH__JWT_SECRET: HS256 signing key shared by every API pod."
      value       = random_password.jwt.result
    }
  }
}

resource "aws_secretsmanager_secret" "app" {
  #checkov:skip=CKV2_AWS_57:Rotated by Terraform (replace the random_password), which rewrites the URL and the database or cache credential together; a rotation Lambda would change one without the other.
  for_each = local.app_secrets

  name                    = "${local.secret_prefix}/${each.key}"
  description             = each.value.description
  kms_key_id              = aws_kms_key.data.arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "app" {
  for_each = local.app_secrets

  secret_id     = aws_secretsmanager_secret.app[each.key].id
  secret_string = each.value.value
}
