//! FineWeb's PII replacement (datatrove's `PIIFormatter`): e-mail addresses and public IPv4
//! addresses in the text are replaced by fixed, harmless stand-ins.
//!
//! The patterns are datatrove's. An IP match is replaced only when Python's
//! `ipaddress.ip_address(match).is_global` holds (so `192.168.1.1`, `127.0.0.1` and octets with
//! leading zeros, which Python rejects, stay). Replacements cycle through the configured list; the
//! cycle restarts for every document, where datatrove's counter runs across documents (which would
//! make the output depend on document order and on parallelism).

use std::sync::OnceLock;

use quarry_corpus::{Document, Step, StepError, Verdict};
use regex::{Captures, Regex};
use serde::Deserialize;

use crate::common::config;

/// Recipe config of `pii` (datatrove's defaults).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PiiConfig {
    /// Replace e-mail addresses.
    pub remove_emails: bool,
    /// Replace IPv4 addresses.
    pub remove_ips: bool,
    /// Only replace public (globally routable) IPs.
    pub only_remove_public_ips: bool,
    /// E-mail stand-ins, used in turn.
    pub email_replacement: Vec<String>,
    /// IP stand-ins, used in turn.
    pub ip_replacement: Vec<String>,
    /// Count replacements in metadata (`pii_emails`, `pii_ips`).
    pub annotate: bool,
}

impl Default for PiiConfig {
    fn default() -> Self {
        PiiConfig {
            remove_emails: true,
            remove_ips: true,
            only_remove_public_ips: true,
            email_replacement: vec![
                "email@example.com".into(),
                "firstname.lastname@example.org".into(),
            ],
            ip_replacement: [
                "22.214.171.124",
                "126.96.36.199",
                "188.8.131.52",
                "184.108.40.206",
                "220.127.116.11",
                "18.104.22.168",
            ]
            .map(String::from)
            .to_vec(),
            annotate: false,
        }
    }
}

fn email_regex() -> &'static Regex {
    static RX: OnceLock<Regex> = OnceLock::new();
    RX.get_or_init(|| {
        Regex::new(concat!(
            r"\b[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:(?:[A-Za-z0-9](?:[",
            r"A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?|\[(?:(?:25[0-5]|2[0-4][0-9]|[",
            r"01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?|[A-Za-z0-9-]*[A-Za-z0-9]:)\])"
        ))
        .expect("valid e-mail regex")
    })
}

fn ip_regex() -> &'static Regex {
    static RX: OnceLock<Regex> = OnceLock::new();
    RX.get_or_init(|| {
        Regex::new(r"(?:(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\.){3}(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)")
            .expect("valid IP regex")
    })
}

/// Python 3.11's `ipaddress.ip_address(s)` for a dotted quad the IP regex matched: `None` when
/// Python rejects it (an octet with a leading zero).
fn parse_ipv4(s: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut n = 0;
    for part in s.split('.') {
        if n == 4 || part.is_empty() || (part.len() > 1 && part.starts_with('0')) {
            return None;
        }
        out[n] = part.parse().ok()?;
        n += 1;
    }
    (n == 4).then_some(out)
}

/// Python 3.11's `IPv4Address.is_global`: not in 100.64.0.0/10 and not `is_private`.
pub fn is_global(ip: [u8; 4]) -> bool {
    let v = u32::from_be_bytes(ip);
    let within = |net: [u8; 4], bits: u32| {
        let mask = if bits == 0 {
            0
        } else {
            u32::MAX << (32 - bits)
        };
        v & mask == u32::from_be_bytes(net) & mask
    };
    const PRIVATE: [([u8; 4], u32); 14] = [
        ([0, 0, 0, 0], 8),
        ([10, 0, 0, 0], 8),
        ([127, 0, 0, 0], 8),
        ([169, 254, 0, 0], 16),
        ([172, 16, 0, 0], 12),
        ([192, 0, 0, 0], 29),
        ([192, 0, 0, 170], 31),
        ([192, 0, 2, 0], 24),
        ([192, 168, 0, 0], 16),
        ([198, 18, 0, 0], 15),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        ([240, 0, 0, 0], 4),
        ([255, 255, 255, 255], 32),
    ];
    !within([100, 64, 0, 0], 10) && !PRIVATE.iter().any(|&(net, bits)| within(net, bits))
}

/// The `pii` step: rewrites the text, never drops.
#[derive(Debug, Clone, Default)]
pub struct Pii {
    cfg: PiiConfig,
}

impl Pii {
    /// A formatter with this config.
    pub fn new(cfg: PiiConfig) -> Result<Self, StepError> {
        if (cfg.remove_emails && cfg.email_replacement.is_empty())
            || (cfg.remove_ips && cfg.ip_replacement.is_empty())
        {
            return Err(StepError::Config {
                step: "pii".into(),
                message: "replacement lists must not be empty".into(),
            });
        }
        Ok(Pii { cfg })
    }

    /// The text with PII replaced, and the number of e-mails and IPs replaced.
    pub fn format(&self, text: &str) -> (String, usize, usize) {
        let c = &self.cfg;
        let mut text = text.to_string();
        let (mut emails, mut ips) = (0usize, 0usize);
        if c.remove_emails && text.contains('@') {
            text = email_regex()
                .replace_all(&text, |_: &Captures| {
                    let r = &c.email_replacement[emails % c.email_replacement.len()];
                    emails += 1;
                    r.clone()
                })
                .into_owned();
        }
        if c.remove_ips && text.contains('.') {
            text = ip_regex()
                .replace_all(&text, |caps: &Captures| {
                    let m = caps.get(0).map_or("", |m| m.as_str());
                    let valid =
                        parse_ipv4(m).is_some_and(|ip| !c.only_remove_public_ips || is_global(ip));
                    if !valid {
                        return m.to_string();
                    }
                    let r = &c.ip_replacement[ips % c.ip_replacement.len()];
                    ips += 1;
                    r.clone()
                })
                .into_owned();
        }
        (text, emails, ips)
    }
}

impl Step for Pii {
    fn name(&self) -> &str {
        "pii"
    }
    fn process(&self, doc: &mut Document) -> Verdict {
        let (text, emails, ips) = self.format(&doc.text);
        if emails + ips > 0 {
            doc.text = text;
        }
        if self.cfg.annotate {
            doc.set_meta("pii_emails", emails);
            doc.set_meta("pii_ips", ips);
        }
        Verdict::Keep
    }
}

/// Recipe factory.
pub fn build(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let cfg: PiiConfig = config("pii", table)?;
    Ok(Box::new(Pii::new(cfg)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_emails_and_public_ips_only() {
        let p = Pii::default();
        let (t, e, i) = p.format(
            "Write to jane.doe+news@mail.example.co.uk or bob@x.org. Server 8.8.8.8, LAN 192.168.1.20, \
             loopback 127.0.0.1, odd 01.2.3.4, shared 100.64.1.1, version 1234.5.6.7.",
        );
        assert_eq!(
            t,
            "Write to email@example.com or firstname.lastname@example.org. Server 22.214.171.124, LAN \
             192.168.1.20, loopback 127.0.0.1, odd 01.2.3.4, shared 100.64.1.1, version 1126.96.36.199."
        );
        assert_eq!((e, i), (2, 2));
    }

    #[test]
    fn python_is_global_table() {
        assert!(is_global([8, 8, 8, 8]));
        assert!(!is_global([10, 1, 2, 3]));
        assert!(!is_global([172, 31, 255, 255]));
        assert!(is_global([172, 32, 0, 0]));
        assert!(!is_global([100, 127, 0, 1]));
        assert!(is_global([224, 0, 0, 1])); // multicast is "global" to Python 3.11
        assert_eq!(parse_ipv4("1.02.3.4"), None);
    }

    #[test]
    fn replacement_cycle_restarts_per_document() {
        let p = Pii::default();
        let mut a = Document::new("a", "a@b.com");
        let mut b = Document::new("b", "c@d.com");
        p.process(&mut a);
        p.process(&mut b);
        assert_eq!(a.text, b.text);
    }
}
