//! Who is asking: the client's address, seen through the reverse proxies we trust.
//!
//! Behind a proxy every TCP connection comes from the proxy, so limits kept per address would
//! throttle everybody at once; but a forwarding header is only text a client can write too.
//! So the header is read only when the connection comes from a configured proxy
//! (`PAIRWISE_TRUSTED_PROXIES`), and then from the right: each trusted proxy appends the
//! address it saw, so the rightmost address that is not one of ours is the client — whatever
//! the client wrote further left is ignored. Every limiter, the audit log and the sockets use
//! the address found here ([`ClientAddr`] in the request's extensions).

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use anyhow::{Context, bail};
use app::accounts::session::ClientAddr;
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use http::HeaderMap;
use ipnet::IpNet;

/// Which header the trusted proxies write (only that one is read: a proxy passes the other
/// through from the client unchanged, so reading both would let a client choose).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyHeader {
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=…`.
    Forwarded,
}

#[derive(Clone, Debug)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
    header: ProxyHeader,
}

impl TrustedProxies {
    /// No proxy trusted: the TCP peer is the client.
    pub fn none() -> Self {
        Self {
            nets: Vec::new(),
            header: ProxyHeader::XForwardedFor,
        }
    }

    /// `cidrs`: comma- or space-separated, e.g. `127.0.0.1/32, 10.0.0.0/8, ::1`; a bare address
    /// is that one address. `header`: `x-forwarded-for` (the default) or `forwarded`.
    pub fn parse(cidrs: Option<&str>, header: Option<&str>) -> anyhow::Result<Self> {
        let nets = cidrs
            .unwrap_or_default()
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .with_context(|| {
                        format!("PAIRWISE_TRUSTED_PROXIES: {s} is not an address or CIDR (like 10.0.0.0/8)")
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let header = match header.map(str::to_ascii_lowercase).as_deref() {
            None | Some("x-forwarded-for") => ProxyHeader::XForwardedFor,
            Some("forwarded") => ProxyHeader::Forwarded,
            Some(other) => {
                bail!("PAIRWISE_PROXY_HEADER must be x-forwarded-for or forwarded, got {other}")
            }
        };
        Ok(Self { nets, header })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The client of a connection from `peer` that sent `headers`.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        // Hops from the nearest (rightmost) to the farthest; the first we do not trust is the
        // client. One we cannot read ends the walk at the last proxy that wrote it: what lies
        // left of it could be anything.
        let mut last = peer;
        for hop in self.hops(headers).into_iter().rev() {
            match hop {
                Some(ip) if self.trusts(ip) => last = ip,
                Some(ip) => return ip,
                None => return last,
            }
        }
        last
    }

    /// Every address in the configured header, in order (several header lines concatenate);
    /// `None` for an entry that is not an address (`unknown`, an obfuscated name, garbage).
    fn hops(&self, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
        let name = match self.header {
            ProxyHeader::XForwardedFor => "x-forwarded-for",
            ProxyHeader::Forwarded => "forwarded",
        };
        let mut hops = Vec::new();
        for line in headers.get_all(name) {
            let Ok(line) = line.to_str() else {
                hops.push(None);
                continue;
            };
            for element in line.split(',') {
                let element = element.trim();
                let addr = match self.header {
                    ProxyHeader::XForwardedFor => Some(element),
                    ProxyHeader::Forwarded => element.split(';').find_map(|pair| {
                        let (k, v) = pair.trim().split_once('=')?;
                        k.trim().eq_ignore_ascii_case("for").then_some(v.trim())
                    }),
                };
                hops.push(addr.and_then(parse_node).map(canonical));
            }
        }
        hops
    }
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:80`, `"[::1]:80"`, `::1`, `[::1]`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let s = raw.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    s.strip_prefix('[')
        .and_then(|r| r.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

/// IPv4 clients of a dual-stack socket arrive as `::ffff:a.b.c.d`: one address, one bucket.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Finds the client's address for everything after it (limiters, audit, sockets).
pub async fn resolve_client(
    State(proxies): State<Arc<TrustedProxies>>,
    mut req: Request,
    next: Next,
) -> Response {
    if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() {
        let client = proxies.client(peer.ip(), req.headers());
        req.extensions_mut().insert(ClientAddr(client));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn a_client_that_is_not_a_trusted_proxy_cannot_choose_its_address() {
        let p = TrustedProxies::parse(Some("10.0.0.0/8"), None).unwrap();
        let h = xff(&["1.1.1.1"]);
        assert_eq!(p.client(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        assert_eq!(
            TrustedProxies::none().client(ip("10.0.0.1"), &h),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn behind_proxies_the_rightmost_untrusted_address_is_the_client() {
        let p = TrustedProxies::parse(Some("10.0.0.0/8, 127.0.0.1"), None).unwrap();
        // The client wrote 6.6.6.6 itself; our proxy appended what it saw.
        let h = xff(&["6.6.6.6, 198.51.100.7"]);
        assert_eq!(p.client(ip("127.0.0.1"), &h), ip("198.51.100.7"));
        // Two of our proxies in a row, across two header lines.
        let h = xff(&["6.6.6.6, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(p.client(ip("10.0.0.5"), &h), ip("198.51.100.7"));
        // Garbage in the chain stops at the last proxy that wrote it.
        let h = xff(&["198.51.100.7, nonsense, 10.1.2.3"]);
        assert_eq!(p.client(ip("10.0.0.5"), &h), ip("10.1.2.3"));
        // No header: the proxy itself.
        assert_eq!(p.client(ip("10.0.0.5"), &HeaderMap::new()), ip("10.0.0.5"));
        // Ports and IPv6 as proxies write them.
        let h = xff(&["[2001:db8::1]:4711"]);
        assert_eq!(p.client(ip("10.0.0.5"), &h), ip("2001:db8::1"));
        // A v4-mapped peer is the v4 address.
        assert_eq!(
            p.client(ip("::ffff:127.0.0.1"), &xff(&["192.0.2.1"])),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn the_forwarded_header_when_configured_and_only_then() {
        let p = TrustedProxies::parse(Some("127.0.0.1/32"), Some("forwarded")).unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "forwarded",
            HeaderValue::from_static(r#"for=6.6.6.6, for="[2001:db8::7]:80";proto=https"#),
        );
        h.insert("x-forwarded-for", HeaderValue::from_static("9.9.9.9"));
        assert_eq!(p.client(ip("127.0.0.1"), &h), ip("2001:db8::7"));
        let unknown = {
            let mut h = HeaderMap::new();
            h.insert("forwarded", HeaderValue::from_static("for=unknown"));
            h
        };
        assert_eq!(p.client(ip("127.0.0.1"), &unknown), ip("127.0.0.1"));
    }

    #[test]
    fn bad_configuration_is_refused_in_words() {
        let e = TrustedProxies::parse(Some("10.0.0.0/33"), None).unwrap_err();
        assert!(e.to_string().contains("10.0.0.0/33"), "{e}");
        assert!(TrustedProxies::parse(None, Some("x-real-ip")).is_err());
        assert!(TrustedProxies::parse(Some(""), None).unwrap().is_empty());
    }
}
