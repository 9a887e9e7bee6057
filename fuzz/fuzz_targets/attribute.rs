//! `#[endpoint(..)]`'s parse-and-validate path on arbitrary arguments and items.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, String)| {
    endpoint_tests::hostile::attribute(&input.0, &input.1);
});
