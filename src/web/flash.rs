//! Flash messages: one-time messages set on a redirect and shown by the next page that renders the layout.
//!
//! They travel in a short-lived cookie `esaas_flash` (base64url JSON, `HttpOnly`, `SameSite=Lax`,
//! `Max-Age=60`, `Secure` over HTTPS). The cookie is not signed: its text is always HTML-escaped by askama
//! and it can only be set by this origin, so the worst a forged one does is show its own text to the person
//! who forged it. [`middleware`] reads the cookie at the start of a request and keeps the messages in a
//! task-local slot; [`crate::web::nav::layout_for`] takes them when it builds a page's layout, and the
//! middleware then clears the cookie, so messages survive redirects and non-HTML responses until a page
//! actually shows them.
//!
//! Handlers set messages with [`redirect_with`] (when they have a `CookieJar`) or [`redirect`].

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue, header};

use crate::state::AppState;
pub use crate::web::layout::{Flash, FlashKind};

/// Name of the flash cookie.
pub const FLASH_COOKIE: &str = "esaas_flash";
/// At most this many messages are carried at once (older ones are dropped).
const MAX_FLASHES: usize = 4;
/// Longest message carried (longer ones are cut).
const MAX_MESSAGE_CHARS: usize = 400;

tokio::task_local! {
    static PENDING: Arc<Mutex<Slot>>;
}

#[derive(Default)]
struct Slot {
    flashes: Vec<Flash>,
    taken: bool,
}

fn kind_from(s: &str) -> Option<FlashKind> {
    match s {
        "success" => Some(FlashKind::Success),
        "error" => Some(FlashKind::Error),
        "info" => Some(FlashKind::Info),
        _ => None,
    }
}

fn encode(flashes: &[Flash]) -> String {
    let pairs: Vec<(&str, &str)> = flashes
        .iter()
        .map(|f| (f.kind.as_str(), f.message.as_str()))
        .collect();
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&pairs).unwrap_or_default())
}

/// Decode a cookie value; `None` when malformed.
fn decode(value: &str) -> Option<Vec<Flash>> {
    let raw = URL_SAFE_NO_PAD.decode(value.as_bytes()).ok()?;
    let pairs: Vec<(String, String)> = serde_json::from_slice(&raw).ok()?;
    Some(
        pairs
            .into_iter()
            .filter_map(|(k, m)| {
                Some(Flash {
                    kind: kind_from(&k)?,
                    message: m.chars().take(MAX_MESSAGE_CHARS).collect(),
                })
            })
            .take(MAX_FLASHES)
            .collect(),
    )
}

fn cookie(value: String) -> Cookie<'static> {
    // Parsed rather than built: `Max-Age` takes a `time::Duration`, a crate we do not depend on directly.
    Cookie::parse(format!(
        "{FLASH_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
    ))
    .unwrap_or_else(|_| Cookie::build((FLASH_COOKIE, "")).path("/").build())
}

/// Add a message to the jar's flash cookie (keeping messages already queued in it).
pub fn set(jar: CookieJar, kind: FlashKind, message: impl Into<String>) -> CookieJar {
    let mut flashes = jar
        .get(FLASH_COOKIE)
        .and_then(|c| decode(c.value()))
        .unwrap_or_default();
    flashes.push(Flash {
        kind,
        message: message.into().chars().take(MAX_MESSAGE_CHARS).collect(),
    });
    let skip = flashes.len().saturating_sub(MAX_FLASHES);
    let value = encode(&flashes[skip..]);
    jar.add(cookie(value))
}

/// Redirect (303) to `to` with a message for the next page: `flash::redirect_with(jar, "/account",
/// FlashKind::Success, "Saved.")`.
pub fn redirect_with(
    jar: CookieJar,
    to: &str,
    kind: FlashKind,
    message: impl Into<String>,
) -> (CookieJar, Redirect) {
    (set(jar, kind, message), Redirect::to(to))
}

/// Like [`redirect_with`] for handlers without a `CookieJar` (replaces any queued message).
pub fn redirect(to: &str, kind: FlashKind, message: impl Into<String>) -> Response {
    redirect_with(CookieJar::new(), to, kind, message).into_response()
}

/// Take the messages of this request (the layout does this; afterwards the cookie is cleared). Empty
/// outside a request served through [`middleware`].
pub fn take() -> Vec<Flash> {
    PENDING
        .try_with(|slot| {
            let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
            slot.taken = true;
            std::mem::take(&mut slot.flashes)
        })
        .unwrap_or_default()
}

fn sets_flash_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(FLASH_COOKIE.as_bytes()))
}

/// Middleware (added in [`crate::build_app`]): makes the request's messages available to [`take`], clears the
/// cookie once they were shown, and marks outgoing flash cookies `Secure` over HTTPS.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let incoming = CookieJar::from_headers(req.headers())
        .get(FLASH_COOKIE)
        .map(|c| decode(c.value()));
    let slot = Arc::new(Mutex::new(Slot {
        flashes: incoming.clone().flatten().unwrap_or_default(),
        taken: false,
    }));
    let mut response = PENDING.scope(slot.clone(), next.run(req)).await;
    let taken = slot.lock().map(|s| s.taken).unwrap_or(true);
    let malformed = matches!(incoming, Some(None));
    let headers = response.headers_mut();
    if incoming.is_some() && (taken || malformed) && !sets_flash_cookie(headers) {
        let removal = Cookie::build((FLASH_COOKIE, ""))
            .path("/")
            .removal()
            .build();
        if let Ok(v) = HeaderValue::from_str(&removal.to_string()) {
            headers.append(header::SET_COOKIE, v);
        }
    }
    if state.config.is_https() && sets_flash_cookie(headers) {
        let values: Vec<HeaderValue> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        headers.remove(header::SET_COOKIE);
        for v in values {
            let secured = if v.as_bytes().starts_with(FLASH_COOKIE.as_bytes())
                && let Ok(s) = v.to_str()
                && !s.contains("; Secure")
            {
                HeaderValue::from_str(&format!("{s}; Secure")).unwrap_or(v)
            } else {
                v
            };
            headers.append(header::SET_COOKIE, secured);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_limits() {
        let jar = set(CookieJar::new(), FlashKind::Success, "Saved <b>x</b>");
        let jar = set(jar, FlashKind::Error, "x".repeat(1000));
        let decoded = decode(jar.get(FLASH_COOKIE).unwrap().value()).unwrap();
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[0].kind, FlashKind::Success);
        assert_eq!(decoded[0].message, "Saved <b>x</b>");
        assert_eq!(decoded[1].message.chars().count(), MAX_MESSAGE_CHARS);
        let mut jar = jar;
        for i in 0..10 {
            jar = set(jar, FlashKind::Info, format!("m{i}"));
        }
        let decoded = decode(jar.get(FLASH_COOKIE).unwrap().value()).unwrap();
        assert_eq!(decoded.len(), MAX_FLASHES);
        assert_eq!(decoded.last().unwrap().message, "m9");
    }

    #[test]
    fn malformed_cookies_are_ignored() {
        assert!(decode("%%%").is_none());
        assert!(decode(&URL_SAFE_NO_PAD.encode(b"{}")).is_none());
        let unknown_kind = URL_SAFE_NO_PAD.encode(br#"[["evil","x"],["info","ok"]]"#);
        let d = decode(&unknown_kind).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].kind, FlashKind::Info);
    }

    #[test]
    fn the_cookie_is_short_lived_and_http_only() {
        let c = cookie("x".into());
        assert_eq!(c.name(), FLASH_COOKIE);
        assert_eq!(c.http_only(), Some(true));
        assert_eq!(c.path(), Some("/"));
        assert_eq!(c.max_age().map(|d| d.whole_seconds()), Some(60));
    }

    #[test]
    fn take_outside_a_request_is_empty() {
        assert!(take().is_empty());
    }
}
