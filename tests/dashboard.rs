//! `app dev`'s dashboard in a real browser: headless Chromium (Debian's package, driven over the
//! DevTools protocol) loads the page from an `app dev` process, sees every endpoint, sends a job
//! to a three-level pipeline through the page's form, and waits for the job's waterfall to show
//! its calls across levels; the screenshot is saved at `target/dashboard.png`. Then it follows
//! the header's link to the endpoints' simulation.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

const APP: &str = env!("CARGO_BIN_EXE_test-worker");
const BOUND: Duration = Duration::from_secs(60);

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_string())
}

/// Headless Chromium with the DevTools protocol on a port of its choosing; that port.
fn launch_browser(profile: &std::path::Path) -> (Proc, u16) {
    let child = Proc(Command::new(chromium())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--remote-debugging-port=0",
            "--window-size=1400,1300",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start `{}` ({e}): the dashboard test needs Chromium. Run ./scripts/test.sh \
                 (it installs Debian's chromium), or set CHROMIUM to its path",
                chromium()
            )
        }));
    let file = profile.join("DevToolsActivePort");
    let start = Instant::now();
    loop {
        if let Some(port) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.lines().next()?.trim().parse().ok())
        {
            return (child, port);
        }
        assert!(
            start.elapsed() < BOUND,
            "Chromium never opened its DevTools port"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A DevTools protocol session with one page.
struct Cdp {
    ws: Ws,
    next: u64,
}

impl Cdp {
    async fn connect(port: u16) -> Cdp {
        let list: Value = support::client()
            .get(format!("http://127.0.0.1:{port}/json/list"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .expect("a page target");
        let url = page["webSocketDebuggerUrl"].as_str().unwrap();
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Cdp { ws, next: 0 }
    }

    /// Sends `method` and waits for its result (events in between are skipped).
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let msg = json!({ "id": id, "method": method, "params": params }).to_string();
        self.ws.send(Message::text(msg)).await.unwrap();
        loop {
            let m = tokio::time::timeout(BOUND, self.ws.next())
                .await
                .expect("an answer from Chromium")
                .expect("the session is open")
                .unwrap();
            let Ok(text) = m.into_text() else { continue };
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression in the page.
    async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        if let Some(e) = r.get("exceptionDetails") {
            panic!("`{expr}` threw in the page: {e}");
        }
        r["result"]["value"].clone()
    }

    /// Waits until `expr` is truthy in the page.
    async fn until(&mut self, what: &str, expr: &str) {
        let start = Instant::now();
        loop {
            let v = self.eval(expr).await;
            if v.as_bool() == Some(true) {
                return;
            }
            assert!(start.elapsed() < BOUND, "never: {what} ({expr} is {v})");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_sends_a_job_through_its_form_and_shows_its_waterfall() {
    let port = support::free_port();
    let _dev = Proc(
        Command::new(APP)
            .args(["dev", "--port", &port.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let profile = std::env::temp_dir().join(format!("dashboard-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&profile);
    let (_browser, devtools) = launch_browser(&profile);
    let mut cdp = Cdp::connect(devtools).await;
    cdp.call("Page.enable", json!({})).await;
    let base = format!("http://127.0.0.1:{port}/");
    // The server may still be starting: load until the page is there.
    let start = Instant::now();
    loop {
        cdp.call("Page.navigate", json!({ "url": base })).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        if cdp.eval("!!document.querySelector('#endpoints')").await == json!(true) {
            break;
        }
        assert!(start.elapsed() < BOUND, "the dashboard never loaded");
    }
    cdp.until(
        "every endpoint listed",
        "[...document.querySelectorAll('#endpoints tbody tr td b')].map(b => b.textContent).includes('chain_top')",
    )
    .await;
    cdp.until(
        "live updates",
        "document.querySelector('#live').textContent === 'live'",
    )
    .await;

    // `greet` takes a struct that derives JsonSchema: the form has a field per property, of
    // its type, with its doc comment, starting from the type's Default.
    let pick = |ep: &str| {
        format!(
            "(() => {{ const s = document.querySelector('#send-endpoint'); s.value = '{ep}';
               s.dispatchEvent(new Event('change')); return true; }})()"
        )
    };
    cdp.eval(&pick("greet")).await;
    cdp.until(
        "greet's fields",
        "!!document.querySelector('#field-name') && document.querySelector('#field-times').type === 'number' && document.querySelector('#field-loud').type === 'checkbox'",
    )
    .await;
    let note = cdp
        .eval("document.querySelector('#send-fields').textContent")
        .await;
    assert!(note.as_str().unwrap().contains("Who to greet."), "{note}");
    assert_eq!(
        cdp.eval("document.querySelector('#field-times').value")
            .await,
        "0"
    );
    cdp.eval(
        "document.querySelector('#field-name').value = 'Ada';
         document.querySelector('#field-times').value = '2';
         document.querySelector('#field-loud').checked = true;
         document.querySelector('#send-button').click(); true",
    )
    .await;
    cdp.until(
        "greet's output",
        "(document.querySelector('#detail-body pre:nth-of-type(2)') || {}).textContent === '\"HELLO, ADA! HELLO, ADA!\"'",
    )
    .await;

    // Send chain_top's input (an integer: one number field) through the form: it calls
    // chain_mid (which fans out to time_left) and time_left.
    cdp.eval(&pick("chain_top")).await;
    cdp.until(
        "chain_top's one field",
        "(document.querySelector('#field-input') || {}).type === 'number'",
    )
    .await;
    cdp.eval(
        "document.querySelector('#field-input').value = '1';
         document.querySelector('#send-button').click(); true",
    )
    .await;
    cdp.until(
        "the job's waterfall",
        "document.querySelectorAll('#waterfall .row').length >= 3",
    )
    .await;
    let labels = cdp
        .eval("[...document.querySelectorAll('#waterfall .row .label')].map(l => l.textContent.trim().split(/\\s+/)[0] + '@' + l.style.paddingLeft)")
        .await;
    let labels: Vec<String> = serde_json::from_value(labels).unwrap();
    assert!(labels.contains(&"chain_mid@0px".to_string()), "{labels:?}");
    assert!(labels.contains(&"time_left@0px".to_string()), "{labels:?}");
    assert!(
        labels.contains(&"time_left@14px".to_string()),
        "a grandchild, one level in: {labels:?}"
    );
    let status = cdp
        .eval("document.querySelector('#detail-body .pill').textContent")
        .await;
    assert_eq!(status, "COMPLETED");
    // The job is in the live list too.
    cdp.until(
        "the job listed",
        "[...document.querySelectorAll('#jobs tbody td')].some(td => td.textContent === 'chain_top')",
    )
    .await;

    let shot = cdp
        .call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true }),
        )
        .await;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/dashboard.png");
    std::fs::write(&path, png).unwrap();

    // The header's link runs `app simulate` over these endpoints: the report's page, its
    // charts drawn.
    let href = cdp.eval("document.querySelector('#simulate').href").await;
    assert_eq!(href, format!("{base}_dev/simulate"));
    cdp.call("Page.navigate", json!({ "url": href })).await;
    cdp.until(
        "the simulation's page",
        "document.querySelectorAll('svg polyline').length > 0 && (document.querySelector('pre') || {textContent: ''}).textContent.includes('met a cold start')",
    )
    .await;
    let bad = reqwest::get(format!("{base}_dev/simulate?duration=soon"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("?duration=2h"));
    let bad = reqwest::get(format!("{base}_dev/simulate?format=xml"))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("?format=json"));
    let report: Value = reqwest::get(format!("{base}_dev/simulate?duration=10m&format=json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let requests = &report["variants"][0]["requests"];
    assert!(requests["arrived"].as_u64().unwrap() > 300, "{requests}");
    assert_eq!(requests["arrived"], requests["completed"], "{requests}");
    let _ = std::fs::remove_dir_all(&profile);
}
