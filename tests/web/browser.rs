//! Real-browser tests: headless Chromium driven over WebDriver (chromedriver, started by the test on a free
//! port; `scripts/lib/ensure-chromium.sh` installs both). When chromedriver is absent the tests say so and
//! pass without running, or fail where skips are forbidden (`CI`, scripts/test.sh). Screenshots of the main
//! pages land in `target/screenshots/` for reviewers. [`Browser`] and its helpers are shared with the other
//! browser tests (`browser_elasticsearch`).
//!
//! The flow: log in, request a three-node cluster from the template, watch the dashboard turn green on the
//! simulated Kubernetes (htmx refreshes it, no reload), scale to 5, restart, delete by typing the name, and
//! land on the list once it is gone. And: a request over the quota is refused at the field while typing.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use esaas::tenants::Role;
use esaas::tenants::quota::Resources;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use sqlx::PgPool;

use crate::skip::skip_or_fail;
use crate::{Fixture, PASSWORD, ROOMY};

const CHROMEDRIVER: &str = "chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver process and a browser session; the driver is killed on drop.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    /// chromedriver's port, for the log endpoint fantoccini does not wrap.
    port: u16,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    /// Start chromedriver and a headless Chromium for `test`; `None` when chromedriver is missing (after
    /// [`skip_or_fail`], which panics where skips are forbidden).
    pub async fn start(test: &str) -> Option<Self> {
        if Command::new(CHROMEDRIVER)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_err()
        {
            skip_or_fail(
                test,
                &format!(
                    "`{CHROMEDRIVER}` is not installed (scripts/lib/ensure-chromium.sh installs it)"
                ),
            );
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        // Console messages (CSP violations, script errors) are read back through `/se/log`.
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("cannot start a browser session: {e}"),
            }
        };
        Some(Self {
            client,
            driver,
            port,
            _profile: profile,
        })
    }

    /// Screenshot the page, after checking its console is clean ([`Self::assert_console_clean`]).
    pub async fn screenshot(&self, name: &str) {
        self.assert_console_clean(name).await;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// The browser console's errors since the last call: every SEVERE entry (script errors, failed
    /// loads, blocked inline code) and anything mentioning the Content Security Policy.
    pub async fn console_errors(&self) -> Vec<String> {
        let id = self.client.session_id().await.unwrap().expect("a session");
        let r = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/session/{id}/se/log",
                self.port
            ))
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "chromedriver log: {}", r.status());
        let v: serde_json::Value = r.json().await.unwrap();
        let entries = v["value"].as_array().expect("a log array");
        let message = |e: &serde_json::Value| e["message"].as_str().unwrap_or_default().to_owned();
        // htmx logs an aborted request (with its `htmx:afterRequest`) as an error: `hx-sync="this:replace"`
        // aborts a quota preview when the next keystroke sends a newer one, and a form submit aborts an
        // in-flight preview. That is by design, so those two are not counted when an abort was logged.
        let aborted = entries
            .iter()
            .any(|e| message(e).contains("htmx:sendAbort"));
        entries
            .iter()
            .filter(|e| {
                let msg = message(e);
                let abort_noise = aborted
                    && msg.contains("/static/vendor/htmx-")
                    && (msg.contains("htmx:sendAbort") || msg.contains("htmx:afterRequest"));
                (e["level"] == "SEVERE" || msg.contains("Content Security Policy")) && !abort_noise
            })
            .map(|e| format!("{}: {}", e["level"], e["message"]))
            .collect()
    }

    /// Fail if the console has errors or CSP violations (read at each screenshot and at the end).
    pub async fn assert_console_clean(&self, page: &str) {
        self.assert_console_clean_except(page, &[]).await;
    }

    /// [`Self::assert_console_clean`], allowing entries that contain one of `expected` (a refused form
    /// answers 422 on purpose, which Chrome logs as a failed load).
    pub async fn assert_console_clean_except(&self, page: &str, expected: &[&str]) {
        let errors: Vec<String> = self
            .console_errors()
            .await
            .into_iter()
            .filter(|e| !expected.iter().any(|x| e.contains(x)))
            .collect();
        assert!(errors.is_empty(), "browser console at {page}: {errors:#?}");
    }

    pub async fn css(&self, selector: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no {selector}: {e}"))
    }

    /// Wait until the text of `selector` satisfies `ok` (the page refreshes itself through htmx).
    pub async fn wait_text(
        &self,
        selector: &str,
        what: &str,
        ok: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> String {
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(selector)).await
                && let Ok(text) = el.text().await
            {
                if ok(&text) {
                    return text;
                }
                last = text;
            }
            if Instant::now() > deadline {
                let _ = self
                    .screenshot(&format!("failed-{}", what.replace(' ', "-")))
                    .await;
                panic!("{selector} never became {what}; last text: {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_owned()
    }

    pub async fn login(&self, base: &str, email: &str) {
        self.client.goto(&format!("{base}/login")).await.unwrap();
        self.css("#email").await.send_keys(email).await.unwrap();
        self.css("#password")
            .await
            .send_keys(PASSWORD)
            .await
            .unwrap();
    }

    pub async fn submit_login(&self) {
        self.css("form button[type=submit]")
            .await
            .click()
            .await
            .unwrap();
        // The login page has a <main> too: wait until the browser has left it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.path().await == "/login" {
            assert!(
                Instant::now() < deadline,
                "still on /login after submitting"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.css("main").await;
    }

    /// Scroll an element to the middle of the screen and click it. The dashboard and the list refresh
    /// themselves through htmx, so an element found a moment ago may have been swapped out (stale) or covered
    /// while the swap settles: find it again and retry until the deadline.
    pub async fn click(&self, selector: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let el = self.css(selector).await;
            let attempt = async {
                self.client
                    .execute(
                        "arguments[0].scrollIntoView({block: 'center'});",
                        vec![serde_json::to_value(&el).unwrap()],
                    )
                    .await?;
                el.click().await
            }
            .await;
            match attempt {
                Ok(_) => return,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("retrying a click on {selector}: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("cannot click {selector}: {e}"),
            }
        }
    }

    /// Replace the value of an input, retrying when a refresh swapped the element out mid-way.
    pub async fn set_value(&self, selector: &str, value: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let el = self.css(selector).await;
            let attempt = async {
                el.clear().await?;
                el.send_keys(value).await
            }
            .await;
            match attempt {
                Ok(()) => return,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("retrying typing into {selector}: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("cannot type into {selector}: {e}"),
            }
        }
    }
}

#[sqlx::test]
async fn request_watch_scale_restart_delete_in_a_browser(pool: PgPool) {
    let f = Fixture::new(pool, ROOMY, 200).await;
    let Some(b) = Browser::start("request_watch_scale_restart_delete_in_a_browser").await else {
        return;
    };
    let base = f.app.url("");
    let base = base.trim_end_matches('/');
    f.user("member@acme.test", Role::Member).await;

    b.login(base, "member@acme.test").await;
    b.screenshot("01-login").await;
    b.submit_login().await;
    assert_eq!(
        b.path().await,
        "/t/acme/clusters",
        "home leads to the tenant's clusters"
    );
    b.css(".empty-state").await;
    b.screenshot("02-clusters-empty").await;

    // Request a three-node cluster from the template.
    b.click("a[href='/t/acme/clusters/new']").await;
    b.click("a[href='/t/acme/clusters/new?template=three-nodes']")
        .await;
    b.set_value("#f-name", "logs").await;
    b.set_value("#f-node_sets-0-count", "5").await;
    // htmx updates the preview while typing: 5 nodes requested.
    b.wait_text(
        "#quota-row-nodes",
        "5 nodes requested",
        |t| t.contains("+5"),
        Duration::from_secs(10),
    )
    .await;
    b.set_value("#f-node_sets-0-count", "3").await;
    b.wait_text(
        "#quota-row-nodes",
        "3 nodes requested",
        |t| t.contains("+3"),
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("03-request-form-with-preview").await;
    b.click("#submit-request").await;

    // The dashboard turns green without a reload.
    b.css("#cluster-health").await;
    assert_eq!(b.path().await, "/t/acme/clusters/logs");
    assert!(
        b.client
            .source()
            .await
            .unwrap()
            .contains("Cluster logs requested")
    );
    b.wait_text(
        "#cluster-health",
        "green",
        |t| t == "green",
        Duration::from_secs(30),
    )
    .await;
    b.wait_text(
        "#cluster-nodes",
        "3/3",
        |t| t == "3/3",
        Duration::from_secs(30),
    )
    .await;
    b.wait_text(
        "#ops-heading + .timeline",
        "create succeeded",
        |t| t.contains("create · succeeded"),
        Duration::from_secs(30),
    )
    .await;
    b.screenshot("04-dashboard-green").await;
    b.client
        .execute(
            "document.getElementById('pods-heading').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    b.screenshot("04b-dashboard-pods-and-charts").await;
    b.client.set_window_size(375, 900).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.client
        .goto(&format!("{base}/t/acme/clusters/logs"))
        .await
        .unwrap();
    b.css("#cluster-health").await;
    b.screenshot("05-dashboard-375px").await;
    let widths = b
        .client
        .execute(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        widths[0].as_i64() <= widths[1].as_i64(),
        "the page must not scroll sideways at 375 px (tables scroll inside their box): {widths}"
    );
    b.client.set_window_size(1280, 900).await.unwrap();

    // Scale to 5 through the confirmation page.
    b.click("a[href='/t/acme/clusters/logs/scale?node_set=default']")
        .await;
    b.set_value("#f-count", "5").await;
    // The quota panel follows the typed count (htmx), before anything is submitted.
    b.wait_text(
        "#quota-row-nodes",
        "2 more nodes",
        |t| t.contains("+2"),
        Duration::from_secs(10),
    )
    .await;
    b.click("#confirm-action").await;
    b.wait_text(
        ".flash-success",
        "scale accepted",
        |t| t.contains("Scaling node set default to 5"),
        Duration::from_secs(10),
    )
    .await;
    b.wait_text(
        "#cluster-nodes",
        "5/5",
        |t| t == "5/5",
        Duration::from_secs(30),
    )
    .await;
    b.wait_text(
        "#ops-heading + .timeline",
        "scale succeeded",
        |t| t.contains("scale · succeeded"),
        Duration::from_secs(30),
    )
    .await;

    b.client
        .goto(&format!("{base}/t/acme/clusters"))
        .await
        .unwrap();
    b.wait_text(
        "#cluster-logs",
        "listed",
        |t| t.contains("5/5") && t.contains("green"),
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("02b-clusters-list").await;
    b.click("#cluster-logs a").await;

    // Restart.
    b.click("a[href='/t/acme/clusters/logs/restart']").await;
    // The click starts a navigation; wait for the confirmation page rather than reading the old heading.
    b.wait_text(
        "h1",
        "the restart confirmation",
        |t| t.contains("Restart logs?"),
        Duration::from_secs(10),
    )
    .await;
    b.click("#confirm-action").await;
    b.wait_text(
        "#ops-heading + .timeline",
        "restart succeeded",
        |t| t.contains("restart · succeeded"),
        Duration::from_secs(45),
    )
    .await;
    b.wait_text(
        "#cluster-health",
        "green",
        |t| t == "green",
        Duration::from_secs(30),
    )
    .await;

    // Delete by typing the name; the dashboard sends us to the list once the cluster is gone.
    b.click("a[href='/t/acme/clusters/logs/delete']").await;
    b.set_value("#f-confirm_name", "logs").await;
    b.screenshot("06-delete-confirmation").await;
    b.click("#confirm-action").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while b.path().await != "/t/acme/clusters" {
        if Instant::now() > deadline {
            b.screenshot("failed-delete").await;
            let ops: Vec<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT kind::text, state::text, last_error FROM operations ORDER BY created_at",
            )
            .fetch_all(&f.app.pool)
            .await
            .unwrap_or_default();
            panic!(
                "never sent back to the list; at {} with operations {ops:?}",
                b.path().await
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    b.wait_text(
        "main",
        "cluster gone",
        |t| t.contains("no longer exists") && t.contains("No clusters yet"),
        Duration::from_secs(10),
    )
    .await;
    let live: i64 = sqlx::query_scalar("SELECT count(*) FROM clusters WHERE deleted_at IS NULL")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(live, 0);
    b.assert_console_clean("the end of the test").await;
    b.client.clone().close().await.unwrap();
}

#[sqlx::test]
async fn over_quota_request_is_refused_at_the_field_in_a_browser(pool: PgPool) {
    let limits = Resources { nodes: 5, ..ROOMY };
    let f = Fixture::new(pool, limits, 200).await;
    let Some(b) = Browser::start("over_quota_request_is_refused_at_the_field_in_a_browser").await
    else {
        return;
    };
    let base = f.app.url("");
    let base = base.trim_end_matches('/');
    f.user("member@acme.test", Role::Member).await;
    b.login(base, "member@acme.test").await;
    b.submit_login().await;
    b.client
        .goto(&format!("{base}/t/acme/clusters/new?template=three-nodes"))
        .await
        .unwrap();
    b.set_value("#f-name", "big").await;
    b.set_value("#f-node_sets-0-count", "7").await;
    // While typing: the message appears beside the count, the panel says the request would be refused.
    let msg = b
        .wait_text(
            "#q-node_sets-0-count",
            "the quota message",
            |t| t.contains("Exceeds the nodes quota"),
            Duration::from_secs(10),
        )
        .await;
    assert!(msg.contains("the tenant has 5 nodes left"), "{msg}");
    // Said once: the other fields and the panel's rows point at this one message.
    let refusals = b
        .client
        .find_all(Locator::Css(".field-error.quota-msg"))
        .await
        .unwrap();
    let mut shown = 0;
    for r in refusals {
        if !r.text().await.unwrap().trim().is_empty() {
            shown += 1;
        }
    }
    assert_eq!(shown, 1, "one message per exceeded limit");
    let next = b.css("#quota-next-step").await.text().await.unwrap();
    assert!(next.contains("ask a platform admin"), "{next}");
    b.wait_text(
        "#quota-preview",
        "refused",
        |t| t.contains("would be refused"),
        Duration::from_secs(5),
    )
    .await;
    b.click("#f-node_sets-0-count").await;
    b.screenshot("07-quota-refusal").await;
    // Submitting anyway: the page comes back with the same words at the same field (the service's refusal
    // and the preview share one wording, so no second banner says it differently).
    b.client
        .execute("document.body.dataset.before = 'submit'", vec![])
        .await
        .unwrap();
    b.click("#submit-request").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let marked = b
            .client
            .execute("return document.body.dataset.before || null", vec![])
            .await
            .unwrap();
        if marked.is_null()
            && b.client
                .find(Locator::Css("#q-node_sets-0-count"))
                .await
                .is_ok()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the refused request's page never came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = b.css("#q-node_sets-0-count").await.text().await.unwrap();
    assert_eq!(
        text.trim(),
        msg.trim(),
        "the same words before and after submitting"
    );
    assert!(
        b.client.find(Locator::Css("#quota-refusal")).await.is_err(),
        "no banner repeating the refusal in other words"
    );
    let value = b
        .css("#f-node_sets-0-count")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("7"));
    let clusters: i64 = sqlx::query_scalar("SELECT count(*) FROM clusters")
        .fetch_one(&f.app.pool)
        .await
        .unwrap();
    assert_eq!(clusters, 0);
    b.assert_console_clean_except(
        "the end of the test",
        &["/t/acme/clusters/new - Failed to load resource: the server responded with a status of 422"],
    )
    .await;
    b.client.clone().close().await.unwrap();
}

/// The console check can fail: an inline script added to a portal page is blocked by the CSP, and
/// [`Browser::console_errors`] reports the violation (the page itself stays as it is).
#[sqlx::test]
async fn the_console_check_reports_a_csp_violation(pool: PgPool) {
    let Some(b) = Browser::start("the_console_check_reports_a_csp_violation").await else {
        return;
    };
    let f = Fixture::new(pool, ROOMY, 0).await;
    f.app.create_user("dev@acme.test", PASSWORD, false).await;
    let base = f.app.url("");
    let base = base.trim_end_matches('/');
    b.client.goto(&format!("{base}/login")).await.unwrap();
    b.css("h1").await;
    assert_eq!(
        b.console_errors().await,
        Vec::<String>::new(),
        "the login page is clean"
    );
    b.client
        .execute(
            "const s = document.createElement('script'); s.textContent = 'window.ran = 1'; \
             document.body.appendChild(s); return window.ran === undefined;",
            vec![],
        )
        .await
        .map(|blocked| assert_eq!(blocked, json!(true), "the inline script was blocked"))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let errors = loop {
        let errors = b.console_errors().await;
        if !errors.is_empty() || Instant::now() > deadline {
            break errors;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        errors.iter().any(|e| e.contains("Content Security Policy")),
        "no violation reported: {errors:?}"
    );
    b.client.clone().close().await.unwrap();
}
