//! Properties of every plan, on random inputs: subnets inside their
//! ranges, pairwise disjoint and clear of the avoid list; capacity at
//! least the demand (recomputed here from first principles); the smallest
//! VPC; determinism.

use proptest::prelude::*;
use runway_netplan::render::{json, svg, table, tfvars};
use runway_netplan::{
    Cidr, InstanceSpec, Plan, PlanError, PlanInput, PlanRequest, SubnetRole, plan,
};

const CNI_MODES: [&str; 4] = [
    "secondary-ip",
    "prefix-delegation",
    "custom-networking",
    "custom-networking,prefix-delegation",
];
const SUPERNETS: [&str; 5] = [
    "10.0.0.0/8",
    "10.0.0.0/12",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "10.20.0.0/16",
];

/// A random block inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or
/// 100.64.0.0/10 (the pod range).
fn arb_cidr() -> impl Strategy<Value = String> {
    (0usize..4, any::<u32>(), 12u8..=28).prop_map(|(base, bits, len)| {
        let (net, net_len) = [
            (0x0A00_0000u32, 8u8),
            (0xAC10_0000, 12),
            (0xC0A8_0000, 16),
            (0x6440_0000, 10),
        ][base];
        let len = len.max(net_len);
        let host_mask = u32::MAX >> net_len;
        let addr = (net | (bits & host_mask)) & (u32::MAX << (32 - len));
        format!("{}/{len}", std::net::Ipv4Addr::from(addr))
    })
}

fn arb_request() -> impl Strategy<Value = PlanRequest> {
    let names: Vec<&'static str> = InstanceSpec::known_names().collect();
    let tiers = proptest::sample::subsequence(vec!["public", "db", "endpoint"], 0..=3);
    (
        (
            1u32..=20_000,
            0u32..=6,
            proptest::sample::select(names),
            proptest::sample::select(CNI_MODES.to_vec()),
            0u32..=100,
            0u32..=4,
            2u32..=3,
        ),
        (
            tiers,
            any::<bool>(),
            proptest::collection::vec(arb_cidr(), 0..6),
            proptest::collection::vec(arb_cidr(), 0..3),
            proptest::sample::select(SUPERNETS.to_vec()),
        ),
    )
        .prop_map(
            |(
                (pods, system, name, cni, surge, headroom, azs),
                (tiers, green, avoid, onprem, supernet),
            )| {
                let mut tiers: Vec<String> = tiers.into_iter().map(String::from).collect();
                tiers.push("app".into());
                PlanRequest {
                    pods: Some(pods),
                    system_pods_per_node: Some(system),
                    instance_type: Some(name.into()),
                    cni: Some(cni.into()),
                    surge_percent: Some(surge),
                    replacement_headroom: Some(headroom),
                    azs: Some(azs),
                    tiers: Some(tiers),
                    reserve_green: Some(green),
                    avoid: Some(avoid),
                    onprem: Some(onprem),
                    supernet: Some(supernet.into()),
                    ..PlanRequest::default()
                }
            },
        )
}

/// Max pods recomputed from the published formulas.
fn reference_max_pods(input: &PlanInput) -> u32 {
    let spec = &input.instance;
    let enis = if input.cni.custom_networking {
        spec.enis - 1
    } else {
        spec.enis
    };
    if input.cni.prefix_delegation {
        let cap = if spec.vcpus <= 30 { 110 } else { 250 };
        (enis * (spec.ips_per_eni - 1) * 16 + 2).min(cap)
    } else {
        enis * (spec.ips_per_eni - 1) + 2
    }
}

fn check_plan(input: &PlanInput, plan: &Plan) -> Result<(), TestCaseError> {
    let pod_supernet: Cidr = "100.64.0.0/10".parse().unwrap();
    let avoided: Vec<Cidr> = input.avoid.iter().chain(&input.onprem).copied().collect();

    // The VPC: inside the supernet, a legal VPC block, clear of the avoid
    // list; the pod range likewise inside 100.64.0.0/10.
    prop_assert!(input.supernet.contains(&plan.vpc));
    prop_assert!((16..=28).contains(&plan.vpc.prefix_len()));
    for range in std::iter::once(&plan.vpc).chain(&plan.secondary_cidrs) {
        for a in &avoided {
            prop_assert!(!range.overlaps(a), "{range} overlaps avoided {a}");
        }
    }
    for range in &plan.secondary_cidrs {
        prop_assert!(pod_supernet.contains(range));
        prop_assert!((16..=28).contains(&range.prefix_len()));
        prop_assert!(!range.overlaps(&plan.vpc));
    }
    prop_assert_eq!(
        plan.secondary_cidrs.is_empty(),
        !input.cni.custom_networking
    );

    // Every subnet inside its range; pairwise disjoint; clear of the
    // avoid list.
    for s in &plan.subnets {
        if s.role == SubnetRole::Pods {
            prop_assert!(plan.secondary_cidrs.iter().any(|r| r.contains(&s.cidr)));
        } else {
            prop_assert!(
                plan.vpc.contains(&s.cidr),
                "{} outside {}",
                s.cidr,
                plan.vpc
            );
        }
        prop_assert!((16..=28).contains(&s.cidr.prefix_len()));
        for a in &avoided {
            prop_assert!(!s.cidr.overlaps(a));
        }
    }
    for (i, a) in plan.subnets.iter().enumerate() {
        for b in &plan.subnets[i + 1..] {
            prop_assert!(!a.cidr.overlaps(&b.cidr), "{} overlaps {}", a.cidr, b.cidr);
        }
    }
    // Free space: disjoint from the subnets, and together they fill the VPC.
    for f in &plan.free {
        prop_assert!(plan.subnets.iter().all(|s| !s.cidr.overlaps(f)));
    }
    let in_vpc: u64 = plan
        .subnets
        .iter()
        .filter(|s| plan.vpc.contains(&s.cidr))
        .map(|s| s.cidr.size())
        .sum();
    let free_in_vpc: u64 = plan
        .free
        .iter()
        .filter(|f| plan.vpc.contains(f))
        .map(Cidr::size)
        .sum();
    prop_assert_eq!(in_vpc + free_in_vpc, plan.vpc.size());
    // The smallest VPC that fits: half of it would not hold the subnets.
    prop_assert!(plan.vpc.prefix_len() == 28 || in_vpc > plan.vpc.size() / 2);

    // One subnet per AZ for every planned role.
    let azs = input.azs as usize;
    let count = |role| plan.subnets_of(role).count();
    prop_assert_eq!(count(SubnetRole::App), azs);
    prop_assert_eq!(count(SubnetRole::ControlPlane), azs);
    let green = if input.reserve_green { azs } else { 0 };
    prop_assert_eq!(count(SubnetRole::AppGreen), green);
    prop_assert_eq!(count(SubnetRole::ControlPlaneGreen), green);
    for (tier, role) in [
        ("public", SubnetRole::Public),
        ("db", SubnetRole::Db),
        ("endpoint", SubnetRole::Endpoint),
    ] {
        let planned = input.tiers.iter().any(|t| t.to_string() == tier);
        prop_assert_eq!(count(role), if planned { azs } else { 0 });
    }
    let pods_subnets = if input.cni.custom_networking { azs } else { 0 };
    prop_assert_eq!(count(SubnetRole::Pods), pods_subnets);

    // Green twins: same size, buddies of the blue subnet in the same AZ.
    for (blue, green) in [
        (SubnetRole::App, SubnetRole::AppGreen),
        (SubnetRole::ControlPlane, SubnetRole::ControlPlaneGreen),
    ] {
        for g in plan.subnets_of(green) {
            let b = plan.subnets_of(blue).find(|b| b.az == g.az).unwrap();
            prop_assert_eq!(b.cidr.buddy(), Some(g.cidr));
            prop_assert!(b.cidr < g.cidr);
        }
    }

    // Capacity ≥ demand, recomputed independently.
    let n = &plan.nodes;
    prop_assert_eq!(n.max_pods.value, reference_max_pods(input));
    let peak = (u64::from(input.pods) * (100 + u64::from(input.surge_percent))).div_ceil(100);
    let peak_per_az = peak.div_ceil(input.azs as u64);
    let app_per_node = u64::from(n.sized_for_max_pods) - 2 - u64::from(input.system_pods_per_node);
    let nodes_for_peak = n.nodes_per_az - u64::from(input.replacement_headroom);
    // Enough nodes to schedule the peak, spread over the AZs.
    prop_assert!(nodes_for_peak * input.azs as u64 * app_per_node >= peak);
    // Every subnet holds at least what it is said to need.
    for s in &plan.subnets {
        if let Some(needed) = s.needed {
            prop_assert!(s.cidr.size() >= needed, "{} < {needed}", s.cidr);
        }
    }
    // Each AZ's pod subnet has an address for every pod of its share of
    // the peak, every system pod and (without custom networking) every node.
    let clusters = if input.reserve_green && input.cni.custom_networking {
        2
    } else {
        1
    };
    let pod_role = if input.cni.custom_networking {
        SubnetRole::Pods
    } else {
        SubnetRole::App
    };
    let node_ips = if input.cni.custom_networking {
        0
    } else {
        n.nodes_per_az
    };
    let pod_ips = peak_per_az + n.nodes_per_az * u64::from(input.system_pods_per_node);
    for s in plan.subnets_of(pod_role) {
        prop_assert!(s.usable >= clusters * (pod_ips + node_ips));
        if input.cni.prefix_delegation {
            // Enough whole /28s, even if every ENI's primary address and
            // the reserved addresses each spoil one.
            let blocks = s.cidr.size() / 16;
            let spoiled = 2 + clusters * n.nodes_per_az * n.enis_per_node;
            prop_assert!(blocks >= spoiled);
            prop_assert!((blocks - spoiled) * 16 >= clusters * pod_ips);
        }
    }
    // Custom networking: node subnets hold every node's own address.
    if input.cni.custom_networking {
        for s in plan.subnets_of(SubnetRole::App) {
            prop_assert!(s.usable >= n.nodes_per_az);
        }
    }
    // The busiest node's ENIs hold its pods.
    if !input.cni.prefix_delegation {
        let per_eni = u64::from(input.instance.ips_per_eni) - 1;
        prop_assert!(n.enis_per_node * per_eni >= n.busiest_node_pod_ips);
    } else {
        prop_assert!(n.prefixes_per_node.unwrap() * 16 >= n.busiest_node_pod_ips);
    }
    // AWS minimums: EKS needs 6 free addresses, ALB 8 in a /27 or larger.
    for s in plan.subnets_of(SubnetRole::ControlPlane) {
        prop_assert!(s.usable >= 6);
    }
    for s in plan.subnets_of(SubnetRole::Public) {
        prop_assert!(s.usable >= 8 && s.cidr.prefix_len() <= 27);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_plan_is_sound(request in arb_request()) {
        let input = request.clone().validate().expect("generated requests are valid");
        match plan(&input) {
            Ok(p) => check_plan(&input, &p)?,
            // The only acceptable failures, each checked to be genuine.
            Err(PlanError::NoSpace { supernet, vpc_prefix }) => {
                let size = 1u64 << (32 - vpc_prefix);
                let avoided = input.all_avoided();
                let mut start = supernet.start();
                while start + size <= supernet.end() {
                    let c: Cidr = format!("{}/{vpc_prefix}", std::net::Ipv4Addr::from(start as u32)).parse().unwrap();
                    prop_assert!(avoided.iter().any(|a| a.overlaps(&c)), "{c} was free");
                    start += size;
                }
            }
            Err(PlanError::SupernetTooSmall { supernet, vpc_prefix }) => {
                prop_assert!(supernet.prefix_len() > vpc_prefix);
            }
            Err(PlanError::VpcTooLarge { needed }) => prop_assert!(needed > 65536),
            Err(PlanError::PodRangeTooLarge { needed }) => prop_assert!(needed > 65536),
            Err(PlanError::NoPodSpace { .. }) => {
                prop_assert!(input.cni.custom_networking);
            }
            Err(PlanError::Invalid { key: "system_pods_per_node", .. }) => {
                let slots = reference_max_pods(&input) - 2;
                prop_assert!(slots <= input.system_pods_per_node);
            }
            Err(other) => prop_assert!(false, "unexpected error: {other}"),
        }
    }

    #[test]
    fn plans_are_deterministic(request in arb_request()) {
        let input = request.clone().validate().unwrap();
        let first = plan(&input);
        let again = plan(&input);
        prop_assert_eq!(&first, &again);
        // The order of the avoid list does not matter.
        let mut reversed = request.clone();
        if let Some(list) = reversed.avoid.as_mut() {
            list.reverse();
        }
        let reordered = plan(&reversed.validate().unwrap());
        prop_assert_eq!(&first, &reordered);
        if let Ok(p) = first {
            let again = again.unwrap();
            prop_assert_eq!(json::render(&p), json::render(&again));
            prop_assert_eq!(table::render(&p), table::render(&again));
            prop_assert_eq!(tfvars::render(&p), tfvars::render(&again));
            prop_assert_eq!(svg::render(&p), svg::render(&again));
        }
    }
}
