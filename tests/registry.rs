//! The link-time registry lists every endpoint of a binary with its full configuration, and
//! `app manifest` prints exactly that.

use std::process::Command;

use endpoint_sdk::config::{EndpointConfig, Hardware, Scaler};
use endpoint_sdk::deploy::Manifest;
use endpoint_sdk::registry::{self, RegistryError};
use endpoint_sdk::{Endpoint, EndpointDef};
use endpoint_tests::{echo, nap};

const EXPECTED: &[&str] = &[
    "big_output",
    "block",
    "blocking_section",
    "chain_mid",
    "chain_top",
    "chatty",
    "count",
    "echo",
    "fast_tokens",
    "gated_ticks",
    "greet",
    "hang_async",
    "hold_or_wait",
    "init_fails",
    "nap",
    "panicky",
    "refuse",
    "session_agent",
    "soak_chat",
    "soak_steps",
    "spawn_spin",
    "spin_forever",
    "tally",
    "time_left",
];

#[test]
fn the_registry_lists_every_endpoint_with_its_full_config() {
    let defs = registry::endpoints();
    let names: Vec<&str> = defs.iter().map(|d| d.name()).collect();
    assert_eq!(names, EXPECTED, "sorted by name, none missing, none extra");
    registry::check(&defs).unwrap();

    let echo_def = registry::find("echo").unwrap();
    assert_eq!(echo_def.rust_path(), "endpoint_tests::echo");
    let c = &echo_def.config;
    assert_eq!(
        c,
        <echo as Endpoint>::CONFIG,
        "the registry carries the attribute's const config"
    );
    assert_eq!(
        c.hardware,
        Hardware::Cpu {
            flavor: "cpu3c-2-4".into()
        }
    );
    assert_eq!((c.workers.min, c.workers.max, c.concurrency), (1, 8, 8));
    assert_eq!(c.execution_timeout_ms, Some(60_000));
    assert_eq!(c.idle_timeout_s, 60, "default");
    assert_eq!(c.scaler, Scaler::QueueDelay(4), "default");
    assert!(registry::find("init_fails").unwrap().config.has_init);
    assert!(registry::find("nope").is_none());
}

#[test]
fn the_registry_refuses_duplicate_names_and_missing_callees() {
    let mut twin = EndpointDef::of::<nap>();
    twin.config.name = "echo".into();
    let err = registry::check(&[EndpointDef::of::<echo>(), twin]).unwrap_err();
    assert!(matches!(err, RegistryError::DuplicateName { .. }));
    assert!(
        err.to_string().contains("two endpoints are named `echo`"),
        "{err}"
    );

    let mut caller = EndpointDef::of::<nap>();
    caller.config.calls = vec!["ghost".into()].into();
    let err = registry::check(&[caller]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "endpoint `nap` calls `ghost`, which is not in this binary; define it with `#[endpoint]` \
         (or declare one built elsewhere with `#[external]`), or remove it from `calls`"
    );
}

#[test]
fn configs_built_in_code_are_checked_with_the_attributes_rules() {
    let mut c = EndpointConfig::new("scrape");
    c.workers.min = 5;
    c.workers.max = 2;
    let problems = c.check();
    assert!(
        problems
            .iter()
            .any(|p| p.message == "workers min (5) cannot exceed max (2)"),
        "{problems:?}"
    );
    assert!(EndpointConfig::new("fine").check().is_empty());
}

#[test]
fn app_manifest_prints_every_endpoint_with_its_config() {
    let out = Command::new(env!("CARGO_BIN_EXE_test-worker"))
        .arg("manifest")
        .env_remove("RUNPOD_WEBHOOK_GET_JOB")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Manifest = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest.manifest_version, 3);
    assert_eq!(manifest.app, "test-worker");
    let names: Vec<&str> = manifest
        .endpoints
        .iter()
        .map(|e| e.config.name.as_ref())
        .collect();
    assert_eq!(names, EXPECTED);
    let echo_entry = manifest
        .endpoints
        .iter()
        .find(|e| e.config.name == "echo")
        .unwrap();
    assert_eq!(&echo_entry.config, <echo as Endpoint>::CONFIG);
    assert_eq!(echo_entry.rust_path, "endpoint_tests::echo");

    // Each endpoint's input and output schema, where its types have one.
    let entry = |name: &str| {
        manifest
            .endpoints
            .iter()
            .find(|e| e.config.name == name)
            .unwrap()
    };
    let greet = entry("greet");
    let input = greet
        .input_schema
        .as_ref()
        .expect("Greeting derives JsonSchema");
    assert_eq!(input["title"], "Greeting");
    assert_eq!(input["properties"]["name"]["type"], "string");
    assert_eq!(input["properties"]["name"]["description"], "Who to greet.");
    assert_eq!(input["properties"]["times"]["type"], "integer");
    assert_eq!(input["properties"]["loud"]["type"], "boolean");
    assert_eq!(greet.output_schema.as_ref().unwrap()["type"], "string");
    // Rust's own types describe themselves.
    let chain = entry("chain_top");
    assert_eq!(chain.input_schema.as_ref().unwrap()["type"], "integer");
    assert_eq!(chain.output_schema.as_ref().unwrap()["type"], "integer");
    // A type without a schema leaves the field out (and a load-balancing endpoint has none).
    let raw = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        raw.matches("\"input_schema\"").count(),
        manifest
            .endpoints
            .iter()
            .filter(|e| e.input_schema.is_some())
            .count()
    );
}
