//! Shared by the benchmarks of `endpoint-bench` (`cargo bench -p endpoint-bench`, or
//! `./scripts/bench.sh`): the endpoints they run, child processes that cannot outlive the
//! benchmark, the load generator, and the tables they print.
//!
//! Every benchmark measures its baselines (the official Python SDK, a bare axum route, a direct
//! function call) in the same run, on the same machine, with the same client, and prints
//! absolute figures beside the ratios. Nothing here asserts timings: the figures are for
//! reading, and the goals are printed next to them.

pub mod endpoints;
pub mod load;
pub mod proc;
pub mod report;
