//! Elasticsearch versions (`major.minor.patch`) and the upgrade rule.
//!
//! Upgrades only go forward, and at most one major version at a time (8.x -> 9.y, never 7.x -> 9.y), because
//! Elasticsearch can only read indices written by the previous major version. A major upgrade also starts from
//! the minor Elastic requires of the old major: 7.17 before 8.x, 8.18 before 9.0, 8.19 before 9.1 and later.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An Elasticsearch release version such as `8.19.7`. Ordered by (major, minor, patch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EsVersion {
    /// Major version (`8` in `8.19.7`).
    pub major: u32,
    /// Minor version (`19` in `8.19.7`).
    pub minor: u32,
    /// Patch version (`7` in `8.19.7`).
    pub patch: u32,
}

impl EsVersion {
    /// A version from its three parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Parses `major.minor.patch` (digits only, no leading `v`, no pre-release suffix).
    pub fn parse(value: &str) -> Result<Self, String> {
        const HINT: &str = "must be a version like 8.19.7 (major.minor.patch)";
        if value.is_empty() {
            return Err("Choose a version".into());
        }
        let parts: Vec<&str> = value.split('.').collect();
        if parts.len() != 3 {
            return Err(HINT.into());
        }
        let mut numbers = [0u32; 3];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            let digits_only = !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
            let leading_zero = part.len() > 1 && part.starts_with('0');
            if !digits_only || leading_zero {
                return Err(HINT.into());
            }
            *slot = part.parse().map_err(|_| HINT.to_owned())?;
        }
        Ok(Self::new(numbers[0], numbers[1], numbers[2]))
    }
}

impl fmt::Display for EsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for EsVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for EsVersion {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EsVersion> for String {
    fn from(value: EsVersion) -> Self {
        value.to_string()
    }
}

/// Why moving a cluster from `from` to `to` is refused, or `Ok(())` when it is a valid upgrade:
/// strictly newer, and at most one major version ahead.
pub fn check_upgrade(from: &EsVersion, to: &EsVersion) -> Result<(), String> {
    if to == from {
        return Err(format!("the cluster already runs {from}"));
    }
    if to < from {
        return Err(format!(
            "cannot go from {from} back to {to}: Elasticsearch versions can only be upgraded"
        ));
    }
    if to.major > from.major + 1 {
        return Err(format!(
            "cannot upgrade from {from} to {to} in one step: upgrade to the latest {}.x first",
            from.major + 1
        ));
    }
    if to.major == from.major + 1
        && let Some((major, minor)) = major_upgrade_source(to)
        && (from.major, from.minor) < (major, minor)
    {
        return Err(format!(
            "cannot upgrade from {from} to {to} directly: Elasticsearch {to} needs {major}.{minor} or later \
             first, upgrade to the latest {major}.{minor}.x and then to {to}"
        ));
    }
    Ok(())
}

/// The oldest `major.minor` of the previous major that may be upgraded straight to `to` (Elastic's upgrade
/// paths); `None` when no rule is known (then any minor of the previous major may upgrade).
fn major_upgrade_source(to: &EsVersion) -> Option<(u32, u32)> {
    match (to.major, to.minor) {
        (8, _) => Some((7, 17)),
        (9, 0) => Some((8, 18)),
        (9, _) => Some((8, 19)),
        _ => None,
    }
}

/// True when `to` is a valid upgrade of `from` (see [`check_upgrade`] for the reason when it is not).
pub fn is_upgrade_allowed(from: &EsVersion, to: &EsVersion) -> bool {
    check_upgrade(from, to).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> EsVersion {
        EsVersion::parse(s).unwrap()
    }

    #[test]
    fn parses_and_displays_semver() {
        assert_eq!(v("8.19.7"), EsVersion::new(8, 19, 7));
        assert_eq!(v("9.2.1").to_string(), "9.2.1");
        assert_eq!(v("10.0.0").major, 10);
        assert_eq!(
            "8.0.0".parse::<EsVersion>().unwrap(),
            EsVersion::new(8, 0, 0)
        );
    }

    #[test]
    fn rejects_malformed_versions() {
        for bad in [
            "",
            "8",
            "8.19",
            "8.19.7.1",
            "v8.19.7",
            "8.19.7-SNAPSHOT",
            "8.x.1",
            "08.1.0",
            "8..1",
            " 8.19.7",
            "99999999999.0.0",
        ] {
            assert!(EsVersion::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(EsVersion::parse("").unwrap_err(), "Choose a version");
        assert!(EsVersion::parse("8.19").unwrap_err().contains("8.19.7"));
    }

    #[test]
    fn orders_numerically_not_lexically() {
        assert!(v("8.9.0") < v("8.10.0"));
        assert!(v("8.19.7") < v("9.0.0"));
        assert!(v("9.2.1") > v("9.2.0"));
        let mut versions = vec![v("9.2.1"), v("7.17.25"), v("8.19.7"), v("8.2.0")];
        versions.sort();
        assert_eq!(
            versions,
            vec![v("7.17.25"), v("8.2.0"), v("8.19.7"), v("9.2.1")]
        );
    }

    #[test]
    fn upgrades_go_forward_one_major_at_a_time() {
        assert!(is_upgrade_allowed(&v("8.19.7"), &v("9.2.1")));
        assert!(is_upgrade_allowed(&v("8.15.0"), &v("8.19.7")));
        assert!(is_upgrade_allowed(&v("9.2.0"), &v("9.2.1")));
        assert!(is_upgrade_allowed(&v("8.19.0"), &v("9.9.9")));
        assert!(is_upgrade_allowed(&v("8.18.8"), &v("9.0.8")));
        assert!(is_upgrade_allowed(&v("7.17.25"), &v("8.19.7")));
        assert!(!is_upgrade_allowed(&v("8.18.8"), &v("9.1.6")));
        assert!(!is_upgrade_allowed(&v("8.17.0"), &v("9.0.0")));
        assert!(!is_upgrade_allowed(&v("7.16.3"), &v("8.0.0")));
        assert!(!is_upgrade_allowed(&v("7.17.25"), &v("9.2.1")));
        assert!(!is_upgrade_allowed(&v("9.2.1"), &v("8.19.7")));
        assert!(!is_upgrade_allowed(&v("9.2.1"), &v("9.2.0")));
        assert!(!is_upgrade_allowed(&v("9.2.1"), &v("9.2.1")));
    }

    #[test]
    fn upgrade_refusals_explain_themselves() {
        assert!(
            check_upgrade(&v("9.2.1"), &v("9.2.1"))
                .unwrap_err()
                .contains("already runs")
        );
        assert!(
            check_upgrade(&v("9.2.1"), &v("8.19.7"))
                .unwrap_err()
                .contains("only be upgraded")
        );
        assert!(
            check_upgrade(&v("7.17.0"), &v("9.2.1"))
                .unwrap_err()
                .contains("8.x first")
        );
        let err = check_upgrade(&v("8.18.8"), &v("9.2.1")).unwrap_err();
        assert!(err.contains("needs 8.19 or later first"), "{err}");
    }

    #[test]
    fn serializes_as_a_string() {
        assert_eq!(serde_json::to_string(&v("8.19.7")).unwrap(), "\"8.19.7\"");
        assert_eq!(
            serde_json::from_str::<EsVersion>("\"9.2.1\"").unwrap(),
            v("9.2.1")
        );
        assert!(serde_json::from_str::<EsVersion>("\"9.2\"").is_err());
    }
}
