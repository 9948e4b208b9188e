//! The server-side request forgery guard of webhooks: which addresses a webhook request may connect to.
//! A webhook URL is a request the portal makes on a tenant's behalf, from inside the platform's network, so
//! everything that is not the public internet is refused unless the platform lists it in
//! `ESAAS_WEBHOOK_ALLOWED_NETWORKS`: loopback, "this network" (0.0.0.0/8), RFC 1918 private ranges, CGNAT
//! (100.64.0.0/10), link-local (with the cloud metadata address 169.254.169.254 named), IETF-reserved and
//! documentation ranges, multicast, broadcast, IPv6 unique-local, link-local and site-local ranges, the
//! Kubernetes service network, and IPv6 forms that embed an IPv4 address (IPv4-mapped, IPv4-compatible,
//! NAT64, 6to4) when the embedded address is refused.
//!
//! The check runs on resolved addresses at send time ([`resolve_checked`], the webhook sender's only way to
//! find an address), and the sender connects to an address that passed: there is no second lookup a DNS
//! rebinding could answer differently. This module decides and resolves; it never connects.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

use crate::config::notifications::WebhookPolicy;

/// Why an address is refused (user-safe: goes to the delivery log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the address {addr} is refused: {reason} (a platform admin can allow it in ESAAS_WEBHOOK_ALLOWED_NETWORKS)"
)]
pub struct Refused {
    /// The refused address.
    pub addr: IpAddr,
    /// Which range it is in.
    pub reason: &'static str,
}

/// The range an IPv4 address is refused for, if any.
fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip == Ipv4Addr::new(169, 254, 169, 254) => "the cloud metadata address",
        _ if ip.is_broadcast() => "broadcast",
        (0, _, _) => "unspecified / this network (0.0.0.0/8)",
        (127, _, _) => "loopback (127.0.0.0/8)",
        (10, _, _) => "private (10.0.0.0/8)",
        (172, 16..=31, _) => "private (172.16.0.0/12)",
        (192, 168, _) => "private (192.168.0.0/16)",
        (100, 64..=127, _) => "carrier-grade NAT (100.64.0.0/10)",
        (169, 254, _) => "link-local (169.254.0.0/16)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, _, _) => "multicast (224.0.0.0/4)",
        (240..=255, _, _) => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

/// The range an IPv6 address is refused for, if any; embedded IPv4 addresses are judged as IPv4.
fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = embedded_v4(ip) {
        return refused_v4(v4);
    }
    let seg = ip.segments();
    Some(match seg[0] {
        _ if ip.is_unspecified() => "unspecified (::)",
        _ if ip.is_loopback() => "loopback (::1)",
        0xfc00..=0xfdff => "unique local (fc00::/7)",
        0xfe80..=0xfebf => "link-local (fe80::/10)",
        0xfec0..=0xfeff => "site-local (fec0::/10)",
        0xff00..=0xffff => "multicast (ff00::/8)",
        0x2001 if seg[1] == 0x0db8 => "documentation (2001:db8::/32)",
        0x2001 if seg[1] == 0 => "Teredo (2001::/32)",
        0x0100 if seg[1..4] == [0, 0, 0] => "discard-only (100::/64)",
        // The rest of ::/8 (other than the embedded forms handled above) is reserved.
        0x0000..=0x00ff => "reserved (::/8)",
        _ => return None,
    })
}

/// The IPv4 address inside IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64
/// (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::`) addresses.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let seg = ip.segments();
    let tail = || Ipv4Addr::from((u128::from(ip) & 0xffff_ffff) as u32);
    match seg {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail()),
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail()),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail()),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))),
        _ => None,
    }
}

/// IPv4-mapped addresses compare as IPv4 (so `127.0.0.1/32` in the allow-list covers `::ffff:127.0.0.1`).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

impl WebhookPolicy {
    /// May a webhook request connect to `addr`? Allowed networks win over every refused range.
    pub fn check(&self, addr: IpAddr) -> Result<(), Refused> {
        let ip = canonical(addr);
        let listed = |nets: &[IpNet]| nets.iter().any(|n| n.contains(&ip) || n.contains(&addr));
        if listed(&self.allowed_networks) {
            return Ok(());
        }
        let reason = match ip {
            IpAddr::V4(v4) => refused_v4(v4),
            IpAddr::V6(v6) => refused_v6(v6),
        }
        .or_else(|| {
            listed(std::slice::from_ref(&self.kube_service_network))
                .then_some("the Kubernetes service network")
        });
        match reason {
            None => Ok(()),
            Some(reason) => Err(Refused { addr, reason }),
        }
    }
}

/// The addresses of `host:port` a webhook may connect to: a literal address is checked as it is, a name is
/// looked up and only the addresses that pass [`WebhookPolicy::check`] are returned. None passing is an
/// error naming the first refused address (user-safe, for the delivery log).
pub async fn resolve_checked(
    policy: &WebhookPolicy,
    host: &url::Host<&str>,
    port: u16,
) -> Result<Vec<SocketAddr>, String> {
    let literal = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(*ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(*ip)),
        url::Host::Domain(_) => None,
    };
    if let Some(ip) = literal {
        policy.check(ip).map_err(|e| e.to_string())?;
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let url::Host::Domain(name) = host else {
        unreachable!("literals are handled above")
    };
    let found = tokio::net::lookup_host((*name, port))
        .await
        .map_err(|e| format!("{name} could not be resolved: {e}"))?;
    let mut refused = None;
    let allowed: Vec<SocketAddr> = found
        .filter(|a| match policy.check(a.ip()) {
            Ok(()) => true,
            Err(e) => {
                refused.get_or_insert(e);
                false
            }
        })
        .collect();
    match (allowed.is_empty(), refused) {
        (false, _) => Ok(allowed),
        (true, Some(e)) => Err(e.to_string()),
        (true, None) => Err(format!("{name} has no address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::notifications::parse_networks;

    fn refused(policy: &WebhookPolicy, ip: &str) -> Option<&'static str> {
        policy.check(ip.parse().unwrap()).err().map(|e| e.reason)
    }

    #[test]
    fn every_refused_range_is_refused() {
        let p = WebhookPolicy::default();
        for (ip, reason) in [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("::1", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "this network"),
            ("::", "unspecified"),
            ("10.0.0.1", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("100.127.255.255", "carrier-grade NAT"),
            ("169.254.169.254", "metadata"),
            ("169.254.1.1", "link-local"),
            ("fe80::1", "link-local"),
            ("fc00::1", "unique local"),
            ("fd12:3456::1", "unique local"),
            ("fec0::1", "site-local"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("ff02::1", "multicast"),
            ("255.255.255.255", "broadcast"),
            ("240.0.0.1", "reserved"),
            ("192.0.2.1", "documentation"),
            ("2001:db8::1", "documentation"),
            ("198.18.0.1", "benchmarking"),
            ("192.0.0.8", "IETF"),
            ("2001::1", "Teredo"),
            ("100::1", "discard"),
            // IPv4 inside IPv6: mapped, compatible, NAT64, 6to4.
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "metadata"),
            ("::ffff:10.1.1.1", "private"),
            ("::10.1.1.1", "private"),
            ("64:ff9b::192.168.0.1", "private"),
            ("2002:a9fe:a9fe::1", "metadata"),
            // The Kubernetes service network (kubeadm's default, inside 10/8 anyway) is named when
            // configured elsewhere; see the next test.
            ("10.96.0.1", "private"),
        ] {
            let got = refused(&p, ip);
            assert!(
                got.is_some_and(|r| r.contains(reason)),
                "{ip}: expected a refusal for {reason:?}, got {got:?}"
            );
        }
    }

    #[test]
    fn the_kube_service_network_is_configurable_and_refused() {
        let p = WebhookPolicy {
            kube_service_network: "203.0.0.0/24".parse().unwrap(),
            ..WebhookPolicy::default()
        };
        assert_eq!(
            refused(&p, "203.0.0.10"),
            Some("the Kubernetes service network")
        );
        assert_eq!(refused(&WebhookPolicy::default(), "203.0.0.10"), None);
    }

    #[test]
    fn public_addresses_pass() {
        let p = WebhookPolicy::default();
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "169.253.255.255",
            "2606:4700:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert_eq!(refused(&p, ip), None, "{ip} should pass");
        }
    }

    #[test]
    fn allowed_networks_override_the_refusals() {
        let p = WebhookPolicy {
            allowed_networks: parse_networks("127.0.0.1/32, 10.20.0.0/16, fd00:1::/32").unwrap(),
            ..WebhookPolicy::default()
        };
        assert_eq!(refused(&p, "127.0.0.1"), None);
        assert_eq!(refused(&p, "::ffff:127.0.0.1"), None, "mapped form too");
        assert!(
            refused(&p, "127.0.0.2").is_some(),
            "only the listed address"
        );
        assert_eq!(refused(&p, "10.20.3.4"), None);
        assert!(refused(&p, "10.21.0.1").is_some());
        assert_eq!(refused(&p, "fd00:1::5"), None);
        assert!(refused(&p, "fd00:2::5").is_some());
        assert!(refused(&p, "169.254.169.254").is_some());
    }

    #[test]
    fn the_refusal_says_how_to_allow_it() {
        let e = WebhookPolicy::default()
            .check("10.0.0.1".parse().unwrap())
            .unwrap_err();
        assert!(e.to_string().contains("ESAAS_WEBHOOK_ALLOWED_NETWORKS"));
        assert!(e.to_string().contains("10.0.0.1"));
    }

    #[tokio::test]
    async fn resolving_drops_refused_addresses_and_fails_when_none_is_left() {
        let localhost = url::Host::Domain("localhost");
        let err = resolve_checked(&WebhookPolicy::default(), &localhost, 80)
            .await
            .expect_err("localhost resolves to loopback only");
        assert!(err.contains("loopback"), "{err}");

        let open = WebhookPolicy {
            allowed_networks: parse_networks("127.0.0.0/8, ::1/128").unwrap(),
            ..WebhookPolicy::default()
        };
        let addrs = resolve_checked(&open, &localhost, 8080).await.unwrap();
        assert!(!addrs.is_empty());
        assert!(
            addrs
                .iter()
                .all(|a| a.ip().is_loopback() && a.port() == 8080)
        );

        let literal = url::Host::Ipv4("169.254.169.254".parse().unwrap());
        let err = resolve_checked(&open, &literal, 80).await.unwrap_err();
        assert!(err.contains("metadata"), "{err}");
    }
}
