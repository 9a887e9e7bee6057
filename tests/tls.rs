//! The SDK's HTTP clients read the system's root certificates once per process, when a server
//! first presents a certificate: a worker and a caller talking plain HTTP never read them, and
//! HTTPS is still verified (a self-signed certificate is refused as untrusted). Its own test
//! binary: what the process has read is process-wide.

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use endpoint_sdk::EndpointDef;
use endpoint_sdk::client::{Client, HttpRoutes};
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::protocol::JobStatus;
use endpoint_sdk::worker::WorkerEnv;
use endpoint_tests::echo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;
use support::TestServer;
use tokio_util::sync::CancellationToken;

/// A self-signed certificate for `localhost` and 127.0.0.1 (made with openssl for this test
/// only; valid until 2126), and its key.
const CERT: &[u8] = include_bytes!("data/self-signed-cert.pem");
const KEY: &[u8] = include_bytes!("data/self-signed-key.pem");

/// An HTTPS server presenting the self-signed certificate: it completes handshakes that accept
/// it and answers nothing else.
async fn self_signed_https() -> u16 {
    #[allow(deprecated)] // ring, as the SDK (see `endpoint_sdk::install_tls_provider`).
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(CERT).unwrap()],
            PrivateKeyDer::from_pem_slice(KEY).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_certificates_are_read_at_the_first_tls_handshake_and_https_is_still_verified() {
    let rt = LocalRuntime::builder()
        .definition(EndpointDef::of::<echo>())
        .served_externally("echo")
        .with_options(|o| o.take_wait = Duration::from_millis(200))
        .build()
        .unwrap();
    let s = TestServer::start(rt.clone(), None).await;

    // A production worker, in this process, against a plain-HTTP job server.
    let v2 = format!("{}/v2/echo", s.base);
    let vars = [
        ("RUNPOD_WEBHOOK_GET_JOB", format!("{v2}/job-take/$ID")),
        (
            "RUNPOD_WEBHOOK_POST_OUTPUT",
            format!("{v2}/job-done/$RUNPOD_POD_ID/$ID"),
        ),
        ("RUNPOD_WEBHOOK_PING", format!("{v2}/ping/$RUNPOD_POD_ID")),
        ("RUNPOD_POD_ID", "tls-w1".to_string()),
    ];
    let env =
        WorkerEnv::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .unwrap();
    let stop = CancellationToken::new();
    let worker = tokio::spawn(endpoint_sdk::worker::run_until(
        EndpointDef::of::<echo>(),
        env,
        stop.clone(),
    ));
    let id = rt.submit("echo", json!("over http").into()).unwrap();
    let st = rt.wait("echo", &id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(st.status, JobStatus::Completed, "{st:?}");
    // And a typed call over plain HTTP.
    let http = Client::http(HttpRoutes::new(format!("{}/v2", s.base)));
    let _ = echo::submit(&http, json!("a call")).await.unwrap();
    assert!(
        !endpoint_sdk::tls::roots_read(),
        "nothing spoke TLS: the system's roots were not read"
    );

    // HTTPS: the handshake reads them, and the self-signed certificate is refused.
    let port = self_signed_https().await;
    let https = Client::http(HttpRoutes::new(format!("https://localhost:{port}/v2")));
    let err = match echo::submit(&https, json!("a call")).await {
        Ok(_) => panic!("a self-signed certificate was trusted"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("invalid peer certificate"),
        "refused as untrusted: {err}"
    );
    assert!(endpoint_sdk::tls::roots_read());

    stop.cancel();
    let exit = tokio::time::timeout(Duration::from_secs(30), worker)
        .await
        .expect("the worker drains")
        .unwrap()
        .unwrap();
    assert_eq!(exit, endpoint_sdk::worker::WorkerExit::Drained);
}
