//! Worked numbers from the EKS Best Practices Guide, the EKS AMI's
//! `eni-max-pods.txt` and `max-pods-calculator.sh`, and the issue's
//! acceptance command.

use runway_netplan::{Cni, InstanceSpec, PlanError, PlanRequest, SubnetRole, plan};

use super::{done_when_request, input, plan_for};

fn max_pods(name: &str, cni: Cni) -> u32 {
    InstanceSpec::lookup(name)
        .unwrap_or_else(|| panic!("{name} is in the table"))
        .max_pods(cni)
        .value
}

#[test]
fn m5_large_in_every_mode() {
    // EKS Best Practices Guide, VPC CNI and prefix mode: 29 pods with
    // secondary IPs, 110 with prefixes; custom networking loses the
    // primary ENI: 2 × 9 + 2 = 20.
    assert_eq!(max_pods("m5.large", Cni::SECONDARY_IP), 29);
    assert_eq!(max_pods("m5.large", Cni::PREFIX_DELEGATION), 110);
    assert_eq!(max_pods("m5.large", Cni::CUSTOM_NETWORKING), 20);
    assert_eq!(max_pods("m5.large", Cni::CUSTOM_NETWORKING_PREFIX), 110);
}

#[test]
fn calculator_numbers() {
    let cases = [
        ("m5.xlarge", 58, 110),
        ("t3.medium", 17, 110),
        ("c5.large", 29, 110),
        ("c5.18xlarge", 737, 250),
        ("m5.24xlarge", 737, 250),
        ("m5.4xlarge", 234, 110), // 16 vCPU: the low ceiling
        ("m5.8xlarge", 234, 250), // 32 vCPU: the high ceiling
        ("c5.9xlarge", 234, 250), // 36 vCPU
        ("t3.nano", 4, 34),       // 2 × (1 × 16) + 2, under the ceiling
        ("t3.small", 11, 110),
    ];
    for (name, secondary, prefix) in cases {
        assert_eq!(max_pods(name, Cni::SECONDARY_IP), secondary, "{name}");
        assert_eq!(max_pods(name, Cni::PREFIX_DELEGATION), prefix, "{name}");
    }
    // Custom networking with secondary IPs: (ENIs − 1) × (IPs − 1) + 2.
    assert_eq!(max_pods("m5.xlarge", Cni::CUSTOM_NETWORKING), 44);
    assert_eq!(max_pods("t3.medium", Cni::CUSTOM_NETWORKING), 12);
    assert_eq!(max_pods("m5.24xlarge", Cni::CUSTOM_NETWORKING), 688);
    assert_eq!(max_pods("m5.24xlarge", Cni::CUSTOM_NETWORKING_PREFIX), 250);
}

#[test]
fn table_matches_eni_max_pods() {
    // Values of the EKS AMI's eni-max-pods.txt for the shipped families
    // it lists.
    #[rustfmt::skip]
    let published = [
        ("t3.nano", 4), ("t3.micro", 4), ("t3.small", 11), ("t3.medium", 17), ("t3.large", 35),
        ("t3.xlarge", 58), ("t3.2xlarge", 58),
        ("t3a.nano", 4), ("t3a.micro", 4), ("t3a.small", 8), ("t3a.medium", 17), ("t3a.large", 35),
        ("t3a.xlarge", 58), ("t3a.2xlarge", 58),
        ("t4g.nano", 4), ("t4g.micro", 4), ("t4g.small", 11), ("t4g.medium", 17), ("t4g.large", 35),
        ("t4g.xlarge", 58), ("t4g.2xlarge", 58),
        ("m5.large", 29), ("m5.xlarge", 58), ("m5.2xlarge", 58), ("m5.4xlarge", 234), ("m5.8xlarge", 234),
        ("m5.12xlarge", 234), ("m5.16xlarge", 737), ("m5.24xlarge", 737),
        ("c5.large", 29), ("c5.xlarge", 58), ("c5.2xlarge", 58), ("c5.4xlarge", 234), ("c5.9xlarge", 234),
        ("c5.12xlarge", 234), ("c5.18xlarge", 737), ("c5.24xlarge", 737),
        ("r5.large", 29), ("r5.xlarge", 58), ("r5.2xlarge", 58), ("r5.4xlarge", 234), ("r5.8xlarge", 234),
        ("r5.12xlarge", 234), ("r5.16xlarge", 737), ("r5.24xlarge", 737),
        ("m6g.medium", 8), ("m6g.large", 29), ("m6g.xlarge", 58), ("m6g.2xlarge", 58), ("m6g.4xlarge", 234),
        ("m6g.8xlarge", 234), ("m6g.12xlarge", 234), ("m6g.16xlarge", 737),
        ("m7g.medium", 8), ("m7g.large", 29), ("m7g.xlarge", 58), ("m7g.2xlarge", 58), ("m7g.4xlarge", 234),
        ("m7g.8xlarge", 234), ("m7g.12xlarge", 234), ("m7g.16xlarge", 737),
    ];
    for (name, pods) in published {
        assert_eq!(max_pods(name, Cni::SECONDARY_IP), pods, "{name}");
    }
}

#[test]
fn the_acceptance_command() {
    let plan = plan_for(done_when_request());
    let n = &plan.nodes;
    assert_eq!(n.max_pods.value, 29);
    assert_eq!(n.pod_ip_slots, 27);
    assert_eq!(n.app_pods_per_node, 25); // 2 system pods per node by default
    assert_eq!(n.peak_pods, 625); // 500 + 25% surge
    assert_eq!(n.nodes, 25);
    assert_eq!(n.nodes_per_az, 15); // 13 + 2 replacement headroom
    assert_eq!(n.busiest_node_pod_ips, 27);
    assert_eq!(n.enis_per_node, 3);
    assert_eq!(n.pod_addresses_per_node, 30);
    assert_eq!(n.node_subnet_needed, 15 * 30 + 5);

    // Clear of the avoided 10.0.0.0/16, the first /20 in 10.0.0.0/8.
    assert_eq!(plan.vpc.to_string(), "10.1.0.0/20");
    let cidrs = |role| {
        plan.subnets_of(role)
            .map(|s| s.cidr.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(cidrs(SubnetRole::App), ["10.1.0.0/23", "10.1.4.0/23"]);
    assert_eq!(cidrs(SubnetRole::AppGreen), ["10.1.2.0/23", "10.1.6.0/23"]);
    assert_eq!(cidrs(SubnetRole::Public), ["10.1.8.0/26", "10.1.8.64/26"]);
    assert_eq!(
        cidrs(SubnetRole::ControlPlane),
        ["10.1.8.128/28", "10.1.8.160/28"]
    );
    assert_eq!(
        cidrs(SubnetRole::ControlPlaneGreen),
        ["10.1.8.144/28", "10.1.8.176/28"]
    );
    assert_eq!(cidrs(SubnetRole::Db), ["10.1.8.192/27", "10.1.8.224/27"]);
    assert_eq!(cidrs(SubnetRole::Endpoint), ["10.1.9.0/27", "10.1.9.32/27"]);
    assert!(cidrs(SubnetRole::Pods).is_empty());
    let free: Vec<String> = plan.free.iter().map(ToString::to_string).collect();
    assert_eq!(
        free,
        [
            "10.1.9.64/26",
            "10.1.9.128/25",
            "10.1.10.0/23",
            "10.1.12.0/22"
        ]
    );
    assert_eq!(plan.summary.allocated + plan.summary.free, 4096);
}

#[test]
fn prefix_delegation_sizes_in_prefixes() {
    let plan = plan_for(PlanRequest {
        cni: Some("prefix-delegation".into()),
        ..done_when_request()
    });
    let n = &plan.nodes;
    // 108 pod IPs per node − 2 system pods = 106 application pods; 625
    // pods need 6 nodes, 3 per AZ plus 2 headroom.
    assert_eq!(n.app_pods_per_node, 106);
    assert_eq!((n.nodes, n.nodes_per_az), (6, 5));
    // The busiest node runs 106 + 2 pods: 7 prefixes + 1 warm on one ENI.
    assert_eq!(n.prefixes_per_node, Some(8));
    assert_eq!(n.enis_per_node, 1);
    // Worst-case fragmentation: (5 nodes × 9 /28s + 2) × 16 = 752 → /22.
    assert_eq!(n.node_subnet_needed, 752);
    assert_eq!(
        plan.subnets_of(SubnetRole::App)
            .next()
            .unwrap()
            .cidr
            .prefix_len(),
        22
    );
}

#[test]
fn custom_networking_puts_pods_in_100_64() {
    let plan = plan_for(PlanRequest {
        cni: Some("custom-networking".into()),
        ..done_when_request()
    });
    assert_eq!(plan.nodes.max_pods.value, 20);
    assert_eq!(plan.secondary_cidrs.len(), 1);
    let range = plan.secondary_cidrs[0];
    assert!(range.to_string().starts_with("100.64."), "{range}");
    let pods: Vec<_> = plan.subnets_of(SubnetRole::Pods).collect();
    assert_eq!(pods.len(), 2);
    for p in &pods {
        assert!(range.contains(&p.cidr));
        // Shared by blue and green: room for both clusters' nodes.
        let one_cluster = plan.nodes.pod_subnet_needed_for(plan.nodes.nodes_per_az);
        assert!(p.needed.unwrap() > one_cluster);
        assert!(p.cidr.size() >= p.needed.unwrap());
    }
    // Node subnets only hold the nodes' own addresses.
    let app = plan.subnets_of(SubnetRole::App).next().unwrap();
    assert_eq!(app.needed, Some(plan.nodes.nodes_per_az + 5));
    // The VPC itself is much smaller than with pods in it.
    assert!(plan.vpc.prefix_len() > 20, "{}", plan.vpc);
}

#[test]
fn large_instances_are_sized_for_the_managed_node_group_ceiling_too() {
    // m5.24xlarge: 737 pods per node by the ENI formula, 250 under a
    // managed node group. Without headroom, 250 per node means 13 nodes
    // per AZ with a warm ENI each (13 × 350 addresses) against 5 nodes of
    // 750: the ceiling needs more, so the plan is sized for it.
    let capped = plan_for(PlanRequest {
        instance_type: Some("m5.24xlarge".into()),
        pods: Some(5000),
        replacement_headroom: Some(0),
        ..done_when_request()
    });
    assert_eq!(capped.nodes.max_pods.value, 737);
    assert_eq!(capped.nodes.sized_for_max_pods, 250);
    assert_eq!(capped.nodes.nodes_per_az, 13);
    assert_eq!(capped.nodes.node_subnet_needed, 13 * 7 * 50 + 5);

    // With two headroom nodes of 750 addresses each, the big nodes need
    // more: 4 × 750 against 8 × 350.
    let uncapped = plan_for(PlanRequest {
        instance_type: Some("m5.24xlarge".into()),
        pods: Some(2000),
        ..done_when_request()
    });
    assert_eq!(uncapped.nodes.sized_for_max_pods, 737);
    assert_eq!(uncapped.nodes.node_subnet_needed, 4 * 15 * 50 + 5);
}

#[test]
fn three_azs_and_fewer_tiers() {
    let plan = plan_for(PlanRequest {
        azs: Some(3),
        tiers: Some(vec!["app".into(), "db".into()]),
        reserve_green: Some(false),
        ..done_when_request()
    });
    assert_eq!(plan.subnets_of(SubnetRole::App).count(), 3);
    assert_eq!(plan.subnets_of(SubnetRole::ControlPlane).count(), 3);
    assert_eq!(plan.subnets_of(SubnetRole::Db).count(), 3);
    assert_eq!(plan.subnets_of(SubnetRole::Public).count(), 0);
    assert_eq!(plan.subnets_of(SubnetRole::AppGreen).count(), 0);
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.starts_with("tiers: no public, endpoint subnets")),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn impossible_plans_are_errors() {
    let covered = input(PlanRequest {
        avoid: Some(vec!["10.0.0.0/8".into()]),
        ..done_when_request()
    });
    let err = plan(&covered).unwrap_err();
    assert!(matches!(err, PlanError::NoSpace { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("no free /20 in supernet 10.0.0.0/8"),
        "{err}"
    );

    let small = input(PlanRequest {
        supernet: Some("10.20.0.0/22".into()),
        ..done_when_request()
    });
    let err = plan(&small).unwrap_err();
    assert_eq!(
        err.to_string(),
        "supernet 10.20.0.0/22 is smaller than the /20 VPC this plan needs"
    );

    let huge = input(PlanRequest {
        pods: Some(100_000),
        instance_type: Some("t3.medium".into()),
        ..done_when_request()
    });
    assert!(matches!(plan(&huge), Err(PlanError::VpcTooLarge { .. })));

    let crowded = input(PlanRequest {
        instance_type: Some("t3.nano".into()),
        system_pods_per_node: Some(2),
        ..done_when_request()
    });
    let err = plan(&crowded).unwrap_err().to_string();
    assert!(err.contains("--system-pods-per-node"), "{err}");

    let no_pod_room = input(PlanRequest {
        cni: Some("custom-networking".into()),
        avoid: Some(vec!["10.0.0.0/16".into(), "100.64.0.0/10".into()]),
        ..done_when_request()
    });
    assert!(matches!(
        plan(&no_pod_room),
        Err(PlanError::NoPodSpace { .. })
    ));
}

#[test]
fn warnings() {
    let plan = plan_for(PlanRequest {
        avoid: Some(vec!["10.0.0.0/16".into(), "10.0.4.0/24".into()]),
        onprem: Some(vec!["10.0.4.0/24".into(), "192.168.0.0/16".into()]),
        waste_threshold: Some(10),
        ..done_when_request()
    });
    let all = plan.warnings.join("\n");
    assert!(
        all.contains("overlap: avoid 10.0.0.0/16 and avoid 10.0.4.0/24"),
        "{all}"
    );
    assert!(
        all.contains("10.0.4.0/24 is listed both as avoid and as onprem"),
        "{all}"
    );
    assert!(all.contains("waste:"), "{all}");
    assert!(!all.contains("192.168.0.0/16"), "{all}");

    // 540 pods: 675 at peak, 27 nodes, 14 + 2 per AZ: 485 of 512, under 10% spare.
    let tight = plan_for(PlanRequest {
        pods: Some(540),
        ..done_when_request()
    });
    assert!(
        tight
            .warnings
            .iter()
            .any(|w| w.starts_with("too small: app subnet")),
        "{:?}",
        tight.warnings
    );

    let public = plan_for(PlanRequest {
        supernet: Some("11.0.0.0/8".into()),
        ..done_when_request()
    });
    assert!(
        public
            .warnings
            .iter()
            .any(|w| w.contains("not in a private range")),
        "{:?}",
        public.warnings
    );
}
