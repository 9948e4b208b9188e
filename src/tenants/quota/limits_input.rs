//! Parsing the limits a platform admin types in, in the units of every page ([`super::units`]): clusters,
//! nodes and storage (GiB) as whole numbers, CPU in cores and memory in GiB with decimals, each from 0 to a
//! per-dimension maximum ([`QuotaDimension::max_limit`]). Lowering a limit below current usage is valid
//! input; the caller decides how to flag it.

use serde::{Deserialize, Serialize};

use super::{QuotaDimension, Resources, units};
use crate::error::FieldErrors;

/// The limits as submitted (strings, so invalid input can be shown back unchanged). Field names are the
/// dimensions' input keys ([`QuotaDimension::input_key`]): CPU in cores, memory in GiB.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LimitsInput {
    /// Max clusters.
    #[serde(default)]
    pub clusters: String,
    /// Max nodes.
    #[serde(default)]
    pub nodes: String,
    /// Max CPU, cores.
    #[serde(default)]
    pub cpu_cores: String,
    /// Max memory, GiB.
    #[serde(default)]
    pub memory_gib: String,
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
            QuotaDimension::CpuMillis => &self.cpu_cores,
            QuotaDimension::MemoryMib => &self.memory_gib,
            QuotaDimension::StorageGib => &self.storage_gib,
        }
    }

    /// Prefill from existing limits.
    pub fn from_limits(limits: Resources) -> Self {
        Self {
            clusters: limits.clusters.to_string(),
            nodes: limits.nodes.to_string(),
            cpu_cores: QuotaDimension::CpuMillis.to_input(limits.cpu_millis),
            memory_gib: QuotaDimension::MemoryMib.to_input(limits.memory_mib),
            storage_gib: limits.storage_gib.to_string(),
        }
    }
}

/// Validate every field; errors are keyed by the input key (`cpu_cores`, ...).
pub fn parse_limits(input: &LimitsInput) -> Result<Resources, FieldErrors> {
    let mut errors = FieldErrors::new();
    let limits = Resources::from_fn(|d| match parse_one(d, input.get(d)) {
        Ok(v) => v,
        Err(msg) => {
            errors.add(d.input_key(), msg);
            0
        }
    });
    errors.into_result(limits)
}

/// [`parse_limits`], keeping a current limit exactly where its field still shows it unchanged: a limit in
/// MiB that is not a round number of hundredths of a GiB (`700` MiB reads `0.68`) must not drift to
/// `696` MiB because the admin saved the form for another field.
pub fn parse_limits_from(
    input: &LimitsInput,
    current: Resources,
) -> Result<Resources, FieldErrors> {
    let mut limits = parse_limits(input)?;
    for d in QuotaDimension::ALL {
        if input.get(d).trim() == d.to_input(current.get(d)) {
            *limits.get_mut(d) = current.get(d);
        }
    }
    Ok(limits)
}

fn parse_one(d: QuotaDimension, raw: &str) -> Result<i64, String> {
    let max = d.max_limit();
    let too_big = || format!("Enter at most {} for {}.", d.format(max), d.human_name());
    let value = match d {
        QuotaDimension::CpuMillis => {
            units::parse_cores(raw).map_err(|e| unit_message(d, raw, e))?
        }
        QuotaDimension::MemoryMib => units::parse_gib(raw).map_err(|e| unit_message(d, raw, e))?,
        _ => whole_number(d, raw)?,
    };
    if value > max {
        return Err(too_big());
    }
    Ok(value)
}

/// The message for a CPU or memory limit that did not parse (an empty field asks for the limit).
fn unit_message(d: QuotaDimension, raw: &str, message: String) -> String {
    if raw.trim().is_empty() {
        format!("Enter the limit for {}.", d.human_name())
    } else if message.contains("smaller") {
        format!(
            "Enter at most {} for {}.",
            d.format(d.max_limit()),
            d.human_name()
        )
    } else {
        message
    }
}

fn whole_number(d: QuotaDimension, raw: &str) -> Result<i64, String> {
    let raw = raw.trim().replace('_', "");
    if raw.is_empty() {
        return Err(format!("Enter the limit for {}.", d.human_name()));
    }
    let digits = raw.strip_prefix('-').unwrap_or(&raw);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("Enter a whole number.".into());
    }
    if raw.starts_with('-') && digits.chars().any(|c| c != '0') {
        return Err("A limit cannot be negative.".into());
    }
    // Only digits: a parse failure means it does not fit an i64, which is above any maximum.
    Ok(digits.parse().unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(c: &str, n: &str, cpu: &str, mem: &str, st: &str) -> LimitsInput {
        LimitsInput {
            clusters: c.into(),
            nodes: n.into(),
            cpu_cores: cpu.into(),
            memory_gib: mem.into(),
            storage_gib: st.into(),
        }
    }

    #[test]
    fn valid_limits_parse() {
        let r = parse_limits(&input("5", " 20 ", "20", "0", "1000")).unwrap();
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
            "1000001",
            "",
            "99999999999999999999999",
        ))
        .unwrap_err();
        assert!(e.get("clusters").unwrap().contains("negative"));
        assert!(e.get("nodes").unwrap().contains("whole number"));
        assert_eq!(
            e.get("cpu_cores").unwrap(),
            "Enter at most 1,000,000 cores for CPU."
        );
        assert!(
            e.get("memory_gib")
                .unwrap()
                .contains("Enter the limit for memory")
        );
        assert!(e.get("storage_gib").unwrap().contains("at most"));
        // Decimals where people think in them: 1.5 cores and 0.5 GiB.
        let r = parse_limits(&input("1", "1", "1.5", "0.5", "1")).unwrap();
        assert_eq!((r.cpu_millis, r.memory_mib), (1500, 512));
        let e = parse_limits(&input("1", "1", "-2", "lots", "1")).unwrap_err();
        assert!(e.get("cpu_cores").unwrap().contains("negative"));
        assert!(e.get("memory_gib").unwrap().contains("e.g. 1.5"));
        // An odd amount of MiB shown rounded stays exact while its field is left alone.
        let current = Resources {
            memory_mib: 700,
            ..Resources::default()
        };
        let shown = LimitsInput::from_limits(current);
        assert_eq!(shown.memory_gib, "0.68");
        assert_eq!(parse_limits_from(&shown, current).unwrap(), current);
        let typed = LimitsInput {
            memory_gib: "0.5".into(),
            ..shown
        };
        assert_eq!(parse_limits_from(&typed, current).unwrap().memory_mib, 512);
        let e = parse_limits(&input("1000001", "1", "1", "1", "1")).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert!(e.get("clusters").is_some());
        assert!(parse_limits(&input("1.5", "1", "1", "1", "1")).is_err());
    }
}
