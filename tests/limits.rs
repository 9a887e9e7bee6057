//! `app dev`'s server under hostile clients (real sockets on loopback): slow-loris headers, a
//! body that announces more than it sends, more connections than the cap, oversized headers,
//! deeply nested JSON, a full queue. Each is bounded by its documented limit
//! (`endpoint_sdk::server::ServerLimits`) with a clear answer, while a well-behaved client is
//! served throughout. Limits are set short here; no test asserts a duration (the bounds only
//! keep a broken server from hanging the suite).

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use endpoint_sdk::local::{LocalRuntime, RuntimeOptions};
use endpoint_sdk::server::{Server, ServerLimits};
use endpoint_tests::{echo, nap};
use serde_json::json;

/// A server with `limits`, and its address.
async fn server(limits: ServerLimits) -> (String, tokio::sync::oneshot::Sender<()>) {
    let runtime = LocalRuntime::builder()
        .endpoint::<echo>()
        .endpoint::<nap>()
        .options(RuntimeOptions {
            queue_limit: Some(5),
            ..RuntimeOptions::default()
        })
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = Server::new(runtime).limits(limits);
    tokio::spawn(server.serve(listener, async {
        let _ = rx.await;
    }));
    (addr, tx)
}

/// A well-behaved client's request: answered, with the echo.
async fn well_behaved(addr: &str) {
    let v: serde_json::Value = support::client()
        .post(format!("http://{addr}/v2/echo/runsync"))
        .json(&json!({ "input": "still served" }))
        .send()
        .await
        .expect("the server answers")
        .json()
        .await
        .unwrap();
    assert_eq!(v["output"], "still served", "{v}");
}

/// The status and JSON body of `request`'s answer.
async fn answer(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let r = request.send().await.expect("the server answers");
    let status = r.status().as_u16();
    (status, r.json().await.expect("a JSON answer"))
}

/// Reads what the server sends until it closes the connection (bounded).
fn read_to_close(mut s: TcpStream) -> String {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off_and_others_are_served_meanwhile() {
    let (addr, _stop) = server(ServerLimits {
        header_read_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    })
    .await;
    // 200 connections that send half a request's headers, then nothing.
    let slow: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut s = TcpStream::connect(&addr).unwrap();
            s.write_all(b"GET /v2/echo/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
            s
        })
        .collect();
    well_behaved(&addr).await;
    let closed = tokio::task::spawn_blocking(move || {
        slow.into_iter().map(read_to_close).collect::<Vec<_>>()
    })
    .await
    .unwrap();
    // Each was closed by the server (a 408, or the connection simply closed), none answered 200.
    assert!(
        closed.iter().all(|a| !a.contains(" 200 ")),
        "{:?}",
        &closed[0]
    );
    well_behaved(&addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_shorter_than_announced_gets_408_saying_so() {
    let (addr, _stop) = server(ServerLimits {
        body_read_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    })
    .await;
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(
        b"POST /v2/echo/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 1000\r\n\r\n{\"input\": 1",
    )
    .unwrap();
    let answer = tokio::task::spawn_blocking(move || {
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut buf = vec![0; 4096];
        let n = s.read(&mut buf).unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("did not arrive within") && answer.contains("announced 1000 bytes"),
        "{answer}"
    );
    well_behaved(&addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_get_503_and_the_server_recovers() {
    let (addr, _stop) = server(ServerLimits {
        max_connections: 20,
        ..ServerLimits::default()
    })
    .await;
    // 20 idle connections hold every slot (they have 10 s to send their headers).
    let held: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = tokio::task::spawn_blocking({
        let addr = addr.clone();
        move || read_to_close(TcpStream::connect(&addr).unwrap())
    })
    .await
    .unwrap();
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("max_connections"), "{refused}");
    assert!(
        refused.to_lowercase().contains("retry-after: 1"),
        "{refused}"
    );
    // Freed slots serve again.
    drop(held);
    let mut served = false;
    for _ in 0..100 {
        let ok = support::client()
            .get(format!("http://{addr}/v2/echo/health"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if ok {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        served,
        "the server never served again after its connections were freed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_deep_json_and_a_full_queue_are_refused_clearly() {
    let (addr, _stop) = server(ServerLimits::default()).await;
    let http = support::client();
    // Headers past hyper's buffer: 431.
    let mut s = TcpStream::connect(&addr).unwrap();
    let mut req = b"GET /v2/echo/health HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    req.extend(std::iter::repeat_n(b'a', 2 * 1024 * 1024));
    req.extend(b"\r\n\r\n");
    let _ = s.write_all(&req);
    let answer = tokio::task::spawn_blocking(move || read_to_close(s))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");

    // JSON nested 100 000 deep: 400, naming serde_json's recursion limit.
    let deep = format!(
        "{{\"input\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let r = http
        .post(format!("http://{addr}/v2/echo/run"))
        .header("content-type", "application/json")
        .body(deep)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("recursion limit"));

    // `nap` (two workers, each busy for a minute) with a queue of 5: once two jobs run and
    // five wait, the next is 429 with Retry-After.
    let mut refused = None;
    for _ in 0..20 {
        let r = http
            .post(format!("http://{addr}/v2/nap/run"))
            .json(&json!({ "input": 60_000 }))
            .send()
            .await
            .unwrap();
        if r.status() != 200 {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("the queue never filled");
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "1");
    assert!(r.text().await.unwrap().contains("is full (5 jobs waiting)"));
    well_behaved(&addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_json_that_says_why() {
    let (addr, _stop) = server(ServerLimits::default()).await;
    let http = support::client();
    let refusal = |r| async move {
        let (status, v) = answer(r).await;
        (status, v["error"].as_str().unwrap_or_default().to_string())
    };
    // A query string that does not parse.
    let (s, e) = refusal(http.get(format!("http://{addr}/v2/echo/status-sync/x?wait=-1"))).await;
    assert_eq!(s, 400);
    assert!(e.contains("query string"), "{e}");
    // A method the route does not take.
    let (s, e) = refusal(http.delete(format!("http://{addr}/v2/echo/run"))).await;
    assert_eq!(s, 405);
    assert!(e.contains("does not take DELETE"), "{e}");
    // A worker process taking the jobs of an endpoint app dev runs itself.
    let (s, e) = refusal(http.get(format!("http://{addr}/v2/echo/job-take/thief"))).await;
    assert_eq!(s, 409);
    assert!(e.contains("--external echo"), "{e}");
    let forged = http
        .post(format!("http://{addr}/v2/echo/job-done/thief/some-job"))
        .json(&json!({ "output": "FORGED" }));
    let (s, _) = refusal(forged).await;
    assert_eq!(s, 409);
    well_behaved(&addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_chunked_encoding_is_400_not_too_large() {
    let (addr, _stop) = server(ServerLimits::default()).await;
    let mut s = TcpStream::connect(&addr).unwrap();
    s.write_all(
        b"POST /v2/echo/runsync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    )
    .unwrap();
    let answer = tokio::task::spawn_blocking(move || read_to_close(s))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("could not be read"), "{answer}");
    well_behaved(&addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_handlers_result_past_20_mb_fails_as_the_platform_would() {
    let rt = LocalRuntime::builder()
        .endpoint::<endpoint_tests::big_output>()
        .build()
        .unwrap();
    let st = rt
        .run_sync("big_output", json!(21).into(), Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(st.status, endpoint_sdk::JobStatus::Failed, "{:?}", st.error);
    let e = st.error.unwrap().to_string();
    assert!(e.contains("20 MB"), "{e}");
    let st = rt
        .run_sync("big_output", json!(1).into(), Duration::from_secs(120))
        .await
        .unwrap();
    assert_eq!(st.status, endpoint_sdk::JobStatus::Completed);
}

/// A worker process streaming into a job whose stream nobody reads: past 8 MB unread its
/// `job-stream` posts are answered 429 with `Retry-After` and a message that says why; nothing
/// refused is kept (a batch is kept or refused whole), and once the reader catches up the
/// posts are taken again. The production worker retries a 429, so nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workers_stream_posts_past_8_mb_unread_get_429_until_the_reader_catches_up() {
    let runtime = LocalRuntime::builder()
        .endpoint::<echo>()
        .served_externally("echo")
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v2/echo", listener.local_addr().unwrap());
    tokio::spawn(Server::new(runtime).serve(listener, std::future::pending::<()>()));
    let http = support::client();
    let run = http
        .post(format!("{base}/run"))
        .json(&json!({ "input": "x" }));
    let (_, job) = answer(run).await;
    let id = job["id"].as_str().unwrap().to_string();
    let (_, taken) = answer(http.get(format!("{base}/job-take/w1"))).await;
    assert_eq!(taken["id"], id.as_str());
    // Chunks of 512 KB as the runtime counts them (JSON plus 64 bytes).
    let chunk = |i: usize| {
        let text = format!("{i:>8}{}", "x".repeat(512 * 1024 - 66 - 8));
        json!({ "output": text })
    };
    let post = |body: serde_json::Value| {
        http.post(format!("{base}/job-stream/w1/{id}"))
            .json(&body)
            .send()
    };
    let mut accepted = 0;
    let refused = loop {
        let r = post(chunk(accepted)).await.unwrap();
        if r.status() != 200 {
            break r;
        }
        accepted += 1;
        assert!(accepted < 100, "never refused");
    };
    assert_eq!(accepted, 17, "8 MB and one chunk past it");
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "1");
    let e = refused.text().await.unwrap();
    assert!(
        e.contains("has not read") && e.contains("8 MB") && e.contains("post the chunk again"),
        "{e}"
    );
    // A batch is refused whole too.
    let batch = json!({ "output": { "$chunks": ["a", "b"] } });
    assert_eq!(post(batch.clone()).await.unwrap().status(), 429);

    let read = || async {
        answer(http.get(format!("{base}/stream/{id}"))).await.1["stream"]
            .as_array()
            .unwrap()
            .clone()
    };
    let got = read().await;
    assert_eq!(got.len(), 17, "everything accepted, nothing refused");
    for (i, c) in got.iter().enumerate() {
        assert!(
            c["output"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{i:>8}"))
        );
    }
    assert_eq!(post(batch).await.unwrap().status(), 200, "room again");
    let got = read().await;
    assert_eq!(got, vec![json!({"output": "a"}), json!({"output": "b"})]);
}
