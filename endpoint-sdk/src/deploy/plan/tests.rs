//! The plan's unit tests: what a manifest and an account become.

use super::*;
use crate::config::{EndpointConfig, EnvVar, Hardware, Scaler};
use crate::deploy::manifest::{ManifestEndpoint, ManifestExternal};
use crate::deploy::remote::{CpuConfig, EndpointType, Flashboot, WorkersConfig};
use serde_json::Value;

fn manifest(image: &str, configs: Vec<EndpointConfig>) -> Manifest {
    Manifest::build(
        "app",
        configs
            .into_iter()
            .map(|config| ManifestEndpoint::new("app::e", config))
            .collect(),
    )
    .unwrap()
    .with_image(image)
}

fn cpu(name: &str) -> EndpointConfig {
    let mut c = EndpointConfig::new(name.to_string());
    c.hardware = Hardware::Cpu {
        flavor: "cpu3c-2-4".into(),
    };
    c
}

fn plan(m: &Manifest, state: &AccountState) -> Result<Plan, DeployError> {
    Plan::new(m, state, &PlanOptions::default(), &|_| None)
}

#[test]
fn unversioned_images_and_unbounded_endpoints_are_noted() {
    let mut c = cpu("e");
    c.execution_timeout_ms = None;
    c.allow = vec!["no_execution_timeout".into()].into();
    let p = plan(
        &manifest("ghcr.io/acme/app", vec![c]),
        &AccountState::unknown(),
    )
    .unwrap();
    assert!(
        p.notes()[0].contains("has no version tag"),
        "{:?}",
        p.notes()
    );
    assert!(p.notes()[1].contains("604800000 ms"), "{:?}", p.notes());
    assert!(
        p.requests()[0]
            .body
            .as_ref()
            .unwrap()
            .contains(r#""timeout": 604800000"#)
    );

    let p = plan(
        &manifest("registry:5000/acme/app:1.2", vec![cpu("e")]),
        &AccountState::unknown(),
    )
    .unwrap();
    assert!(p.notes().is_empty(), "a port is not a tag: {:?}", p.notes());
    let p = plan(
        &manifest("acme/app@sha256:abc", vec![cpu("e")]),
        &AccountState::unknown(),
    )
    .unwrap();
    assert!(p.notes().is_empty(), "{:?}", p.notes());
}

#[test]
fn variables_deploy_sets_cannot_be_set_by_the_config_and_no_image_is_refused() {
    let mut c = cpu("e");
    c.env = vec![EnvVar {
        key: "ENDPOINT_NAME".into(),
        value: "other".into(),
    }]
    .into();
    let err = plan(&manifest("a:1", vec![c]), &AccountState::unknown()).unwrap_err();
    assert!(
        err.to_string()
            .contains("e: `ENDPOINT_NAME` is set by the SDK"),
        "{err}"
    );
    let mut m = manifest("a:1", vec![cpu("e")]);
    m.image = None;
    assert!(matches!(
        plan(&m, &AccountState::unknown()),
        Err(DeployError::NoImage)
    ));
}

#[test]
fn an_idle_timeout_left_from_queue_delay_is_dropped_when_switching_to_request_count() {
    let mut c = cpu("e");
    c.scaler = Scaler::RequestCount(3);
    let m = manifest("a:1", vec![c]);
    let existing = RemoteEndpoint {
        id: "ep1".into(),
        name: "e".into(),
        kind: Some(EndpointType::Queue),
        image: Some("a:1".into()),
        ports: vec![],
        env: BTreeMap::from([
            ("ENDPOINT_APP".to_string(), "app".to_string()),
            ("ENDPOINT_NAME".to_string(), "e".to_string()),
        ]),
        gpu: None,
        cpu: Some(vec![CpuConfig {
            id: "cpu3c".into(),
            vcpu_count: 2,
        }]),
        workers: Some(WorkersConfig {
            min: 0,
            max: 1,
            idle_timeout: Some(60),
        }),
        scaling: Some(serde_json::json!({"type": "QUEUE_DELAY", "queueDelay": 4})),
        data_center_ids: vec![],
        network_volumes: vec![],
        timeout: Some(600_000),
        flashboot: Some(Flashboot::Flashboot),
    };
    let state = AccountState {
        endpoints: vec![existing],
        volumes: vec![],
        read: true,
    };
    let p = plan(&m, &state).unwrap();
    let body: Value = serde_json::from_str(p.requests()[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"workers": {"min": 0, "max": 1},
            "scaling": {"type": "REQUEST_COUNT", "requestCount": 3}})
    );
}

#[test]
fn a_cpu_flavor_in_the_attribute_spelling_is_deployed_by_its_catalog_id() {
    let mut c = cpu("e");
    c.hardware = Hardware::Cpu {
        flavor: "CPU5C_4_8".into(),
    };
    let p = plan(&manifest("a:1", vec![c]), &AccountState::unknown()).unwrap();
    let body: Value = serde_json::from_str(p.requests()[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(
        body["cpu"],
        serde_json::json!([{"id": "cpu5c", "vcpuCount": 4}]),
        "{body}"
    );

    let mut c = cpu("e");
    c.hardware = Hardware::Cpu {
        flavor: "cpu9z-1-1".into(),
    };
    let err = plan(&manifest("a:1", vec![c]), &AccountState::unknown()).unwrap_err();
    assert!(err.to_string().contains("cpu9z-1-1"), "{err}");
}

fn lb(name: &str) -> EndpointConfig {
    let mut c = cpu(name);
    c.kind = crate::config::EndpointKind::LoadBalancer(crate::config::LoadBalancer {
        port: 8080,
        health_port: 8081,
        health_path: "/healthz".into(),
    });
    c.scaler = Scaler::RequestCount(2);
    c.idle_timeout_s = 300;
    c.execution_timeout_ms = Some(120_000);
    c
}

#[test]
fn a_load_balancing_endpoint_is_created_with_its_type_scaler_ports_and_health_variables() {
    let p = plan(&manifest("a:1", vec![lb("chat")]), &AccountState::unknown()).unwrap();
    let body: Value = serde_json::from_str(p.requests()[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(body["type"], "LOAD_BALANCER");
    assert_eq!(
        body["scaling"],
        serde_json::json!({"type": "REQUEST_COUNT", "requestCount": 2})
    );
    assert_eq!(
        body["workers"]["idleTimeout"], 300,
        "allowed on LB endpoints"
    );
    assert_eq!(body["ports"], serde_json::json!(["8080/http", "8081/http"]));
    assert_eq!(body["env"]["PORT"], "8080");
    assert_eq!(body["env"]["PORT_HEALTH"], "8081");
    assert_eq!(body["env"]["HEALTH_CHECK_PATH"], "/healthz");
    assert!(p.notes().is_empty(), "{:?}", p.notes());
}

#[test]
fn a_queue_endpoint_becoming_load_balancing_needs_force() {
    let m = manifest("a:1", vec![lb("chat")]);
    let existing = RemoteEndpoint {
        id: "ep1".into(),
        name: "chat".into(),
        kind: Some(EndpointType::Queue),
        image: Some("a:1".into()),
        ports: vec![],
        env: BTreeMap::from([("ENDPOINT_APP".to_string(), "app".to_string())]),
        gpu: None,
        cpu: Some(vec![CpuConfig {
            id: "cpu3c".into(),
            vcpu_count: 2,
        }]),
        workers: None,
        scaling: None,
        data_center_ids: vec![],
        network_volumes: vec![],
        timeout: None,
        flashboot: None,
    };
    let state = AccountState {
        endpoints: vec![existing],
        volumes: vec![],
        read: true,
    };
    let err = plan(&m, &state).unwrap_err().to_string();
    assert!(err.contains("QUEUE → LOAD_BALANCER"), "{err}");
    assert!(err.contains("--force"), "{err}");
    let forced = Plan::new(
        &m,
        &state,
        &PlanOptions {
            force: true,
            ..PlanOptions::default()
        },
        &|_| None,
    )
    .unwrap();
    let requests = forced.requests();
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(
        methods,
        ["DELETE", "POST"],
        "deleted, then created as LOAD_BALANCER"
    );
}

#[test]
fn the_dry_run_shows_a_models_budget_and_the_cards_it_excludes() {
    // Qwen2.5 7B at fp16 with 2 sessions of 32k tokens: 14.2 + 2 × 1.75 = 17.7 GB, so 20 GB
    // of cards' memory at 90 %: `ANY` leaves out the 16 GB cards.
    let mut c = EndpointConfig::new("draft");
    c.hardware = Hardware::Gpu {
        selection: vec![crate::config::GpuChoice::Any].into(),
        count: 1,
        min_cuda_version: "12.8".into(),
    };
    c.model = Some(endpoint_config::ModelSpec {
        preset: Some("QWEN2_5_7B".into()),
        params_m: 7_620,
        embedding_params_m: 1_090,
        layers: 28,
        kv_heads: 4,
        head_dim: 128,
        weight_bits: 16,
        kv_bits: 16,
        context: 32_768,
        sessions: 2,
    });
    c.min_vram_gb = Some(20);
    let p = plan(
        &manifest("ghcr.io/acme/app:1", vec![c]),
        &AccountState::unknown(),
    )
    .unwrap();
    let note = p
        .notes()
        .iter()
        .find(|n| n.contains("GPU budget"))
        .expect("a budget note");
    assert!(
        note.contains("needed: 14.2 GB + 2 sessions × 1.75 GB = 17.7 GB"),
        "{note}"
    );
    assert!(note.contains("excludes the cards too small"), "{note}");
    assert!(note.contains("(16 GB)"), "{note}");
    assert!(p.render_dry_run().contains("GPU budget"));
}

fn external(name: &str, id: Option<&str>, url_from: Option<&str>) -> ManifestExternal {
    ManifestExternal {
        name: name.into(),
        api: "openai".into(),
        execution_timeout_ms: Some(100_000),
        id: id.map(str::to_string),
        id_from: Some("LLM_ENDPOINT_ID".into()),
        url_from: url_from.map(str::to_string),
        model_from: None,
    }
}

fn calling(externals: Vec<ManifestExternal>) -> Manifest {
    let mut agent = cpu("agent");
    agent.calls = vec!["llm".into()].into();
    Manifest::build_with(
        "app",
        vec![ManifestEndpoint::new("app::agent", agent)],
        externals,
    )
    .unwrap()
    .with_image("a:1")
}

#[test]
fn an_external_callee_is_wired_by_its_id_and_never_created() {
    let m = calling(vec![external("llm", Some("vllm-abc123"), None)]);
    assert_eq!(
        m.call_graph.deploy_order,
        ["agent"],
        "only what is deployed"
    );
    let p = plan(&m, &AccountState::unknown()).unwrap();
    assert_eq!(
        p.requests().len(),
        1,
        "one endpoint created: {:?}",
        p.requests()
    );
    let body: Value = serde_json::from_str(p.requests()[0].body.as_ref().unwrap()).unwrap();
    assert_eq!(body["env"]["ENDPOINT_ID_LLM"], "vllm-abc123");
    assert!(body["env"].get("RUNPOD_API_KEY").is_some(), "{body}");
    // The manifest round-trips with its externals.
    assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
}

#[test]
fn an_external_callee_without_an_id_is_refused_or_noted() {
    let e = plan(
        &calling(vec![external("llm", None, None)]),
        &AccountState::unknown(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("calls `llm`, an endpoint built elsewhere, whose id is unknown (LLM_ENDPOINT_ID is not set)")
            && e.contains("export ENDPOINT_ID_LLM"),
        "{e}"
    );
    // Reached by URL instead: deployed, with a note on the variable the endpoint needs.
    let p = plan(
        &calling(vec![external("llm", None, Some("LLM_BASE_URL"))]),
        &AccountState::unknown(),
    )
    .unwrap();
    assert!(
        p.notes()
            .iter()
            .any(|n| n.contains("at the URL in LLM_BASE_URL")),
        "{:?}",
        p.notes()
    );
    // Not declared at all: the callee is unknown.
    let mut agent = cpu("agent");
    agent.calls = vec!["llm".into()].into();
    let e = Manifest::build("app", vec![ManifestEndpoint::new("app::agent", agent)]).unwrap_err();
    assert!(e.to_string().contains("#[external]"), "{e}");
}
