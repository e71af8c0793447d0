//! The contract with Terraform: the `terraform.tfvars.json` that
//! `runway plan-network --tfvars` writes is read directly by
//! `deploy/terraform/modules/network`, so every key must be a declared
//! variable, every value must have the declared type, and every
//! planner-owned variable without a default must be present.

use std::collections::{BTreeMap, BTreeSet};

use hcl::{Expression, ObjectKey};
use runway_netplan::render::tfvars;
use runway_netplan::{Plan, PlanRequest};
use serde_json::Value;

use super::{done_when_request, plan_for};

const VARIABLES_TF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../deploy/terraform/modules/network/variables.tf"
);

/// Variables whose values come from the planner; the operator sets the
/// others (`name`, `tags`).
const PLANNER_OWNED: [&str; 5] = [
    "vpc_cidr",
    "secondary_cidr_blocks",
    "az_count",
    "subnets",
    "onprem_cidrs",
];

/// A Terraform type constraint.
#[derive(Debug, Clone, PartialEq)]
enum TfType {
    String,
    Number,
    Bool,
    Any,
    List(Box<TfType>),
    Set(Box<TfType>),
    Map(Box<TfType>),
    Object(BTreeMap<String, TfType>),
}

#[derive(Debug)]
struct Variable {
    ty: TfType,
    has_default: bool,
}

fn tf_type(expr: &Expression) -> TfType {
    match expr {
        Expression::Variable(v) => match v.as_str() {
            "string" => TfType::String,
            "number" => TfType::Number,
            "bool" => TfType::Bool,
            "any" => TfType::Any,
            other => panic!("unknown type keyword `{other}`"),
        },
        Expression::FuncCall(call) => {
            assert_eq!(call.args.len(), 1, "{call:?}");
            let arg = &call.args[0];
            match call.name.name.as_str() {
                "list" => TfType::List(Box::new(tf_type(arg))),
                "set" => TfType::Set(Box::new(tf_type(arg))),
                "map" => TfType::Map(Box::new(tf_type(arg))),
                "object" => {
                    let Expression::Object(attrs) = arg else {
                        panic!("object() takes an object: {arg:?}")
                    };
                    TfType::Object(
                        attrs
                            .iter()
                            .map(|(k, v)| (key_name(k), tf_type(v)))
                            .collect(),
                    )
                }
                other => panic!("unsupported type constructor `{other}`"),
            }
        }
        other => panic!("unsupported type expression {other:?}"),
    }
}

fn key_name(key: &ObjectKey) -> String {
    match key {
        ObjectKey::Identifier(id) => id.as_str().to_string(),
        ObjectKey::Expression(Expression::String(s)) => s.clone(),
        other => panic!("unsupported object key {other:?}"),
    }
}

/// The `variable` blocks of the network module.
fn variables() -> BTreeMap<String, Variable> {
    let src = std::fs::read_to_string(VARIABLES_TF).expect("variables.tf of the network module");
    let body = hcl::parse(&src).expect("variables.tf parses");
    let mut vars = BTreeMap::new();
    for block in body.blocks().filter(|b| b.identifier() == "variable") {
        let name = block.labels()[0].as_str().to_string();
        let ty = block
            .body()
            .attributes()
            .find(|a| a.key() == "type")
            .map(|a| tf_type(a.expr()))
            .unwrap_or(TfType::Any);
        let has_default = block.body().attributes().any(|a| a.key() == "default");
        vars.insert(name, Variable { ty, has_default });
    }
    assert!(!vars.is_empty(), "no variables found in {VARIABLES_TF}");
    vars
}

/// Whether `value` converts to `ty` the way Terraform reads a tfvars file
/// (strictly: no string-to-number conversion, no extra object attributes).
fn check(value: &Value, ty: &TfType, path: &str) -> Result<(), String> {
    let fail = |what: &str| Err(format!("{path}: expected {what}, got {value}"));
    match ty {
        TfType::Any => Ok(()),
        TfType::String => value.is_string().then_some(()).map_or(fail("string"), Ok),
        TfType::Number => value.is_number().then_some(()).map_or(fail("number"), Ok),
        TfType::Bool => value.is_boolean().then_some(()).map_or(fail("bool"), Ok),
        TfType::List(inner) | TfType::Set(inner) => {
            let Some(items) = value.as_array() else {
                return fail("list");
            };
            for (i, item) in items.iter().enumerate() {
                check(item, inner, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        TfType::Map(inner) => {
            let Some(map) = value.as_object() else {
                return fail("map");
            };
            for (k, v) in map {
                check(v, inner, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        TfType::Object(attrs) => {
            let Some(map) = value.as_object() else {
                return fail("object");
            };
            let declared: BTreeSet<&String> = attrs.keys().collect();
            let given: BTreeSet<&String> = map.keys().collect();
            if declared != given {
                return Err(format!(
                    "{path}: attributes {given:?} differ from the declared {declared:?}"
                ));
            }
            for (k, t) in attrs {
                check(&map[k], t, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
    }
}

fn sample_plans() -> Vec<Plan> {
    vec![
        plan_for(done_when_request()),
        plan_for(PlanRequest {
            onprem: Some(vec!["192.168.0.0/16".into(), "172.16.0.0/12".into()]),
            cni: Some("custom-networking,prefix-delegation".into()),
            azs: Some(3),
            ..done_when_request()
        }),
        plan_for(PlanRequest {
            tiers: Some(vec!["app".into()]),
            reserve_green: Some(false),
            ..done_when_request()
        }),
    ]
}

#[test]
fn planner_owned_variables_are_declared() {
    let vars = variables();
    for key in PLANNER_OWNED {
        assert!(
            vars.contains_key(key),
            "variables.tf does not declare `{key}`"
        );
    }
}

#[test]
fn tfvars_keys_are_declared_variables_with_matching_types() {
    let vars = variables();
    for plan in sample_plans() {
        let out: Value = serde_json::from_str(&tfvars::render(&plan)).unwrap();
        let out = out.as_object().expect("tfvars is a JSON object");
        for (key, value) in out {
            let var = vars
                .get(key)
                .unwrap_or_else(|| panic!("tfvars key `{key}` is not a variable of the module"));
            assert!(
                PLANNER_OWNED.contains(&key.as_str()),
                "`{key}` is not planner-owned"
            );
            check(value, &var.ty, key).unwrap();
        }
    }
}

#[test]
fn subnets_object_matches_the_declared_attributes() {
    let vars = variables();
    let TfType::Object(attrs) = &vars["subnets"].ty else {
        panic!("subnets is declared as an object")
    };
    let plan = plan_for(done_when_request());
    let out: Value = serde_json::from_str(&tfvars::render(&plan)).unwrap();
    let subnets = out["subnets"].as_object().unwrap();
    let declared: Vec<&String> = attrs.keys().collect();
    let given: Vec<&String> = subnets
        .keys()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(declared, given);
    for (name, list) in subnets {
        assert_eq!(
            attrs[name],
            TfType::List(Box::new(TfType::String)),
            "{name}"
        );
        // One CIDR per AZ, or empty.
        let len = list.as_array().unwrap().len();
        assert!(len == 0 || len == plan.input.azs as usize, "{name}: {len}");
    }
}

#[test]
fn required_planner_owned_variables_are_emitted() {
    let vars = variables();
    for plan in sample_plans() {
        let out: Value = serde_json::from_str(&tfvars::render(&plan)).unwrap();
        for key in PLANNER_OWNED {
            if !vars[key].has_default {
                assert!(out.get(key).is_some(), "required variable `{key}` missing");
            }
        }
        // onprem_cidrs is emitted exactly when on-prem ranges were given.
        assert_eq!(
            out.get("onprem_cidrs").is_some(),
            !plan.input.onprem.is_empty()
        );
        // az_count passes the module's validation (2 or 3) and matches the lists.
        let az_count = out["az_count"].as_u64().unwrap();
        assert!(az_count == 2 || az_count == 3);
        assert_eq!(
            out["subnets"]["app"].as_array().unwrap().len() as u64,
            az_count
        );
    }
}

#[test]
fn the_type_checker_catches_mismatches() {
    // The checks above can fail: a wrong type or a missing attribute is
    // reported.
    let vars = variables();
    let plan = plan_for(done_when_request());
    let mut out: Value = serde_json::from_str(&tfvars::render(&plan)).unwrap();
    assert!(check(&Value::from("2"), &vars["az_count"].ty, "az_count").is_err());
    out["subnets"].as_object_mut().unwrap().remove("pods");
    assert!(check(&out["subnets"], &vars["subnets"].ty, "subnets").is_err());
    out["subnets"]["pods"] = Value::from(vec![1, 2]);
    assert!(check(&out["subnets"], &vars["subnets"].ty, "subnets").is_err());
}
