//! Server-sent events read from a streamed body: each event as soon as its blank line arrives
//! (the `text/event-stream` format: `data:` lines joined by newlines, `event:`, `id:`; comments
//! and `retry:` ignored).

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, BodyDataStream};
use futures_core::Stream;

/// One server-sent event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// `event:`, when the server named the event.
    pub event: Option<String>,
    /// The `data:` lines, joined by newlines.
    pub data: String,
    /// `id:`, when the server set one.
    pub id: Option<String>,
}

/// The events of a `text/event-stream` body, each as it completes.
pub struct SseStream {
    body: BodyDataStream,
    buffer: Vec<u8>,
    ready: VecDeque<SseEvent>,
    done: bool,
}

impl SseStream {
    pub(crate) fn new(body: Body) -> Self {
        SseStream {
            body: body.into_data_stream(),
            buffer: Vec::new(),
            ready: VecDeque::new(),
            done: false,
        }
    }

    /// The next event; `None` when the body ends.
    pub async fn next(&mut self) -> Option<Result<SseEvent, axum::Error>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// Takes every complete event out of the buffer.
    fn parse(&mut self) {
        drain_events(&mut self.buffer, &mut self.ready);
    }
}

/// Moves every complete event at the start of `buffer` to `ready`; what follows the last blank
/// line stays in `buffer`.
pub(super) fn drain_events(buffer: &mut Vec<u8>, ready: &mut VecDeque<SseEvent>) {
    while let Some(end) = find_blank_line(buffer) {
        let block: Vec<u8> = buffer.drain(..end.0).collect();
        buffer.drain(..end.1 - end.0);
        if let Some(e) = event_of(&String::from_utf8_lossy(&block)) {
            ready.push_back(e);
        }
    }
}

/// The last event of a body that ended without its blank line.
pub(super) fn last_event(rest: &[u8]) -> Option<SseEvent> {
    event_of(&String::from_utf8_lossy(rest))
}

/// The first blank line: (where the event ends, where the next begins).
fn find_blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    for (i, w) in buf.windows(2).enumerate() {
        if w == b"\n\n" {
            return Some((i, i + 2));
        }
        if w == b"\r\n" && buf.get(i + 2..i + 4) == Some(b"\r\n") {
            return Some((i, i + 4));
        }
    }
    None
}

fn event_of(block: &str) -> Option<SseEvent> {
    let mut e = SseEvent::default();
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => data.push(value),
            "event" => e.event = Some(value.to_string()),
            "id" => e.id = Some(value.to_string()),
            _ => {}
        }
    }
    if data.is_empty() && e.event.is_none() {
        return None;
    }
    e.data = data.join("\n");
    Some(e)
}

impl Stream for SseStream {
    type Item = Result<SseEvent, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(e) = self.ready.pop_front() {
                return Poll::Ready(Some(Ok(e)));
            }
            if self.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.body).poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    self.buffer.extend_from_slice(&bytes);
                    self.parse();
                }
                Poll::Ready(Some(Err(e))) => {
                    self.done = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    self.done = true;
                    // A last event without its blank line still counts.
                    let rest = std::mem::take(&mut self.buffer);
                    if let Some(e) = last_event(&rest) {
                        self.ready.push_back(e);
                    }
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn events(chunks: Vec<&'static str>) -> Vec<SseEvent> {
        let body = Body::from_stream(futures_util::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, std::io::Error>(axum::body::Bytes::from(c))),
        ));
        let mut s = SseStream::new(body);
        let mut out = Vec::new();
        while let Some(e) = s.next().await {
            out.push(e.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn events_split_across_chunks_and_lines_are_put_back_together() {
        let got = events(vec![
            ": a comment\n\nevent: token\nda",
            "ta: hel\ndata: lo\nid: 7\n\n",
            "data: {\"done\":true}\r\n\r\ndata: last",
        ])
        .await;
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].event.as_deref(), Some("token"));
        assert_eq!(got[0].data, "hel\nlo");
        assert_eq!(got[0].id.as_deref(), Some("7"));
        assert_eq!(got[1].data, "{\"done\":true}");
        assert_eq!(got[2].data, "last");
    }
}
