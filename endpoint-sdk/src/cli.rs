//! `endpoint_sdk::main()`: the subcommands of a user's binary.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::config::{EndpointConfig, Hardware};
use crate::deploy::Manifest;
use crate::local::events::LogItem;
use crate::local::{LocalRuntime, RuntimeEvent};
use crate::server::Server;
use crate::{Error, Result, registry};

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
    #[arg(long, env = crate::worker::ENDPOINT_VAR)]
    pub endpoint: Option<String>,
    /// Run this one job locally (`{"input": {...}}`) and exit.
    #[arg(long, alias = "test_input", value_name = "JSON")]
    pub test_input: Option<String>,
}

/// Options of `dev`.
#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "ENDPOINT_DEV_HOST")]
    pub host: String,
    /// Port to listen on.
    #[arg(long, short, default_value_t = 8000, env = "ENDPOINT_DEV_PORT")]
    pub port: u16,
    /// Require this API key (`Authorization: Bearer <key>`); open when unset.
    #[arg(long, env = "ENDPOINT_DEV_API_KEY")]
    pub api_key: Option<String>,
    /// Simulated cold start of each worker, in milliseconds, before its `init`.
    #[arg(long, default_value_t = 0)]
    pub cold_start_ms: u64,
    /// Run no simulated workers for this endpoint: external workers attach to its job API.
    /// Repeat for several.
    #[arg(long = "external", value_name = "ENDPOINT")]
    pub external: Vec<String>,
}

/// The application's name: the binary's file name.
pub fn app_name() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".to_string())
}

/// Logs to stderr, `RUST_LOG` overriding `info` (a no-op if the application set up its own).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let defs = registry::endpoints();
    registry::check(&defs)?;
    let command = match cli.command {
        Some(c) => c,
        None if std::env::var_os("RUNPOD_WEBHOOK_GET_JOB").is_some() => {
            Command::Worker(WorkerArgs {
                endpoint: std::env::var(crate::worker::ENDPOINT_VAR).ok(),
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
            let mut manifest = Manifest::new(app_name(), &defs)?;
            manifest.image = args.image;
            println!("{}", manifest.to_json());
            Ok(())
        }
        Command::Deploy(args) => Ok(crate::deploy::run_deploy(&defs, args).await?),
        Command::Undeploy(args) => Ok(crate::deploy::run_undeploy(&defs, args).await?),
        Command::Dev(args) => dev(args).await,
        Command::Worker(args) => worker(&defs, args).await,
    }
}

async fn worker(defs: &[crate::EndpointDef], args: WorkerArgs) -> Result<()> {
    let def = crate::worker::select(defs, args.endpoint.as_deref())?;
    let on_platform = std::env::var_os("RUNPOD_WEBHOOK_GET_JOB").is_some();
    if args.test_input.is_some() || !on_platform {
        init_logging();
        let status = crate::worker::run_test_input(&def, args.test_input.as_deref())
            .await
            .map_err(Error::Usage)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&status).expect("a status object serializes")
        );
        return match status.status {
            crate::job::JobStatus::Completed => Ok(()),
            s => Err(Error::JobFailed(format!(
                "the test job ended {s}: {}",
                status
                    .error
                    .as_deref()
                    .map(|e| crate::job::JobFailure::from_wire(e).message)
                    .unwrap_or_default()
            ))),
        };
    }
    let env = crate::worker::WorkerEnv::from_env()?;
    crate::worker::log::init(env.endpoint_id.is_some());
    crate::worker::run(def, env).await?;
    Ok(())
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
    format!(
        "{hw}, workers {}..{}, {timeout}",
        c.workers.min, c.workers.max
    )
}

async fn dev(args: DevArgs) -> Result<()> {
    init_logging();
    let mut builder = LocalRuntime::builder()
        .registry()
        .cold_start(Duration::from_millis(args.cold_start_ms));
    for name in &args.external {
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
    let log_queue = tracing::enabled!(tracing::Level::INFO).then(|| builder.log_queue());
    let runtime = builder.build().map_err(|e| Error::Usage(e.to_string()))?;
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
        println!(
            "  {:<24} POST {base}/v2/{}/run   [{}]{}",
            c.name,
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
    println!("Ctrl-C to stop.");
    let log = log_queue.map(|queue| tokio::spawn(job_log(queue)));
    let served = Server::new(runtime.clone())
        .api_key(args.api_key)
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

/// Writes one line per runtime event to stderr. Under load, lines are written in batches: after
/// a batch the log rests a moment ([`LOG_BATCH`]) while events gather, so it wakes a few dozen
/// times a second rather than once per event, and logging every job costs little.
async fn job_log(queue: std::sync::Arc<crate::local::events::LogQueue>) {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr());
    let mut batch = Vec::new();
    loop {
        let dropped = queue.next_batch(&mut batch).await;
        // One time stamp per batch: a batch spans at most LOG_BATCH.
        let stamp = time_of_day();
        if dropped > 0 {
            let _ = writeln!(
                out,
                "{stamp} {dropped} runtime events were not logged (too many at once)"
            );
        }
        for item in batch.drain(..) {
            let _ = write_item(&mut out, &stamp, &item);
        }
        let _ = out.flush();
        tokio::time::sleep(LOG_BATCH).await;
    }
}

/// How long the job log rests after a batch: the most a line is late.
const LOG_BATCH: std::time::Duration = std::time::Duration::from_millis(25);

/// The time of day (UTC) for log lines.
fn time_of_day() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let s = t.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        t.subsec_millis()
    )
}

/// Writes the log line of `item` (if it has one), after `stamp`.
fn write_item(out: &mut impl std::io::Write, stamp: &str, item: &LogItem) -> std::io::Result<()> {
    match item {
        LogItem::Event(e) => write_event(out, stamp, e),
        LogItem::JobFinished(f) => {
            write!(
                out,
                "{stamp} [{}] job {} on worker {}: {}, queued {} ms, ran {} ms",
                f.endpoint,
                f.job,
                f.worker.as_deref().unwrap_or("-"),
                f.status,
                f.delay.as_millis(),
                f.execution.as_millis()
            )?;
            match &f.error {
                Some(err) => writeln!(out, ": {}", crate::job::JobFailure::from_wire(err)),
                None => writeln!(out),
            }
        }
    }
}

/// Writes the log line of an event (if it has one), after `stamp`.
fn write_event(
    out: &mut impl std::io::Write,
    stamp: &str,
    e: &RuntimeEvent,
) -> std::io::Result<()> {
    match e {
        RuntimeEvent::WorkerStarting { endpoint, worker } => {
            writeln!(out, "{stamp} [{endpoint}] worker {worker} starting")
        }
        RuntimeEvent::WorkerReady {
            endpoint,
            worker,
            startup,
            external,
        } => {
            if *external {
                writeln!(
                    out,
                    "{stamp} [{endpoint}] external worker {worker} attached"
                )
            } else {
                writeln!(
                    out,
                    "{stamp} [{endpoint}] worker {worker} ready after {startup:?}"
                )
            }
        }
        RuntimeEvent::WorkerStopped {
            endpoint,
            worker,
            reason,
        } => writeln!(
            out,
            "{stamp} [{endpoint}] worker {worker} stopped: {reason:?}"
        ),
        RuntimeEvent::JobRequeued {
            endpoint,
            job,
            worker,
        } => writeln!(
            out,
            "{stamp} [{endpoint}] job {job} requeued: worker {worker} was lost"
        ),
        // A job's end reaches the log as a `LogItem::JobFinished` (see `write_item`); queued and
        // started jobs have no line of their own.
        RuntimeEvent::JobQueued { .. }
        | RuntimeEvent::JobStarted { .. }
        | RuntimeEvent::JobFinished { .. } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{FailureKind, JobFailure, JobStatus};
    use crate::local::events::FinishedJob;
    use std::time::Duration;

    fn line(item: LogItem) -> String {
        let mut out = Vec::new();
        write_item(&mut out, "12:00:00.000", &item).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_dev_log_has_one_line_per_finished_job_with_its_error() {
        let ok = line(LogItem::JobFinished(FinishedJob {
            endpoint: "echo".into(),
            job: "j1".into(),
            worker: Some("w1".into()),
            status: JobStatus::Completed,
            delay: Duration::from_millis(3),
            execution: Duration::from_millis(40),
            error: None,
        }));
        assert_eq!(
            ok,
            "12:00:00.000 [echo] job j1 on worker w1: COMPLETED, queued 3 ms, ran 40 ms\n"
        );
        let failed = line(LogItem::JobFinished(FinishedJob {
            endpoint: "echo".into(),
            job: "j2".into(),
            worker: None,
            status: JobStatus::Failed,
            delay: Duration::ZERO,
            execution: Duration::ZERO,
            error: Some(JobFailure::new(FailureKind::Input, "expected a string").to_wire()),
        }));
        assert!(
            failed.starts_with("12:00:00.000 [echo] job j2 on worker -: FAILED")
                && failed.contains("expected a string")
                && failed.ends_with('\n'),
            "{failed}"
        );
        // Queued and started jobs have no line of their own.
        assert_eq!(
            line(LogItem::Event(RuntimeEvent::JobQueued {
                endpoint: "echo".into(),
                job: "j3".into(),
                execution_timeout: None,
                trace_id: "j3".into(),
            })),
            ""
        );
    }
}
