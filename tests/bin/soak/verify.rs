//! The soak's end: each accepted job's final state (reached, and kept), and the session steps
//! that ran again after they were finished.

use std::collections::{BTreeMap, HashSet};

use std::path::Path;
use std::time::Duration;

use crate::load::Accepted;

const FINAL: [&str; 4] = ["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"];

/// What the accepted jobs ended as.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Final statuses (and `purged` for queued jobs a purge removed), counted.
    pub finals: BTreeMap<String, u64>,
    /// Jobs that never reached a final state, with what they said last.
    pub unfinished: Vec<String>,
    /// Jobs whose final state changed when read again.
    pub changed: Vec<String>,
    /// Jobs seen in a final state whose result was gone when read again: dropped by `app
    /// dev --keep-results` (the oldest results go first), not changed.
    pub evicted: u64,
}

async fn status(http: &reqwest::Client, base: &str, a: &Accepted) -> Option<(u16, String)> {
    let r = http
        .get(format!("{base}/v2/{}/status/{}", a.endpoint, a.id))
        .send()
        .await
        .ok()?;
    let code = r.status().as_u16();
    let v: serde_json::Value = r.json().await.ok()?;
    Some((code, v["status"].as_str().unwrap_or_default().to_string()))
}

/// A job whose final state is not yet confirmed.
struct Pending {
    job: Accepted,
    /// The final state first read, and when.
    first: Option<(String, tokio::time::Instant)>,
}

/// Checks the accepted jobs while the soak runs (results are kept only for a while, as on the
/// platform): each job's first final state, then the same state read again a second later. At
/// `stop`, waits up to `drain` for the rest.
pub async fn checker(
    http: reqwest::Client,
    base: String,
    ledger: std::sync::Arc<crate::load::Ledger>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    drain: Duration,
) -> Verdict {
    let mut v = Verdict::default();
    let mut pending: Vec<Pending> = Vec::new();
    let mut cursor = 0;
    let mut deadline = None;
    loop {
        {
            let accepted = ledger.accepted.lock().await;
            pending.extend(
                accepted[cursor..]
                    .iter()
                    .cloned()
                    .map(|job| Pending { job, first: None }),
            );
            cursor = accepted.len();
        }
        let stopping = stop.load(std::sync::atomic::Ordering::Relaxed);
        if stopping && deadline.is_none() {
            deadline = Some(tokio::time::Instant::now() + drain);
        }
        if pending.is_empty() && stopping {
            break;
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            for p in &pending {
                let last = status(&http, &base, &p.job).await;
                v.unfinished
                    .push(format!("{} {}: {last:?}", p.job.endpoint, p.job.id));
            }
            break;
        }
        let mut next = Vec::with_capacity(pending.len());
        for chunk in pending.chunks_mut(64) {
            let reads = chunk.iter().map(|p| status(&http, &base, &p.job));
            let answers = futures_util::future::join_all(reads).await;
            for (p, a) in chunk.iter_mut().zip(answers) {
                if check(&mut v, p, a) {
                    next.push(Pending {
                        job: p.job.clone(),
                        first: p.first.take(),
                    });
                }
            }
        }
        pending = next;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    v
}

/// One read of a pending job; whether it stays pending.
fn check(v: &mut Verdict, p: &mut Pending, answer: Option<(u16, String)>) -> bool {
    let now = tokio::time::Instant::now();
    match (&p.first, answer) {
        (None, Some((_, s))) if FINAL.contains(&s.as_str()) => {
            p.first = Some((s, now));
            true
        }
        // A queued `nap` job that a purge removed is gone: its final state.
        (None, Some((404, _))) if p.job.endpoint == "nap" => {
            *v.finals.entry("nap purged".into()).or_default() += 1;
            false
        }
        (None, _) => true,
        (Some((f, at)), again) => {
            if now.duration_since(*at) < Duration::from_secs(1) {
                return true;
            }
            match again {
                Some((_, s)) if s == *f => {
                    *v.finals
                        .entry(format!("{} {f}", p.job.endpoint))
                        .or_default() += 1;
                }
                Some((404, _)) => {
                    *v.finals
                        .entry(format!("{} {f}", p.job.endpoint))
                        .or_default() += 1;
                    v.evicted += 1;
                }
                other => v.changed.push(format!(
                    "{} {}: {f} then {other:?}",
                    p.job.endpoint, p.job.id
                )),
            }
            false
        }
    }
}

/// `session/step` keys whose step started again after it was done.
pub fn step_reruns(log: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut done: HashSet<&str> = HashSet::new();
    let mut reruns = Vec::new();
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("done", key)) => {
                done.insert(key);
            }
            Some(("start", key)) if done.contains(key) => reruns.push(key.to_string()),
            _ => {}
        }
    }
    reruns
}

/// How many steps finished.
pub fn steps_done(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("done "))
        .map(|l| l.to_string())
        .collect::<HashSet<_>>()
        .len()
}
