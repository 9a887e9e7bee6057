//! `app dev`: every endpoint on the local runtime, behind Runpod's HTTP API on this machine.

use std::sync::Arc;
use std::time::Duration;

use super::dev_log::DevLog;
use super::{DevArgs, describe};
use crate::local::LocalRuntime;
use crate::server::Server;
use crate::{Error, Result, registry};

pub(super) async fn dev(args: DevArgs) -> Result<()> {
    crate::worker::log::init_stderr();
    let mut builder = LocalRuntime::builder()
        .registry()
        .cold_start(Duration::from_millis(args.cold_start_ms))
        // The dashboard shows finished jobs' inputs.
        .with_options(|o| {
            o.keep_inputs = true;
            o.max_retained_results = args.keep_results;
        });
    for name in &args.external {
        if registry::find(name).is_some_and(|d| d.is_load_balancer()) {
            return Err(Error::Usage(format!(
                "--external {name}: `{name}` is a load-balancing endpoint, whose workers `app dev` \
                 simulates; to try a worker process, run `app worker` with ENDPOINT_NAME={name} \
                 and PORT, and send it requests directly"
            )));
        }
        if registry::find(name).is_none() {
            let known: Vec<String> = registry::endpoints()
                .iter()
                .map(|d| d.name().to_string())
                .collect();
            return Err(Error::Usage(format!(
                "--external {name}: no endpoint has this name; endpoints: {}",
                known.join(", ")
            )));
        }
        builder = builder.served_externally(name.clone());
    }
    // The log follows the runtime's events at `info` (from the first worker's start); below
    // that, nothing listens and the runtime does not make per-job events at all.
    // `/metrics` counts what the runtime's events say.
    builder = builder.sink(Arc::new(crate::local::MetricsSink));
    let log = tracing::enabled!(tracing::Level::INFO).then(|| Arc::new(DevLog::new()));
    if let Some(log) = &log {
        builder = builder.sink(log.clone());
    }
    let runtime = builder.build()?;
    // Read before serving: a scenario that does not parse stops here, with its reason.
    let scenario = args
        .scenario
        .as_deref()
        .map(crate::simulate::Scenario::read)
        .transpose()
        .map_err(|e| Error::Usage(format!("--scenario: {e}")))?;
    let addr = format!("{}:{}", args.host, args.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| Error::Io {
            context: format!("cannot listen on {addr} (is another server using it? pass --port)"),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| Error::Io {
        context: "reading the listening address".into(),
        source,
    })?;
    let base = format!("http://{local}");
    println!(
        "endpoint-sdk dev server: {} endpoint(s) on {base}{}",
        runtime.configs().len(),
        if args.api_key.is_some() {
            " (API key required)"
        } else {
            ""
        }
    );
    for c in runtime.configs() {
        let route = match c.load_balancer() {
            Some(_) => format!("HTTP {base}/lb/{}/..", c.name),
            None => format!("POST {base}/v2/{}/run", c.name),
        };
        println!(
            "  {:<24} {route}   [{}]{}",
            c.name,
            describe(c),
            if args.external.iter().any(|e| *e == c.name) {
                "  (external workers: job API at /v2/{name}/job-take/{worker})"
                    .replace("{name}", &c.name)
            } else {
                String::new()
            }
        );
    }
    println!(
        "dashboard: {base}/   metrics: {base}/metrics (Prometheus)   simulation: {base}/_dev/simulate"
    );
    println!("Ctrl-C to stop.");
    let log = log.map(|log| tokio::spawn(log.run()));
    let served = Server::new(runtime.clone())
        .api_key(args.api_key)
        .scenario(scenario)
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
            println!("stopping: finishing requests in flight");
        })
        .await;
    runtime.shutdown();
    if let Some(log) = log {
        log.abort();
    }
    served.map_err(|source| Error::Io {
        context: "serving HTTP".into(),
        source,
    })
}
