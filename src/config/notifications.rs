//! The platform's notification settings (built by `crate::config` from `ESAAS_WEBHOOK_*`, `ESAAS_SMTP_*`,
//! `ESAAS_NOTIFY_*` and `ESAAS_KUBE_SERVICE_CIDR`): what webhooks may reach, the SMTP relay every email
//! channel uses, and how deliveries are retried. Parsing only; nothing here reads the environment.

use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;

/// How webhook requests and their addresses are guarded (see `address`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookPolicy {
    /// `ESAAS_WEBHOOK_ALLOW_HTTP=1`: plain `http://` URLs are accepted (default: https only).
    pub allow_http: bool,
    /// `ESAAS_WEBHOOK_ALLOWED_NETWORKS`: networks reachable although refused by default (loopback, private
    /// ranges, ...): comma-separated CIDRs or addresses.
    pub allowed_networks: Vec<IpNet>,
    /// `ESAAS_KUBE_SERVICE_CIDR`: the Kubernetes service network, refused like a private range
    /// (default 10.96.0.0/12, kubeadm's default).
    pub kube_service_network: IpNet,
    /// `ESAAS_WEBHOOK_TIMEOUT_SECS`: the whole of one request: connect, send, read the answer (default 10).
    pub timeout: Duration,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self {
            allow_http: false,
            allowed_networks: Vec::new(),
            kube_service_network: "10.96.0.0/12".parse().expect("static network"),
            timeout: Duration::from_secs(10),
        }
    }
}

/// How the connection to the SMTP relay is secured (`ESAAS_SMTP_TLS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP, for a trusted relay on the same host or network (the configuration refuses a login
    /// over it: the password would cross the network in clear).
    None,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

impl SmtpTls {
    /// Parse `none`, `starttls` or `tls`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "none" => Ok(Self::None),
            "starttls" => Ok(Self::StartTls),
            "tls" => Ok(Self::Tls),
            other => Err(format!("{other:?} is invalid: use none, starttls or tls")),
        }
    }

    /// The usual port of the mode.
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// The SMTP relay every email channel sends through (`ESAAS_SMTP_*`).
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `ESAAS_SMTP_HOST`.
    pub host: String,
    /// `ESAAS_SMTP_PORT` (default: the mode's usual port).
    pub port: u16,
    /// `ESAAS_SMTP_TLS` (default `starttls`).
    pub tls: SmtpTls,
    /// `ESAAS_SMTP_USERNAME` and `ESAAS_SMTP_PASSWORD`, when the relay wants a login.
    pub credentials: Option<(String, SecretString)>,
    /// `ESAAS_SMTP_FROM`: the sender, `Name <address>` or an address.
    pub from: String,
    /// `ESAAS_SMTP_TIMEOUT_SECS`: the whole of one message (default 20).
    pub timeout: Duration,
}

/// Retries and concurrency of the delivery worker (`ESAAS_NOTIFY_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliverySettings {
    /// `ESAAS_NOTIFY_MAX_ATTEMPTS`: attempts before a delivery is given up (default 8).
    pub max_attempts: i32,
    /// `ESAAS_NOTIFY_BACKOFF_MS`: wait after the first failure; doubled after each further one (default 5000).
    pub backoff_base: Duration,
    /// `ESAAS_NOTIFY_BACKOFF_MAX_SECS`: the longest wait between attempts (default 3600).
    pub backoff_max: Duration,
    /// `ESAAS_NOTIFY_CONCURRENCY`: deliveries in flight at once in this process (default 16; 0: no worker).
    pub concurrency: usize,
    /// `ESAAS_NOTIFY_POLL_MS`: how often the worker looks for due deliveries when nothing woke it
    /// (default 2000; new deliveries wake it at once through Postgres `NOTIFY`).
    pub poll_interval: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            backoff_base: Duration::from_secs(5),
            backoff_max: Duration::from_secs(3600),
            concurrency: 16,
            poll_interval: Duration::from_secs(2),
        }
    }
}

/// Everything the notification module needs from the configuration.
#[derive(Debug, Clone, Default)]
pub struct NotificationSettings {
    /// Webhook guards.
    pub webhook: WebhookPolicy,
    /// The SMTP relay; `None`: email channels cannot be created and email deliveries fail.
    pub smtp: Option<SmtpSettings>,
    /// Retries and concurrency.
    pub delivery: DeliverySettings,
}

/// Parse a comma-separated list of CIDR networks or single addresses (`127.0.0.1/32, 10.1.2.3, fd00::/8`).
pub fn parse_networks(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_network)
        .collect()
}

/// Parse one CIDR network or a single address (a /32 or /128).
pub fn parse_network(item: &str) -> Result<IpNet, String> {
    if let Ok(net) = item.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    item.parse::<std::net::IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("{item:?} is not a CIDR network or an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_with_clear_errors() {
        let nets = parse_networks(" 127.0.0.1/32, 10.1.2.3 ,fd00::/8,").unwrap();
        assert_eq!(
            nets,
            vec![
                "127.0.0.1/32".parse::<IpNet>().unwrap(),
                "10.1.2.3/32".parse().unwrap(),
                "fd00::/8".parse().unwrap()
            ]
        );
        assert_eq!(
            parse_network("10.1.2.3/8").unwrap(),
            "10.0.0.0/8".parse().unwrap()
        );
        assert!(parse_networks("10.0.0.0/33").unwrap_err().contains("CIDR"));
        assert!(parse_networks("hooks.local").is_err());
        assert!(parse_networks(" , ").unwrap().is_empty());
    }

    #[test]
    fn smtp_modes() {
        assert_eq!(SmtpTls::parse("starttls"), Ok(SmtpTls::StartTls));
        assert_eq!(SmtpTls::parse("tls").unwrap().default_port(), 465);
        assert!(
            SmtpTls::parse("ssl")
                .unwrap_err()
                .contains("none, starttls or tls")
        );
    }
}
