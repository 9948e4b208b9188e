//! Validation of channel input: every field's error, and the secret kept out of `Debug`.

use secrecy::SecretString;

use super::*;

fn input(kind: &str) -> ChannelInput {
    ChannelInput {
        name: "On-call".into(),
        kind: kind.into(),
        url: Some("https://hooks.example.com/esaas".into()),
        format: None,
        secret: Some(SecretString::from("a-long-enough-secret")),
        recipients: vec!["Ops@Example.com, oncall@example.com\nops@example.com".into()],
    }
}

fn cx(policy: &WebhookPolicy) -> ValidationContext<'_> {
    ValidationContext {
        policy,
        smtp_configured: true,
        existing: None,
    }
}

fn field_errors(r: Result<ValidChannel, FieldErrors>) -> FieldErrors {
    r.expect_err("should be refused")
}

#[test]
fn a_webhook_validates_to_its_settings_and_secret() {
    let policy = WebhookPolicy::default();
    let v = input("webhook").validate(cx(&policy)).unwrap();
    assert_eq!(v.name.as_str(), "On-call");
    assert_eq!(
        v.settings,
        ChannelSettings::Webhook {
            url: "https://hooks.example.com/esaas".parse().unwrap(),
            format: WebhookFormat::Json
        }
    );
    assert!(v.secret.is_some());
}

#[test]
fn email_recipients_are_split_parsed_and_deduplicated() {
    let mut i = input("email");
    i.secret = None;
    let v = i.validate(cx(&WebhookPolicy::default())).unwrap();
    let ChannelSettings::Email { recipients } = v.settings else {
        panic!("email settings expected")
    };
    let got: Vec<&str> = recipients.iter().map(|e| e.as_str()).collect();
    assert_eq!(got, ["ops@example.com", "oncall@example.com"]);
}

#[test]
fn bad_fields_get_their_own_messages() {
    let policy = WebhookPolicy::default();
    let mut i = input("webhook");
    i.name = " ".into();
    i.url = Some("http://hooks.example.com/x".into());
    i.format = Some("xml".into());
    i.secret = Some(SecretString::from("short"));
    let e = field_errors(i.validate(cx(&policy)));
    assert_eq!(e.get("name"), Some("Enter a name."));
    assert!(e.get("url").unwrap().contains("https"));
    assert!(e.get("format").unwrap().contains("json or slack"));
    assert!(e.get("secret").unwrap().contains("8 to 512"));

    let mut i = input("pager");
    i.name = "x".repeat(65);
    let e = field_errors(i.validate(cx(&policy)));
    assert!(e.get("name").unwrap().contains("64"));
    assert_eq!(e.get("kind"), Some("Choose webhook or email."));
}

#[test]
fn webhook_urls_are_checked() {
    let strict = WebhookPolicy::default();
    let lax = WebhookPolicy {
        allow_http: true,
        ..WebhookPolicy::default()
    };
    for (url, policy, wanted) in [
        ("", &strict, "Enter the URL"),
        ("not a url", &strict, "not a valid URL"),
        ("ftp://example.com/", &strict, "https://"),
        ("http://example.com/", &strict, "plain http"),
        ("https://user:pw@example.com/", &strict, "credentials"),
        ("https://example.com/#x", &strict, "fragment"),
        ("https://127.0.0.1/", &strict, "loopback"),
        ("https://[::ffff:169.254.169.254]/", &strict, "metadata"),
        ("http://10.0.0.1/", &lax, "private"),
    ] {
        let got = parse_url(url, policy).unwrap_err();
        assert!(got.contains(wanted), "{url}: {got}");
    }
    let long = format!("https://example.com/{}", "a".repeat(MAX_URL_BYTES));
    assert!(parse_url(&long, &strict).unwrap_err().contains("at most"));
    assert!(parse_url("http://example.com/hook", &lax).is_ok());
    assert!(parse_url("https://example.com:8443/hook?x=1", &strict).is_ok());
}

#[test]
fn a_new_webhook_needs_a_secret_an_update_keeps_it() {
    let policy = WebhookPolicy::default();
    let mut i = input("webhook");
    i.secret = Some(SecretString::from(""));
    let e = field_errors(i.validate(cx(&policy)));
    assert!(e.get("secret").unwrap().contains("Enter a secret"));
    let update = ValidationContext {
        existing: Some(ChannelKind::Webhook),
        ..cx(&policy)
    };
    let v = i.validate(update).unwrap();
    assert!(
        v.secret.is_none(),
        "an empty secret on update keeps the stored one"
    );
}

#[test]
fn the_kind_cannot_change_and_email_needs_smtp() {
    let policy = WebhookPolicy::default();
    let update = ValidationContext {
        existing: Some(ChannelKind::Webhook),
        ..cx(&policy)
    };
    let e = field_errors(input("email").validate(update));
    assert!(e.get("kind").unwrap().contains("stays one"));
    let no_smtp = ValidationContext {
        smtp_configured: false,
        ..cx(&policy)
    };
    let mut i = input("email");
    i.secret = None;
    let e = field_errors(i.validate(no_smtp));
    assert!(e.get("kind").unwrap().contains("SMTP"));
}

#[test]
fn email_channels_refuse_a_secret_and_bad_recipients() {
    let policy = WebhookPolicy::default();
    let mut i = input("email");
    i.recipients = vec!["ops@example.com, not-an-address".into()];
    let e = field_errors(i.validate(cx(&policy)));
    assert!(e.get("secret").unwrap().contains("no secret"));
    assert!(
        e.get("recipients")
            .unwrap()
            .starts_with("\u{201c}not-an-address\u{201d}:")
    );
    i.recipients = vec![];
    assert!(
        parse_recipients(&i.recipients)
            .unwrap_err()
            .contains("at least one")
    );
    let many: Vec<String> = (0..21).map(|n| format!("u{n}@example.com")).collect();
    assert!(parse_recipients(&many).unwrap_err().contains("at most 20"));
}

#[test]
fn the_secret_never_shows_in_debug_output() {
    let i = input("webhook");
    let v = i.validate(cx(&WebhookPolicy::default())).unwrap();
    for text in [format!("{i:?}"), format!("{v:?}")] {
        assert!(!text.contains("a-long-enough-secret"), "{text}");
        assert!(text.contains("REDACTED"), "{text}");
    }
}
