//! A scenario: the traffic, what each endpoint's jobs do (their service time, their calls, how
//! often they hang or fail), the cold starts, and the variants to compare. Written in TOML or
//! JSON; every field has a default, and the defaults come from the application itself.
//!
//! ```toml
//! duration = "24h"              # simulated time during which requests arrive
//! seed = 7                      # the same seed gives the same arrivals and draws
//!
//! [traffic]
//! endpoint = "agent-orchestrator"   # default: the endpoint no other endpoint calls
//! pattern = "daily"             # constant | poisson | daily | bursts | csv
//! rate = 10.0                   # mean arrivals per second
//! peak_ratio = 4.0              # daily: busiest / quietest rate
//! peak_hour = 14.0              # daily: when the busiest moment is (hours after the start)
//! # bursts: every = "10m", burst = "30s", burst_rate = 50.0 (and `rate` between bursts)
//! # csv:    file = "arrivals.csv" (one arrival per line, in seconds from the start)
//!
//! cold_at_start = false        # true: every worker starts cold, as on the day of a deploy;
//!                               # false: each endpoint's `min` workers are ready at the start
//!
//! [cold_start]                  # from a worker's start until it takes jobs (boot and init)
//! gpu = "45s"
//! gpu_flashboot = "6s"
//! cpu = "10s"
//! cpu_flashboot = "3s"
//!
//! [endpoints.agent-orchestrator]
//! service = { p50 = "4s", p99 = "15s" }   # its own work per job (log-normal), or "2s"
//! calls = [{ to = "web-retrieval", count = 3 }, { to = "embedding-search" }]
//! hang = 0.001                  # share of jobs that hang until their execution timeout
//!                               # (from their start: a hung job makes no calls)
//! fail = 0.0                    # share of jobs that fail after their service time
//! cold_start = "60s"            # this endpoint's own (a large model to load)
//!
//! [endpoints.agent-chat]        # a load-balancing endpoint: requests go straight to a worker
//! service = { p50 = "3s", p99 = "12s" }   # a turn's time on the worker
//! turns = 6                     # each arrival is a conversation of 6 turns,
//! think = { p50 = "20s", p99 = "90s" }    # the user reading and typing between them,
//! affinity = "prefer"           # each turn naming the worker of the one before
//!                               # (any | prefer | strict | strict-resume)
//!
//! [variants]
//! scale-to-zero = { "agent-orchestrator.workers" = [0, 20] }
//! warm = { "agent-orchestrator.workers" = [3, 20] }
//! ```
//!
//! `calls` is a list of steps run one after the other; the `count` calls of a step run in
//! parallel (`parallel = false` runs them one after the other). A job runs its steps, then its
//! own service time, then ends. A failed call does not fail its caller (agents carry on with
//! what they have); a caller that ends (its timeout) cancels the calls it still waits for.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::SimulateError;

/// A duration written as text (`"90s"`, `"24h"`, `"1h 30m"`, `"250ms"`) or as seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Span(pub Duration);

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Seconds(s) if s.is_finite() && s >= 0.0 => Ok(Span(Duration::from_secs_f64(s))),
            Raw::Seconds(s) => Err(serde::de::Error::custom(format!(
                "{s} is not a duration: write seconds (a number ≥ 0) or text such as \"90s\""
            ))),
            Raw::Text(t) => humantime::parse_duration(t.trim()).map(Span).map_err(|e| {
                serde::de::Error::custom(format!(
                    "`{t}` is not a duration ({e}): write e.g. \"250ms\", \"90s\", \"24h\""
                ))
            }),
        }
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_duration(self.0))
    }
}

/// The whole scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Simulated time during which requests arrive (the run goes on until they have ended).
    #[serde(default = "default_duration")]
    pub duration: Span,
    /// The seed of every random draw.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The arrivals.
    #[serde(default)]
    pub traffic: TrafficSpec,
    /// Cold starts per hardware class.
    #[serde(default)]
    pub cold_start: ColdStarts,
    /// Whether the run starts the way a deploy does, every worker cold (`true`), rather than
    /// as any later day does, with each endpoint's `min` workers up and ready (the default).
    #[serde(default)]
    pub cold_at_start: bool,
    /// What each endpoint's jobs do; an endpoint left out gets the defaults.
    #[serde(default)]
    pub endpoints: BTreeMap<String, EndpointPlan>,
    /// Named sets of configuration overrides (`"endpoint.key" = value`), each run on the same
    /// arrivals beside the configuration as written (`configured`).
    #[serde(default)]
    pub variants: BTreeMap<String, BTreeMap<String, Value>>,
}

fn default_duration() -> Span {
    Span(Duration::from_secs(3600))
}

fn default_seed() -> u64 {
    1
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            duration: default_duration(),
            seed: default_seed(),
            traffic: TrafficSpec::default(),
            cold_start: ColdStarts::default(),
            cold_at_start: false,
            endpoints: BTreeMap::new(),
            variants: BTreeMap::new(),
        }
    }
}

/// How requests arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// Evenly spaced, `rate` per second.
    Constant,
    /// A Poisson process of `rate` per second.
    #[default]
    Poisson,
    /// A Poisson process whose rate follows the day: `rate` on average, `peak_ratio` times
    /// busier at `peak_hour` than twelve hours away.
    Daily,
    /// `rate` per second, and `burst_rate` for `burst` every `every`.
    Bursts,
    /// Arrival times read from `file`.
    Csv,
}

/// The `[traffic]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSpec {
    /// The endpoint requests go to (default: the one no endpoint calls).
    pub endpoint: Option<String>,
    /// The arrival pattern.
    #[serde(default)]
    pub pattern: Pattern,
    /// Mean arrivals per second.
    pub rate: Option<f64>,
    /// `daily`: the busiest rate over the quietest (default 3).
    pub peak_ratio: Option<f64>,
    /// `daily`: hours after the start when traffic peaks (default 14).
    pub peak_hour: Option<f64>,
    /// `bursts`: how often a burst starts.
    pub every: Option<Span>,
    /// `bursts`: how long a burst lasts.
    pub burst: Option<Span>,
    /// `bursts`: arrivals per second during a burst.
    pub burst_rate: Option<f64>,
    /// `csv`: a file with one arrival per line, in seconds from the start.
    pub file: Option<PathBuf>,
}

impl Default for TrafficSpec {
    fn default() -> Self {
        TrafficSpec {
            endpoint: None,
            pattern: Pattern::Poisson,
            rate: Some(1.0),
            peak_ratio: None,
            peak_hour: None,
            every: None,
            burst: None,
            burst_rate: None,
            file: None,
        }
    }
}

/// Cold start (boot and `init`) per hardware class.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColdStarts {
    /// A GPU worker without FlashBoot.
    #[serde(default = "ColdStarts::gpu_default")]
    pub gpu: Span,
    /// A GPU worker with FlashBoot.
    #[serde(default = "ColdStarts::gpu_flashboot_default")]
    pub gpu_flashboot: Span,
    /// A CPU worker without FlashBoot.
    #[serde(default = "ColdStarts::cpu_default")]
    pub cpu: Span,
    /// A CPU worker with FlashBoot.
    #[serde(default = "ColdStarts::cpu_flashboot_default")]
    pub cpu_flashboot: Span,
}

impl ColdStarts {
    // The seed's figures: a GPU worker's cold boot takes 20–90 s; FlashBoot resumes a snapshot
    // in seconds.
    fn gpu_default() -> Span {
        Span(Duration::from_secs(45))
    }
    fn gpu_flashboot_default() -> Span {
        Span(Duration::from_secs(6))
    }
    fn cpu_default() -> Span {
        Span(Duration::from_secs(10))
    }
    fn cpu_flashboot_default() -> Span {
        Span(Duration::from_secs(3))
    }
}

impl Default for ColdStarts {
    fn default() -> Self {
        ColdStarts {
            gpu: Self::gpu_default(),
            gpu_flashboot: Self::gpu_flashboot_default(),
            cpu: Self::cpu_default(),
            cpu_flashboot: Self::cpu_flashboot_default(),
        }
    }
}

/// What an endpoint's jobs do.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointPlan {
    /// Its own work per job (default: p50 1 s, p99 5 s).
    pub service: Option<Service>,
    /// The calls each job makes, in steps (default: one call to each declared callee, in turn).
    pub calls: Option<Vec<CallStep>>,
    /// The share of jobs that hang until their execution timeout ends them.
    #[serde(default)]
    pub hang: f64,
    /// The share of jobs that fail after their service time.
    #[serde(default)]
    pub fail: f64,
    /// Its cold start, overriding its hardware class's.
    pub cold_start: Option<Span>,
    /// A load-balancing endpoint: how many requests (turns) each arrival is, one after the
    /// other (default 1).
    pub turns: Option<u32>,
    /// A load-balancing endpoint: the pause between a turn's answer and the next turn (default
    /// 30 s).
    pub think: Option<Service>,
    /// A load-balancing endpoint: how each turn after the first names the worker that answered
    /// the one before (`X-Runpod-Worker-Id`): `prefer` (default), `strict`, `strict-resume`, or
    /// `any` (no header).
    pub affinity: Option<AffinityMode>,
}

/// How a conversation's turns pin the worker that answered the turn before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AffinityMode {
    /// No header: any worker.
    Any,
    /// That worker when it has room, else any.
    #[default]
    Prefer,
    /// Only that worker: wait while it is busy, fail when it is gone.
    Strict,
    /// Only that worker, resumed if it was scaled down.
    StrictResume,
}

/// A service time: fixed, or log-normal from its median and 99th percentile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Service {
    /// Always this long.
    Fixed(Span),
    /// Log-normal with this median and 99th percentile.
    Percentiles {
        /// The median.
        p50: Span,
        /// The 99th percentile (≥ the median).
        p99: Span,
    },
}

impl Default for Service {
    fn default() -> Self {
        Service::Percentiles {
            p50: Span(Duration::from_secs(1)),
            p99: Span(Duration::from_secs(5)),
        }
    }
}

/// One step of a job's calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallStep {
    /// The callee.
    pub to: String,
    /// How many calls.
    #[serde(default = "one")]
    pub count: u32,
    /// Whether they run at once (a fan-out) or one after the other.
    #[serde(default = "yes")]
    pub parallel: bool,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

impl Scenario {
    /// Reads a scenario: JSON when the text starts with `{`, TOML otherwise.
    pub fn parse(text: &str) -> Result<Scenario, SimulateError> {
        Scenario::parse_text(text).map_err(SimulateError::Scenario)
    }

    fn parse_text(text: &str) -> Result<Scenario, String> {
        let parsed = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            toml::from_str(text).map_err(|e| e.to_string())
        };
        // serde calls an enum's values "variants", which scenarios use for something else.
        parsed.map_err(|e| e.replace("unknown variant", "unknown value"))
    }

    /// Reads the scenario in file `path`; a relative CSV path in it is read from the file's
    /// directory.
    pub fn read(path: &std::path::Path) -> Result<Scenario, SimulateError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SimulateError::Scenario(format!("cannot read {}: {e}", path.display())))?;
        let mut s = Scenario::parse_text(&text)
            .map_err(|e| SimulateError::Scenario(format!("{}: {e}", path.display())))?;
        if let (Some(file), Some(dir)) = (&s.traffic.file, path.parent())
            && file.is_relative()
        {
            s.traffic.file = Some(dir.join(file));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_scenario_reads_with_its_defaults() {
        let s = Scenario::parse(
            r#"
            duration = "2h"
            [traffic]
            pattern = "daily"
            rate = 10
            [endpoints.orch]
            service = { p50 = "4s", p99 = "15s" }
            calls = [{ to = "search", count = 3 }, { to = "rank" }]
            hang = 0.01
            [endpoints.search]
            service = "800ms"
            [variants]
            warm = { "orch.workers" = [3, 20] }
            "#,
        )
        .unwrap();
        assert_eq!(s.duration, Span(Duration::from_secs(7200)));
        assert_eq!(s.seed, 1);
        assert_eq!(s.traffic.pattern, Pattern::Daily);
        assert_eq!(s.cold_start.gpu, Span(Duration::from_secs(45)));
        let orch = &s.endpoints["orch"];
        assert_eq!(
            orch.calls.as_ref().unwrap()[0],
            CallStep {
                to: "search".into(),
                count: 3,
                parallel: true
            }
        );
        assert_eq!(
            s.endpoints["search"].service,
            Some(Service::Fixed(Span(Duration::from_millis(800))))
        );
        assert_eq!(
            s.variants["warm"]["orch.workers"],
            serde_json::json!([3, 20])
        );
    }

    #[test]
    fn json_reads_too_and_mistakes_are_named() {
        let s = Scenario::parse(r#"{"duration": 60, "traffic": {"rate": 2}}"#).unwrap();
        assert_eq!(s.duration, Span(Duration::from_secs(60)));
        let e = Scenario::parse("durtion = \"1h\"").unwrap_err().to_string();
        assert!(e.contains("durtion"), "{e}");
        let e = Scenario::parse("duration = \"ten minutes\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a duration"), "{e}");
        let e = Scenario::parse("[traffic]\npattern = \"weekly\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("weekly"), "{e}");
    }
}
