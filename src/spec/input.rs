//! The unvalidated cluster spec, as it arrives from an HTML form or a JSON body. Everything is optional or a
//! plain string/number here so that every mistake becomes a field error from [`super::validate()`] instead of
//! a deserialization failure. Unknown fields are refused (`deny_unknown_fields`) so typos do not vanish.
//!
//! Numbers are [`NumberInput`]: a JSON number or the text of a form field, parsed during validation.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{ClusterSpec, KibanaSpec, NodeSetSpec};

/// A cluster spec as submitted. Build a [`ClusterSpec`] from it with [`super::validate()`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpecInput {
    /// Elasticsearch version, e.g. `9.2.1`. Field `version`.
    #[serde(default)]
    pub version: String,
    /// Node sets. Fields `node_sets.<index>.<field>`.
    #[serde(default)]
    pub node_sets: Vec<NodeSetInput>,
    /// Kibana; absent or `null` means no Kibana. Fields `kibana.<field>`.
    #[serde(default)]
    pub kibana: Option<KibanaInput>,
    /// HTTPS on the HTTP endpoints; absent means `true`. Field `http_tls`.
    #[serde(default)]
    pub http_tls: Option<bool>,
    /// The IP allow-list (networks in CIDR notation or addresses); absent means none. Fields
    /// `ip_allow_list` (the list) and `ip_allow_list.<index>`.
    #[serde(default)]
    pub ip_allow_list: Option<Vec<String>>,
}

/// One node set as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSetInput {
    /// Node set name.
    #[serde(default)]
    pub name: String,
    /// Role names (`master`, `data_hot`, `coordinating`, ...).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Number of nodes.
    #[serde(default)]
    pub count: Option<NumberInput>,
    /// CPU per node in millicores.
    #[serde(default)]
    pub cpu_millis: Option<NumberInput>,
    /// Memory per node in MiB.
    #[serde(default)]
    pub memory_mib: Option<NumberInput>,
    /// Storage per node in GiB.
    #[serde(default)]
    pub storage_gib: Option<NumberInput>,
    /// Storage class; absent or blank means the Kubernetes default class.
    #[serde(default)]
    pub storage_class: Option<String>,
    /// Node attributes (`data: hot`).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Kibana as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KibanaInput {
    /// Number of instances.
    #[serde(default)]
    pub count: Option<NumberInput>,
    /// CPU per instance in millicores.
    #[serde(default)]
    pub cpu_millis: Option<NumberInput>,
    /// Memory per instance in MiB.
    #[serde(default)]
    pub memory_mib: Option<NumberInput>,
}

/// A number as submitted: a JSON integer, or text (a form field, or a JSON string or fraction) that
/// validation parses and reports as "Enter a whole number" when it is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberInput {
    /// An integer.
    Number(i64),
    /// Anything else, kept as text for the error message and for re-displaying the form.
    Text(String),
}

impl NumberInput {
    /// The integer value, or a message saying why there is none.
    pub fn to_i64(&self) -> Result<i64, String> {
        match self {
            NumberInput::Number(n) => Ok(*n),
            NumberInput::Text(text) => text
                .trim()
                .parse::<i64>()
                .map_err(|_| "Enter a whole number".to_owned()),
        }
    }

    /// True for blank text, which forms send for an empty input and which counts as missing.
    pub fn is_blank(&self) -> bool {
        matches!(self, NumberInput::Text(text) if text.trim().is_empty())
    }
}

impl From<u32> for NumberInput {
    fn from(value: u32) -> Self {
        NumberInput::Number(i64::from(value))
    }
}

impl From<i64> for NumberInput {
    fn from(value: i64) -> Self {
        NumberInput::Number(value)
    }
}

impl From<&str> for NumberInput {
    fn from(value: &str) -> Self {
        NumberInput::Text(value.to_owned())
    }
}

impl fmt::Display for NumberInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberInput::Number(n) => write!(f, "{n}"),
            NumberInput::Text(text) => f.write_str(text),
        }
    }
}

impl Serialize for NumberInput {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            NumberInput::Number(n) => serializer.serialize_i64(*n),
            NumberInput::Text(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for NumberInput {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;

        impl Visitor<'_> for NumberVisitor {
            type Value = NumberInput;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(NumberInput::Number(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(i64::try_from(v)
                    .map_or_else(|_| NumberInput::Text(v.to_string()), NumberInput::Number))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(NumberInput::Text(v.to_string()))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(NumberInput::Text(v.to_owned()))
            }
        }

        deserializer.deserialize_any(NumberVisitor)
    }
}

impl ClusterSpecInput {
    /// The form pre-filled from an existing spec (a template, or the current spec of a cluster being edited).
    /// `validate(&ClusterSpecInput::from_spec(&spec), ..)` gives back `spec`.
    pub fn from_spec(spec: &ClusterSpec) -> Self {
        Self {
            version: spec.version.to_string(),
            node_sets: spec.node_sets.iter().map(NodeSetInput::from_spec).collect(),
            kibana: spec.kibana.as_ref().map(KibanaInput::from_spec),
            http_tls: Some(spec.http_tls),
            ip_allow_list: Some(spec.ip_allow_list.iter().map(ToString::to_string).collect()),
        }
    }
}

impl NodeSetInput {
    /// The form row pre-filled from a node set.
    pub fn from_spec(set: &NodeSetSpec) -> Self {
        Self {
            name: set.name.to_string(),
            roles: set
                .roles
                .iter()
                .map(|role| role.as_str().to_owned())
                .collect(),
            count: Some(set.count.into()),
            cpu_millis: Some(set.cpu_millis.into()),
            memory_mib: Some(set.memory_mib.into()),
            storage_gib: Some(set.storage_gib.into()),
            storage_class: set.storage_class.as_ref().map(ToString::to_string),
            attributes: set
                .attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

impl KibanaInput {
    /// The form part pre-filled from a Kibana spec.
    pub fn from_spec(kibana: &KibanaSpec) -> Self {
        Self {
            count: Some(kibana.count.into()),
            cpu_millis: Some(kibana.cpu_millis.into()),
            memory_mib: Some(kibana.memory_mib.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_accept_json_numbers_and_text() {
        let parse = |json: &str| serde_json::from_str::<NumberInput>(json).unwrap();
        assert_eq!(parse("3"), NumberInput::Number(3));
        assert_eq!(parse("-2"), NumberInput::Number(-2));
        assert_eq!(parse("\"3\"").to_i64(), Ok(3));
        assert_eq!(parse("\" 3 \"").to_i64(), Ok(3));
        assert_eq!(
            parse("\"three\"").to_i64().unwrap_err(),
            "Enter a whole number"
        );
        assert_eq!(parse("1.5").to_i64().unwrap_err(), "Enter a whole number");
        assert!(parse("\"  \"").is_blank());
        assert!(serde_json::from_str::<NumberInput>("true").is_err());
    }

    #[test]
    fn numbers_serialize_as_they_came() {
        assert_eq!(
            serde_json::to_string(&NumberInput::from(4u32)).unwrap(),
            "4"
        );
        assert_eq!(
            serde_json::to_string(&NumberInput::from("4x")).unwrap(),
            "\"4x\""
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<ClusterSpecInput>(r#"{"version":"9.2.1","nodesets":[]}"#)
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `nodesets`"),
            "{err}"
        );
        let err = serde_json::from_str::<ClusterSpecInput>(
            r#"{"node_sets":[{"name":"a","replicas":2}]}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `replicas`"),
            "{err}"
        );
    }

    #[test]
    fn missing_fields_default_to_empty() {
        let input: ClusterSpecInput = serde_json::from_str("{}").unwrap();
        assert_eq!(input, ClusterSpecInput::default());
        let input: ClusterSpecInput =
            serde_json::from_str(r#"{"node_sets":[{}], "kibana": null}"#).unwrap();
        assert_eq!(input.node_sets[0], NodeSetInput::default());
        assert!(input.kibana.is_none());
    }
}
