//! Validated names: the cluster name, node set names and storage class names.
//!
//! The length limits come from the names the engines derive: a cluster `logs` with node set `hot` becomes
//! the StatefulSet `logs-es-hot` and the pods `logs-es-hot-0`, `logs-es-hot-1`, ... Pod host names are DNS
//! labels (at most 63 characters), so cluster names are capped at 36 and node set names at 23 characters:
//! 36 + `-es-` + 23 = 63 (the limits of Elastic's operator, kept by every engine). Names are lowercase
//! because they become DNS names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest cluster name (the operator's limit for Elasticsearch resource names).
pub const CLUSTER_NAME_MAX_LEN: usize = 36;
/// Longest node set name (`spec.nodeSets[].name`, `maxLength: 23` in the operator's CRD).
pub const NODE_SET_NAME_MAX_LEN: usize = 23;
/// Longest storage class name: a DNS subdomain.
pub const STORAGE_CLASS_NAME_MAX_LEN: usize = 253;

/// Checks a DNS-1123 label made of lowercase letters, digits and '-', first and last characters alphanumeric.
/// Returns the reason it is not one.
fn check_dns_label(
    value: &str,
    max_len: usize,
    must_start_with_letter: bool,
) -> Result<(), String> {
    if value.is_empty() {
        return Err("Enter a name".into());
    }
    if value.len() > max_len {
        return Err(format!(
            "Use at most {max_len} characters (this one has {})",
            value.len()
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "Use only lower-case letters, digits and dashes (\u{201c}{c}\u{201d} is not allowed)"
        ));
    }
    let first = value.as_bytes()[0];
    if must_start_with_letter && !first.is_ascii_lowercase() {
        return Err("Start with a lower-case letter".into());
    }
    if first == b'-' {
        return Err("Start with a letter or a digit".into());
    }
    if value.ends_with('-') {
        return Err("End with a letter or a digit, not a dash".into());
    }
    Ok(())
}

/// `"Use only ..."` as `"use only ..."`, for a reason quoted inside another sentence.
fn lower_first(reason: &str) -> String {
    let mut chars = reason.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().chain(chars).collect::<String>()
    })
}

/// Implements the string plumbing shared by the name newtypes: `as_str`, `Display`, `AsRef<str>`,
/// and serde as a plain string that is validated again when read back.
macro_rules! string_newtype {
    ($ty:ident) => {
        impl $ty {
            /// The name as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $ty {
            type Error = String;

            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$ty> for String {
            fn from(value: $ty) -> Self {
                value.0
            }
        }
    };
}
pub(crate) use string_newtype;

/// A cluster name: a DNS-1123 label of 1..=36 characters that starts with a letter.
/// It is the name of the Elasticsearch (and Kibana) resource and is unique within its tenant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClusterName(String);

impl ClusterName {
    /// Validates `value` (no trimming: callers trim form input first).
    pub fn parse(value: &str) -> Result<Self, String> {
        check_dns_label(value, CLUSTER_NAME_MAX_LEN, true)?;
        if RESERVED_CLUSTER_NAMES.contains(&value) {
            return Err(format!(
                "\"{value}\" is reserved (it is part of the portal's addresses): choose another name"
            ));
        }
        Ok(Self(value.to_owned()))
    }
}
string_newtype!(ClusterName);

/// Names a cluster cannot take because a page lives at `/t/{tenant}/clusters/<name>` (the request form).
const RESERVED_CLUSTER_NAMES: &[&str] = &["new"];

/// A node set name: a DNS-1123 label of 1..=23 characters, unique within its cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeSetName(String);

impl NodeSetName {
    /// Validates `value` (no trimming).
    pub fn parse(value: &str) -> Result<Self, String> {
        check_dns_label(value, NODE_SET_NAME_MAX_LEN, false)?;
        Ok(Self(value.to_owned()))
    }
}
string_newtype!(NodeSetName);

/// The name of a Kubernetes StorageClass: a DNS-1123 subdomain (dot-separated labels, at most 253 characters).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StorageClassName(String);

impl StorageClassName {
    /// Validates `value` (no trimming).
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() > STORAGE_CLASS_NAME_MAX_LEN {
            return Err(format!(
                "Use at most {STORAGE_CLASS_NAME_MAX_LEN} characters"
            ));
        }
        for label in value.split('.') {
            check_dns_label(label, 63, false).map_err(|reason| {
                if label.is_empty() {
                    "Use a DNS name such as `fast-ssd` or `gp3.csi.example.com`".to_owned()
                } else {
                    format!("In the part `{label}`: {}", lower_first(&reason))
                }
            })?;
        }
        Ok(Self(value.to_owned()))
    }
}
string_newtype!(StorageClassName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_name_accepts_dns_labels() {
        for ok in ["a", "logs", "logs-prod-2", &"a".repeat(36)] {
            assert_eq!(ClusterName::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn cluster_name_rejects_bad_names_with_a_reason() {
        let cases = [
            ("", "Enter a name"),
            ("Logs", "lower-case"),
            (
                "logs_prod",
                "lower-case letters, digits and dashes (\u{201c}_\u{201d}",
            ),
            ("1logs", "Start with a lower-case letter"),
            ("-logs", "Start with a lower-case letter"),
            ("logs-", "not a dash"),
            ("log s", "(\u{201c} \u{201d} is not allowed)"),
        ];
        for (input, expected) in cases {
            let err = ClusterName::parse(input).unwrap_err();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
        let err = ClusterName::parse("new").unwrap_err();
        assert!(err.contains("reserved"), "{err}");
        assert!(ClusterName::parse("newer").is_ok());
        let err = ClusterName::parse(&"a".repeat(37)).unwrap_err();
        assert!(err.contains("at most 36"), "{err}");
    }

    #[test]
    fn node_set_name_is_a_short_dns_label() {
        assert!(NodeSetName::parse("hot").is_ok());
        assert!(
            NodeSetName::parse("0data").is_ok(),
            "DNS labels may start with a digit"
        );
        assert!(NodeSetName::parse(&"n".repeat(23)).is_ok());
        assert!(
            NodeSetName::parse(&"n".repeat(24))
                .unwrap_err()
                .contains("at most 23")
        );
        assert!(NodeSetName::parse("-hot").is_err());
        assert!(NodeSetName::parse("hot-").is_err());
        assert!(NodeSetName::parse("Hot").is_err());
        assert!(NodeSetName::parse("").is_err());
    }

    #[test]
    fn storage_class_name_is_a_dns_subdomain() {
        for ok in [
            "standard",
            "fast-ssd",
            "gp3.csi.aws.com",
            "alicloud-disk-essd",
        ] {
            assert!(StorageClassName::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Fast",
            "fast..ssd",
            ".fast",
            "fast.",
            "fast_ssd",
            "-fast",
        ] {
            assert!(StorageClassName::parse(bad).is_err(), "{bad}");
        }
        assert!(StorageClassName::parse(&"a".repeat(254)).is_err());
    }

    #[test]
    fn names_round_trip_through_serde_and_are_revalidated() {
        let name = ClusterName::parse("logs").unwrap();
        let json = serde_json::to_string(&name).unwrap();
        assert_eq!(json, "\"logs\"");
        assert_eq!(serde_json::from_str::<ClusterName>(&json).unwrap(), name);
        assert!(serde_json::from_str::<ClusterName>("\"Bad Name\"").is_err());
        assert!(
            serde_json::from_str::<NodeSetName>("\"this-name-is-far-too-long-for-a-node-set\"")
                .is_err()
        );
    }
}
