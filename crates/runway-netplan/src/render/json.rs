//! The whole plan as JSON: inputs, node sizing, every subnet, free space,
//! totals and warnings.

use crate::plan::Plan;

/// Pretty-printed JSON, with a trailing newline.
pub fn render(plan: &Plan) -> String {
    let mut out = serde_json::to_string_pretty(plan).expect("a plan always serializes");
    out.push('\n');
    out
}
