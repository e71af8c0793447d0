terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
    http = {
      source  = "hashicorp/http"
      version = "~> 3.4"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }

  # Partial configuration: the bucket (and its region) are given at init,
  #   terraform init -backend-config=bucket=STATE_BUCKET -backend-config=region=REGION
  # (docs/deployment.md, step 1). The lock is an S3 lock file; no DynamoDB table.
  backend "s3" {
    key          = "runway/prod/terraform.tfstate"
    encrypt      = true
    use_lockfile = true
  }
}

provider "aws" {
  region = var.region
  # Refuses to run against any other account: dev and prod are separate accounts.
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = local.tags
  }
}

# CloudFront certificates must live in us-east-1.
provider "aws" {
  alias               = "us_east_1"
  region              = "us-east-1"
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = local.tags
  }
}
