//! Planner inputs: the raw request (from flags and/or a TOML file, every
//! field optional) and the validated [`PlanInput`] the planner works on.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

use crate::cidr::Cidr;
use crate::error::PlanError;
use crate::instances::InstanceSpec;

/// Default `--system-pods-per-node`: per-node pods that take a pod IP
/// (DaemonSets such as a log shipper or a CSI node plugin). `aws-node` and
/// `kube-proxy` use the host network and are already the `+ 2` of max pods.
pub const DEFAULT_SYSTEM_PODS_PER_NODE: u32 = 2;
/// Default `--surge-percent`: Kubernetes' default Deployment `maxSurge`.
pub const DEFAULT_SURGE_PERCENT: u32 = 25;
/// Default `--replacement-headroom`, nodes per AZ: an EKS managed node
/// group update adds up to twice the number of AZs in new nodes before it
/// drains old ones.
pub const DEFAULT_REPLACEMENT_HEADROOM: u32 = 2;
/// Default `--azs`.
pub const DEFAULT_AZS: u32 = 2;
/// Default `--supernet`.
pub const DEFAULT_SUPERNET: &str = "10.0.0.0/8";
/// Default `--waste-threshold`, percent of the VPC.
pub const DEFAULT_WASTE_THRESHOLD: u32 = 50;

/// How the VPC CNI gives pods their addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Cni {
    /// `/28` prefixes on ENIs instead of single secondary IPs.
    pub prefix_delegation: bool,
    /// Pods in separate subnets of a secondary CIDR from 100.64.0.0/10; the
    /// primary ENI is not used for pods.
    pub custom_networking: bool,
}

impl Cni {
    pub const SECONDARY_IP: Cni = Cni {
        prefix_delegation: false,
        custom_networking: false,
    };
    pub const PREFIX_DELEGATION: Cni = Cni {
        prefix_delegation: true,
        custom_networking: false,
    };
    pub const CUSTOM_NETWORKING: Cni = Cni {
        prefix_delegation: false,
        custom_networking: true,
    };
    pub const CUSTOM_NETWORKING_PREFIX: Cni = Cni {
        prefix_delegation: true,
        custom_networking: true,
    };
}

impl FromStr for Cni {
    type Err = String;

    /// `secondary-ip`, `prefix-delegation`, `custom-networking`, or
    /// `custom-networking,prefix-delegation` (also with `+`).
    fn from_str(s: &str) -> Result<Cni, String> {
        let mut secondary = false;
        let mut cni = Cni::default();
        let tokens: Vec<&str> = s
            .split([',', '+'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        if tokens.is_empty() {
            return Err(format!("empty CNI mode; expected {}", Cni::EXPECTED));
        }
        for token in tokens {
            match token.to_ascii_lowercase().as_str() {
                "secondary-ip" => secondary = true,
                "prefix-delegation" => cni.prefix_delegation = true,
                "custom-networking" => cni.custom_networking = true,
                other => {
                    return Err(format!(
                        "unknown CNI mode `{other}`; expected {}",
                        Cni::EXPECTED
                    ));
                }
            }
        }
        if secondary && cni.prefix_delegation {
            return Err("secondary-ip and prefix-delegation exclude each other".into());
        }
        Ok(cni)
    }
}

impl Cni {
    const EXPECTED: &'static str = "secondary-ip, prefix-delegation, custom-networking, or custom-networking,prefix-delegation";
}

impl fmt::Display for Cni {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.custom_networking, self.prefix_delegation) {
            (false, false) => "secondary-ip",
            (false, true) => "prefix-delegation",
            (true, false) => "custom-networking",
            (true, true) => "custom-networking,prefix-delegation",
        })
    }
}

impl Serialize for Cni {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A subnet tier the user can ask for. The EKS control-plane /28s come
/// with `app`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// ALB and NAT gateway.
    Public,
    /// EKS worker nodes.
    App,
    /// RDS and ElastiCache.
    Db,
    /// VPC interface endpoints.
    Endpoint,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Public, Tier::App, Tier::Db, Tier::Endpoint];
}

impl FromStr for Tier {
    type Err = String;

    fn from_str(s: &str) -> Result<Tier, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "public" => Ok(Tier::Public),
            "app" => Ok(Tier::App),
            "db" => Ok(Tier::Db),
            "endpoint" => Ok(Tier::Endpoint),
            other => Err(format!(
                "unknown tier `{other}`; expected public, app, db or endpoint"
            )),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::Public => "public",
            Tier::App => "app",
            Tier::Db => "db",
            Tier::Endpoint => "endpoint",
        })
    }
}

/// What the user asked for, before validation. Every field is optional so
/// that a TOML file and command-line flags can be layered: flags override
/// the file field by field (a list given as flags replaces the file's list).
///
/// The TOML keys are the field names, e.g. `pods = 500`,
/// `instance_type = "m5.large"`, `avoid = ["10.0.0.0/16"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub pods: Option<u32>,
    pub system_pods_per_node: Option<u32>,
    pub instance_type: Option<String>,
    pub enis: Option<u32>,
    pub ips_per_eni: Option<u32>,
    pub vcpus: Option<u32>,
    pub cni: Option<String>,
    pub surge_percent: Option<u32>,
    pub replacement_headroom: Option<u32>,
    pub azs: Option<u32>,
    pub tiers: Option<Vec<String>>,
    pub reserve_green: Option<bool>,
    pub avoid: Option<Vec<String>>,
    pub onprem: Option<Vec<String>>,
    pub supernet: Option<String>,
    pub waste_threshold: Option<u32>,
}

impl PlanRequest {
    /// Parse a TOML file's contents.
    pub fn from_toml(src: &str) -> Result<PlanRequest, PlanError> {
        toml::from_str(src).map_err(|e| PlanError::Config(e.to_string()))
    }

    /// `self` with every field that `over` sets replaced by `over`'s value.
    pub fn overridden_by(self, over: PlanRequest) -> PlanRequest {
        PlanRequest {
            pods: over.pods.or(self.pods),
            system_pods_per_node: over.system_pods_per_node.or(self.system_pods_per_node),
            instance_type: over.instance_type.or(self.instance_type),
            enis: over.enis.or(self.enis),
            ips_per_eni: over.ips_per_eni.or(self.ips_per_eni),
            vcpus: over.vcpus.or(self.vcpus),
            cni: over.cni.or(self.cni),
            surge_percent: over.surge_percent.or(self.surge_percent),
            replacement_headroom: over.replacement_headroom.or(self.replacement_headroom),
            azs: over.azs.or(self.azs),
            tiers: over.tiers.or(self.tiers),
            reserve_green: over.reserve_green.or(self.reserve_green),
            avoid: over.avoid.or(self.avoid),
            onprem: over.onprem.or(self.onprem),
            supernet: over.supernet.or(self.supernet),
            waste_threshold: over.waste_threshold.or(self.waste_threshold),
        }
    }

    /// Apply defaults and check every field.
    pub fn validate(self) -> Result<PlanInput, PlanError> {
        let pods = self.pods.ok_or(PlanError::Missing {
            key: "pods",
            hint: "the peak number of application pods",
        })?;
        in_range("pods", pods, 1, 1_000_000)?;
        let system_pods_per_node = self
            .system_pods_per_node
            .unwrap_or(DEFAULT_SYSTEM_PODS_PER_NODE);
        in_range("system_pods_per_node", system_pods_per_node, 0, 1_000)?;
        let surge_percent = self.surge_percent.unwrap_or(DEFAULT_SURGE_PERCENT);
        in_range("surge_percent", surge_percent, 0, 100)?;
        let replacement_headroom = self
            .replacement_headroom
            .unwrap_or(DEFAULT_REPLACEMENT_HEADROOM);
        in_range("replacement_headroom", replacement_headroom, 0, 1_000)?;
        let azs = self.azs.unwrap_or(DEFAULT_AZS);
        if azs != 2 && azs != 3 {
            return Err(PlanError::invalid(
                "azs",
                format!("must be 2 or 3, got {azs}"),
            ));
        }
        let waste_threshold_percent = self.waste_threshold.unwrap_or(DEFAULT_WASTE_THRESHOLD);
        in_range("waste_threshold", waste_threshold_percent, 0, 100)?;

        let cni = match &self.cni {
            None => Cni::default(),
            Some(s) => s.parse().map_err(|e| PlanError::invalid("cni", e))?,
        };
        let instance = instance(&self)?;
        if cni.custom_networking && instance.enis < 2 {
            return Err(PlanError::invalid(
                "instance_type",
                format!(
                    "{} has {} ENI; custom networking needs at least 2 (the primary ENI carries no pods)",
                    instance.name, instance.enis
                ),
            ));
        }

        let tiers = match &self.tiers {
            None => Tier::ALL.to_vec(),
            Some(list) => {
                let mut set = BTreeSet::new();
                for t in list.iter().flat_map(|t| t.split(',')) {
                    if t.trim().is_empty() {
                        continue;
                    }
                    set.insert(
                        t.parse::<Tier>()
                            .map_err(|e| PlanError::invalid("tiers", e))?,
                    );
                }
                set.into_iter().collect()
            }
        };
        if !tiers.contains(&Tier::App) {
            return Err(PlanError::invalid(
                "tiers",
                "must include `app`: the EKS nodes are what the plan is sized for".into(),
            ));
        }

        let supernet = cidr(
            "supernet",
            self.supernet.as_deref().unwrap_or(DEFAULT_SUPERNET),
        )?;
        if supernet.prefix_len() > 28 {
            return Err(PlanError::invalid(
                "supernet",
                format!("{supernet} is smaller than the smallest VPC (/28)"),
            ));
        }
        let avoid = cidr_list("avoid", self.avoid.as_deref())?;
        let onprem = cidr_list("onprem", self.onprem.as_deref())?;

        Ok(PlanInput {
            pods,
            system_pods_per_node,
            instance,
            cni,
            surge_percent,
            replacement_headroom,
            azs,
            tiers,
            reserve_green: self.reserve_green.unwrap_or(false),
            avoid,
            onprem,
            supernet,
            waste_threshold_percent,
        })
    }
}

fn in_range(key: &'static str, value: u32, min: u32, max: u32) -> Result<(), PlanError> {
    if value < min || value > max {
        return Err(PlanError::invalid(
            key,
            format!("must be from {min} to {max}, got {value}"),
        ));
    }
    Ok(())
}

fn cidr(key: &'static str, s: &str) -> Result<Cidr, PlanError> {
    s.parse()
        .map_err(|e| PlanError::invalid(key, format!("`{}`: {e}", s.trim())))
}

/// Parse, sort and de-duplicate a CIDR list (entries may also be
/// comma-separated).
fn cidr_list(key: &'static str, list: Option<&[String]>) -> Result<Vec<Cidr>, PlanError> {
    let mut set = BTreeSet::new();
    for s in list.unwrap_or_default().iter().flat_map(|s| s.split(',')) {
        if s.trim().is_empty() {
            continue;
        }
        set.insert(cidr(key, s)?);
    }
    Ok(set.into_iter().collect())
}

fn instance(req: &PlanRequest) -> Result<InstanceSpec, PlanError> {
    let explicit = [req.enis, req.ips_per_eni, req.vcpus];
    if explicit.iter().any(Option::is_some) {
        let (Some(enis), Some(ips_per_eni), Some(vcpus)) = (req.enis, req.ips_per_eni, req.vcpus)
        else {
            return Err(PlanError::invalid(
                "enis",
                "an explicit instance type needs all of --enis, --ips-per-eni and --vcpus".into(),
            ));
        };
        in_range("enis", enis, 1, 128)?;
        in_range("ips_per_eni", ips_per_eni, 2, 64)?;
        in_range("vcpus", vcpus, 1, 1_024)?;
        let name = req
            .instance_type
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or("custom");
        return Ok(InstanceSpec {
            name: name.to_string(),
            enis,
            ips_per_eni,
            vcpus,
            source: "explicit",
        });
    }
    let Some(name) = req.instance_type.as_deref() else {
        return Err(PlanError::Missing {
            key: "instance_type",
            hint: "e.g. m5.large, or give --enis, --ips-per-eni and --vcpus",
        });
    };
    InstanceSpec::lookup(name).ok_or_else(|| {
        let mut families: Vec<&str> = Vec::new();
        for n in InstanceSpec::known_names() {
            let family = n.split('.').next().unwrap_or(n);
            if !families.contains(&family) {
                families.push(family);
            }
        }
        PlanError::invalid(
            "instance_type",
            format!(
                "`{}` is not in the shipped table (families: {}); give its limits with --enis, --ips-per-eni and --vcpus",
                name.trim(),
                families.join(", ")
            ),
        )
    })
}

/// Validated planner inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanInput {
    /// Peak application pods across the cluster.
    pub pods: u32,
    /// Per-node pods that take a pod IP (DaemonSets on the pod network).
    pub system_pods_per_node: u32,
    pub instance: InstanceSpec,
    pub cni: Cni,
    /// Extra pods during a rolling update, percent of `pods`.
    pub surge_percent: u32,
    /// Extra nodes per AZ while nodes are being replaced.
    pub replacement_headroom: u32,
    pub azs: u32,
    /// Requested tiers, sorted, always including `app`.
    pub tiers: Vec<Tier>,
    /// Reserve a second node range (and control-plane /28s) for a green
    /// cluster beside the live one.
    pub reserve_green: bool,
    /// Ranges in use elsewhere (other VPCs), sorted and de-duplicated.
    pub avoid: Vec<Cidr>,
    /// Company ranges over Direct Connect: avoided, and passed on to
    /// Terraform.
    pub onprem: Vec<Cidr>,
    /// Where the VPC range is taken from.
    pub supernet: Cidr,
    /// Warn when more than this percent of the VPC is unused.
    pub waste_threshold_percent: u32,
}

impl PlanInput {
    pub fn has_tier(&self, tier: Tier) -> bool {
        self.tiers.contains(&tier)
    }

    /// Avoided ranges of both kinds, sorted.
    pub fn all_avoided(&self) -> Vec<Cidr> {
        let mut all: Vec<Cidr> = self.avoid.iter().chain(&self.onprem).copied().collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> PlanRequest {
        PlanRequest {
            pods: Some(100),
            instance_type: Some("m5.large".into()),
            ..PlanRequest::default()
        }
    }

    #[test]
    fn cni_modes_parse_and_print() {
        for s in [
            "secondary-ip",
            "prefix-delegation",
            "custom-networking",
            "custom-networking,prefix-delegation",
        ] {
            assert_eq!(s.parse::<Cni>().unwrap().to_string(), s);
        }
        assert_eq!(
            "prefix-delegation+custom-networking".parse::<Cni>(),
            Ok(Cni::CUSTOM_NETWORKING_PREFIX)
        );
        assert!("secondary-ip,prefix-delegation".parse::<Cni>().is_err());
        assert!(
            "overlay"
                .parse::<Cni>()
                .unwrap_err()
                .contains("unknown CNI mode")
        );
        assert!("".parse::<Cni>().is_err());
    }

    #[test]
    fn defaults_apply() {
        let input = req().validate().unwrap();
        assert_eq!(input.azs, 2);
        assert_eq!(input.surge_percent, 25);
        assert_eq!(input.replacement_headroom, 2);
        assert_eq!(input.system_pods_per_node, 2);
        assert_eq!(input.tiers, Tier::ALL.to_vec());
        assert_eq!(input.supernet.to_string(), "10.0.0.0/8");
        assert_eq!(input.cni, Cni::SECONDARY_IP);
        assert!(!input.reserve_green);
    }

    #[test]
    fn bad_inputs_name_the_field() {
        let cases: Vec<(PlanRequest, &str)> = vec![
            (
                PlanRequest {
                    azs: Some(4),
                    ..req()
                },
                "azs",
            ),
            (
                PlanRequest {
                    pods: None,
                    ..req()
                },
                "pods",
            ),
            (
                PlanRequest {
                    pods: Some(0),
                    ..req()
                },
                "pods",
            ),
            (
                PlanRequest {
                    avoid: Some(vec!["10.0.0.1/16".into()]),
                    ..req()
                },
                "did you mean 10.0.0.0/16",
            ),
            (
                PlanRequest {
                    supernet: Some("10.0.0.0/30".into()),
                    ..req()
                },
                "smallest VPC",
            ),
            (
                PlanRequest {
                    instance_type: Some("z9.mega".into()),
                    ..req()
                },
                "not in the shipped table",
            ),
            (
                PlanRequest {
                    enis: Some(3),
                    ..req()
                },
                "all of --enis",
            ),
            (
                PlanRequest {
                    tiers: Some(vec!["public".into(), "db".into()]),
                    ..req()
                },
                "must include `app`",
            ),
            (
                PlanRequest {
                    tiers: Some(vec!["dmz".into()]),
                    ..req()
                },
                "unknown tier",
            ),
            (
                PlanRequest {
                    cni: Some("calico".into()),
                    ..req()
                },
                "unknown CNI mode",
            ),
            (
                PlanRequest {
                    surge_percent: Some(101),
                    ..req()
                },
                "surge_percent",
            ),
        ];
        for (request, needle) in cases {
            let err = request.clone().validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{request:?} gave `{err}`");
        }
    }

    #[test]
    fn explicit_instance_numbers_win() {
        let input = PlanRequest {
            instance_type: Some("x9.big".into()),
            enis: Some(4),
            ips_per_eni: Some(15),
            vcpus: Some(4),
            ..req()
        }
        .validate()
        .unwrap();
        assert_eq!(input.instance.name, "x9.big");
        assert_eq!(input.instance.source, "explicit");
        assert_eq!(input.instance.max_pods(input.cni).value, 58);
    }

    #[test]
    fn toml_then_flags() {
        let file = PlanRequest::from_toml(
            r#"
            pods = 300
            instance_type = "m5.xlarge"
            azs = 3
            avoid = ["10.0.0.0/16", "10.1.0.0/16"]
            reserve_green = true
            "#,
        )
        .unwrap();
        let flags = PlanRequest {
            pods: Some(500),
            avoid: Some(vec!["10.9.0.0/16".into()]),
            ..PlanRequest::default()
        };
        let input = file.overridden_by(flags).validate().unwrap();
        assert_eq!(input.pods, 500);
        assert_eq!(input.azs, 3);
        assert_eq!(input.instance.name, "m5.xlarge");
        assert!(input.reserve_green);
        assert_eq!(input.avoid.len(), 1);

        let err = PlanRequest::from_toml("podz = 3").unwrap_err().to_string();
        assert!(err.contains("podz"), "{err}");
    }

    #[test]
    fn lists_are_sorted_and_deduplicated() {
        let input = PlanRequest {
            avoid: Some(vec!["10.2.0.0/16,10.1.0.0/16".into(), "10.1.0.0/16".into()]),
            tiers: Some(vec!["db,app".into(), "app".into()]),
            ..req()
        }
        .validate()
        .unwrap();
        let avoid: Vec<String> = input.avoid.iter().map(ToString::to_string).collect();
        assert_eq!(avoid, ["10.1.0.0/16", "10.2.0.0/16"]);
        assert_eq!(input.tiers, vec![Tier::App, Tier::Db]);
    }
}
