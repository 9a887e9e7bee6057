//! Load-balancing endpoints (`#[endpoint]` on a function that builds an axum `Router`): their
//! ports and health check, the platform's per-request cap, and the keys that mean nothing
//! without a queue, each refused with what to use instead
//! (`shared/reference/load-balancing-and-streaming.md` §1–3).

use crate::diagnostic::Diagnostics;
use crate::model::{EndpointKind, LoadBalancer, Scaler, defaults, limits};
use crate::spec::{Int, Spec};

use super::support::group;

/// The endpoint's kind, with its load-balancing settings checked. On a queue endpoint the
/// load-balancing keys are refused; on a load-balancing one, the queue's.
pub(super) fn check_kind<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) -> EndpointKind {
    if spec.load_balancer.is_none() {
        refuse_lb_keys(spec, d);
        return EndpointKind::Queue;
    }
    refuse_queue_keys(spec, d);
    check_request_cap(spec, d);
    let port = port(spec.port.as_ref(), "port", d).unwrap_or(defaults::LB_PORT);
    let health_port = port_or(spec.health_port.as_ref(), "health_port", port, d);
    let health_path = check_health_path(spec, d, port == health_port);
    EndpointKind::LoadBalancer(LoadBalancer {
        port,
        health_port,
        health_path: health_path.into(),
    })
}

/// The scaler of a load-balancing endpoint when `scaler` is not set.
pub(super) fn default_scaler() -> Scaler {
    Scaler::RequestCount(defaults::LB_REQUESTS_PER_WORKER)
}

fn refuse_lb_keys<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) {
    let name = &spec.fn_name.value;
    let set = [
        ("port", spec.port.as_ref().map(|p| p.span)),
        ("health_port", spec.health_port.as_ref().map(|p| p.span)),
        ("health_path", spec.health_path.as_ref().map(|p| p.span)),
    ];
    for (key, span) in set {
        if let Some(span) = span {
            d.error(
                span,
                format!(
                    "`{key}` is a setting of load-balancing endpoints, and `{name}` is a queue \
                     endpoint (its handler takes jobs)"
                ),
            )
            .with_help(format!(
                "remove `{key}`; an endpoint whose function builds an axum `Router` \
                 (`fn {name}() -> Router`) is a load-balancing endpoint"
            ));
        }
    }
}

fn refuse_queue_keys<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) {
    if let Some(c) = &spec.concurrency {
        d.error(
            c.span,
            "`concurrency` means nothing for a load-balancing endpoint: it is the number of queue \
             jobs a worker takes at once, and a load-balancing worker's server takes every \
             request the balancer sends it",
        )
        .with_help(
            "remove `concurrency`; `scaler = request_count(N)` sets how many requests in flight \
             each worker is given before the platform adds one",
        );
    }
    if let Some(s) = &spec.scaler
        && s.kind.value.to_ascii_lowercase().replace('_', "") == "queuedelay"
    {
        d.error(
            s.kind.span,
            "a load-balancing endpoint has no queue to measure: the platform scales it by \
             requests in flight",
        )
        .with_help(format!(
            "use `scaler = request_count({})`: ceil(requests in flight / N) workers",
            s.value.value.max(1)
        ));
    }
    if let Some(p) = &spec.plain_input
        && p.value
    {
        d.error(
            p.span,
            "`plain_input` is about the envelope of a queue job's input; a load-balancing \
             endpoint takes plain HTTP requests",
        )
        .with_help("remove `plain_input`");
    }
}

/// The platform ends a load-balancing request after 5.5 minutes, whatever the endpoint says.
fn check_request_cap<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>) {
    let cap = i128::from(limits::LB_REQUEST_MS);
    if let Some(t) = &spec.execution_timeout_ms
        && t.value > cap
    {
        d.error(
            t.span,
            format!(
                "`execution_timeout_ms = {}` is longer than a load-balancing request may run: \
                 the platform answers 524 after 5.5 minutes ({} ms)",
                group(t.value),
                group(cap)
            ),
        )
        .with_help(format!(
            "set `execution_timeout_ms` at most {}; hand longer work to a queue endpoint \
             that the app calls (its jobs may run for days)",
            group(cap)
        ));
    }
}

fn port<S: Copy>(p: Option<&Int<S>>, key: &str, d: &mut Diagnostics<S>) -> Option<u16> {
    let p = p?;
    match u16::try_from(p.value) {
        Ok(v) if limits::PORT.contains(&p.value) => Some(v),
        _ => {
            d.error(p.span, format!("`{key} = {}` is not a TCP port", p.value))
                .with_help(format!(
                    "a port from 1 to 65535, e.g. `{key} = {}`",
                    defaults::LB_PORT
                ));
            None
        }
    }
}

fn port_or<S: Copy>(p: Option<&Int<S>>, key: &str, or: u16, d: &mut Diagnostics<S>) -> u16 {
    port(p, key, d).unwrap_or(or)
}

/// The health path: absolute, without a query, and (when the health check shares the app's
/// port) not one of the app's own routes, which it would shadow.
fn check_health_path<S: Copy>(spec: &Spec<S>, d: &mut Diagnostics<S>, same_port: bool) -> String {
    let path = match &spec.health_path {
        None => defaults::LB_HEALTH_PATH.to_string(),
        Some(p) => {
            let v = &p.value;
            if !v.starts_with('/') || v.contains(['?', '#']) || v.contains(char::is_whitespace) {
                d.error(
                    p.span,
                    format!("`health_path = {v:?}` is not a URL path the platform can poll"),
                )
                .with_help(
                    "an absolute path without query or spaces, e.g. `health_path = \"/healthz\"`",
                );
                return defaults::LB_HEALTH_PATH.to_string();
            }
            v.clone()
        }
    };
    if same_port {
        for route in spec.app_routes.iter().filter(|r| r.value == path) {
            d.error(
                route.span,
                format!(
                    "`{path}` is where the platform checks the worker's health \
                     (HEALTH_CHECK_PATH), and the SDK answers it on the app's port: this route \
                     would never be reached"
                ),
            )
            .with_help(
                "route the handler elsewhere, or move the check with `health_path = \"/healthz\"` \
                 (or onto a port of its own with `health_port = 8081`)",
            );
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::super::support::testing::{int, name, run, spec};
    use super::*;
    use crate::spec::{ScalerSpec, Spanned};

    fn lb() -> Spec<u32> {
        let mut s = spec();
        s.load_balancer = Some(90);
        s
    }

    fn messages(
        kind_and: (EndpointKind, Vec<crate::Diagnostic<u32>>),
    ) -> Vec<crate::Diagnostic<u32>> {
        kind_and.1
    }

    #[test]
    fn a_load_balancer_takes_the_platforms_defaults() {
        let s = lb();
        let (kind, problems) = run(|d| check_kind(&s, d));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(kind, EndpointKind::LoadBalancer(LoadBalancer::default()));
        assert_eq!(default_scaler(), Scaler::RequestCount(4));
    }

    #[test]
    fn ports_and_path_are_read_and_the_health_port_follows_the_app_port() {
        let mut s = lb();
        s.port = Some(int(8080, 1));
        s.health_path = Some(name("/healthz", 2));
        let (kind, problems) = run(|d| check_kind(&s, d));
        assert!(problems.is_empty(), "{problems:?}");
        let EndpointKind::LoadBalancer(lb) = kind else {
            panic!("load-balancing")
        };
        assert_eq!((lb.port, lb.health_port), (8080, 8080));
        assert_eq!(lb.health_path, "/healthz");
        s.health_port = Some(int(8081, 3));
        let EndpointKind::LoadBalancer(lb) = run(|d| check_kind(&s, d)).0 else {
            panic!("load-balancing")
        };
        assert_eq!(lb.health_port, 8081);
    }

    #[test]
    fn bad_ports_and_paths_are_refused() {
        let mut s = lb();
        s.port = Some(int(0, 1));
        s.health_port = Some(int(70_000, 2));
        s.health_path = Some(name("ping?x=1", 3));
        let problems = messages(run(|d| check_kind(&s, d)));
        let spans: Vec<u32> = problems.iter().map(|p| p.span).collect();
        assert_eq!(spans, [1, 2, 3], "{problems:?}");
        assert!(problems[0].message.contains("not a TCP port"));
        assert!(problems[2].message.contains("not a URL path"));
    }

    #[test]
    fn a_route_on_the_health_path_is_refused_only_on_the_shared_port() {
        let mut s = lb();
        s.app_routes = vec![name("/chat", 5), name("/ping", 6)];
        let problems = messages(run(|d| check_kind(&s, d)));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].span, 6);
        assert!(problems[0].message.contains("never be reached"));
        s.health_port = Some(int(8081, 7));
        assert!(messages(run(|d| check_kind(&s, d))).is_empty());
        s.health_port = None;
        s.health_path = Some(name("/healthz", 8));
        assert!(messages(run(|d| check_kind(&s, d))).is_empty());
    }

    #[test]
    fn queue_keys_on_a_load_balancer_say_what_to_use_instead() {
        let mut s = lb();
        s.concurrency = Some(int(4, 1));
        s.scaler = Some(ScalerSpec {
            kind: name("queue_delay", 2),
            value: int(3, 3),
            span: 4,
        });
        s.plain_input = Some(Spanned::new(true, 5));
        s.execution_timeout_ms = Some(int(600_000, 6));
        let problems = messages(run(|d| check_kind(&s, d)));
        let spans: Vec<u32> = problems.iter().map(|p| p.span).collect();
        assert_eq!(spans, [1, 2, 5, 6], "{problems:?}");
        assert!(problems[0].message.contains("`concurrency` means nothing"));
        assert!(problems[1].message.contains("no queue"));
        assert!(problems[3].message.contains("524"));
    }

    #[test]
    fn load_balancing_keys_on_a_queue_endpoint_are_refused() {
        let mut s = spec();
        s.port = Some(int(8080, 1));
        s.health_path = Some(name("/healthz", 2));
        let (kind, problems) = run(|d| check_kind(&s, d));
        assert_eq!(kind, EndpointKind::Queue);
        let spans: Vec<u32> = problems.iter().map(|p| p.span).collect();
        assert_eq!(spans, [1, 2]);
        assert!(
            problems[0].message.contains("queue endpoint"),
            "{problems:?}"
        );
    }
}
