//! Node sizes offered as presets on the forms (S, M, L, XL): CPU, memory and storage per node that go
//! together (one core per 2 GiB of memory, 32 GiB of storage per GiB of memory, close to a general-purpose
//! hardware profile of Elastic Cloud). A preset is only a shortcut for typing the three numbers: the request
//! still carries numbers, and "Custom" is whatever else the user types. Presets outside the platform's size
//! bounds are not offered.

use crate::spec::SizeBounds;

/// One preset size of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizePreset {
    /// `s`, `m`, `l`, `xl` (the form's button value).
    pub id: &'static str,
    /// `S`, `M`, ...
    pub label: &'static str,
    /// CPU per node, millicores.
    pub cpu_millis: u32,
    /// Memory per node, MiB.
    pub memory_mib: u32,
    /// Storage per node, GiB.
    pub storage_gib: u32,
}

const PRESETS: [SizePreset; 4] = [
    SizePreset {
        id: "s",
        label: "S",
        cpu_millis: 1000,
        memory_mib: 2048,
        storage_gib: 64,
    },
    SizePreset {
        id: "m",
        label: "M",
        cpu_millis: 2000,
        memory_mib: 4096,
        storage_gib: 128,
    },
    SizePreset {
        id: "l",
        label: "L",
        cpu_millis: 4000,
        memory_mib: 8192,
        storage_gib: 256,
    },
    SizePreset {
        id: "xl",
        label: "XL",
        cpu_millis: 8000,
        memory_mib: 16_384,
        storage_gib: 512,
    },
];

impl SizePreset {
    /// Fits within the platform's bounds for one node.
    pub fn fits(&self, b: &SizeBounds) -> bool {
        (b.min_cpu_millis..=b.max_cpu_millis).contains(&self.cpu_millis)
            && (b.min_memory_mib..=b.max_memory_mib).contains(&self.memory_mib)
            && (b.min_storage_gib..=b.max_storage_gib).contains(&self.storage_gib)
    }
}

/// The presets the platform's bounds allow, smallest first.
pub fn presets(bounds: &SizeBounds) -> Vec<SizePreset> {
    PRESETS.into_iter().filter(|p| p.fits(bounds)).collect()
}

/// The allowed preset with this id.
pub fn preset(id: &str, bounds: &SizeBounds) -> Option<SizePreset> {
    presets(bounds).into_iter().find(|p| p.id == id)
}

/// The preset these sizes are exactly, if any (else the sizes are "Custom").
pub fn matching(
    cpu_millis: i64,
    memory_mib: i64,
    storage_gib: i64,
    bounds: &SizeBounds,
) -> Option<SizePreset> {
    presets(bounds).into_iter().find(|p| {
        i64::from(p.cpu_millis) == cpu_millis
            && i64::from(p.memory_mib) == memory_mib
            && i64::from(p.storage_gib) == storage_gib
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_grow_together_and_respect_the_bounds() {
        let all = presets(&SizeBounds::default());
        assert_eq!(
            all.iter().map(|p| p.label).collect::<Vec<_>>(),
            ["S", "M", "L", "XL"]
        );
        for p in &all {
            assert_eq!(p.memory_mib, p.cpu_millis * 2048 / 1000);
            assert_eq!(p.storage_gib * 1024, p.memory_mib * 32);
        }
        let small = SizeBounds {
            max_memory_mib: 8192,
            ..SizeBounds::default()
        };
        assert_eq!(presets(&small).len(), 3, "XL needs 16 GiB");
        assert!(preset("xl", &small).is_none());
        assert_eq!(preset("m", &small).map(|p| p.cpu_millis), Some(2000));
    }

    #[test]
    fn sizes_match_a_preset_or_are_custom() {
        let b = SizeBounds::default();
        assert_eq!(matching(2000, 4096, 128, &b).map(|p| p.id), Some("m"));
        assert_eq!(matching(2000, 4096, 100, &b), None);
    }
}
