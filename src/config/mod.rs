//! Typed configuration read from the environment, checked at start-up (an invalid value stops the portal
//! with the variable's name). `.env.sample` documents every variable read here; nothing else in the portal
//! reads the environment (see `nothing_else_reads_the_environment`). `notifications` and `rate_limit` hold
//! the settings of those areas.

mod expose;
pub mod notifications;
pub mod rate_limit;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::SecretString;

use crate::config::notifications::{
    DeliverySettings, NotificationSettings, SmtpSettings, SmtpTls, WebhookPolicy, parse_network,
    parse_networks,
};
use crate::elasticsearch::TransportMode;
use crate::k8s::expose::Exposure;
use crate::k8s::portal_user::PortalUserKey;
use crate::k8s::sim::SimNodes;
use crate::request_meta::TrustedProxies;
use rate_limit::RateLimit;

/// Which Kubernetes the portal drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeMode {
    /// The built-in simulated Kubernetes (default when no kubeconfig is found).
    Sim,
    /// A real cluster from `KUBECONFIG`, `~/.kube/config` or the in-cluster service account.
    Kubeconfig,
}

/// All settings of the portal.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: the Postgres connection string (a secret: may hold a password).
    pub database_url: SecretString,
    /// `ESAAS_DB_MAX_CONNECTIONS`: size of the connection pool (default 16).
    pub db_max_connections: u32,
    /// `ESAAS_LISTEN`: address the HTTP server binds (default 127.0.0.1:8080).
    pub listen: SocketAddr,
    /// `ESAAS_PUBLIC_URL`: the URL users reach the portal at (default `http://<listen>`); when it starts with
    /// `https://` cookies are `Secure` and HSTS is sent.
    pub public_url: String,
    /// `ESAAS_SESSION_TTL_HOURS`: how long a login session lives without activity (default 12).
    pub session_ttl: Duration,
    /// `ESAAS_LOGIN_MAX_FAILURES`: failed logins per account (and source address) within the window before
    /// further attempts wait an exponential back-off (default 5), and 4x that per address before the address
    /// is refused (see `auth::throttle`).
    pub login_max_failures: u32,
    /// `ESAAS_LOGIN_WINDOW_SECS`: the throttling window (default 900 s).
    pub login_window: Duration,
    /// `ESAAS_LOG_FORMAT`: `text` (default) or `json`.
    pub log_json: bool,
    /// `ESAAS_KUBE`: `sim` or `kubeconfig` (default: `kubeconfig` when `KUBECONFIG` is set or `~/.kube/config`
    /// exists, `sim` otherwise).
    pub kube_mode: KubeMode,
    /// `ESAAS_SIM_LISTEN`: when set (and in sim mode) the simulated API is also served there over HTTPS, to
    /// requests with the bearer token of the kubeconfig it writes.
    pub sim_listen: Option<SocketAddr>,
    /// `ESAAS_SIM_KUBELET_DELAY_MS`: how long simulated pods take to become ready (default 2000).
    pub sim_kubelet_delay: Duration,
    /// `ESAAS_SIM_NODE_COUNT`, `ESAAS_SIM_NODE_CPU_MILLIS`, `ESAAS_SIM_NODE_MEMORY_MIB`: the simulated nodes
    /// (default 3 nodes of 8000 millicores and 32768 MiB); a pod asking for more than one node has stays
    /// Pending as unschedulable.
    pub sim_nodes: SimNodes,
    /// `ESAAS_RESYNC_INTERVAL_SECS`: how often the reconciler relists what it watches and compares every cluster
    /// with Kubernetes (default 60; 0 disables the periodic resync, including the one at start-up).
    pub resync_interval: Duration,
    /// `ESAAS_STALL_TIMEOUT_SECS`: an operation without progress for this long is marked stalled (default 600).
    pub stall_timeout: Duration,
    /// `ESAAS_RECONCILER_WORKERS`: concurrent operation workers in this process (default 4; 0 disables the
    /// reconciler, e.g. for a read-only replica).
    pub reconciler_workers: usize,
    /// `ESAAS_TRUSTED_PROXIES`: comma-separated addresses / CIDR networks of the proxies in front of the portal
    /// whose `X-Forwarded-For` gives the client address (default: none, the socket peer is the client).
    pub trusted_proxies: TrustedProxies,
    /// `ESAAS_METRICS_TOKEN`: the bearer token Prometheus sends to scrape `/metrics` (a secret); unset, `/metrics`
    /// answers 404.
    pub metrics_token: Option<SecretString>,
    /// `ESAAS_SIM_ES_DEMO`: `1`/`true` runs a demo load in every simulated Elasticsearch (a few indices
    /// indexed into continuously), so dashboards move (default off; `scripts/run.sh` turns it on).
    pub sim_es_demo: bool,
    /// `ESAAS_SIM_LISTEN_ALLOW_REMOTE`: `1`/`true` lets `ESAAS_SIM_LISTEN` be a non-loopback address (default:
    /// refused, the simulated API is for kubectl on this machine).
    pub sim_listen_allow_remote: bool,
    /// `ESAAS_KUBE_READ_TIMEOUT_SECS`: how long a request handler waits on a Kubernetes read (the credentials
    /// reveal) before answering 504 (default 10).
    pub kube_read_timeout: Duration,
    /// `ESAAS_AUDIT_FAILED_LOGIN_RETENTION_DAYS`: audit rows of failed logins older than this are deleted by the
    /// hourly housekeeping (default 90; 0 keeps them for ever).
    pub audit_failed_login_retention: Duration,
    /// `ESAAS_API_RATE_LIMIT`: the REST API's per-token rate limit, `<requests per second>:<burst>` or `off`
    /// (`None`; default 20:100).
    pub api_rate_limit: Option<RateLimit>,
    /// `ESAAS_API_READ_CACHE_MS`: how long the REST API reuses a read of one cluster for the same user
    /// (default 250; 0 disables it).
    pub api_read_cache: Duration,
    /// `ESAAS_STATIC_DIR`: the directory of static files (unset or blank: `./static` when it exists, else the
    /// source tree's `static/`).
    pub static_dir: PathBuf,
    /// Notification channels: webhook guards (`ESAAS_WEBHOOK_*`, `ESAAS_KUBE_SERVICE_CIDR`), the SMTP relay
    /// (`ESAAS_SMTP_*`) and delivery retries (`ESAAS_NOTIFY_*`); see `.env.sample`.
    pub notifications: NotificationSettings,
    /// `ESAAS_ES_POLL_SECS`: how often the inspector polls each live cluster's Elasticsearch (default 30, with
    /// up to 10 % jitter; every 5 s at most while someone watches the dashboard; 0 disables the inspector).
    pub es_poll_interval: Duration,
    /// `ESAAS_ES_POLL_CONCURRENCY`: clusters polled at the same time by this process (default 16).
    pub es_poll_concurrency: usize,
    /// `ESAAS_ES_TRANSPORT`: how the portal reaches Elasticsearch: `auto` (default: in-process on the simulated
    /// Kubernetes, the cluster's Service when running in a pod, else a port-forward), `service` or `port-forward`.
    pub es_transport: TransportMode,
    /// `ESAAS_ES_USER_KEY`: the secret (at least 32 characters) the portal's own Elasticsearch user passwords are
    /// derived from (HMAC with the cluster id); unset, a random one per process (see `k8s::portal_user`).
    pub es_user_key: PortalUserKey,
    /// `ESAAS_EXPOSE` (`internal`, the default; `ingress`; `loadbalancer`) with `ESAAS_EXPOSE_DOMAIN`,
    /// `ESAAS_EXPOSE_INGRESS_CLASS`, `ESAAS_EXPOSE_TLS_SECRET`, `ESAAS_EXPOSE_CERT_ISSUER`: how clusters are
    /// reached from outside Kubernetes (see `k8s::expose`).
    pub exposure: Exposure,
}

/// Default of `ESAAS_API_READ_CACHE_MS`.
const DEFAULT_READ_CACHE_MS: u64 = 250;

/// The static files when `ESAAS_STATIC_DIR` is not set: `./static` when it exists, else the source tree's.
fn default_static_dir() -> PathBuf {
    let local = PathBuf::from("static");
    if local.is_dir() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
}

/// Where the settings are read from: the process environment ([`Config::from_env`]) or, in tests, any
/// lookup ([`Config::from_vars`]).
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    /// The value of `name`; unset and blank (as `.env.sample` leaves the optional ones) both mean "not set".
    fn var(&self, name: &str) -> Option<String> {
        (self.0)(name).filter(|v| !v.trim().is_empty())
    }

    /// `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`.
    fn bool_var(&self, name: &str, default: bool) -> anyhow::Result<bool> {
        match self
            .var(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None => Ok(default),
            Some("1" | "true" | "yes" | "on") => Ok(true),
            Some("0" | "false" | "no" | "off") => Ok(false),
            Some(other) => bail!("{name}={other:?} is invalid: use 1 or 0"),
        }
    }

    fn parse_var<T: std::str::FromStr>(&self, name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match self.var(name) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("{name}={v:?} is invalid: {e}")),
        }
    }

    /// A yes/no variable: `1`, `true`, `yes` or `0`, `false`, `no` (default no).
    fn parse_flag(&self, name: &str) -> anyhow::Result<bool> {
        match self
            .var(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("0" | "false" | "no") => Ok(false),
            Some("1" | "true" | "yes") => Ok(true),
            Some(other) => bail!("{name}={other:?} is invalid: use 1 or 0"),
        }
    }

    /// The notification settings from `ESAAS_WEBHOOK_*`, `ESAAS_KUBE_SERVICE_CIDR`, `ESAAS_SMTP_*` and
    /// `ESAAS_NOTIFY_*`.
    fn notifications(&self) -> anyhow::Result<NotificationSettings> {
        let defaults = WebhookPolicy::default();
        let webhook = WebhookPolicy {
            allow_http: self.bool_var("ESAAS_WEBHOOK_ALLOW_HTTP", false)?,
            allowed_networks: parse_networks(
                &self
                    .var("ESAAS_WEBHOOK_ALLOWED_NETWORKS")
                    .unwrap_or_default(),
            )
            .map_err(|e| anyhow::anyhow!("ESAAS_WEBHOOK_ALLOWED_NETWORKS is invalid: {e}"))?,
            kube_service_network: match self.var("ESAAS_KUBE_SERVICE_CIDR") {
                None => defaults.kube_service_network,
                Some(v) => parse_network(v.trim())
                    .map_err(|e| anyhow::anyhow!("ESAAS_KUBE_SERVICE_CIDR is invalid: {e}"))?,
            },
            timeout: Duration::from_secs(self.parse_var("ESAAS_WEBHOOK_TIMEOUT_SECS", 10)?.max(1)),
        };
        let smtp = match self.var("ESAAS_SMTP_HOST") {
            None => None,
            Some(host) => {
                let tls = SmtpTls::parse(
                    &self
                        .var("ESAAS_SMTP_TLS")
                        .unwrap_or_else(|| "starttls".into()),
                )
                .map_err(|e| anyhow::anyhow!("ESAAS_SMTP_TLS is invalid: {e}"))?;
                let credentials = match (
                    self.var("ESAAS_SMTP_USERNAME"),
                    self.var("ESAAS_SMTP_PASSWORD"),
                ) {
                    (Some(user), Some(password)) => Some((user, SecretString::from(password))),
                    (None, None) => None,
                    _ => bail!("set both ESAAS_SMTP_USERNAME and ESAAS_SMTP_PASSWORD, or neither"),
                };
                if credentials.is_some() && tls == SmtpTls::None {
                    bail!(
                        "ESAAS_SMTP_TLS=none would send the SMTP password in clear: use starttls or tls"
                    );
                }
                Some(SmtpSettings {
                    host: host.trim().to_owned(),
                    port: self.parse_var("ESAAS_SMTP_PORT", tls.default_port())?,
                    tls,
                    credentials,
                    from: self
                        .var("ESAAS_SMTP_FROM")
                        .context("ESAAS_SMTP_FROM is required when ESAAS_SMTP_HOST is set")?,
                    timeout: Duration::from_secs(
                        self.parse_var("ESAAS_SMTP_TIMEOUT_SECS", 20)?.max(1),
                    ),
                })
            }
        };
        let d = DeliverySettings::default();
        let delivery = DeliverySettings {
            max_attempts: self
                .parse_var("ESAAS_NOTIFY_MAX_ATTEMPTS", d.max_attempts)?
                .max(1),
            backoff_base: Duration::from_millis(self.parse_var("ESAAS_NOTIFY_BACKOFF_MS", 5000)?),
            backoff_max: Duration::from_secs(
                self.parse_var("ESAAS_NOTIFY_BACKOFF_MAX_SECS", 3600)?,
            ),
            concurrency: self.parse_var("ESAAS_NOTIFY_CONCURRENCY", d.concurrency)?,
            poll_interval: Duration::from_millis(
                self.parse_var("ESAAS_NOTIFY_POLL_MS", 2000)?.max(10),
            ),
        };
        Ok(NotificationSettings {
            webhook,
            smtp,
            delivery,
        })
    }
}

impl Config {
    /// Read the configuration from the process environment (once, at start-up: nothing else in the portal
    /// reads it).
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Read the configuration from `lookup` (variable name to value), as [`Config::from_env`] does from the
    /// process environment.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let env = Vars(&lookup);
        let database_url = env.var("DATABASE_URL").context(
            "DATABASE_URL is not set (scripts/run.sh starts a local PostgreSQL and sets it for you)",
        )?;
        let listen: SocketAddr = env.parse_var("ESAAS_LISTEN", "127.0.0.1:8080".parse()?)?;
        let public_url = env
            .var("ESAAS_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{listen}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("ESAAS_PUBLIC_URL must start with http:// or https://");
        }
        let kube_mode = match env.var("ESAAS_KUBE").as_deref() {
            Some("sim") => KubeMode::Sim,
            Some("kubeconfig") => KubeMode::Kubeconfig,
            Some(other) => bail!("ESAAS_KUBE={other:?} is invalid: use sim or kubeconfig"),
            None => {
                let home_config = env
                    .var("HOME")
                    .map(|h| std::path::Path::new(&h).join(".kube/config").exists())
                    .unwrap_or(false);
                if env.var("KUBECONFIG").is_some() || home_config {
                    KubeMode::Kubeconfig
                } else {
                    KubeMode::Sim
                }
            }
        };
        let sim_listen = match env.var("ESAAS_SIM_LISTEN") {
            None => None,
            Some(v) => Some(
                v.parse()
                    .map_err(|e| anyhow::anyhow!("ESAAS_SIM_LISTEN={v:?} is invalid: {e}"))?,
            ),
        };
        let log_json = match env.var("ESAAS_LOG_FORMAT").as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => bail!("ESAAS_LOG_FORMAT={other:?} is invalid: use text or json"),
        };
        Ok(Self {
            database_url: SecretString::from(database_url),
            db_max_connections: env.parse_var("ESAAS_DB_MAX_CONNECTIONS", 16)?,
            listen,
            public_url,
            session_ttl: Duration::from_secs(
                3600 * env.parse_var::<u64>("ESAAS_SESSION_TTL_HOURS", 12)?,
            ),
            login_max_failures: env.parse_var("ESAAS_LOGIN_MAX_FAILURES", 5)?,
            login_window: Duration::from_secs(env.parse_var("ESAAS_LOGIN_WINDOW_SECS", 900)?),
            log_json,
            kube_mode,
            sim_listen,
            sim_kubelet_delay: Duration::from_millis(
                env.parse_var("ESAAS_SIM_KUBELET_DELAY_MS", 2000)?,
            ),
            sim_nodes: SimNodes {
                count: env.parse_var("ESAAS_SIM_NODE_COUNT", SimNodes::default().count)?,
                cpu_millis: env
                    .parse_var("ESAAS_SIM_NODE_CPU_MILLIS", SimNodes::default().cpu_millis)?,
                memory_mib: env
                    .parse_var("ESAAS_SIM_NODE_MEMORY_MIB", SimNodes::default().memory_mib)?,
            },
            resync_interval: Duration::from_secs(env.parse_var("ESAAS_RESYNC_INTERVAL_SECS", 60)?),
            stall_timeout: Duration::from_secs(env.parse_var("ESAAS_STALL_TIMEOUT_SECS", 600)?),
            reconciler_workers: env.parse_var("ESAAS_RECONCILER_WORKERS", 4)?,
            trusted_proxies: TrustedProxies::parse(
                &env.var("ESAAS_TRUSTED_PROXIES").unwrap_or_default(),
            )
            .map_err(|e| anyhow::anyhow!("ESAAS_TRUSTED_PROXIES is invalid: {e}"))?,
            metrics_token: env.var("ESAAS_METRICS_TOKEN").map(SecretString::from),
            sim_listen_allow_remote: env.parse_flag("ESAAS_SIM_LISTEN_ALLOW_REMOTE")?,
            sim_es_demo: env.parse_flag("ESAAS_SIM_ES_DEMO")?,
            kube_read_timeout: Duration::from_secs(
                env.parse_var("ESAAS_KUBE_READ_TIMEOUT_SECS", 10)?,
            ),
            audit_failed_login_retention: Duration::from_secs(
                86_400 * env.parse_var::<u64>("ESAAS_AUDIT_FAILED_LOGIN_RETENTION_DAYS", 90)?,
            ),
            api_rate_limit: match env.var(rate_limit::ENV_VAR) {
                None => Some(RateLimit::default()),
                Some(v) => RateLimit::parse(&v).map_err(anyhow::Error::msg)?,
            },
            api_read_cache: Duration::from_millis(
                env.parse_var("ESAAS_API_READ_CACHE_MS", DEFAULT_READ_CACHE_MS)?,
            ),
            static_dir: env
                .var("ESAAS_STATIC_DIR")
                .map_or_else(default_static_dir, PathBuf::from),
            notifications: env.notifications()?,
            es_poll_interval: Duration::from_secs(env.parse_var("ESAAS_ES_POLL_SECS", 30)?),
            es_poll_concurrency: env
                .parse_var::<usize>("ESAAS_ES_POLL_CONCURRENCY", 16)?
                .max(1),
            es_transport: TransportMode::parse(
                env.var("ESAAS_ES_TRANSPORT").as_deref(),
                kube_mode == KubeMode::Sim,
                env.var("KUBERNETES_SERVICE_HOST").is_some(),
            )
            .map_err(|e| anyhow::anyhow!("ESAAS_ES_TRANSPORT: {e}"))?,
            es_user_key: match env.var("ESAAS_ES_USER_KEY") {
                None => PortalUserKey::random(),
                Some(key) => PortalUserKey::new(SecretString::from(key))
                    .map_err(|e| anyhow::anyhow!("ESAAS_ES_USER_KEY {e}"))?,
            },
            exposure: env.exposure()?,
        })
    }

    /// A configuration for tests: the given database, the simulated Kubernetes, fast timings.
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: SecretString::from(database_url.to_owned()),
            db_max_connections: 8,
            listen: "127.0.0.1:0".parse().expect("static address"),
            public_url: "http://127.0.0.1".into(),
            session_ttl: Duration::from_secs(3600),
            login_max_failures: 5,
            login_window: Duration::from_secs(900),
            log_json: false,
            kube_mode: KubeMode::Sim,
            sim_listen: None,
            sim_kubelet_delay: Duration::ZERO,
            sim_nodes: SimNodes::default(),
            resync_interval: Duration::from_secs(3600),
            stall_timeout: Duration::from_secs(600),
            reconciler_workers: 2,
            trusted_proxies: TrustedProxies::default(),
            metrics_token: None,
            sim_listen_allow_remote: false,
            sim_es_demo: false,
            kube_read_timeout: Duration::from_secs(10),
            audit_failed_login_retention: Duration::from_secs(90 * 86_400),
            api_rate_limit: Some(RateLimit::default()),
            api_read_cache: Duration::from_millis(DEFAULT_READ_CACHE_MS),
            static_dir: default_static_dir(),
            notifications: NotificationSettings {
                delivery: DeliverySettings {
                    backoff_base: Duration::from_millis(100),
                    backoff_max: Duration::from_secs(2),
                    poll_interval: Duration::from_millis(200),
                    ..DeliverySettings::default()
                },
                ..NotificationSettings::default()
            },
            es_poll_interval: Duration::from_secs(30),
            es_poll_concurrency: 4,
            es_transport: TransportMode::InProcess,
            es_user_key: PortalUserKey::random(),
            exposure: Exposure::Internal,
        }
    }

    /// True when the portal is reached over HTTPS (Secure cookies, HSTS).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_vars(|name| vars.get(name).cloned())
    }

    const BASE: [(&str, &str); 2] = [
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/esaas"),
        ("ESAAS_KUBE", "sim"),
    ];

    fn with(extra: &[(&'static str, &'static str)]) -> anyhow::Result<Config> {
        let mut pairs = BASE.to_vec();
        pairs.extend_from_slice(extra);
        parse(&pairs)
    }

    #[test]
    fn the_sample_file_as_it_is_gives_the_defaults_where_it_leaves_values_blank() {
        let sample = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.env.sample"))
            .expect(".env.sample is readable");
        let vars: HashMap<String, String> = sample
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
            .collect();
        assert_eq!(vars.get("ESAAS_STATIC_DIR").map(String::as_str), Some(""));
        let config = Config::from_vars(|name| vars.get(name).cloned()).expect(".env.sample parses");
        assert_eq!(config.static_dir, default_static_dir());
        assert!(
            config.static_dir.join("css").is_dir(),
            "{:?}",
            config.static_dir
        );
        assert_eq!(config.api_rate_limit, Some(RateLimit::default()));
        assert_eq!(config.api_read_cache, Duration::from_millis(250));
        assert!(config.metrics_token.is_none(), "a blank token is no token");
        assert!(
            config.notifications.smtp.is_none(),
            "a blank host is no relay"
        );
    }

    #[test]
    fn an_empty_static_dir_means_the_default_and_a_set_one_is_used() {
        for blank in ["", "  "] {
            let config = with(&[("ESAAS_STATIC_DIR", blank)]).unwrap();
            assert_eq!(config.static_dir, default_static_dir(), "{blank:?}");
            assert_ne!(config.static_dir, PathBuf::from(blank));
        }
        let config = with(&[("ESAAS_STATIC_DIR", "/srv/esaas/static")]).unwrap();
        assert_eq!(config.static_dir, PathBuf::from("/srv/esaas/static"));
        assert!(default_static_dir().is_dir());
    }

    #[test]
    fn api_rate_limit_and_read_cache_are_parsed_or_refused() {
        let config = with(&[]).unwrap();
        assert_eq!(config.api_rate_limit, Some(RateLimit::default()));
        assert_eq!(config.api_read_cache, Duration::from_millis(250));
        let config = with(&[
            ("ESAAS_API_RATE_LIMIT", "off"),
            ("ESAAS_API_READ_CACHE_MS", "0"),
        ])
        .unwrap();
        assert_eq!(config.api_rate_limit, None);
        assert!(config.api_read_cache.is_zero());
        let config = with(&[("ESAAS_API_RATE_LIMIT", "5:10")]).unwrap();
        assert_eq!(
            config.api_rate_limit,
            Some(RateLimit {
                per_second: 5.0,
                burst: 10.0
            })
        );
        let e = with(&[("ESAAS_API_RATE_LIMIT", "fast")]).unwrap_err();
        assert!(e.to_string().contains("ESAAS_API_RATE_LIMIT"), "{e}");
        let e = with(&[("ESAAS_API_READ_CACHE_MS", "soon")]).unwrap_err();
        assert!(e.to_string().contains("ESAAS_API_READ_CACHE_MS"), "{e}");
    }

    /// Every setting the portal reads, with a value it must refuse; `extra` are the settings it needs
    /// beside it to be read at all.
    /// Variables and their values.
    type Pairs = &'static [(&'static str, &'static str)];

    const REFUSED: &[(&str, &str, Pairs)] = &[
        ("ESAAS_LISTEN", "localhost", &[]),
        ("ESAAS_PUBLIC_URL", "portal.example.com", &[]),
        ("ESAAS_KUBE", "minikube", &[]),
        ("ESAAS_SIM_LISTEN", "port 6443", &[]),
        ("ESAAS_LOG_FORMAT", "xml", &[]),
        ("ESAAS_DB_MAX_CONNECTIONS", "many", &[]),
        ("ESAAS_SESSION_TTL_HOURS", "-1", &[]),
        ("ESAAS_LOGIN_MAX_FAILURES", "five", &[]),
        ("ESAAS_LOGIN_WINDOW_SECS", "15m", &[]),
        ("ESAAS_SIM_KUBELET_DELAY_MS", "2s", &[]),
        ("ESAAS_SIM_NODE_COUNT", "3.5", &[]),
        ("ESAAS_SIM_NODE_CPU_MILLIS", "8 cores", &[]),
        ("ESAAS_SIM_NODE_MEMORY_MIB", "32Gi", &[]),
        ("ESAAS_RESYNC_INTERVAL_SECS", "1m", &[]),
        ("ESAAS_STALL_TIMEOUT_SECS", "10m", &[]),
        ("ESAAS_RECONCILER_WORKERS", "-2", &[]),
        ("ESAAS_TRUSTED_PROXIES", "10.0.0.0/33", &[]),
        ("ESAAS_SIM_LISTEN_ALLOW_REMOTE", "maybe", &[]),
        ("ESAAS_KUBE_READ_TIMEOUT_SECS", "10s", &[]),
        ("ESAAS_AUDIT_FAILED_LOGIN_RETENTION_DAYS", "90d", &[]),
        ("ESAAS_API_RATE_LIMIT", "fast", &[]),
        ("ESAAS_API_READ_CACHE_MS", "soon", &[]),
        ("ESAAS_WEBHOOK_ALLOW_HTTP", "perhaps", &[]),
        ("ESAAS_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/99", &[]),
        ("ESAAS_KUBE_SERVICE_CIDR", "services", &[]),
        ("ESAAS_WEBHOOK_TIMEOUT_SECS", "10s", &[]),
        ("ESAAS_NOTIFY_MAX_ATTEMPTS", "lots", &[]),
        ("ESAAS_NOTIFY_BACKOFF_MS", "5s", &[]),
        ("ESAAS_NOTIFY_BACKOFF_MAX_SECS", "1h", &[]),
        ("ESAAS_NOTIFY_CONCURRENCY", "four", &[]),
        ("ESAAS_NOTIFY_POLL_MS", "2s", &[]),
        ("ESAAS_SMTP_TLS", "ssl3", SMTP),
        ("ESAAS_SMTP_PORT", "smtp", SMTP),
        ("ESAAS_SMTP_TIMEOUT_SECS", "20s", SMTP),
        ("ESAAS_EXPOSE", "nodeport", &[]),
    ];

    #[test]
    fn exposure_is_internal_by_default_and_ingress_needs_a_domain() {
        use crate::k8s::expose::{IngressSettings, IngressTls};
        assert_eq!(with(&[]).unwrap().exposure, Exposure::Internal);
        assert_eq!(
            with(&[("ESAAS_EXPOSE", "internal")]).unwrap().exposure,
            Exposure::Internal
        );
        assert_eq!(
            with(&[("ESAAS_EXPOSE", "loadbalancer")]).unwrap().exposure,
            Exposure::LoadBalancer
        );
        let config = with(&[
            ("ESAAS_EXPOSE", "ingress"),
            ("ESAAS_EXPOSE_DOMAIN", "search.example.com"),
            ("ESAAS_EXPOSE_INGRESS_CLASS", "nginx"),
            ("ESAAS_EXPOSE_CERT_ISSUER", "letsencrypt"),
        ])
        .unwrap();
        assert_eq!(
            config.exposure,
            Exposure::Ingress(IngressSettings {
                domain: "search.example.com".into(),
                class: Some("nginx".into()),
                tls: IngressTls::ClusterIssuer("letsencrypt".into()),
            })
        );
        let refused: &[(Pairs, &str)] = &[
            (
                &[("ESAAS_EXPOSE", "ingress")],
                "ESAAS_EXPOSE_DOMAIN is required",
            ),
            (
                &[
                    ("ESAAS_EXPOSE", "ingress"),
                    ("ESAAS_EXPOSE_DOMAIN", "https://x.example.com"),
                ],
                "ESAAS_EXPOSE_DOMAIN is invalid",
            ),
            (
                &[
                    ("ESAAS_EXPOSE", "ingress"),
                    ("ESAAS_EXPOSE_DOMAIN", "search.example.com"),
                    ("ESAAS_EXPOSE_TLS_SECRET", "wildcard"),
                    ("ESAAS_EXPOSE_CERT_ISSUER", "letsencrypt"),
                ],
                "choose one",
            ),
            (
                &[("ESAAS_EXPOSE_DOMAIN", "search.example.com")],
                "ESAAS_EXPOSE is not ingress",
            ),
        ];
        for (pairs, expected) in refused {
            let e = format!("{:#}", with(pairs).unwrap_err());
            assert!(e.contains(expected), "{pairs:?}: {e}");
        }
    }

    const SMTP: Pairs = &[
        ("ESAAS_SMTP_HOST", "mail.example.com"),
        ("ESAAS_SMTP_FROM", "portal@example.com"),
    ];

    #[test]
    fn an_invalid_value_is_refused_naming_its_variable() {
        for (name, bad, extra) in REFUSED {
            let mut pairs = extra.to_vec();
            pairs.push((*name, *bad));
            let e = with(&pairs).expect_err(name);
            let message = format!("{e:#}");
            assert!(message.contains(name), "{name}={bad:?}: {message}");
        }
    }

    #[test]
    fn a_blank_value_means_the_default() {
        let defaults = format!("{:?}", with(&[]).unwrap());
        let smtp_defaults = format!("{:?}", with(SMTP).unwrap());
        for (name, _, extra) in REFUSED {
            let expected = if extra.is_empty() {
                &defaults
            } else {
                &smtp_defaults
            };
            for blank in ["", "   "] {
                let mut pairs = extra.to_vec();
                pairs.push((*name, blank));
                let config = with(&pairs).unwrap_or_else(|e| panic!("{name}={blank:?}: {e:#}"));
                assert_eq!(&format!("{config:?}"), expected, "{name}={blank:?}");
            }
        }
        // DATABASE_URL has no default: blank is as good as unset, and said so.
        let e = parse(&[("DATABASE_URL", " "), ("ESAAS_KUBE", "sim")]).unwrap_err();
        assert!(e.to_string().contains("DATABASE_URL is not set"), "{e}");
    }

    #[test]
    fn settings_come_from_the_lookup_not_the_process_environment() {
        // PATH is set in every test process; a lookup without it must not see it.
        let config = with(&[("ESAAS_LISTEN", "127.0.0.1:9999")]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:9999".parse().unwrap());
        assert!(parse(&[]).unwrap_err().to_string().contains("DATABASE_URL"));
    }

    /// Only this module reads the environment (besides `RUST_LOG` through the log filter, and the name shown
    /// for a kubeconfig target): every other setting reaches the code through [`Config`], so tests that build
    /// a `Config` are not changed by the variables of the shell (or the `.env` sqlx's test support loads).
    #[test]
    fn nothing_else_reads_the_environment() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (i, line) in text.lines().enumerate() {
                        if line.contains("env::var") || line.contains("dotenv") {
                            found.push(format!("{}:{}", path.display(), i + 1));
                        }
                    }
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        walk(&src, &mut found);
        found.retain(|at| {
            !(at.contains("src/config/mod.rs:") || at.contains("src/cli/kube_target.rs:"))
        });
        assert!(
            found.is_empty(),
            "environment read outside config/mod.rs: {found:?}"
        );
    }
}
