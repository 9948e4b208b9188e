//! Graceful shutdown: a request in flight when the signal comes is answered in full before the server
//! stops (the `esaas::run` that `esaas serve` uses), and `esaas serve` itself stops cleanly on SIGTERM
//! (exit 0, "stopped" logged, no new connections afterwards).

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::test]
async fn a_request_in_flight_is_answered_before_the_server_stops() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
    let entered_tx = std::sync::Arc::new(std::sync::Mutex::new(Some(entered_tx)));
    let app = Router::new().route(
        "/slow",
        get(move || {
            let entered = entered_tx.lock().unwrap().take();
            async move {
                if let Some(tx) = entered {
                    let _ = tx.send(());
                }
                tokio::time::sleep(Duration::from_millis(800)).await;
                "finished"
            }
        }),
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(esaas::run(listener, app, async move {
        let _ = stop_rx.await;
    }));
    let url = format!("http://{addr}/slow");
    let request = tokio::spawn(async move { reqwest::get(url).await?.text().await });
    entered_rx.await.unwrap();
    // The signal comes while the handler sleeps.
    stop_tx.send(()).unwrap();
    let body = request
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(body, "finished");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops once the request is done")
        .unwrap()
        .unwrap();
    assert!(
        reqwest::get(format!("http://{addr}/slow")).await.is_err(),
        "no new connections after the shutdown"
    );
}

/// The URL of this test's own database.
fn database_url(pool: &PgPool) -> String {
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for database tests");
    let name = pool.connect_options().get_database().unwrap().to_owned();
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    url.to_string()
}

#[sqlx::test]
async fn esaas_serve_stops_cleanly_on_sigterm(pool: PgPool) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_esaas"))
        .arg("serve")
        .env("DATABASE_URL", database_url(&pool))
        .env("ESAAS_LISTEN", "127.0.0.1:0")
        .env("ESAAS_KUBE", "sim")
        .env("ESAAS_SIM_LISTEN", "")
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("ESaaS Portal listening") {
                let at = line.find("addr=").expect("the address is logged") + 5;
                return line[at..].split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("esaas serve ended before listening");
    })
    .await
    .expect("esaas serve listens within 60 s");
    let ready = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("esaas serve stops within 20 s of SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push_str(&line);
        rest.push('\n');
    }
    assert!(rest.contains("shutdown signal received"), "{rest}");
    assert!(rest.contains("stopped"), "{rest}");
    assert!(
        reqwest::get(format!("http://{addr}/readyz")).await.is_err(),
        "nothing listens any more"
    );
}
