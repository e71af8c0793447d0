//! The plan as a table for people.

use std::fmt::Write;

use crate::cidr::Cidr;
use crate::plan::Plan;

/// The human-readable report.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(plan, &mut out);
    out
}

fn write_report(plan: &Plan, out: &mut String) -> std::fmt::Result {
    let input = &plan.input;
    let n = &plan.nodes;
    let spec = &input.instance;

    writeln!(
        out,
        "VPC {} ({} addresses) from supernet {}, {} AZs{}",
        plan.vpc,
        plan.vpc.size(),
        input.supernet,
        input.azs,
        if input.reserve_green {
            ", green cluster range reserved"
        } else {
            ""
        }
    )?;
    for range in &plan.secondary_cidrs {
        writeln!(
            out,
            "Pod range {range} ({} addresses), secondary VPC CIDR for custom networking",
            range.size()
        )?;
    }
    writeln!(out)?;

    writeln!(
        out,
        "Nodes: {} ({} vCPU, {} ENIs × {} IPv4 per ENI, from the {}), CNI {}",
        spec.name,
        spec.vcpus,
        spec.enis,
        spec.ips_per_eni,
        source(spec.source),
        input.cni
    )?;
    writeln!(out, "  max pods per node    {}", n.max_pods.formula)?;
    if n.sized_for_max_pods != n.max_pods.value {
        writeln!(
            out,
            "  sized for max pods   {} (the managed node group ceiling), which needs more addresses than {}",
            n.sized_for_max_pods, n.max_pods.value
        )?;
    }
    writeln!(
        out,
        "  pods per node        {} with VPC addresses (max pods − aws-node, kube-proxy) − {} system = {} application",
        n.pod_ip_slots, input.system_pods_per_node, n.app_pods_per_node
    )?;
    writeln!(
        out,
        "  peak pods            {} + {}% surge = {} ({} per AZ)",
        input.pods, input.surge_percent, n.peak_pods, n.peak_pods_per_az
    )?;
    writeln!(
        out,
        "  nodes                {} at peak → {} per AZ incl. {} replacement headroom",
        n.nodes, n.nodes_per_az, input.replacement_headroom
    )?;
    let holds = match n.prefixes_per_node {
        Some(p) => format!(
            "{p} /28 prefixes on {} (warm prefix included) = {} addresses",
            enis(n.enis_per_node),
            n.pod_addresses_per_node
        ),
        None => format!(
            "{} × {} (warm ENI included) = {} addresses",
            enis(n.enis_per_node),
            spec.ips_per_eni,
            n.pod_addresses_per_node
        ),
    };
    let subnet_kind = if input.cni.custom_networking {
        "in the pod subnet"
    } else {
        "in its subnet"
    };
    writeln!(
        out,
        "  busiest node         {} pod IPs; holds {holds} {subnet_kind}",
        n.busiest_node_pod_ips
    )?;
    writeln!(out)?;

    writeln!(out, "Subnets (needed = addresses incl. the 5 AWS reserves)")?;
    writeln!(
        out,
        "  {:<3} {:<20} {:<18} {:>6} {:>7} {:>7} {:>7}",
        "AZ", "ROLE", "CIDR", "SIZE", "USABLE", "NEEDED", "SPARE"
    )?;
    for s in &plan.subnets {
        let dash = || "-".to_string();
        writeln!(
            out,
            "  {:<3} {:<20} {:<18} {:>6} {:>7} {:>7} {:>7}",
            s.az,
            s.role.label(),
            s.cidr.to_string(),
            s.cidr.size(),
            s.usable,
            s.needed.map_or_else(dash, |v| v.to_string()),
            s.spare().map_or_else(dash, |v| v.to_string()),
        )?;
    }
    writeln!(out)?;

    let free_total: u64 = plan.free.iter().map(Cidr::size).sum();
    writeln!(
        out,
        "Free: {} addresses{}{}",
        free_total,
        if plan.free.is_empty() { "" } else { ": " },
        plan.free
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    let s = &plan.summary;
    writeln!(
        out,
        "Summary: {} of {} VPC addresses in subnets ({} reserved for green); the plan needs {}; {:.1}% unused",
        s.allocated, s.vpc_addresses, s.green_reserved, s.needed, s.unused_percent
    )?;
    let avoided: Vec<String> = input
        .avoid
        .iter()
        .map(|c| format!("{c} (avoid)"))
        .chain(input.onprem.iter().map(|c| format!("{c} (onprem)")))
        .collect();
    writeln!(
        out,
        "Avoided: {}",
        if avoided.is_empty() {
            "nothing".to_string()
        } else {
            avoided.join(", ")
        }
    )?;
    writeln!(out)?;
    if plan.warnings.is_empty() {
        writeln!(out, "Warnings: none")?;
    } else {
        writeln!(out, "Warnings:")?;
        for w in &plan.warnings {
            writeln!(out, "  - {w}")?;
        }
    }
    Ok(())
}

fn enis(n: u64) -> String {
    if n == 1 {
        "1 ENI".to_string()
    } else {
        format!("{n} ENIs")
    }
}

fn source(source: &str) -> &'static str {
    if source == "table" {
        "shipped table"
    } else {
        "numbers given"
    }
}
