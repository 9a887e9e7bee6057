//! `endpoint_sdk::main()`: the subcommands of a user's binary.

mod call;
mod call_lb;
mod dev;
mod dev_log;
mod simulate;

use clap::{Args, Parser, Subcommand};

use crate::config::{EndpointConfig, Hardware};
use crate::deploy::Manifest;
use crate::{Result, registry};

/// The command line of a binary built with endpoint-sdk.
#[derive(Debug, Parser)]
#[command(
    about = "An application built with endpoint-sdk: its endpoints, runnable locally and on Runpod Serverless."
)]
pub struct Cli {
    /// What to do. Without a subcommand, a binary in a Runpod worker container (where
    /// `RUNPOD_WEBHOOK_GET_JOB` is set) runs `worker`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every endpoint locally behind Runpod's HTTP API (public API and worker job API).
    Dev(DevArgs),
    /// Print the application as versioned JSON: every endpoint with its full configuration, the
    /// call graph with its deploy order, the image.
    Manifest(ManifestArgs),
    /// Serve one endpoint as a Runpod Serverless worker (chosen automatically when
    /// `RUNPOD_WEBHOOK_GET_JOB` is set); without the platform's variables, or with
    /// `--test-input`, run one job locally and exit 0 on success, 1 on failure.
    Worker(WorkerArgs),
    /// Deploy every endpoint to Runpod Serverless (REST v2): create what is missing, update what
    /// changed, print the diff and a cost estimate; `--dry-run` prints the requests instead,
    /// `--emit-dockerfile` writes the image's Dockerfile.
    Deploy(crate::deploy::DeployArgs),
    /// Delete this application's endpoints from Runpod Serverless.
    Undeploy(crate::deploy::UndeployArgs),
    /// Run one job (or, for a load-balancing endpoint, one request) against `app dev`
    /// (`--url` / `RUNPOD_ENDPOINT_BASE_URL`), the cloud (`RUNPOD_API_KEY`) or this process:
    /// progress and stream chunks as they arrive, then the output; exit 1 unless it completed.
    Call(call::CallArgs),
    /// Run the endpoints, as configured and in variants, under a scenario's traffic in virtual
    /// time (a day in seconds): latency, cold starts met, timeouts, workers and cost, side by
    /// side.
    #[command(after_help = simulate::AFTER_HELP)]
    Simulate(simulate::SimulateArgs),
}

/// Options of `manifest`.
#[derive(Debug, Clone, Default, Args)]
pub struct ManifestArgs {
    /// The container image the endpoints run, recorded in the manifest.
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
}

/// Options of `worker`.
#[derive(Debug, Clone, Default, Args)]
pub struct WorkerArgs {
    /// The endpoint to serve, when the binary has several.
    #[arg(long, env = crate::protocol::vars::ENDPOINT_NAME)]
    pub endpoint: Option<String>,
    /// Run this one job locally (`{"input": {...}}`) and exit.
    #[arg(long, alias = "test_input", value_name = "JSON")]
    pub test_input: Option<String>,
}

/// Options of `dev`.
#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = crate::protocol::vars::ENDPOINT_DEV_HOST)]
    pub host: String,
    /// Port to listen on.
    #[arg(long, short, default_value_t = 8000, env = crate::protocol::vars::ENDPOINT_DEV_PORT)]
    pub port: u16,
    /// Require this API key (`Authorization: Bearer <key>`); open when unset.
    #[arg(long, env = crate::protocol::vars::ENDPOINT_DEV_API_KEY)]
    pub api_key: Option<String>,
    /// Simulated cold start of each worker, in milliseconds, before its `init`.
    #[arg(long, default_value_t = 0)]
    pub cold_start_ms: u64,
    /// Run no simulated workers for this endpoint: external workers attach to its job API.
    /// Repeat for several.
    #[arg(long = "external", value_name = "ENDPOINT")]
    pub external: Vec<String>,
    /// The scenario the dashboard's simulation runs (`app simulate`'s format); the default one
    /// otherwise.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<std::path::PathBuf>,
    /// The most finished jobs kept per endpoint for `/status` (each for up to 30 minutes, as the
    /// platform keeps them); the oldest go first. Bounds the server's memory under long runs.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub keep_results: usize,
}

/// Logs to stderr at `warn` unless `RUST_LOG` says otherwise: a one-shot command prints its
/// own lines.
fn init_logging_quiet() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let defs = registry::endpoints();
    if defs.is_empty() && cli.command.is_some() {
        return Err(registry::RegistryError::Empty.into());
    }
    registry::check(&defs)?;
    let command = match cli.command {
        Some(c) => c,
        // A queue worker's container has the job-take URL; a load-balancing worker's only its
        // pod and endpoint ids.
        None if [
            crate::protocol::vars::RUNPOD_WEBHOOK_GET_JOB,
            crate::protocol::vars::RUNPOD_POD_ID,
        ]
        .iter()
        .any(|v| std::env::var_os(v).is_some()) =>
        {
            Command::Worker(WorkerArgs {
                endpoint: std::env::var(crate::protocol::vars::ENDPOINT_NAME).ok(),
                test_input: None,
            })
        }
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            return Ok(());
        }
    };
    match command {
        Command::Manifest(args) => {
            let mut manifest = Manifest::new(crate::deploy::app_name(), &defs)?;
            manifest.image = args.image;
            print_out(&manifest.to_json());
            Ok(())
        }
        Command::Deploy(args) => Ok(crate::deploy::run_deploy(&defs, args).await?),
        Command::Undeploy(args) => Ok(crate::deploy::run_undeploy(&defs, args).await?),
        Command::Dev(args) => {
            crate::telemetry::traced(&crate::deploy::app_name(), dev::dev(args)).await
        }
        Command::Worker(args) => crate::entry::start(&defs, args.endpoint, args.test_input).await,
        Command::Call(args) => {
            init_logging_quiet();
            crate::telemetry::traced(&crate::deploy::app_name(), call::call(args)).await
        }
        Command::Simulate(args) => {
            init_logging_quiet();
            simulate::run(&defs, args)
        }
    }
}

/// A one-line summary of an endpoint's hardware and scaling.
pub fn describe(c: &EndpointConfig) -> String {
    let hw = match &c.hardware {
        Hardware::Cpu { flavor } => format!("CPU {flavor}"),
        Hardware::Gpu { count, .. } => {
            let types = c.gpu_types();
            let first = types.first().map_or("any GPU", |t| t.id);
            let more = if types.len() > 1 {
                format!(" (+{} more)", types.len() - 1)
            } else {
                String::new()
            };
            if *count > 1 {
                format!("{count}× {first}{more}")
            } else {
                format!("{first}{more}")
            }
        }
    };
    let timeout = c
        .execution_timeout_ms
        .map_or("no timeout".to_string(), |ms| {
            format!("timeout {} s", ms as f64 / 1000.0)
        });
    let kind = if c.load_balancer().is_some() {
        "load-balancing, "
    } else {
        ""
    };
    format!(
        "{kind}{hw}, workers {}..{}, {timeout}",
        c.workers.min, c.workers.max
    )
}

/// Prints `text` and a newline to stdout. A reader that went away (`app manifest | head`) is not
/// an error: nobody is left to read the rest.
fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("could not write to stdout: {e}");
    }
}
