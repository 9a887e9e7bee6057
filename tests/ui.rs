//! The `#[endpoint(...)]` attribute's UI tests: programs that must compile (`ui/pass/`) and
//! programs that must fail to compile with exactly the error recorded next to them
//! (`ui/fail/*.stderr`).
//!
//! To regenerate the snapshots after an intended change to an error message:
//!
//! ```text
//! TRYBUILD=overwrite cargo test -p endpoint-tests --test ui
//! ```
//!
//! then review every changed `.stderr` file as a new user would read it. The toolchain is pinned
//! in `rust-toolchain.toml` at the workspace root, so the compiler's output (and therefore the
//! snapshots) stays stable from one machine to the next.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/fail/*.rs");
}
