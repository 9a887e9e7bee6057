//! The report of a simulation: per variant, the requests (what a user waited) and each
//! endpoint's jobs, workers and cost; printed side by side, or as JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::Variant;
use super::engine::{EndpointCounts, Outcome, RequestCounts};
use super::scenario::{Pattern, Scenario};
use super::stats::{Ends, Percentiles};
use crate::config::{EndpointConfig, Hardware, catalog};

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The application.
    pub app: String,
    /// Simulated time during which requests arrived, in seconds.
    pub duration_s: f64,
    /// The seed.
    pub seed: u64,
    /// The traffic, in words.
    pub traffic: String,
    /// The date of the catalog's price table.
    pub prices_as_of: &'static str,
    /// Endpoints whose service time the scenario left to the default (p50 1 s, p99 5 s).
    pub assumed: Vec<String>,
    /// The configuration as written, then each variant.
    pub variants: Vec<VariantReport>,
    /// Jobs simulated, over every variant.
    pub simulated_jobs: u64,
    /// Wall time of the simulation, in seconds.
    pub wall_s: f64,
}

/// One variant.
#[derive(Debug, Clone, Serialize)]
pub struct VariantReport {
    /// Its name (`configured` for the configuration as written).
    pub name: String,
    /// Its overrides.
    pub overrides: BTreeMap<String, Value>,
    /// The requests.
    pub requests: RequestReport,
    /// Each queue endpoint.
    pub endpoints: Vec<EndpointReport>,
    /// The cost of the run (every endpoint with a price), in dollars.
    pub cost: f64,
    /// The same, per 24 hours.
    pub cost_per_day: f64,
    /// Simulated time until the last job ended, in seconds.
    pub length_s: f64,
    /// Jobs that never ended (hung with no execution timeout).
    pub unfinished: u64,
    /// Samples over time.
    pub timeline: Vec<TimelineRow>,
}

/// The requests of a variant: the traffic's jobs with everything they called.
#[derive(Debug, Clone, Serialize)]
pub struct RequestReport {
    /// Requests that arrived.
    pub arrived: u64,
    /// Refused: the queue was full.
    #[serde(rename = "refused")]
    pub rejected: u64,
    /// How they ended.
    #[serde(flatten)]
    pub ends: Ends,
    /// Requests of which a job waited for a worker's cold start.
    pub met_cold_start: u64,
    /// From arrival to end.
    pub latency: Percentiles,
}

/// One endpoint in a variant.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    /// The endpoint.
    pub name: String,
    /// `workers = (min, max)`.
    pub workers: Bounds,
    /// Jobs per worker at once.
    pub concurrency: u32,
    /// The scaler, as the attribute writes it.
    pub scaler: String,
    /// A worker's cold start in the scenario, in seconds.
    pub cold_start_s: f64,
    /// Jobs submitted.
    pub jobs: u64,
    /// Refused: the queue was full.
    #[serde(rename = "refused")]
    pub rejected: u64,
    /// How they ended.
    #[serde(flatten)]
    pub ends: Ends,
    /// Jobs that waited for a worker's cold start.
    pub met_cold_start: u64,
    /// Workers started.
    pub cold_starts: u64,
    /// From submission to end.
    pub latency: Percentiles,
    /// In the queue.
    pub queue_delay: Percentiles,
    /// Workers at their peak, per state and alive in all.
    pub peak_workers: Workers<u32>,
    /// Mean workers per state over the run.
    pub mean_workers: Workers<f64>,
    /// Worker-seconds alive.
    pub worker_seconds: f64,
    /// Of those, the seconds billed at the active price (the `min` workers, all along).
    pub active_seconds: f64,
    /// Of those, the seconds billed at the flex price (every worker above `min`).
    pub flex_seconds: f64,
    /// The unit price: what a worker is priced as.
    pub price: Option<String>,
    /// Dollars: active workers all the time, flex workers while alive.
    pub cost: Option<f64>,
}

/// `workers = (min, max)`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Bounds {
    /// Always up (priced as active workers).
    pub min: u32,
    /// At most.
    pub max: u32,
}

/// Workers by state.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Workers<T> {
    /// Cold-starting.
    pub starting: T,
    /// Ready, running no job.
    pub idle: T,
    /// Running jobs.
    pub running: T,
    /// Alive in all (for peaks: the most at once, not the sum of the states' peaks).
    pub alive: T,
}

/// One endpoint at one moment of the timeline.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EndpointSample {
    /// Workers cold-starting.
    pub starting: u32,
    /// Workers ready and idle.
    pub idle: u32,
    /// Workers running jobs.
    pub running: u32,
    /// Jobs queued.
    pub queued: u32,
}

/// One sample of a variant's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineRow {
    /// Seconds from the start.
    pub at_s: f64,
    /// Per endpoint (in the report's order): its workers and queue then.
    pub endpoints: Vec<EndpointSample>,
    /// Requests that ended in this sample's window, and their p50 and p95 latency in ms.
    pub ended: u64,
    /// The median of those.
    pub p50_ms: f64,
    /// The 95th percentile of those.
    pub p95_ms: f64,
}

/// A worker's price per second, active and flex, and what it is priced as: a GPU endpoint at
/// its first pool with a price (the one it gets when that pool has capacity), times its GPUs;
/// a CPU endpoint at its flavor's vCPUs.
pub fn unit_price(c: &EndpointConfig) -> Option<(f64, f64, String)> {
    match &c.hardware {
        Hardware::Gpu { count, .. } => c.gpu_pools().into_iter().find_map(|pool| {
            let p = catalog::price(pool)?;
            let n = f64::from(*count);
            Some((
                p.active_per_s * n,
                p.flex_per_s * n,
                format!("{count}× {pool}"),
            ))
        }),
        Hardware::Cpu { flavor } => {
            let f = catalog::cpu_flavor(flavor)?;
            let p = catalog::price(f.family())?;
            let v = f64::from(f.vcpu);
            Some((
                p.active_per_s * v,
                p.flex_per_s * v,
                format!("{flavor} ({} vCPU)", f.vcpu),
            ))
        }
    }
}

fn scaler(c: &EndpointConfig) -> String {
    match c.scaler {
        crate::config::Scaler::QueueDelay(s) => format!("queue_delay({s})"),
        crate::config::Scaler::RequestCount(n) => format!("request_count({n})"),
    }
}

fn endpoint(
    c: &EndpointConfig,
    n: EndpointCounts,
    cold_start: Duration,
    length: f64,
) -> EndpointReport {
    let w = &n.workers;
    let price = unit_price(c);
    let cost = price.as_ref().map(|(active, flex, _)| {
        active * f64::from(c.workers.min) * length + flex * w.flex_seconds
    });
    EndpointReport {
        name: c.name.to_string(),
        workers: Bounds {
            min: c.workers.min,
            max: c.workers.max,
        },
        concurrency: c.concurrency,
        scaler: scaler(c),
        cold_start_s: cold_start.as_secs_f64(),
        jobs: n.jobs,
        rejected: n.rejected,
        ends: n.ends,
        met_cold_start: n.met_cold_start,
        cold_starts: n.cold_starts,
        latency: n.latency.summary(),
        queue_delay: n.queue_delay.summary(),
        peak_workers: Workers {
            starting: w.peak[0],
            idle: w.peak[1],
            running: w.peak[2],
            alive: w.peak_alive,
        },
        mean_workers: {
            let m = w
                .seconds
                .map(|s| if length > 0.0 { s / length } else { 0.0 });
            Workers {
                starting: m[0],
                idle: m[1],
                running: m[2],
                alive: m.iter().sum(),
            }
        },
        worker_seconds: w.seconds.iter().sum(),
        active_seconds: f64::from(c.workers.min) * length,
        flex_seconds: w.flex_seconds,
        price: price.map(|(a, f, unit)| {
            format!(
                "{unit}: ${:.4}/h active, ${:.4}/h flex",
                a * 3600.0,
                f * 3600.0
            )
        }),
        cost,
    }
}

fn requests(r: RequestCounts) -> RequestReport {
    RequestReport {
        arrived: r.arrived,
        rejected: r.rejected,
        ends: r.ends,
        met_cold_start: r.met_cold_start,
        latency: r.latency.summary(),
    }
}

fn traffic(s: &Scenario, top: &str) -> String {
    let t = &s.traffic;
    let rate = t.rate.unwrap_or(0.0);
    let what = match t.pattern {
        Pattern::Constant => format!("constant {rate}/s"),
        Pattern::Poisson => format!("Poisson {rate}/s"),
        Pattern::Daily => format!(
            "daily curve, {rate}/s on average, {}× busier at hour {}",
            t.peak_ratio.unwrap_or(3.0),
            t.peak_hour.unwrap_or(14.0)
        ),
        Pattern::Bursts => format!(
            "{rate}/s with bursts of {}/s for {} every {}",
            t.burst_rate.unwrap_or(0.0),
            t.burst
                .map_or("?".into(), |d| humantime::format_duration(d.0).to_string()),
            t.every
                .map_or("?".into(), |d| humantime::format_duration(d.0).to_string())
        ),
        Pattern::Csv => format!(
            "arrivals from {}",
            t.file
                .as_ref()
                .map_or("?".into(), |f| f.display().to_string())
        ),
    };
    format!("{what} into {top}")
}

impl Report {
    pub(crate) fn new(
        app: &str,
        scenario: &Scenario,
        outcomes: Vec<(Variant, Outcome)>,
        wall: Duration,
    ) -> Report {
        let mut simulated_jobs = 0;
        let mut assumed = Vec::new();
        let mut top = String::new();
        let variants = outcomes
            .into_iter()
            .map(|(variant, o)| {
                let Variant {
                    name,
                    overrides,
                    configs,
                    model,
                } = variant;
                top = configs[model.top].name.to_string();
                // The defaults are worth a word only where jobs ran on them.
                assumed = configs
                    .iter()
                    .zip(&model.endpoints)
                    .zip(&o.endpoints)
                    .filter(|((_, m), n)| m.assumed && n.jobs > 0)
                    .map(|((c, _), _)| c.name.to_string())
                    .collect();
                let length = o.length.as_secs_f64();
                simulated_jobs += o.endpoints.iter().map(|e| e.jobs).sum::<u64>();
                let endpoints: Vec<EndpointReport> = configs
                    .iter()
                    .zip(o.endpoints)
                    .zip(&model.endpoints)
                    .map(|((c, n), m)| endpoint(c, n, m.cold_start, length))
                    .collect();
                let cost: f64 = endpoints.iter().filter_map(|e| e.cost).sum();
                VariantReport {
                    name,
                    overrides,
                    requests: requests(o.requests),
                    cost,
                    cost_per_day: if length > 0.0 {
                        cost * 86_400.0 / length
                    } else {
                        0.0
                    },
                    endpoints,
                    length_s: length,
                    unfinished: o.unfinished,
                    timeline: o
                        .timeline
                        .into_iter()
                        .map(|s| TimelineRow {
                            at_s: s.at.as_secs_f64(),
                            endpoints: s
                                .endpoints
                                .iter()
                                .map(|&[starting, idle, running, queued]| EndpointSample {
                                    starting,
                                    idle,
                                    running,
                                    queued,
                                })
                                .collect(),
                            ended: s.ended,
                            p50_ms: s.p50_ms,
                            p95_ms: s.p95_ms,
                        })
                        .collect(),
                }
            })
            .collect();
        Report {
            app: app.to_string(),
            duration_s: scenario.duration.0.as_secs_f64(),
            seed: scenario.seed,
            traffic: traffic(scenario, &top),
            prices_as_of: catalog::PRICES_AS_OF,
            assumed,
            variants,
            simulated_jobs,
            wall_s: wall.as_secs_f64(),
        }
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serializes")
    }

    /// The report as a table for the terminal: one column per variant.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} of {} · seed {} · prices as of {}",
            self.app,
            human(self.duration_s),
            self.traffic,
            self.seed,
            self.prices_as_of
        );
        if !self.assumed.is_empty() {
            let _ = writeln!(
                out,
                "assumed service time p50 1 s, p99 5 s for: {} (give `service` in the scenario)",
                self.assumed.join(", ")
            );
        }
        let mut t = Table::new(&self.variants);
        t.row("requests", |v| count(v.requests.arrived));
        t.row("  completed", |v| {
            share(v.requests.ends.completed, v.requests.arrived)
        });
        t.row("  timed out", |v| {
            share(v.requests.ends.timed_out, v.requests.arrived)
        });
        t.row("  failed", |v| {
            share(v.requests.ends.failed, v.requests.arrived)
        });
        t.row("  refused", |v| {
            share(v.requests.rejected, v.requests.arrived)
        });
        t.row("  met a cold start (any call)", |v| {
            share(v.requests.met_cold_start, v.requests.arrived)
        });
        t.row("  latency p50/95/99", |v| three(&v.requests.latency));
        t.row("cost", |v| format!("${:.2}", v.cost));
        t.row("  per day", |v| format!("${:.2}", v.cost_per_day));
        let names: Vec<String> = self
            .variants
            .first()
            .map(|v| v.endpoints.iter().map(|e| e.name.clone()).collect())
            .unwrap_or_default();
        for (i, name) in names.iter().enumerate() {
            t.blank();
            t.row(name, |v| {
                let e = &v.endpoints[i];
                format!("workers ({}, {})", e.workers.min, e.workers.max)
            });
            t.row("  jobs", |v| count(v.endpoints[i].jobs));
            t.row("  timed out/failed/refused", |v| {
                let e = &v.endpoints[i];
                format!(
                    "{} / {} / {}",
                    count(e.ends.timed_out),
                    count(e.ends.failed),
                    count(e.rejected)
                )
            });
            t.row("  cancelled (caller ended)", |v| {
                count(v.endpoints[i].ends.cancelled)
            });
            t.row("  cold starts", |v| count(v.endpoints[i].cold_starts));
            t.row("  jobs that met one", |v| {
                share(v.endpoints[i].met_cold_start, v.endpoints[i].jobs)
            });
            t.row("  latency p50/95/99", |v| three(&v.endpoints[i].latency));
            t.row("  queue p50/95/99", |v| three(&v.endpoints[i].queue_delay));
            t.row("  workers peak / mean", |v| {
                let e = &v.endpoints[i];
                format!("{} / {:.1}", e.peak_workers.alive, e.mean_workers.alive)
            });
            t.row("    starting/idle/running", |v| {
                let (m, p) = (&v.endpoints[i].mean_workers, &v.endpoints[i].peak_workers);
                format!(
                    "{:.1}({}) / {:.1}({}) / {:.1}({})",
                    m.starting, p.starting, m.idle, p.idle, m.running, p.running
                )
            });
            t.row("  worker-hours", |v| {
                format!("{:.1}", v.endpoints[i].worker_seconds / 3600.0)
            });
            t.row("  cost", |v| {
                v.endpoints[i]
                    .cost
                    .map_or("no price".into(), |c| format!("${c:.2}"))
            });
        }
        out.push_str(&t.render());
        let rate = self.simulated_jobs as f64 / self.wall_s.max(1e-9);
        let _ = writeln!(
            out,
            "\nsimulated {} jobs in {:.1} s of wall time ({}/s)",
            count(self.simulated_jobs),
            self.wall_s,
            count(rate as u64)
        );
        out
    }
}

/// Rows of a label and one cell per variant.
struct Table<'a> {
    variants: &'a [VariantReport],
    rows: Vec<(String, Vec<String>)>,
}

impl<'a> Table<'a> {
    fn new(variants: &'a [VariantReport]) -> Self {
        Table {
            variants,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, label: &str, cell: impl Fn(&VariantReport) -> String) {
        let cells = self.variants.iter().map(cell).collect();
        self.rows.push((label.to_string(), cells));
    }

    fn blank(&mut self) {
        self.rows
            .push((String::new(), vec![String::new(); self.variants.len()]));
    }

    fn render(&self) -> String {
        let heads: Vec<&str> = self.variants.iter().map(|v| v.name.as_str()).collect();
        let label_w = self
            .rows
            .iter()
            .map(|r| r.0.chars().count())
            .max()
            .unwrap_or(0);
        let widths: Vec<usize> = (0..heads.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r.1[i].chars().count())
                    .chain([heads[i].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let _ = write!(out, "\n{:label_w$}", "");
        for (h, w) in heads.iter().zip(&widths) {
            let _ = write!(out, "  {h:>w$}");
        }
        out.push('\n');
        for (label, cells) in &self.rows {
            let _ = write!(out, "{label:label_w$}");
            for (c, w) in cells.iter().zip(&widths) {
                let _ = write!(out, "  {c:>w$}");
            }
            out.push('\n');
        }
        out
    }
}

fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `p50 / p95 / p99`, each in its own unit.
fn three(p: &Percentiles) -> String {
    format!("{} / {} / {}", ms(p.p50_ms), ms(p.p95_ms), ms(p.p99_ms))
}

fn share(n: u64, of: u64) -> String {
    if of == 0 {
        return count(n);
    }
    format!("{} ({:.2}%)", count(n), n as f64 * 100.0 / of as f64)
}

fn ms(v: f64) -> String {
    if v < 1000.0 {
        format!("{v:.0} ms")
    } else if v < 60_000.0 {
        format!("{:.1} s", v / 1000.0)
    } else {
        format!("{:.1} min", v / 60_000.0)
    }
}

fn human(s: f64) -> String {
    if s >= 3600.0 && (s / 3600.0).fract() == 0.0 {
        format!("{} h", s / 3600.0)
    } else if s >= 60.0 && (s / 60.0).fract() == 0.0 {
        format!("{} min", s / 60.0)
    } else {
        format!("{s} s")
    }
}
