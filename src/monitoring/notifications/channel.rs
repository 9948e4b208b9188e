//! A notification channel as the domain sees it: its name, its kind and settings (webhook URL and body
//! format, or email recipients), and the validation of what a form or API request sends, with field-level
//! errors. The webhook secret is a `SecretString` from the edge on: it never appears in `Debug` output, in a
//! view or in an audit row. Validation only; storage is `repo`, the rules of who may change what `service`.

use std::fmt;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use crate::accounts::email::Email;
use crate::config::notifications::WebhookPolicy;
use crate::error::FieldErrors;

/// Longest channel name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest webhook URL, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// Bounds of a webhook secret, in characters.
pub const SECRET_CHARS: std::ops::RangeInclusive<usize> = 8..=512;
/// Most recipients of one email channel.
pub const MAX_RECIPIENTS: usize = 20;

/// Where a channel sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// An HTTP POST, signed with the channel's secret.
    Webhook,
    /// An email through the platform's SMTP relay.
    Email,
}

impl ChannelKind {
    /// Parse the wire/database name.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "webhook" => Ok(Self::Webhook),
            "email" => Ok(Self::Email),
            _ => Err("Choose webhook or email.".into()),
        }
    }

    /// The wire/database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Webhook => "webhook",
            Self::Email => "email",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// The portal's JSON document (tenant, cluster, rule, state, value, times, dashboard link).
    Json,
    /// `{"text": "..."}`, which Slack, Mattermost and Rocket.Chat incoming webhooks accept.
    Slack,
}

impl WebhookFormat {
    /// Parse the wire/database name.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "" | "json" => Ok(Self::Json),
            "slack" => Ok(Self::Slack),
            _ => Err("Choose json or slack.".into()),
        }
    }

    /// The wire/database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Slack => "slack",
        }
    }
}

/// A validated channel name: 1 to 64 characters, no control characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelName(String);

impl ChannelName {
    /// Parse; the error is the message to show at the field.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("Enter a name.".into());
        }
        if s.chars().count() > MAX_NAME_CHARS {
            return Err(format!("A name has at most {MAX_NAME_CHARS} characters."));
        }
        if s.chars().any(char::is_control) {
            return Err("A name cannot contain control characters.".into());
        }
        Ok(Self(s.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a channel sends to, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelSettings {
    /// POST to `url` with a `format` body.
    Webhook {
        /// https (or http when the platform allows it), with a host, without credentials or fragment.
        url: Url,
        /// The body.
        format: WebhookFormat,
    },
    /// Mail to these addresses.
    Email {
        /// 1 to [`MAX_RECIPIENTS`] distinct addresses.
        recipients: Vec<Email>,
    },
}

impl ChannelSettings {
    /// The kind these settings belong to.
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Webhook { .. } => ChannelKind::Webhook,
            Self::Email { .. } => ChannelKind::Email,
        }
    }
}

/// A channel as pages and the API show it: never its secret, only whether one is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channel {
    /// Id.
    pub id: Uuid,
    /// The tenant it belongs to.
    pub tenant_id: Uuid,
    /// Its name, unique in the tenant.
    pub name: String,
    /// Where it sends.
    pub settings: ChannelSettings,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What a form or an API request sends to create or update a channel. `secret` empty or absent on update
/// keeps the stored one. `recipients` items may themselves be comma- or newline-separated lists (a form's
/// textarea), so a form and the API fill it the same way.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChannelInput {
    /// Channel name.
    pub name: String,
    /// `webhook` or `email`.
    pub kind: String,
    /// Webhook URL.
    #[serde(default)]
    pub url: Option<String>,
    /// Webhook body: `json` (default) or `slack`.
    #[serde(default)]
    pub format: Option<String>,
    /// The webhook's HMAC secret (write-only).
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// Email recipients.
    #[serde(default)]
    pub recipients: Vec<String>,
}

/// A validated request: what to store, and the new secret if one was given.
#[derive(Debug)]
pub struct ValidChannel {
    /// Name.
    pub name: ChannelName,
    /// Settings.
    pub settings: ChannelSettings,
    /// A new webhook secret (`None`: none given).
    pub secret: Option<SecretString>,
}

/// Where validation runs and what it may rely on.
#[derive(Debug, Clone, Copy)]
pub struct ValidationContext<'a> {
    /// The webhook guards (https only unless http is allowed; literal addresses checked at once).
    pub policy: &'a WebhookPolicy,
    /// An SMTP relay is configured (email channels are refused otherwise).
    pub smtp_configured: bool,
    /// Updating a channel of this kind (`None`: creating one): the kind cannot change, and a webhook keeps
    /// its secret when none is given.
    pub existing: Option<ChannelKind>,
}

impl ChannelInput {
    /// Validate every field, collecting all the errors.
    pub fn validate(&self, cx: ValidationContext<'_>) -> Result<ValidChannel, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = ChannelName::parse(&self.name)
            .map_err(|m| errors.add("name", m))
            .ok();
        let kind = match (ChannelKind::parse(&self.kind), cx.existing) {
            (Ok(k), Some(existing)) if k != existing => {
                errors.add(
                    "kind",
                    format!("A {existing} channel stays one: delete it and create a {k} channel."),
                );
                None
            }
            (Ok(ChannelKind::Email), None) if !cx.smtp_configured => {
                errors.add(
                    "kind",
                    "Email notifications are not set up on this platform (no SMTP relay); use a webhook.",
                );
                None
            }
            (Ok(k), _) => Some(k),
            (Err(m), _) => {
                errors.add("kind", m);
                None
            }
        };
        let secret = self
            .secret
            .as_ref()
            .filter(|s| !s.expose_secret().is_empty());
        let settings = match kind {
            Some(ChannelKind::Webhook) => {
                let url = parse_url(self.url.as_deref().unwrap_or(""), cx.policy)
                    .map_err(|m| errors.add("url", m))
                    .ok();
                let format = WebhookFormat::parse(self.format.as_deref().unwrap_or(""))
                    .map_err(|m| errors.add("format", m))
                    .ok();
                match secret {
                    None if cx.existing.is_none() => errors.add(
                        "secret",
                        "Enter a secret: receivers verify the signature with it.",
                    ),
                    Some(s) if !SECRET_CHARS.contains(&s.expose_secret().chars().count()) => errors
                        .add(
                            "secret",
                            format!(
                                "A secret has {} to {} characters.",
                                SECRET_CHARS.start(),
                                SECRET_CHARS.end()
                            ),
                        ),
                    _ => {}
                }
                url.zip(format)
                    .map(|(url, format)| ChannelSettings::Webhook { url, format })
            }
            Some(ChannelKind::Email) => {
                if secret.is_some() {
                    errors.add(
                        "secret",
                        "An email channel has no secret: the SMTP relay's login is the platform's.",
                    );
                }
                parse_recipients(&self.recipients)
                    .map_err(|m| errors.add("recipients", m))
                    .ok()
                    .map(|recipients| ChannelSettings::Email { recipients })
            }
            None => None,
        };
        match (name, settings) {
            (Some(name), Some(settings)) if errors.is_empty() => Ok(ValidChannel {
                name,
                settings,
                secret: secret.cloned(),
            }),
            _ => Err(errors),
        }
    }
}

/// Parse a webhook URL: https (http only when allowed), a host, no credentials, no fragment, bounded
/// length; a literal IP address is checked against the guard at once (host names are checked when sent).
pub fn parse_url(input: &str, policy: &WebhookPolicy) -> Result<Url, String> {
    let s = input.trim();
    if s.is_empty() {
        return Err("Enter the URL to send to.".into());
    }
    if s.len() > MAX_URL_BYTES {
        return Err(format!("A URL has at most {MAX_URL_BYTES} characters."));
    }
    let url = Url::parse(s).map_err(|e| format!("This is not a valid URL ({e})."))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => {
            return Err("Use an https:// URL: plain http is not allowed on this platform.".into());
        }
        _ => return Err("Use an https:// URL.".into()),
    }
    let Some(host) = url.host() else {
        return Err("The URL needs a host.".into());
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "Put no credentials in the URL: receivers verify the signature instead.".into(),
        );
    }
    if url.fragment().is_some() {
        return Err("A URL to send to has no #fragment.".into());
    }
    let literal = match host {
        url::Host::Ipv4(ip) => Some(std::net::IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(std::net::IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    };
    if let Some(ip) = literal {
        policy.check(ip).map_err(|e| format!("Not allowed: {e}."))?;
    }
    Ok(url)
}

/// Parse recipients: items split on commas, semicolons and line breaks, each a valid address, duplicates
/// dropped, 1 to [`MAX_RECIPIENTS`].
pub fn parse_recipients(items: &[String]) -> Result<Vec<Email>, String> {
    let mut out: Vec<Email> = Vec::new();
    for part in items
        .iter()
        .flat_map(|i| i.split([',', ';', '\n', '\r']))
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let email = Email::parse(part).map_err(|m| format!("`{part}`: {m}"))?;
        if !out.contains(&email) {
            out.push(email);
        }
    }
    if out.is_empty() {
        return Err("Enter at least one email address.".into());
    }
    if out.len() > MAX_RECIPIENTS {
        return Err(format!(
            "A channel has at most {MAX_RECIPIENTS} recipients."
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
