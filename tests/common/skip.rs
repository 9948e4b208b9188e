//! Skip or fail: the one way a test handles a missing prerequisite (a program such as kubectl or
//! chromedriver, or the ECK CRDs beside the repository). Outside CI a developer without it gets a message
//! and a pass; when `CI` is set, or `ESAAS_TEST_NO_SKIP` is (scripts/test.sh sets it), the test fails, so a
//! green run means every test really ran. Include it with `#[path = "../common/skip.rs"] mod skip;`.
#![allow(dead_code)]

/// True when a missing prerequisite must fail the test instead of skipping it.
pub fn skips_forbidden() -> bool {
    let set = |name: &str| {
        std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
    };
    set("CI") || set("ESAAS_TEST_NO_SKIP")
}

/// Report that `test` cannot run because of `why`: panics when skips are forbidden, otherwise prints the
/// reason (shown by `cargo test -- --nocapture`) and returns, so the caller can `return` early.
#[track_caller]
pub fn skip_or_fail(test: &str, why: &str) {
    if skips_forbidden() {
        panic!(
            "{test} cannot run: {why} (skipping is not allowed when CI or ESAAS_TEST_NO_SKIP is set; \
             scripts/test.sh installs what the tests need)"
        );
    }
    eprintln!("SKIPPED {test}: {why}");
}
