//! `app simulate [--scenario FILE]`: the application's endpoints under a scenario's traffic, in
//! virtual time; a table side by side per variant, or JSON.

use std::path::PathBuf;

use clap::Args;

use crate::simulate::{Scenario, simulate};
use crate::{Error, Result};

/// What `simulate --help` adds after the options: the scenario format in brief.
pub(crate) const AFTER_HELP: &str = "\
A scenario (TOML, or JSON) — every key optional:
  duration = \"24h\"   seed = 7   cold_at_start = false
  [traffic]  endpoint = \"..\"  pattern = constant | poisson | daily | bursts | csv
             rate = 10.0  (daily: peak_ratio, peak_hour; bursts: every, burst, burst_rate;
             csv: file, one arrival per line in seconds, relative to the scenario file)
  [cold_start]  gpu, gpu_flashboot, cpu, cpu_flashboot  (durations)
  [endpoints.NAME]  service = \"2s\" or { p50 = \"1s\", p99 = \"5s\" }
                    calls = [{ to = \"CALLEE\", count = 3, parallel = true }, ..]
                    hang = 0.01  fail = 0.0  cold_start = \"60s\"
                    a load-balancing endpoint's arrivals are conversations: turns = 6,
                    think = \"30s\", affinity = prefer | strict | strict-resume | any
  [variants]  NAME = { \"ENDPOINT.KEY\" = VALUE, .. } with KEY one of workers, concurrency,
              idle_timeout, execution_timeout(_ms), scaler, flashboot, interactive
The full format, with defaults: the README's \"Simulating a day\" section, or the docs of
endpoint_sdk::simulate::scenario.";

/// Options of `simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// The scenario (TOML or JSON); without it, Poisson traffic at 1/s for an hour into the
    /// endpoint no other calls, each endpoint working p50 1 s, p99 5 s.
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as a self-contained HTML page with latency, workers and queues
    /// over time per variant.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Override the scenario's duration (e.g. `24h`).
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
}

/// Runs `simulate`.
pub(crate) fn run(defs: &[crate::EndpointDef], args: SimulateArgs) -> Result<()> {
    let mut scenario = match &args.scenario {
        Some(path) => Scenario::read(path),
        None => Ok(Scenario::default()),
    }
    .map_err(|e| Error::Usage(e.to_string()))?;
    if let Some(d) = &args.duration {
        scenario.duration.0 = humantime::parse_duration(d)
            .map_err(|e| Error::Usage(format!("--duration {d}: {e} (write e.g. 90s, 30m, 24h)")))?;
    }
    let configs: Vec<_> = defs.iter().map(|d| d.config.clone()).collect();
    let report = simulate(&crate::deploy::app_name(), &configs, &scenario)
        .map_err(|e| Error::Usage(e.to_string()))?;
    if let Some(path) = &args.html {
        std::fs::write(path, report.to_html()).map_err(|e| {
            Error::Usage(format!(
                "--html {}: cannot write the page ({e}); give a path in a writable directory",
                path.display()
            ))
        })?;
        eprintln!("wrote {}", path.display());
    }
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}
