//! `app deploy` against a local fake of Runpod's management API (REST v2): the exact payloads for
//! each kind of endpoint, idempotence, in-place updates and rolling releases, callee ids wired
//! into callers, secrets, refusals before anything is sent, API errors, and `undeploy`.

#[path = "support/management.rs"]
mod management;

use std::process::Command;

use axum::http::Method;
use endpoint_sdk::EndpointDef;
use endpoint_sdk::config::{EndpointConfig, GpuChoice, Hardware, NetworkVolume, Scaler, catalog};
use endpoint_sdk::deploy::ManagementError;
use endpoint_sdk::deploy::manifest::ManifestEndpoint;
use endpoint_sdk::deploy::{
    Action, DeployError, DeployOptions, Deployment, Effect, ManagementApi, Manifest, PlanError,
    deploy, undeploy,
};
use endpoint_sdk::prelude::*;
use endpoint_sdk::protocol::vars::id_var;
use management::FakeManagement;
use serde_json::{Value, json};

const KEY: &str = "rpa_test_key_SUITE-SECRET_0123456789";
const IMAGE: &str = "ghcr.io/acme/research-agent:0.1.0";

// The seed's three endpoints (the research agent of the founding blueprint).

/// Web retrieval, on CPU.
#[endpoint(
    name = "web-retrieval",
    cpu = "cpu5c-4-8",
    workers = (0, 10),
    idle_timeout = 300,
    execution_timeout_ms = 30_000
)]
async fn retrieve(url: String) -> String {
    url
}

/// Embedding search, on an RTX 4090.
#[endpoint(
    name = "embedding-search",
    gpu = NVIDIA_GEFORCE_RTX_4090,
    workers = (1, 10),
    execution_timeout_ms = 20_000
)]
async fn embed_search(query: String) -> Vec<String> {
    vec![query]
}

/// The orchestrator, on an A100 80GB, calling the other two.
#[endpoint(
    name = "agent-orchestrator",
    gpu = NVIDIA_A100_80GB_PCIe,
    workers = (3, 20),
    idle_timeout = 1800,
    execution_timeout_ms = 120_000,
    datacenter = EU_RO_1,
    volume(name = "agent-model-weights", size = 200),
    env(MODEL_DIR = "/runpod-volume/models"),
    min_vram_gb = 60,
    interactive,
    max_steps = 20,
    calls = [retrieve, embed_search]
)]
async fn orchestrate(question: String) -> String {
    question
}

fn seed() -> Manifest {
    Manifest::new(
        "research-agent",
        &[
            EndpointDef::of::<retrieve>(),
            EndpointDef::of::<embed_search>(),
            EndpointDef::of::<orchestrate>(),
        ],
    )
    .unwrap()
    .with_image(IMAGE)
}

fn manifest(configs: Vec<EndpointConfig>) -> Manifest {
    Manifest::build(
        "app",
        configs
            .into_iter()
            .map(|config| ManifestEndpoint::new(format!("app::{}", config.name), config))
            .collect(),
    )
    .unwrap()
    .with_image(IMAGE)
}

fn gpu(name: &str, selection: Vec<GpuChoice>) -> EndpointConfig {
    EndpointConfig {
        hardware: Hardware::Gpu {
            selection: selection.into(),
            count: 1,
            min_cuda_version: "12.8".into(),
        },
        ..EndpointConfig::new(name.to_string())
    }
}

fn opts(fake: &FakeManagement) -> DeployOptions {
    DeployOptions {
        api_url: fake.base.clone(),
        api_key: Some(KEY.into()),
        ..DeployOptions::default()
    }
}

fn no_env(_: &str) -> Option<String> {
    None
}

async fn run(
    m: &Manifest,
    o: &DeployOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> (Result<Deployment, DeployError>, String) {
    let mut out: Vec<u8> = Vec::new();
    let r = deploy(m, o, env, &mut out).await;
    (r, String::from_utf8(out).unwrap())
}

async fn deployed(m: &Manifest, fake: &FakeManagement) -> (Deployment, String) {
    let (r, out) = run(m, &opts(fake), &no_env).await;
    match r {
        Ok(d) => (d, out),
        Err(e) => panic!("deploy failed: {e}\n{out}"),
    }
}

/// The bodies of the write requests the fake received, as `(METHOD path, body)`.
fn writes(fake: &FakeManagement) -> Vec<(String, Option<Value>)> {
    fake.writes()
        .into_iter()
        .map(|r| (r.line(), r.body))
        .collect()
}

#[tokio::test]
async fn a_gpu_endpoint_carries_every_setting_flash_drops() {
    let fake = FakeManagement::start(KEY).await;
    let mut c = gpu("llm", vec![GpuChoice::Type("NVIDIA A100 80GB PCIe".into())]);
    if let Hardware::Gpu {
        count,
        min_cuda_version,
        ..
    } = &mut c.hardware
    {
        *count = 2;
        *min_cuda_version = "12.4".into();
    }
    c.workers.min = 3;
    c.workers.max = 20;
    c.idle_timeout_s = 1800;
    c.execution_timeout_ms = Some(120_000);
    c.scaler = Scaler::QueueDelay(6);
    c.flashboot = true;
    let (d, _) = deployed(&manifest(vec![c]), &fake).await;

    let id = d.endpoint_ids["llm"].clone();
    assert_eq!(
        writes(&fake),
        [(
            "POST /v2/serverless".to_string(),
            Some(json!({
                "name": "llm",
                "type": "QUEUE",
                "image": IMAGE,
                "env": {"ENDPOINT_APP": "app", "ENDPOINT_NAME": "llm"},
                "gpu": {
                    "pools": ["AMPERE_80"],
                    "excludedTypes": ["NVIDIA A100-SXM4-80GB"],
                    "count": 2,
                    "minCudaVersion": "12.4"
                },
                "workers": {"min": 3, "max": 20, "idleTimeout": 1800},
                "scaling": {"type": "QUEUE_DELAY", "queueDelay": 6},
                "dataCenterIds": [],
                "networkVolumes": [],
                "timeout": 120000,
                "flashboot": "FLASHBOOT"
            }))
        )]
    );
    let stored = fake.endpoint("llm").unwrap();
    assert_eq!(stored["id"], id.as_str());
    // Execution timeout, GPU count and FlashBoot reached the platform (Flash's deploy drops them).
    assert_eq!(
        (
            &stored["timeout"],
            &stored["gpu"]["count"],
            &stored["flashboot"]
        ),
        (&json!(120000), &json!(2), &json!("FLASHBOOT"))
    );
    for r in fake.requests() {
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {KEY}").as_str())
        );
    }
}

#[tokio::test]
async fn a_cpu_endpoint_maps_its_flavor_and_the_request_count_scaler() {
    let fake = FakeManagement::start(KEY).await;
    let mut c = EndpointConfig::new("scrape");
    c.hardware = Hardware::Cpu {
        flavor: "cpu5c-4-8".into(),
    };
    c.workers.max = 10;
    c.idle_timeout_s = 300;
    c.execution_timeout_ms = Some(30_000);
    c.scaler = Scaler::RequestCount(2);
    c.flashboot = false;
    let (_, out) = deployed(&manifest(vec![c]), &fake).await;

    assert_eq!(
        writes(&fake)[0].1,
        Some(json!({
            "name": "scrape",
            "type": "QUEUE",
            "image": IMAGE,
            "env": {"ENDPOINT_APP": "app", "ENDPOINT_NAME": "scrape"},
            "cpu": [{"id": "cpu5c", "vcpuCount": 4}],
            "workers": {"min": 0, "max": 10},
            "scaling": {"type": "REQUEST_COUNT", "requestCount": 2},
            "dataCenterIds": [],
            "networkVolumes": [],
            "timeout": 30000,
            "flashboot": "OFF"
        }))
    );
    assert!(
        out.contains("scrape: idle_timeout = 300 s is not sent"),
        "the dropped setting is said out loud:\n{out}"
    );
}

#[tokio::test]
async fn a_volume_is_found_or_created_by_name_and_data_center_and_pins_the_endpoint() {
    let fake = FakeManagement::start(KEY).await;
    let mut c = gpu("embed", vec![GpuChoice::Pool("ADA_24".into())]);
    c.volumes = vec![NetworkVolume {
        name: "weights".into(),
        size_gb: 200,
        datacenter: "US-KS-2".into(),
    }]
    .into();
    // A volume of the same name elsewhere is another volume.
    fake.seed_volume("weights", 500, "EU-RO-1");
    let (_, out) = deployed(&manifest(vec![c.clone()]), &fake).await;

    let w = writes(&fake);
    assert_eq!(
        w[0],
        (
            "POST /v2/network-volumes".to_string(),
            Some(json!({"name": "weights", "size": 200, "dataCenter": "US-KS-2"}))
        )
    );
    let volume = fake
        .volumes()
        .into_iter()
        .find(|v| v["dataCenter"] == "US-KS-2")
        .unwrap();
    let body = w[1].1.as_ref().unwrap();
    assert_eq!(w[1].0, "POST /v2/serverless");
    assert_eq!(body["networkVolumes"], json!([volume["id"]]));
    assert_eq!(
        body["dataCenterIds"],
        json!(["US-KS-2"]),
        "a worker mounts only its data center's volume"
    );
    assert!(
        out.contains("network volume weights in US-KS-2: + create (200 GB)"),
        "{out}"
    );

    // A second app with the same volume finds it; a bigger size grows it (volumes only grow).
    fake.clear_requests();
    c.name = "embed-2".into();
    c.volumes = vec![NetworkVolume {
        name: "weights".into(),
        size_gb: 300,
        datacenter: "US-KS-2".into(),
    }]
    .into();
    deployed(&manifest(vec![c]), &fake).await;
    let w = writes(&fake);
    assert_eq!(
        w[0],
        (
            format!(
                "PATCH /v2/network-volumes/{}",
                volume["id"].as_str().unwrap()
            ),
            Some(json!({"size": 300}))
        )
    );
    assert_eq!(
        w[1].1.as_ref().unwrap()["networkVolumes"],
        json!([volume["id"]])
    );
    assert_eq!(fake.volumes().len(), 2, "no second volume was created");
}

#[tokio::test]
async fn several_data_centers_and_gpu_priority_lists_map_to_pools_and_exclusions() {
    let fake = FakeManagement::start(KEY).await;
    let mut multi_dc = gpu("multi-dc", vec![GpuChoice::Pool("AMPERE_48".into())]);
    multi_dc.datacenters = vec!["EU-RO-1".into(), "US-KS-2".into()].into();
    // A priority list of pools: both pools, no exclusions.
    let mut pools = gpu(
        "pools",
        vec![
            GpuChoice::Pool("ADA_24".into()),
            GpuChoice::Pool("AMPERE_24".into()),
        ],
    );
    pools.workers.max = 5;
    // A type first, then a pool: the type's pool minus its other members, then the pool.
    let mut typed = gpu(
        "typed",
        vec![
            GpuChoice::Type("NVIDIA L4".into()),
            GpuChoice::Pool("ADA_24".into()),
        ],
    );
    typed.workers.max = 5;
    // ANY under a VRAM floor: the pools that have a card big enough, minus the cards that are not.
    let mut floor = gpu("floor", vec![GpuChoice::Any]);
    floor.min_vram_gb = Some(20);
    deployed(&manifest(vec![multi_dc, pools, typed, floor]), &fake).await;

    let body = |name: &str| -> Value {
        fake.writes()
            .into_iter()
            .find_map(|r| r.body.filter(|b| b["name"] == name))
            .unwrap()
    };
    assert_eq!(
        body("multi-dc")["dataCenterIds"],
        json!(["EU-RO-1", "US-KS-2"])
    );
    assert_eq!(
        body("pools")["gpu"],
        json!({"pools": ["ADA_24", "AMPERE_24"], "count": 1, "minCudaVersion": "12.8"})
    );
    assert_eq!(
        body("typed")["gpu"],
        json!({"pools": ["AMPERE_24", "ADA_24"],
               "excludedTypes": ["NVIDIA RTX A5000", "NVIDIA GeForce RTX 3090"],
               "count": 1, "minCudaVersion": "12.8"})
    );
    let all_pools: Vec<&str> = catalog::GPU_POOLS.iter().map(|p| p.id).collect();
    assert_eq!(body("floor")["gpu"]["pools"], json!(all_pools));
    assert_eq!(
        body("floor")["gpu"]["excludedTypes"],
        json!(["NVIDIA RTX A4000", "NVIDIA RTX 2000 Ada Generation"]),
        "the 16 GB cards of AMPERE_16 are below the 20 GB floor"
    );
}

#[tokio::test]
async fn callees_are_created_first_and_their_ids_injected_into_callers() {
    let fake = FakeManagement::start(KEY).await;
    let (d, _) = deployed(&seed(), &fake).await;

    let created: Vec<String> = fake
        .writes()
        .iter()
        .filter_map(|r| {
            r.body
                .as_ref()
                .map(|b| b["name"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(
        created,
        [
            "agent-model-weights",
            "embedding-search",
            "web-retrieval",
            "agent-orchestrator"
        ],
        "the volume, then callees before their caller"
    );
    let orchestrator = fake.endpoint("agent-orchestrator").unwrap();
    let env = &orchestrator["env"];
    for callee in ["web-retrieval", "embedding-search"] {
        let id = fake.endpoint(callee).unwrap()["id"].clone();
        assert_eq!(
            env[id_var(callee)],
            id,
            "{callee}'s id, where typed calls look"
        );
        assert_eq!(d.endpoint_ids[callee], id.as_str().unwrap());
        let callee_env = &fake.endpoint(callee).unwrap()["env"];
        assert_eq!(callee_env["ENDPOINT_NAME"], callee);
        assert!(
            callee_env.get("RUNPOD_API_KEY").is_none(),
            "only callers get the key"
        );
    }
    assert_eq!(env["RUNPOD_API_KEY"], KEY, "the deployer's key, for calls");
    assert_eq!(env["ENDPOINT_NAME"], "agent-orchestrator");
    assert_eq!(env["ENDPOINT_APP"], "research-agent");
    assert_eq!(env["MODEL_DIR"], "/runpod-volume/models");
    assert_eq!(orchestrator["dataCenterIds"], json!(["EU-RO-1"]));
}

#[tokio::test]
async fn a_second_deploy_that_changes_nothing_sends_nothing() {
    let fake = FakeManagement::start(KEY).await;
    let (first, _) = deployed(&seed(), &fake).await;
    fake.clear_requests();

    let (again, out) = deployed(&seed(), &fake).await;
    assert_eq!(
        fake.requests().iter().map(|r| r.line()).collect::<Vec<_>>(),
        ["GET /v2/serverless", "GET /v2/network-volumes"],
        "only reads"
    );
    assert_eq!(again.endpoint_ids, first.endpoint_ids);
    assert!(
        again
            .plan
            .actions()
            .iter()
            .all(|(_, a)| matches!(a, Action::Unchanged { .. })),
        "{out}"
    );
    assert!(
        out.contains("nothing to send: the account already matches"),
        "{out}"
    );
}

#[tokio::test]
async fn a_changed_timeout_is_patched_in_place() {
    let fake = FakeManagement::start(KEY).await;
    let (first, _) = deployed(&seed(), &fake).await;
    fake.clear_requests();

    let mut m = seed();
    let e = m
        .endpoints
        .iter_mut()
        .find(|e| e.config.name == "web-retrieval")
        .unwrap();
    e.config.execution_timeout_ms = Some(45_000);
    let (d, out) = deployed(&m, &fake).await;
    let id = &first.endpoint_ids["web-retrieval"];
    assert_eq!(
        writes(&fake),
        [(
            format!("PATCH /v2/serverless/{id}"),
            Some(json!({"timeout": 45000}))
        )]
    );
    assert_eq!(d.endpoint_ids, first.endpoint_ids, "ids are stable");
    assert_eq!(fake.endpoint("web-retrieval").unwrap()["timeout"], 45000);
    assert!(
        out.contains(&format!("~ web-retrieval       update ({id})")),
        "{out}"
    );
    assert!(out.contains("timeout: 30000 → 45000  [in place]"), "{out}");
}

#[tokio::test]
async fn a_changed_gpu_or_image_is_reported_as_recreating_workers() {
    let fake = FakeManagement::start(KEY).await;
    let (first, _) = deployed(&seed(), &fake).await;
    fake.clear_requests();

    let mut m = seed().with_image("ghcr.io/acme/research-agent:0.2.0");
    let e = m
        .endpoints
        .iter_mut()
        .find(|e| e.config.name == "agent-orchestrator")
        .unwrap();
    // From a pinned A100 PCIe (the AMPERE_80 pool minus the SXM card) to an H100.
    e.config.hardware = Hardware::Gpu {
        selection: vec![GpuChoice::Type("NVIDIA H100 80GB HBM3".into())].into(),
        count: 1,
        min_cuda_version: "12.8".into(),
    };
    let (d, out) = deployed(&m, &fake).await;

    let id = &first.endpoint_ids["agent-orchestrator"];
    let patches: Vec<_> = fake.writes();
    assert_eq!(patches.len(), 3, "the image changed for every endpoint");
    assert!(patches.iter().all(|r| r.method == "PATCH"));
    let patch = patches
        .into_iter()
        .find(|r| r.path.ends_with(id.as_str()))
        .unwrap();
    assert_eq!(
        patch.body.unwrap(),
        json!({"image": "ghcr.io/acme/research-agent:0.2.0",
               "gpu": {"pools": ["ADA_80_PRO"], "count": 1, "minCudaVersion": "12.8"}})
    );
    assert_eq!(
        fake.endpoint("agent-orchestrator").unwrap()["gpu"]["excludedTypes"],
        json!([]),
        "pools sent without excludedTypes clear the old exclusion"
    );
    let (_, action) = d
        .plan
        .actions()
        .iter()
        .find(|(n, _)| n == "agent-orchestrator")
        .unwrap();
    let Action::Update { changes, .. } = action else {
        panic!("{action:?}")
    };
    let fields: Vec<(&str, Effect)> = changes
        .iter()
        .map(|c| (c.field.as_str(), c.effect))
        .collect();
    assert_eq!(
        fields,
        [
            ("image", Effect::RollingRelease),
            ("gpu.pools", Effect::RollingRelease),
            ("gpu.excludedTypes", Effect::RollingRelease)
        ]
    );
    assert!(
        out.contains(
            "gpu.pools: [AMPERE_80] → [ADA_80_PRO]  [rolling release: workers are recreated]"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "image: ghcr.io/acme/research-agent:0.1.0 → ghcr.io/acme/research-agent:0.2.0  \
             [rolling release: workers are recreated]"
        ),
        "{out}"
    );
    assert_eq!(
        d.endpoint_ids, first.endpoint_ids,
        "a rolling release keeps the id"
    );
}

#[tokio::test]
async fn gpu_to_cpu_needs_force_and_then_rewires_the_callers() {
    let fake = FakeManagement::start(KEY).await;
    let (first, _) = deployed(&seed(), &fake).await;
    fake.clear_requests();

    let mut m = seed();
    let e = m
        .endpoints
        .iter_mut()
        .find(|e| e.config.name == "embedding-search")
        .unwrap();
    e.config.hardware = Hardware::Cpu {
        flavor: "cpu5c-8-16".into(),
    };
    e.config.min_vram_gb = None;
    let (r, _) = run(&m, &opts(&fake), &no_env).await;
    let err = r.unwrap_err();
    let old = &first.endpoint_ids["embedding-search"];
    let DeployError::Refused(problems) = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(&problems[..], [PlanError::NeedsRecreate { .. }]),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!(
            "endpoint `embedding-search` ({old}) must be deleted and created again: GPU → CPU"
        )),
        "{err}"
    );
    assert!(err.to_string().contains("pass --force"), "{err}");
    assert!(fake.writes().is_empty(), "refused before sending anything");

    let forced = DeployOptions {
        force: true,
        ..opts(&fake)
    };
    let (r, out) = run(&m, &forced, &no_env).await;
    let d = r.unwrap();
    let new = &d.endpoint_ids["embedding-search"];
    assert_ne!(new, old);
    let lines: Vec<String> = fake.writes().iter().map(|r| r.line()).collect();
    let orchestrator = &first.endpoint_ids["agent-orchestrator"];
    assert_eq!(
        lines,
        [
            format!("DELETE /v2/serverless/{old}"),
            "POST /v2/serverless".to_string(),
            format!("PATCH /v2/serverless/{orchestrator}"),
        ]
    );
    let patch = fake.writes().pop().unwrap().body.unwrap();
    assert_eq!(patch["env"][id_var("embedding-search")], new.as_str());
    assert_eq!(
        patch["env"]["RUNPOD_API_KEY"], KEY,
        "env is replaced whole, so every variable is resent"
    );
    assert!(
        out.contains(&format!(
            "env.ENDPOINT_ID_EMBEDDING_SEARCH: {old} → (id of embedding-search, once created)"
        )),
        "{out}"
    );
}

#[tokio::test]
async fn secrets_come_from_the_environment_are_never_printed_and_a_missing_one_stops_everything() {
    let fake = FakeManagement::start(KEY).await;
    let mut c = EndpointConfig::new("chat");
    c.hardware = Hardware::Cpu {
        flavor: "cpu3c-2-4".into(),
    };
    c.secrets = vec!["HF_TOKEN".into(), "OPENAI_API_KEY".into()].into();
    let m = manifest(vec![c]);
    assert!(
        !m.to_json().contains("hf_secret"),
        "secrets are names in the manifest"
    );

    let only_hf = |k: &str| (k == "HF_TOKEN").then(|| "hf_secret_value_SUITE-SECRET".to_string());
    let (r, _) = run(&m, &opts(&fake), &only_hf).await;
    let err = r.unwrap_err();
    assert_eq!(
        err.to_string(),
        "deploy refused, nothing was sent:\n  - chat: secret `OPENAI_API_KEY` is not set in this \
         environment: export OPENAI_API_KEY=... before deploying (its value is copied to the \
         endpoint, never written into the manifest)"
    );
    assert!(fake.requests().is_empty(), "not even a read was sent");

    let both = |k: &str| match k {
        "HF_TOKEN" => Some("hf_secret_value_SUITE-SECRET".to_string()),
        "OPENAI_API_KEY" => Some("sk-secret-value-SUITE-SECRET".to_string()),
        _ => None,
    };
    let dry = DeployOptions {
        dry_run: true,
        ..opts(&fake)
    };
    let (r, out) = run(&m, &dry, &both).await;
    r.unwrap();
    assert!(fake.writes().is_empty(), "a dry run sends no writes");
    assert!(
        out.contains(r#""HF_TOKEN": "<redacted: $HF_TOKEN from your environment>""#),
        "{out}"
    );
    let (r, out) = run(&m, &opts(&fake), &both).await;
    r.unwrap();
    let env = &fake.endpoint("chat").unwrap()["env"];
    assert_eq!(env["HF_TOKEN"], "hf_secret_value_SUITE-SECRET");
    assert_eq!(env["OPENAI_API_KEY"], "sk-secret-value-SUITE-SECRET");
    assert!(
        !out.contains("secret_value") && !out.contains("sk-secret"),
        "{out}"
    );

    // A rotated secret is an update whose values stay hidden.
    fake.clear_requests();
    let rotated = |k: &str| match k {
        "HF_TOKEN" => Some("hf_rotated_value_SUITE-SECRET".to_string()),
        "OPENAI_API_KEY" => Some("sk-secret-value-SUITE-SECRET".to_string()),
        _ => None,
    };
    let (r, out) = run(&m, &opts(&fake), &rotated).await;
    r.unwrap();
    assert!(
        out.contains("env.HF_TOKEN: (hidden) → (hidden)  [rolling release"),
        "{out}"
    );
    assert!(
        !out.contains("rotated_value") && !out.contains("secret_value"),
        "{out}"
    );
    assert_eq!(fake.writes().len(), 1);
}

#[tokio::test]
async fn the_dry_run_prints_the_exact_requests_redacted_and_a_dated_cost_estimate() {
    let m = seed();
    let o = DeployOptions {
        api_url: "https://api.runpod.io".into(),
        api_key: None,
        dry_run: true,
        ..DeployOptions::default()
    };
    let (r, out) = run(&m, &o, &no_env).await;
    r.unwrap();
    println!("{out}");

    assert!(
        out.contains("app research-agent: 3 endpoint(s), image ghcr.io/acme/research-agent:0.1.0")
    );
    assert!(out.contains("account: not read (RUNPOD_API_KEY is not set)"));
    for (i, line) in [
        "1. POST https://api.runpod.io/v2/network-volumes",
        "2. POST https://api.runpod.io/v2/serverless",
        "3. POST https://api.runpod.io/v2/serverless",
        "4. POST https://api.runpod.io/v2/serverless",
    ]
    .iter()
    .enumerate()
    {
        assert!(out.contains(line), "request {}: {line}\n{out}", i + 1);
    }
    assert!(
        out.contains(r#""ENDPOINT_ID_WEB_RETRIEVAL": "<id of web-retrieval, from request 3>""#),
        "{out}"
    );
    assert!(
        out.contains(
            r#""networkVolumes": [
    "<id of volume agent-model-weights in EU-RO-1, from request 1>"
  ]"#
        ),
        "{out}"
    );
    assert!(
        out.contains(r#""RUNPOD_API_KEY": "<redacted: $RUNPOD_API_KEY from your environment>""#),
        "{out}"
    );
    // The floor: 3 A100s and 1 RTX 4090 always on, at the active price.
    let a100 = catalog::price("AMPERE_80").unwrap().active_per_s * 3600.0;
    let rtx = catalog::price("ADA_24").unwrap().active_per_s * 3600.0;
    assert!(
        out.contains(&format!(
            "cost estimate (Runpod list prices as of {}; an estimate",
            catalog::PRICES_AS_OF
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "agent-orchestrator  floor ${:.2}/h (3 always-on)",
            3.0 * a100
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "floor of the whole app: ${:.2}/h",
            3.0 * a100 + rtx
        )),
        "{out}"
    );
}

#[tokio::test]
async fn a_dry_run_with_a_key_reads_the_account_and_prints_only_what_changes() {
    let fake = FakeManagement::start(KEY).await;
    let (first, _) = deployed(&seed(), &fake).await;
    fake.clear_requests();
    let mut m = seed();
    m.endpoints
        .iter_mut()
        .find(|e| e.config.name == "agent-orchestrator")
        .unwrap()
        .config
        .workers
        .min = 4;
    let dry = DeployOptions {
        dry_run: true,
        ..opts(&fake)
    };
    let (r, out) = run(&m, &dry, &no_env).await;
    r.unwrap();
    assert!(fake.writes().is_empty());
    let id = &first.endpoint_ids["agent-orchestrator"];
    assert!(
        out.contains(&format!(
            "1. PATCH {}/v2/serverless/{id}\n{{\n  \"workers\": {{\n    \"min\": 4,\n    \"max\": 20,\n    \"idleTimeout\": 1800\n  }}\n}}",
            fake.base
        )),
        "{out}"
    );
    assert!(!out.contains("2. "), "one request only:\n{out}");
    assert!(
        out.contains("workers: min 3 max 20 idle 1800 s → min 4 max 20 idle 1800 s  [in place]"),
        "{out}"
    );
}

#[tokio::test]
async fn endpoints_of_another_app_are_left_alone_unless_adopted() {
    let fake = FakeManagement::start(KEY).await;
    let theirs = fake.seed_endpoint(json!({"name": "web-retrieval", "type": "QUEUE",
        "image": "someone/else:1", "env": {"ENDPOINT_APP": "other-app"},
        "cpu": [{"id": "cpu3c", "vcpuCount": 2}],
        "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}));
    let (r, _) = run(&seed(), &opts(&fake), &no_env).await;
    let err = r.unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "endpoint `web-retrieval` ({theirs}) exists but was not deployed by app \
             `research-agent` (ENDPOINT_APP=other-app)"
        )),
        "{err}"
    );
    assert!(fake.writes().is_empty());

    let adopt = DeployOptions {
        adopt: true,
        ..opts(&fake)
    };
    let (r, _) = run(&seed(), &adopt, &no_env).await;
    assert_eq!(r.unwrap().endpoint_ids["web-retrieval"], theirs);
    assert_eq!(
        fake.endpoint("web-retrieval").unwrap()["env"]["ENDPOINT_APP"],
        "research-agent"
    );
}

#[tokio::test]
async fn auth_failures_are_reported_with_what_to_check() {
    let fake = FakeManagement::start(KEY).await;
    let wrong = DeployOptions {
        api_key: Some("rpa_wrong".into()),
        ..opts(&fake)
    };
    let (r, _) = run(&seed(), &wrong, &no_env).await;
    let err = r.unwrap_err();
    let DeployError::Api { source, .. } = &err else {
        panic!("{err}")
    };
    assert!(
        matches!(**source, ManagementError::Unauthorized(_)),
        "{source:?}"
    );
    assert_eq!(
        err.to_string(),
        "reading the account's endpoints failed (GET /v2/serverless): Runpod rejected the API key \
         (Unauthorized: invalid bearer token): check RUNPOD_API_KEY (create a key with read/write \
         access under Settings → API Keys in the Runpod console)"
    );
    assert!(fake.writes().is_empty());

    let none = DeployOptions {
        api_key: None,
        ..opts(&fake)
    };
    let (r, _) = run(&seed(), &none, &no_env).await;
    assert!(
        r.unwrap_err()
            .to_string()
            .starts_with("RUNPOD_API_KEY is not set"),
        "a real deploy needs a key"
    );
}

#[tokio::test]
async fn an_api_error_midway_is_reported_and_deploying_again_resumes() {
    let fake = FakeManagement::start(KEY).await;
    fake.fail_next(
        Method::POST,
        "/v2/serverless",
        400,
        "no capacity for the requested GPU pools in EU-RO-1",
    );
    let (r, _) = run(&seed(), &opts(&fake), &no_env).await;
    let err = r.unwrap_err();
    assert_eq!(
        err.to_string(),
        "create endpoint embedding-search failed (POST /v2/serverless): Runpod refused the request \
         (Bad Request: no capacity for the requested GPU pools in EU-RO-1) (1 of 4 requests had \
         succeeded; fix the cause and deploy again: it resumes from what exists)"
    );
    assert_eq!(fake.volumes().len(), 1);
    assert!(fake.endpoints().is_empty());

    fake.clear_requests();
    let (d, _) = deployed(&seed(), &fake).await;
    let lines: Vec<String> = fake.writes().iter().map(|r| r.line()).collect();
    assert_eq!(
        lines, ["POST /v2/serverless"; 3],
        "the volume is not created twice"
    );
    assert_eq!(d.endpoint_ids.len(), 3);
    assert_eq!(fake.volumes().len(), 1);

    // A server error says to try again.
    fake.fail_next(Method::PATCH, "/v2/serverless/", 500, "upstream timeout");
    let mut m = seed();
    m.endpoints[0].config.workers.max = 11;
    let (r, _) = run(&m, &opts(&fake), &no_env).await;
    let err = r.unwrap_err().to_string();
    assert!(
        err.contains(
            "Runpod's API failed (500: Internal Server Error: upstream timeout): try again"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn undeploy_deletes_this_apps_endpoints_callers_first() {
    let fake = FakeManagement::start(KEY).await;
    let (d, _) = deployed(&seed(), &fake).await;
    let foreign = fake.seed_endpoint(json!({"name": "other", "type": "QUEUE", "image": "x:1",
        "cpu": [{"id": "cpu3c", "vcpuCount": 2}],
        "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}));
    fake.clear_requests();
    let api = ManagementApi::new(&fake.base, KEY);

    let mut out = Vec::new();
    let plan = undeploy(&seed(), &api, true, false, &mut out)
        .await
        .unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(fake.writes().is_empty(), "a dry run deletes nothing");
    let names: Vec<&str> = plan.deletes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["agent-orchestrator", "web-retrieval", "embedding-search"]
    );
    let id = &d.endpoint_ids["agent-orchestrator"];
    assert!(
        out.contains(&format!(
            "  - agent-orchestrator ({id}): DELETE {}/v2/serverless/{id}",
            fake.base
        )),
        "{out}"
    );
    assert!(out.contains("network volumes are kept"), "{out}");

    let mut out = Vec::new();
    undeploy(&seed(), &api, false, false, &mut out)
        .await
        .unwrap();
    let remaining: Vec<Value> = fake.endpoints();
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0]["id"], foreign.as_str());
    assert_eq!(fake.volumes().len(), 1, "the volume holds data: kept");
    let deletes: Vec<String> = fake.writes().iter().map(|r| r.line()).collect();
    assert_eq!(deletes.len(), 3);
    assert!(
        deletes
            .iter()
            .all(|l| l.starts_with("DELETE /v2/serverless/"))
    );
}

#[tokio::test]
async fn the_fake_answers_like_the_api() {
    let fake = FakeManagement::start(KEY).await;
    let http = reqwest::Client::new();
    let url = format!("{}/v2/serverless", fake.base);
    let send = |body: Value, key: Option<&str>| {
        let mut req = http.post(&url).json(&body);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        async move {
            let resp = req.send().await.unwrap();
            let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
            (
                resp.status().as_u16(),
                ct,
                resp.json::<Value>().await.unwrap(),
            )
        }
    };
    let valid = json!({"name": "e", "type": "QUEUE", "image": "i:1",
        "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "cpu": [{"id": "cpu3c", "vcpuCount": 2}]});

    let (status, ct, body) = send(valid.clone(), None).await;
    assert_eq!((status, ct.as_str()), (401, "application/problem+json"));
    assert_eq!(
        body,
        json!({"title": "Unauthorized", "status": 401, "detail": "missing bearer token"})
    );

    let mut bogus = valid.clone();
    bogus["bogus"] = json!(1);
    let (status, _, body) = send(bogus, Some(KEY)).await;
    assert_eq!(status, 422);
    assert_eq!(
        body["errors"],
        json!(["$: additional properties 'bogus' not allowed"])
    );

    let mut both = valid.clone();
    both["gpu"] = json!({"pools": ["ADA_24"]});
    assert_eq!(send(both, Some(KEY)).await.0, 400);

    let mut one_vcpu = valid.clone();
    one_vcpu["cpu"] = json!([{"id": "cpu3c", "vcpuCount": 1}]);
    assert_eq!(send(one_vcpu, Some(KEY)).await.0, 422);

    let mut idle = valid.clone();
    idle["scaling"] = json!({"type": "REQUEST_COUNT", "requestCount": 2});
    idle["workers"] = json!({"min": 0, "max": 2, "idleTimeout": 5});
    assert_eq!(send(idle, Some(KEY)).await.0, 400);

    let (status, _, created) = send(valid, Some(KEY)).await;
    assert_eq!(status, 201);
    assert_eq!(
        (
            &created["workers"],
            &created["timeout"],
            &created["flashboot"]
        ),
        (
            &json!({"min": 0, "max": 3, "idleTimeout": 10}),
            &json!(300000),
            &json!("OFF")
        ),
        "server-side defaults"
    );
    assert_eq!(fake.requests().len(), 6, "every request is recorded");
}

fn test_worker() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_test-worker"));
    cmd.env_remove("RUNPOD_WEBHOOK_GET_JOB")
        .env_remove("RUNPOD_API_KEY")
        .env_remove("RUNPOD_API_URL");
    cmd
}

#[test]
fn the_cli_prints_a_v2_manifest_with_the_image_and_the_call_graph() {
    let out = test_worker()
        .args(["manifest", "--image", IMAGE])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m = Manifest::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert_eq!(m.manifest_version, 3);
    assert_eq!(m.app, "test-worker");
    assert_eq!(m.image.as_deref(), Some(IMAGE));
    let edge = |caller: &str, callee: &str| endpoint_sdk::deploy::manifest::CallEdge {
        caller: caller.into(),
        callee: callee.into(),
    };
    assert_eq!(
        m.call_graph.edges,
        [
            edge("chain_mid", "time_left"),
            edge("chain_top", "chain_mid"),
            edge("chain_top", "time_left"),
            edge("session_agent", "tally"),
        ]
    );
    let position = |n: &str| {
        m.call_graph
            .deploy_order
            .iter()
            .position(|x| x == n)
            .unwrap()
    };
    assert!(
        position("tally") < position("session_agent"),
        "callees first"
    );
    assert!(
        position("time_left") < position("chain_mid")
            && position("chain_mid") < position("chain_top"),
        "callees first, at every depth"
    );
    let names: Vec<&str> = m.endpoints.iter().map(|e| e.config.name.as_ref()).collect();
    let mut order: Vec<&str> = m
        .call_graph
        .deploy_order
        .iter()
        .map(String::as_str)
        .collect();
    order.sort();
    assert_eq!(order, names, "every endpoint once in the deploy order");
}

#[test]
fn the_cli_dry_run_prints_a_create_request_for_every_endpoint() {
    let out = test_worker()
        .env_remove("RUNPOD_API_KEY")
        .args(["deploy", "--dry-run", "--image", IMAGE])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = test_worker().arg("manifest").output().unwrap();
    let manifest = Manifest::from_json(std::str::from_utf8(&manifest.stdout).unwrap()).unwrap();
    for e in &manifest.endpoints {
        assert!(
            stdout.contains(&format!("\"name\": \"{}\"", e.config.name)),
            "a request for {}:\n{stdout}",
            e.config.name
        );
    }
    assert_eq!(
        stdout
            .matches("POST https://api.runpod.io/v2/serverless")
            .count(),
        manifest.endpoints.len()
    );
    assert!(stdout.contains("nothing was sent"), "{stdout}");
}

#[test]
fn the_cli_deploy_needs_an_image() {
    let out = test_worker()
        .args(["deploy", "--dry-run"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no container image"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_cli_emits_a_multi_stage_dockerfile_and_does_not_overwrite_another_file() {
    let dir = std::env::temp_dir().join(format!("endpoint-sdk-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("Dockerfile");
    let _ = std::fs::remove_file(&path);

    let out = test_worker()
        .args(["deploy", "--emit-dockerfile"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let stages: Vec<&str> = text.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(
        stages,
        [
            format!(
                "FROM rust:{}-slim-bookworm AS builder",
                env!("CARGO_PKG_RUST_VERSION")
            )
            .as_str(),
            "FROM debian:bookworm-slim"
        ]
    );
    assert!(
        text.contains(
            "cargo build --release --locked --features endpoint-sdk/worker-only --bin test-worker"
        ),
        "{text}"
    );
    assert!(text.contains("cp target/release/test-worker /usr/local/bin/test-worker"));
    assert!(text.contains("apt-get install -y --no-install-recommends ca-certificates"));
    assert!(
        text.contains("COPY --from=builder /usr/local/bin/test-worker /usr/local/bin/test-worker")
    );
    assert!(
        text.trim_end()
            .ends_with(r#"ENTRYPOINT ["/usr/local/bin/test-worker"]"#)
    );
    assert!(
        !text.contains("CMD"),
        "no arguments: the platform's RUNPOD_WEBHOOK_GET_JOB makes it a worker"
    );
    assert!(text.contains("ENDPOINT_NAME"), "{text}");

    std::fs::write(&path, "FROM scratch\n").unwrap();
    let out = test_worker()
        .args(["deploy", "--emit-dockerfile"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --force to overwrite it"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "FROM scratch\n");
    let out = test_worker()
        .args(["deploy", "--force", "--emit-dockerfile"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_cli_undeploys_through_the_api_url_and_key_of_its_environment() {
    let fake = FakeManagement::start(KEY).await;
    let mine = fake.seed_endpoint(json!({"name": "echo", "type": "QUEUE", "image": "x:1",
        "env": {"ENDPOINT_APP": "test-worker"},
        "cpu": [{"id": "cpu3c", "vcpuCount": 2}],
        "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}));
    let base = fake.base.clone();
    let run = move |args: &'static [&'static str]| {
        let base = base.clone();
        tokio::task::spawn_blocking(move || {
            test_worker()
                .args(args)
                .env("RUNPOD_API_URL", &base)
                .env("RUNPOD_API_KEY", KEY)
                .output()
                .unwrap()
        })
    };

    let out = run(&["undeploy", "--dry-run"]).await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!(
            "  - echo ({mine}): DELETE {}/v2/serverless/{mine}",
            fake.base
        )),
        "{text}"
    );
    assert!(text.contains("  = nap: not deployed"), "{text}");
    assert!(fake.writes().is_empty());

    let out = run(&["undeploy"]).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fake.endpoints().is_empty());
    assert_eq!(
        fake.writes().iter().map(|r| r.line()).collect::<Vec<_>>(),
        [format!("DELETE /v2/serverless/{mine}")]
    );
}

/// A load-balancing endpoint for the deploy tests.
#[endpoint(name = "chat", cpu = "cpu3c-2-4", workers = (1, 4), scaler = request_count(2),
           idle_timeout = 600, health_path = "/healthz", execution_timeout_ms = 300_000)]
fn chat() -> endpoint_sdk::axum::Router {
    endpoint_sdk::axum::Router::new()
}

#[endpoint(name = "asks-chat", cpu = "cpu3c-2-4", execution_timeout_ms = 400_000, calls = [chat])]
async fn asks_chat() -> u32 {
    1
}

#[tokio::test]
async fn a_load_balancing_endpoint_deploys_as_one_and_its_callers_get_its_id() {
    let fake = FakeManagement::start(KEY).await;
    let m = Manifest::new(
        "app",
        &[
            EndpointDef::app_of::<chat>(),
            EndpointDef::of::<asks_chat>(),
        ],
    )
    .unwrap()
    .with_image(IMAGE);
    let json: Value = serde_json::from_str(&m.to_json()).unwrap();
    assert_eq!(
        json["endpoints"][1]["config"]["kind"],
        json!({"type": "load_balancer", "port": 80, "health_port": 80, "health_path": "/healthz"}),
        "the manifest says which kind each endpoint is"
    );
    let (_, out) = deployed(&m, &fake).await;
    let created = fake.endpoint("chat").unwrap();
    assert_eq!(created["type"], "LOAD_BALANCER");
    assert_eq!(
        created["scaling"],
        json!({"type": "REQUEST_COUNT", "requestCount": 2})
    );
    assert_eq!(created["workers"]["idleTimeout"], 600);
    assert_eq!(created["ports"], json!(["80/http"]));
    for (k, v) in [
        ("PORT", "80"),
        ("PORT_HEALTH", "80"),
        ("HEALTH_CHECK_PATH", "/healthz"),
    ] {
        assert_eq!(created["env"][k], v, "{k}: always sent");
    }
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        created["requestUrls"]["base"],
        format!("https://{id}.api.runpod.ai")
    );
    let caller = fake.endpoint("asks-chat").unwrap();
    assert_eq!(caller["env"][id_var("chat")], id.as_str());
    assert!(
        out.contains(&format!("HTTP https://{id}.api.runpod.ai/<path>")),
        "where to send requests: {out}"
    );

    // Nothing changed: nothing sent.
    fake.clear_requests();
    deployed(&m, &fake).await;
    assert!(writes(&fake).is_empty(), "{:?}", writes(&fake));
}

#[tokio::test]
async fn a_queue_endpoint_cannot_become_load_balancing_without_force() {
    let fake = FakeManagement::start(KEY).await;
    let mut queue = EndpointConfig::new("chat");
    queue.hardware = Hardware::Cpu {
        flavor: "cpu3c-2-4".into(),
    };
    deployed(&manifest(vec![queue]), &fake).await;
    let lb = Manifest::build(
        "app",
        vec![ManifestEndpoint::new(
            "app::chat",
            EndpointDef::app_of::<chat>().config,
        )],
    )
    .unwrap()
    .with_image(IMAGE);
    let (r, _) = run(&lb, &opts(&fake), &no_env).await;
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("QUEUE → LOAD_BALANCER") && e.contains("--force"),
        "{e}"
    );
    let forced = DeployOptions {
        force: true,
        ..opts(&fake)
    };
    let (r, out) = run(&lb, &forced, &no_env).await;
    r.unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert_eq!(fake.endpoint("chat").unwrap()["type"], "LOAD_BALANCER");
}
