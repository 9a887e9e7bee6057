//! `app dev`'s public API: any method, one of its routes (or anything) with arbitrary endpoint
//! and job ids, any query string and body.
#![no_main]

use std::time::Duration;

use axum::http::Method;
use endpoint_tests::hostile::{self, HttpInput};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const ROUTES: &[&str] = &[
    "/v2/E/run",
    "/v2/E/runsync",
    "/v2/E/status/I",
    "/v2/E/status-sync/I",
    "/v2/E/stream/I",
    "/v2/E/cancel/I",
    "/v2/E/retry/I",
    "/v2/E/purge-queue",
    "/v2/E/health",
    "/_dev/jobs/E/I",
    "/_dev/state",
    "/metrics",
    "/",
    "/lb/E/I",
];

#[derive(Debug, Arbitrary)]
struct Input {
    method: u8,
    route: u8,
    endpoint: u8,
    other_endpoint: String,
    real_job: bool,
    id: String,
    query: String,
    body: Vec<u8>,
    json: bool,
}

fuzz_target!(|i: Input| {
    let method =
        [Method::GET, Method::POST, Method::PUT, Method::DELETE][i.method as usize % 4].clone();
    let endpoint = hostile::SERVED
        .get(i.endpoint as usize)
        .map_or(i.other_endpoint.as_str(), |e| e);
    let id = if i.real_job { "{job}" } else { &i.id };
    let route = ROUTES[i.route as usize % ROUTES.len()];
    let uri = format!(
        "{}{}",
        route.replace('E', endpoint).replace('I', id),
        i.query
    );
    let input = HttpInput {
        method,
        uri,
        body: i.body,
        json: i.json,
    };
    let _ = hostile::http(input, Duration::from_millis(5));
});
