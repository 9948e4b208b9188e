//! Who sent a request and under which id: the request id (set by the `x-request-id` middleware) and the
//! client's address. Audit rows, logs and the per-address login throttle use both.
//!
//! The client address is the socket peer, unless the peer is one of `ESAAS_TRUSTED_PROXIES` (an ingress or
//! load balancer in front of the portal): then it is the right-most address of `X-Forwarded-For` that is not
//! itself a trusted proxy. Without that setting the header is ignored, so a client cannot choose the address
//! it is throttled and audited under; behind a proxy without it, every request would share the proxy's
//! address (and one person's failed logins would throttle everybody).
//!
//! A client may send its own `x-request-id` (to correlate its logs with ours), but only a safe one: at most
//! [`MAX_REQUEST_ID_LEN`] characters of `A-Z a-z 0-9 - _ . :`. Anything else (too long, other characters,
//! several headers) is dropped by [`crate::middleware::replace_unsafe_request_id`] before the request-id layer runs, which then
//! assigns a fresh UUID, so audit rows and log lines only ever carry a safe id.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use http::HeaderMap;
use http::request::Parts;

/// Longest `x-request-id` a client may choose.
pub const MAX_REQUEST_ID_LEN: usize = 64;

/// Whether a client-chosen request id may be kept: 1 to [`MAX_REQUEST_ID_LEN`] bytes of letters, digits and
/// `-_.:`.
pub fn is_safe_request_id(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

/// The request id and source address of the current request.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    /// Value of the `x-request-id` header set by the request-id middleware.
    pub request_id: Option<String>,
    /// The client address (see the module documentation), when the server was started with connect info.
    pub source_addr: Option<String>,
}

/// The client address worked out by [`crate::middleware::client_addr`], kept in the request's extensions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientAddr(pub(crate) IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request_id = parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let source_addr = parts
            .extensions
            .get::<ClientAddr>()
            .map(|ClientAddr(ip)| *ip)
            .or_else(|| {
                parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|ConnectInfo(addr)| addr.ip())
            })
            .map(|ip| ip.to_string());
        Ok(Self {
            request_id,
            source_addr,
        })
    }
}

/// Addresses and networks whose `X-Forwarded-For` is believed (`ESAAS_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parse a comma-separated list of addresses and CIDR networks (`10.0.0.0/8, 192.168.1.10, fd00::/8`).
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("{item:?} is not an IP address or CIDR network"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{item:?} has an invalid prefix length"))?,
            };
            nets.push((ip, bits));
        }
        Ok(Self(nets))
    }

    /// Is `ip` one of the trusted addresses or inside one of the networks?
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0
            .iter()
            .any(|(net, bits)| match (canonical(*net), ip) {
                (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), *bits),
                (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), *bits),
                _ => false,
            })
    }

    /// The client behind `peer`: `peer` itself unless it is trusted, else the right-most untrusted address of
    /// `X-Forwarded-For` (the left-most when all are trusted; `peer` when the header is absent or malformed).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let mut hops: Vec<IpAddr> = Vec::new();
        for value in headers.get_all("x-forwarded-for") {
            let Ok(value) = value.to_str() else {
                return peer;
            };
            for hop in value.split(',').map(str::trim) {
                match hop.parse::<IpAddr>() {
                    Ok(ip) => hops.push(ip),
                    Err(_) => return peer,
                }
            }
        }
        hops.iter()
            .rev()
            .find(|ip| !self.contains(**ip))
            .or(hops.first())
            .copied()
            .unwrap_or(peer)
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_short_plain_request_ids_are_kept() {
        for ok in [
            "abc",
            "4f1c2d3e-0000-4000-8000-000000000000",
            "trace:1.2_3",
            &"a".repeat(64),
        ] {
            assert!(is_safe_request_id(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            &"a".repeat(65),
            "a b",
            "<script>",
            "a\u{7f}",
            "caf\u{e9}",
            "a/b",
            "a\"b",
        ] {
            assert!(!is_safe_request_id(bad.as_bytes()), "{bad:?}");
        }
    }

    #[test]
    fn parses_addresses_and_networks_with_clear_errors() {
        let t = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.10 ,fd00::/8,").unwrap();
        assert!(t.contains(ip("10.1.2.3")));
        assert!(!t.contains(ip("11.0.0.1")));
        assert!(t.contains(ip("192.168.1.10")));
        assert!(!t.contains(ip("192.168.1.11")));
        assert!(t.contains(ip("fd12::1")));
        assert!(t.contains(ip("::ffff:10.9.9.9")), "IPv4-mapped IPv6");
        assert_eq!(
            TrustedProxies::parse(" , ").unwrap(),
            TrustedProxies::default()
        );
        assert!(
            TrustedProxies::parse("10.0.0.0/33")
                .unwrap_err()
                .contains("prefix")
        );
        assert!(
            TrustedProxies::parse("proxy.local")
                .unwrap_err()
                .contains("not an IP")
        );
        let odd = TrustedProxies::parse("172.16.0.0/12").unwrap();
        assert!(odd.contains(ip("172.31.255.255")));
        assert!(!odd.contains(ip("172.32.0.0")));
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let none = TrustedProxies::default();
        let h = xff(&["203.0.113.9"]);
        assert_eq!(none.client(ip("10.0.0.5"), &h), ip("10.0.0.5"));
        let ingress = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(ingress.client(ip("198.51.100.7"), &h), ip("198.51.100.7"));
        assert_eq!(ingress.client(ip("10.0.0.5"), &h), ip("203.0.113.9"));
    }

    #[test]
    fn a_forged_left_part_of_the_header_is_ignored() {
        let ingress = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // The client sent "1.2.3.4" itself; the proxy appended the real address.
        let h = xff(&["1.2.3.4, 203.0.113.9", "10.0.0.7"]);
        assert_eq!(ingress.client(ip("10.0.0.5"), &h), ip("203.0.113.9"));
        // Only proxies: the left-most hop.
        assert_eq!(
            ingress.client(ip("10.0.0.5"), &xff(&["10.1.1.1, 10.2.2.2"])),
            ip("10.1.1.1")
        );
        // Malformed or absent: the peer.
        assert_eq!(
            ingress.client(ip("10.0.0.5"), &xff(&["nonsense"])),
            ip("10.0.0.5")
        );
        assert_eq!(
            ingress.client(ip("10.0.0.5"), &HeaderMap::new()),
            ip("10.0.0.5")
        );
    }
}
