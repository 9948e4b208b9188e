//! `TenantSlug` and `TenantName`: the validated identifiers of a tenant. The slug is the tenant's URL segment
//! (`/t/<slug>/...`) and names its Kubernetes namespace (`esaas-<slug>`), so it must be a DNS label that still
//! fits 63 characters after the prefix. Parsing happens at the edge (forms, API, path segments); past it an
//! invalid slug cannot exist.

use std::fmt;

/// Longest slug: `esaas-` (6) + 40 leaves room under the 63-character DNS label limit for suffixes.
pub const MAX_SLUG_LEN: usize = 40;

/// Longest display name of a tenant, in characters.
pub const MAX_NAME_LEN: usize = 100;

/// Slugs that would collide with portal routes or read as something else.
pub const RESERVED_SLUGS: &[&str] = &[
    "admin", "api", "static", "new", "login", "logout", "account", "settings", "system", "default",
    "esaas", "health", "healthz", "readyz", "metrics", "www", "root", "help", "docs", "t",
];

/// A tenant's slug: 1..=40 characters of `[a-z0-9-]`, starting with a letter, not ending with `-`, not a
/// reserved word. Decodes from the database as-is (rows were validated when written).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, sqlx::Type, serde::Serialize)]
#[sqlx(transparent)]
#[serde(transparent)]
pub struct TenantSlug(String);

impl TenantSlug {
    /// Parse user input (surrounding spaces trimmed, upper case refused so the user sees the real value);
    /// the error is the message to show at the field.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("Enter a slug.".into());
        }
        if s.len() > MAX_SLUG_LEN {
            return Err(format!("A slug has at most {MAX_SLUG_LEN} characters."));
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err("Use only lower-case letters a-z, digits and '-'.".into());
        }
        if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err("A slug starts with a letter.".into());
        }
        if s.ends_with('-') {
            return Err("A slug cannot end with '-'.".into());
        }
        if RESERVED_SLUGS.contains(&s) {
            return Err(format!("'{s}' is reserved; choose another slug."));
        }
        Ok(Self(s.to_owned()))
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant's Kubernetes namespace, `esaas-<slug>`.
    pub fn namespace(&self) -> String {
        format!("esaas-{}", self.0)
    }
}

impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for TenantSlug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A tenant's display name: 1..=100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantName(String);

impl TenantName {
    /// Parse user input; the error is the message to show at the field.
    pub fn parse(input: &str) -> Result<Self, String> {
        let s = input.trim();
        if s.is_empty() {
            return Err("Enter a name.".into());
        }
        if s.chars().count() > MAX_NAME_LEN {
            return Err(format!("A name has at most {MAX_NAME_LEN} characters."));
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

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_slugs() {
        for ok in [
            "a",
            "team-search",
            "t1",
            "abc-1-x",
            &"a".repeat(MAX_SLUG_LEN),
        ] {
            assert_eq!(TenantSlug::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(TenantSlug::parse("  logs ").unwrap().as_str(), "logs");
    }

    #[test]
    fn namespace_fits_a_dns_label() {
        let longest = TenantSlug::parse(&"z".repeat(MAX_SLUG_LEN)).unwrap();
        assert!(longest.namespace().len() <= 63);
        assert_eq!(TenantSlug::parse("logs").unwrap().namespace(), "esaas-logs");
    }

    #[test]
    fn invalid_slugs_are_refused_with_a_reason() {
        let cases = [
            ("", "Enter"),
            (&*"a".repeat(MAX_SLUG_LEN + 1), "at most"),
            ("Team", "lower-case"),
            ("team_a", "lower-case"),
            ("tëam", "lower-case"),
            ("a.b", "lower-case"),
            ("1team", "starts with a letter"),
            ("-team", "starts with a letter"),
            ("team-", "end with"),
            ("admin", "reserved"),
            ("api", "reserved"),
            ("static", "reserved"),
            ("new", "reserved"),
        ];
        for (input, expected) in cases {
            let err = TenantSlug::parse(input).expect_err(input);
            assert!(err.contains(expected), "{input:?}: {err}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            TenantName::parse("  Search Team ").unwrap().as_str(),
            "Search Team"
        );
        assert!(TenantName::parse("   ").is_err());
        assert!(TenantName::parse(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
        assert!(TenantName::parse(&"é".repeat(MAX_NAME_LEN)).is_ok());
        assert!(TenantName::parse("a\u{0}b").is_err());
    }
}
