//! Logs as the platform expects them: with `RUNPOD_ENDPOINT_ID` set, one JSON object per line,
//! `{"requestId": "<job id>|null", "message": "...", "level": "INFO"}` (messages cut to 4096
//! characters), so the console attaches each line to its request; human-readable otherwise.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{EnvFilter, Layer};

/// The job a span belongs to, recorded from its `request_id` field.
struct RequestId(String);

/// Records `request_id` fields of spans so that log lines can carry them.
struct RequestIds;

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for RequestIds {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        struct Find(Option<String>);
        impl Visit for Find {
            fn record_str(&mut self, f: &Field, v: &str) {
                if f.name() == "request_id" {
                    self.0 = Some(v.to_string());
                }
            }
            fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
                if f.name() == "request_id" {
                    self.0 = Some(format!("{v:?}").trim_matches('"').to_string());
                }
            }
        }
        let mut find = Find(None);
        attrs.record(&mut find);
        if let (Some(rid), Some(span)) = (find.0, ctx.span(id)) {
            span.extensions_mut().insert(RequestId(rid));
        }
    }
}

/// The platform's JSON line format.
struct RunpodJson;

impl<S, N> FormatEvent<S, N> for RunpodJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        /// The message, then the event's other fields as ` key=value`.
        #[derive(Default)]
        struct Message {
            text: String,
            fields: String,
        }
        impl Visit for Message {
            fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    let _ = write!(self.text, "{v:?}");
                } else {
                    let _ = write!(self.fields, " {}={v:?}", f.name());
                }
            }
            fn record_str(&mut self, f: &Field, v: &str) {
                if f.name() == "message" {
                    self.text.push_str(v);
                } else {
                    let _ = write!(self.fields, " {}={v}", f.name());
                }
            }
        }
        let mut msg = Message::default();
        event.record(&mut msg);
        msg.text.push_str(&msg.fields);
        let request_id = ctx.event_scope().and_then(|scope| {
            scope
                .from_root()
                .filter_map(|span| span.extensions().get::<RequestId>().map(|r| r.0.clone()))
                .last()
        });
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => "ERROR",
            tracing::Level::WARN => "WARN",
            tracing::Level::INFO => "INFO",
            tracing::Level::DEBUG => "DEBUG",
            tracing::Level::TRACE => "TRACE",
        };
        let message: String = msg.text.trim().chars().take(4096).collect();
        let line = serde_json::json!({
            "requestId": request_id,
            "message": message,
            "level": level,
        });
        writeln!(writer, "{line}")
    }
}

/// Sets up logging for a worker. `RUNPOD_LOG_LEVEL` (or `RUST_LOG`) sets the level; `info` by
/// default.
pub fn init(json: bool) {
    let (level, env) = filter();
    if json {
        let fmt = tracing_subscriber::fmt::layer()
            .event_format(RunpodJson)
            .with_writer(std::io::stdout);
        let _ = tracing_subscriber::registry()
            .with(RequestIds)
            .with(fmt)
            .with(level)
            .with(env)
            .try_init();
    } else {
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
        let _ = tracing_subscriber::registry()
            .with(fmt)
            .with(level)
            .with(env)
            .try_init();
    }
}

/// The worker's filter, from the first of `RUNPOD_LOG_LEVEL` (any case) and `RUST_LOG` that
/// reads: a plain level (the usual `INFO`) as a `LevelFilter`, which costs a job's spans and
/// events nothing past the level check, anything else (`endpoint_sdk=debug,...`) as an
/// `EnvFilter`; `info` when neither is set or reads.
fn filter() -> (Option<LevelFilter>, Option<EnvFilter>) {
    let specs = [
        std::env::var(crate::protocol::vars::RUNPOD_LOG_LEVEL)
            .ok()
            .map(|l| l.to_ascii_lowercase()),
        std::env::var(EnvFilter::DEFAULT_ENV).ok(),
    ];
    for spec in specs.into_iter().flatten() {
        if let Ok(level) = spec.trim().parse::<LevelFilter>() {
            return (Some(level), None);
        }
        if let Ok(env) = EnvFilter::try_new(&spec) {
            return (None, Some(env));
        }
    }
    (Some(LevelFilter::INFO), None)
}
