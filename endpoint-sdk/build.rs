//! A production image's worker code laid out together. With the `worker-only` feature (the
//! images `deploy --emit-dockerfile` builds), on x86_64 Linux with Rust's default linker
//! (rust-lld), the final link gets `layout/worker.ld`: a linker script that places the
//! functions a worker runs (listed from a profile of one by `scripts/worker-layout.sh`) in one
//! output section before the rest of the code. The kernel maps an executable's code in 64 KB
//! windows around each page a process touches: spread over the whole binary, a worker's
//! kilobytes of code made most of its megabytes resident. The functions run come first, each
//! instance of a generic one named by the file that held it in the profiled build (its crate's
//! rlib and codegen unit, or the application's own objects), since a legacy symbol name without
//! its hash names every instance; the other instances follow, in pages a worker never touches.
//! The script reaches the link as a library (`-l`), which lld reads as a linker script (GNU ld
//! does not: a build naming another linker is left as it is); a function the list does not name
//! stays where it was. `ENDPOINT_SDK_WORKER_LAYOUT=off` leaves it out.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=layout/worker.ld");
    println!("cargo:rerun-if-env-changed=ENDPOINT_SDK_WORKER_LAYOUT");
    if !wanted() {
        return;
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::copy(
        "layout/worker.ld",
        out.join("libendpoint_sdk_worker_layout.so"),
    )
    .expect("layout/worker.ld is part of the crate");
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=dylib=endpoint_sdk_worker_layout");
}

/// A worker-only build for x86_64 Linux that links with rust-lld: no linker named in Cargo's
/// configuration (`RUSTC_LINKER`) nor in the flags.
fn wanted() -> bool {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    std::env::var_os("CARGO_FEATURE_WORKER_ONLY").is_some()
        && var("TARGET") == "x86_64-unknown-linux-gnu"
        && var("ENDPOINT_SDK_WORKER_LAYOUT") != "off"
        && std::env::var_os("RUSTC_LINKER").is_none()
        && !["linker", "fuse-ld", "link-self-contained"]
            .iter()
            .any(|f| flags.contains(f))
}
