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
        /// One line as the platform reads it, serialized from borrowed parts.
        #[derive(serde::Serialize)]
        struct Line<'a> {
            #[serde(rename = "requestId")]
            request_id: Option<&'a str>,
            message: &'a str,
            level: &'a str,
        }
        let text = msg.text.trim();
        // At most 4096 characters, cut on a character boundary.
        let message = match text.char_indices().nth(4096) {
            Some((cut, _)) => &text[..cut],
            None => text,
        };
        let line = Line {
            request_id: request_id.as_deref(),
            message,
            level,
        };
        let json = serde_json::to_string(&line).map_err(|_| std::fmt::Error)?;
        writeln!(writer, "{json}")
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

/// Logs to stderr, `RUST_LOG` overriding `info` (a no-op if the application set up its own):
/// `app dev` and a test job, read by a person.
pub(crate) fn init_stderr() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log redirected to a file stays plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::sync::{Arc, Mutex};

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn json_lines_carry_the_request_id_and_cut_long_messages_on_a_character() {
        let buf = Buf::default();
        let w = buf.clone();
        let subscriber = tracing_subscriber::registry().with(RequestIds).with(
            tracing_subscriber::fmt::layer()
                .event_format(RunpodJson)
                .with_writer(move || w.clone()),
        );
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("outside a job");
            let span = tracing::info_span!("job", request_id = "job-1");
            let _in = span.enter();
            tracing::info!(n = 3, "hello \"there\"");
            tracing::warn!("{}", "é".repeat(5_000));
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines[0],
            json!({"requestId": null, "message": "outside a job", "level": "INFO"})
        );
        assert_eq!(
            lines[1],
            json!({"requestId": "job-1", "message": "hello \"there\" n=3", "level": "INFO"})
        );
        let long = lines[2]["message"].as_str().unwrap();
        assert_eq!(long.chars().count(), 4096);
        assert!(long.chars().all(|c| c == 'é'));
        assert_eq!(lines[2]["level"], "WARN");
    }
}
