//! Real receivers for the delivery tests: an HTTP receiver (axum on 127.0.0.1:0) that records every request
//! and answers as scripted, a "hanging" receiver that accepts connections and never answers, and a small
//! SMTP sink over a `TcpListener` that speaks enough SMTP for lettre and keeps every message it is given.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request an HTTP receiver saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When it arrived.
    pub at: Instant,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its exact body bytes.
    pub body: Bytes,
}

impl Seen {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> &str {
        self.headers[name].to_str().unwrap()
    }
}

#[derive(Clone)]
struct Script {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// Answer 500 to the first `failures` requests, then 200.
    failures: usize,
    /// Answer every request with `302 Found` to this location instead.
    redirect_to: Option<String>,
    /// Make failure answers this many bytes long.
    failure_bytes: usize,
}

/// An HTTP receiver on a loopback port.
pub struct HttpReceiver {
    /// Where it listens.
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl HttpReceiver {
    /// A receiver answering 200 to everything.
    pub async fn ok() -> Self {
        Self::failing(0).await
    }

    /// A receiver answering `500 boom` to the first `failures` requests (`usize::MAX`: always), then 200.
    pub async fn failing(failures: usize) -> Self {
        Self::start(failures, None, 4).await
    }

    /// A receiver redirecting every request to `location`.
    pub async fn redirecting(location: String) -> Self {
        Self::start(0, Some(location), 0).await
    }

    /// A receiver always failing with a 500 answer of `bytes` bytes.
    pub async fn failing_at_length(bytes: usize) -> Self {
        Self::start(usize::MAX, None, bytes).await
    }

    async fn start(failures: usize, redirect_to: Option<String>, failure_bytes: usize) -> Self {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Script {
            seen: seen.clone(),
            failures,
            redirect_to,
            failure_bytes,
        };
        let app = axum::Router::new().fallback(receive).with_state(script);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { addr, seen }
    }

    /// `http://127.0.0.1:<port>/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// `http://localhost:<port>/hook` (a host name, so the resolver's check runs).
    pub fn url_by_name(&self) -> String {
        format!("http://localhost:{}/hook", self.addr.port())
    }

    /// Everything seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn receive(
    State(script): State<Script>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut seen = script.seen.lock().unwrap();
    seen.push(Seen {
        at: Instant::now(),
        headers,
        body,
    });
    if let Some(location) = &script.redirect_to {
        return (
            StatusCode::FOUND,
            [(axum::http::header::LOCATION, location.clone())],
        )
            .into_response();
    }
    if seen.len() <= script.failures {
        let text = "boom"
            .chars()
            .cycle()
            .take(script.failure_bytes)
            .collect::<String>();
        (StatusCode::INTERNAL_SERVER_ERROR, text).into_response()
    } else {
        (StatusCode::OK, "thanks").into_response()
    }
}

/// A receiver that accepts connections and never reads or answers (the sockets stay open).
pub async fn hanging() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// One message an SMTP sink accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message (headers and body), dot-unstuffed.
    pub data: String,
}

/// An SMTP sink on a loopback port; its messages.
pub async fn smtp_sink() -> (SocketAddr, Arc<Mutex<Vec<Mail>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mails = Arc::new(Mutex::new(Vec::new()));
    let store = mails.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(smtp_session(socket, store.clone()));
        }
    });
    (addr, mails)
}

async fn smtp_session(socket: tokio::net::TcpStream, store: Arc<Mutex<Vec<Mail>>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    reply(&mut write, "220 sink.test ESMTP ready\r\n").await;
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            reply(&mut write, "250-sink.test\r\n250 8BITMIME\r\n").await;
        } else if upper.starts_with("MAIL FROM:") {
            from = addr_of(&line);
            to.clear();
            reply(&mut write, "250 2.1.0 OK\r\n").await;
        } else if upper.starts_with("RCPT TO:") {
            to.push(addr_of(&line));
            reply(&mut write, "250 2.1.5 OK\r\n").await;
        } else if upper.starts_with("DATA") {
            reply(&mut write, "354 end with <CRLF>.<CRLF>\r\n").await;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if lines.read_line(&mut l).await.unwrap_or(0) == 0 {
                    return;
                }
                if l == ".\r\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            store.lock().unwrap().push(Mail {
                from: from.clone(),
                to: to.clone(),
                data,
            });
            reply(&mut write, "250 2.0.0 queued\r\n").await;
        } else if upper.starts_with("QUIT") {
            reply(&mut write, "221 2.0.0 bye\r\n").await;
            return;
        } else {
            reply(&mut write, "250 OK\r\n").await;
        }
    }
}

async fn reply(w: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) {
    let _ = w.write_all(text.as_bytes()).await;
}

fn addr_of(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_owned()
}
