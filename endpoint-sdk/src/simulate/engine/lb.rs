//! Load-balancing endpoints in the simulation: each is the local balancer's own pure state
//! machine (`local::balancer::pool::Pool`: routing by affinity, requests in flight per worker,
//! the request-count scaler, idle retirement, resumable workers), driven as the balancer's
//! async shell drives it in `app dev`: a request routes at once or waits (counted by the
//! scaler, which is woken) until the pool changes, up to the platform's bounds (2 minutes for
//! any worker, 5 for a pinned one); the scaler ticks; a request runs on its worker (its calls,
//! then its own time) under the endpoint's cap, then frees its place. An arrival is a
//! conversation: its turns follow one another after a pause, each naming the worker that
//! answered the turn before, as a client echoing `X-Runpod-Worker-Id` does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxBuildHasher;

use super::{Engine, Ev, JobSim};
use crate::config::EndpointConfig;
use crate::local::RuntimeOptions;
use crate::local::balancer::pool::{Gone, Pool, PoolSettings, Route};
use crate::local::state::JobId;
use crate::protocol::JobStatus;
use crate::protocol::load_balancer::{Affinity, NO_WORKER_WAIT, REQUEST_CAP, STRICT_WAIT};
use crate::simulate::draw;
use crate::simulate::plan::EndpointModel;
use crate::simulate::scenario::AffinityMode;

use super::EndpointCounts;

/// One load-balancing endpoint.
pub(super) struct Lb {
    pool: Pool,
    pub(super) model: EndpointModel,
    min: u32,
    /// The longest a request runs: the endpoint's execution timeout, at most the platform's cap.
    cap: Duration,
    tick: Duration,
    tick_at: Option<Duration>,
    /// When each worker became ready (a request routed to a worker that became ready after the
    /// request arrived met its cold start).
    ready_at: HashMap<Arc<str>, Duration, FxBuildHasher>,
    /// Requests waiting for a worker, in the order they began waiting.
    waiting: Vec<JobId>,
    pub(super) counts: EndpointCounts,
}

/// A request's side of a conversation.
#[derive(Debug, Clone)]
pub(crate) struct Turn {
    /// Turns after this one.
    left: u32,
    /// The worker that answered the turn before.
    pin: Option<Arc<str>>,
    rng: fastrand::Rng,
    first: bool,
}

impl Turn {
    /// A conversation's first turn, of `turns`.
    pub(super) fn first(turns: u32, rng: fastrand::Rng) -> Turn {
        Turn {
            left: turns.saturating_sub(1),
            pin: None,
            rng,
            first: true,
        }
    }
}

/// What a request to a load-balancing endpoint carries besides a job's record.
#[derive(Debug)]
pub(crate) struct LbRequest {
    left: u32,
    affinity: Affinity,
    /// Counted among the pool's waiting requests.
    counted: bool,
    /// The next turn's generator (its think time and draws).
    next: fastrand::Rng,
}

impl Lb {
    pub(super) fn new(c: &EndpointConfig, model: EndpointModel, options: &RuntimeOptions) -> Lb {
        let settings = PoolSettings {
            min: c.workers.min,
            max: c.workers.max.max(1),
            per_worker: c.scaler.value(),
            idle_timeout: options.idle_timeout.unwrap_or(c.idle_timeout()),
            init_backoff: Duration::from_secs(5),
        };
        Lb {
            pool: Pool::new(settings),
            model,
            min: c.workers.min,
            cap: c
                .execution_timeout()
                .map_or(REQUEST_CAP, |t| t.min(REQUEST_CAP)),
            tick: options.tick,
            tick_at: None,
            ready_at: HashMap::default(),
            waiting: Vec::new(),
            counts: EndpointCounts::default(),
        }
    }

    /// Workers starting, idle and serving; requests waiting.
    pub(super) fn sample(&self) -> [u32; 4] {
        let (idle, running, starting, _, waiting) = self.pool.counts();
        [starting, idle, running, waiting]
    }

    pub(super) fn finish(&mut self, length: Duration) {
        self.counts.workers.advance(length, self.min);
    }

    /// The worker-time integrals follow the pool's counts.
    fn account(&mut self, now: Duration) {
        let (idle, running, starting, _, _) = self.pool.counts();
        self.counts
            .workers
            .set([starting, idle, running], now, self.min);
    }
}

fn affinity(mode: AffinityMode, pin: Option<&Arc<str>>) -> Affinity {
    match (mode, pin) {
        (AffinityMode::Any, _) | (_, None) => Affinity::Any,
        (AffinityMode::Prefer, Some(w)) => Affinity::Prefer(w.to_string()),
        (AffinityMode::Strict, Some(w)) => Affinity::Strict(w.to_string()),
        (AffinityMode::StrictResume, Some(w)) => Affinity::StrictResume(w.to_string()),
    }
}

impl Engine {
    /// A turn arrives at load-balancing endpoint `l`.
    pub(super) fn lb_request(&mut self, l: usize, mut turn: Turn) {
        if !turn.first {
            self.requests.arrived += 1; // a later turn: the first was counted as it arrived
        }
        self.seq += 1;
        let id: JobId = Arc::from(format!("lb-{}", self.seq));
        let next = fastrand::Rng::with_seed(turn.rng.u64(..));
        let lb = &mut self.lbs[l];
        lb.counts.jobs += 1;
        let request = LbRequest {
            left: turn.left,
            affinity: affinity(lb.model.affinity, turn.pin.as_ref()),
            counted: false,
            next,
        };
        self.jobs.insert(
            id.clone(),
            JobSim {
                ep: self.eps.len() + l,
                parent: None,
                submitted: self.now,
                worker: None,
                step: 0,
                pending: 0,
                children: Vec::new(),
                cold: false,
                rng: turn.rng,
                fails: false,
                slot: None,
                lb: Some(Box::new(request)),
            },
        );
        self.lb_route(l, &id);
    }

    /// Routes a request: to a worker, or it waits (the scaler is woken the first time), or
    /// the balancer refuses it.
    fn lb_route(&mut self, l: usize, id: &JobId) {
        let Some(job) = self.jobs.get_mut(id) else {
            return;
        };
        let Some(req) = job.lb.as_mut() else {
            return;
        };
        let lb = &mut self.lbs[l];
        match lb.pool.route_waiting(&req.affinity, req.counted) {
            Route::To(worker) => {
                if req.counted {
                    lb.pool.waiting(-1);
                    req.counted = false;
                }
                lb.waiting.retain(|w| w != id);
                let delay = self.now.saturating_sub(job.submitted);
                lb.counts.queue_delay.record(delay);
                job.cold = lb.ready_at.get(&worker).is_some_and(|r| *r > job.submitted);
                if job.cold {
                    lb.counts.met_cold_start += 1;
                }
                job.worker = Some(worker);
                lb.account(self.now);
                self.lb_begin(l, id);
                return;
            }
            Route::Refuse(_) => {
                lb.waiting.retain(|w| w != id);
                if req.counted {
                    lb.pool.waiting(-1);
                }
                lb.counts.rejected += 1;
                self.lb_refused(id);
                return;
            }
            // `strict-resume` to a worker scaled down: it starts again, and the request waits.
            Route::Resume(worker) => self.lb_start_worker(l, Some(worker)),
            Route::Wait(_) => {}
        }
        let Some(job) = self.jobs.get_mut(id) else {
            return;
        };
        let submitted = job.submitted;
        let Some(req) = job.lb.as_mut() else {
            return;
        };
        if !req.counted {
            req.counted = true;
            self.lbs[l].waiting.push(id.clone());
            self.lb_schedule_tick(l, self.now); // the shell wakes its scaler
            for limit in [NO_WORKER_WAIT, STRICT_WAIT] {
                self.at(submitted + limit, Ev::GiveUp(l, id.clone()));
            }
        }
    }

    /// A waiting request reaches a bound: when the bound of its current wait has passed, the
    /// balancer answers `no workers available` or `worker_timeout`.
    pub(super) fn lb_give_up(&mut self, l: usize, id: &JobId) {
        let Some(job) = self.jobs.get(id) else {
            return;
        };
        let (Some(req), None) = (job.lb.as_ref(), job.worker.as_ref()) else {
            return;
        };
        let waited = self.now.saturating_sub(job.submitted);
        let pinned = !matches!(req.affinity, Affinity::Any | Affinity::Prefer(_));
        let limit = if pinned { STRICT_WAIT } else { NO_WORKER_WAIT };
        if waited < limit {
            return;
        }
        let lb = &mut self.lbs[l];
        lb.waiting.retain(|w| w != id);
        lb.pool.waiting(-1);
        lb.counts.rejected += 1;
        self.lb_refused(id);
    }

    /// The balancer answered the request itself (refused it): the conversation ends there.
    fn lb_refused(&mut self, id: &JobId) {
        // Like a request a full queue refuses, it counts as refused, not in the latency; and
        // the conversation ends there (its later turns are never sent).
        if self.jobs.remove(id).is_some() {
            self.requests.rejected += 1;
        }
    }

    /// The request starts on its worker: it hangs, or makes its calls, or works.
    fn lb_begin(&mut self, l: usize, id: &JobId) {
        let i = self.eps.len() + l;
        let Some(job) = self.jobs.get_mut(id) else {
            return;
        };
        let model = &self.lbs[l].model;
        let hang = job.rng.f64() < model.hang;
        job.fails = job.rng.f64() < model.fail;
        let cap = self.lbs[l].cap;
        self.at(self.now + cap, Ev::Deadline(i, id.clone()));
        if !hang {
            self.next_step(i, id);
        }
    }

    pub(super) fn lb_work_done(&mut self, i: usize, id: &JobId) {
        let fails = self.jobs.get(id).is_some_and(|j| j.fails);
        let status = if fails {
            JobStatus::Failed
        } else {
            JobStatus::Completed
        };
        self.lb_end(i - self.eps.len(), id, status);
    }

    pub(super) fn lb_deadline(&mut self, i: usize, id: &JobId) {
        self.lb_end(i - self.eps.len(), id, JobStatus::TimedOut);
    }

    /// The request ends on its worker: its place frees, its calls are cancelled, the next turn
    /// of its conversation comes after the user's pause, and waiting requests route again.
    fn lb_end(&mut self, l: usize, id: &JobId, status: JobStatus) {
        let Some(job) = self.jobs.remove(id) else {
            return;
        };
        let Some(worker) = job.worker.clone() else {
            self.jobs.insert(id.clone(), job); // still waiting: its bound decides
            return;
        };
        let now = self.instant();
        let lb = &mut self.lbs[l];
        lb.pool.release(&worker, now);
        lb.counts.ends.count(status);
        lb.counts
            .latency
            .record(self.now.saturating_sub(job.submitted));
        lb.account(self.now);
        self.cancel_calls(&job.children);
        self.request_ended(status, job.cold, job.submitted);
        if let Some(mut req) = job.lb
            && req.left > 0
        {
            let think = draw::service(&mut req.next, &self.lbs[l].model.think);
            // A turn cut off by the cap gets the balancer's own answer, which names no worker:
            // the client has none to pin next time.
            let pin = (status != JobStatus::TimedOut).then_some(worker);
            let turn = Turn {
                left: req.left - 1,
                pin,
                rng: req.next,
                first: false,
            };
            self.between_turns += 1;
            self.at(self.now + think, Ev::Turn(l, Box::new(turn)));
        }
        self.lb_changed(l);
    }

    /// The pool changed (a worker ready or gone, a place freed): every waiting request routes
    /// again, in the order it began waiting.
    fn lb_changed(&mut self, l: usize) {
        if self.lbs[l].waiting.is_empty() {
            return;
        }
        for id in self.lbs[l].waiting.clone() {
            self.lb_route(l, &id);
        }
    }

    // ------------------------------------------------------------ workers

    pub(super) fn lb_schedule_tick(&mut self, l: usize, at: Duration) {
        if self.lbs[l].tick_at.is_some_and(|t| t <= at) {
            return;
        }
        self.lbs[l].tick_at = Some(at);
        self.at(at, Ev::LbTick(l));
    }

    /// The balancer's housekeeping: the scaler's starts and retirements.
    pub(super) fn lb_tick(&mut self, l: usize) {
        if self.lbs[l].tick_at != Some(self.now) {
            return; // replaced by an earlier one
        }
        self.lbs[l].tick_at = None;
        let now = self.instant();
        let scale = self.lbs[l].pool.scale(now);
        for _ in 0..scale.start {
            self.lb_start_worker(l, None);
        }
        let retired = !scale.retire.is_empty();
        for id in scale.retire {
            let lb = &mut self.lbs[l];
            lb.pool.stopped(&id, Gone::Retired, false, now);
            lb.ready_at.remove(&id);
        }
        self.lbs[l].account(self.now);
        if retired {
            self.lb_changed(l);
        }
        let lb = &self.lbs[l];
        let (idle, running, starting, _, waiting) = lb.pool.counts();
        if idle + running + starting + waiting > 0 || lb.min > 0 {
            let next = self.now + lb.tick;
            self.lb_schedule_tick(l, next);
        }
    }

    fn lb_start_worker(&mut self, l: usize, id: Option<Arc<str>>) {
        let id = id.unwrap_or_else(|| self.new_worker_id());
        let now = self.instant();
        let lb = &mut self.lbs[l];
        lb.pool.start(id.clone(), now);
        lb.counts.cold_starts += 1;
        lb.account(self.now);
        let ready = self.now + self.lbs[l].model.cold_start;
        self.at(ready, Ev::LbReady(l, id));
    }

    pub(super) fn lb_ready(&mut self, l: usize, worker: &Arc<str>) {
        let now = self.instant();
        let lb = &mut self.lbs[l];
        if !lb.pool.contains(worker) {
            return; // stopped while it started
        }
        lb.pool.ready(worker, now);
        lb.ready_at.insert(worker.clone(), self.now);
        lb.account(self.now);
        self.lb_changed(l);
    }

    /// The `min` workers, up and ready at the start (not counted as cold starts).
    pub(super) fn lb_warm_up(&mut self, l: usize) {
        let now = self.instant();
        for _ in 0..self.lbs[l].min {
            let id = self.new_worker_id();
            let lb = &mut self.lbs[l];
            lb.pool.start(id.clone(), now);
            lb.pool.ready(&id, now);
            lb.ready_at.insert(id, self.now);
        }
        self.lbs[l].account(self.now);
    }
}
