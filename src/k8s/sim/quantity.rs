//! Kubernetes resource quantities as the simulated scheduler reads them (`500m`, `2`, `1.5`, `2Gi`, `512Mi`,
//! `1G`, `1e3`): only what comparing a pod's requests with a node's allocatable needs. It does not write them.

/// The value of a quantity in base units (cores for CPU, bytes for memory); `None` when it is not one.
pub fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        s if s.starts_with(['e', 'E']) => 10f64.powi(s[1..].parse().ok()?),
        _ => return None,
    };
    Some(number * factor)
}

/// CPU in millicores (`500m` -> 500, `2` -> 2000).
pub fn cpu_millis(text: &str) -> Option<u64> {
    parse(text).map(|cores| (cores * 1000.0).ceil().max(0.0) as u64)
}

/// Memory in MiB, rounded up (`2Gi` -> 2048, `1G` -> 954).
pub fn memory_mib(text: &str) -> Option<u64> {
    parse(text).map(|bytes| (bytes / 1024f64.powi(2)).ceil().max(0.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_in_cores_and_millicores() {
        assert_eq!(cpu_millis("500m"), Some(500));
        assert_eq!(cpu_millis("2"), Some(2000));
        assert_eq!(cpu_millis("1.5"), Some(1500));
        assert_eq!(cpu_millis("16"), Some(16_000));
        assert_eq!(cpu_millis("lots"), None);
    }

    #[test]
    fn memory_in_binary_and_decimal_units() {
        assert_eq!(memory_mib("2Gi"), Some(2048));
        assert_eq!(memory_mib("512Mi"), Some(512));
        assert_eq!(memory_mib("1G"), Some(954));
        assert_eq!(memory_mib("1048576"), Some(1));
        assert_eq!(memory_mib("1e9"), Some(954));
        assert_eq!(memory_mib("32Gi"), Some(32_768));
        assert_eq!(memory_mib("2Xi"), None);
    }
}
