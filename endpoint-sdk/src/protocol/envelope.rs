//! The session envelope: how a job's session id travels inside its input
//! (`{"$session": "<id>", "$input": <input>}`), the one field the platform hands to workers, so
//! SDK endpoints find it wherever they run.

use serde_json::Value;

/// The envelope key holding a job's session id.
pub const SESSION_KEY: &str = "$session";
/// The envelope key holding a job's input when it has a session id.
pub const INPUT_KEY: &str = "$input";

/// Wraps `input` with a session id.
pub fn wrap(session: &str, input: Value) -> Value {
    serde_json::json!({ SESSION_KEY: session, INPUT_KEY: input })
}

/// Splits a job's input into its session id (if it has one) and the input itself.
pub fn unwrap(input: Value) -> (Option<String>, Value) {
    match input {
        Value::Object(mut map)
            if map.len() == 2
                && map.contains_key(INPUT_KEY)
                && map.get(SESSION_KEY).is_some_and(Value::is_string) =>
        {
            let id = map
                .remove(SESSION_KEY)
                .and_then(|v| v.as_str().map(str::to_string));
            (id, map.remove(INPUT_KEY).unwrap_or(Value::Null))
        }
        other => (None, other),
    }
}

/// The session id a job's input names, without taking the input apart.
pub fn peek(input: &Value) -> Option<&str> {
    let map = input.as_object()?;
    if map.len() == 2 && map.contains_key(INPUT_KEY) {
        map.get(SESSION_KEY)?.as_str()
    } else {
        None
    }
}

/// The input inside its envelope (the input itself when it has none), without copying.
pub fn inner(input: &Value) -> &Value {
    match peek(input) {
        Some(_) => &input[INPUT_KEY],
        None => input,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_round_trips_and_plain_inputs_pass_through() {
        let wrapped = wrap("s1", serde_json::json!({"q": 1}));
        assert_eq!(peek(&wrapped), Some("s1"));
        assert_eq!(
            unwrap(wrapped),
            (Some("s1".into()), serde_json::json!({"q": 1}))
        );
        let plain = serde_json::json!({"$session": "not an envelope", "q": 1, "r": 2});
        assert_eq!(peek(&plain), None);
        assert_eq!(unwrap(plain.clone()), (None, plain));
    }
}
