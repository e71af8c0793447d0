//! `runway plan-network`: size and place the VPC, its subnets and the EKS
//! pod range. The planning itself is `runway-netplan`; this module reads
//! the optional TOML file, prints the plan and writes the requested files.
//! It needs no runway configuration and no async runtime.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use runway_netplan::render::{json, svg, table, tfvars};
use runway_netplan::{PlanRequest, plan};

/// Plan the VPC range, subnets and pod addresses for EKS.
///
/// Every input may also come from a TOML file (--config) whose keys are the
/// flag names with underscores (`pods = 500`, `instance_type = "m5.large"`,
/// `avoid = ["10.0.0.0/16"]`); flags override the file. See
/// docs/network-planning.md.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Peak application pods across the cluster.
    #[arg(long, value_name = "N")]
    pods: Option<u32>,
    /// Pods on every node that take a pod IP (DaemonSets on the pod network;
    /// aws-node and kube-proxy use the host network and are not counted)
    /// [default: 2].
    #[arg(long, value_name = "N")]
    system_pods_per_node: Option<u32>,
    /// EC2 instance type of the nodes, from the shipped table (e.g.
    /// m5.large); or a label for --enis/--ips-per-eni/--vcpus.
    #[arg(long, value_name = "TYPE")]
    instance_type: Option<String>,
    /// Explicit instance limits: maximum network interfaces.
    #[arg(long, value_name = "N")]
    enis: Option<u32>,
    /// Explicit instance limits: IPv4 addresses per network interface.
    #[arg(long, value_name = "N")]
    ips_per_eni: Option<u32>,
    /// Explicit instance limits: vCPUs (decides the 110/250 max-pods ceiling).
    #[arg(long, value_name = "N")]
    vcpus: Option<u32>,
    /// VPC CNI mode: secondary-ip, prefix-delegation, custom-networking, or
    /// custom-networking,prefix-delegation [default: secondary-ip].
    #[arg(long, value_name = "MODE")]
    cni: Option<String>,
    /// Extra pods during a rolling update, percent of --pods [default: 25].
    #[arg(long, value_name = "PERCENT")]
    surge_percent: Option<u32>,
    /// Extra nodes per AZ while nodes are replaced [default: 2].
    #[arg(long, value_name = "NODES")]
    replacement_headroom: Option<u32>,
    /// Availability zones: 2 or 3 [default: 2].
    #[arg(long, value_name = "N")]
    azs: Option<u32>,
    /// Subnet tiers, comma-separated, from public, app, db, endpoint
    /// [default: all four]. The EKS control-plane /28s come with app.
    #[arg(long, value_name = "TIERS", value_delimiter = ',')]
    tiers: Option<Vec<String>>,
    /// Reserve a second node range (and control-plane /28s) beside the live
    /// one for a blue/green cluster upgrade.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    reserve_green: Option<bool>,
    /// A CIDR in use elsewhere (another VPC) to keep clear of; repeatable.
    #[arg(long, value_name = "CIDR")]
    avoid: Option<Vec<String>>,
    /// A company range reached over Direct Connect: kept clear of and passed
    /// to Terraform as onprem_cidrs; repeatable.
    #[arg(long, value_name = "CIDR")]
    onprem: Option<Vec<String>>,
    /// The range to take the VPC from [default: 10.0.0.0/8].
    #[arg(long, value_name = "CIDR")]
    supernet: Option<String>,
    /// Warn when more than this percent of the VPC is beyond what the plan
    /// needs [default: 50].
    #[arg(long, value_name = "PERCENT")]
    waste_threshold: Option<u32>,
    /// TOML file with any of the inputs above; flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Also write terraform.tfvars.json for deploy/terraform/modules/network.
    #[arg(long, value_name = "FILE")]
    tfvars: Option<PathBuf>,
    /// Also write an SVG map of the address space.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

impl Args {
    /// The inputs given as flags.
    fn request(&self) -> PlanRequest {
        PlanRequest {
            pods: self.pods,
            system_pods_per_node: self.system_pods_per_node,
            instance_type: self.instance_type.clone(),
            enis: self.enis,
            ips_per_eni: self.ips_per_eni,
            vcpus: self.vcpus,
            cni: self.cni.clone(),
            surge_percent: self.surge_percent,
            replacement_headroom: self.replacement_headroom,
            azs: self.azs,
            tiers: self.tiers.clone(),
            reserve_green: self.reserve_green,
            avoid: self.avoid.clone(),
            onprem: self.onprem.clone(),
            supernet: self.supernet.clone(),
            waste_threshold: self.waste_threshold,
        }
    }
}

enum Failure {
    /// The inputs cannot make a plan: exit 2, like other usage errors.
    Input(String),
    /// A file could not be read or written: exit 1.
    Io(String),
}

pub fn run(mut args: Args) -> ExitCode {
    if !config_on_command_line(std::env::args_os()) {
        args.config = None;
    }
    match execute(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(e)) => {
            eprintln!("runway plan-network: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Io(e)) => {
            eprintln!("runway plan-network: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Whether `--config` was written after `plan-network`.
///
/// Here `--config` names the plan file. Because runway's global `--config`
/// (the server configuration, also read from `RUNWAY_CONFIG`) has the same
/// name, clap fills this field from it when plan-network's own flag is
/// absent; a server configuration is never a plan file, so only a flag
/// given to the subcommand counts.
fn config_on_command_line(argv: impl Iterator<Item = OsString>) -> bool {
    argv.skip_while(|a| a != "plan-network")
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--config" || a.to_string_lossy().starts_with("--config="))
}

fn execute(args: &Args) -> Result<(), Failure> {
    let file = match &args.config {
        None => PlanRequest::default(),
        Some(path) => {
            let src = std::fs::read_to_string(path)
                .map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))?;
            PlanRequest::from_toml(&src)
                .map_err(|e| Failure::Input(format!("{}: {e}", path.display())))?
        }
    };
    let input = file
        .overridden_by(args.request())
        .validate()
        .map_err(|e| Failure::Input(e.to_string()))?;
    let plan = plan(&input).map_err(|e| Failure::Input(e.to_string()))?;

    if let Some(path) = &args.tfvars {
        write(path, &tfvars::render(&plan))?;
    }
    if let Some(path) = &args.svg {
        write(path, &svg::render(&plan))?;
    }
    let out = match args.format {
        Format::Table => table::render(&plan),
        Format::Json => json::render(&plan),
    };
    print!("{out}");
    Ok(())
}

fn write(path: &Path, contents: &str) -> Result<(), Failure> {
    std::fs::write(path, contents)
        .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display())))
}
