//! Kubernetes resource quantities from the portal's units: CPU in millicores, memory in MiB, storage in GiB.
//! Whole units are written without a suffix change (`1` CPU, `2Gi`), the rest in the smaller unit (`500m`,
//! `1536Mi`), the way people write them by hand, and always as exact integers so values never round.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// CPU: `1000` -> `1`, `1500` -> `1500m`.
pub fn cpu(millis: i64) -> Quantity {
    if millis % 1000 == 0 {
        Quantity(format!("{}", millis / 1000))
    } else {
        Quantity(format!("{millis}m"))
    }
}

/// Memory: `2048` -> `2Gi`, `1536` -> `1536Mi`.
pub fn memory_mib(mib: i64) -> Quantity {
    if mib % 1024 == 0 {
        Quantity(format!("{}Gi", mib / 1024))
    } else {
        Quantity(format!("{mib}Mi"))
    }
}

/// Storage: `20` -> `20Gi`.
pub fn storage_gib(gib: i64) -> Quantity {
    Quantity(format!("{gib}Gi"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_uses_cores_when_whole() {
        assert_eq!(cpu(1000).0, "1");
        assert_eq!(cpu(16000).0, "16");
        assert_eq!(cpu(500).0, "500m");
        assert_eq!(cpu(1500).0, "1500m");
        assert_eq!(cpu(0).0, "0");
    }

    #[test]
    fn memory_uses_gibibytes_when_whole() {
        assert_eq!(memory_mib(2048).0, "2Gi");
        assert_eq!(memory_mib(1024).0, "1Gi");
        assert_eq!(memory_mib(1536).0, "1536Mi");
        assert_eq!(memory_mib(65536).0, "64Gi");
    }

    #[test]
    fn storage_is_in_gibibytes() {
        assert_eq!(storage_gib(10).0, "10Gi");
    }
}
