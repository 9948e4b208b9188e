//! Who sent a request and under which id: the request id (set by the `x-request-id` middleware) and the
//! source address (from the socket). Audit rows and logs use both.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use http::request::Parts;

/// The request id and source address of the current request.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// Value of the `x-request-id` header set by the request-id middleware.
    pub request_id: Option<String>,
    /// The peer address, when the server was started with connect info.
    pub source_addr: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let source_addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        Ok(Self {
            request_id,
            source_addr,
        })
    }
}
