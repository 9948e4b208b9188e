//! Parsing the limits a platform admin types in: whole numbers from 0 to a per-dimension maximum
//! ([`QuotaDimension::max_limit`]). Lowering a limit below current usage is valid input; the caller
//! decides how to flag it.

use serde::{Deserialize, Serialize};

use super::{QuotaDimension, Resources};
use crate::error::FieldErrors;

/// The limits as submitted (strings, so invalid input can be shown back unchanged). Field names are the
/// dimension keys.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LimitsInput {
    /// Max clusters.
    #[serde(default)]
    pub clusters: String,
    /// Max nodes.
    #[serde(default)]
    pub nodes: String,
    /// Max CPU, millicores.
    #[serde(default)]
    pub cpu_millis: String,
    /// Max memory, MiB.
    #[serde(default)]
    pub memory_mib: String,
    /// Max storage, GiB.
    #[serde(default)]
    pub storage_gib: String,
}

impl LimitsInput {
    /// The raw value of one dimension.
    pub fn get(&self, dimension: QuotaDimension) -> &str {
        match dimension {
            QuotaDimension::Clusters => &self.clusters,
            QuotaDimension::Nodes => &self.nodes,
            QuotaDimension::CpuMillis => &self.cpu_millis,
            QuotaDimension::MemoryMib => &self.memory_mib,
            QuotaDimension::StorageGib => &self.storage_gib,
        }
    }

    /// Prefill from existing limits.
    pub fn from_limits(limits: Resources) -> Self {
        Self {
            clusters: limits.clusters.to_string(),
            nodes: limits.nodes.to_string(),
            cpu_millis: limits.cpu_millis.to_string(),
            memory_mib: limits.memory_mib.to_string(),
            storage_gib: limits.storage_gib.to_string(),
        }
    }
}

/// Validate every field; errors are keyed by the dimension key (`cpu_millis`, ...).
pub fn parse_limits(input: &LimitsInput) -> Result<Resources, FieldErrors> {
    let mut errors = FieldErrors::new();
    let limits = Resources::from_fn(|d| match parse_one(d, input.get(d)) {
        Ok(v) => v,
        Err(msg) => {
            errors.add(d.key(), msg);
            0
        }
    });
    errors.into_result(limits)
}

fn parse_one(d: QuotaDimension, raw: &str) -> Result<i64, String> {
    let raw = raw.trim().replace('_', "");
    if raw.is_empty() {
        return Err(format!("Enter the limit for {}.", d.human_name()));
    }
    let max = d.max_limit();
    let digits = raw.strip_prefix('-').unwrap_or(&raw);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("Enter a whole number.".into());
    }
    if raw.starts_with('-') && digits.chars().any(|c| c != '0') {
        return Err("A limit cannot be negative.".into());
    }
    // Only digits: a parse failure means it does not fit an i64, which is above any maximum.
    let value: i64 = digits.parse().unwrap_or(i64::MAX);
    if value > max {
        return Err(format!("At most {} for {}.", d.format(max), d.human_name()));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(c: &str, n: &str, cpu: &str, mem: &str, st: &str) -> LimitsInput {
        LimitsInput {
            clusters: c.into(),
            nodes: n.into(),
            cpu_millis: cpu.into(),
            memory_mib: mem.into(),
            storage_gib: st.into(),
        }
    }

    #[test]
    fn valid_limits_parse() {
        let r = parse_limits(&input("5", " 20 ", "20_000", "0", "1000")).unwrap();
        assert_eq!(
            r,
            Resources {
                clusters: 5,
                nodes: 20,
                cpu_millis: 20_000,
                memory_mib: 0,
                storage_gib: 1000
            }
        );
    }

    #[test]
    fn invalid_limits_are_field_errors() {
        let e = parse_limits(&input(
            "-1",
            "abc",
            "1000000001",
            "",
            "99999999999999999999999",
        ))
        .unwrap_err();
        assert!(e.get("clusters").unwrap().contains("negative"));
        assert!(e.get("nodes").unwrap().contains("whole number"));
        assert!(e.get("cpu_millis").unwrap().contains("At most 1000000000m"));
        assert!(e.get("memory_mib").unwrap().contains("Enter"));
        assert!(e.get("storage_gib").unwrap().contains("At most"));
        let e = parse_limits(&input("1000001", "1", "1", "1", "1")).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert!(e.get("clusters").is_some());
        assert!(parse_limits(&input("1.5", "1", "1", "1", "1")).is_err());
    }
}
