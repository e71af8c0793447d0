# runway, production account. Composes the modules; the network plan comes
# from network.auto.tfvars.json (runway plan-network), the account's inputs
# from terraform.tfvars (see terraform.tfvars.example).

locals {
  environment = "prod"
  name        = "runway-${local.environment}"
  namespace   = "runway"
  # Created by hand from the CDN key pair (docs/deployment.md, step 3), so the
  # private key never enters the Terraform state.
  cdn_private_key_secret = "${local.name}/runway/cdn-signing-key"

  tags = {
    Project     = "runway"
    Environment = local.environment
    ManagedBy   = "terraform"
    Source      = "deploy/terraform/envs/prod"
  }

  settings = {
    node_instance_types = ["m7i.large"]
    node_min_size       = 2
    node_desired_size   = 3
    node_max_size       = 9
    db_instance_class   = "db.m7g.large"
    cache_node_type     = "cache.m7g.large"
    deletion_protection = true
    apns_platform       = "APNS"
    log_retention_days  = 365
  }

  # runway's media pipeline settings, one map for the pods (kustomize_env)
  # and the thumbnail Lambda (module media), so both make the same files.
  # The defaults are runway's own (runway_core::config::MediaConfig), also
  # the base values in deploy/k8s/base/kustomization.yaml; every key is
  # always written to aws.env, as deploy/k8s/components/aws-env copies each.
  media_defaults = {
    RUNWAY_MEDIA__MAX_UPLOAD_BYTES       = "52428800"
    RUNWAY_MEDIA__MAX_PIXELS             = "50000000"
    RUNWAY_MEDIA__MAX_SIDE               = "20000"
    RUNWAY_MEDIA__MAX_FRAMES             = "1000"
    RUNWAY_MEDIA__KEEP_ORIGINAL_METADATA = "false"
    RUNWAY_MEDIA__VARIANT_FORMAT         = "webp"
    RUNWAY_MEDIA__VARIANT_QUALITY        = "80"
  }
  media_settings = merge(local.media_defaults, var.media_settings)
}

module "network" {
  source = "../../modules/network"

  name                  = local.name
  vpc_cidr              = var.vpc_cidr
  secondary_cidr_blocks = var.secondary_cidr_blocks
  az_count              = var.az_count
  subnets               = var.subnets
  onprem_cidrs          = var.onprem_cidrs
  tags                  = local.tags
}

module "eks" {
  source = "../../modules/eks"

  name                     = local.name
  vpc_id                   = module.network.vpc_id
  vpc_cidrs                = module.network.vpc_cidrs
  onprem_cidrs             = var.onprem_cidrs
  control_plane_subnet_ids = module.network.control_plane_subnet_ids
  node_subnet_ids          = module.network.app_subnet_ids
  pod_subnets              = module.network.pod_subnets
  node_instance_types      = local.settings.node_instance_types
  node_min_size            = local.settings.node_min_size
  node_desired_size        = local.settings.node_desired_size
  node_max_size            = local.settings.node_max_size
  admin_role_arns          = var.admin_role_arns
  deployer_role_arns       = { codebuild = module.pipeline.role_arn }
  app_namespace            = local.namespace
  log_retention_days       = local.settings.log_retention_days
  tags                     = local.tags
}

module "data" {
  source = "../../modules/data"

  name                = local.name
  vpc_id              = module.network.vpc_id
  db_subnet_ids       = module.network.db_subnet_ids
  app_cidrs           = module.network.app_cidrs
  onprem_cidrs        = var.onprem_cidrs
  db_instance_class   = local.settings.db_instance_class
  cache_node_type     = local.settings.cache_node_type
  deletion_protection = local.settings.deletion_protection
  log_retention_days  = local.settings.log_retention_days
  tags                = local.tags
}

module "media" {
  source = "../../modules/media"
  providers = {
    aws           = aws
    aws.us_east_1 = aws.us_east_1
  }

  name                 = local.name
  cdn_domain           = var.cdn_domain
  zone_id              = var.zone_id
  signing_public_keys  = { for name, path in var.cdn_signing_public_key_files : name => file("${path.module}/${path}") }
  thumbnail_lambda_zip = var.thumbnail_lambda_zip
  media_settings       = local.media_settings
  vpc_id               = module.network.vpc_id
  lambda_subnet_ids    = module.network.app_subnet_ids
  log_retention_days   = local.settings.log_retention_days
  tags                 = local.tags
}

module "messaging" {
  source = "../../modules/messaging"

  name             = local.name
  apns_platform    = local.settings.apns_platform
  apns_secret_name = var.apns_secret_name
  fcm_secret_name  = var.fcm_secret_name
  tags             = local.tags
}

module "observability" {
  source = "../../modules/observability"

  name                           = local.name
  dead_letter_queue_names        = concat(module.messaging.dead_letter_queue_names, module.media.dead_letter_queue_names)
  backlog_queue_names            = values(module.messaging.queue_names)
  rds_identifier                 = module.data.mysql_identifier
  cache_cluster_ids              = module.data.cache_cluster_ids
  lambda_function_names          = module.media.lambda_function_names
  alert_lambda_zip               = var.alert_lambda_zip
  alert_slack_webhook_secret_arn = var.alert_slack_webhook_secret_arn
  alert_webhook_secret_arn       = var.alert_webhook_secret_arn
  alert_emails                   = var.alert_emails
  vpc_id                         = module.network.vpc_id
  lambda_subnet_ids              = module.network.app_subnet_ids
  log_retention_days             = local.settings.log_retention_days
  tags                           = local.tags
}

module "registry" {
  source = "../../modules/registry"

  name = local.name
  tags = local.tags
}

module "dns" {
  source = "../../modules/dns"

  zone_id                      = var.zone_id
  api_domain                   = var.api_domain
  cdn_domain                   = var.cdn_domain
  cdn_distribution_domain_name = module.media.distribution_domain_name
  cdn_distribution_zone_id     = module.media.distribution_hosted_zone_id
  cluster_name                 = local.name
  tags                         = local.tags
}

module "iam" {
  source = "../../modules/iam"

  name                        = local.name
  oidc_provider_arn           = module.eks.oidc_provider_arn
  oidc_issuer                 = module.eks.oidc_issuer
  namespace                   = local.namespace
  media_bucket_arn            = module.media.bucket_arn
  storage_prefix              = module.media.storage_prefix
  media_kms_key_arn           = module.media.kms_key_arn
  queue_arns                  = module.messaging.queue_arns
  dead_letter_queue_arns      = module.messaging.dead_letter_queue_arns
  thumbnail_results_queue_arn = module.media.thumbnail_results_queue_arn
  platform_application_names  = module.messaging.platform_application_names
  secret_arns                 = module.data.secret_arns
  extra_secret_names          = [local.cdn_private_key_secret]
  secrets_kms_key_arn         = module.data.kms_key_arn
  zone_id                     = var.zone_id
  tags                        = local.tags
}

# The account-specific values of the Kubernetes overlay (deploy/k8s/overlays/prod/aws.env).
# The pipeline reads them from SSM; for a manual apply:
#   terraform output -raw kustomize_env > ../../../k8s/overlays/prod/aws.env
locals {
  kustomize_env = <<-EOT
    # Generated by deploy/terraform/envs/${local.environment} (terraform output -raw kustomize_env). No secrets.
    AWS_REGION=${var.region}
    API_HOSTNAME=${var.api_domain}
    CERTIFICATE_ARN=${module.dns.api_certificate_arn}
    API_ROLE_ARN=${module.iam.api_role_arn}
    WORKER_ROLE_ARN=${module.iam.worker_role_arn}
    SECRETS_ROLE_ARN=${module.iam.secrets_role_arn}
    VPC_CIDR=${var.vpc_cidr}
    RUNWAY_STORAGE_URL=${module.media.storage_url}
    RUNWAY_QUEUE_URL=${module.messaging.queue_urls["jobs"]}
    RUNWAY_MEDIA__PROCESSOR=${module.media.media_processor}
    RUNWAY_MEDIA__RESULTS_QUEUE_URL=${module.media.thumbnail_results_queue_url}
    ${join("\n", [for k, v in local.media_settings : "${k}=${v}"])}
    DATABASE_URL_SECRET=${module.data.secret_names["database-url"]}
    CACHE_URL_SECRET=${module.data.secret_names["cache-url"]}
    JWT_SECRET_SECRET=${module.data.secret_names["jwt-secret"]}
    RDS_CA_BUNDLE_SECRET=${module.data.secret_names["rds-ca-bundle"]}
    CDN_PRIVATE_KEY_SECRET=${local.cdn_private_key_secret}
    RUNWAY_PUBLIC_URL=https://${var.api_domain}
    RUNWAY_CDN__BASE_URL=https://${var.cdn_domain}
    RUNWAY_CDN__KEY_PAIR_ID=${module.media.signing_key_ids[var.cdn_active_signing_key]}
    RUNWAY_PUSH__IOS=${contains(keys(module.messaging.platform_application_arns), "ios") ? "sns" : "log"}
    RUNWAY_PUSH__ANDROID=${contains(keys(module.messaging.platform_application_arns), "android") ? "sns" : "log"}
    RUNWAY_PUSH__SNS_IOS_APPLICATION_ARN=${lookup(module.messaging.platform_application_arns, "ios", "")}
    RUNWAY_PUSH__SNS_ANDROID_APPLICATION_ARN=${lookup(module.messaging.platform_application_arns, "android", "")}
  EOT
}

module "pipeline" {
  source = "../../modules/pipeline"

  name               = local.name
  cluster_name       = local.name
  overlay            = local.environment
  namespace          = local.namespace
  repository_url     = module.registry.repository_url
  repository_arn     = module.registry.repository_arn
  kustomize_env      = local.kustomize_env
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.app_subnet_ids
  access_log_bucket  = module.media.access_log_bucket
  log_retention_days = local.settings.log_retention_days
  tags               = local.tags
}
