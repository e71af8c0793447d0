//! Inputs → plan: size every subnet, pack them into the smallest VPC CIDR,
//! place that CIDR in the supernet clear of the avoided ranges, and report
//! what is left and what looks wrong.
//!
//! Allocation is deterministic: every subnet is an aligned power-of-two
//! block, and blocks are packed largest first (ties: tier, then AZ) from
//! the bottom of the VPC, which packs aligned power-of-two blocks without
//! gaps. A green subnet is the upper half of a block whose lower half is
//! its blue twin, so adding or removing it never disturbs anything else.

use std::cmp::Reverse;

use serde::Serialize;

use crate::cidr::{Cidr, align_up, range_to_cidrs};
use crate::error::PlanError;
use crate::input::{PlanInput, Tier};
use crate::sizing::{AWS_RESERVED_PER_SUBNET, NodeSizing, size_nodes, subnet_size_for};

/// Public subnets: /26. ALB subnets must be at least /27 with 8 free
/// addresses; the rest is room for more load balancers and the NAT gateway.
pub const PUBLIC_SUBNET_SIZE: u64 = 64;
/// EKS control-plane subnets: /28, as the EKS Best Practices Guide advises
/// for the cross-account ENIs (EKS needs at least 6 free addresses).
pub const CONTROL_PLANE_SUBNET_SIZE: u64 = 16;
/// Database subnets (RDS, ElastiCache): /27.
pub const DB_SUBNET_SIZE: u64 = 32;
/// VPC interface endpoint subnets: /27, one address per endpoint per AZ.
pub const ENDPOINT_SUBNET_SIZE: u64 = 32;
/// Free addresses an ALB needs in each of its subnets.
pub const ALB_FREE_ADDRESSES: u64 = 8;
/// Free addresses EKS needs in each control-plane subnet.
pub const EKS_CONTROL_PLANE_FREE_ADDRESSES: u64 = 6;
/// The range custom-networking pod subnets are taken from.
pub const POD_SUPERNET: &str = "100.64.0.0/10";
/// Largest CIDR block a VPC can have (primary or secondary).
pub const MAX_VPC_BLOCK: u64 = 1 << 16;
/// Warn when a computed subnet has less spare than this, percent of its need.
pub const LOW_SPARE_PERCENT: u64 = 10;

/// What a subnet is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubnetRole {
    /// ALB, NAT gateway.
    Public,
    /// Nodes of the live (blue) EKS cluster.
    App,
    /// Reserved for the nodes of a green cluster during an upgrade.
    AppGreen,
    /// EKS control-plane ENIs of the blue cluster.
    ControlPlane,
    /// Reserved for the green cluster's control-plane ENIs.
    ControlPlaneGreen,
    /// RDS, ElastiCache.
    Db,
    /// VPC interface endpoints.
    Endpoint,
    /// Custom networking: pod ENIs, in the secondary CIDR.
    Pods,
}

impl SubnetRole {
    pub const ALL: [SubnetRole; 8] = [
        SubnetRole::Public,
        SubnetRole::App,
        SubnetRole::AppGreen,
        SubnetRole::ControlPlane,
        SubnetRole::ControlPlaneGreen,
        SubnetRole::Db,
        SubnetRole::Endpoint,
        SubnetRole::Pods,
    ];

    /// The attribute of the Terraform `subnets` variable holding this
    /// role, if the network module creates it.
    pub fn tfvars_key(self) -> Option<&'static str> {
        match self {
            SubnetRole::Public => Some("public"),
            SubnetRole::App => Some("app"),
            SubnetRole::AppGreen => Some("app_green"),
            SubnetRole::ControlPlane => Some("control_plane"),
            SubnetRole::ControlPlaneGreen => None,
            SubnetRole::Db => Some("db"),
            SubnetRole::Endpoint => Some("endpoint"),
            SubnetRole::Pods => Some("pods"),
        }
    }

    /// A short name for tables and maps.
    pub fn label(self) -> &'static str {
        match self {
            SubnetRole::Public => "public",
            SubnetRole::App => "app",
            SubnetRole::AppGreen => "app-green",
            SubnetRole::ControlPlane => "control-plane",
            SubnetRole::ControlPlaneGreen => "control-plane-green",
            SubnetRole::Db => "db",
            SubnetRole::Endpoint => "endpoint",
            SubnetRole::Pods => "pods",
        }
    }

    /// Whether the subnet's size follows from the pod count (rather than
    /// a fixed size per tier).
    pub fn is_computed(self) -> bool {
        matches!(
            self,
            SubnetRole::App | SubnetRole::AppGreen | SubnetRole::Pods
        )
    }

    fn rank(self) -> u8 {
        self as u8
    }
}

/// One subnet of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subnet {
    /// Availability zone, 1-based, in the order Terraform assigns them.
    pub az: u32,
    pub role: SubnetRole,
    pub cidr: Cidr,
    /// Addresses left after AWS's 5 reserved ones.
    pub usable: u64,
    /// Addresses the subnet must hold, AWS-reserved included: the computed
    /// need for node and pod subnets, the AWS minimum for public (ALB) and
    /// control-plane subnets, none for fixed-size db and endpoint subnets.
    pub needed: Option<u64>,
}

impl Subnet {
    /// Addresses beyond the need.
    pub fn spare(&self) -> Option<u64> {
        self.needed.map(|n| self.cidr.size().saturating_sub(n))
    }
}

/// Totals for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub vpc_addresses: u64,
    /// Addresses of the VPC inside subnets.
    pub allocated: u64,
    /// Of those, reserved for the green cluster.
    pub green_reserved: u64,
    /// Addresses of the VPC in no subnet.
    pub free: u64,
    /// What the plan needs: computed needs of node subnets plus the full
    /// size of fixed-size subnets.
    pub needed: u64,
    /// `(vpc_addresses − needed) / vpc_addresses`, percent, one decimal:
    /// free space plus rounding inside node subnets.
    pub unused_percent: f64,
    /// Addresses of the secondary (pod) CIDRs.
    pub pod_range_addresses: u64,
}

/// A complete address plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub input: PlanInput,
    pub nodes: NodeSizing,
    /// The VPC's primary CIDR.
    pub vpc: Cidr,
    /// Secondary VPC CIDRs (custom networking pod range).
    pub secondary_cidrs: Vec<Cidr>,
    /// Every subnet, by AZ then role.
    pub subnets: Vec<Subnet>,
    /// Unallocated space in the VPC and secondary CIDRs, as aligned blocks.
    pub free: Vec<Cidr>,
    pub summary: Summary,
    pub warnings: Vec<String>,
}

impl Plan {
    /// Subnets of one role, in AZ order.
    pub fn subnets_of(&self, role: SubnetRole) -> impl Iterator<Item = &Subnet> {
        self.subnets.iter().filter(move |s| s.role == role)
    }
}

/// A block to pack: one subnet, or a blue subnet and its green twin.
struct Block {
    az: u32,
    rank: u8,
    /// Subnets laid out in order from the block's start, each with its size.
    parts: Vec<(SubnetRole, u64, Option<u64>)>,
}

impl Block {
    fn size(&self) -> u64 {
        self.parts.iter().map(|p| p.1).sum()
    }
}

/// Make the plan.
pub fn plan(input: &PlanInput) -> Result<Plan, PlanError> {
    let nodes = size_nodes(input)?;
    let green = input.reserve_green;
    let clusters = if green { 2 } else { 1 };
    let avoided = input.all_avoided();

    // Blocks per AZ.
    let app_size = subnet_size_for(nodes.node_subnet_needed);
    let cp_needed = Some(AWS_RESERVED_PER_SUBNET + EKS_CONTROL_PLANE_FREE_ADDRESSES);
    let mut blocks = Vec::new();
    for az in 1..=input.azs {
        let mut app = vec![(SubnetRole::App, app_size, Some(nodes.node_subnet_needed))];
        let mut cp = vec![(
            SubnetRole::ControlPlane,
            CONTROL_PLANE_SUBNET_SIZE,
            cp_needed,
        )];
        if green {
            app.push((
                SubnetRole::AppGreen,
                app_size,
                Some(nodes.node_subnet_needed),
            ));
            cp.push((
                SubnetRole::ControlPlaneGreen,
                CONTROL_PLANE_SUBNET_SIZE,
                cp_needed,
            ));
        }
        blocks.push(Block {
            az,
            rank: SubnetRole::App.rank(),
            parts: app,
        });
        blocks.push(Block {
            az,
            rank: SubnetRole::ControlPlane.rank(),
            parts: cp,
        });
        for (tier, role, size, needed) in [
            (
                Tier::Public,
                SubnetRole::Public,
                PUBLIC_SUBNET_SIZE,
                Some(AWS_RESERVED_PER_SUBNET + ALB_FREE_ADDRESSES + 1),
            ),
            (Tier::Db, SubnetRole::Db, DB_SUBNET_SIZE, None),
            (
                Tier::Endpoint,
                SubnetRole::Endpoint,
                ENDPOINT_SUBNET_SIZE,
                None,
            ),
        ] {
            if input.has_tier(tier) {
                blocks.push(Block {
                    az,
                    rank: role.rank(),
                    parts: vec![(role, size, needed)],
                });
            }
        }
    }

    // The VPC: the smallest power of two holding every block.
    let total: u64 = blocks.iter().map(Block::size).sum();
    let vpc_size = total.next_power_of_two().max(16);
    if vpc_size > MAX_VPC_BLOCK {
        return Err(PlanError::VpcTooLarge { needed: total });
    }
    let vpc_prefix = crate::cidr::prefix_for_size(vpc_size);
    if input.supernet.size() < vpc_size {
        return Err(PlanError::SupernetTooSmall {
            supernet: input.supernet,
            vpc_prefix,
        });
    }
    let vpc = find_free(input.supernet, vpc_size, &avoided).ok_or(PlanError::NoSpace {
        supernet: input.supernet,
        vpc_prefix,
    })?;

    let mut subnets = Vec::new();
    blocks.sort_by_key(|b| (Reverse(b.size()), b.rank, b.az));
    let mut cursor = vpc.start();
    for block in &blocks {
        for &(role, size, needed) in &block.parts {
            subnets.push(subnet(block.az, role, Cidr::aligned(cursor, size), needed));
            cursor += size;
        }
    }

    // Custom networking: pod subnets in a secondary CIDR from 100.64.0.0/10.
    let mut secondary_cidrs = Vec::new();
    if input.cni.custom_networking {
        let needed = nodes.pod_subnet_needed_for(nodes.nodes_per_az * clusters);
        let pod_size = subnet_size_for(needed);
        let range_size = (pod_size * u64::from(input.azs)).next_power_of_two();
        if range_size > MAX_VPC_BLOCK {
            return Err(PlanError::PodRangeTooLarge {
                needed: pod_size * u64::from(input.azs),
            });
        }
        let mut taken = avoided.clone();
        taken.push(vpc);
        let pod_supernet: Cidr = POD_SUPERNET.parse().expect("constant CIDR");
        let range = find_free(pod_supernet, range_size, &taken).ok_or(PlanError::NoPodSpace {
            prefix: crate::cidr::prefix_for_size(range_size),
        })?;
        for az in 1..=input.azs {
            let start = range.start() + u64::from(az - 1) * pod_size;
            subnets.push(subnet(
                az,
                SubnetRole::Pods,
                Cidr::aligned(start, pod_size),
                Some(needed),
            ));
        }
        secondary_cidrs.push(range);
    }
    subnets.sort_by_key(|s| (s.az, s.role));

    let mut free = free_blocks(vpc, &subnets);
    for range in &secondary_cidrs {
        free.extend(free_blocks(*range, &subnets));
    }

    let summary = summary(vpc, &secondary_cidrs, &subnets);
    let mut plan = Plan {
        input: input.clone(),
        nodes,
        vpc,
        secondary_cidrs,
        subnets,
        free,
        summary,
        warnings: Vec::new(),
    };
    plan.warnings = warnings(&plan);
    Ok(plan)
}

fn subnet(az: u32, role: SubnetRole, cidr: Cidr, needed: Option<u64>) -> Subnet {
    Subnet {
        az,
        role,
        cidr,
        usable: cidr.size() - AWS_RESERVED_PER_SUBNET,
        needed,
    }
}

/// The lowest aligned block of `size` addresses in `region` that overlaps
/// nothing in `taken`.
fn find_free(region: Cidr, size: u64, taken: &[Cidr]) -> Option<Cidr> {
    let mut start = align_up(region.start(), size);
    while start + size <= region.end() {
        let candidate = Cidr::aligned(start, size);
        match taken
            .iter()
            .filter(|t| t.overlaps(&candidate))
            .map(Cidr::end)
            .max()
        {
            None => return Some(candidate),
            // Jump past the furthest conflict: each step clears at least one
            // taken range, so the search ends.
            Some(end) => start = align_up(end, size),
        }
    }
    None
}

/// Space in `range` covered by no subnet, as aligned blocks.
fn free_blocks(range: Cidr, subnets: &[Subnet]) -> Vec<Cidr> {
    let mut inside: Vec<Cidr> = subnets
        .iter()
        .map(|s| s.cidr)
        .filter(|c| range.contains(c))
        .collect();
    inside.sort_unstable();
    let mut free = Vec::new();
    let mut at = range.start();
    for c in inside {
        free.extend(range_to_cidrs(at, c.start()));
        at = at.max(c.end());
    }
    free.extend(range_to_cidrs(at, range.end()));
    free
}

fn summary(vpc: Cidr, secondary: &[Cidr], subnets: &[Subnet]) -> Summary {
    let in_vpc = || subnets.iter().filter(|s| vpc.contains(&s.cidr));
    let allocated: u64 = in_vpc().map(|s| s.cidr.size()).sum();
    let green_reserved = in_vpc()
        .filter(|s| matches!(s.role, SubnetRole::AppGreen | SubnetRole::ControlPlaneGreen))
        .map(|s| s.cidr.size())
        .sum();
    let needed: u64 = in_vpc()
        .map(|s| match (s.role.is_computed(), s.needed) {
            (true, Some(n)) => n,
            _ => s.cidr.size(),
        })
        .sum();
    let unused = vpc.size().saturating_sub(needed);
    Summary {
        vpc_addresses: vpc.size(),
        allocated,
        green_reserved,
        free: vpc.size() - allocated,
        needed,
        unused_percent: (unused as f64 * 1000.0 / vpc.size() as f64).round() / 10.0,
        pod_range_addresses: secondary.iter().map(Cidr::size).sum(),
    }
}

/// Private ranges a VPC is normally taken from.
const PRIVATE_RANGES: [&str; 4] = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
];

fn warnings(plan: &Plan) -> Vec<String> {
    let input = &plan.input;
    let mut out = Vec::new();

    // Overlaps among the ranges to avoid: two networks that are meant to be
    // connected already share addresses.
    let labelled: Vec<(&str, Cidr)> = input
        .avoid
        .iter()
        .map(|c| ("avoid", *c))
        .chain(input.onprem.iter().map(|c| ("onprem", *c)))
        .collect();
    for (i, (kind_a, a)) in labelled.iter().enumerate() {
        for (kind_b, b) in &labelled[i + 1..] {
            if a == b {
                out.push(format!(
                    "overlap: {a} is listed both as {kind_a} and as {kind_b}"
                ));
            } else if a.overlaps(b) {
                out.push(format!(
                    "overlap: {kind_a} {a} and {kind_b} {b} share addresses; networks that overlap cannot be routed to each other"
                ));
            }
        }
    }

    let missing: Vec<String> = Tier::ALL
        .iter()
        .filter(|t| !input.has_tier(**t))
        .map(ToString::to_string)
        .collect();
    if !missing.is_empty() {
        out.push(format!(
            "tiers: no {} subnets; deploy/terraform/modules/network requires the public, app, db and endpoint \
             tiers in every AZ, so it will reject these tfvars",
            missing.join(", ")
        ));
    }

    if !PRIVATE_RANGES
        .iter()
        .any(|r| r.parse::<Cidr>().is_ok_and(|r| r.contains(&plan.vpc)))
    {
        out.push(format!(
            "VPC {} is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10); \
             addresses routable on the internet will be unreachable there from inside the VPC",
            plan.vpc
        ));
    }

    for s in plan.subnets.iter().filter(|s| s.role.is_computed()) {
        let (Some(needed), Some(spare)) = (s.needed, s.spare()) else {
            continue;
        };
        if spare * 100 < needed * LOW_SPARE_PERCENT {
            out.push(format!(
                "too small: {} subnet {} (AZ {}) has {spare} addresses above the planned peak \
                 ({needed} needed of {}); a busier peak needs a bigger VPC — raise --pods or --surge-percent to plan for it",
                s.role.label(),
                s.cidr,
                s.az,
                s.cidr.size()
            ));
        }
    }

    if plan.summary.unused_percent > f64::from(input.waste_threshold_percent) {
        let summary = &plan.summary;
        out.push(format!(
            "waste: {:.1}% of VPC {} is beyond what the plan needs ({} addresses free, {} rounding inside node \
             subnets), over the {}% threshold; the VPC is the smallest power of two that fits, so a slightly \
             smaller plan (--pods, --surge-percent, --replacement-headroom) may fit in half of it",
            summary.unused_percent,
            plan.vpc,
            summary.free,
            summary.allocated - summary.needed.min(summary.allocated),
            input.waste_threshold_percent
        ));
    }
    out
}
