//! [`EsClient`]: one cluster, one user. Every call has a timeout, is retried with exponential backoff when
//! Elasticsearch answers 429 (overloaded) or 503 (no master, not ready), honouring `Retry-After`, and fails
//! with an [`EsError`] a user can act on. Answers must carry `X-elastic-product: Elasticsearch`, as the
//! official clients require, so a proxy's error page is never read as data.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderValue, Method, header};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::api::{
    AllocationExplain, CatAllocation, CatIndex, CatNode, CatPlugin, CatShard, ClusterHealth,
    ClusterInfo, ClusterSettings, ClusterStats, ExplainRequest, IndexSettings, NodesInfo,
    NodesStats,
};
use super::error::EsError;
use super::transport::Transport;

/// The header every Elasticsearch answer carries.
pub const PRODUCT_HEADER: &str = "x-elastic-product";

/// A user and password (Basic auth).
#[derive(Clone)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: SecretString,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

impl Credentials {
    /// The `Authorization` header value, marked sensitive.
    fn authorization(&self) -> HeaderValue {
        let token = STANDARD.encode(format!(
            "{}:{}",
            self.username,
            self.password.expose_secret()
        ));
        let mut value = HeaderValue::from_str(&format!("Basic {token}"))
            .unwrap_or(HeaderValue::from_static(""));
        value.set_sensitive(true);
        value
    }
}

/// Timeouts and retries.
#[derive(Debug, Clone, Copy)]
pub struct ClientOptions {
    /// Per attempt.
    pub timeout: Duration,
    /// Attempts in all for 429/503 answers (at least 1).
    pub attempts: u32,
    /// Wait before the first retry; doubles each time.
    pub backoff: Duration,
    /// Longest wait between attempts (also caps `Retry-After`).
    pub max_backoff: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            attempts: 3,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// A client of one cluster's Elasticsearch.
#[derive(Clone)]
pub struct EsClient {
    transport: Arc<dyn Transport>,
    credentials: Credentials,
    options: ClientOptions,
}

/// `/{index}` path segment, percent-encoded.
fn segment(index: &str) -> String {
    url::form_urlencoded::byte_serialize(index.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl EsClient {
    /// A client over `transport` logging in as `credentials`.
    pub fn new(
        transport: Arc<dyn Transport>,
        credentials: Credentials,
        options: ClientOptions,
    ) -> Self {
        Self {
            transport,
            credentials,
            options,
        }
    }

    /// The user this client logs in as.
    pub fn username(&self) -> &str {
        &self.credentials.username
    }

    /// How it reaches the cluster (for logs).
    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    fn request(
        &self,
        method: &Method,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<http::Request<Bytes>, EsError> {
        let bytes = match body {
            Some(v) => {
                Bytes::from(serde_json::to_vec(v).map_err(|e| EsError::Decode(e.to_string()))?)
            }
            None => Bytes::new(),
        };
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(uri)
            .header(header::AUTHORIZATION, self.credentials.authorization())
            .header(header::ACCEPT, "application/json");
        if body.is_some() {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        builder
            .body(bytes)
            .map_err(|e| EsError::Decode(format!("bad request {uri}: {e}")))
    }

    /// Send a request and return the body of a 2xx answer (retrying 429/503).
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<Bytes, EsError> {
        let attempts = self.options.attempts.max(1);
        let mut wait = self.options.backoff;
        for attempt in 1..=attempts {
            let request = self.request(&method, uri, body)?;
            let response = tokio::time::timeout(self.options.timeout, self.transport.send(request))
                .await
                .map_err(|_| EsError::Timeout(self.options.timeout))??;
            let status = response.status().as_u16();
            if response.status().is_success() {
                if response
                    .headers()
                    .get(PRODUCT_HEADER)
                    .and_then(|v| v.to_str().ok())
                    != Some("Elasticsearch")
                {
                    return Err(EsError::Decode(
                        "the answer lacks `X-elastic-product: Elasticsearch`: this endpoint is not Elasticsearch".into(),
                    ));
                }
                return Ok(response.into_body());
            }
            if EsError::is_retryable_status(status) {
                if attempt == attempts {
                    let (_, reason) = super::error::error_type_and_reason(response.body());
                    return Err(EsError::Busy {
                        status,
                        attempts,
                        reason,
                    });
                }
                let retry_after = response
                    .headers()
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let pause = retry_after.unwrap_or(wait).min(self.options.max_backoff);
                tracing::debug!(status, attempt, ?pause, uri, "Elasticsearch busy; retrying");
                tokio::time::sleep(pause).await;
                wait = (wait * 2).min(self.options.max_backoff);
                continue;
            }
            return Err(EsError::from_answer(
                status,
                response.body(),
                self.username(),
            ));
        }
        unreachable!("the loop returns on its last attempt")
    }

    /// Send and parse the JSON answer.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        uri: &str,
        body: Option<&Value>,
    ) -> Result<T, EsError> {
        let bytes = self.send(method, uri, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| EsError::Decode(format!("{uri}: {e}")))
    }

    async fn get<T: DeserializeOwned>(&self, uri: &str) -> Result<T, EsError> {
        self.json(Method::GET, uri, None).await
    }

    /// `GET /`.
    pub async fn info(&self) -> Result<ClusterInfo, EsError> {
        self.get("/").await
    }

    /// `GET /_cluster/health`.
    pub async fn health(&self) -> Result<ClusterHealth, EsError> {
        self.get("/_cluster/health").await
    }

    /// `GET /_cluster/health?level=indices`.
    pub async fn health_by_index(&self) -> Result<ClusterHealth, EsError> {
        self.get("/_cluster/health?level=indices").await
    }

    /// `GET /_nodes`.
    pub async fn nodes_info(&self) -> Result<NodesInfo, EsError> {
        self.get("/_nodes").await
    }

    /// `GET /_nodes/stats/jvm,os,fs,indices,process`.
    pub async fn nodes_stats(&self) -> Result<NodesStats, EsError> {
        self.get("/_nodes/stats/jvm,os,fs,indices,process").await
    }

    /// `GET /_cat/indices?format=json&bytes=b`.
    pub async fn cat_indices(&self) -> Result<Vec<CatIndex>, EsError> {
        self.get("/_cat/indices?format=json&bytes=b").await
    }

    /// `GET /_cat/shards?format=json&bytes=b` with the unassigned reason.
    pub async fn cat_shards(&self) -> Result<Vec<CatShard>, EsError> {
        self.get("/_cat/shards?format=json&bytes=b&h=index,shard,prirep,state,docs,store,node,unassigned.reason")
            .await
    }

    /// `GET /_cat/allocation?format=json&bytes=b`.
    pub async fn cat_allocation(&self) -> Result<Vec<CatAllocation>, EsError> {
        self.get("/_cat/allocation?format=json&bytes=b").await
    }

    /// The elected master's name (`GET /_cat/nodes?format=json&h=name,master`), None when no master is known.
    pub async fn elected_master(&self) -> Result<Option<String>, EsError> {
        let rows: Vec<CatNode> = self.get("/_cat/nodes?format=json&h=name,master").await?;
        Ok(rows
            .into_iter()
            .find(|n| n.master.as_deref() == Some("*"))
            .map(|n| n.name))
    }

    /// `GET /_cat/plugins?format=json`.
    pub async fn cat_plugins(&self) -> Result<Vec<CatPlugin>, EsError> {
        self.get("/_cat/plugins?format=json").await
    }

    /// `POST /_cluster/allocation/explain` for one copy, or (None) for the first unassigned one.
    pub async fn allocation_explain(
        &self,
        copy: Option<&ExplainRequest>,
    ) -> Result<AllocationExplain, EsError> {
        match copy {
            Some(c) => {
                let body = serde_json::to_value(c).map_err(|e| EsError::Decode(e.to_string()))?;
                self.json(Method::POST, "/_cluster/allocation/explain", Some(&body))
                    .await
            }
            None => self.get("/_cluster/allocation/explain").await,
        }
    }

    /// `GET /_cluster/settings?flat_settings=true`.
    pub async fn cluster_settings(&self) -> Result<ClusterSettings, EsError> {
        self.get("/_cluster/settings?flat_settings=true").await
    }

    /// `PUT /_cluster/settings` with `{"persistent": ..., "transient": ...}`; returns the applied settings.
    pub async fn put_cluster_settings(
        &self,
        persistent: &Value,
        transient: &Value,
    ) -> Result<ClusterSettings, EsError> {
        let body = json!({ "persistent": persistent, "transient": transient });
        self.json(
            Method::PUT,
            "/_cluster/settings?flat_settings=true",
            Some(&body),
        )
        .await
    }

    /// `GET /_cluster/stats`.
    pub async fn cluster_stats(&self) -> Result<ClusterStats, EsError> {
        self.get("/_cluster/stats").await
    }

    /// `GET /{index}/_settings?flat_settings=true`.
    pub async fn index_settings(&self, index: &str) -> Result<IndexSettings, EsError> {
        let mut all: BTreeMap<String, IndexSettings> = self
            .get(&format!("/{}/_settings?flat_settings=true", segment(index)))
            .await?;
        all.remove(index).ok_or_else(|| {
            EsError::Decode(format!("the settings answer does not name index {index}"))
        })
    }

    /// `PUT /{index}/_settings` with `{"index":{"number_of_replicas":N}}`.
    pub async fn set_replicas(&self, index: &str, replicas: u32) -> Result<(), EsError> {
        let body = json!({ "index": { "number_of_replicas": replicas } });
        let _: Value = self
            .json(
                Method::PUT,
                &format!("/{}/_settings", segment(index)),
                Some(&body),
            )
            .await?;
        Ok(())
    }

    /// `PUT /{index}` with shard and replica counts.
    pub async fn create_index(
        &self,
        index: &str,
        shards: u32,
        replicas: u32,
    ) -> Result<(), EsError> {
        let body =
            json!({ "settings": { "number_of_shards": shards, "number_of_replicas": replicas } });
        let _: Value = self
            .json(Method::PUT, &format!("/{}", segment(index)), Some(&body))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use futures::future::BoxFuture;

    use super::*;

    /// A scripted answer: status, headers, body.
    type Answer = (u16, Vec<(&'static str, &'static str)>, &'static str);

    /// A transport answering from a script, recording what it was sent.
    struct Scripted {
        answers: Mutex<Vec<Answer>>,
        seen: Mutex<Vec<(String, Option<String>)>>,
    }

    impl Transport for Scripted {
        fn send(
            &self,
            request: http::Request<Bytes>,
        ) -> BoxFuture<'_, Result<http::Response<Bytes>, EsError>> {
            Box::pin(async move {
                self.seen.lock().unwrap().push((
                    request.uri().to_string(),
                    request
                        .headers()
                        .get(header::AUTHORIZATION)
                        .map(|v| v.to_str().unwrap().to_owned()),
                ));
                let (status, headers, body) = self.answers.lock().unwrap().remove(0);
                let mut builder = http::Response::builder().status(status);
                for (k, v) in headers {
                    builder = builder.header(k, v);
                }
                Ok(builder.body(Bytes::from_static(body.as_bytes())).unwrap())
            })
        }
        fn describe(&self) -> String {
            "scripted".into()
        }
    }

    const ES: (&str, &str) = ("X-elastic-product", "Elasticsearch");

    fn client(answers: Vec<Answer>) -> (EsClient, Arc<Scripted>) {
        let t = Arc::new(Scripted {
            answers: Mutex::new(answers),
            seen: Mutex::new(Vec::new()),
        });
        let c = EsClient::new(
            t.clone(),
            Credentials {
                username: "esaas-portal".into(),
                password: SecretString::from("pw".to_owned()),
            },
            ClientOptions {
                backoff: Duration::from_millis(1),
                ..ClientOptions::default()
            },
        );
        (c, t)
    }

    #[tokio::test]
    async fn busy_answers_are_retried_then_succeed() {
        let (c, t) = client(vec![
            (
                429,
                vec![ES],
                r#"{"error":{"type":"es_rejected_execution_exception","reason":"rejected execution of x"},"status":429}"#,
            ),
            (503, vec![ES, ("Retry-After", "0")], "{}"),
            (
                200,
                vec![ES],
                r#"{"cluster_name":"c","status":"green","number_of_nodes":1,"number_of_data_nodes":1,
              "active_primary_shards":0,"active_shards":0,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0}"#,
            ),
        ]);
        let h = c.health().await.unwrap();
        assert_eq!(h.number_of_nodes, 1);
        let seen = t.seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].0, "/_cluster/health");
        assert_eq!(
            seen[0].1.as_deref(),
            Some("Basic ZXNhYXMtcG9ydGFsOnB3"),
            "esaas-portal:pw"
        );
    }

    #[tokio::test]
    async fn busy_after_every_attempt_says_so() {
        let (c, _) = client(vec![
            (429, vec![ES], "{}"),
            (429, vec![ES], "{}"),
            (429, vec![ES], "{}"),
        ]);
        let e = c.health().await.unwrap_err();
        assert!(
            matches!(
                e,
                EsError::Busy {
                    status: 429,
                    attempts: 3,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[tokio::test]
    async fn errors_are_not_retried_and_name_the_cause() {
        let (c, t) = client(vec![(401, vec![ES], "{}")]);
        let e = c.info().await.unwrap_err();
        assert_eq!(
            e,
            EsError::Authentication {
                user: "esaas-portal".into()
            }
        );
        assert_eq!(t.seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_answer_without_the_product_header_is_refused() {
        let (c, _) = client(vec![(200, vec![], "{}")]);
        assert_eq!(c.info().await.unwrap_err().kind(), "decode");
    }

    #[tokio::test]
    async fn a_silent_cluster_times_out() {
        struct Silent;
        impl Transport for Silent {
            fn send(
                &self,
                _: http::Request<Bytes>,
            ) -> BoxFuture<'_, Result<http::Response<Bytes>, EsError>> {
                Box::pin(futures::future::pending())
            }
            fn describe(&self) -> String {
                "silent".into()
            }
        }
        let c = EsClient::new(
            Arc::new(Silent),
            Credentials {
                username: "u".into(),
                password: SecretString::from(String::new()),
            },
            ClientOptions {
                timeout: Duration::from_millis(20),
                ..ClientOptions::default()
            },
        );
        let e = c.info().await.unwrap_err();
        assert_eq!(e, EsError::Timeout(Duration::from_millis(20)));
        assert!(e.to_string().contains("did not answer within 0.02 s"));
    }

    #[test]
    fn index_names_are_encoded_in_paths() {
        assert_eq!(segment("logs-2026.12.01"), "logs-2026.12.01");
        assert_eq!(segment("a b/c"), "a%20b%2Fc");
    }
}
