//! Watches: newline-delimited JSON events (ADDED / MODIFIED / DELETED / BOOKMARK / ERROR) streamed from the event
//! log, with selector transitions (an object that starts or stops matching is ADDED or DELETED), periodic
//! bookmarks, `sendInitialEvents` with the `k8s.io/initial-events-end` bookmark, `timeoutSeconds`, and an ERROR
//! event with code 410 when the requested resourceVersion is older than the retained window. Every watch ends
//! when the store restarts empty ([`super::Sim::restart_empty`]), as connections to a restarted server do.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::Shared;
use super::read::matches;
use super::registry::ResourceKind;
use super::render::{self, Format};
use super::selector::{FieldSelector, LabelSelector};
use super::status::StatusError;
use super::store::{EventType, LogEntry};
use super::stored::Stored;

/// A watch request.
#[derive(Debug, Clone)]
pub struct WatchReq {
    /// Kind index.
    pub kind: usize,
    /// Namespace filter.
    pub ns: Option<String>,
    /// labelSelector.
    pub labels: LabelSelector,
    /// fieldSelector.
    pub fields: FieldSelector,
    /// resourceVersion to start after (None or "0": start with the current state as ADDED events).
    pub rv: Option<String>,
    /// sendInitialEvents=true.
    pub send_initial: bool,
    /// allowWatchBookmarks=true.
    pub bookmarks: bool,
    /// timeoutSeconds.
    pub timeout: Duration,
    /// Output format.
    pub fmt: Format,
}

type Tx = mpsc::Sender<Result<Bytes, Infallible>>;

/// Start a watch: answers at once with a streaming body fed by a background task.
pub fn start(sh: Arc<Shared>, req: WatchReq) -> Response {
    let (tx, rx) = mpsc::channel(256);
    // Subscribed before answering, so a restart right after the answer still ends this watch.
    let restart_rx = sh.restarts.subscribe();
    tokio::spawn(run(sh, req, tx, restart_rx));
    let mut resp = Response::new(Body::from_stream(ReceiverStream::new(rx)));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn line(etype: &str, object: &Value) -> Bytes {
    let mut out =
        serde_json::to_vec(&json!({ "type": etype, "object": object })).unwrap_or_default();
    out.push(b'\n');
    Bytes::from(out)
}

/// `{"type":...,"object":...}\n` serialized straight from the stored object.
fn event_line(etype: &str, k: &ResourceKind, obj: &Stored, fmt: Format) -> Bytes {
    let mut out = Vec::with_capacity(obj.json().len() + 64);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(etype.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    render::write_object(&mut out, k, obj, fmt);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn bookmark(k: &ResourceKind, fmt: Format, rv: u64, initial_end: bool) -> Bytes {
    let (kind, av) = match fmt {
        Format::Metadata | Format::LeanMetadata => (
            "PartialObjectMetadata".to_string(),
            "meta.k8s.io/v1".to_string(),
        ),
        _ => (k.kind.clone(), k.api_version()),
    };
    let mut m = json!({ "resourceVersion": rv.to_string() });
    if initial_end {
        m["annotations"] = json!({ "k8s.io/initial-events-end": "true" });
    }
    line(
        "BOOKMARK",
        &json!({ "kind": kind, "apiVersion": av, "metadata": m }),
    )
}

fn gone_line(requested: u64, oldest: u64) -> Bytes {
    let e = StatusError::gone(format!("too old resource version: {requested} ({oldest})"));
    line("ERROR", &e.to_json())
}

/// Event type to send for a log entry, taking selector transitions into account.
fn classify(req: &WatchReq, e: &LogEntry) -> Option<EventType> {
    let in_ns = |o: &Stored| req.ns.as_deref().is_none_or(|ns| o.namespace == ns);
    if !in_ns(&e.obj) {
        return None;
    }
    let now = matches(&req.labels, &req.fields, &e.obj);
    match e.etype {
        EventType::Added | EventType::Deleted => now.then_some(e.etype),
        EventType::Modified => {
            let before = e
                .prev
                .as_ref()
                .is_some_and(|p| matches(&req.labels, &req.fields, p));
            match (before, now) {
                (true, true) => Some(EventType::Modified),
                (false, true) => Some(EventType::Added),
                (true, false) => Some(EventType::Deleted),
                (false, false) => None,
            }
        }
    }
}

/// Where a watch starts.
enum Start {
    /// Unparsable resourceVersion.
    Bad,
    /// Requested resourceVersion (first) is older than the window (second).
    Gone(u64, u64),
    /// Stream changes after this resourceVersion.
    From(u64),
    /// Send these objects as ADDED first, then changes after the resourceVersion.
    Initial(Vec<Arc<Stored>>, u64),
}

async fn send(tx: &Tx, b: Bytes) -> bool {
    tx.send(Ok(b)).await.is_ok()
}

async fn run(
    sh: Arc<Shared>,
    req: WatchReq,
    tx: Tx,
    mut restart_rx: tokio::sync::watch::Receiver<u64>,
) {
    let k = sh.registry.get(req.kind).clone();
    let deadline = tokio::time::Instant::now() + req.timeout;
    let mut rv_rx = sh.rv_tx.subscribe();
    let requested = req
        .rv
        .as_deref()
        .filter(|r| !r.is_empty() && *r != "0")
        .map(|r| r.parse::<u64>());
    let start = {
        let st = sh.lock();
        match requested {
            Some(Err(_)) => Start::Bad,
            Some(Ok(rv)) if !req.send_initial && rv < st.kinds[req.kind].compacted_rv => {
                Start::Gone(rv, st.kinds[req.kind].compacted_rv)
            }
            Some(Ok(rv)) if !req.send_initial => Start::From(rv),
            _ => {
                let items: Vec<Arc<Stored>> = st.kinds[req.kind]
                    .candidates(req.ns.as_deref(), &req.labels)
                    .iter()
                    .filter_map(|key| st.kinds[req.kind].objects.get(key))
                    .filter(|o| matches(&req.labels, &req.fields, o))
                    .cloned()
                    .collect();
                Start::Initial(items, st.rv)
            }
        }
    };
    let mut cursor = match start {
        Start::Bad => {
            let e = StatusError::bad_request(format!("invalid resource version: {:?}", req.rv));
            send(&tx, line("ERROR", &e.to_json())).await;
            return;
        }
        Start::Gone(rv, oldest) => {
            sh.gone.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            send(&tx, gone_line(rv, oldest)).await;
            return;
        }
        Start::From(rv) => rv,
        Start::Initial(items, rv) => {
            for o in &items {
                if !send(&tx, event_line("ADDED", &k, o, req.fmt)).await {
                    return;
                }
            }
            if req.send_initial && !send(&tx, bookmark(&k, req.fmt, rv, true)).await {
                return;
            }
            rv
        }
    };
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + sh.bookmark_interval,
        sh.bookmark_interval,
    );
    loop {
        // Drain what happened after the cursor, in batches so the lock is held briefly.
        loop {
            let (batch, next, expired) = {
                let st = sh.lock();
                let log = &st.kinds[req.kind].log;
                if cursor < st.kinds[req.kind].compacted_rv {
                    (Vec::new(), cursor, Some(st.kinds[req.kind].compacted_rv))
                } else {
                    let start = log.partition_point(|e| e.rv <= cursor);
                    let end = (start + 1000).min(log.len());
                    let batch: Vec<LogEntry> = log.range(start..end).cloned().collect();
                    let next = if end == log.len() {
                        st.rv.max(cursor)
                    } else {
                        log.get(end - 1).map_or(cursor, |e| e.rv)
                    };
                    (batch, next, None)
                }
            };
            if let Some(oldest) = expired {
                sh.gone.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                send(&tx, gone_line(cursor, oldest)).await;
                return;
            }
            for e in &batch {
                if let Some(t) = classify(&req, e)
                    && !send(&tx, event_line(t.as_str(), &k, &e.obj, req.fmt)).await
                {
                    return;
                }
            }
            let done = next == cursor || next >= sh.lock().rv;
            cursor = next;
            if done {
                break;
            }
        }
        tokio::select! {
            changed = rv_rx.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep_until(deadline) => return,
            // The API server restarted (Sim::restart_empty): its connections end.
            _ = restart_rx.changed() => return,
            _ = tick.tick(), if req.bookmarks => {
                if !send(&tx, bookmark(&k, req.fmt, cursor, false)).await {
                    return;
                }
            }
            _ = tx.closed() => return,
        }
    }
}
