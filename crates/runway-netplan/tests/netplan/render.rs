//! The renderings: table, JSON and SVG.

use runway_netplan::PlanRequest;
use runway_netplan::render::{json, svg, table};
use serde_json::Value;

use super::{done_when_request, plan_for};

#[test]
fn table_lists_every_subnet_and_the_arithmetic() {
    let plan = plan_for(done_when_request());
    let out = table::render(&plan);
    assert!(
        out.starts_with("VPC 10.1.0.0/20 (4096 addresses) from supernet 10.0.0.0/8, 2 AZs"),
        "{out}"
    );
    assert!(out.contains("3 × (10 − 1) + 2 = 29"), "{out}");
    assert!(out.contains("500 + 25% surge = 625"), "{out}");
    for s in &plan.subnets {
        assert!(
            out.contains(&s.cidr.to_string()),
            "{} missing:\n{out}",
            s.cidr
        );
    }
    assert!(out.contains("Free: 1728 addresses: 10.1.9.64/26"), "{out}");
    assert!(out.contains("Avoided: 10.0.0.0/16 (avoid)"), "{out}");
    assert!(out.contains("Warnings: none"), "{out}");
}

#[test]
fn json_carries_the_whole_plan() {
    let plan = plan_for(PlanRequest {
        onprem: Some(vec!["192.168.0.0/16".into()]),
        ..done_when_request()
    });
    let v: Value = serde_json::from_str(&json::render(&plan)).unwrap();
    assert_eq!(v["vpc"], "10.1.0.0/20");
    assert_eq!(v["input"]["cni"], "secondary-ip");
    assert_eq!(v["input"]["onprem"][0], "192.168.0.0/16");
    assert_eq!(v["nodes"]["max_pods"]["value"], 29);
    assert_eq!(v["subnets"].as_array().unwrap().len(), plan.subnets.len());
    assert_eq!(v["subnets"][0]["role"], "public");
    assert_eq!(v["subnets"][0]["az"], 1);
    assert_eq!(v["summary"]["vpc_addresses"], 4096);
    assert!(v["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn svg_is_well_formed_and_maps_every_subnet() {
    for request in [
        done_when_request(),
        PlanRequest {
            cni: Some("custom-networking".into()),
            azs: Some(3),
            instance_type: Some("<weird & name>".into()),
            enis: Some(4),
            ips_per_eni: Some(15),
            vcpus: Some(4),
            ..done_when_request()
        },
    ] {
        let plan = plan_for(request);
        let doc_text = svg::render(&plan);
        let doc = roxmltree::Document::parse(&doc_text).expect("SVG parses as XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        let height: f64 = root.attribute("height").unwrap().parse().unwrap();
        assert!(height > 100.0);

        let rects: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("rect"))
            .collect();
        let title_of = |n: &roxmltree::Node| {
            n.children()
                .find(|c| c.has_tag_name("title"))
                .and_then(|t| t.text())
                .unwrap_or("")
                .to_string()
        };
        for s in &plan.subnets {
            let needle = format!("(AZ {}) {}:", s.az, s.cidr);
            let rect = rects
                .iter()
                .find(|r| title_of(r).contains(&needle))
                .unwrap_or_else(|| panic!("no rect for {}", s.cidr));
            let w: f64 = rect.attribute("width").unwrap().parse().unwrap();
            let h: f64 = rect.attribute("height").unwrap().parse().unwrap();
            assert!(w > 0.0 && h > 0.0);
        }
        // Areas are proportional to sizes: compare the largest and smallest
        // subnet of the VPC grid.
        let area = |cidr: &str| {
            let r = rects
                .iter()
                .find(|r| title_of(r).contains(&format!(") {cidr}:")))
                .unwrap();
            let w: f64 = r.attribute("width").unwrap().parse().unwrap();
            let h: f64 = r.attribute("height").unwrap().parse().unwrap();
            w * h
        };
        let in_vpc: Vec<_> = plan
            .subnets
            .iter()
            .filter(|s| plan.vpc.contains(&s.cidr))
            .collect();
        let big = in_vpc.iter().max_by_key(|s| s.cidr.size()).unwrap();
        let small = in_vpc.iter().min_by_key(|s| s.cidr.size()).unwrap();
        let ratio = area(&big.cidr.to_string()) / area(&small.cidr.to_string());
        let expected = big.cidr.size() as f64 / small.cidr.size() as f64;
        assert!(
            (ratio / expected - 1.0).abs() < 0.01,
            "{ratio} vs {expected}"
        );
        // The escaped instance name survives the round trip.
        if plan.input.instance.name.contains('<') {
            assert!(doc_text.contains("&lt;weird &amp; name&gt;"));
        }
    }
}
