//! The order in which [`validate`] reports: one problem from every family of rules in one spec,
//! in the order the compiler shows them (the UI snapshots compare that order exactly). Tests
//! only; no rule lives here.

use super::support::testing::{int, name, run, spec};
use super::validate;
use crate::spec::{NameList, ScalerSpec, Spanned, VolumeSpec, WorkersSpec};

#[test]
fn every_family_reports_in_the_order_of_validate() {
    let mut s = spec();
    s.allow = vec![name("bogus", 1)];
    s.name = Some(name("bad-fb", 2));
    s.workers = Some(WorkersSpec {
        min: Some(int(5, 3)),
        max: int(2, 4),
        span: 5,
    });
    s.gpu = Some(NameList {
        items: ["ADA_24", "AMPERE_80", "ADA_48_PRO", "AMPERE_16"]
            .iter()
            .map(|n| name(n, 6))
            .collect(),
        is_list: true,
        span: 7,
    });
    s.datacenter = Some(NameList {
        items: vec![name("NOWHERE", 8)],
        is_list: false,
        span: 8,
    });
    s.volumes = vec![VolumeSpec {
        name: Some(name("", 9)),
        size: None,
        datacenter: Some(name("EU_RO_1", 10)),
        span: 11,
    }];
    s.env = vec![(name("9X", 12), name("x", 13))];
    s.idle_timeout = Some(int(0, 14));
    s.execution_timeout_ms = Some(int(1_000, 15));
    s.concurrency = Some(int(0, 16));
    s.scaler = Some(ScalerSpec {
        kind: name("request_count", 17),
        value: int(0, 18),
        span: 19,
    });
    s.min_vram_gb = Some(int(40, 20));
    s.interactive = Some(Spanned::new(true, 21));
    s.calls = vec![name("a", 22), name("a", 23)];
    s.max_steps = Some(int(0, 24));

    let (_, problems) = run(|d| validate(&s, d));
    let got: Vec<(u32, &str)> = problems
        .iter()
        .map(|p| (p.span, p.message.split(':').next().unwrap_or_default()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "unknown rule `bogus` in `allow(..)`"),
            (2, "`bad-fb` is not a valid endpoint name"),
            (3, "workers min (5) cannot exceed max (2)"),
            (
                6,
                "a GPU priority list has at most 3 entries; this one has 4"
            ),
            (8, "unknown data center `NOWHERE`"),
            (
                9,
                "a network volume's name must not be empty or whitespace-only"
            ),
            (12, "`9X` is not a valid environment variable name"),
            (
                14,
                "`idle_timeout` cannot be combined with `scaler = request_count(..)`"
            ),
            (14, "`idle_timeout = 0` is out of range"),
            (15, "`execution_timeout_ms = 1_000` is out of range"),
            (16, "`concurrency = 0`"),
            (18, "scaler value 0 must be at least 1"),
            (
                20,
                "`min_vram_gb = 40`, but this selection can land on NVIDIA RTX A4000 with 16 GB"
            ),
            (
                7,
                "the platform only falls back along a GPU priority list when max workers ≥ 5; with max = 1 every worker waits for `ADA_24`"
            ),
            (
                3,
                "an interactive endpoint with a worker minimum of 0 makes its first user wait for a cold start (often 20–90 s on a GPU)"
            ),
            (23, "`a` is listed twice in `calls`"),
            (24, "`max_steps = 0` must be at least 1"),
        ]
    );
}
