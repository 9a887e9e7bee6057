//! `GET /_dev/simulate`: the application's endpoints, as `app dev` runs them, through
//! `app simulate` (the scenario given to `app dev --scenario`, or the default one), answered as
//! the report's HTML page; `?duration=2h` shortens or lengthens the run, `?format=json` gives
//! the report as JSON. The dashboard links to it.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use crate::simulate::{Scenario, simulate as run};

/// The query of `/_dev/simulate`.
#[derive(Debug, Deserialize)]
pub(crate) struct SimulateQuery {
    duration: Option<String>,
    format: Option<String>,
}

/// `GET /_dev/simulate`.
pub(crate) async fn simulate(
    State(s): State<AppState>,
    Query(q): Query<SimulateQuery>,
) -> Response {
    let json = match q.format.as_deref() {
        None | Some("html") => false,
        Some("json") => true,
        Some(other) => {
            return refuse(format!(
                "format `{other}`: write ?format=json for the report as JSON, or leave it out \
                 for the page"
            ));
        }
    };
    let mut scenario = s
        .scenario
        .as_deref()
        .cloned()
        .unwrap_or_else(Scenario::default);
    if let Some(d) = &q.duration {
        match humantime::parse_duration(d) {
            Ok(d) => scenario.duration.0 = d,
            Err(e) => {
                return refuse(format!(
                    "duration `{d}`: {e} (write e.g. ?duration=2h or ?duration=30m)"
                ));
            }
        }
    }
    let configs: Vec<_> = s.runtime.configs().into_iter().cloned().collect();
    let app = crate::deploy::app_name();
    // A day of traffic is seconds of CPU: off the async threads.
    let report = tokio::task::spawn_blocking(move || run(&app, &configs, &scenario)).await;
    match report {
        Ok(Ok(report)) if json => Json(report).into_response(),
        Ok(Ok(report)) => Html(report.to_html()).into_response(),
        Ok(Err(e)) => refuse(e.to_string()),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the simulation stopped: {e}"),
        )
            .into_response(),
    }
}

fn refuse(why: String) -> Response {
    (StatusCode::BAD_REQUEST, why).into_response()
}
