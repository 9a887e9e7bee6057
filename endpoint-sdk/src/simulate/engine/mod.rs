//! One run of one variant: each endpoint is the local runtime's own state machine
//! ([`EndpointState`], what `app dev` runs), driven in virtual time by a discrete-event loop that
//! plays the parts the async shell plays in `app dev`: the janitor's tick every 50 ms (scaling,
//! idle timeouts, execution timeouts), simulated workers that cold-start, become ready and take
//! jobs up to their concurrency, and handlers that run for their drawn service time, make their
//! calls (jobs of other endpoints, submitted as a typed call submits them) and end.
//!
//! Runs are repeatable: a request's draws (its service time, its calls' draws) come from a
//! generator seeded by the scenario's seed and the request's number, so two variants see the
//! same requests doing the same work, and worker ids are numbered.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxBuildHasher;
use serde_json::Value;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::plan::{EndpointModel, Model};
use super::stats::{Ends, Histogram, Phase, WorkerTime};
use super::traffic::Arrivals;

mod lb;
mod workers;
use crate::config::EndpointConfig;
use crate::local::state::{Effects, EndpointState, JobId, JobReport, Runner, Settings};
use crate::local::{RuntimeEvent, RuntimeOptions};
use crate::protocol::{JobFailure, JobStatus, RunRequest};

/// What one endpoint's jobs did in a run.
#[derive(Debug, Default)]
pub(crate) struct EndpointCounts {
    pub(crate) jobs: u64,
    pub(crate) rejected: u64,
    pub(crate) ends: Ends,
    /// Jobs that waited for a worker's cold start.
    pub(crate) met_cold_start: u64,
    /// Workers started.
    pub(crate) cold_starts: u64,
    /// From submission to end.
    pub(crate) latency: Histogram,
    /// In the queue.
    pub(crate) queue_delay: Histogram,
    pub(crate) workers: WorkerTime,
}

/// What the requests (the traffic's jobs, with everything they called) did.
#[derive(Debug, Default)]
pub(crate) struct RequestCounts {
    pub(crate) arrived: u64,
    pub(crate) rejected: u64,
    pub(crate) ends: Ends,
    /// Requests of which some job waited for a cold start.
    pub(crate) met_cold_start: u64,
    pub(crate) latency: Histogram,
}

/// One sample of the timeline.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    pub(crate) at: Duration,
    /// Per endpoint: workers starting, idle, running; jobs queued.
    pub(crate) endpoints: Vec<[u32; 4]>,
    /// Requests that ended since the last sample: how many, their p50 and p95 latency (ms).
    pub(crate) ended: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p95_ms: f64,
}

/// Everything a run counted.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) endpoints: Vec<EndpointCounts>,
    pub(crate) requests: RequestCounts,
    pub(crate) timeline: Vec<Sample>,
    /// From the first arrival window's start to the last job's end (at least the duration).
    pub(crate) length: Duration,
    /// Jobs still unfinished when the run stopped at its horizon (hung without a timeout).
    pub(crate) unfinished: u64,
}

#[derive(Debug, Clone)]
enum Ev {
    Arrival,
    /// A load-balancing endpoint's housekeeping (its scaler).
    LbTick(usize),
    /// A load-balancing endpoint's worker is ready.
    LbReady(usize, Arc<str>),
    /// The next turn of a conversation with a load-balancing endpoint.
    Turn(usize, Box<lb::Turn>),
    /// A request waiting for a load-balancing endpoint's worker reaches a bound.
    GiveUp(usize, JobId),
    Tick(usize),
    Ready(usize, Arc<str>),
    /// A job's own work is done.
    Work(usize, JobId),
    /// A job's execution timeout.
    Deadline(usize, JobId),
    Sample,
}

struct Scheduled {
    at: Duration,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

struct WorkerSim {
    phase: Phase,
    ready_at: Option<Duration>,
    /// Its slots (a permit per running job), once ready.
    runner: Option<Arc<Runner>>,
    /// Whether its task waits to be told of a job (it looked and had a slot left): in `app
    /// dev` it then counts as a taker waiting, and the scaler is not woken early.
    parked: bool,
    /// When it began waiting (then a sequence number): the first waiting is woken first.
    waiting: (Duration, u64),
}

struct Ep {
    state: EndpointState,
    model: EndpointModel,
    concurrency: usize,
    min: u32,
    timeout: Option<Duration>,
    workers: HashMap<Arc<str>, WorkerSim, FxBuildHasher>,
    /// When the next tick is due, if one is scheduled.
    tick_at: Option<Duration>,
    /// Wake-ups sent to the workers waiting for a job (`jobs_ready`), not yet delivered.
    notifies: u32,
    counts: EndpointCounts,
    session_version: Arc<str>,
}

struct JobSim {
    ep: usize,
    parent: Option<JobId>,
    submitted: Duration,
    worker: Option<Arc<str>>,
    step: usize,
    pending: u32,
    children: Vec<JobId>,
    cold: bool,
    rng: fastrand::Rng,
    fails: bool,
    /// The worker's slot it holds while it runs.
    slot: Option<OwnedSemaphorePermit>,
    /// A request to a load-balancing endpoint: its conversation and its wait.
    lb: Option<Box<lb::LbRequest>>,
}

/// How long a run may go on after its arrivals stop, for the jobs still running to end.
const DRAIN: Duration = Duration::from_secs(48 * 3600);

pub(crate) struct Engine {
    t0: Instant,
    now: Duration,
    tick: Duration,
    seed: u64,
    eps: Vec<Ep>,
    /// Load-balancing endpoints; an endpoint index `i ≥ eps.len()` is `lbs[i - eps.len()]`.
    lbs: Vec<lb::Lb>,
    /// Conversations between two turns.
    between_turns: u64,
    top: usize,
    warm_at_start: bool,
    events: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    jobs: HashMap<JobId, JobSim, FxBuildHasher>,
    inbox: VecDeque<(usize, RuntimeEvent)>,
    dirty: Vec<bool>,
    dirty_list: Vec<usize>,
    arrivals: Arrivals,
    /// Whether an arrival is scheduled (none once the arrivals are over).
    arriving: bool,
    arrived: u64,
    duration: Duration,
    next_worker: u64,
    requests: RequestCounts,
    sample_every: Duration,
    timeline: Vec<Sample>,
    window: Histogram,
}

impl Engine {
    /// A run of `configs` under `model`, with requests from `arrivals` into endpoint `top`.
    pub(crate) fn new(
        configs: &[EndpointConfig],
        model: &Model,
        arrivals: Arrivals,
        duration: Duration,
        seed: u64,
    ) -> Engine {
        let options = RuntimeOptions::default();
        let t0 = Instant::now();
        let queue = configs
            .iter()
            .take_while(|c| c.load_balancer().is_none())
            .count();
        let lbs: Vec<lb::Lb> = configs[queue..]
            .iter()
            .zip(&model.endpoints[queue..])
            .map(|(c, m)| lb::Lb::new(c, m.clone(), &options))
            .collect();
        let eps: Vec<Ep> = configs[..queue]
            .iter()
            .zip(&model.endpoints)
            .map(|(c, m)| Ep {
                state: EndpointState::new(Arc::new(Settings::new(c, &options, true)), t0),
                model: m.clone(),
                concurrency: c.concurrency.max(1) as usize,
                min: c.workers.min,
                timeout: c.execution_timeout(),
                workers: HashMap::default(),
                tick_at: None,
                notifies: 0,
                counts: EndpointCounts::default(),
                session_version: Arc::from(c.name.as_ref()),
            })
            .collect();
        let n = eps.len() + lbs.len();
        let sample_every = (duration / 288).max(Duration::from_secs(1));
        Engine {
            t0,
            now: Duration::ZERO,
            tick: options.tick,
            seed,
            eps,
            lbs,
            between_turns: 0,
            top: model.top,
            warm_at_start: model.warm_at_start,
            events: BinaryHeap::new(),
            seq: 0,
            jobs: HashMap::default(),
            inbox: VecDeque::new(),
            dirty: vec![false; n],
            dirty_list: Vec::new(),
            arrivals,
            arriving: false,
            arrived: 0,
            duration,
            next_worker: 0,
            requests: RequestCounts::default(),
            sample_every,
            timeline: Vec::new(),
            window: Histogram::default(),
        }
    }

    fn at(&mut self, at: Duration, ev: Ev) {
        self.seq += 1;
        self.events.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            ev,
        }));
    }

    fn instant(&self) -> Instant {
        self.t0 + self.now
    }

    /// Runs to the end: arrivals for the duration, then until every job has ended.
    pub(crate) fn run(mut self) -> Outcome {
        if let Some(first) = self.arrivals.next() {
            self.arriving = true;
            self.at(first, Ev::Arrival);
        }
        if self.warm_at_start {
            self.warm_up();
            for l in 0..self.lbs.len() {
                self.lb_warm_up(l);
            }
        }
        for i in 0..self.eps.len() {
            self.schedule_tick(i, Duration::ZERO);
        }
        for l in 0..self.lbs.len() {
            self.lb_schedule_tick(l, Duration::ZERO);
        }
        self.at(self.sample_every, Ev::Sample);
        let horizon = self.duration + DRAIN;
        while let Some(Reverse(s)) = self.events.pop() {
            if s.at > horizon {
                break;
            }
            let done = self.arrivals_over() && self.jobs.is_empty() && self.between_turns == 0;
            if done && s.at > self.duration {
                break;
            }
            self.now = s.at;
            self.handle(s.ev);
            self.settle();
        }
        self.finish()
    }

    fn arrivals_over(&self) -> bool {
        !self.arriving
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Arrival => self.arrive(),
            Ev::Tick(i) => self.tick(i),
            Ev::Ready(i, worker) => self.ready(i, worker),
            Ev::Work(i, job) if i >= self.eps.len() => self.lb_work_done(i, &job),
            Ev::Deadline(i, job) if i >= self.eps.len() => self.lb_deadline(i, &job),
            Ev::Work(i, job) => self.work_done(i, &job),
            Ev::Deadline(i, job) => self.deadline(i, &job),
            Ev::LbTick(l) => self.lb_tick(l),
            Ev::LbReady(l, worker) => self.lb_ready(l, &worker),
            Ev::Turn(l, turn) => {
                self.between_turns -= 1;
                self.lb_request(l, *turn);
            }
            Ev::GiveUp(l, job) => self.lb_give_up(l, &job),
            Ev::Sample => self.sample(),
        }
    }

    // ---------------------------------------------------------------- arrivals and calls

    fn arrive(&mut self) {
        let index = self.arrived;
        self.arrived += 1;
        self.requests.arrived += 1;
        let rng = fastrand::Rng::with_seed(mix(self.seed, index));
        if self.top >= self.eps.len() {
            let l = self.top - self.eps.len();
            let turns = self.lbs[l].model.turns;
            self.lb_request(l, lb::Turn::first(turns, rng));
        } else if self.submit(self.top, None, rng).is_none() {
            self.requests.rejected += 1;
        }
        match self.arrivals.next() {
            Some(next) => self.at(next, Ev::Arrival),
            None => self.arriving = false,
        }
    }

    /// Submits a job to endpoint `i` (a call of `parent`, or a request); `None` when the queue
    /// is full.
    fn submit(&mut self, i: usize, parent: Option<JobId>, rng: fastrand::Rng) -> Option<JobId> {
        let now = self.instant();
        let mut fx = Effects::new(true, true);
        // A call is a `/runsync` job that starts on a free slot at once when nothing is queued
        // before it, as an in-process call does in `app dev`.
        let sync = parent.is_some();
        let ep = &mut self.eps[i];
        ep.counts.jobs += 1;
        let (id, slot) =
            match ep
                .state
                .enqueue(now, RunRequest::from(Value::Null), sync, sync, &mut fx)
            {
                Ok((id, direct)) => (id, direct.map(|d| d.slot)),
                Err(_) => {
                    ep.counts.rejected += 1;
                    return None;
                }
            };
        self.jobs.insert(
            id.clone(),
            JobSim {
                ep: i,
                parent,
                submitted: self.now,
                worker: None,
                step: 0,
                pending: 0,
                children: Vec::new(),
                cold: false,
                rng,
                fails: false,
                slot,
                lb: None,
            },
        );
        if self.eps[i].tick_at.is_none() {
            self.schedule_tick(i, self.now);
        }
        self.absorb(i, fx);
        self.mark(i);
        Some(id)
    }

    /// The job starts on its worker: it hangs, or makes its first step of calls, or works.
    fn begin(&mut self, i: usize, id: &JobId) {
        let hang = {
            let model = &self.eps[i].model;
            let Some(job) = self.jobs.get_mut(id) else {
                return;
            };
            let hang = job.rng.f64() < model.hang;
            job.fails = job.rng.f64() < model.fail;
            hang
        };
        if let Some(t) = self.eps[i].timeout {
            self.at(self.now + t, Ev::Deadline(i, id.clone()));
        }
        if !hang {
            self.next_step(i, id);
        }
    }

    /// Runs the job's next step of calls, or, after the last, its own work.
    fn next_step(&mut self, i: usize, id: &JobId) {
        loop {
            let Some(job) = self.jobs.get_mut(id) else {
                return;
            };
            let nq = self.eps.len();
            let model = if i < nq {
                &self.eps[i].model
            } else {
                &self.lbs[i - nq].model
            };
            let Some(step) = model.steps.get(job.step).copied() else {
                let service = super::draw::service(&mut job.rng, &model.service);
                self.at(self.now + service, Ev::Work(i, id.clone()));
                return;
            };
            job.step += 1;
            let seeds: Vec<u64> = (0..step.count).map(|_| job.rng.u64(..)).collect();
            let mut issued = Vec::new();
            for seed in seeds {
                if let Some(child) =
                    self.submit(step.to, Some(id.clone()), fastrand::Rng::with_seed(seed))
                {
                    issued.push(child);
                }
            }
            let job = self.jobs.get_mut(id).expect("present above");
            job.pending += issued.len() as u32;
            job.children.extend(issued);
            if job.pending > 0 {
                return;
            }
        }
    }

    fn work_done(&mut self, i: usize, id: &JobId) {
        let Some(job) = self.jobs.get(id) else {
            return;
        };
        let Some(worker) = job.worker.clone() else {
            return;
        };
        let report = if job.fails {
            JobReport::Error(
                JobFailure::new(crate::protocol::FailureKind::Handler, "failed (simulated)")
                    .to_wire(),
            )
        } else {
            JobReport::Output(Value::Null)
        };
        self.complete(i, &worker, id, report);
    }

    fn deadline(&mut self, i: usize, id: &JobId) {
        let Some(worker) = self.jobs.get(id).and_then(|j| j.worker.clone()) else {
            return;
        };
        let error = JobFailure::timed_out(self.eps[i].timeout).to_wire();
        self.complete(i, &worker, id, JobReport::TimedOut(error));
    }

    fn complete(&mut self, i: usize, worker: &str, id: &JobId, report: JobReport) {
        let now = self.instant();
        let mut fx = Effects::new(true, true);
        self.eps[i]
            .state
            .complete(worker, id, report, false, now, &mut fx);
        self.absorb(i, fx);
    }

    // ---------------------------------------------------------------- the state machine's events

    fn absorb(&mut self, i: usize, fx: Effects) {
        self.inbox.extend(fx.events.into_iter().map(|e| (i, e)));
        if fx.jobs_ready {
            self.eps[i].notifies += 1;
            self.mark(i);
        }
        // As `app dev`'s shell: the scaler is woken early only when no worker waits for a job.
        if fx.wake_scaler && !self.eps[i].workers.values().any(|w| w.parked) {
            self.schedule_tick(i, self.now);
        }
    }

    fn mark(&mut self, i: usize) {
        if !self.dirty[i] {
            self.dirty[i] = true;
            self.dirty_list.push(i);
        }
    }

    /// Handles the events the transitions made and lets workers take jobs, until nothing more
    /// happens at this instant.
    fn settle(&mut self) {
        loop {
            if let Some((i, e)) = self.inbox.pop_front() {
                self.event(i, e);
                continue;
            }
            let Some(i) = self.dirty_list.pop() else {
                return;
            };
            self.dirty[i] = false;
            self.dispatch(i);
        }
    }

    fn event(&mut self, i: usize, e: RuntimeEvent) {
        let now = self.now;
        match e {
            RuntimeEvent::WorkerStarting { worker, .. } => {
                let ep = &mut self.eps[i];
                ep.workers.insert(
                    worker,
                    WorkerSim {
                        phase: Phase::Starting,
                        ready_at: None,
                        runner: None,
                        parked: false,
                        waiting: (now, 0),
                    },
                );
                ep.counts
                    .workers
                    .change(None, Some(Phase::Starting), now, ep.min);
            }
            RuntimeEvent::WorkerReady { worker, .. } => {
                let ep = &mut self.eps[i];
                if let Some(w) = ep.workers.get_mut(&worker) {
                    w.phase = Phase::Idle;
                    w.ready_at = Some(now);
                    ep.counts
                        .workers
                        .change(Some(Phase::Starting), Some(Phase::Idle), now, ep.min);
                }
            }
            RuntimeEvent::WorkerStopped { worker, .. } => {
                let ep = &mut self.eps[i];
                if let Some(w) = ep.workers.remove(&worker) {
                    ep.counts.workers.change(Some(w.phase), None, now, ep.min);
                }
            }
            RuntimeEvent::JobStarted {
                job, worker, delay, ..
            } => {
                let ep = &mut self.eps[i];
                ep.counts.queue_delay.record(delay);
                let mut ready_at = None;
                if let Some(w) = ep.workers.get_mut(&worker) {
                    ready_at = w.ready_at;
                    if w.phase == Phase::Idle {
                        w.phase = Phase::Running;
                        let min = ep.min;
                        ep.counts
                            .workers
                            .change(Some(Phase::Idle), Some(Phase::Running), now, min);
                    }
                }
                let Some(j) = self.jobs.get_mut(&job) else {
                    return;
                };
                j.cold = ready_at.is_some_and(|r| r > j.submitted);
                if j.cold {
                    ep.counts.met_cold_start += 1;
                }
                j.worker = Some(worker);
                self.begin(i, &job);
            }
            RuntimeEvent::JobFinished {
                job,
                worker,
                status,
                ..
            } => self.ended(i, &job, worker, status),
            RuntimeEvent::JobQueued { .. } | RuntimeEvent::JobRequeued { .. } => {}
        }
    }

    fn ended(&mut self, i: usize, id: &JobId, worker: Option<Arc<str>>, status: JobStatus) {
        let now = self.now;
        {
            let ep = &mut self.eps[i];
            if let Some(w) = worker.as_ref()
                && ep
                    .state
                    .workers
                    .get(w)
                    .is_some_and(|r| r.running.is_empty())
                && let Some(sim) = ep.workers.get_mut(w)
                && sim.phase == Phase::Running
            {
                sim.phase = Phase::Idle;
                ep.counts
                    .workers
                    .change(Some(Phase::Running), Some(Phase::Idle), now, ep.min);
            }
        }
        self.mark(i);
        let Some(mut job) = self.jobs.remove(id) else {
            return;
        };
        // Its slot frees: a worker whose task waited for a slot looks for a job.
        drop(job.slot.take());
        if let Some(w) = &worker
            && self.eps[i].workers.get(w).is_some_and(|s| !s.parked)
        {
            self.look(i, w);
        }
        let counts = &mut self.eps[i].counts;
        counts.ends.count(status);
        counts.latency.record(now.saturating_sub(job.submitted));
        self.cancel_calls(&job.children);
        match &job.parent {
            Some(parent) => {
                let Some(p) = self.jobs.get_mut(parent) else {
                    return;
                };
                p.cold |= job.cold;
                p.children.retain(|c| c != id);
                p.pending = p.pending.saturating_sub(1);
                let (pi, go) = (p.ep, p.pending == 0 && p.worker.is_some());
                if go {
                    let parent = parent.clone();
                    self.next_step(pi, &parent);
                }
            }
            None => self.request_ended(status, job.cold, job.submitted),
        }
    }

    /// A request (a job of the traffic, with everything it called) ended.
    fn request_ended(&mut self, status: JobStatus, cold: bool, submitted: Duration) {
        let r = &mut self.requests;
        r.ends.count(status);
        if cold {
            r.met_cold_start += 1;
        }
        let latency = self.now.saturating_sub(submitted);
        r.latency.record(latency);
        self.window.record(latency);
    }

    /// A caller that ended no longer waits for its calls: they are cancelled.
    fn cancel_calls(&mut self, children: &[JobId]) {
        for child in children {
            if let Some(c) = self.jobs.get(child) {
                let ci = c.ep;
                let at = self.instant();
                let mut fx = Effects::new(true, true);
                self.eps[ci].state.cancel(child, at, &mut fx);
                self.absorb(ci, fx);
            }
        }
    }

    fn sample(&mut self) {
        let endpoints = self
            .eps
            .iter()
            .map(|ep| {
                let [s, i, r] = ep.counts.workers.now;
                [s, i, r, ep.state.queued() as u32]
            })
            .chain(self.lbs.iter().map(lb::Lb::sample))
            .collect();
        let w = std::mem::take(&mut self.window);
        self.timeline.push(Sample {
            at: self.now,
            endpoints,
            ended: w.count(),
            p50_ms: w.quantile_ms(0.5),
            p95_ms: w.quantile_ms(0.95),
        });
        let more = !self.arrivals_over()
            || !self.jobs.is_empty()
            || self.between_turns > 0
            || self.now < self.duration;
        if more {
            self.at(self.now + self.sample_every, Ev::Sample);
        }
    }

    fn finish(mut self) -> Outcome {
        let length = self.now.max(self.duration);
        for ep in &mut self.eps {
            let min = ep.min;
            ep.counts.workers.advance(length, min);
        }
        for l in &mut self.lbs {
            l.finish(length);
        }
        Outcome {
            unfinished: self.jobs.len() as u64,
            endpoints: self
                .eps
                .into_iter()
                .map(|e| e.counts)
                .chain(self.lbs.into_iter().map(|l| l.counts))
                .collect(),
            requests: self.requests,
            timeline: self.timeline,
            length,
        }
    }
}

/// A request's own seed, from the scenario's and its number (SplitMix64's finalizer).
pub(crate) fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
