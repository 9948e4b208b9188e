//! Watches: event types, bookmarks, timeoutSeconds, 410 Gone and the runtime watcher's relist, streaming lists
//! with the initial-events-end bookmark, selector transitions and metadata watches.

use std::time::{Duration, Instant};

use axum::body::Body;
use futures::{StreamExt, TryStreamExt};
use http::Request;
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{
    DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::core::PartialObjectMeta;
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, ResourceExt};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::api_only;

fn cm(name: &str, labels: Value) -> ConfigMap {
    serde_json::from_value(json!({ "metadata": { "name": name, "labels": labels } })).expect("cm")
}

async fn current_rv(api: &Api<ConfigMap>) -> String {
    api.list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("list rv")
}

#[tokio::test]
async fn added_modified_deleted_and_timeout() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    let rv = current_rv(&api).await;
    let started = Instant::now();
    let mut stream = api
        .watch(&WatchParams::default().timeout(2), &rv)
        .await
        .expect("watch")
        .boxed();
    api.create(&PostParams::default(), &cm("w", json!({})))
        .await
        .expect("create");
    api.patch(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({ "data": { "k": "v" } })),
    )
    .await
    .expect("patch");
    api.delete("w", &DeleteParams::default())
        .await
        .expect("delete");
    let mut kinds = Vec::new();
    while let Some(ev) = stream.try_next().await.expect("event") {
        match ev {
            WatchEvent::Added(o) => kinds.push(format!("ADDED {}", o.name_any())),
            WatchEvent::Modified(o) => kinds.push(format!("MODIFIED {}", o.name_any())),
            WatchEvent::Deleted(o) => {
                assert!(o.metadata.resource_version.is_some());
                kinds.push(format!("DELETED {}", o.name_any()))
            }
            WatchEvent::Bookmark(_) => kinds.push("BOOKMARK".into()),
            WatchEvent::Error(e) => panic!("unexpected error event {e:?}"),
        }
    }
    let elapsed = started.elapsed();
    let changes: Vec<&String> = kinds
        .iter()
        .filter(|k| !k.starts_with("BOOKMARK"))
        .collect();
    assert_eq!(changes, vec!["ADDED w", "MODIFIED w", "DELETED w"]);
    assert!(
        kinds.iter().any(|k| k == "BOOKMARK"),
        "bookmarks requested by default: {kinds:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_secs(6),
        "timeoutSeconds honoured: {elapsed:?}"
    );
}

#[tokio::test]
async fn too_old_resource_version_is_gone() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    let rv = current_rv(&api).await;
    sim.set_watch_window(3);
    for i in 0..6 {
        api.create(&PostParams::default(), &cm(&format!("g{i}"), json!({})))
            .await
            .expect("create");
    }
    let mut stream = api
        .watch(&WatchParams::default().timeout(5), &rv)
        .await
        .expect("watch")
        .boxed();
    match stream.try_next().await.expect("first event") {
        Some(WatchEvent::Error(e)) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Gone");
        }
        other => panic!("expected a 410 error event, got {other:?}"),
    }
}

#[tokio::test]
async fn each_kind_has_its_own_watch_window() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    api.create(&PostParams::default(), &cm("before", json!({})))
        .await
        .expect("create");
    let rv = current_rv(&api).await;
    sim.set_watch_window(3);
    // A burst of another kind (as Events are under load) must not push the config maps' history out.
    let secrets: Api<k8s_openapi::api::core::v1::Secret> = Api::default_namespaced(sim.client());
    for i in 0..10 {
        let s = serde_json::from_value(json!({ "metadata": { "name": format!("s{i}") } }))
            .expect("secret");
        secrets
            .create(&PostParams::default(), &s)
            .await
            .expect("secret");
    }
    api.create(&PostParams::default(), &cm("after", json!({})))
        .await
        .expect("create");
    let mut stream = api
        .watch(&WatchParams::default().timeout(2), &rv)
        .await
        .expect("watch")
        .boxed();
    match stream.try_next().await.expect("first event") {
        Some(WatchEvent::Added(o)) => assert_eq!(o.name_any(), "after"),
        other => panic!("expected the config map created after the burst, got {other:?}"),
    }
    assert_eq!(sim.watches_expired(), 0);
    // The secrets' own history is capped: a watch from before the burst is gone.
    let mut stream = secrets
        .watch(&WatchParams::default().timeout(2), &rv)
        .await
        .expect("watch")
        .boxed();
    assert!(matches!(
        stream.try_next().await.expect("first event"),
        Some(WatchEvent::Error(e)) if e.code == 410
    ));
    assert_eq!(sim.watches_expired(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_watcher_relists_after_gone() {
    let sim = api_only();
    let client = sim.client();
    let ns: Api<Namespace> = Api::all(client.clone());
    ns.create(
        &PostParams::default(),
        &serde_json::from_value(json!({ "metadata": { "name": "w410" } })).expect("ns"),
    )
    .await
    .expect("ns");
    let in_ns: Api<ConfigMap> = Api::namespaced(client.clone(), "w410");
    for i in 0..3 {
        in_ns
            .create(&PostParams::default(), &cm(&format!("c{i}"), json!({})))
            .await
            .expect("create");
    }
    let all: Api<ConfigMap> = Api::all(client.clone());
    let mut events = watcher(all, watcher::Config::default()).boxed();
    let mut inits = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("watcher event")
        {
            Some(Ok(watcher::Event::InitDone)) => break,
            Some(Ok(watcher::Event::Init)) => inits += 1,
            _ => {}
        }
    }
    // One atomic change producing more events than the window: the open watch falls out of the window.
    sim.set_watch_window(1);
    ns.delete("w410", &DeleteParams::default())
        .await
        .expect("delete ns");
    let mut saw_gone = false;
    let mut relisted_items = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("watcher keeps going")
        {
            Some(Err(e)) => {
                saw_gone |= e.to_string().contains("410") || format!("{e:?}").contains("410")
            }
            Some(Ok(watcher::Event::Init)) => inits += 1,
            Some(Ok(watcher::Event::InitApply(o))) => {
                relisted_items.push(o.namespace().unwrap_or_default())
            }
            Some(Ok(watcher::Event::InitDone)) if inits >= 2 => break,
            Some(_) => {}
            None => panic!("watcher ended"),
        }
    }
    assert!(saw_gone, "the watch must report 410");
    assert_eq!(inits, 2, "relisted once");
    assert!(
        !relisted_items.iter().any(|n| n == "w410"),
        "relist reflects the deletion"
    );
}

#[tokio::test]
async fn streaming_lists_end_with_the_initial_events_bookmark() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    for i in 0..3 {
        api.create(&PostParams::default(), &cm(&format!("s{i}"), json!({})))
            .await
            .expect("create");
    }
    let mut events = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut applied = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("event")
        {
            Some(Ok(watcher::Event::InitApply(_))) => applied += 1,
            Some(Ok(watcher::Event::InitDone)) => break,
            Some(Err(e)) => panic!("watcher error {e}"),
            _ => {}
        }
    }
    assert_eq!(applied, 3);
    api.create(&PostParams::default(), &cm("s9", json!({})))
        .await
        .expect("create after");
    let ev = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("apply event");
    assert!(matches!(ev, Some(Ok(watcher::Event::Apply(o))) if o.name_any() == "s9"));

    // The raw stream carries the annotated bookmark.
    let req = Request::get("/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")
        .body(Body::empty())
        .expect("request");
    let bytes = sim
        .router()
        .oneshot(req)
        .await
        .expect("answer")
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let lines: Vec<Value> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    let end = lines.iter().position(|l| {
        l["type"] == "BOOKMARK"
            && l.pointer("/object/metadata/annotations/k8s.io~1initial-events-end")
                == Some(&json!("true"))
    });
    assert_eq!(end, Some(4), "4 ADDED then the bookmark: {lines:?}");
}

#[tokio::test]
async fn selector_transitions_and_metadata_watch() {
    let sim = api_only();
    let api: Api<ConfigMap> = Api::default_namespaced(sim.client());
    api.create(&PostParams::default(), &cm("t", json!({ "app": "x" })))
        .await
        .expect("create");
    let rv = current_rv(&api).await;
    let mut stream = api
        .watch(&WatchParams::default().labels("app=x").timeout(2), &rv)
        .await
        .expect("watch")
        .boxed();
    api.patch(
        "t",
        &PatchParams::default(),
        &Patch::Merge(json!({ "metadata": { "labels": { "app": "y" } } })),
    )
    .await
    .expect("relabel");
    api.patch(
        "t",
        &PatchParams::default(),
        &Patch::Merge(json!({ "metadata": { "labels": { "app": "x" } } })),
    )
    .await
    .expect("relabel back");
    let mut seen = Vec::new();
    while let Some(ev) = stream.try_next().await.expect("event") {
        match ev {
            WatchEvent::Added(_) => seen.push("ADDED"),
            WatchEvent::Deleted(_) => seen.push("DELETED"),
            WatchEvent::Modified(_) => seen.push("MODIFIED"),
            _ => {}
        }
    }
    assert_eq!(seen, vec!["DELETED", "ADDED"]);

    let meta_api: Api<PartialObjectMeta<ConfigMap>> = Api::default_namespaced(sim.client());
    let mut meta = watcher(meta_api, watcher::Config::default())
        .applied_objects()
        .boxed();
    let first = tokio::time::timeout(Duration::from_secs(5), meta.next())
        .await
        .expect("metadata event");
    assert!(matches!(first, Some(Ok(m)) if m.metadata.name.as_deref() == Some("t")));
}
