//! The email sender: one plain-text message per attempt through the platform's SMTP relay, with `lettre`
//! (the maintained Rust mailer: SMTP, STARTTLS and implicit TLS over rustls with the ring provider, auth,
//! RFC 5322 message building and header encoding, none of which we want to write again). The relay's
//! host, port, TLS mode, login and From address come from `ESAAS_SMTP_*`; recipients from the channel.
//! The subject reads `[FIRING] health_red on acme/logs`; the Message-ID is derived from the delivery id,
//! so a retried message is recognisably the same one. The relay password is never logged.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::message::Facts;
use crate::accounts::email::Email;
use crate::config::notifications::{SmtpSettings, SmtpTls};

/// Sends the notifications of email channels through the configured relay. Cheap to clone.
#[derive(Clone)]
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    hello: String,
    timeout: Duration,
}

impl std::fmt::Debug for EmailSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSender")
            .field("from", &self.from.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl EmailSender {
    /// A sender for `smtp`, greeting the relay as `hello` (the portal's public host name).
    pub fn new(smtp: &SmtpSettings, hello: &str) -> anyhow::Result<Self> {
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("ESAAS_SMTP_FROM={:?} is invalid: {e}", smtp.from))?;
        let tls = || TlsParameters::builder(smtp.host.clone()).build_rustls();
        let tls = match smtp.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(tls()?),
            SmtpTls::Tls => Tls::Wrapper(tls()?),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.clone())
                .port(smtp.port)
                .tls(tls)
                .hello_name(ClientId::Domain(hello.to_owned()))
                .timeout(Some(smtp.timeout));
        if let Some((user, password)) = &smtp.credentials {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
            hello: hello.to_owned(),
            timeout: smtp.timeout,
        })
    }

    /// The timeout of one attempt.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The message for `facts` to `recipients`.
    pub fn message(
        &self,
        recipients: &[Email],
        delivery_id: Uuid,
        facts: &Facts,
    ) -> Result<Message, String> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(facts.subject())
            .message_id(Some(format!("<{delivery_id}@{}>", self.hello)))
            .header(ContentType::TEXT_PLAIN);
        for r in recipients {
            let to: Mailbox = r
                .as_str()
                .parse()
                .map_err(|e| format!("the recipient {r} is invalid: {e}"))?;
            builder = builder.to(to);
        }
        builder
            .body(facts.text())
            .map_err(|e| format!("the message could not be built: {e}"))
    }

    /// Send `facts` to `recipients`; the error is a text for the delivery log.
    pub async fn send(
        &self,
        recipients: &[Email],
        delivery_id: Uuid,
        facts: &Facts,
    ) -> Result<(), String> {
        let message = self.message(recipients, delivery_id, facts)?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}
