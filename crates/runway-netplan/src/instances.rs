//! The shipped table of common Nitro instance types, and the EKS max-pods
//! formulas.
//!
//! Each row gives the limits EC2 publishes for the type (maximum network
//! interfaces, IPv4 addresses per interface, default vCPUs; see "Maximum IP
//! addresses per network interface" in the EC2 user guide). The max-pods
//! values these produce match the EKS AMI's `eni-max-pods.txt` and the
//! `max-pods-calculator.sh` script; `tests/netplan/examples.rs` checks the
//! published numbers. Types not listed here can be given explicitly with
//! `--enis`, `--ips-per-eni` and `--vcpus`.

use serde::Serialize;

use crate::input::Cni;

/// Addresses in one prefix-delegation prefix (a /28).
pub const IPS_PER_PREFIX: u32 = 16;

/// Pods on every node that use the host network and so take no pod IP:
/// `aws-node` and `kube-proxy`. They are the `+ 2` in the max-pods formula.
pub const HOST_NETWORK_PODS: u32 = 2;

/// Kubelet max-pods ceiling for instances with at most 30 vCPUs.
pub const MAX_PODS_CAP_SMALL: u32 = 110;
/// Kubelet max-pods ceiling for instances with more than 30 vCPUs.
pub const MAX_PODS_CAP_LARGE: u32 = 250;

/// A row of the shipped table: (name, vCPUs, max ENIs, IPv4 per ENI).
type Row = (&'static str, u32, u32, u32);

#[rustfmt::skip]
const TABLE: &[Row] = &[
    // Burstable (Nitro).
    ("t3.nano", 2, 2, 2), ("t3.micro", 2, 2, 2), ("t3.small", 2, 3, 4), ("t3.medium", 2, 3, 6),
    ("t3.large", 2, 3, 12), ("t3.xlarge", 4, 4, 15), ("t3.2xlarge", 8, 4, 15),
    ("t3a.nano", 2, 2, 2), ("t3a.micro", 2, 2, 2), ("t3a.small", 2, 2, 4), ("t3a.medium", 2, 3, 6),
    ("t3a.large", 2, 3, 12), ("t3a.xlarge", 4, 4, 15), ("t3a.2xlarge", 8, 4, 15),
    ("t4g.nano", 2, 2, 2), ("t4g.micro", 2, 2, 2), ("t4g.small", 2, 3, 4), ("t4g.medium", 2, 3, 6),
    ("t4g.large", 2, 3, 12), ("t4g.xlarge", 4, 4, 15), ("t4g.2xlarge", 8, 4, 15),
    // General purpose.
    ("m5.large", 2, 3, 10), ("m5.xlarge", 4, 4, 15), ("m5.2xlarge", 8, 4, 15), ("m5.4xlarge", 16, 8, 30),
    ("m5.8xlarge", 32, 8, 30), ("m5.12xlarge", 48, 8, 30), ("m5.16xlarge", 64, 15, 50), ("m5.24xlarge", 96, 15, 50),
    ("m6i.large", 2, 3, 10), ("m6i.xlarge", 4, 4, 15), ("m6i.2xlarge", 8, 4, 15), ("m6i.4xlarge", 16, 8, 30),
    ("m6i.8xlarge", 32, 8, 30), ("m6i.12xlarge", 48, 8, 30), ("m6i.16xlarge", 64, 15, 50), ("m6i.24xlarge", 96, 15, 50),
    ("m6i.32xlarge", 128, 15, 50),
    ("m6g.medium", 1, 2, 4), ("m6g.large", 2, 3, 10), ("m6g.xlarge", 4, 4, 15), ("m6g.2xlarge", 8, 4, 15),
    ("m6g.4xlarge", 16, 8, 30), ("m6g.8xlarge", 32, 8, 30), ("m6g.12xlarge", 48, 8, 30), ("m6g.16xlarge", 64, 15, 50),
    ("m7g.medium", 1, 2, 4), ("m7g.large", 2, 3, 10), ("m7g.xlarge", 4, 4, 15), ("m7g.2xlarge", 8, 4, 15),
    ("m7g.4xlarge", 16, 8, 30), ("m7g.8xlarge", 32, 8, 30), ("m7g.12xlarge", 48, 8, 30), ("m7g.16xlarge", 64, 15, 50),
    // Compute optimised.
    ("c5.large", 2, 3, 10), ("c5.xlarge", 4, 4, 15), ("c5.2xlarge", 8, 4, 15), ("c5.4xlarge", 16, 8, 30),
    ("c5.9xlarge", 36, 8, 30), ("c5.12xlarge", 48, 8, 30), ("c5.18xlarge", 72, 15, 50), ("c5.24xlarge", 96, 15, 50),
    ("c6i.large", 2, 3, 10), ("c6i.xlarge", 4, 4, 15), ("c6i.2xlarge", 8, 4, 15), ("c6i.4xlarge", 16, 8, 30),
    ("c6i.8xlarge", 32, 8, 30), ("c6i.12xlarge", 48, 8, 30), ("c6i.16xlarge", 64, 15, 50), ("c6i.24xlarge", 96, 15, 50),
    ("c6i.32xlarge", 128, 15, 50),
    ("c6g.medium", 1, 2, 4), ("c6g.large", 2, 3, 10), ("c6g.xlarge", 4, 4, 15), ("c6g.2xlarge", 8, 4, 15),
    ("c6g.4xlarge", 16, 8, 30), ("c6g.8xlarge", 32, 8, 30), ("c6g.12xlarge", 48, 8, 30), ("c6g.16xlarge", 64, 15, 50),
    ("c7g.medium", 1, 2, 4), ("c7g.large", 2, 3, 10), ("c7g.xlarge", 4, 4, 15), ("c7g.2xlarge", 8, 4, 15),
    ("c7g.4xlarge", 16, 8, 30), ("c7g.8xlarge", 32, 8, 30), ("c7g.12xlarge", 48, 8, 30), ("c7g.16xlarge", 64, 15, 50),
    // Memory optimised.
    ("r5.large", 2, 3, 10), ("r5.xlarge", 4, 4, 15), ("r5.2xlarge", 8, 4, 15), ("r5.4xlarge", 16, 8, 30),
    ("r5.8xlarge", 32, 8, 30), ("r5.12xlarge", 48, 8, 30), ("r5.16xlarge", 64, 15, 50), ("r5.24xlarge", 96, 15, 50),
    ("r6i.large", 2, 3, 10), ("r6i.xlarge", 4, 4, 15), ("r6i.2xlarge", 8, 4, 15), ("r6i.4xlarge", 16, 8, 30),
    ("r6i.8xlarge", 32, 8, 30), ("r6i.12xlarge", 48, 8, 30), ("r6i.16xlarge", 64, 15, 50), ("r6i.24xlarge", 96, 15, 50),
    ("r6i.32xlarge", 128, 15, 50),
    ("r6g.medium", 1, 2, 4), ("r6g.large", 2, 3, 10), ("r6g.xlarge", 4, 4, 15), ("r6g.2xlarge", 8, 4, 15),
    ("r6g.4xlarge", 16, 8, 30), ("r6g.8xlarge", 32, 8, 30), ("r6g.12xlarge", 48, 8, 30), ("r6g.16xlarge", 64, 15, 50),
    ("r7g.medium", 1, 2, 4), ("r7g.large", 2, 3, 10), ("r7g.xlarge", 4, 4, 15), ("r7g.2xlarge", 8, 4, 15),
    ("r7g.4xlarge", 16, 8, 30), ("r7g.8xlarge", 32, 8, 30), ("r7g.12xlarge", 48, 8, 30), ("r7g.16xlarge", 64, 15, 50),
];

/// Network limits of one instance type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstanceSpec {
    /// The type's name (`custom` when only the numbers were given).
    pub name: String,
    /// Maximum network interfaces (ENIs).
    pub enis: u32,
    /// IPv4 addresses per ENI, the ENI's primary address included.
    pub ips_per_eni: u32,
    /// Default vCPUs (decides the 110/250 max-pods ceiling).
    pub vcpus: u32,
    /// `table` for a shipped row, `explicit` for numbers given on input.
    pub source: &'static str,
}

impl InstanceSpec {
    /// An instance type from the shipped table (names are case-insensitive).
    pub fn lookup(name: &str) -> Option<InstanceSpec> {
        let wanted = name.trim().to_ascii_lowercase();
        TABLE
            .iter()
            .find(|row| row.0 == wanted)
            .map(|&(name, vcpus, enis, ips_per_eni)| InstanceSpec {
                name: name.to_string(),
                enis,
                ips_per_eni,
                vcpus,
                source: "table",
            })
    }

    /// Names in the shipped table, in table order.
    pub fn known_names() -> impl Iterator<Item = &'static str> {
        TABLE.iter().map(|row| row.0)
    }

    /// Every shipped instance type.
    pub fn all() -> impl Iterator<Item = InstanceSpec> {
        TABLE.iter().filter_map(|row| InstanceSpec::lookup(row.0))
    }

    /// ENIs the CNI may use for pods: all of them, or all but the primary
    /// under custom networking.
    pub fn pod_enis(&self, cni: Cni) -> u32 {
        if cni.custom_networking {
            self.enis.saturating_sub(1)
        } else {
            self.enis
        }
    }

    /// The kubelet max-pods ceiling for this instance: 110 for up to 30
    /// vCPUs, 250 above.
    pub fn max_pods_cap(&self) -> u32 {
        if self.vcpus > 30 {
            MAX_PODS_CAP_LARGE
        } else {
            MAX_PODS_CAP_SMALL
        }
    }

    /// Max pods per node as the EKS max-pods calculator computes it.
    ///
    /// - secondary IPs: `ENIs × (IPs per ENI − 1) + 2`;
    /// - prefix delegation: `ENIs × ((IPs per ENI − 1) × 16) + 2`, capped at
    ///   110 for ≤ 30 vCPUs and 250 above;
    /// - custom networking: `ENIs − 1` in either formula.
    pub fn max_pods(&self, cni: Cni) -> MaxPods {
        let enis = self.pod_enis(cni);
        let per_eni = self.ips_per_eni.saturating_sub(1);
        let cap = self.max_pods_cap();
        let eni_label = if cni.custom_networking {
            format!("({} − 1)", self.enis)
        } else {
            enis.to_string()
        };
        if cni.prefix_delegation {
            let formula_value = enis * per_eni * IPS_PER_PREFIX + HOST_NETWORK_PODS;
            let value = formula_value.min(cap);
            let capped = if value < formula_value {
                format!(", capped at {cap} ({} vCPU)", self.vcpus)
            } else {
                String::new()
            };
            MaxPods {
                value,
                formula_value,
                cap,
                formula: format!(
                    "{eni_label} × (({} − 1) × 16) + 2 = {formula_value}{capped}",
                    self.ips_per_eni
                ),
            }
        } else {
            let formula_value = enis * per_eni + HOST_NETWORK_PODS;
            MaxPods {
                value: formula_value,
                formula_value,
                cap,
                formula: format!(
                    "{eni_label} × ({} − 1) + 2 = {formula_value}",
                    self.ips_per_eni
                ),
            }
        }
    }
}

/// The max-pods figure for an instance type and CNI mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaxPods {
    /// Max pods per node (what the calculator prints for this mode).
    pub value: u32,
    /// The formula before any ceiling.
    pub formula_value: u32,
    /// The kubelet ceiling for this instance size (110 or 250). Managed
    /// node groups apply it in every mode.
    pub cap: u32,
    /// The arithmetic, for the report.
    pub formula: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_unique_and_sane() {
        let mut names: Vec<_> = InstanceSpec::known_names().collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "duplicate instance type in the table");
        for spec in InstanceSpec::all() {
            assert!(spec.enis >= 2, "{}", spec.name);
            assert!(spec.ips_per_eni >= 2, "{}", spec.name);
            assert!(spec.vcpus >= 1, "{}", spec.name);
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(InstanceSpec::lookup(" M5.Large ").unwrap().name, "m5.large");
        assert!(InstanceSpec::lookup("m5.huge").is_none());
    }
}
