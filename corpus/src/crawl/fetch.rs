//! One HTTP GET with the crawler's limits: SSRF guard, timeout, size cap, content-type allow-list.
//!
//! Redirects are not followed here (the crawler schedules each hop itself, so every hop passes the
//! scope, robots, dedup and SSRF checks). The body is kept exactly as sent (`Content-Encoding`
//! not undone; transfer chunking is undone by the HTTP stack and `Transfer-Encoding` dropped from
//! the recorded headers) so the WARC holds the server's payload.
//!
//! SSRF guard: before connecting, the host is resolved (or its IP literal taken) and every address
//! must pass the [`AddressPolicy`]; the HTTP client's own resolver applies the same filter, so a
//! name that re-resolves to a forbidden address between the check and the connect (DNS rebinding)
//! cannot be reached either.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::urls::AddressPolicy;

/// Why a fetch produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The host resolves to an address the policy refuses.
    Ssrf(String),
    /// The whole fetch took longer than the timeout.
    Timeout,
    /// The body exceeded the size cap.
    TooLarge(u64),
    /// A 2xx response whose Content-Type is not on the allow-list.
    ContentType(String),
    /// DNS, connection, TLS or protocol failure.
    Net(String),
}

impl FetchError {
    /// The skip reason recorded for the URL.
    pub fn reason(&self) -> &'static str {
        match self {
            FetchError::Ssrf(_) => "ssrf",
            FetchError::Timeout => "timeout",
            FetchError::TooLarge(_) => "too_large",
            FetchError::ContentType(_) => "content_type",
            FetchError::Net(_) => "fetch_error",
        }
    }
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Ssrf(m) => write!(f, "refused address: {m}"),
            FetchError::Timeout => write!(f, "timed out"),
            FetchError::TooLarge(n) => write!(f, "body larger than {n} bytes"),
            FetchError::ContentType(t) => write!(f, "content type {t} not allowed"),
            FetchError::Net(m) => write!(f, "{m}"),
        }
    }
}

/// A response as received.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// HTTP status.
    pub status: u16,
    /// The status line's HTTP version (`HTTP/1.1`, `HTTP/2`...).
    pub version: String,
    /// Response headers in received order (`Transfer-Encoding` removed).
    pub headers: Vec<(String, String)>,
    /// The payload as sent (still content-encoded).
    pub body: Vec<u8>,
    /// The request headers sent.
    pub request_headers: Vec<(String, String)>,
    /// The peer address.
    pub ip: Option<IpAddr>,
    /// Unix time (seconds) the request was sent.
    pub unix_secs: i64,
    /// Wall time of the fetch.
    pub elapsed: Duration,
}

impl Fetched {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Limits of one fetcher.
#[derive(Debug, Clone)]
pub struct FetchLimits {
    /// `User-Agent` header value.
    pub user_agent: String,
    /// Whole-request timeout (connect, headers and body).
    pub timeout: Duration,
    /// Body size cap in bytes.
    pub max_bytes: u64,
    /// MIME types accepted for 2xx page responses (lower case); empty = any.
    pub content_types: Vec<String>,
    /// Address policy of the SSRF guard.
    pub policy: AddressPolicy,
}

/// The HTTP client of a crawl.
pub struct Fetcher {
    client: reqwest::Client,
    limits: FetchLimits,
}

struct GuardedResolver {
    policy: AddressPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| policy.permits(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host}: no permitted address").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

impl Fetcher {
    /// A fetcher with its own connection pool (at most one idle connection per host).
    pub fn new(limits: FetchLimits) -> Result<Fetcher, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(1)
            .connect_timeout(limits.timeout)
            .dns_resolver(Arc::new(GuardedResolver {
                policy: limits.policy.clone(),
            }))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Fetcher { client, limits })
    }

    /// The limits in force.
    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    /// Checks the URL's addresses against the policy.
    pub async fn check_address(&self, url: &Url) -> Result<(), FetchError> {
        let policy = &self.limits.policy;
        if policy.allow_all {
            return Ok(());
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let ips: Vec<IpAddr> = match url.host() {
            Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            Some(Host::Domain(d)) => {
                let look = tokio::net::lookup_host((d, port));
                match tokio::time::timeout(self.limits.timeout, look).await {
                    Ok(Ok(a)) => a.map(|s| s.ip()).collect(),
                    Ok(Err(e)) => return Err(FetchError::Net(format!("resolving {d}: {e}"))),
                    Err(_) => return Err(FetchError::Timeout),
                }
            }
            None => return Err(FetchError::Net("URL has no host".into())),
        };
        if let Some(bad) = ips.iter().find(|ip| !policy.permits(**ip)) {
            return Err(FetchError::Ssrf(format!(
                "{} resolves to {bad}",
                url.host_str().unwrap_or("")
            )));
        }
        Ok(())
    }

    /// GETs `url`. `page` applies the content-type allow-list to 2xx responses.
    pub async fn get(&self, url: &Url, page: bool) -> Result<Fetched, FetchError> {
        self.check_address(url).await?;
        let start = Instant::now();
        let unix_secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        match tokio::time::timeout(self.limits.timeout, self.get_inner(url, page, unix_secs)).await
        {
            Ok(r) => r.map(|mut f| {
                f.elapsed = start.elapsed();
                f
            }),
            Err(_) => Err(FetchError::Timeout),
        }
    }

    async fn get_inner(
        &self,
        url: &Url,
        page: bool,
        unix_secs: i64,
    ) -> Result<Fetched, FetchError> {
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
            None => url.host_str().unwrap_or("").to_string(),
        };
        let request_headers = vec![
            ("Host".to_string(), host),
            ("User-Agent".to_string(), self.limits.user_agent.clone()),
            (
                "Accept".to_string(),
                "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5".to_string(),
            ),
            (
                "Accept-Encoding".to_string(),
                "gzip, deflate, br".to_string(),
            ),
        ];
        let mut req = self.client.get(url.as_str());
        for (k, v) in request_headers.iter().skip(1) {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut resp = req.send().await.map_err(|e| net_error(&e))?;
        let status = resp.status().as_u16();
        let version = match resp.version() {
            reqwest::Version::HTTP_09 => "HTTP/0.9",
            reqwest::Version::HTTP_10 => "HTTP/1.0",
            reqwest::Version::HTTP_2 => "HTTP/2",
            reqwest::Version::HTTP_3 => "HTTP/3",
            _ => "HTTP/1.1",
        }
        .to_string();
        let ip = resp.remote_addr().map(|a| a.ip());
        if let Some(ip) = ip {
            if !self.limits.policy.permits(ip) {
                return Err(FetchError::Ssrf(format!("connected to {ip}")));
            }
        }
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .filter(|(k, _)| k.as_str() != "transfer-encoding")
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        if page && (200..300).contains(&status) && !self.limits.content_types.is_empty() {
            let mime = resp
                .headers()
                .get("content-type")
                .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string())
                .map(|v| {
                    v.split(';')
                        .next()
                        .unwrap_or("")
                        .trim()
                        .to_ascii_lowercase()
                })
                .unwrap_or_default();
            // A missing Content-Type is accepted: the reader sniffs the payload.
            if !mime.is_empty() && !self.limits.content_types.iter().any(|t| *t == mime) {
                return Err(FetchError::ContentType(mime));
            }
        }
        let cap = self.limits.max_bytes;
        if resp.content_length().is_some_and(|n| n > cap) {
            return Err(FetchError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| net_error(&e))? {
            if (body.len() + chunk.len()) as u64 > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            version,
            headers,
            body,
            request_headers,
            ip,
            unix_secs,
            elapsed: Duration::ZERO,
        })
    }
}

/// A reqwest error with its causes, and the SSRF refusal of the resolver recognised.
fn net_error(e: &reqwest::Error) -> FetchError {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    if msg.contains("no permitted address") {
        FetchError::Ssrf(msg)
    } else if e.is_timeout() {
        FetchError::Timeout
    } else {
        FetchError::Net(msg)
    }
}
