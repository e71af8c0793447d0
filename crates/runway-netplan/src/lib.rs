//! runway-netplan: the VPC and EKS address planner behind
//! `runway plan-network`.
//!
//! Pure: inputs in, a [`Plan`] out, rendered as a table, JSON, a
//! `terraform.tfvars.json` for `deploy/terraform/modules/network`, or an
//! SVG map. No I/O happens here; the command line reads and writes files.
//!
//! ```
//! use runway_netplan::{PlanRequest, plan};
//!
//! let input = PlanRequest {
//!     pods: Some(500),
//!     instance_type: Some("m5.large".into()),
//!     avoid: Some(vec!["10.0.0.0/16".into()]),
//!     reserve_green: Some(true),
//!     ..PlanRequest::default()
//! }
//! .validate()
//! .unwrap();
//! let plan = plan(&input).unwrap();
//! assert_eq!(plan.vpc.to_string(), "10.1.0.0/20");
//! ```
//!
//! `docs/network-planning.md` explains the model and its sources.

pub mod cidr;
pub mod error;
pub mod input;
pub mod instances;
pub mod plan;
pub mod render;
pub mod sizing;

pub use cidr::Cidr;
pub use error::PlanError;
pub use input::{Cni, PlanInput, PlanRequest, Tier};
pub use instances::{InstanceSpec, MaxPods};
pub use plan::{Plan, Subnet, SubnetRole, plan};
pub use sizing::NodeSizing;
