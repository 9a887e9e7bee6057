//! Queue endpoints' workers in the simulation, as `app dev`'s shell runs them: the janitor's
//! ticks (the state machine's housekeeping and the scaler's starts), workers that cold-start and
//! become ready, and each worker's task looking for jobs (when ready, when a slot frees, when
//! woken: the longest waiting first; one with no free slot passes the wake-up on).

use std::sync::Arc;
use std::time::Duration;

use super::{Engine, Ev};
use crate::handler::WorkerState;
use crate::local::state::{Effects, Runner};

impl Engine {
    pub(super) fn schedule_tick(&mut self, i: usize, at: Duration) {
        if self.eps[i].tick_at.is_some_and(|t| t <= at) {
            return;
        }
        self.eps[i].tick_at = Some(at);
        self.at(at, Ev::Tick(i));
    }

    pub(super) fn tick(&mut self, i: usize) {
        if self.eps[i].tick_at != Some(self.now) {
            return; // replaced by an earlier one
        }
        self.eps[i].tick_at = None;
        let now = self.instant();
        let mut fx = Effects::new(true, true);
        let start = self.eps[i].state.tick(now, &mut fx);
        for _ in 0..start {
            let id = self.new_worker_id();
            self.eps[i].state.add_simulated(id.clone(), now, &mut fx);
            self.eps[i].counts.cold_starts += 1;
            let ready = self.now + self.eps[i].model.cold_start;
            self.at(ready, Ev::Ready(i, id));
        }
        self.absorb(i, fx);
        self.mark(i);
        let ep = &self.eps[i];
        let active = ep.state.queued() > 0 || !ep.state.workers.is_empty() || ep.min > 0;
        if active {
            self.schedule_tick(i, self.now + self.tick);
        }
    }

    pub(super) fn new_worker_id(&mut self) -> Arc<str> {
        self.next_worker += 1;
        Arc::from(format!("sim{:011}", self.next_worker))
    }

    /// Each endpoint's `min` workers, up and ready at the start (not counted as cold starts).
    pub(super) fn warm_up(&mut self) {
        for i in 0..self.eps.len() {
            for _ in 0..self.eps[i].min {
                let id = self.new_worker_id();
                let mut fx = Effects::new(true, true);
                let now = self.instant();
                self.eps[i].state.add_simulated(id.clone(), now, &mut fx);
                self.absorb(i, fx);
                self.settle();
                self.ready(i, id);
                self.settle();
            }
        }
    }

    pub(super) fn ready(&mut self, i: usize, worker: Arc<str>) {
        let now = self.instant();
        let ep = &mut self.eps[i];
        let runner = Arc::new(Runner {
            slots: Arc::new(tokio::sync::Semaphore::new(ep.concurrency)),
            state: WorkerState::empty(),
            client: None,
            worker: worker.clone(),
            session_version: ep.session_version.clone(),
        });
        if let Some(w) = ep.workers.get_mut(&worker) {
            w.runner = Some(runner.clone());
        }
        let mut fx = Effects::new(true, true);
        let startup = ep.model.cold_start;
        ep.state.worker_ready(runner, startup, now, &mut fx);
        self.absorb(i, fx);
        self.look(i, &worker);
    }

    /// Worker `worker` of endpoint `i` looks for jobs, as its task does in `app dev` when it
    /// becomes ready, when a slot it waited for frees, or when it is woken: every free slot
    /// takes a queued job in one go; with a slot left over, it waits to be woken.
    pub(super) fn look(&mut self, i: usize, worker: &Arc<str>) {
        let now = self.instant();
        let ep = &mut self.eps[i];
        let Some(runner) = ep.workers.get(worker).and_then(|w| w.runner.clone()) else {
            return;
        };
        let n = runner.slots.available_permits();
        if n > 0 && ep.state.queued() > 0 {
            let mut fx = Effects::new(true, true);
            let mut slots = runner
                .slots
                .clone()
                .try_acquire_many_owned(n as u32)
                .expect("permits counted above");
            for job in ep.state.take(worker, n, false, now, &mut fx) {
                if let Some(j) = self.jobs.get_mut(&job.id) {
                    j.slot = slots.split(1);
                }
            }
            drop(slots);
            self.absorb(i, fx);
        }
        let parked = runner.slots.available_permits() > 0;
        self.seq += 1;
        if let Some(w) = self.eps[i].workers.get_mut(worker) {
            w.parked = parked;
            w.waiting = (self.now, self.seq);
        }
    }

    /// Delivers endpoint `i`'s wake-ups: each wakes the worker that has waited longest; one
    /// with no slot free (jobs started directly took them) passes it on. A wake-up with nobody
    /// waiting is lost: whoever waits next looks first anyway.
    pub(super) fn dispatch(&mut self, i: usize) {
        while self.eps[i].notifies > 0 {
            let first = self.eps[i]
                .workers
                .iter()
                .filter(|(_, w)| w.parked)
                .min_by_key(|(_, w)| w.waiting)
                .map(|(id, _)| id.clone());
            let Some(worker) = first else {
                self.eps[i].notifies = 0;
                return;
            };
            let Some(w) = self.eps[i].workers.get_mut(&worker) else {
                return;
            };
            w.parked = false;
            if w.runner
                .as_ref()
                .is_some_and(|r| r.slots.available_permits() == 0)
            {
                continue;
            }
            self.eps[i].notifies -= 1;
            self.look(i, &worker);
        }
    }
}
