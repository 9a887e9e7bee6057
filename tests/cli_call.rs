//! `app call`: one job from the terminal against a running `app dev` (a process), its stream
//! chunks printed as they arrive, its output, and an exit code that says how it ended; a
//! load-balancing endpoint's request; and in this process when no server is named.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::free_port;

const APP: &str = env!("CARGO_BIN_EXE_test-worker");
const LB_APP: &str = env!("CARGO_BIN_EXE_lb-worker");

/// `bin dev` on a free port; killed when dropped.
struct Dev {
    child: Child,
    v2: String,
}

impl Dev {
    fn start(bin: &str) -> Dev {
        let port = free_port();
        let child = Command::new(bin)
            .args(["dev", "--port", &port.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        for _ in 0..500 {
            if std::net::TcpStream::connect(&addr).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Dev {
            child,
            v2: format!("http://{addr}/v2"),
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn call(bin: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin)
        .arg("call")
        .args(args)
        .env_remove("RUNPOD_API_KEY")
        .env_remove("RUNPOD_ENDPOINT_BASE_URL")
        .output()
        .unwrap()
}

#[test]
fn a_job_streams_its_chunks_as_they_arrive_then_prints_its_output() {
    let dev = Dev::start(APP);
    let gate = std::env::temp_dir().join(format!("call-gate-{}", std::process::id()));
    let _ = std::fs::remove_file(&gate);
    let input = serde_json::json!(gate.to_str().unwrap()).to_string();
    let mut child = Command::new(APP)
        .args(["call", "gated_ticks", &input, "--url", &dev.v2])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    // The first chunk arrives while the job still waits for the gate this test opens now.
    assert_eq!(out.next().unwrap().unwrap(), "first");
    assert!(child.try_wait().unwrap().is_none(), "still running");
    std::fs::write(&gate, b"go").unwrap();
    let rest: Vec<String> = out.map(Result::unwrap).collect();
    assert_eq!(rest, ["second", "2"]);
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_file(&gate);
}

#[test]
fn a_failed_job_exits_non_zero_with_its_error() {
    let dev = Dev::start(APP);
    let r = call(APP, &["refuse", "\"no budget\"", "--url", &dev.v2]);
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("ended FAILED") && err.contains("refused: no budget"),
        "{err}"
    );
    let r = call(APP, &["nope", "--url", &dev.v2]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("no endpoint named `nope`"));
    let r = call(APP, &["echo", "{not json"]);
    assert_ne!(r.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&r.stderr).contains("the input is not JSON"));
}

#[test]
fn without_a_server_the_job_runs_in_this_process_and_an_input_file_is_read() {
    let file = std::env::temp_dir().join(format!("call-input-{}.json", std::process::id()));
    std::fs::write(&file, br#"{"question": 42}"#).unwrap();
    let r = call(APP, &["echo", &format!("@{}", file.display())]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let out: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(out, serde_json::json!({"question": 42}));
    assert!(String::from_utf8_lossy(&r.stderr).contains("this process"));
    let _ = std::fs::remove_file(&file);
}

#[test]
fn a_load_balancing_endpoint_takes_a_path_and_its_answer_is_printed() {
    let dev = Dev::start(LB_APP);
    let r = call(
        LB_APP,
        &["greeter", "--path", "/hello/ada", "--url", &dev.v2],
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(String::from_utf8_lossy(&r.stdout), "hello, ada");
    assert!(String::from_utf8_lossy(&r.stderr).contains("200 OK from "));
    let r = call(LB_APP, &["greeter", "--path", "/missing", "--url", &dev.v2]);
    assert_eq!(r.status.code(), Some(1));
}
