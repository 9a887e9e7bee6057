//! The soak's report, and its exit code.

use std::process::ExitCode;

use crate::verify::Verdict;

/// Everything the report says.
pub struct Summary<'a> {
    pub seconds: u64,
    pub requests: u64,
    pub accepted: usize,
    pub sessions: u64,
    pub steps_done: usize,
    /// `soak_chat` turns answered whole, moved to another worker, dropped mid-stream.
    pub lb: (u64, u64, u64),
    pub kills: u32,
    pub redis_restarts: u32,
    pub verdict: &'a Verdict,
    pub step_reruns: &'a [String],
    pub panics: &'a [String],
    /// (second, RSS kB, open fds) of `app dev`.
    pub samples: &'a [(u64, u64, usize)],
    pub client_failures: &'a [String],
    pub dev_alive: bool,
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Prints the report; failure when any job, step or log broke a rule.
pub fn print(s: Summary<'_>) -> ExitCode {
    println!("== soak: {} s", s.seconds);
    println!(
        "load: {} requests, {} jobs accepted by /run, {} sessions ({} steps finished); chaos: {} \
         worker kills, {} Redis restarts",
        s.requests, s.accepted, s.sessions, s.steps_done, s.kills, s.redis_restarts
    );
    println!(
        "load-balancing conversations: {} turns answered whole, {} moved to a new worker (theirs \
         had retired), {} answers dropped mid-stream by the client",
        s.lb.0, s.lb.1, s.lb.2
    );
    println!("final states of the accepted jobs:");
    for (k, n) in &s.verdict.finals {
        println!("  {k:<28} {n}");
    }
    println!(
        "  ({} of them had been dropped by --keep-results when read the second time)",
        s.verdict.evicted
    );
    println!("app dev over the run (second: RSS, open fds):");
    let every = (s.samples.len() / 12).max(1);
    for (t, rss, fds) in s.samples.iter().step_by(every) {
        println!("  {t:>5} s  {:>6} MB  {fds:>5} fds", rss / 1024);
    }
    // Flat after warm-up: the last quarter's medians against the second quarter's.
    let q = s.samples.len() / 4;
    if q > 0 {
        let part = |a: usize, b: usize, f: fn(&(u64, u64, usize)) -> u64| {
            median(s.samples[a..b].iter().map(f).collect())
        };
        let (rss2, rss4) = (
            part(q, 2 * q, |x| x.1),
            part(3 * q, s.samples.len(), |x| x.1),
        );
        let (fd2, fd4) = (
            part(q, 2 * q, |x| x.2 as u64),
            part(3 * q, s.samples.len(), |x| x.2 as u64),
        );
        println!(
            "after warm-up (2nd quarter → last quarter, medians): RSS {} → {} MB ({:.2}×), fds {fd2} → {fd4}",
            rss2 / 1024,
            rss4 / 1024,
            rss4 as f64 / rss2.max(1) as f64
        );
    }
    let mut broken = Vec::new();
    let mut list = |what: &str, items: &[String]| {
        if !items.is_empty() {
            broken.push(format!(
                "{what} ({}):\n    {}",
                items.len(),
                items
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n    ")
            ));
        }
    };
    list(
        "jobs that never reached a final state",
        &s.verdict.unfinished,
    );
    list("jobs whose final state changed", &s.verdict.changed);
    list("finished session steps that ran again", s.step_reruns);
    list("panics in the logs", s.panics);
    list("wrong answers seen by clients", s.client_failures);
    if !s.dev_alive {
        broken.push("app dev died".into());
    }
    if broken.is_empty() {
        println!(
            "OK: every accepted job reached one final state and kept it; no finished step ran again; no panic"
        );
        ExitCode::SUCCESS
    } else {
        for b in &broken {
            println!("BROKEN: {b}");
        }
        ExitCode::FAILURE
    }
}
