//! What a notification says, and how each channel renders it: the facts stored with a delivery (tenant,
//! cluster, rule, state, value, times, dashboard link), the webhook's JSON or Slack-compatible body, the
//! email's subject and plain-text body, and the webhook signature. Pure functions: no I/O.

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use super::channel::WebhookFormat;

/// Header carrying `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-esaas-signature";
/// Header carrying the delivery id (the same on every retry: receivers deduplicate on it).
pub const DELIVERY_HEADER: &str = "x-esaas-delivery";
/// Header repeating the body's `sent_at` as Unix seconds (the signed copy is the body's).
pub const TIMESTAMP_HEADER: &str = "x-esaas-timestamp";

/// Why a notification is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// An alert started firing.
    Firing,
    /// A firing alert resolved.
    Resolved,
    /// Someone pressed "send a test".
    Test,
}

impl Event {
    /// The wire/database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Resolved => "resolved",
            Self::Test => "test",
        }
    }

    /// Parse the wire/database name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "firing" => Some(Self::Firing),
            "resolved" => Some(Self::Resolved),
            "test" => Some(Self::Test),
            _ => None,
        }
    }
}

/// The facts of one notification, stored with each of its deliveries (so retries say the same thing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// Tenant slug.
    pub tenant: String,
    /// Cluster name (`None` for a test).
    pub cluster: Option<String>,
    /// Rule id (`health_red`, `disk_high`, ...; `test` for a test).
    pub rule: String,
    /// `firing`, `resolved` or `test`.
    pub state: Event,
    /// The value that made the rule fire (or the last one seen when it resolved): a number or a word.
    pub value: Option<serde_json::Value>,
    /// One human sentence (`Cluster health is red`).
    pub summary: String,
    /// When the alert started firing.
    pub started_at: Option<DateTime<Utc>>,
    /// When it resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The cluster's dashboard (or the tenant's page for a test), from `ESAAS_PUBLIC_URL`.
    pub dashboard_url: String,
}

/// The JSON body of a webhook: the facts plus the delivery id and when this attempt was sent (inside the
/// signed body, so a receiver can refuse replays of old requests).
#[derive(Debug, Serialize)]
struct JsonBody<'a> {
    delivery_id: Uuid,
    sent_at: String,
    #[serde(flatten)]
    facts: &'a Facts,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Facts {
    /// `tenant/cluster`, or the tenant alone.
    fn subject_target(&self) -> String {
        match &self.cluster {
            Some(c) => format!("{}/{c}", self.tenant),
            None => self.tenant.clone(),
        }
    }

    /// The email subject and the first line of other renderings: `[FIRING] health_red on acme/logs`.
    pub fn subject(&self) -> String {
        format!(
            "[{}] {} on {}",
            self.state.as_str().to_uppercase(),
            self.rule,
            self.subject_target()
        )
    }

    /// The plain-text rendering (email body, Slack text): subject, summary, value, times, link.
    pub fn text(&self) -> String {
        let mut lines = vec![self.subject(), String::new(), self.summary.clone()];
        if let Some(v) = &self.value {
            lines.push(format!("Value: {}", value_text(v)));
        }
        if let Some(t) = self.started_at {
            lines.push(format!("Started: {}", time(t)));
        }
        if let Some(t) = self.resolved_at {
            lines.push(format!("Resolved: {}", time(t)));
        }
        lines.push(format!("Dashboard: {}", self.dashboard_url));
        lines.join("\n")
    }

    /// The exact bytes a webhook receives for this delivery, in the channel's format.
    pub fn webhook_body(
        &self,
        format: WebhookFormat,
        delivery_id: Uuid,
        sent_at: DateTime<Utc>,
    ) -> Vec<u8> {
        let value = match format {
            WebhookFormat::Json => serde_json::to_value(JsonBody {
                delivery_id,
                sent_at: time(sent_at),
                facts: self,
            }),
            WebhookFormat::Slack => Ok(serde_json::json!({ "text": self.text() })),
        };
        serde_json::to_vec(&value.expect("facts always serialise"))
            .expect("a JSON value serialises")
    }
}

/// `sha256=<hex HMAC-SHA256 of body with secret>`, the value of [`SIGNATURE_HEADER`].
pub fn signature(secret: &SecretString, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(state: Event) -> Facts {
        Facts {
            tenant: "acme".into(),
            cluster: Some("logs".into()),
            rule: "health_red".into(),
            state,
            value: Some(serde_json::json!("red")),
            summary: "Cluster health is red.".into(),
            started_at: Some("2026-12-02T10:00:00Z".parse().unwrap()),
            resolved_at: (state == Event::Resolved)
                .then(|| "2026-12-02T10:05:00Z".parse().unwrap()),
            dashboard_url: "https://portal.example.com/t/acme/clusters/logs".into(),
        }
    }

    #[test]
    fn the_subject_names_state_rule_and_cluster() {
        assert_eq!(
            facts(Event::Firing).subject(),
            "[FIRING] health_red on acme/logs"
        );
        assert_eq!(
            facts(Event::Resolved).subject(),
            "[RESOLVED] health_red on acme/logs"
        );
    }

    #[test]
    fn the_text_has_every_fact_and_the_link() {
        let t = facts(Event::Resolved).text();
        for part in [
            "[RESOLVED] health_red on acme/logs",
            "Cluster health is red.",
            "Value: red",
            "Started: 2026-12-02T10:00:00Z",
            "Resolved: 2026-12-02T10:05:00Z",
            "Dashboard: https://portal.example.com/t/acme/clusters/logs",
        ] {
            assert!(t.contains(part), "{part:?} missing from {t}");
        }
    }

    #[test]
    fn the_json_body_carries_the_facts_the_delivery_and_the_time() {
        let id = Uuid::nil();
        let at: DateTime<Utc> = "2026-12-02T10:00:07Z".parse().unwrap();
        let body = facts(Event::Firing).webhook_body(WebhookFormat::Json, id, at);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["tenant"], "acme");
        assert_eq!(v["cluster"], "logs");
        assert_eq!(v["rule"], "health_red");
        assert_eq!(v["state"], "firing");
        assert_eq!(v["value"], "red");
        assert_eq!(v["started_at"], "2026-12-02T10:00:00Z");
        assert!(v["resolved_at"].is_null());
        assert_eq!(
            v["dashboard_url"],
            "https://portal.example.com/t/acme/clusters/logs"
        );
        assert_eq!(v["delivery_id"], id.to_string());
        assert_eq!(v["sent_at"], "2026-12-02T10:00:07Z");
        let slack = facts(Event::Firing).webhook_body(WebhookFormat::Slack, id, at);
        let v: serde_json::Value = serde_json::from_slice(&slack).unwrap();
        assert!(
            v["text"]
                .as_str()
                .unwrap()
                .starts_with("[FIRING] health_red on acme/logs")
        );
        assert_eq!(v.as_object().unwrap().len(), 1);
    }

    #[test]
    fn the_signature_is_the_hmac_of_the_body() {
        // RFC 4231 test case 2.
        let secret = SecretString::from("Jefe");
        assert_eq!(
            signature(&secret, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
