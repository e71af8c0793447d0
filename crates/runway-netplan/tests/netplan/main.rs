//! runway-netplan's integration tests: worked examples, properties on
//! random inputs, the tfvars contract with Terraform, and the renderings.

mod examples;
mod properties;
mod render;
mod tfvars_contract;

use runway_netplan::{Plan, PlanInput, PlanRequest, plan};

/// The request of the acceptance command:
/// `--pods 500 --azs 2 --instance-type m5.large --avoid 10.0.0.0/16 --reserve-green`.
pub fn done_when_request() -> PlanRequest {
    PlanRequest {
        pods: Some(500),
        azs: Some(2),
        instance_type: Some("m5.large".into()),
        avoid: Some(vec!["10.0.0.0/16".into()]),
        reserve_green: Some(true),
        ..PlanRequest::default()
    }
}

pub fn input(request: PlanRequest) -> PlanInput {
    request.validate().expect("valid request")
}

pub fn plan_for(request: PlanRequest) -> Plan {
    plan(&input(request)).expect("a plan")
}
