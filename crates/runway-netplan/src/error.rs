//! Everything that can go wrong between a request and a plan. Each message
//! names the input to change, by its TOML key and its flag.

use crate::cidr::Cidr;

/// The TOML key as a command-line flag: `surge_percent` → `--surge-percent`.
fn flag(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("invalid TOML: {0}")]
    Config(String),

    #[error("missing `{key}` ({}): {hint}", flag(.key))]
    Missing {
        key: &'static str,
        hint: &'static str,
    },

    #[error("invalid `{key}` ({}): {message}", flag(.key))]
    Invalid { key: &'static str, message: String },

    #[error(
        "the plan needs {needed} addresses, more than a /16 (65536), the largest VPC CIDR AWS allows; \
         use prefix delegation or custom networking (pods in 100.64.0.0/10), a larger instance type, or split the workload"
    )]
    VpcTooLarge { needed: u64 },

    #[error("supernet {supernet} is smaller than the /{vpc_prefix} VPC this plan needs")]
    SupernetTooSmall { supernet: Cidr, vpc_prefix: u8 },

    #[error(
        "no free /{vpc_prefix} in supernet {supernet}: the avoid and onprem ranges cover every candidate; \
         choose another --supernet or shrink the plan"
    )]
    NoSpace { supernet: Cidr, vpc_prefix: u8 },

    #[error(
        "custom networking pod subnets need {needed} addresses, more than one /16 secondary CIDR (65536); \
         use prefix delegation or a larger instance type"
    )]
    PodRangeTooLarge { needed: u64 },

    #[error(
        "no free /{prefix} for the pod range in 100.64.0.0/10: the avoid and onprem ranges cover every candidate"
    )]
    NoPodSpace { prefix: u8 },
}

impl PlanError {
    pub(crate) fn invalid(key: &'static str, message: String) -> PlanError {
        PlanError::Invalid { key, message }
    }
}
