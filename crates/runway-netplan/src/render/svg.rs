//! An SVG map of the address space.
//!
//! Three parts, top to bottom: the supernet as one bar with the avoided
//! ranges and the VPC marked; the VPC as a grid of rows (each row a fixed
//! slice of addresses, so a subnet's area is proportional to its size);
//! and, under custom networking, the pod range as a second grid. Every
//! subnet carries a `<title>` with its details for hover in a browser.

use std::fmt::Write;

use crate::cidr::Cidr;
use crate::plan::{Plan, SubnetRole};

const WIDTH: f64 = 960.0;
const LEFT: f64 = 110.0;
const RIGHT: f64 = 20.0;
const ROW_HEIGHT: f64 = 28.0;
const MAX_ROWS: u64 = 16;
/// Rough width of one character of the 11px label font.
const CHAR_WIDTH: f64 = 6.4;

fn colour(role: SubnetRole) -> &'static str {
    match role {
        SubnetRole::Public => "#f4a261",
        SubnetRole::App => "#2a9d8f",
        SubnetRole::AppGreen => "#95d5b2",
        SubnetRole::ControlPlane => "#6c5ce7",
        SubnetRole::ControlPlaneGreen => "#c3bdf7",
        SubnetRole::Db => "#e76f51",
        SubnetRole::Endpoint => "#e9c46a",
        SubnetRole::Pods => "#4ea8de",
    }
}
/// Tiny labels for narrow cells.
fn abbreviation(role: SubnetRole) -> &'static str {
    match role {
        SubnetRole::Public => "pub",
        SubnetRole::App => "app",
        SubnetRole::AppGreen => "grn",
        SubnetRole::ControlPlane => "cp",
        SubnetRole::ControlPlaneGreen => "cpg",
        SubnetRole::Db => "db",
        SubnetRole::Endpoint => "ep",
        SubnetRole::Pods => "pod",
    }
}

const FREE_FILL: &str = "#f3f3f3";
const AVOID_FILL: &str = "#d62828";
const VPC_FILL: &str = "#1d3557";
const POD_RANGE_FILL: &str = "#4ea8de";

/// The SVG document.
pub fn render(plan: &Plan) -> String {
    let mut body = String::new();
    let mut y = 20.0;
    let bar_width = WIDTH - LEFT - RIGHT;

    // Title.
    let input = &plan.input;
    let _ = writeln!(
        body,
        r#"<text x="{LEFT}" y="{}" class="title">runway plan-network: VPC {} · {} AZs · {} · {} pods{}</text>"#,
        y + 8.0,
        plan.vpc,
        input.azs,
        escape(&input.instance.name),
        input.pods,
        if input.reserve_green {
            " · green reserved"
        } else {
            ""
        }
    );
    y += 30.0;

    // The supernet bar.
    let supernet = input.supernet;
    let _ = writeln!(
        body,
        r#"<text x="{}" y="{}" class="axis" text-anchor="end">{}</text>"#,
        LEFT - 8.0,
        y + 17.0,
        supernet
    );
    let _ = writeln!(
        body,
        r##"<rect x="{LEFT}" y="{y}" width="{bar_width}" height="{ROW_HEIGHT}" fill="{FREE_FILL}" stroke="#999"><title>supernet {supernet}</title></rect>"##
    );
    let scale = bar_width / supernet.size() as f64;
    let mut marks: Vec<(Cidr, &str, String)> = Vec::new();
    for (kind, list) in [("avoid", &input.avoid), ("onprem", &input.onprem)] {
        for c in list.iter().filter(|c| c.overlaps(&supernet)) {
            marks.push((*c, AVOID_FILL, format!("{kind} {c}")));
        }
    }
    for range in plan
        .secondary_cidrs
        .iter()
        .filter(|c| c.overlaps(&supernet))
    {
        marks.push((*range, POD_RANGE_FILL, format!("pod range {range}")));
    }
    marks.push((plan.vpc, VPC_FILL, format!("VPC {}", plan.vpc)));
    for (c, fill, title) in marks {
        let start = c.start().max(supernet.start()) - supernet.start();
        let end = c.end().min(supernet.end()) - supernet.start();
        let x = LEFT + start as f64 * scale;
        let w = ((end - start) as f64 * scale).max(2.0);
        let _ = writeln!(
            body,
            r#"<rect x="{x:.2}" y="{y}" width="{w:.2}" height="{ROW_HEIGHT}" fill="{fill}"><title>{}</title></rect>"#,
            escape(&title)
        );
    }
    y += ROW_HEIGHT + 16.0;
    let _ = writeln!(
        body,
        r#"<text x="{LEFT}" y="{y}" class="note">supernet {supernet}: the VPC in dark blue, avoided ranges in red</text>"#
    );
    y += 22.0;

    // The VPC and any pod ranges as grids.
    let mut grids = vec![(plan.vpc, format!("VPC {}", plan.vpc))];
    for range in &plan.secondary_cidrs {
        grids.push((*range, format!("pod range {range} (secondary CIDR)")));
    }
    for (range, heading) in grids {
        y = grid(&mut body, plan, range, &heading, y);
    }

    // Legend.
    let mut x = LEFT;
    let mut roles: Vec<SubnetRole> = plan.subnets.iter().map(|s| s.role).collect();
    roles.sort_unstable();
    roles.dedup();
    let mut items: Vec<(&str, String)> = roles
        .iter()
        .map(|r| (colour(*r), r.label().to_string()))
        .collect();
    items.push((FREE_FILL, "free".into()));
    items.push((AVOID_FILL, "avoided".into()));
    for (fill, label) in items {
        let width = 20.0 + label.len() as f64 * CHAR_WIDTH + 14.0;
        if x + width > WIDTH - RIGHT {
            x = LEFT;
            y += 20.0;
        }
        let _ = writeln!(
            body,
            r##"<rect x="{x}" y="{y}" width="14" height="14" fill="{fill}" stroke="#999"/><text x="{}" y="{}" class="label">{}</text>"##,
            x + 19.0,
            y + 11.0,
            escape(&label)
        );
        x += width;
    }
    y += 30.0;

    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y}" viewBox="0 0 {WIDTH} {y}" font-family="Helvetica, Arial, sans-serif">
<style>
  .title {{ font-size: 15px; font-weight: bold; fill: #222; }}
  .axis {{ font-size: 11px; fill: #444; font-family: Menlo, Consolas, monospace; }}
  .label {{ font-size: 11px; fill: #111; }}
  .note {{ font-size: 12px; fill: #444; }}
</style>
<rect width="100%" height="100%" fill="white"/>
{body}</svg>
"#
    )
}

/// Draw `range` as rows of equal address slices; returns the next free y.
fn grid(body: &mut String, plan: &Plan, range: Cidr, heading: &str, mut y: f64) -> f64 {
    let _ = writeln!(
        body,
        r#"<text x="{LEFT}" y="{}" class="note">{}</text>"#,
        y + 4.0,
        escape(heading)
    );
    y += 14.0;
    let row_addrs = (range.size() / MAX_ROWS).max(16).min(range.size());
    let rows = range.size() / row_addrs;
    let bar_width = WIDTH - LEFT - RIGHT;
    for row in 0..rows {
        let _ = writeln!(
            body,
            r#"<text x="{}" y="{}" class="axis" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y + row as f64 * ROW_HEIGHT + 18.0,
            range.addr_at(row * row_addrs)
        );
    }

    let mut cells: Vec<(Cidr, &str, [String; 3], String)> = plan
        .subnets
        .iter()
        .filter(|s| range.contains(&s.cidr))
        .map(|s| {
            let long = format!("{} az{} {}", s.role.label(), s.az, s.cidr);
            let short = format!("{} az{}", s.role.label(), s.az);
            let tiny = format!("{}{}", abbreviation(s.role), s.az);
            let title = format!(
                "{} (AZ {}) {}: {} addresses, {} usable{}",
                s.role.label(),
                s.az,
                s.cidr,
                s.cidr.size(),
                s.usable,
                s.needed
                    .map(|n| format!(", {n} needed"))
                    .unwrap_or_default()
            );
            (s.cidr, colour(s.role), [long, short, tiny], title)
        })
        .collect();
    for c in plan.free.iter().filter(|c| range.contains(c)) {
        let labels = [format!("free {c}"), "free".to_string(), String::new()];
        cells.push((*c, FREE_FILL, labels, format!("free {c}")));
    }

    for (cidr, fill, labels, title) in cells {
        let offset = cidr.start() - range.start();
        let (x, top, w, h) = if cidr.size() <= row_addrs {
            let row = offset / row_addrs;
            let col = offset % row_addrs;
            (
                LEFT + col as f64 / row_addrs as f64 * bar_width,
                y + row as f64 * ROW_HEIGHT,
                cidr.size() as f64 / row_addrs as f64 * bar_width,
                ROW_HEIGHT,
            )
        } else {
            let row = offset / row_addrs;
            (
                LEFT,
                y + row as f64 * ROW_HEIGHT,
                bar_width,
                (cidr.size() / row_addrs) as f64 * ROW_HEIGHT,
            )
        };
        let dashed = if fill == FREE_FILL {
            r#" stroke-dasharray="4 3""#
        } else {
            ""
        };
        let _ = writeln!(
            body,
            r##"<rect x="{x:.2}" y="{top:.2}" width="{w:.2}" height="{h:.2}" fill="{fill}" stroke="#ffffff" stroke-width="1"{dashed}><title>{}</title></rect>"##,
            escape(&title)
        );
        // The longest label that fits: "app az1 10.1.0.0/23", "app az1",
        // "app1", or none.
        let text = labels
            .iter()
            .find(|t| !t.is_empty() && t.len() as f64 * CHAR_WIDTH + 8.0 <= w);
        if let Some(text) = text {
            let _ = writeln!(
                body,
                r#"<text x="{:.2}" y="{:.2}" class="label" text-anchor="middle">{}</text>"#,
                x + w / 2.0,
                top + h / 2.0 + 4.0,
                escape(text)
            );
        }
    }
    y + rows as f64 * ROW_HEIGHT + 26.0
}

/// Escape text for XML.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
