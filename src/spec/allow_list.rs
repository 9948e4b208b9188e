//! The IP allow-list of a cluster (its traffic filter): the source networks that may reach the cluster's
//! external endpoints. Empty means open to anyone who can reach the endpoint. It is enforced where the
//! platform exposes clusters (`k8s::expose`): on the Ingress, or on the LoadBalancer Service and a per-cluster
//! NetworkPolicy; an internal-only cluster keeps the list for when it is exposed.
//!
//! Entries are IPv4 or IPv6 networks in CIDR notation (`203.0.113.0/24`, `2001:db8::/32`); a bare address
//! means that one address (`/32`, `/128`). A network with host bits set (`10.1.2.3/8`) is refused with the
//! network it probably means, since Kubernetes and ingress controllers disagree on what to do with it.
//! The list is stored sorted and without duplicates.

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::FieldErrors;

/// Most entries one cluster may list.
pub const MAX_ENTRIES: usize = 32;

/// One allowed source network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceRange(IpNet);

impl SourceRange {
    /// Parses `203.0.113.0/24`, `2001:db8::/32` or a bare address.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("Enter an IP address or a network such as 203.0.113.0/24.".into());
        }
        let net = match IpNet::from_str(text) {
            Ok(net) => net,
            Err(_) => match text.parse::<std::net::IpAddr>() {
                Ok(ip) => IpNet::from(ip),
                Err(_) => {
                    return Err(format!(
                        "{text:?} is not an IP address or a network in CIDR notation (such as 203.0.113.0/24 or 2001:db8::/32)."
                    ));
                }
            },
        };
        if net.trunc() != net {
            return Err(format!(
                "{text} has bits set after the prefix: did you mean {}?",
                net.trunc()
            ));
        }
        Ok(Self(net))
    }

    /// The network.
    pub fn net(&self) -> IpNet {
        self.0
    }
}

impl fmt::Display for SourceRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<String> for SourceRange {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<SourceRange> for String {
    fn from(value: SourceRange) -> Self {
        value.to_string()
    }
}

/// Parses a submitted list; errors name the entry (`<field>.<index>`) or the list (`<field>`, too long).
pub fn parse_list(field: &str, raw: &[String]) -> Result<Vec<SourceRange>, FieldErrors> {
    let mut errors = FieldErrors::new();
    if raw.len() > MAX_ENTRIES {
        errors.add(
            field,
            format!(
                "At most {MAX_ENTRIES} networks may be listed (found {}): combine neighbouring ones into a larger network.",
                raw.len()
            ),
        );
        return Err(errors);
    }
    let mut list = Vec::with_capacity(raw.len());
    for (i, entry) in raw.iter().enumerate() {
        match SourceRange::parse(entry) {
            Ok(range) => list.push(range),
            Err(message) => errors.add(format!("{field}.{i}"), message),
        }
    }
    list.sort();
    list.dedup();
    errors.into_result(list)
}

/// Splits the text of a form's textarea (one network per line, or separated by commas or spaces).
pub fn split_text(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_addresses_parse() {
        assert_eq!(
            SourceRange::parse("203.0.113.0/24").unwrap().to_string(),
            "203.0.113.0/24"
        );
        assert_eq!(
            SourceRange::parse(" 198.51.100.7 ").unwrap().to_string(),
            "198.51.100.7/32"
        );
        assert_eq!(
            SourceRange::parse("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(
            SourceRange::parse("2001:db8::1").unwrap().to_string(),
            "2001:db8::1/128"
        );
        assert_eq!(
            SourceRange::parse("0.0.0.0/0").unwrap().to_string(),
            "0.0.0.0/0"
        );
    }

    #[test]
    fn bad_entries_say_why() {
        assert!(
            SourceRange::parse("10.1.2.3/8")
                .unwrap_err()
                .contains("did you mean 10.0.0.0/8")
        );
        for bad in [
            "",
            "office",
            "10.0.0.0/33",
            "300.1.1.1",
            "2001:db8::/129",
            "10.0.0.0/",
        ] {
            assert!(SourceRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_are_checked_sorted_and_deduplicated() {
        let list = parse_list(
            "ip_allow_list",
            &[
                "203.0.113.0/24".into(),
                "198.51.100.7".into(),
                "203.0.113.0/24".into(),
            ],
        )
        .unwrap();
        let shown: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["198.51.100.7/32", "203.0.113.0/24"]);
        let errors =
            parse_list("ip_allow_list", &["203.0.113.0/24".into(), "nope".into()]).unwrap_err();
        assert!(errors.get("ip_allow_list.1").is_some());
        let too_many: Vec<String> = (0..=MAX_ENTRIES)
            .map(|i| format!("10.0.{i}.0/24"))
            .collect();
        assert!(
            parse_list("ip_allow_list", &too_many)
                .unwrap_err()
                .get("ip_allow_list")
                .unwrap()
                .contains("At most 32")
        );
    }

    #[test]
    fn form_text_splits_on_lines_commas_and_spaces() {
        assert_eq!(
            split_text("203.0.113.0/24\r\n198.51.100.7, 2001:db8::/32\n\n"),
            ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"]
        );
    }

    #[test]
    fn stored_values_are_rechecked() {
        assert!(serde_json::from_str::<SourceRange>("\"10.0.0.0/8\"").is_ok());
        assert!(serde_json::from_str::<SourceRange>("\"10.0.0.1/8\"").is_err());
    }
}
