//! Hostile input, a bounded pass in the test command (the fuzz targets in `fuzz/` run the same
//! entry points for millions of executions; see `scripts/fuzz.sh`): the attribute's
//! parse-and-validate path, `app dev`'s HTTP API (public routes, the worker job API, query
//! strings), the production worker's reading of a job-take answer, and a session's stored
//! values. Each property: no panic, no hang, no server error, a clear answer.
//!
//! Inputs are built from the vocabulary each entry point knows (keys, routes, fields, values at
//! and past their limits) mixed with arbitrary bytes, so that the checks reach past the first
//! parse error. On the real clock (the router serves on a runtime of its own).

use std::time::Duration;

use axum::http::Method;
use endpoint_tests::hostile::{self, HttpInput};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 192,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A value as the attribute might be given one.
fn attr_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("-1".to_string()),
        Just("18446744073709551616".to_string()),
        Just("1_000".to_string()),
        Just("(3, 20)".to_string()),
        Just("(20, 3)".to_string()),
        Just("()".to_string()),
        Just("[]".to_string()),
        Just("[a, b, a]".to_string()),
        Just("ANY".to_string()),
        Just("AMPERE_80".to_string()),
        Just("NVIDIA_A100_80GB_PCIe".to_string()),
        Just("\"cpu3c-2-4\"".to_string()),
        Just("\"\"".to_string()),
        Just("true".to_string()),
        Just("(name = \"w\", size = 99999999)".to_string()),
        Just(
            "(preset = LLAMA_3_3_70B, weights = int4, context = 99999999, sessions = 0)"
                .to_string()
        ),
        Just("(params_m = 0, layers = 0, kv_heads = 0, head_dim = 0)".to_string()),
        Just("(A = \"b\", C = 1)".to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-zA-Z_][a-zA-Z0-9_]{0,12}",
        "\"[^\"\\\\]{0,20}\"",
    ]
}

/// One setting: a key of the attribute (or a near miss) with a value, or a bare flag.
fn setting() -> impl Strategy<Value = String> {
    let keys: Vec<&'static str> = endpoint_config::keys::names().collect();
    let key = prop_oneof![
        proptest::sample::select(keys),
        "[a-z_]{1,14}".prop_map(|s| Box::leak(s.into_boxed_str()) as &'static str),
    ];
    (key, attr_value(), 0..4u8).prop_map(|(k, v, shape)| match shape {
        0 => k.to_string(),
        1 => format!("{k}{v}"),
        _ => format!("{k} = {v}"),
    })
}

fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("async fn f(ctx: Ctx, x: u32) -> Result<u32, String> { Ok(x) }".to_string()),
        Just("async fn f(a: i64, b: i64) -> i64 { a + b }".to_string()),
        Just("fn f(self) {}".to_string()),
        Just("async fn f<T>(x: T) -> impl Sized { x }".to_string()),
        Just("async fn f(tokens: Chunks<u32>, (a, b): (u8, u8)) {}".to_string()),
        Just("async fn f() -> Router { Router::new() }".to_string()),
        ".{0,80}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_attribute_never_panics_on_settings(
        settings in proptest::collection::vec(setting(), 0..8),
        sep in prop_oneof![Just(", "), Just(" "), Just(",,"), Just(";")],
        item in item(),
    ) {
        hostile::attribute(&settings.join(sep), &item);
    }

    #[test]
    fn the_attribute_never_panics_on_any_text(args in ".{0,200}", item in ".{0,120}") {
        hostile::attribute(&args, &item);
    }
}

/// A path of `app dev`'s API: its routes with the served endpoints, others and garbage in
/// their places (`{job}` is a job just submitted), or segments in any order.
fn path() -> impl Strategy<Value = String> {
    let endpoint = prop_oneof![
        4 => proptest::sample::select(hostile::SERVED.to_vec()).prop_map(str::to_string),
        1 => Just("nope".to_string()),
        1 => "[a-z0-9%._-]{0,12}",
    ];
    let id = prop_oneof![
        3 => Just("{job}".to_string()),
        1 => "[a-zA-Z0-9%-]{0,40}",
    ];
    let worker = "[a-z0-9%-]{0,16}";
    let route = prop_oneof![
        Just("/v2/E/run"),
        Just("/v2/E/runsync"),
        Just("/v2/E/status/I"),
        Just("/v2/E/status-sync/I"),
        Just("/v2/E/stream/I"),
        Just("/v2/E/cancel/I"),
        Just("/v2/E/retry/I"),
        Just("/v2/E/purge-queue"),
        Just("/v2/E/health"),
        Just("/_dev/jobs/E/I"),
        Just("/v2/E/job-done/W/I"),
        Just("/v2/E/job-stream/W/I"),
        Just("/v2/E/ping/W"),
        Just("/v2/E/job-stop/W"),
        Just("/v2/E/job-take/W"),
        Just("/_dev/state"),
        Just("/_dev/simulate"),
        Just("/metrics"),
        Just("/"),
        Just("/lb/E/anything"),
    ];
    let templated = (route, endpoint, id, worker)
        .prop_map(|(r, e, i, w)| r.replace('E', &e).replace('I', &i).replace('W', &w));
    let segment = prop_oneof![
        Just("v2"),
        Just("echo"),
        Just("run"),
        Just("status"),
        Just("job-done"),
        Just(".."),
        Just("%00"),
        Just("%ZZ"),
        Just(""),
    ];
    let shuffled =
        proptest::collection::vec(segment, 1..6).prop_map(|s| format!("/{}", s.join("/")));
    prop_oneof![9 => templated, 1 => shuffled]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("?wait=0".to_string()),
        Just("?wait=-5".to_string()),
        Just("?wait=1".to_string()),
        Just("?wait=abc".to_string()),
        Just("?wait=99999999999999999999".to_string()),
        Just("?batch_size=0".to_string()),
        Just("?batch_size=4294967296".to_string()),
        Just("?isStream=maybe&gpu=1".to_string()),
        "\\?[a-z=&%0-9]{0,30}",
    ]
}

/// A JSON value, nested a little.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        ".{0,16}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("input".to_string()),
                    Just("policy".to_string()),
                    Just("executionTimeout".to_string()),
                    Just("ttl".to_string()),
                    Just("lowPriority".to_string()),
                    Just("webhook".to_string()),
                    Just("output".to_string()),
                    Just("error".to_string()),
                    Just("s".to_string()),
                    Just("$chunks".to_string()),
                    Just("name".to_string()),
                    Just("times".to_string()),
                    "[a-z]{1,6}",
                ],
                inner,
                0..4,
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        json().prop_map(|v| serde_json::to_vec(&serde_json::json!({ "input": v })).unwrap()),
        (json(), any::<i64>(), any::<i64>()).prop_map(|(v, t, ttl)| {
            serde_json::to_vec(&serde_json::json!({
                "input": v, "policy": { "executionTimeout": t, "ttl": ttl }
            }))
            .unwrap()
        }),
        // Deep nesting, past serde_json's recursion limit.
        (1usize..4000)
            .prop_map(|n| format!("{{\"input\":{}{}}}", "[".repeat(n), "]".repeat(n)).into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn app_dev_answers_any_request_without_a_server_error(
        method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::PUT), Just(Method::DELETE)],
        path in path(),
        query in query(),
        body in body(),
        json in any::<bool>(),
    ) {
        let input = HttpInput { method, uri: format!("{path}{query}"), body, json };
        let _ = hostile::http(input, Duration::from_secs(1));
    }

    #[test]
    fn the_worker_reads_any_job_take_answer(body in prop_oneof![
        json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        (json(), ".{0,12}").prop_map(|(input, id)| {
            serde_json::to_vec(&serde_json::json!({ "id": id, "input": input })).unwrap()
        }),
        proptest::collection::vec((json(), any::<u32>()), 0..4).prop_map(|jobs| {
            let jobs: Vec<_> = jobs.into_iter().map(|(input, id)| serde_json::json!({
                "id": id.to_string(),
                "input": { "input": input, "$meta": { "deadline": {"at_ms": id, "ms": id} } },
            })).collect();
            serde_json::to_vec(&jobs).unwrap()
        }),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]) {
        hostile::worker_take(&body);
    }

    #[test]
    fn a_session_reads_any_stored_value(fields in proptest::collection::vec((
        prop_oneof![
            "step:[a-z]{1,6}",
            "kv:[a-z]{1,6}",
            ".{0,10}",
        ],
        prop_oneof![
            json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
            Just(br#"{"step": 1, "notes": ["a"], "score": null}"#.to_vec()),
            Just(br#"{"step": -1, "notes": "a"}"#.to_vec()),
            proptest::collection::vec(any::<u8>(), 0..32),
        ],
    ), 0..6)) {
        let (rt, _) = hostile::served();
        rt.block_on(hostile::session_values(fields));
    }
}

/// The entry points still serve a well-formed request after the hostile ones (the properties
/// above share the one runtime and router).
#[test]
fn app_dev_still_serves_after_hostile_requests() {
    for bad in [
        &b"{"[..],
        b"[[[[[[[[",
        b"\xff\xfe",
        br#"{"input": 1, "policy": {"ttl": -1}}"#,
    ] {
        let _ = hostile::http(
            HttpInput {
                method: Method::POST,
                uri: "/v2/echo/run".into(),
                body: bad.to_vec(),
                json: true,
            },
            Duration::from_secs(5),
        );
    }
    let answer = hostile::http(
        HttpInput {
            method: Method::POST,
            uri: "/v2/echo/runsync".into(),
            body: br#"{"input": {"still": "here"}}"#.to_vec(),
            json: true,
        },
        Duration::from_secs(30),
    )
    .expect("answered");
    assert_eq!(answer.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(v["output"], serde_json::json!({"still": "here"}), "{v}");
}
