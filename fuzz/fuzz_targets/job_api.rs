//! `app dev`'s worker job API (job-done, job-stream, ping, job-stop): arbitrary workers, real or
//! made-up jobs, any body.
#![no_main]

use std::time::Duration;

use axum::http::Method;
use endpoint_tests::hostile::{self, HttpInput};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const ROUTES: &[&str] = &[
    "/v2/E/job-done/W/I",
    "/v2/E/job-stream/W/I",
    "/v2/E/ping/W",
    "/v2/E/job-stop/W",
    "/v2/E/job-take/W",
    "/v2/E/job-take-batch/W",
];

#[derive(Debug, Arbitrary)]
struct Input {
    route: u8,
    post: bool,
    endpoint: u8,
    worker: String,
    real_job: bool,
    id: String,
    query: String,
    body: Vec<u8>,
}

fuzz_target!(|i: Input| {
    let method = if i.post { Method::POST } else { Method::GET };
    let endpoint = hostile::SERVED
        .get(i.endpoint as usize)
        .copied()
        .unwrap_or("nope");
    let id = if i.real_job { "{job}" } else { &i.id };
    let route = ROUTES[i.route as usize % ROUTES.len()];
    let uri = format!(
        "{}{}",
        route
            .replace('E', endpoint)
            .replace('W', &i.worker)
            .replace('I', id),
        i.query
    );
    let input = HttpInput {
        method,
        uri,
        body: i.body,
        json: true,
    };
    let _ = hostile::http(input, Duration::from_millis(5));
});
