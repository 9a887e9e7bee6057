//! The application the benchmarks run as separate processes:
//!
//! - `bench-app dev --port P`: our local runtime and server with the benchmark endpoints
//!   (`endpoint_sdk::main()`, exactly as a user's `app dev`);
//! - `bench-app worker` with the platform's variables and `ENDPOINT_NAME`: our production worker;
//! - `bench-app floor --port P`: a bare axum route answering `POST /v2/{endpoint}/runsync` with
//!   the input echoed in a status object, the floor any `/runsync` server can approach;
//! - `bench-app floor-lb --port P`: the load-balancing benchmark's router served bare by axum;
//! - `bench-app calls N [--direct]`: N typed in-process calls of the no-op endpoint, one after
//!   the other on one thread (or N direct calls of its function), for counting instructions
//!   under callgrind (`scripts/callgrind-calls.sh`); with `OTEL_EXPORTER_OTLP_ENDPOINT` set,
//!   every job's span is exported as `app dev` would.
//!
//! It exits when the benchmark that started it dies.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::routing::post;
use endpoint_bench as _;
use serde_json::{Value, json};

fn main() -> std::process::ExitCode {
    endpoint_bench::proc::exit_with_parent();
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("calls") {
        let n = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1_000);
        calls(n, args.iter().any(|a| a == "--direct"));
        return std::process::ExitCode::SUCCESS;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    if args.get(1).map(String::as_str) == Some("floor-lb") {
        let port = port_arg(&args, "floor-lb");
        return match rt.block_on(floor_lb(port)) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("floor server: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    if args.get(1).map(String::as_str) == Some("floor") {
        let port = args
            .iter()
            .position(|a| a == "--port")
            .and_then(|i| args.get(i + 1))
            .and_then(|p| p.parse::<u16>().ok())
            .unwrap_or_else(|| {
                eprintln!("usage: bench-app floor --port <port>");
                std::process::exit(2)
            });
        return match rt.block_on(floor(port)) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("floor server: {e}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    match rt.block_on(endpoint_sdk::main()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The `--port` argument of subcommand `name`.
fn port_arg(args: &[String], name: &str) -> u16 {
    args.iter()
        .position(|a| a == "--port")
        .and_then(|i| args.get(i + 1))
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| {
            eprintln!("usage: bench-app {name} --port <port>");
            std::process::exit(2)
        })
}

/// The load-balancing benchmark's floor: its app's router served bare by axum.
async fn floor_lb(port: u16) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, endpoint_bench::endpoints::lb_router()).await
}

/// `n` typed in-process calls of `noop` (or direct calls of its function), on one thread.
fn calls(n: u64, direct: bool) {
    use endpoint_bench::endpoints::noop;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    rt.block_on(async {
        let telemetry = endpoint_sdk::telemetry::Telemetry::from_env("bench-app")
            .expect("the OTLP exporter starts");
        let local = endpoint_sdk::local::LocalRuntime::builder()
            .endpoint::<noop>()
            .build()
            .expect("a runtime");
        let client = local.client();
        // One call first, so that the worker has started before counting.
        assert_eq!(noop::call(&client, 0).await.expect("a call"), 0);
        for i in 0..n {
            let out = if direct {
                noop(std::hint::black_box(i)).await
            } else {
                noop::call(&client, i).await.expect("a call")
            };
            assert_eq!(std::hint::black_box(out), i);
        }
        if let Some(t) = telemetry {
            t.shutdown().await;
        }
    });
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The bare route: parse the JSON body, answer a completed status object with its input.
async fn runsync(Json(body): Json<Value>) -> Json<Value> {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    Json(json!({
        "id": format!("sync-{id}"),
        "status": "COMPLETED",
        "output": body.get("input").cloned().unwrap_or(Value::Null),
    }))
}

async fn floor(port: u16) -> std::io::Result<()> {
    let app = axum::Router::new().route("/v2/{endpoint}/runsync", post(runsync));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("floor server on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
