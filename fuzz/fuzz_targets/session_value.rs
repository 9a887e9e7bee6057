//! A session whose store holds arbitrary fields and bytes, read back as a handler would.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|fields: Vec<(String, Vec<u8>)>| {
    let (rt, _) = endpoint_tests::hostile::served();
    rt.block_on(endpoint_tests::hostile::session_values(fields));
});
