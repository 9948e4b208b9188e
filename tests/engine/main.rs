//! Engine tests: render every template and every operation with the ECK engine, compare the result with the
//! committed JSON snapshots in `tests/engine/snapshots/`, and validate every rendered object against the real
//! ECK 3.5 CRD schemas read from the shared folder beside the repository (see `crd.rs`; skipped with a message when
//! it is absent, a failure when `CI` or `ESAAS_TEST_NO_SKIP` is set).
//!
//! Update snapshots after an intended change with `UPDATE_SNAPSHOTS=1 cargo test --test engine`, then review
//! the diff before committing.

mod cases;
mod crd;
mod exposure;
mod render_snapshots;
mod schema;
#[path = "../common/skip.rs"]
mod skip;
mod snapshot;
