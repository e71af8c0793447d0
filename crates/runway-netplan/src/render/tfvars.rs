//! `terraform.tfvars.json` for `deploy/terraform/modules/network`.
//!
//! It holds exactly the planner-owned variables of that module's
//! `variables.tf`: `vpc_cidr`, `secondary_cidr_blocks`, `az_count`,
//! `subnets` and, when on-prem ranges were given, `onprem_cidrs`. The
//! operator supplies `name` and `tags`. `tests/netplan/tfvars_contract.rs`
//! parses `variables.tf` and checks the two agree.

use serde::Serialize;

use crate::cidr::Cidr;
use crate::plan::{Plan, SubnetRole};

/// The planner-owned variables of the network module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TfVars {
    pub vpc_cidr: Cidr,
    pub secondary_cidr_blocks: Vec<Cidr>,
    pub az_count: u32,
    pub subnets: TfSubnets,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onprem_cidrs: Option<Vec<Cidr>>,
}

/// One list per tier, one CIDR per AZ in AZ order (empty when the tier is
/// not planned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TfSubnets {
    pub public: Vec<Cidr>,
    pub app: Vec<Cidr>,
    pub app_green: Vec<Cidr>,
    pub control_plane: Vec<Cidr>,
    pub db: Vec<Cidr>,
    pub endpoint: Vec<Cidr>,
    pub pods: Vec<Cidr>,
}

impl TfVars {
    pub fn from_plan(plan: &Plan) -> TfVars {
        let list = |role: SubnetRole| plan.subnets_of(role).map(|s| s.cidr).collect::<Vec<_>>();
        TfVars {
            vpc_cidr: plan.vpc,
            secondary_cidr_blocks: plan.secondary_cidrs.clone(),
            az_count: plan.input.azs,
            subnets: TfSubnets {
                public: list(SubnetRole::Public),
                app: list(SubnetRole::App),
                app_green: list(SubnetRole::AppGreen),
                control_plane: list(SubnetRole::ControlPlane),
                db: list(SubnetRole::Db),
                endpoint: list(SubnetRole::Endpoint),
                pods: list(SubnetRole::Pods),
            },
            onprem_cidrs: (!plan.input.onprem.is_empty()).then(|| plan.input.onprem.clone()),
        }
    }
}

/// Pretty-printed `terraform.tfvars.json`, with a trailing newline.
pub fn render(plan: &Plan) -> String {
    let mut out =
        serde_json::to_string_pretty(&TfVars::from_plan(plan)).expect("tfvars always serialize");
    out.push('\n');
    out
}
