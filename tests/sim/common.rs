//! Shared helpers: building simulators, raw HTTP requests through the router, polling (`eventually`, from
//! tests/common/poll.rs).

use std::time::Duration;

use axum::body::Body;
use esaas::k8s::sim::{Sim, SimOptions};
use http::Request;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// An emulator without controllers.
pub fn api_only() -> Sim {
    Sim::new(SimOptions {
        kubelet_delay: Duration::ZERO,
        run_controllers: false,
        ..SimOptions::default()
    })
}

/// An emulator with controllers and an instant kubelet.
pub fn with_controllers() -> Sim {
    Sim::new(SimOptions {
        kubelet_delay: Duration::from_millis(5),
        run_controllers: true,
        ..SimOptions::default()
    })
}

/// A raw request through the router: (status, parsed JSON body or Null).
pub async fn raw(
    sim: &Sim,
    method: &str,
    uri: &str,
    content_type: &str,
    body: &str,
) -> (u16, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", content_type)
        .body(Body::from(body.to_string()))
        .expect("request");
    let resp = sim.router().oneshot(req).await.expect("router answers");
    let status = resp.status().as_u16();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub use crate::poll::eventually;
