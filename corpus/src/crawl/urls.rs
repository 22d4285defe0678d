//! URL normalisation, crawl scope and the SSRF address check.
//!
//! Normalisation ([`normalise`]) makes one key per page for the seen set: the WHATWG parse (`url`
//! crate) lower-cases scheme and host, drops default ports, resolves `.`/`..` and percent-encodes
//! non-ASCII; on top of that the fragment is dropped, `%xx` escapes of unreserved characters are
//! decoded and the others upper-cased. The query keeps its order (reordering changes meaning on
//! many sites). Only `http` and `https` URLs are crawled.

use std::net::IpAddr;

use ipnet::IpNet;
use regex::Regex;
use url::Url;

/// Parses `href` against `base` and normalises it; `None` for unparsable or non-HTTP(S) URLs.
pub fn resolve(base: Option<&Url>, href: &str) -> Option<Url> {
    let href = href.trim();
    let u = match base {
        Some(b) => b.join(href).ok()?,
        None => Url::parse(href).ok()?,
    };
    normalise(u)
}

/// Normalises a parsed URL (see the module documentation).
pub fn normalise(mut u: Url) -> Option<Url> {
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return None;
    }
    u.set_fragment(None);
    if !u.username().is_empty() || u.password().is_some() {
        // Credentials in crawl URLs are never wanted in the archive.
        let _ = u.set_username("");
        let _ = u.set_password(None);
    }
    let path = normalise_escapes(u.path());
    if path != u.path() {
        u.set_path(&path);
    }
    if let Some(q) = u.query() {
        let nq = normalise_escapes(q);
        if nq != q {
            u.set_query(Some(&nq));
        }
    }
    Some(u)
}

fn normalise_escapes(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hi = (b[i + 1] as char).to_digit(16);
            let lo = (b[i + 2] as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                let v = (hi * 16 + lo) as u8;
                if v.is_ascii_alphanumeric() || matches!(v, b'-' | b'.' | b'_' | b'~') {
                    out.push(v as char);
                } else {
                    out.push('%');
                    out.push(b[i + 1].to_ascii_uppercase() as char);
                    out.push(b[i + 2].to_ascii_uppercase() as char);
                }
                i += 3;
                continue;
            }
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

/// The politeness key of a URL: scheme, host and port (`https://example.org:443`).
pub fn host_key(u: &Url) -> String {
    format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str().unwrap_or(""),
        u.port_or_known_default().unwrap_or(0)
    )
}

/// The path and query a robots.txt rule is matched against.
pub fn path_and_query(u: &Url) -> String {
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

/// Which discovered URLs the crawl follows.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Same host as one of the seeds.
    Host(Vec<String>),
    /// Same host as a seed, or a subdomain of a seed's host with a leading `www.` removed
    /// (`www.example.org` → anything under `example.org`).
    Domain(Vec<String>),
    /// The normalised URL matches the regular expression.
    Regex(Regex),
}

impl Scope {
    /// Parses `host`, `domain` or a regular expression; the seed hosts fix host and domain scope.
    pub fn parse(s: &str, seeds: &[Url]) -> Result<Scope, regex::Error> {
        let hosts = || {
            let mut h: Vec<String> = seeds
                .iter()
                .filter_map(|u| u.host_str().map(str::to_string))
                .collect();
            h.sort();
            h.dedup();
            h
        };
        Ok(match s {
            "host" => Scope::Host(hosts()),
            "domain" => Scope::Domain(
                hosts()
                    .into_iter()
                    .map(|h| h.strip_prefix("www.").map(str::to_string).unwrap_or(h))
                    .collect(),
            ),
            re => Scope::Regex(Regex::new(re)?),
        })
    }

    /// Whether `u` is in scope.
    pub fn contains(&self, u: &Url) -> bool {
        let host = u.host_str().unwrap_or("");
        match self {
            Scope::Host(h) => h.iter().any(|x| x == host),
            Scope::Domain(d) => d.iter().any(|x| {
                host == x
                    || (host.ends_with(x.as_str()) && host[..host.len() - x.len()].ends_with('.'))
            }),
            Scope::Regex(r) => r.is_match(u.as_str()),
        }
    }
}

/// The SSRF guard's address policy: public unicast addresses only, unless allowed.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    /// Allow every address (`--allow-private`).
    pub allow_all: bool,
    /// Networks allowed even though they are private (`--allow-net`).
    pub allowed_nets: Vec<IpNet>,
}

impl AddressPolicy {
    /// Whether the crawler may connect to `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_all || !is_forbidden(ip) || self.allowed_nets.iter().any(|n| n.contains(&ip))
    }
}

/// Loopback, private (RFC 1918), link-local, unique-local, CGNAT, unspecified, multicast,
/// broadcast, documentation and other non-global addresses (IPv4-mapped IPv6 checked as IPv4).
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10 CGNAT
                || (o[0] == 192 && o[1] == 0 && o[2] == 0) // 192.0.0.0/24 IETF
                || (o[0] == 198 && (o[1] & 0xfe) == 18) // 198.18.0.0/15 benchmarking
                || o[0] >= 240 // reserved
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_forbidden(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // fc00::/7 unique local
                || (s[0] & 0xffc0) == 0xfe80 // fe80::/10 link local
                || (s[0] & 0xffc0) == 0xfec0 // fec0::/10 site local (deprecated)
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 may reach IPv4 private space
                || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0)
            // IPv4-compatible
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        resolve(None, s).map(|u| u.to_string()).unwrap_or_default()
    }

    #[test]
    fn normalisation() {
        assert_eq!(
            n("HTTP://Example.ORG:80/a/./b/../c#frag"),
            "http://example.org/a/c"
        );
        assert_eq!(n("https://example.org:443"), "https://example.org/");
        assert_eq!(
            n("https://example.org:8443/x"),
            "https://example.org:8443/x"
        );
        assert_eq!(
            n("http://e.org/%7euser/%2f%41?b=2&a=1&%7e"),
            "http://e.org/~user/%2FA?b=2&a=1&~"
        );
        assert_eq!(n("http://e.org/caf\u{e9} x"), "http://e.org/caf%C3%A9%20x");
        assert_eq!(n("http://user:pw@e.org/"), "http://e.org/");
        assert_eq!(n("mailto:a@b.org"), "");
        assert_eq!(n("javascript:void(0)"), "");
        assert_eq!(n("ftp://e.org/x"), "");
        assert_eq!(n("http:///x"), "http://x/");
        let base = Url::parse("http://e.org/dir/page.html?q=1").unwrap();
        let r = |h: &str| resolve(Some(&base), h).unwrap().to_string();
        assert_eq!(r("other.html"), "http://e.org/dir/other.html");
        assert_eq!(r("../up"), "http://e.org/up");
        assert_eq!(r("//other.org/x"), "http://other.org/x");
        assert_eq!(r("?q=2"), "http://e.org/dir/page.html?q=2");
        assert_eq!(r("#top"), "http://e.org/dir/page.html?q=1");
        assert_eq!(r("  /sp  "), "http://e.org/sp");
        assert!(resolve(Some(&base), "http://[::1").is_none());
    }

    #[test]
    fn scope() {
        let seeds = vec![Url::parse("http://www.example.org/").unwrap()];
        let u = |s: &str| Url::parse(s).unwrap();
        let host = Scope::parse("host", &seeds).unwrap();
        assert!(host.contains(&u("https://www.example.org/x")));
        assert!(!host.contains(&u("http://blog.example.org/x")));
        let dom = Scope::parse("domain", &seeds).unwrap();
        assert!(dom.contains(&u("http://blog.example.org/x")));
        assert!(dom.contains(&u("http://example.org/x")));
        assert!(!dom.contains(&u("http://badexample.org/x")));
        let re = Scope::parse(r"^http://www\.example\.org/docs/", &seeds).unwrap();
        assert!(re.contains(&u("http://www.example.org/docs/1")));
        assert!(!re.contains(&u("http://www.example.org/blog/1")));
        assert!(Scope::parse("(", &seeds).is_err());
    }

    #[test]
    fn forbidden_addresses() {
        for a in [
            "127.0.0.1",
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(is_forbidden(a.parse().unwrap()), "{a}");
        }
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "172.32.0.1",
        ] {
            assert!(!is_forbidden(a.parse().unwrap()), "{a}");
        }
        let p = AddressPolicy {
            allow_all: false,
            allowed_nets: vec!["127.0.0.0/30".parse().unwrap()],
        };
        assert!(p.permits("127.0.0.2".parse().unwrap()));
        assert!(!p.permits("127.0.0.9".parse().unwrap()));
        assert!(p.permits("8.8.8.8".parse().unwrap()));
        let all = AddressPolicy {
            allow_all: true,
            ..Default::default()
        };
        assert!(all.permits("10.0.0.1".parse().unwrap()));
    }
}
