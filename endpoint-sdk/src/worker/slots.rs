//! The jobs on this worker: their stop tokens, how many of their handlers run (what the
//! endpoint's `concurrency` bounds), and a signal when a handler's slot frees. A job whose
//! handler has returned stays until its result is posted (the heartbeat names it, SIGTERM
//! waits for it), but its slot is free: the next job is taken while the result is posted.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::heartbeat::RunningIds;

/// How many ids of jobs asked to stop before this worker knew them are remembered. A stop can
/// overtake the job-take answer that hands the job over (they travel on separate requests);
/// the job is then stopped the moment it arrives. Ids are unique, so a bounded memory suffices.
const EARLY_STOPS: usize = 1024;

/// The jobs running on this worker: their stop tokens, and a signal when a slot frees.
#[derive(Default)]
pub(super) struct Slots {
    state: Mutex<State>,
    pub(super) freed: Notify,
    pub(super) ids: Arc<RunningIds>,
}

#[derive(Default)]
struct State {
    jobs: HashMap<String, CancellationToken>,
    /// Jobs whose handler has not returned yet.
    handlers: usize,
    /// Ids the platform asked to stop before this worker took them, oldest first.
    stopped_early: VecDeque<String>,
}

impl Slots {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Jobs on this worker, their results posted or not.
    pub(super) fn len(&self) -> usize {
        self.state().jobs.len()
    }

    /// Jobs whose handler has not returned yet.
    pub(super) fn handlers(&self) -> usize {
        self.state().handlers
    }

    /// A job's handler returned: its slot is free for the next job.
    pub(super) fn handler_ended(&self) {
        let mut state = self.state();
        state.handlers = state.handlers.saturating_sub(1);
        drop(state);
        self.freed.notify_waiters();
    }

    /// Registers a job taken from the platform: its stop token, already cancelled if the
    /// platform asked to stop it before it arrived.
    pub(super) fn add(&self, id: &str) -> CancellationToken {
        let token = CancellationToken::new();
        let mut state = self.state();
        if let Some(i) = state.stopped_early.iter().position(|s| s == id) {
            state.stopped_early.remove(i);
            token.cancel();
        }
        state.jobs.insert(id.to_string(), token.clone());
        state.handlers += 1;
        drop(state);
        self.ids.insert(id);
        token
    }

    pub(super) fn remove(&self, id: &str) {
        self.state().jobs.remove(id);
        self.ids.remove(id);
        self.freed.notify_waiters();
    }

    /// Stops job `id`: now if it runs here, or as soon as it arrives.
    pub(super) fn stop(&self, id: &str) {
        let mut state = self.state();
        if let Some(t) = state.jobs.get(id) {
            t.cancel();
            return;
        }
        if !state.stopped_early.iter().any(|s| s == id) {
            if state.stopped_early.len() == EARLY_STOPS {
                state.stopped_early.pop_front();
            }
            state.stopped_early.push_back(id.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_that_overtakes_its_job_stops_the_job_when_it_arrives() {
        let slots = Slots::default();
        slots.stop("j1");
        assert!(slots.add("j1").is_cancelled(), "stopped on arrival");
        slots.remove("j1");
        assert!(
            !slots.add("j1").is_cancelled(),
            "an early stop is used once"
        );
        assert!(!slots.add("j2").is_cancelled());
        slots.stop("j2");
        assert!(
            slots.state().jobs["j2"].is_cancelled(),
            "a running job stops"
        );
        assert!(slots.state().stopped_early.is_empty());
    }

    #[test]
    fn a_slot_frees_when_the_handler_returns_and_the_job_leaves_when_posted() {
        let slots = Slots::default();
        slots.add("j1");
        slots.add("j2");
        assert_eq!((slots.len(), slots.handlers()), (2, 2));
        slots.handler_ended();
        assert_eq!(
            (slots.len(), slots.handlers()),
            (2, 1),
            "j1 posts its result: its slot is free, the job still here"
        );
        slots.remove("j1");
        assert_eq!((slots.len(), slots.handlers()), (1, 1));
    }

    #[test]
    fn early_stops_are_remembered_within_a_bound() {
        let slots = Slots::default();
        for i in 0..=EARLY_STOPS {
            slots.stop(&format!("j{i}"));
        }
        assert_eq!(slots.state().stopped_early.len(), EARLY_STOPS);
        assert!(!slots.add("j0").is_cancelled(), "the oldest was forgotten");
        assert!(slots.add(&format!("j{EARLY_STOPS}")).is_cancelled());
    }
}
