//! From pods to nodes to addresses: how many nodes each AZ runs at peak,
//! how many addresses each node holds, and how big the node (and pod)
//! subnets must be.
//!
//! The model, per the EKS Best Practices Guide (VPC CNI, prefix mode,
//! custom networking) and the EKS max-pods calculator:
//!
//! - A node runs at most `max_pods`; two of them (`aws-node`, `kube-proxy`)
//!   use the host network, so `max_pods − 2` pods need a VPC address, and
//!   `system_pods_per_node` of those are DaemonSets on every node.
//! - Peak pods grow by the rollout surge; nodes are spread evenly over the
//!   AZs, and each AZ gets `replacement_headroom` more nodes for node
//!   replacement (a managed node group update adds new nodes before it
//!   drains old ones).
//! - Secondary-IP mode, default `WARM_ENI_TARGET=1`: a node attaches one
//!   ENI more than its pods need (up to the limit) and allocates every
//!   address of every attached ENI.
//! - Prefix delegation, default `WARM_PREFIX_TARGET=1`: a node holds one
//!   /28 more than its pods need, plus each ENI's primary address. Prefixes
//!   need free, aligned /28s, so the plan counts the worst case where every
//!   ENI primary address and the AWS-reserved addresses each spoil one /28.
//! - Custom networking: the primary ENI carries no pods, so nodes take one
//!   address each in the node subnet and their pod ENIs live in the pod
//!   subnet.
//! - AWS reserves 5 addresses in every subnet.

use serde::Serialize;

use crate::error::PlanError;
use crate::input::PlanInput;
use crate::instances::{HOST_NETWORK_PODS, IPS_PER_PREFIX, MaxPods};

/// Addresses AWS reserves in every subnet (network, router, DNS, future,
/// broadcast).
pub const AWS_RESERVED_PER_SUBNET: u64 = 5;
/// Smallest subnet AWS allows.
pub const MIN_SUBNET_SIZE: u64 = 16;

/// Nodes and addresses at peak.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeSizing {
    /// Max pods per node for the instance type and CNI mode.
    pub max_pods: MaxPods,
    /// The max-pods value the subnets were sized for. In secondary-IP mode
    /// on large instances the ENI formula (e.g. 737) exceeds the ceiling
    /// managed node groups enforce (250); the plan is sized for whichever
    /// of the two needs more addresses, so it holds for both.
    pub sized_for_max_pods: u32,
    /// Pods per node that need a VPC address (`max_pods − 2`).
    pub pod_ip_slots: u32,
    /// Application pods per node (`pod_ip_slots − system_pods_per_node`).
    pub app_pods_per_node: u32,
    /// Peak application pods plus the rollout surge.
    pub peak_pods: u64,
    /// `peak_pods` per AZ (rounded up).
    pub peak_pods_per_az: u64,
    /// Nodes the whole cluster needs at peak.
    pub nodes: u64,
    /// Nodes per AZ: `nodes` spread over the AZs plus replacement headroom.
    pub nodes_per_az: u64,
    /// Pod addresses on the busiest node (application plus system pods).
    pub busiest_node_pod_ips: u64,
    /// ENIs attached to the busiest node for pods (warm ENI included).
    pub enis_per_node: u64,
    /// Prefix delegation: /28 prefixes on the busiest node (warm prefix
    /// included).
    pub prefixes_per_node: Option<u64>,
    /// Addresses one node holds in the subnet its pods draw from.
    pub pod_addresses_per_node: u64,
    /// Addresses each AZ's node subnet must hold, AWS-reserved included.
    pub node_subnet_needed: u64,
    /// Custom networking: addresses each AZ's pod subnet must hold for one
    /// cluster, AWS-reserved included.
    pub pod_subnet_needed: Option<u64>,
}

impl NodeSizing {
    /// Addresses the app tier needs per AZ for one cluster.
    fn total_per_az(&self) -> u64 {
        self.node_subnet_needed + self.pod_subnet_needed.unwrap_or(0)
    }
}

/// Size the node group and its subnets.
pub fn size_nodes(input: &PlanInput) -> Result<NodeSizing, PlanError> {
    let max_pods = input.instance.max_pods(input.cni);
    let first = size_for(input, &max_pods, max_pods.value)?;
    if !input.cni.prefix_delegation && max_pods.value > max_pods.cap {
        // Managed node groups cap max pods at 110/250 in every mode: more
        // nodes, each with its own warm ENI. Size for the larger need.
        let capped = size_for(input, &max_pods, max_pods.cap)?;
        if capped.total_per_az() > first.total_per_az() {
            return Ok(capped);
        }
    }
    Ok(first)
}

fn size_for(
    input: &PlanInput,
    max_pods: &MaxPods,
    kubelet_max: u32,
) -> Result<NodeSizing, PlanError> {
    let spec = &input.instance;
    let cni = input.cni;
    let pod_ip_slots = kubelet_max.saturating_sub(HOST_NETWORK_PODS);
    if pod_ip_slots <= input.system_pods_per_node {
        return Err(PlanError::invalid(
            "system_pods_per_node",
            format!(
                "{} runs {pod_ip_slots} pods with VPC addresses per node in {cni} mode (max pods {kubelet_max} minus \
                 aws-node and kube-proxy), and {} system pods per node leave no room for application pods; \
                 choose a larger instance type",
                spec.name, input.system_pods_per_node
            ),
        ));
    }
    let app_pods_per_node = pod_ip_slots - input.system_pods_per_node;
    let azs = u64::from(input.azs);

    let peak_pods = (u64::from(input.pods) * (100 + u64::from(input.surge_percent))).div_ceil(100);
    let peak_pods_per_az = peak_pods.div_ceil(azs);
    let nodes = peak_pods.div_ceil(u64::from(app_pods_per_node));
    let nodes_per_az = nodes.div_ceil(azs) + u64::from(input.replacement_headroom);

    // A node never holds more application pods than fit on it, nor more
    // than its AZ runs in total.
    let busiest_node_pod_ips =
        u64::from(app_pods_per_node).min(peak_pods_per_az) + u64::from(input.system_pods_per_node);

    let pod_enis = u64::from(spec.pod_enis(cni));
    let ips_per_eni = u64::from(spec.ips_per_eni);
    let per_eni = ips_per_eni - 1; // secondary IPs, or prefixes, per ENI
    let prefix = u64::from(IPS_PER_PREFIX);

    let (enis_per_node, prefixes_per_node, pod_addresses_per_node) = if cni.prefix_delegation {
        let prefixes = (busiest_node_pod_ips.div_ceil(prefix) + 1).min(pod_enis * per_eni);
        let enis = prefixes.div_ceil(per_eni).max(1);
        (enis, Some(prefixes), prefixes * prefix + enis)
    } else {
        let enis = (busiest_node_pod_ips.div_ceil(per_eni).max(1) + 1).min(pod_enis);
        (enis, None, enis * ips_per_eni)
    };

    let mut sizing = NodeSizing {
        max_pods: max_pods.clone(),
        sized_for_max_pods: kubelet_max,
        pod_ip_slots,
        app_pods_per_node,
        peak_pods,
        peak_pods_per_az,
        nodes,
        nodes_per_az,
        busiest_node_pod_ips,
        enis_per_node,
        prefixes_per_node,
        pod_addresses_per_node,
        node_subnet_needed: 0,
        pod_subnet_needed: None,
    };
    if cni.custom_networking {
        sizing.node_subnet_needed = nodes_per_az + AWS_RESERVED_PER_SUBNET;
        sizing.pod_subnet_needed = Some(sizing.pod_subnet_needed_for(nodes_per_az));
    } else {
        sizing.node_subnet_needed = sizing.pod_subnet_needed_for(nodes_per_az);
    }
    Ok(sizing)
}

impl NodeSizing {
    /// Addresses a subnet must hold, AWS-reserved included, for the pods
    /// of `nodes` nodes.
    ///
    /// Secondary IPs: `nodes × addresses per node + 5`. Prefix delegation,
    /// in /28 blocks for the worst-case fragmentation: every prefix, every
    /// ENI primary address, and the two blocks holding the AWS-reserved
    /// addresses, i.e. `(nodes × (prefixes + ENIs) + 2) × 16`.
    pub fn pod_subnet_needed_for(&self, nodes: u64) -> u64 {
        match self.prefixes_per_node {
            Some(prefixes) => {
                let blocks_per_node = prefixes + self.enis_per_node;
                (nodes * blocks_per_node + 2) * u64::from(IPS_PER_PREFIX)
            }
            None => nodes * self.pod_addresses_per_node + AWS_RESERVED_PER_SUBNET,
        }
    }
}

/// The smallest AWS subnet (a power of two, at least /28) holding `needed`
/// addresses.
pub fn subnet_size_for(needed: u64) -> u64 {
    needed.max(MIN_SUBNET_SIZE).next_power_of_two()
}
