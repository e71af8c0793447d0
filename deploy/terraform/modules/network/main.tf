# The VPC of one runway environment, laid out from the address plan that
# `runway plan-network --tfvars` writes (see variables.tf, which is the
# contract with the planner and must not change).
#
# Tiers (SEED "hard decision 2": one public and three private tiers):
#   public         ALB and NAT gateways; the only tier with an internet gateway route
#   app            EKS nodes (and pods) of the live cluster; internet through NAT
#   app_green      reserved for a second cluster during blue/green upgrades; same routing as app
#   pods           custom-networking pod subnets in the secondary CIDRs; same routing as app
#   control_plane  /28s for the EKS control-plane ENIs; no internet route
#   db             RDS and ElastiCache; no internet route
#   endpoint       VPC interface endpoints; no internet route
# Company ranges (onprem_cidrs) are reached over Direct Connect through a
# virtual private gateway whose routes are propagated into the private tiers.

data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:The module's inputs (variables.tf, the planner contract) carry no zone names; the AZs are the first az_count names in sorted order, so a zone AWS adds later sorts after them and never shifts the plan.
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  azs = slice(sort(data.aws_availability_zones.available.names), 0, var.az_count)

  # tier => { az => cidr }; a tier planned as an empty list yields no subnets.
  tier_subnets = {
    for tier, cidrs in var.subnets : tier => { for i, cidr in cidrs : local.azs[i] => cidr }
  }

  # Tiers that route to the internet through NAT (one NAT gateway per AZ).
  nat_tiers = ["app", "app_green", "pods"]
  # Tiers with no internet route at all.
  isolated_tiers = ["control_plane", "db", "endpoint"]

  private_subnet_list = flatten([
    for tier in concat(local.nat_tiers, local.isolated_tiers) : [
      for az, cidr in local.tier_subnets[tier] : { key = "${tier}-${az}", tier = tier, az = az, cidr = cidr }
    ]
  ])
  private_subnets = { for s in local.private_subnet_list : s.key => s }

  # Every address the VPC owns: the primary range and the secondary ranges.
  vpc_cidrs = concat([var.vpc_cidr], var.secondary_cidr_blocks)

  has_onprem = length(var.onprem_cidrs) > 0

  interface_endpoints = toset([
    "ecr.api",
    "ecr.dkr",
    "sts",
    "sqs",
    "sns",
    "logs",
    "ec2",
    "elasticloadbalancing",
    "autoscaling",
    "secretsmanager",
  ])

  tier_tags = {
    public        = { "kubernetes.io/role/elb" = "1" }
    app           = { "kubernetes.io/role/internal-elb" = "1" }
    app_green     = {}
    pods          = {}
    control_plane = {}
    db            = {}
    endpoint      = {}
  }
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    precondition {
      condition = alltrue([
        for tier, cidrs in var.subnets : length(cidrs) == 0 || length(cidrs) == var.az_count
      ])
      error_message = "Every planned subnet tier must hold exactly one CIDR per AZ (az_count)."
    }
    precondition {
      condition     = length(var.subnets.public) == var.az_count && length(var.subnets.app) == var.az_count && length(var.subnets.db) == var.az_count && length(var.subnets.endpoint) == var.az_count
      error_message = "The public, app, db and endpoint tiers are required in every AZ."
    }
    precondition {
      condition     = length(var.subnets.pods) == 0 || length(var.secondary_cidr_blocks) > 0
      error_message = "Pod subnets (custom networking) live in secondary_cidr_blocks, which is empty."
    }
  }
}

resource "aws_vpc_ipv4_cidr_block_association" "secondary" {
  for_each = toset(var.secondary_cidr_blocks)

  vpc_id     = aws_vpc.this.id
  cidr_block = each.value
}

# Locked down: nothing may use the default security group.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-default-unused" })
}

# ---------------------------------------------------------------- subnets

resource "aws_subnet" "public" {
  for_each = local.tier_subnets.public

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.key
  cidr_block              = each.value
  map_public_ip_on_launch = false

  tags = merge(var.tags, local.tier_tags.public, {
    Name          = "${var.name}-public-${each.key}"
    "runway:tier" = "public"
  })
}

resource "aws_subnet" "private" {
  for_each = local.private_subnets

  vpc_id                  = aws_vpc.this.id
  availability_zone       = each.value.az
  cidr_block              = each.value.cidr
  map_public_ip_on_launch = false

  tags = merge(var.tags, local.tier_tags[each.value.tier], {
    Name          = "${var.name}-${replace(each.value.tier, "_", "-")}-${each.value.az}"
    "runway:tier" = each.value.tier
  })

  # Pod subnets are carved from the secondary ranges, which must be attached first.
  depends_on = [aws_vpc_ipv4_cidr_block_association.secondary]
}

# ---------------------------------------------------------------- internet and NAT

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_eip" "nat" {
  for_each = local.tier_subnets.public

  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-nat-${each.key}" })

  depends_on = [aws_internet_gateway.this]
}

# One NAT gateway per AZ, so losing an AZ never cuts the other AZ off.
resource "aws_nat_gateway" "this" {
  for_each = local.tier_subnets.public

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id
  tags          = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

# ---------------------------------------------------------------- route tables

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-public", "runway:tier" = "public" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

# app, app_green and pods: one table per AZ, default route to that AZ's NAT.
resource "aws_route_table" "private" {
  for_each = toset(local.azs)

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-private-${each.key}", "runway:tier" = "app" })
}

resource "aws_route" "private_nat" {
  for_each = aws_route_table.private

  route_table_id         = each.value.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[each.key].id
}

# control_plane, db and endpoint: one table per tier, local routes only (plus
# the company network when onprem_cidrs is set). No internet route.
resource "aws_route_table" "isolated" {
  for_each = toset(local.isolated_tiers)

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-${replace(each.key, "_", "-")}", "runway:tier" = each.key })
}

resource "aws_route_table_association" "private" {
  for_each = local.private_subnets

  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = contains(local.nat_tiers, each.value.tier) ? aws_route_table.private[each.value.az].id : aws_route_table.isolated[each.value.tier].id
}

# ---------------------------------------------------------------- Direct Connect

# Attach this gateway to the company's Direct Connect gateway (outside this
# stack: the DX connection usually lives in a network account). Routes to
# onprem_cidrs are then propagated into every private route table.
resource "aws_vpn_gateway" "onprem" {
  count = local.has_onprem ? 1 : 0

  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-onprem" })
}

resource "aws_vpn_gateway_route_propagation" "private" {
  for_each = local.has_onprem ? merge(
    { for az, rt in aws_route_table.private : "private-${az}" => rt.id },
    { for tier, rt in aws_route_table.isolated : tier => rt.id },
  ) : {}

  vpn_gateway_id = aws_vpn_gateway.onprem[0].id
  route_table_id = each.value
}

# ---------------------------------------------------------------- VPC endpoints

resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids = concat(
    [for rt in aws_route_table.private : rt.id],
    [for rt in aws_route_table.isolated : rt.id],
  )

  tags = merge(var.tags, { Name = "${var.name}-s3" })
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name}-vpc-endpoints"
  description = "Interface VPC endpoints: HTTPS from inside the VPC"
  vpc_id      = aws_vpc.this.id

  tags = merge(var.tags, { Name = "${var.name}-vpc-endpoints" })

  depends_on = [aws_vpc_ipv4_cidr_block_association.secondary]
}

resource "aws_vpc_security_group_ingress_rule" "endpoints_https" {
  for_each = toset(local.vpc_cidrs)

  security_group_id = aws_security_group.endpoints.id
  description       = "HTTPS from the VPC range ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_endpoints

  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = [for az in local.azs : aws_subnet.private["endpoint-${az}"].id]
  security_group_ids  = [aws_security_group.endpoints.id]

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

# ---------------------------------------------------------------- flow logs

data "aws_iam_policy_document" "flow_logs_key" {
  #checkov:skip=CKV_AWS_109:Key policy: "*" means this key; the account root statement delegates to IAM policies, as AWS requires.
  #checkov:skip=CKV_AWS_111:Key policy: "*" means this key; the account root statement delegates to IAM policies, as AWS requires.
  #checkov:skip=CKV_AWS_356:Key policy: "*" means this key; the account root statement delegates to IAM policies, as AWS requires.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsUse"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "flow_logs" {
  description         = "${var.name}: VPC flow logs"
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.flow_logs_key.json
  tags                = var.tags
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/runway/${var.name}/vpc-flow-logs"
  retention_in_days = 365
  kms_key_id        = aws_kms_key.flow_logs.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "flow_logs_write" {
  statement {
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
    ]
    resources = [aws_cloudwatch_log_group.flow_logs.arn, "${aws_cloudwatch_log_group.flow_logs.arn}:*"]
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${var.name}-vpc-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs_write.json
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 60
  tags                     = var.tags
}
