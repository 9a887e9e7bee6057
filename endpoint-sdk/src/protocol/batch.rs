//! Several stream chunks in one `job-stream` post. The platform takes one chunk per post (`{"output":
//! chunk}`); a worker whose posts cost a network round trip would fall behind a fast producer,
//! so while a post is in flight the production worker gathers the next chunks and sends them
//! together as one chunk `{"$chunks": [c1, c2, ..]}`, in order, under the platform's 1 MB limit
//! per chunk. This SDK's readers (and `app dev`, as it receives the post) take such a chunk
//! apart, so its callers see `c1`, `c2`, .. one by one; a client that does not know the format
//! (the official Python or JS client reading the platform's `/stream`) sees the one object
//! `{"$chunks": [..]}` where the worker fell behind, and plain chunks everywhere else.

use serde_json::Value;

/// The key of a chunk that carries several.
pub const BATCH_KEY: &str = "$chunks";

/// The most one post carries: the platform's limit for one stream chunk.
pub const BATCH_LIMIT: usize = 1024 * 1024;

/// The chunks `chunk` stands for: a batch's items, in order, or `chunk` itself.
pub fn unbatch(chunk: Value) -> Vec<Value> {
    match chunk {
        Value::Object(mut map)
            if map.len() == 1 && map.get(BATCH_KEY).is_some_and(Value::is_array) =>
        {
            match map.remove(BATCH_KEY) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            }
        }
        other => vec![other],
    }
}

/// The body of a `job-stream` post of `chunks`, each already serialized: `{"output": chunk}`
/// for one, `{"output": {"$chunks": [..]}}` for several.
pub fn post_body(chunks: &[Vec<u8>]) -> Vec<u8> {
    let size: usize = chunks.iter().map(|c| c.len() + 1).sum();
    let mut body = Vec::with_capacity(size + 32);
    body.extend_from_slice(b"{\"output\":");
    match chunks {
        [one] => body.extend_from_slice(one),
        several => {
            body.extend_from_slice(b"{\"");
            body.extend_from_slice(BATCH_KEY.as_bytes());
            body.extend_from_slice(b"\":[");
            for (i, c) in several.iter().enumerate() {
                if i > 0 {
                    body.push(b',');
                }
                body.extend_from_slice(c);
            }
            body.extend_from_slice(b"]}");
        }
    }
    body.push(b'}');
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bytes(v: &Value) -> Vec<u8> {
        serde_json::to_vec(v).unwrap()
    }

    #[test]
    fn one_chunk_posts_as_itself_and_several_as_a_batch_that_reads_back_in_order() {
        let one: Value = serde_json::from_slice(&post_body(&[bytes(&json!("a"))])).unwrap();
        assert_eq!(one, json!({"output": "a"}));
        assert_eq!(unbatch(one["output"].clone()), [json!("a")]);
        let chunks = [json!({"i": 1}), json!([2]), json!(null)];
        let body: Value =
            serde_json::from_slice(&post_body(&chunks.iter().map(bytes).collect::<Vec<_>>()))
                .unwrap();
        assert_eq!(body, json!({"output": {"$chunks": [{"i": 1}, [2], null]}}));
        assert_eq!(unbatch(body["output"].clone()), chunks);
        // Anything else is one chunk, even an object that merely mentions the key.
        let other = json!({"$chunks": [1], "more": true});
        assert_eq!(unbatch(other.clone()), [other]);
    }
}
