//! OpenTelemetry traces across processes. An orchestrator and its callees, each served by a
//! worker process of its own, export OTLP to a receiver here, and their spans form one tree
//! three jobs deep; `app call` against `app dev` (two processes) roots the same tree in the
//! client's span. A protocol the SDK cannot speak is refused with the fix.

#[path = "support/otlp.rs"]
mod otlp;
mod support;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use endpoint_sdk::local::LocalRuntime;
use endpoint_tests::{chain_mid, chain_top, time_left};
use otlp::{Receiver, Seen};
use serde_json::{Value, json};
use support::{TestServer, client, free_port};

const APP: &str = env!("CARGO_BIN_EXE_test-worker");
const SERVER: i32 = 2;
const CLIENT: i32 = 3;
/// OTLP's status code for an error.
const ERROR: i32 = 2;

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The OTLP variables a process exports with (spans sent within 100 ms of ending).
fn otel(cmd: &mut Command, receiver: &Receiver) {
    cmd.env("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.endpoint)
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env_remove("OTEL_SERVICE_NAME")
        .env_remove("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .env_remove("OTEL_SDK_DISABLED");
}

/// A worker process serving `ep` from `base`'s job API, calling back through its public API.
fn worker(base: &str, ep: &str, receiver: &Receiver) -> Proc {
    let mut cmd = Command::new(APP);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "RUNPOD_WEBHOOK_GET_JOB",
            format!("{base}/v2/{ep}/job-take/$ID"),
        )
        .env(
            "RUNPOD_WEBHOOK_POST_OUTPUT",
            format!("{base}/v2/{ep}/job-done/$RUNPOD_POD_ID/$ID"),
        )
        .env(
            "RUNPOD_WEBHOOK_PING",
            format!("{base}/v2/{ep}/ping/$RUNPOD_POD_ID"),
        )
        .env("RUNPOD_POD_ID", format!("pod-{ep}"))
        .env("ENDPOINT_NAME", ep)
        .env("RUNPOD_ENDPOINT_BASE_URL", format!("{base}/v2"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    otel(&mut cmd, receiver);
    Proc(cmd.spawn().unwrap())
}

fn count(spans: &[Seen], name: &str) -> usize {
    spans.iter().filter(|s| s.name == name).count()
}

/// The spans by id, after checking they form one tree: one trace, one root, every other span's
/// parent received.
fn tree(spans: &[Seen]) -> HashMap<&str, &Seen> {
    let by_id: HashMap<&str, &Seen> = spans.iter().map(|s| (s.span_id.as_str(), s)).collect();
    assert_eq!(by_id.len(), spans.len(), "span ids are unique: {spans:#?}");
    let trace = &spans[0].trace_id;
    assert!(spans.iter().all(|s| &s.trace_id == trace), "{spans:#?}");
    let roots: Vec<_> = spans.iter().filter(|s| s.parent_id.is_empty()).collect();
    assert_eq!(roots.len(), 1, "one root: {roots:#?}");
    for s in spans.iter().filter(|s| !s.parent_id.is_empty()) {
        assert!(
            by_id.contains_key(s.parent_id.as_str()),
            "the parent of `{}` was received: {spans:#?}",
            s.name
        );
    }
    by_id
}

fn one<'a>(spans: &'a [Seen], name: &str) -> &'a Seen {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "one `{name}`");
    found[0]
}

fn children<'a>(spans: &'a [Seen], parent: &Seen) -> Vec<&'a Seen> {
    let mut c: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_id == parent.span_id)
        .collect();
    c.sort_by(|a, b| a.name.cmp(&b.name));
    c
}

/// The call span and the callee's job span under it agree on the job.
fn called<'a>(spans: &'a [Seen], call: &Seen) -> &'a Seen {
    let under = children(spans, call);
    assert_eq!(under.len(), 1, "`{}` holds its callee's job", call.name);
    let job = under[0];
    assert_eq!(call.kind, CLIENT, "{call:#?}");
    assert_eq!(job.kind, SERVER, "{job:#?}");
    assert_eq!(call.attr("runpod.job.id"), job.attr("runpod.job.id"));
    assert_eq!(call.attr("runpod.worker.id"), job.attr("runpod.worker.id"));
    assert_eq!(call.attr("runpod.job.status"), "COMPLETED");
    assert_eq!(job.attr("runpod.job.status"), "COMPLETED");
    assert!(job.start_ns <= job.end_ns && call.start_ns <= call.end_ns);
    job
}

/// Checks the tree under the orchestrator's job `top`: chain_top calls chain_mid and time_left;
/// chain_mid calls time_left. `service` names the process that ran `ep`'s jobs.
fn check_chain(spans: &[Seen], top: &Seen, service: impl Fn(&str) -> String) {
    assert_eq!(top.kind, SERVER);
    assert_eq!(top.service, service("chain_top"));
    assert_eq!(top.attr("gen_ai.operation.name"), "invoke_agent");
    assert_eq!(top.attr("gen_ai.agent.name"), "chain_top");
    assert_eq!(top.attr("runpod.endpoint"), "chain_top");
    let calls = children(spans, top);
    let names: Vec<_> = calls.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["call chain_mid", "call time_left"]);
    assert!(calls.iter().all(|c| c.service == top.service));
    let mid = called(spans, calls[0]);
    assert_eq!(mid.name, "invoke_agent chain_mid");
    assert_eq!(mid.service, service("chain_mid"));
    let near = called(spans, calls[1]);
    assert_eq!(near.name, "execute_tool time_left");
    assert_eq!(near.attr("gen_ai.tool.name"), "time_left");
    assert_eq!(near.attr("gen_ai.tool.call.id"), near.attr("runpod.job.id"));
    let deep_calls = children(spans, mid);
    assert_eq!(deep_calls.len(), 1);
    assert_eq!(deep_calls[0].name, "call time_left");
    let deep = called(spans, deep_calls[0]);
    assert_eq!(deep.name, "execute_tool time_left");
    assert_eq!(deep.service, service("time_left"));
    assert_ne!(deep.attr("runpod.job.id"), near.attr("runpod.job.id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orchestrator_and_its_callees_in_three_processes_export_one_trace_tree() {
    let receiver = Receiver::start().await;
    let rt = LocalRuntime::builder()
        .endpoint::<chain_top>()
        .endpoint::<chain_mid>()
        .endpoint::<time_left>()
        .served_externally("chain_top")
        .served_externally("chain_mid")
        .served_externally("time_left")
        .build()
        .unwrap();
    let s = TestServer::start(rt, None).await;
    let _workers: Vec<Proc> = ["chain_top", "chain_mid", "time_left"]
        .iter()
        .map(|ep| worker(&s.base, ep, &receiver))
        .collect();
    // A plain request, as any client sends it: the orchestrator's job starts the trace.
    let done: Value = client()
        .post(s.url("/v2/chain_top/runsync"))
        .json(&json!({ "input": 1 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let spans = receiver
        .wait_for("the four jobs and three calls", |s| {
            count(s, "invoke_agent chain_top") == 1
                && count(s, "invoke_agent chain_mid") == 1
                && count(s, "execute_tool time_left") == 2
                && count(s, "call chain_mid") == 1
                && count(s, "call time_left") == 2
        })
        .await;
    assert_eq!(spans.len(), 7, "{spans:#?}");
    tree(&spans);
    let top = one(&spans, "invoke_agent chain_top");
    assert!(top.parent_id.is_empty(), "{top:#?}");
    assert_eq!(top.attr("runpod.job.id"), done["id"].as_str().unwrap());
    assert_eq!(top.attr("runpod.worker.id"), "pod-chain_top");
    // Each worker process names itself after its endpoint.
    check_chain(&spans, top, |ep| ep.to_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_call_against_app_dev_roots_the_tree_in_the_clients_span() {
    let receiver = Receiver::start().await;
    let port = free_port();
    let mut dev = Command::new(APP);
    dev.args(["dev", "--port", &port.to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    otel(&mut dev, &receiver);
    let _dev = Proc(dev.spawn().unwrap());
    for _ in 0..500 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let v2 = format!("http://127.0.0.1:{port}/v2");
    let mut call = tokio::process::Command::new(APP);
    call.args(["call", "chain_top", "1", "--url", &v2])
        .env_remove("RUNPOD_API_KEY");
    otel(call.as_std_mut(), &receiver);
    call.env("OTEL_SERVICE_NAME", "operator");
    let out = call.output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let trace = stderr
        .split("trace ")
        .nth(1)
        .and_then(|t| t.lines().next())
        .map(str::to_string)
        .expect("app call prints the trace id");
    // `app call` sent its spans before it exited; app dev sends its own within 100 ms.
    let spans = receiver
        .wait_for("the client's span and the four jobs", |s| {
            count(s, "app call chain_top") == 1
                && count(s, "execute_tool time_left") == 2
                && count(s, "call time_left") == 2
                && count(s, "invoke_agent chain_mid") == 1
        })
        .await;
    assert_eq!(spans.len(), 9, "{spans:#?}");
    tree(&spans);
    assert_eq!(spans[0].trace_id, trace);
    let root = one(&spans, "app call chain_top");
    assert!(root.parent_id.is_empty());
    assert_eq!(root.service, "operator");
    let first = children(&spans, root);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].name, "call chain_top");
    assert_eq!(
        first[0].service, "operator",
        "the call's span is the client's"
    );
    let top = called(&spans, first[0]);
    check_chain(&spans, top, |_| "test-worker".to_string());
    // The local runtime knows each job's time in the queue.
    assert!(
        top.attrs.contains_key("runpod.job.delay_time_ms"),
        "{top:#?}"
    );
    assert!(spans.iter().all(|s| s.status != ERROR), "{spans:#?}");

    // A job that fails marks its span and its caller's as errors, with the error's kind.
    let mut call = tokio::process::Command::new(APP);
    call.args(["call", "refuse", "\"no\"", "--url", &v2])
        .env_remove("RUNPOD_API_KEY");
    otel(call.as_std_mut(), &receiver);
    let out = call.output().await.unwrap();
    assert!(!out.status.success());
    let spans = receiver
        .wait_for("the failed job", |s| count(s, "execute_tool refuse") == 1)
        .await;
    let failed = one(&spans, "execute_tool refuse");
    let call = one(&spans, "call refuse");
    let client = one(&spans, "app call refuse");
    assert_eq!(failed.parent_id, call.span_id);
    assert_eq!(call.parent_id, client.span_id);
    for s in [failed, call, client] {
        assert_eq!(s.status, ERROR, "{s:#?}");
        assert_eq!(s.attr("error.type"), "FAILED", "{s:#?}");
        // The handler's message, not the platform's JSON around it.
        assert_eq!(s.status_message, "refused: no", "{s:#?}");
    }
    assert_eq!(failed.attr("runpod.job.status"), "FAILED");
    assert_eq!(call.attr("runpod.job.status"), "FAILED");
    assert_eq!(client.attr("runpod.endpoint"), "refuse");
}

#[test]
fn a_protocol_the_sdk_cannot_speak_is_refused_with_the_fix() {
    let out = Command::new(APP)
        .args(["call", "echo", "1"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env_remove("RUNPOD_API_KEY")
        .env_remove("RUNPOD_ENDPOINT_BASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc")
            && stderr.contains("http/protobuf")
            && stderr.contains("4318"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_balancing_request_is_a_span_under_its_callers_traceparent() {
    let receiver = Receiver::start().await;
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lb-worker"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUNPOD_POD_ID", "pod-greeter")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    otel(&mut cmd, &receiver);
    let _worker = Proc(cmd.spawn().unwrap());
    let http = client();
    let ping = format!("http://127.0.0.1:{port}/ping");
    for _ in 0..500 {
        match http.get(&ping).send().await {
            Ok(r) if r.status() == 200 => break,
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let r = http
        .get(format!("http://127.0.0.1:{port}/whoami"))
        .header("traceparent", caller)
        .header("x-request-id", "req-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen: Value = r.json().await.unwrap();
    let spans = receiver
        .wait_for("the request's span", |s| {
            count(s, "execute_tool greeter") == 1
        })
        .await;
    let span = one(&spans, "execute_tool greeter");
    assert_eq!(span.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(span.trace_id, seen["trace_id"].as_str().unwrap());
    assert_eq!(span.parent_id, "00f067aa0ba902b7");
    assert_eq!(span.kind, SERVER);
    assert_eq!(span.service, "greeter");
    assert_eq!(span.attr("runpod.job.id"), "req-1");
    assert_eq!(span.attr("runpod.worker.id"), "pod-greeter");
    assert_eq!(span.attr("http.request.method"), "GET");
    assert_eq!(span.attr("url.path"), "/whoami");
    assert_eq!(span.attr("http.response.status_code"), "200");
    assert_ne!(span.status, ERROR);
}
