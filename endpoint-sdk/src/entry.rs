//! The worker's entry point: what `app worker` runs, and `worker_main()`, all that
//! `endpoint_sdk::main()` runs in a binary built with the `worker-only` feature (as the images of
//! `deploy --emit-dockerfile` are): the endpoint chosen, then a queue worker, a load-balancing
//! worker, or one local test job. Beside `cli` (both return the crate's `Error`), above `worker`.

use crate::handler::EndpointDef;
use crate::protocol::vars::{ENDPOINT_NAME, RUNPOD_ENDPOINT_ID, RUNPOD_WEBHOOK_GET_JOB};
use crate::telemetry::traced;
use crate::{Error, Result};

/// Serves endpoint `endpoint` (or the only one) of `defs` as the platform's environment says: a
/// load-balancing endpoint's HTTP server, a queue worker when `RUNPOD_WEBHOOK_GET_JOB` is set,
/// and otherwise (or with `test_input`) one job run locally.
pub(crate) async fn start(
    defs: &[EndpointDef],
    endpoint: Option<String>,
    test_input: Option<String>,
) -> Result<()> {
    let def = crate::worker::select(defs, endpoint.as_deref())?;
    if def.is_load_balancer() {
        if test_input.is_some() {
            return Err(Error::Usage(format!(
                "`{}` is a load-balancing endpoint: it takes HTTP requests, not a test job; run \
                 `app worker` (PORT sets its port) and send it requests, or use `app dev`",
                def.name()
            )));
        }
        let env = crate::worker::AppEnv::from_env(&def)?;
        crate::worker::log::init(std::env::var_os(RUNPOD_ENDPOINT_ID).is_some());
        crate::worker::serve_metrics_from_env()?;
        let name = def.name().to_string();
        return traced(&name, async {
            Ok(crate::worker::serve_app(def, env).await.map(drop)?)
        })
        .await;
    }
    let on_platform = std::env::var_os(RUNPOD_WEBHOOK_GET_JOB).is_some();
    if test_input.is_some() || !on_platform {
        return test_job(&def, test_input.as_deref()).await;
    }
    let env = crate::worker::WorkerEnv::from_env()?;
    crate::worker::log::init(env.endpoint_id.is_some());
    crate::worker::serve_metrics_from_env()?;
    let name = def.name().to_string();
    traced(&name, async {
        Ok(crate::worker::run(def, env).await.map(drop)?)
    })
    .await
}

/// Runs one job locally, prints its status object, and fails unless it completed.
async fn test_job(def: &EndpointDef, test_input: Option<&str>) -> Result<()> {
    crate::worker::log::init_stderr();
    let status = crate::worker::run_test_input(def, test_input).await?;
    println!(
        "{}",
        serde_json::to_string_pretty(&status).expect("a status object serializes")
    );
    match status.status {
        crate::protocol::JobStatus::Completed => Ok(()),
        s => Err(Error::JobFailed(format!(
            "the test job ended {s}: {}",
            status
                .error
                .as_deref()
                .map(|e| crate::protocol::JobFailure::from_wire(e).message)
                .unwrap_or_default()
        ))),
    }
}

/// The usage of a worker-only binary.
const USAGE: &str = "usage: <binary> [worker] [--endpoint NAME] [--test-input JSON]";

/// What `--help` prints after the usage.
const ABOUT: &str = "Serves one endpoint as a Runpod Serverless worker: a queue worker when \
RUNPOD_WEBHOOK_GET_JOB is set, a load-balancing endpoint's server, or (with --test-input, or \
without the platform's variables) one job run locally from --test-input or ./test_input.json. \
ENDPOINT_NAME (or --endpoint) picks the endpoint of a binary with several.";

/// Why a worker-only binary has no other subcommand, and how to get them.
const ONLY_A_WORKER: &str = "this binary runs only as a worker: it was built with \
endpoint-sdk's `worker-only` feature (as the images of `deploy --emit-dockerfile` are) or calls \
`endpoint_sdk::worker_main`; build it without the feature, with `endpoint_sdk::main`, for `dev`, \
`deploy`, `call`, `manifest` and `simulate`";

/// The worker alone: `app worker` with its arguments (`[worker] [--endpoint NAME]
/// [--test-input JSON]`, parsed by hand), and no other subcommand. It is what
/// [`crate::main`] runs in a binary built with the `worker-only` feature; a binary that calls it
/// instead of [`crate::main`] is the same without the feature. Either leaves the development
/// tools (`dev` and its dashboard, `deploy`, `call`, `simulate`, the command-line parser) out
/// of the binary, which is then a third smaller, and an idle worker holds a quarter less memory.
/// Without arguments it is `app worker`: off the platform, that runs the test job of
/// `./test_input.json`.
///
/// ```no_run
/// #[tokio::main]
/// async fn main() -> endpoint_sdk::Result<()> {
///     endpoint_sdk::worker_main().await
/// }
/// ```
pub async fn worker_main() -> Result<()> {
    crate::install_tls_provider();
    let Some(args) = WorkerOnlyArgs::parse(std::env::args_os().skip(1))? else {
        println!("{USAGE}\n\n{ABOUT}\n\nNote: {ONLY_A_WORKER}.");
        return Ok(());
    };
    let defs = crate::registry::endpoints();
    crate::registry::check(&defs)?;
    let endpoint = args.endpoint.or_else(|| std::env::var(ENDPOINT_NAME).ok());
    start(&defs, endpoint, args.test_input).await
}

/// The arguments a `worker-only` binary takes: `app worker`'s.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct WorkerOnlyArgs {
    endpoint: Option<String>,
    test_input: Option<String>,
}

impl WorkerOnlyArgs {
    /// Parses the arguments after the binary's name; `None` for `--help`.
    fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Option<Self>> {
        let usage = |what: String| Error::Usage(format!("{what} ({USAGE})"));
        let mut out = Self::default();
        let mut args = args.into_iter().map(|a| {
            a.into_string()
                .map_err(|a| usage(format!("the argument {} is not UTF-8", a.to_string_lossy())))
        });
        let mut first = true;
        while let Some(arg) = args.next() {
            let arg = arg?;
            if std::mem::take(&mut first) && arg == "worker" {
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
                _ => (arg.clone(), None),
            };
            let slot = match name.as_str() {
                "--help" | "-h" => return Ok(None),
                "--endpoint" => &mut out.endpoint,
                "--test-input" | "--test_input" => &mut out.test_input,
                other if other.starts_with('-') => {
                    return Err(usage(format!("unknown option `{arg}`")));
                }
                _ => return Err(usage(format!("`{arg}`: {ONLY_A_WORKER}"))),
            };
            if slot.is_some() {
                return Err(usage(format!("`{name}` is given twice")));
            }
            let value = match inline {
                Some(v) => v,
                None => match args.next().transpose()? {
                    Some(v) if !v.starts_with("--") => v,
                    _ => return Err(usage(format!("`{name}` needs a value"))),
                },
            };
            *slot = Some(value);
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<WorkerOnlyArgs>> {
        WorkerOnlyArgs::parse(args.iter().map(std::ffi::OsString::from))
    }

    #[test]
    fn takes_the_worker_subcommand_s_arguments() {
        assert_eq!(parse(&[]).unwrap(), Some(WorkerOnlyArgs::default()));
        let both = WorkerOnlyArgs {
            endpoint: Some("echo".into()),
            test_input: Some(r#"{"input": 1}"#.into()),
        };
        for args in [
            &[
                "worker",
                "--endpoint",
                "echo",
                "--test-input",
                r#"{"input": 1}"#,
            ][..],
            &["--endpoint=echo", r#"--test_input={"input": 1}"#],
        ] {
            assert_eq!(parse(args).unwrap(), Some(both.clone()));
        }
        assert_eq!(parse(&["worker", "--help"]).unwrap(), None);
    }

    #[test]
    fn refuses_other_subcommands_and_says_why() {
        let e = parse(&["dev"]).unwrap_err().to_string();
        assert!(
            e.contains("`dev`") && e.contains("runs only as a worker"),
            "{e}"
        );
        let e = parse(&["worker", "worker"]).unwrap_err().to_string();
        assert!(e.contains("`worker`"), "{e}");
    }

    #[test]
    fn a_mistyped_a_missing_or_a_repeated_option_is_named() {
        let e = parse(&["--endpiont", "echo"]).unwrap_err().to_string();
        assert!(e.contains("unknown option `--endpiont`"), "{e}");
        let e = parse(&["--endpoint"]).unwrap_err().to_string();
        assert!(e.contains("`--endpoint` needs a value"), "{e}");
        let e = parse(&["--endpoint", "--test-input", "{}"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`--endpoint` needs a value"), "{e}");
        let e = parse(&["--endpoint=a", "--endpoint", "b"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`--endpoint` is given twice"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn an_argument_that_is_not_utf8_is_an_error_not_a_panic() {
        use std::os::unix::ffi::OsStringExt;
        let arg = std::ffi::OsString::from_vec(vec![b'-', b'-', 0xff]);
        let e = WorkerOnlyArgs::parse([arg]).unwrap_err().to_string();
        assert!(e.contains("is not UTF-8"), "{e}");
    }
}
