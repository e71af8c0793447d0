//! docs/configuration.md lists every configuration key with its variable and
//! default; this test fails when the document and the code drift apart.

use std::collections::BTreeMap;

use runway_core::Config;
use runway_core::config::{key_to_env, known_keys};

/// The default of `key` as the document writes it.
fn rendered_default(defaults: &serde_json::Value, key: &str) -> String {
    let mut v = defaults;
    for part in key.split('.') {
        v = &v[part];
    }
    match v {
        serde_json::Value::Null => "*unset*".to_string(),
        serde_json::Value::String(s) if s.is_empty() => "*empty*".to_string(),
        serde_json::Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

#[test]
fn every_key_is_documented_with_its_variable_and_default() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md"),
    )
    .unwrap();
    let mut rows: BTreeMap<String, (String, String)> = BTreeMap::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // | `key` | `ENV` | default | meaning |
        if cells.len() < 6 || !cells[1].starts_with('`') {
            continue;
        }
        let key = cells[1].trim_matches('`').to_string();
        let env = cells[2].trim_matches('`').to_string();
        assert!(!cells[4].is_empty(), "{key} has no meaning documented");
        rows.insert(key, (env, cells[3].to_string()));
    }

    let defaults = serde_json::to_value(Config::default()).unwrap();
    let keys = known_keys();
    let documented: Vec<_> = rows.keys().cloned().collect();
    let actual: Vec<_> = keys.iter().cloned().collect();
    assert_eq!(documented, actual, "documented keys differ from the code");
    for key in keys {
        let (env, default) = &rows[&key];
        assert_eq!(env, &key_to_env(&key), "variable name of {key}");
        assert_eq!(
            default,
            &rendered_default(&defaults, &key),
            "default of {key}"
        );
    }
}
