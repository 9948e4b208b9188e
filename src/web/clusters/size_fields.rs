//! The per-node size inputs of the cluster forms (request form, resize): CPU typed in cores and memory in GiB
//! ([`crate::tenants::quota::units`]), read into the millicores and MiB the spec validation and the API
//! take, with the messages in the units the person typed. The validation's own errors name the spec fields
//! (`node_sets.0.cpu_millis`) and their units; [`merge`] moves them to the form's fields (`cpu_cores`,
//! `memory_gib`) so they show beside the right input, and prefers the form's message where both have one.
//!
//! Only the web forms use this: the API keeps its fields and units.

use crate::error::FieldErrors;
use crate::spec::SizeBounds;
use crate::tenants::quota::units;

/// A size input as read: the value whenever it parses (the quota preview uses it even when out of
/// bounds), and the message when it is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// Millicores or MiB.
    pub value: Option<u32>,
    /// Why the input is refused (empty: accepted).
    pub error: Option<String>,
}

impl Reading {
    /// The value when it is acceptable.
    pub fn accepted(&self) -> Option<u32> {
        self.value.filter(|_| self.error.is_none())
    }
}

/// CPU per node or Kibana instance, typed in cores.
pub fn read_cpu(raw: &str, bounds: &SizeBounds) -> Reading {
    read(
        raw,
        units::parse_cores,
        "cores",
        cpu_range(bounds),
        (bounds.min_cpu_millis, bounds.max_cpu_millis),
    )
}

/// Memory per node or Kibana instance, typed in GiB.
pub fn read_memory(raw: &str, bounds: &SizeBounds) -> Reading {
    read(
        raw,
        units::parse_gib,
        "GiB",
        memory_range(bounds),
        (bounds.min_memory_mib, bounds.max_memory_mib),
    )
}

/// "Choose from 0.25 to 16 cores".
pub fn cpu_range(b: &SizeBounds) -> String {
    format!(
        "Choose from {} to {} cores",
        units::cores_input(i64::from(b.min_cpu_millis)),
        units::cores_input(i64::from(b.max_cpu_millis))
    )
}

/// "Choose from 1 to 64 GiB".
pub fn memory_range(b: &SizeBounds) -> String {
    format!(
        "Choose from {} to {} GiB",
        units::gib_input(i64::from(b.min_memory_mib)),
        units::gib_input(i64::from(b.max_memory_mib))
    )
}

fn read(
    raw: &str,
    parse: fn(&str) -> Result<i64, String>,
    unit: &str,
    range: String,
    (min, max): (u32, u32),
) -> Reading {
    if raw.trim().is_empty() {
        return Reading {
            value: None,
            error: Some("Enter a number".into()),
        };
    }
    match parse(raw) {
        Ok(v) => {
            let value = u32::try_from(v).ok();
            let fits = value.is_some_and(|v| (min..=max).contains(&v));
            Reading {
                value,
                error: (!fits).then_some(range),
            }
        }
        Err(m) if m.contains("negative") => Reading {
            value: None,
            error: Some(range),
        },
        Err(m) if m.contains("decimals") => Reading {
            value: None,
            error: Some(format!("Use at most three decimals, such as 1.5 {unit}")),
        },
        Err(_) => Reading {
            value: None,
            error: Some(format!("Enter a number of {unit}, such as 1.5")),
        },
    }
}

/// The form field that shows an error of the spec field `field`: the last part `cpu_millis` becomes
/// `cpu_cores`, `memory_mib` becomes `memory_gib` (`node_sets.0.cpu_millis` -> `node_sets.0.cpu_cores`).
pub fn form_field(field: &str) -> String {
    let (head, last) = field.rsplit_once('.').map_or(("", field), |(h, l)| (h, l));
    let last = match last {
        "cpu_millis" => "cpu_cores",
        "memory_mib" => "memory_gib",
        _ => return field.to_owned(),
    };
    if head.is_empty() {
        last.to_owned()
    } else {
        format!("{head}.{last}")
    }
}

/// The errors to show: `validation`'s (from the spec validation or the request service) on the form's field
/// names, each replaced by the form's own message for that field when there is one (said in cores/GiB),
/// then the form's other messages. A range message left in spec units is said again in the form's units.
pub fn merge(own: FieldErrors, validation: FieldErrors, bounds: &SizeBounds) -> FieldErrors {
    let mut out = FieldErrors::new();
    let mut used = vec![false; own.0.len()];
    for e in validation.0 {
        let field = form_field(&e.field);
        if let Some(i) = own.0.iter().position(|x| x.field == field) {
            if !used[i] {
                used[i] = true;
                out.add(field, own.0[i].message.clone());
            }
            continue;
        }
        let message = if e.message.contains("millicores") {
            cpu_range(bounds)
        } else if e.message.contains("MiB") {
            memory_range(bounds)
        } else {
            e.message
        };
        out.add(field, message);
    }
    for (e, used) in own.0.into_iter().zip(used) {
        if !used {
            out.0.push(e);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_and_gib_read_into_spec_units() {
        let b = SizeBounds::default();
        assert_eq!(read_cpu("1.5", &b).accepted(), Some(1500));
        assert_eq!(read_cpu(" 0,25 ", &b).accepted(), Some(250));
        assert_eq!(read_memory("2", &b).accepted(), Some(2048));
        assert_eq!(read_memory("1.5", &b).accepted(), Some(1536));
    }

    #[test]
    fn refusals_speak_in_cores_and_gib() {
        let b = SizeBounds::default();
        let over = read_cpu("20", &b);
        assert_eq!(over.value, Some(20_000), "the preview still counts it");
        assert_eq!(over.error.as_deref(), Some("Choose from 0.25 to 16 cores"));
        assert_eq!(
            read_memory("0.5", &b).error.as_deref(),
            Some("Choose from 1 to 64 GiB")
        );
        assert_eq!(read_cpu("", &b).error.as_deref(), Some("Enter a number"));
        assert_eq!(
            read_cpu("-1", &b).error.as_deref(),
            Some("Choose from 0.25 to 16 cores")
        );
        assert!(
            read_cpu("two", &b)
                .error
                .unwrap()
                .contains("number of cores")
        );
        assert!(
            read_memory("1.2345", &b)
                .error
                .unwrap()
                .contains("decimals")
        );
        assert_eq!(read_cpu("99999999", &b).value, None);
        assert!(read_cpu("99999999", &b).error.is_some());
    }

    #[test]
    fn validation_errors_move_to_the_form_fields() {
        assert_eq!(
            form_field("node_sets.2.cpu_millis"),
            "node_sets.2.cpu_cores"
        );
        assert_eq!(form_field("kibana.memory_mib"), "kibana.memory_gib");
        assert_eq!(form_field("cpu_millis"), "cpu_cores");
        assert_eq!(form_field("node_sets.0.count"), "node_sets.0.count");
        assert_eq!(form_field("node_sets"), "node_sets");

        let b = SizeBounds::default();
        let mut own = FieldErrors::new();
        own.add("node_sets.0.cpu_cores", "must be between 0.25 and 16 cores");
        own.add("node_sets.0.attributes", "bad");
        let mut validation = FieldErrors::new();
        validation.add("node_sets.0.name", "taken");
        validation.add(
            "node_sets.0.cpu_millis",
            "must be between 250 and 16000 millicores",
        );
        validation.add("kibana.memory_mib", "must be between 1024 and 65536 MiB");
        let merged = merge(own, validation, &b);
        let fields: Vec<&str> = merged.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "node_sets.0.name",
                "node_sets.0.cpu_cores",
                "kibana.memory_gib",
                "node_sets.0.attributes"
            ]
        );
        assert_eq!(
            merged.get("kibana.memory_gib"),
            Some("Choose from 1 to 64 GiB.")
        );
        assert!(!merged.to_string().contains("millicores"));
    }
}
