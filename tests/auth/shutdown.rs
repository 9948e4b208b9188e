//! Graceful shutdown: a request in flight when the signal comes is answered in full before the server
//! stops (the `esaas::run` that `esaas serve` uses), and `esaas serve` itself stops cleanly on SIGTERM
//! (exit 0, "stopped" logged, no new connections afterwards).

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use sqlx::PgPool;

use crate::common::portal_process::Portal;

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

#[sqlx::test]
async fn esaas_serve_stops_cleanly_on_sigterm(pool: PgPool) {
    let portal = Portal::start(&pool, &[]).await;
    let ready = reqwest::get(portal.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let url = portal.url("/readyz");
    let (code, lines) = portal.stop().await;
    assert_eq!(code, Some(0));
    let log = lines.join("\n");
    assert!(log.contains("shutdown signal received"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    assert!(reqwest::get(url).await.is_err(), "nothing listens any more");
}
