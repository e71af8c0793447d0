//! `runway plan-network`, through the real binary: the acceptance command,
//! the files it writes, the TOML file, and clear errors for bad input.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_runway");

const DONE_WHEN: [&str; 9] = [
    "--pods",
    "500",
    "--azs",
    "2",
    "--instance-type",
    "m5.large",
    "--avoid",
    "10.0.0.0/16",
    "--reserve-green",
];

fn plan_network(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .arg("plan-network")
        .args(args)
        .stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("RUNWAY_") {
            cmd.env_remove(k);
        }
    }
    cmd.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

#[test]
fn the_acceptance_command_prints_a_sound_plan() {
    let dir = tempfile::tempdir().unwrap();
    let out = plan_network(dir.path(), &DONE_WHEN);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert!(
        table.starts_with("VPC 10.1.0.0/20 (4096 addresses) from supernet 10.0.0.0/8, 2 AZs, green cluster range reserved"),
        "{table}"
    );
    for line in [
        "max pods per node    3 × (10 − 1) + 2 = 29",
        "nodes                25 at peak → 15 per AZ incl. 2 replacement headroom",
        "1   app                  10.1.0.0/23           512     507     455      57",
        "1   app-green            10.1.2.0/23           512     507     455      57",
        "2   control-plane        10.1.8.160/28          16      11      11       5",
        "Avoided: 10.0.0.0/16 (avoid)",
        "Warnings: none",
    ] {
        assert!(table.contains(line), "missing `{line}` in:\n{table}");
    }
    // Every subnet is in the VPC, clear of the avoided 10.0.0.0/16.
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("  1 ") || l.starts_with("  2 "))
        .collect();
    assert_eq!(rows.len(), 14, "{table}");
    assert!(rows.iter().all(|r| r.contains(" 10.1.")), "{table}");
}

#[test]
fn writes_tfvars_and_an_svg_map() {
    let dir = tempfile::tempdir().unwrap();
    let tfvars = dir.path().join("terraform.tfvars.json");
    let svg = dir.path().join("network.svg");
    let mut args = DONE_WHEN.to_vec();
    args.extend(["--onprem", "192.168.0.0/16", "--tfvars"]);
    args.push(tfvars.to_str().unwrap());
    args.extend(["--svg", svg.to_str().unwrap(), "--format", "json"]);
    let out = plan_network(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));

    let plan: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(plan["vpc"], "10.1.0.0/20");

    let vars: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&tfvars).unwrap()).unwrap();
    let keys: Vec<&str> = vars
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "az_count",
            "onprem_cidrs",
            "secondary_cidr_blocks",
            "subnets",
            "vpc_cidr"
        ]
    );
    assert_eq!(vars["vpc_cidr"], "10.1.0.0/20");
    assert_eq!(vars["az_count"], 2);
    assert_eq!(vars["onprem_cidrs"][0], "192.168.0.0/16");
    assert_eq!(vars["secondary_cidr_blocks"].as_array().unwrap().len(), 0);
    assert_eq!(vars["subnets"]["app"][0], "10.1.0.0/23");
    assert_eq!(vars["subnets"]["app_green"][1], "10.1.6.0/23");
    assert_eq!(vars["subnets"]["pods"].as_array().unwrap().len(), 0);
    // The same plan as JSON on stdout.
    assert_eq!(plan["subnets"][1]["cidr"], vars["subnets"]["app"][0]);

    let text = std::fs::read_to_string(&svg).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("the SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let rects = doc.descendants().filter(|n| n.has_tag_name("rect")).count();
    // Background, supernet bar and marks, 14 subnets, free blocks, legend.
    assert!(rects > 20, "{rects} rects");
    assert!(text.contains("10.1.0.0/23"));
}

#[test]
fn reads_a_toml_file_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.toml"),
        r#"
        pods = 100
        azs = 2
        instance_type = "m5.large"
        avoid = ["10.0.0.0/16"]
        reserve_green = true
        "#,
    )
    .unwrap();
    let from_file = plan_network(dir.path(), &["--config", "plan.toml", "--pods", "500"]);
    assert!(from_file.status.success(), "{}", stderr(&from_file));
    let from_flags = plan_network(dir.path(), &DONE_WHEN);
    assert_eq!(stdout(&from_file), stdout(&from_flags));

    // The server's RUNWAY_CONFIG is not a plan file.
    std::fs::write(dir.path().join("server.toml"), "listen = \"127.0.0.1:0\"\n").unwrap();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("RUNWAY_CONFIG", "server.toml")
        .arg("plan-network")
        .args(DONE_WHEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&from_flags));

    // Nor is runway's global --config given before the subcommand.
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("RUNWAY_CONFIG")
        .args(["--config", "server.toml", "plan-network"])
        .args(DONE_WHEN)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&from_flags));
    // But `--config=FILE` after the subcommand is the plan file.
    let out = plan_network(dir.path(), &["--config=plan.toml", "--pods", "500"]);
    assert_eq!(stdout(&out), stdout(&from_flags));

    std::fs::write(dir.path().join("bad.toml"), "podz = 3\n").unwrap();
    let out = plan_network(dir.path(), &["--config", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("bad.toml: invalid TOML"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    // The acceptance command with some flags replaced or added.
    let with = |extra: &[&str]| {
        let mut args: Vec<&str> = Vec::new();
        let mut base = DONE_WHEN.iter().peekable();
        while let Some(&flag) = base.next() {
            let value = base.next_if(|v| !v.starts_with("--")).copied();
            if !extra.contains(&flag) || flag == "--avoid" {
                args.push(flag);
                args.extend(value);
            }
        }
        args.extend_from_slice(extra);
        plan_network(dir.path(), &args)
    };
    let cases: Vec<(Output, &str)> = vec![
        (
            with(&["--azs", "4"]),
            "invalid `azs` (--azs): must be 2 or 3, got 4",
        ),
        (
            with(&["--avoid", "10.0.0.1/16"]),
            "host bits are set; did you mean 10.0.0.0/16?",
        ),
        (with(&["--avoid", "10.0.0/16"]), "is not an IPv4 address"),
        (
            with(&["--supernet", "10.20.0.0/22"]),
            "supernet 10.20.0.0/22 is smaller than the /20 VPC this plan needs",
        ),
        (
            with(&["--avoid", "10.0.0.0/8"]),
            "no free /20 in supernet 10.0.0.0/8",
        ),
        (
            with(&["--instance-type", "z9.mega"]),
            "`z9.mega` is not in the shipped table",
        ),
        (with(&["--cni", "calico"]), "unknown CNI mode `calico`"),
        (with(&["--tiers", "public,db"]), "must include `app`"),
        (
            plan_network(dir.path(), &["--instance-type", "m5.large"]),
            "missing `pods` (--pods)",
        ),
    ];
    for (out, needle) in cases {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "`{needle}` not in `{err}`");
        assert!(!err.contains("panicked"), "{err}");
        assert!(stdout(&out).is_empty());
    }

    // An unwritable output file is an I/O failure.
    let out = with(&["--svg", "/nonexistent-dir/map.svg"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot write /nonexistent-dir/map.svg"));
}

#[test]
fn the_worked_example_in_the_docs_is_the_real_output() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/network-planning.md"
    ))
    .unwrap();
    let command = format!("$ runway plan-network {}\n", DONE_WHEN.join(" "));
    let start = doc
        .find(&command)
        .expect("docs show the acceptance command")
        + command.len();
    let end = start + doc[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = plan_network(dir.path(), &DONE_WHEN);
    assert_eq!(
        &doc[start..end],
        stdout(&out),
        "update docs/network-planning.md"
    );
}
