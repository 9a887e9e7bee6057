//! The production worker's reading of a job-take answer from the platform.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    endpoint_tests::hostile::worker_take(data);
});
