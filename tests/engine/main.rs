//! Engine tests: render every template and every operation with the ECK engine, compare the result with the
//! committed JSON snapshots in `tests/engine/snapshots/`, and validate every rendered object against the real
//! ECK 3.5 CRD schemas read from `../shared/crds/eck` (skipped, with a message, when that folder is absent).
//!
//! Update snapshots after an intended change with `UPDATE_SNAPSHOTS=1 cargo test --test engine`, then review
//! the diff before committing.

mod cases;
mod crd;
mod render_snapshots;
mod schema;
mod snapshot;
