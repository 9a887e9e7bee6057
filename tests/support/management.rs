//! A local fake of Runpod's management REST API v2 (`/v2/serverless`, `/v2/network-volumes`), for
//! the deploy tests: an axum app on a free loopback port that keeps endpoints and volumes in
//! memory, assigns ids, fills the server-side defaults, validates bodies the way the API's schema
//! and rules do (per the project's research notes: unknown fields 422, `gpu` and `cpu` together
//! 400, a missing bearer token 401, …), answers errors as RFC 9457 problem details, and records
//! every request it receives.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use endpoint_sdk::config::catalog;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;

/// One request the fake received.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path.
    pub path: String,
    /// The JSON body, if any.
    pub body: Option<Value>,
    /// The `Authorization` header.
    pub authorization: Option<String>,
}

impl Recorded {
    /// `METHOD path`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

#[derive(Default)]
struct Inner {
    api_key: String,
    endpoints: Vec<Value>,
    volumes: Vec<Value>,
    requests: Vec<Recorded>,
    next_id: u64,
    fail: Vec<(Method, String, u16, String)>,
}

impl Inner {
    fn id(&mut self) -> String {
        self.next_id += 1;
        format!("fk{:06}x", self.next_id)
    }
}

/// The running fake; stops when dropped.
pub struct FakeManagement {
    /// `http://127.0.0.1:<port>` (the API's base, without `/v2`).
    pub base: String,
    inner: Arc<Mutex<Inner>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for FakeManagement {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

type Problem = (StatusCode, String, Vec<String>);

fn problem(status: StatusCode, detail: impl Into<String>) -> Problem {
    (status, detail.into(), Vec::new())
}

fn invalid(errors: Vec<String>) -> Problem {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        "Request validation failed.".to_string(),
        errors,
    )
}

fn respond((status, detail, errors): Problem) -> Response {
    let mut body = json!({
        "title": status.canonical_reason().unwrap_or(""),
        "status": status.as_u16(),
        "detail": detail,
    });
    if !errors.is_empty() {
        body["errors"] = json!(errors);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

impl FakeManagement {
    /// Starts the fake, accepting `Authorization: Bearer <api_key>`.
    pub async fn start(api_key: &str) -> FakeManagement {
        let inner = Arc::new(Mutex::new(Inner {
            api_key: api_key.to_string(),
            ..Inner::default()
        }));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        FakeManagement {
            base,
            inner,
            stop: Some(tx),
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// The requests that change something (not `GET`).
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.inner.lock().unwrap().requests.clear();
    }

    /// Every stored endpoint, as the API returns it.
    pub fn endpoints(&self) -> Vec<Value> {
        self.inner.lock().unwrap().endpoints.clone()
    }

    /// The stored endpoint named `name` (the first, if several).
    pub fn endpoint(&self, name: &str) -> Option<Value> {
        self.endpoints().into_iter().find(|e| e["name"] == name)
    }

    /// Every stored network volume.
    pub fn volumes(&self) -> Vec<Value> {
        self.inner.lock().unwrap().volumes.clone()
    }

    /// Stores an endpoint as if created with `body` (validated like a `POST`); returns its id.
    pub fn seed_endpoint(&self, body: Value) -> String {
        let mut inner = self.inner.lock().unwrap();
        let stored = create_endpoint(&mut inner, &body).expect("a valid seed endpoint");
        stored["id"].as_str().unwrap().to_string()
    }

    /// Stores a network volume; returns its id.
    pub fn seed_volume(&self, name: &str, size: u32, data_center: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        let id = inner.id();
        inner
            .volumes
            .push(json!({"id": id, "name": name, "size": size,
            "dataCenter": data_center, "type": "STANDARD"}));
        id
    }

    /// Makes the next `method` request whose path starts with `path` fail with `status` and
    /// problem details `detail` (after authentication).
    pub fn fail_next(&self, method: Method, path: &str, status: u16, detail: &str) {
        self.inner.lock().unwrap().fail.push((
            method,
            path.to_string(),
            status,
            detail.to_string(),
        ));
    }
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let parsed: Option<Result<Value, String>> = if body.is_empty() {
        None
    } else {
        Some(serde_json::from_slice(&body).map_err(|e| e.to_string()))
    };
    let mut inner = inner.lock().unwrap();
    inner.requests.push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        body: parsed.as_ref().and_then(|p| p.as_ref().ok().cloned()),
        authorization: authorization.clone(),
    });

    match authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
    {
        None => return respond(problem(StatusCode::UNAUTHORIZED, "missing bearer token")),
        Some(k) if k != inner.api_key => {
            return respond(problem(StatusCode::UNAUTHORIZED, "invalid bearer token"));
        }
        Some(_) => {}
    }
    if let Some(i) = inner
        .fail
        .iter()
        .position(|(m, p, _, _)| *m == method && path.starts_with(p.as_str()))
    {
        let (_, _, status, detail) = inner.fail.remove(i);
        return respond(problem(StatusCode::from_u16(status).unwrap(), detail));
    }
    let body = match parsed {
        Some(Err(e)) => {
            return respond(problem(
                StatusCode::BAD_REQUEST,
                format!("request could not be processed: {e}"),
            ));
        }
        Some(Ok(v)) => Some(v),
        None => None,
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let result = match (method.as_str(), segments.as_slice()) {
        ("GET", ["v2", "serverless"]) => Ok(ok(
            StatusCode::OK,
            json!({"endpoints": inner.endpoints.clone()}),
        )),
        ("POST", ["v2", "serverless"]) => create_endpoint(&mut inner, &body.unwrap_or(Value::Null))
            .map(|e| ok(StatusCode::CREATED, e)),
        ("GET", ["v2", "serverless", id]) => {
            find(&inner.endpoints, id).map(|i| ok(StatusCode::OK, inner.endpoints[i].clone()))
        }
        ("PATCH", ["v2", "serverless", id]) => {
            update_endpoint(&mut inner, id, &body.unwrap_or(Value::Null))
                .map(|e| ok(StatusCode::OK, e))
        }
        ("DELETE", ["v2", "serverless", id]) => find(&inner.endpoints, id).map(|i| {
            inner.endpoints.remove(i);
            StatusCode::NO_CONTENT.into_response()
        }),
        ("GET", ["v2", "network-volumes"]) => Ok(ok(
            StatusCode::OK,
            json!({"networkVolumes": inner.volumes.clone()}),
        )),
        ("POST", ["v2", "network-volumes"]) => {
            create_volume(&mut inner, &body.unwrap_or(Value::Null))
                .map(|v| ok(StatusCode::CREATED, v))
        }
        ("PATCH", ["v2", "network-volumes", id]) => {
            update_volume(&mut inner, id, &body.unwrap_or(Value::Null))
                .map(|v| ok(StatusCode::OK, v))
        }
        ("DELETE", ["v2", "network-volumes", id]) => find(&inner.volumes, id).map(|i| {
            inner.volumes.remove(i);
            StatusCode::NO_CONTENT.into_response()
        }),
        (_, ["v2", "serverless"] | ["v2", "serverless", _] | ["v2", "network-volumes"])
        | (_, ["v2", "network-volumes", _]) => Err(problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "The requested method is not allowed for this path.",
        )),
        _ => Err(problem(StatusCode::NOT_FOUND, "resource not found")),
    };
    result.unwrap_or_else(respond)
}

fn find(items: &[Value], id: &str) -> Result<usize, Problem> {
    items
        .iter()
        .position(|e| e["id"] == id)
        .ok_or_else(|| problem(StatusCode::NOT_FOUND, "resource not found"))
}

const CONTAINER: &[&str] = &["image", "args", "disk", "ports", "env", "registry"];
const CREATE: &[&str] = &[
    "name",
    "type",
    "scaling",
    "templateId",
    "gpu",
    "cpu",
    "workers",
    "dataCenterIds",
    "networkVolumes",
    "timeout",
    "flashboot",
];
const UPDATE: &[&str] = &[
    "name",
    "scaling",
    "templateId",
    "gpu",
    "cpu",
    "workers",
    "dataCenterIds",
    "networkVolumes",
    "timeout",
    "flashboot",
];

/// The schema layer (422): shapes, types, enums, unknown fields. `create` also checks required
/// fields.
fn check_schema(body: &Value, create: bool) -> Result<&Map<String, Value>, Problem> {
    let Some(obj) = body.as_object() else {
        return Err(invalid(vec!["$: expected an object".into()]));
    };
    let mut errors = Vec::new();
    let allowed: Vec<&str> = CONTAINER
        .iter()
        .chain(if create { CREATE } else { UPDATE })
        .copied()
        .collect();
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            errors.push(format!("$: additional properties '{k}' not allowed"));
        }
    }
    if create {
        for k in ["name", "type", "scaling"] {
            if !obj.contains_key(k) {
                errors.push(format!("$: missing property '{k}'"));
            }
        }
        if !obj.contains_key("image") && !obj.contains_key("templateId") {
            errors.push("$: missing property 'image'".into());
        }
    }
    if let Some(v) = obj.get("name")
        && v.as_str().is_none_or(str::is_empty)
    {
        errors.push("$.name: expected a non-empty string".into());
    }
    if let Some(v) = obj.get("type")
        && !matches!(v.as_str(), Some("QUEUE" | "LOAD_BALANCER"))
    {
        errors.push(format!(
            "$.type: value must be one of 'QUEUE', 'LOAD_BALANCER', got {v}"
        ));
    }
    if let Some(v) = obj.get("image")
        && !v.is_string()
    {
        errors.push("$.image: expected a string".into());
    }
    if let Some(v) = obj.get("env")
        && !v
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string))
    {
        errors.push("$.env: expected an object of strings".into());
    }
    if let Some(s) = obj.get("scaling") {
        let keys: BTreeSet<&str> = s
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        match s["type"].as_str() {
            Some("QUEUE_DELAY")
                if keys == BTreeSet::from(["type", "queueDelay"])
                    && s["queueDelay"].as_f64().is_some_and(|v| v >= 0.5) => {}
            Some("REQUEST_COUNT")
                if keys == BTreeSet::from(["type", "requestCount"])
                    && s["requestCount"].as_u64().is_some_and(|v| v >= 1) => {}
            _ => errors.push(format!(
                "$.scaling: expected {{type: QUEUE_DELAY, queueDelay ≥ 0.5}} or {{type: \
                 REQUEST_COUNT, requestCount ≥ 1}}, got {s}"
            )),
        }
    }
    if let Some(g) = obj.get("gpu") {
        match g.as_object() {
            None => errors.push("$.gpu: expected an object".into()),
            Some(g) => {
                for k in g.keys() {
                    if ![
                        "pools",
                        "excludedTypes",
                        "count",
                        "allowedCudaVersions",
                        "minCudaVersion",
                    ]
                    .contains(&k.as_str())
                    {
                        errors.push(format!("$.gpu: additional properties '{k}' not allowed"));
                    }
                }
                let strings = |v: &Value| {
                    v.as_array().is_some_and(|a| {
                        a.iter().all(|x| x.as_str().is_some_and(|s| !s.is_empty()))
                    })
                };
                match g.get("pools") {
                    None if create => errors.push("$.gpu: missing property 'pools'".into()),
                    None => {}
                    Some(p) if !strings(p) || p.as_array().is_some_and(Vec::is_empty) => {
                        errors.push("$.gpu.pools: expected a non-empty array of pool ids".into())
                    }
                    Some(_) => {}
                }
                if let Some(x) = g.get("excludedTypes")
                    && !strings(x)
                {
                    errors.push("$.gpu.excludedTypes: expected an array of GPU type ids".into());
                }
                if let Some(c) = g.get("count")
                    && c.as_u64().is_none_or(|c| c < 1)
                {
                    errors.push("$.gpu.count: expected an integer ≥ 1".into());
                }
                let cuda = |v: &str| {
                    v.split_once('.').is_some_and(|(a, b)| {
                        !a.is_empty()
                            && !b.is_empty()
                            && a.bytes().all(|c| c.is_ascii_digit())
                            && b.bytes().all(|c| c.is_ascii_digit())
                    })
                };
                if let Some(m) = g.get("minCudaVersion")
                    && !m
                        .as_str()
                        .is_some_and(|m| cuda(m) || (!create && m.is_empty()))
                {
                    errors.push(format!(
                        "$.gpu.minCudaVersion: does not match pattern ^\\d+\\.\\d+$: {m}"
                    ));
                }
                if let Some(a) = g.get("allowedCudaVersions")
                    && !a
                        .as_array()
                        .is_some_and(|a| a.iter().all(|v| v.as_str().is_some_and(cuda)))
                {
                    errors.push("$.gpu.allowedCudaVersions: expected versions like 12.8".into());
                }
            }
        }
    }
    if let Some(c) = obj.get("cpu") {
        let ok = c.as_array().is_some_and(|a| {
            !a.is_empty()
                && a.iter().all(|x| {
                    x.as_object().is_some_and(|o| {
                        o.keys().all(|k| k == "id" || k == "vcpuCount")
                            && o.get("id")
                                .and_then(Value::as_str)
                                .is_some_and(|s| !s.is_empty())
                            && o.get("vcpuCount")
                                .and_then(Value::as_u64)
                                .is_some_and(|n| n >= 2 && n.is_power_of_two())
                    })
                })
        });
        if !ok {
            errors.push(format!(
                "$.cpu: expected [{{id, vcpuCount: a power of two ≥ 2}}], got {c}"
            ));
        }
    }
    if let Some(w) = obj.get("workers") {
        let ok = w.as_object().is_some_and(|o| {
            o.keys()
                .all(|k| ["min", "max", "idleTimeout"].contains(&k.as_str()))
                && o.get("min").is_some_and(Value::is_u64)
                && o.get("max").is_some_and(Value::is_u64)
                && o.get("idleTimeout")
                    .is_none_or(|t| t.as_u64().is_some_and(|t| (1..=3600).contains(&t)))
        });
        if !ok {
            errors.push(format!(
                "$.workers: expected {{min, max, idleTimeout 1..3600}}, got {w}"
            ));
        }
    }
    for k in ["dataCenterIds", "networkVolumes"] {
        if let Some(v) = obj.get(k)
            && !v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
        {
            errors.push(format!("$.{k}: expected an array of strings, got {v}"));
        }
    }
    if let Some(t) = obj.get("timeout")
        && !t.is_u64()
    {
        errors.push(format!("$.timeout: expected an integer (ms), got {t}"));
    }
    if let Some(f) = obj.get("flashboot")
        && !matches!(f.as_str(), Some("OFF" | "FLASHBOOT" | "PRIORITY_FLASHBOOT"))
    {
        errors.push(format!(
            "$.flashboot: value must be one of 'OFF', 'FLASHBOOT', 'PRIORITY_FLASHBOOT', got {f}"
        ));
    }
    if errors.is_empty() {
        Ok(obj)
    } else {
        Err(invalid(errors))
    }
}

/// The cross-field layer (400), on the endpoint as it would be stored.
fn check_rules(inner: &Inner, e: &Value) -> Result<(), Problem> {
    let gpu = e.get("gpu").is_some_and(|g| !g.is_null());
    let cpu = e.get("cpu").is_some_and(|c| !c.is_null());
    if gpu == cpu {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "specify exactly one of gpu or cpu",
        ));
    }
    if gpu {
        let g = &e["gpu"];
        if g["allowedCudaVersions"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
            && g["minCudaVersion"].as_str().is_some_and(|m| !m.is_empty())
        {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                "allowedCudaVersions and minCudaVersion cannot both be set",
            ));
        }
        let pools: Vec<&str> = g["pools"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for p in &pools {
            if catalog::gpu_pool(p).is_none() {
                return Err(problem(
                    StatusCode::BAD_REQUEST,
                    format!("unknown GPU pool {p}"),
                ));
            }
        }
        let members: Vec<&str> = pools
            .iter()
            .filter_map(|p| catalog::gpu_pool(p))
            .flat_map(|p| p.members.iter().copied())
            .collect();
        let excluded: Vec<&str> = g["excludedTypes"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).map(str::trim).collect())
            .unwrap_or_default();
        for x in &excluded {
            if !members.contains(x) {
                return Err(problem(
                    StatusCode::BAD_REQUEST,
                    format!("excluded GPU type {x} is not in the selected pools"),
                ));
            }
        }
        if members.iter().all(|m| excluded.contains(m)) {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                "excludedTypes leaves no GPU type in the selected pools",
            ));
        }
    }
    if e["type"] == "QUEUE"
        && e["scaling"]["type"] == "REQUEST_COUNT"
        && e["workers"].get("idleTimeout").is_some()
    {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "workers.idleTimeout is not allowed for QUEUE endpoints with REQUEST_COUNT scaling",
        ));
    }
    if e["type"] == "LOAD_BALANCER" && e["scaling"]["type"] != "REQUEST_COUNT" {
        return Err(invalid(vec![
            "$.scaling: LOAD_BALANCER endpoints need REQUEST_COUNT scaling".into(),
        ]));
    }
    for v in e["networkVolumes"].as_array().into_iter().flatten() {
        if !inner.volumes.iter().any(|x| x["id"] == *v) {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                format!("network volume {v} not found"),
            ));
        }
    }
    Ok(())
}

fn request_urls(id: &str, kind: &Value) -> Value {
    if kind == "LOAD_BALANCER" {
        let base = format!("https://{id}.api.runpod.ai");
        return json!({"base": base, "health": format!("{base}/ping")});
    }
    let b = format!("https://api.runpod.ai/v2/{id}");
    json!({"run": format!("{b}/run"), "runSync": format!("{b}/runsync"),
        "status": format!("{b}/status/{{job_id}}"), "stream": format!("{b}/stream/{{job_id}}"),
        "cancel": format!("{b}/cancel/{{job_id}}"), "retry": format!("{b}/retry/{{job_id}}"),
        "purgeQueue": format!("{b}/purge-queue"), "health": format!("{b}/health")})
}

fn create_endpoint(inner: &mut Inner, body: &Value) -> Result<Value, Problem> {
    let obj = check_schema(body, true)?.clone();
    let mut e = json!({
        "id": "", "name": obj["name"], "type": obj["type"],
        "image": obj.get("image").cloned().unwrap_or(json!("")),
        "args": "", "disk": 20, "ports": [], "env": {}, "registry": null,
        "workers": {"min": 0, "max": 3, "idleTimeout": 10},
        "dataCenterIds": [], "networkVolumes": [], "timeout": 300000, "flashboot": "OFF",
        "createdAt": "2026-11-23T12:00:00Z",
    });
    for (k, v) in &obj {
        if k != "templateId" {
            e[k] = v.clone();
        }
    }
    if let Some(g) = e.get_mut("gpu").and_then(Value::as_object_mut) {
        g.entry("count").or_insert(json!(1));
        g.entry("allowedCudaVersions").or_insert(json!([]));
        g.entry("minCudaVersion").or_insert(Value::Null);
    }
    let workers = e["workers"].as_object_mut().unwrap();
    workers.entry("min").or_insert(json!(0));
    workers.entry("max").or_insert(json!(3));
    if obj
        .get("workers")
        .is_none_or(|w| w.get("idleTimeout").is_none())
    {
        if obj["type"] == "QUEUE" && obj["scaling"]["type"] == "REQUEST_COUNT" {
            workers.remove("idleTimeout");
        } else {
            workers.insert("idleTimeout".into(), json!(10));
        }
    }
    check_rules(inner, &e)?;
    let id = inner.id();
    e["id"] = json!(id);
    e["requestUrls"] = request_urls(&id, &e["type"]);
    inner.endpoints.push(e.clone());
    Ok(e)
}

fn update_endpoint(inner: &mut Inner, id: &str, body: &Value) -> Result<Value, Problem> {
    let i = find(&inner.endpoints, id)?;
    let obj = check_schema(body, false)?.clone();
    let mut e = inner.endpoints[i].clone();
    let is_gpu = e.get("gpu").is_some_and(|g| !g.is_null());
    if obj.contains_key("gpu") && obj.contains_key("cpu") {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "specify at most one of gpu or cpu",
        ));
    }
    if obj.contains_key("gpu") && !is_gpu || obj.contains_key("cpu") && is_gpu {
        return Err(problem(
            StatusCode::BAD_REQUEST,
            "the compute family of an endpoint cannot change",
        ));
    }
    if let Some(g) = obj.get("gpu") {
        if g.get("excludedTypes").is_some() && g.get("pools").is_none() {
            return Err(invalid(vec!["$.gpu: excludedTypes requires pools".into()]));
        }
        let cur = e["gpu"].as_object_mut().unwrap();
        if let Some(p) = g.get("pools") {
            cur.insert("pools".into(), p.clone());
            // Sending pools without excludedTypes clears them.
            cur.insert(
                "excludedTypes".into(),
                g.get("excludedTypes").cloned().unwrap_or(json!([])),
            );
        }
        for k in ["count", "allowedCudaVersions", "minCudaVersion"] {
            if let Some(v) = g.get(k) {
                cur.insert(k.into(), v.clone());
            }
        }
        if cur["minCudaVersion"] == "" {
            cur.insert("minCudaVersion".into(), Value::Null);
        }
    }
    for (k, v) in &obj {
        if !matches!(k.as_str(), "gpu" | "templateId") {
            e[k] = v.clone();
        }
    }
    check_rules(inner, &e)?;
    inner.endpoints[i] = e.clone();
    Ok(e)
}

fn create_volume(inner: &mut Inner, body: &Value) -> Result<Value, Problem> {
    let Some(obj) = body.as_object() else {
        return Err(invalid(vec!["$: expected an object".into()]));
    };
    let mut errors = Vec::new();
    for k in obj.keys() {
        if !["name", "size", "dataCenter", "type"].contains(&k.as_str()) {
            errors.push(format!("$: additional properties '{k}' not allowed"));
        }
    }
    if obj
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        errors.push("$.name: expected a non-empty string".into());
    }
    if !obj
        .get("size")
        .and_then(Value::as_u64)
        .is_some_and(|s| (10..=4096).contains(&s))
    {
        errors.push("$.size: expected an integer in 10..4096".into());
    }
    if obj
        .get("dataCenter")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        errors.push("$.dataCenter: expected a data center id".into());
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let id = inner.id();
    let v = json!({"id": id, "name": obj["name"], "size": obj["size"],
        "dataCenter": obj["dataCenter"],
        "type": obj.get("type").cloned().unwrap_or(json!("STANDARD"))});
    inner.volumes.push(v.clone());
    Ok(v)
}

fn update_volume(inner: &mut Inner, id: &str, body: &Value) -> Result<Value, Problem> {
    let i = find(&inner.volumes, id)?;
    let Some(obj) = body.as_object().filter(|o| !o.is_empty()) else {
        return Err(invalid(vec!["$: at least one property".into()]));
    };
    if obj.keys().any(|k| k != "name" && k != "size") {
        return Err(invalid(vec!["$: only name and size can change".into()]));
    }
    let v = &mut inner.volumes[i];
    if let Some(size) = obj.get("size") {
        if size
            .as_u64()
            .is_none_or(|s| s < v["size"].as_u64().unwrap_or(0))
        {
            return Err(problem(
                StatusCode::BAD_REQUEST,
                "Invalid request body or size decrease attempted",
            ));
        }
        v["size"] = size.clone();
    }
    if let Some(name) = obj.get("name") {
        v["name"] = name.clone();
    }
    Ok(v.clone())
}
