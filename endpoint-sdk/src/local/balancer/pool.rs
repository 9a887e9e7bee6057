//! One load-balancing endpoint's workers as the balancer sees them: a pure state machine (no
//! tasks, sockets or clock reads; `now` is given). It routes each request by its affinity
//! (`protocol::load_balancer::Affinity`), counts requests in flight per worker, and says which
//! workers to start (the request-count scaler: `ceil((in flight + waiting) / N)`, between the
//! endpoint's minimum and maximum) and which to retire (idle past the idle timeout, above the
//! minimum). Workers that stopped are remembered, so a pinned request learns whether its
//! worker was scaled down (resumable) or is gone for good.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::protocol::load_balancer::{Affinity, BalancerError};

/// How many stopped workers are remembered for pinned requests.
const REMEMBERED: usize = 1024;

/// The pool's settings, from the endpoint's config.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolSettings {
    pub(crate) min: u32,
    pub(crate) max: u32,
    /// The scaler's value: requests in flight one worker is given before another is added,
    /// and a worker's capacity for affinity.
    pub(crate) per_worker: u32,
    pub(crate) idle_timeout: Duration,
    /// How long after a failed `init` the next worker starts.
    pub(crate) init_backoff: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Starting,
    Ready,
}

#[derive(Debug)]
struct Slot {
    phase: Phase,
    in_flight: u32,
    idle_since: Instant,
    /// The order it started in: among equally loaded workers the one up longest is chosen,
    /// so that the choice never depends on the workers' random ids.
    order: u64,
}

/// Why a worker is no longer in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gone {
    /// Scaled down while idle: `strict-resume` brings it back (with a fresh state).
    Retired,
    /// Killed, failed or shut down: no request reaches it again.
    Terminated,
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// To this worker; its request is counted in flight until [`Pool::release`].
    To(Arc<str>),
    /// Nowhere yet: wait until the pool changes (a worker ready, a request released), up to
    /// the bound that applies.
    Wait(Bound),
    /// Start this retired worker again (`strict-resume`), then wait for it.
    Resume(Arc<str>),
    /// The balancer answers itself.
    Refuse(BalancerError),
}

/// How long a request may wait, and what it gets when the wait runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// For any worker to be ready: then `no workers available`.
    AnyWorker,
    /// For its pinned worker to have room: then `worker_timeout`.
    PinnedWorker,
}

/// What the scaler wants done.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scale {
    /// How many workers to start.
    pub(crate) start: u32,
    /// Workers to retire (idle past the idle timeout, above the minimum).
    pub(crate) retire: Vec<Arc<str>>,
}

/// One load-balancing endpoint's workers.
#[derive(Debug)]
pub(crate) struct Pool {
    settings: PoolSettings,
    workers: BTreeMap<Arc<str>, Slot>,
    gone: VecDeque<(Arc<str>, Gone)>,
    waiting: u32,
    no_start_before: Option<Instant>,
    started: u64,
}

impl Pool {
    pub(crate) fn new(settings: PoolSettings) -> Self {
        Pool {
            settings,
            workers: BTreeMap::new(),
            gone: VecDeque::new(),
            waiting: 0,
            no_start_before: None,
            started: 0,
        }
    }

    /// Routes a request. [`Route::To`] counts it in flight.
    pub(crate) fn route(&mut self, affinity: &Affinity) -> Route {
        let to = match affinity {
            Affinity::Any => self.any(),
            Affinity::Prefer(id) => self.with_room(id).or_else(|| self.any()),
            Affinity::Strict(id) | Affinity::StrictResume(id) => {
                if let Some(to) = self.with_room(id) {
                    Some(to)
                } else if self.workers.contains_key(id.as_str()) {
                    return Route::Wait(Bound::PinnedWorker);
                } else {
                    return match (affinity, self.gone_as(id)) {
                        // Resumed when the pool has room for it; until then it waits.
                        (Affinity::StrictResume(_), Some((name, Gone::Retired))) => {
                            if (self.workers.len() as u32) < self.settings.max {
                                Route::Resume(name)
                            } else {
                                Route::Wait(Bound::PinnedWorker)
                            }
                        }
                        _ => Route::Refuse(BalancerError::WorkerGone),
                    };
                }
            }
        };
        match to {
            Some(id) => {
                let slot = self.workers.get_mut(&id).expect("a worker just chosen");
                slot.in_flight += 1;
                Route::To(id)
            }
            None => Route::Wait(Bound::AnyWorker),
        }
    }

    /// Routes a request that waits when it finds no worker: counted among the waiting (once:
    /// `counted` says it already is) when the route is to wait.
    pub(crate) fn route_waiting(&mut self, affinity: &Affinity, counted: bool) -> Route {
        let route = self.route(affinity);
        if !counted && matches!(route, Route::Wait(_) | Route::Resume(_)) {
            self.waiting += 1;
        }
        route
    }

    /// Normal selection: the least loaded ready worker with room (of those, the one up longest); when every worker is full
    /// and the pool may grow, none (the request waits for the worker the scaler starts); at
    /// the maximum, the least loaded anyway (its server takes what it is sent).
    fn any(&self) -> Option<Arc<str>> {
        let room = self.settings.per_worker.max(1);
        let ready = || self.workers.iter().filter(|(_, s)| s.phase == Phase::Ready);
        let least = |it: &mut dyn Iterator<Item = (&Arc<str>, &Slot)>| {
            it.min_by_key(|(_, s)| (s.in_flight, s.order))
                .map(|(id, _)| id.clone())
        };
        if let Some(id) = least(&mut ready().filter(|(_, s)| s.in_flight < room)) {
            return Some(id);
        }
        if (self.workers.len() as u32) < self.settings.max {
            return None;
        }
        least(&mut ready())
    }

    /// `id`, when it is ready and has room.
    fn with_room(&self, id: &str) -> Option<Arc<str>> {
        let (name, slot) = self.workers.get_key_value(id)?;
        (slot.phase == Phase::Ready && slot.in_flight < self.settings.per_worker.max(1))
            .then(|| name.clone())
    }

    fn gone_as(&self, id: &str) -> Option<(Arc<str>, Gone)> {
        self.gone
            .iter()
            .rev()
            .find(|(g, _)| &**g == id)
            .map(|(g, how)| (g.clone(), *how))
    }

    /// A request routed to `id` has been answered (its body finished or dropped).
    pub(crate) fn release(&mut self, id: &str, now: Instant) {
        if let Some(slot) = self.workers.get_mut(id) {
            slot.in_flight = slot.in_flight.saturating_sub(1);
            if slot.in_flight == 0 {
                slot.idle_since = now;
            }
        }
    }

    /// A request starts or stops waiting for a worker (the scaler counts it).
    pub(crate) fn waiting(&mut self, delta: i32) {
        self.waiting = self.waiting.saturating_add_signed(delta);
    }

    /// Whether any request waits for a worker or for room.
    pub(crate) fn has_waiting(&self) -> bool {
        self.waiting > 0
    }

    /// Worker `id` starts (cold start and `init` follow).
    pub(crate) fn start(&mut self, id: Arc<str>, now: Instant) {
        self.gone.retain(|(g, _)| *g != id);
        self.started += 1;
        self.workers.insert(
            id,
            Slot {
                phase: Phase::Starting,
                in_flight: 0,
                idle_since: now,
                order: self.started,
            },
        );
    }

    /// Worker `id` is ready for requests.
    pub(crate) fn ready(&mut self, id: &str, now: Instant) {
        if let Some(slot) = self.workers.get_mut(id) {
            slot.phase = Phase::Ready;
            slot.idle_since = now;
        }
    }

    /// Worker `id` left the pool. After a failed `init`, no worker starts for a while.
    pub(crate) fn stopped(&mut self, id: &str, how: Gone, init_failed: bool, now: Instant) {
        if let Some((name, _)) = self.workers.remove_entry(id) {
            if self.gone.len() == REMEMBERED {
                self.gone.pop_front();
            }
            self.gone.push_back((name, how));
        }
        if init_failed {
            self.no_start_before = Some(now + self.settings.init_backoff);
        }
    }

    /// The workers the scaler wants: `ceil((in flight + waiting) / N)`, within the bounds.
    pub(crate) fn desired(&self) -> u32 {
        let demand = self.workers.values().map(|s| s.in_flight).sum::<u32>() + self.waiting;
        demand
            .div_ceil(self.settings.per_worker.max(1))
            .clamp(self.settings.min, self.settings.max)
    }

    /// What to start and retire now.
    pub(crate) fn scale(&mut self, now: Instant) -> Scale {
        let desired = self.desired();
        let alive = self.workers.len() as u32;
        let mut out = Scale::default();
        if desired > alive && self.no_start_before.is_none_or(|t| now >= t) {
            out.start = desired - alive;
        }
        let keep = desired.max(self.settings.min);
        let mut idle: Vec<(&Arc<str>, &Slot)> = self
            .workers
            .iter()
            .filter(|(_, s)| {
                s.phase == Phase::Ready
                    && s.in_flight == 0
                    && now.saturating_duration_since(s.idle_since) >= self.settings.idle_timeout
            })
            .collect();
        idle.sort_by_key(|(_, s)| s.idle_since);
        let surplus = alive.saturating_sub(keep) as usize;
        out.retire = idle
            .into_iter()
            .take(surplus)
            .map(|(id, _)| id.clone())
            .collect();
        out
    }

    /// Counts for `/health`: (ready and idle, ready and serving, starting, requests in flight,
    /// requests waiting).
    pub(crate) fn counts(&self) -> (u32, u32, u32, u32, u32) {
        let (mut idle, mut running, mut starting, mut in_flight) = (0, 0, 0, 0);
        for s in self.workers.values() {
            in_flight += s.in_flight;
            match (s.phase, s.in_flight) {
                (Phase::Starting, _) => starting += 1,
                (Phase::Ready, 0) => idle += 1,
                (Phase::Ready, _) => running += 1,
            }
        }
        (idle, running, starting, in_flight, self.waiting)
    }

    /// Whether worker `id` is in the pool (starting or ready).
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.workers.contains_key(id)
    }

    /// Every worker in the pool, by id.
    pub(crate) fn worker_ids(&self) -> Vec<Arc<str>> {
        self.workers.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PoolSettings {
        PoolSettings {
            min: 0,
            max: 3,
            per_worker: 2,
            idle_timeout: Duration::from_secs(5),
            init_backoff: Duration::from_secs(5),
        }
    }

    fn ready_pool(ids: &[&str], now: Instant) -> Pool {
        let mut p = Pool::new(settings());
        for id in ids {
            p.start((*id).into(), now);
            p.ready(id, now);
        }
        p
    }

    fn to(r: Route) -> String {
        match r {
            Route::To(id) => id.to_string(),
            other => panic!("expected a worker, got {other:?}"),
        }
    }

    #[test]
    fn any_goes_to_the_least_loaded_ready_worker_and_waits_when_none_is_ready() {
        let now = Instant::now();
        let mut p = Pool::new(settings());
        assert_eq!(p.route(&Affinity::Any), Route::Wait(Bound::AnyWorker));
        p.start("a".into(), now);
        assert_eq!(
            p.route(&Affinity::Any),
            Route::Wait(Bound::AnyWorker),
            "starting"
        );
        p.ready("a", now);
        p.start("b".into(), now);
        p.ready("b", now);
        assert_eq!(to(p.route(&Affinity::Any)), "a");
        assert_eq!(to(p.route(&Affinity::Any)), "b");
        assert_eq!(to(p.route(&Affinity::Any)), "a");
        p.release("a", now);
        p.release("a", now);
        assert_eq!(to(p.route(&Affinity::Any)), "a");
    }

    #[test]
    fn when_every_worker_is_full_a_request_waits_for_a_new_one_until_the_maximum() {
        let now = Instant::now();
        let mut p = ready_pool(&["a"], now);
        to(p.route(&Affinity::Any));
        to(p.route(&Affinity::Any));
        assert_eq!(p.route(&Affinity::Any), Route::Wait(Bound::AnyWorker));
        for id in ["b", "c"] {
            p.start(id.into(), now);
            p.ready(id, now);
            to(p.route(&Affinity::Any));
            to(p.route(&Affinity::Any));
        }
        assert_eq!(
            to(p.route(&Affinity::Any)),
            "a",
            "at the maximum: least loaded"
        );
    }

    #[test]
    fn a_soft_pin_falls_back_when_its_worker_is_full_or_unknown() {
        let now = Instant::now();
        let mut p = ready_pool(&["a", "b"], now);
        let pin = Affinity::Prefer("b".into());
        assert_eq!(to(p.route(&pin)), "b");
        assert_eq!(to(p.route(&pin)), "b");
        assert_eq!(to(p.route(&pin)), "a", "b is at capacity (2)");
        assert_eq!(to(p.route(&Affinity::Prefer("zz".into()))), "a");
    }

    #[test]
    fn a_strict_pin_waits_for_room_and_is_refused_once_its_worker_is_gone() {
        let now = Instant::now();
        let mut p = ready_pool(&["a"], now);
        let pin = Affinity::Strict("a".into());
        to(p.route(&pin));
        to(p.route(&pin));
        assert_eq!(p.route(&pin), Route::Wait(Bound::PinnedWorker));
        p.release("a", now);
        assert_eq!(to(p.route(&pin)), "a");
        p.stopped("a", Gone::Retired, false, now);
        assert_eq!(p.route(&pin), Route::Refuse(BalancerError::WorkerGone));
        assert_eq!(
            p.route(&Affinity::Strict("never".into())),
            Route::Refuse(BalancerError::WorkerGone)
        );
    }

    #[test]
    fn strict_resume_brings_back_a_retired_worker_but_not_a_terminated_one() {
        let now = Instant::now();
        let mut p = ready_pool(&["a", "b"], now);
        p.stopped("a", Gone::Retired, false, now);
        p.stopped("b", Gone::Terminated, false, now);
        assert_eq!(
            p.route(&Affinity::StrictResume("a".into())),
            Route::Resume("a".into())
        );
        assert_eq!(
            p.route(&Affinity::StrictResume("b".into())),
            Route::Refuse(BalancerError::WorkerGone)
        );
        p.start("a".into(), now);
        assert_eq!(
            p.route(&Affinity::StrictResume("a".into())),
            Route::Wait(Bound::PinnedWorker),
            "resumed, starting"
        );
    }

    #[test]
    fn the_scaler_wants_a_worker_per_n_requests_within_bounds() {
        let now = Instant::now();
        let mut p = Pool::new(settings());
        assert_eq!(p.scale(now), Scale::default(), "nothing wanted at min 0");
        p.waiting(1);
        assert_eq!(p.scale(now).start, 1);
        p.waiting(4);
        assert_eq!(p.scale(now).start, 3, "ceil(5 / 2) = 3, the max");
        p.start("a".into(), now);
        assert_eq!(p.scale(now).start, 2);
    }

    #[test]
    fn idle_workers_above_the_minimum_retire_after_the_idle_timeout() {
        let t0 = Instant::now();
        let mut p = Pool::new(PoolSettings {
            min: 1,
            ..settings()
        });
        for id in ["a", "b"] {
            p.start(id.into(), t0);
            p.ready(id, t0);
        }
        assert!(p.scale(t0 + Duration::from_secs(4)).retire.is_empty());
        let retire = p.scale(t0 + Duration::from_secs(5)).retire;
        assert_eq!(retire.len(), 1, "one stays: the minimum");
        // A worker serving a request never retires.
        let mut busy = ready_pool(&["a"], t0);
        to(busy.route(&Affinity::Any));
        assert!(busy.scale(t0 + Duration::from_secs(60)).retire.is_empty());
    }

    #[test]
    fn a_failed_init_holds_back_the_next_start() {
        let t0 = Instant::now();
        let mut p = Pool::new(settings());
        p.waiting(1);
        p.start("a".into(), t0);
        p.stopped("a", Gone::Terminated, true, t0);
        assert_eq!(p.scale(t0 + Duration::from_secs(1)).start, 0);
        assert_eq!(p.scale(t0 + Duration::from_secs(5)).start, 1);
    }

    #[test]
    fn a_worker_is_resumed_only_when_the_pool_has_room_for_it() {
        let t0 = Instant::now();
        let mut p = Pool::new(PoolSettings {
            max: 1,
            ..settings()
        });
        p.start("a".into(), t0);
        p.ready("a", t0);
        p.stopped("a", Gone::Retired, false, t0);
        p.start("b".into(), t0);
        let pinned = Affinity::StrictResume("a".into());
        assert_eq!(
            p.route(&pinned),
            Route::Wait(Bound::PinnedWorker),
            "b fills the pool"
        );
        p.stopped("b", Gone::Retired, false, t0);
        assert_eq!(p.route(&pinned), Route::Resume("a".into()));
    }
}
