//! The one test harness every test binary shares. Include it from a test binary with
//! `#[path = "../common/mod.rs"] mod common;`.
//!
//! - [`app`]: [`TestApp`], a portal served on a loopback port over the test's own database (one per test,
//!   made by `#[sqlx::test]`), built with [`TestApp::init`]:
//!   `TestApp::init(pool).config(|c| ..).background().with_tenant("acme", limits)
//!   .with_member("member@acme.test", Role::Member).spawn().await`.
//! - [`session`]: a signed-in [`Session`] (cookie client and CSRF token, GET and form POST helpers) and the
//!   login through the real form.
//! - [`tenants`], [`users`], [`tokens`]: rows made directly (tenants, memberships, users, API tokens), for
//!   tests with or without a running portal.
//! - [`rows`]: counting a table's rows.
//! - [`k8s`]: the custom resources the tests read back from the simulated Kubernetes.
//! - [`poll`], [`portal_process`]: waiting for lagging effects; `esaas serve` as a real process.
//!
//! `skip.rs`, `poll.rs` and `ready_watch.rs` beside this file are also included on their own, by the binaries
//! that need no portal (`engine`, `sim`) or only those (`lifecycle` for `ready_watch`).
#![allow(dead_code, unused_imports)]

pub mod app;
pub mod k8s;
pub mod poll;
pub mod portal_process;
pub mod rows;
pub mod session;
pub mod tenants;
pub mod tokens;
pub mod users;

pub use app::{TestApp, TestAppBuilder};
pub use rows::count_rows;
pub use session::{Session, input_value};
pub use tenants::{add_member, create_tenant, create_tenant_named, create_tenant_with_limits};
pub use tokens::{api_token, create_token};
pub use users::create_user;

/// A password that passes the strength check (every user the harness makes has it).
pub const PASSWORD: &str = "correct horse battery staple";
