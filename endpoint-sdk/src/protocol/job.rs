//! The job object a worker receives from `job-take`: `{"id", "input", "webhook", "s3Config"}`,
//! and how a worker reads what `job-take` answered.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A job as `job-take` hands it to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobObject {
    /// The job id.
    pub id: String,
    /// Its input.
    pub input: Value,
    /// The webhook, passed through as the platform does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// `s3Config`, passed through.
    #[serde(default, rename = "s3Config", skip_serializing_if = "Option::is_none")]
    pub s3_config: Option<Value>,
}

/// One entry of a `job-take` answer, as a worker reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum TakenEntry {
    /// A job to run.
    Job(JobObject),
    /// A job with an id but no `input`: the worker fails it rather than run it.
    NoInput(String),
    /// An entry without an id: nothing can be done with it.
    NoId,
}

/// Reads a `job-take` body: one job object, or an array of them (`job-take-batch`). An empty or
/// unreadable body (as the platform sends after a FlashBoot resume) reads as no job.
pub fn read_take(body: &[u8]) -> Vec<TakenEntry> {
    let items = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => items,
        Ok(item @ Value::Object(_)) => vec![item],
        _ => return Vec::new(),
    };
    items.into_iter().map(entry).collect()
}

fn entry(item: Value) -> TakenEntry {
    let Value::Object(mut map) = item else {
        return TakenEntry::NoId;
    };
    let Some(Value::String(id)) = map.remove("id") else {
        return TakenEntry::NoId;
    };
    let Some(input) = map.remove("input") else {
        return TakenEntry::NoInput(id);
    };
    TakenEntry::Job(JobObject {
        id,
        input,
        webhook: map
            .remove("webhook")
            .and_then(|w| w.as_str().map(str::to_string)),
        s3_config: map.remove("s3Config"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn take_answers_are_read_whole_or_entry_by_entry() {
        let one = read_take(br#"{"id": "j1", "input": {"x": 1}, "s3Config": {"b": 2}}"#);
        assert_eq!(
            one,
            vec![TakenEntry::Job(JobObject {
                id: "j1".into(),
                input: json!({"x": 1}),
                webhook: None,
                s3_config: Some(json!({"b": 2})),
            })]
        );
        let batch = read_take(br#"[{"id": "a", "input": 1}, {"id": "b"}, {"input": 2}, 3]"#);
        assert_eq!(batch.len(), 4);
        assert_eq!(batch[1], TakenEntry::NoInput("b".into()));
        assert_eq!(batch[2], TakenEntry::NoId);
        assert_eq!(batch[3], TakenEntry::NoId);
        assert!(read_take(b"").is_empty());
        assert!(read_take(b"not json").is_empty());
        let wire = serde_json::to_value(JobObject {
            id: "j".into(),
            input: json!(null),
            webhook: Some("http://h".into()),
            s3_config: None,
        })
        .unwrap();
        assert_eq!(
            wire,
            json!({"id": "j", "input": null, "webhook": "http://h"})
        );
    }
}
