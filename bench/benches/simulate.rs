//! `app simulate` (issue 17.5): how fast the simulator runs a day of traffic, against two
//! baselines measured in the same run.
//!
//! 1. The research agent's endpoints under 24 simulated hours of Poisson traffic at 10
//!    requests/s (`examples/research-agent/scenarios/load-24h.toml`: about 0.86 million
//!    orchestrator jobs and 3.5 million calls): wall time, simulated jobs per wall second, peak
//!    memory, and the speed against real time (the baseline a user has without it: deploy and
//!    wait a day). Goal: ≤ 60 s.
//! 2. The same small application run both ways on the same traffic: by the simulator, and by
//!    the local runtime itself (real handlers that sleep their service time, real calls) on
//!    tokio's paused clock, the fastest the runtime can replay it. Simulated jobs per wall second
//!    of each.
//!
//! `cargo bench -p endpoint-bench --bench simulate`; `BENCH_SIM_HOURS` shortens the first run,
//! `BENCH_SIM_MINUTES` sets the second's traffic (default 10 minutes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use endpoint_bench::endpoints::{sim_leaf, sim_top};
use endpoint_bench::report::{Table, ratio, verdict};
use endpoint_sdk::EndpointDef;
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::simulate::{Scenario, simulate};
use research_agent::endpoints::{embed_search, orchestrate, retrieve};

fn env_f64(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The process's peak resident memory (`VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn research_agent_day() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/research-agent/scenarios/load-24h.toml"
    );
    let mut scenario = Scenario::read(path.as_ref()).expect("the scenario parses");
    let hours = env_f64("BENCH_SIM_HOURS", 24.0);
    scenario.duration.0 = Duration::from_secs_f64(hours * 3600.0);
    let configs = [
        EndpointDef::of::<orchestrate>().config,
        EndpointDef::of::<embed_search>().config,
        EndpointDef::of::<retrieve>().config,
    ];
    let rss_before = peak_rss_mib();
    let t = Instant::now();
    let report = simulate("research-agent", &configs, &scenario).expect("it runs");
    let wall = t.elapsed().as_secs_f64();
    let v = &report.variants[0];
    let jobs = report.simulated_jobs;
    let mut table = Table::new(
        &format!("research agent, {hours} simulated hours at 10 requests/s"),
        &["", "value"],
    );
    table.row(vec!["requests".into(), v.requests.arrived.to_string()]);
    table.row(vec!["jobs (requests and calls)".into(), jobs.to_string()]);
    table.row(vec!["wall time".into(), format!("{wall:.1} s")]);
    table.row(vec![
        "simulated jobs per wall second".into(),
        format!("{:.0}", jobs as f64 / wall),
    ]);
    table.row(vec![
        "speed against real time".into(),
        ratio(hours * 3600.0, wall),
    ]);
    table.row(vec![
        "peak memory (process)".into(),
        format!("{:.0} MiB (before: {rss_before:.0} MiB)", peak_rss_mib()),
    ]);
    let goal = wall * 24.0 / hours <= 60.0;
    table.row(vec![
        "goal: 24 h in ≤ 60 s".into(),
        format!("{} ({:.1} s per 24 h)", verdict(goal), wall * 24.0 / hours),
    ]);
    table.print();
}

fn small_app_scenario(minutes: f64) -> Scenario {
    Scenario::parse(&format!(
        r#"
        duration = "{}s"
        traffic = {{ endpoint = "sim-top", pattern = "constant", rate = 10.0 }}
        cold_start = {{ cpu = "10s", cpu_flashboot = "10s" }}
        [endpoints.sim-top]
        service = "300ms"
        calls = [{{ to = "sim-leaf", count = 3 }}]
        [endpoints.sim-leaf]
        service = "100ms"
        "#,
        (minutes * 60.0) as u64
    ))
    .expect("the scenario parses")
}

/// The runtime replays the same traffic on the paused clock; returns its wall time and jobs.
fn runtime_replay(scenario: &Scenario) -> (f64, u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let requests = (scenario.duration.0.as_secs_f64() * 10.0) as u64;
    let t = Instant::now();
    rt.block_on(async move {
        let options = endpoint_sdk::local::RuntimeOptions {
            cold_start: Duration::from_secs(10),
            ..Default::default()
        };
        let local = Arc::new(
            LocalRuntime::builder()
                .endpoint::<sim_top>()
                .endpoint::<sim_leaf>()
                .options(options)
                .build()
                .expect("the runtime builds"),
        );
        let t0 = tokio::time::Instant::now();
        let tasks: Vec<_> = (0..requests)
            .map(|k| {
                let local = local.clone();
                tokio::spawn(async move {
                    tokio::time::sleep_until(t0 + Duration::from_millis(100 * k)).await;
                    let id = local
                        .submit("sim-top", serde_json::json!(k).into())
                        .unwrap();
                    let st = local
                        .wait("sim-top", &id, Duration::from_secs(3600))
                        .await
                        .unwrap();
                    assert_eq!(st.status, endpoint_sdk::JobStatus::Completed);
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("a request task");
        }
    });
    (t.elapsed().as_secs_f64(), requests * 4)
}

fn simulator_against_runtime() {
    let minutes = env_f64("BENCH_SIM_MINUTES", 10.0);
    let scenario = small_app_scenario(minutes);
    let configs = [
        EndpointDef::of::<sim_top>().config,
        EndpointDef::of::<sim_leaf>().config,
    ];
    let t = Instant::now();
    let report = simulate("bench", &configs, &scenario).expect("it runs");
    let sim_wall = t.elapsed().as_secs_f64();
    let sim_jobs = report.simulated_jobs;
    let (rt_wall, rt_jobs) = runtime_replay(&scenario);
    let (sim_rate, rt_rate) = (sim_jobs as f64 / sim_wall, rt_jobs as f64 / rt_wall);
    let mut table = Table::new(
        &format!("{minutes} minutes at 10 requests/s, each 1 + 3 calls: simulator vs the runtime"),
        &["", "jobs", "wall", "jobs per wall second", "ratio"],
    );
    table.row(vec![
        "local runtime, paused clock (baseline)".into(),
        rt_jobs.to_string(),
        format!("{rt_wall:.2} s"),
        format!("{rt_rate:.0}"),
        "1×".into(),
    ]);
    table.row(vec![
        "simulator".into(),
        sim_jobs.to_string(),
        format!("{sim_wall:.3} s"),
        format!("{sim_rate:.0}"),
        ratio(sim_rate, rt_rate),
    ]);
    table.print();
}

fn main() {
    research_agent_day();
    println!();
    simulator_against_runtime();
}
