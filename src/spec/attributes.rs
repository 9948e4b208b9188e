//! Node attributes: `node.attr.<key>: <value>` settings such as `data: hot` or `zone: a`, which index
//! allocation filters and ILM `allocate` actions match on (see the hot-warm-cold template).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::names::string_newtype;

/// Longest attribute key or value accepted.
pub const ATTRIBUTE_MAX_LEN: usize = 63;

/// Key prefixes Elasticsearch or the platform set themselves; a user value would clash with or shadow them.
const RESERVED_KEY_PREFIXES: [&str; 4] = ["ml.", "xpack.", "transform.", "k8s_node_name"];

/// An attribute key: 1..=63 of `[a-z0-9_.-]`, starting with a letter or digit, not reserved.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeAttributeKey(String);

impl NodeAttributeKey {
    /// Validates `value` (no trimming).
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("attribute name is required".into());
        }
        if value.len() > ATTRIBUTE_MAX_LEN {
            return Err(format!(
                "attribute name must be at most {ATTRIBUTE_MAX_LEN} characters"
            ));
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c);
        if let Some(c) = value.chars().find(|c| !allowed(*c)) {
            return Err(format!(
                "attribute name `{value}` may only contain lowercase letters, digits, '_', '.' and '-' (found {c:?})"
            ));
        }
        if !value.as_bytes()[0].is_ascii_alphanumeric()
            || value.ends_with('.')
            || value.contains("..")
        {
            return Err(format!(
                "attribute name `{value}` must start with a letter or digit and use single dots between words"
            ));
        }
        if RESERVED_KEY_PREFIXES.iter().any(|p| value.starts_with(p)) {
            return Err(format!(
                "attribute name `{value}` is reserved by Elasticsearch or the platform"
            ));
        }
        Ok(Self(value.to_owned()))
    }
}
string_newtype!(NodeAttributeKey);

/// An attribute value: 1..=63 printable characters without commas (allocation filters split on commas)
/// and without surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeAttributeValue(String);

impl NodeAttributeValue {
    /// Validates `value` (no trimming: surrounding whitespace is an error).
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.trim().is_empty() {
            return Err("attribute value is required".into());
        }
        if value.chars().count() > ATTRIBUTE_MAX_LEN {
            return Err(format!(
                "attribute value must be at most {ATTRIBUTE_MAX_LEN} characters"
            ));
        }
        if value.trim() != value {
            return Err("attribute value must not start or end with spaces".into());
        }
        if value.contains(',') || value.chars().any(char::is_control) {
            return Err("attribute value must not contain commas or control characters".into());
        }
        Ok(Self(value.to_owned()))
    }
}
string_newtype!(NodeAttributeValue);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_usual_attribute_keys() {
        for ok in ["data", "zone", "rack_id", "box-type", "disk.kind", "k8s"] {
            assert_eq!(NodeAttributeKey::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_bad_or_reserved_keys() {
        for bad in [
            "",
            "Data",
            "my data",
            "_data",
            ".data",
            "data.",
            "a..b",
            "ml.machine_memory",
            "xpack.installed",
        ] {
            assert!(NodeAttributeKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(NodeAttributeKey::parse(&"k".repeat(64)).is_err());
        assert!(
            NodeAttributeKey::parse("xpack.installed")
                .unwrap_err()
                .contains("reserved")
        );
    }

    #[test]
    fn accepts_usual_attribute_values() {
        for ok in ["hot", "warm", "eu-west-1a", "Rack 7"] {
            assert!(NodeAttributeValue::parse(ok).is_ok(), "{ok}");
        }
        assert!(NodeAttributeValue::parse(&"v".repeat(63)).is_ok());
    }

    #[test]
    fn rejects_bad_values() {
        assert_eq!(
            NodeAttributeValue::parse("").unwrap_err(),
            "attribute value is required"
        );
        assert!(NodeAttributeValue::parse("   ").is_err());
        assert!(NodeAttributeValue::parse(" hot").is_err());
        assert!(NodeAttributeValue::parse("hot,warm").is_err());
        assert!(NodeAttributeValue::parse("a\nb").is_err());
        assert!(NodeAttributeValue::parse(&"v".repeat(64)).is_err());
    }
}
