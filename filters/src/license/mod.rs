//! Licence audit: declared licences and opt-out signals from each page's raw HTML and headers.
//!
//! - [`detect`] scans the markup once and records every licence statement ([`Finding`]) with where
//!   it was found and its evidence; [`detect::decide`] picks the document licence by one
//!   documented precedence rule.
//! - [`spdx`] normalises licence URLs and names to SPDX ids and classes them (`open`, `nc-nd`,
//!   `restricted`, `unknown`).
//! - [`optout`] reads robots `noai`/`noimageai`/`noindex` and TDMRep `tdm-reservation` signals.
//! - [`step`] is the `license` recipe stage.

pub mod detect;
pub mod optout;
pub mod spdx;
pub mod step;

pub use detect::{Finding, Source};
pub use optout::OptOut;
pub use spdx::LicenseClass;
pub use step::{LicenseStep, LicenseStepConfig};

/// The audit of one document.
#[derive(Debug, Clone)]
pub struct Audit {
    /// Every finding, in document order.
    pub findings: Vec<Finding>,
    /// The document licence (SPDX id), if any finding qualifies.
    pub license: Option<String>,
    /// Class of `license` (`Unknown` when there is none).
    pub class: LicenseClass,
    /// Opt-out signals from headers and markup.
    pub opt_outs: Vec<OptOut>,
}

impl Audit {
    /// The audit as one JSON object (the `quarry license --json` line and the step's metadata
    /// shape): `license`, `license_class`, `license_findings`, `opt_out`, `opt_out_reasons`.
    pub fn to_json(&self) -> serde_json::Value {
        let findings: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| {
                serde_json::json!({
                    "spdx": f.spdx,
                    "source": f.source.as_str(),
                    "location": f.location,
                    "evidence": f.evidence,
                    "confidence": f.confidence,
                })
            })
            .collect();
        let mut reasons: Vec<&str> = self.opt_outs.iter().map(|o| o.reason).collect();
        reasons.sort_unstable();
        reasons.dedup();
        serde_json::json!({
            "license": self.license,
            "license_class": self.class.as_str(),
            "license_findings": findings,
            "opt_out": !self.opt_outs.is_empty(),
            "opt_out_reasons": reasons,
        })
    }
}

/// Audits one page: `headers` are the HTTP response headers, `html` the (lossily decoded) body.
pub fn audit(headers: &[(String, String)], html: &str) -> Audit {
    audit_at(headers, html, None)
}

/// [`audit`] of a page fetched from `url` (root-relative licence links resolve against it).
pub fn audit_at(headers: &[(String, String)], html: &str, url: Option<&str>) -> Audit {
    let scan = detect::scan_at(html, url);
    let mut opt_outs = Vec::new();
    optout::from_headers(headers, &mut opt_outs);
    opt_outs.extend(scan.opt_outs);
    let license = detect::decide(&scan.findings).map(|f| f.spdx.clone());
    let class = license
        .as_deref()
        .map(spdx::class_of)
        .unwrap_or(LicenseClass::Unknown);
    Audit {
        findings: scan.findings,
        license,
        class,
        opt_outs,
    }
}

/// Audits raw body bytes (decoded as UTF-8, invalid sequences replaced: every marker this module
/// looks for is ASCII, so legacy encodings still match).
pub fn audit_bytes(headers: &[(String, String)], body: &[u8]) -> Audit {
    audit(headers, &String::from_utf8_lossy(body))
}

/// [`audit_bytes`] of a page fetched from `url`.
pub fn audit_bytes_at(headers: &[(String, String)], body: &[u8], url: Option<&str>) -> Audit {
    audit_at(headers, &String::from_utf8_lossy(body), url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_json_shape() {
        let h = vec![("tdm-reservation".to_string(), "1".to_string())];
        let a = audit(
            &h,
            r#"<link rel="license" href="https://creativecommons.org/licenses/by/4.0/">"#,
        );
        let j = a.to_json();
        assert_eq!(j["license"], "CC-BY-4.0");
        assert_eq!(j["license_class"], "open");
        assert_eq!(j["license_findings"][0]["location"], "link@rel:head");
        assert_eq!(j["opt_out"], true);
        assert_eq!(j["opt_out_reasons"][0], "tdm_reservation");
        let j = audit(&[], "<p>nothing</p>").to_json();
        assert!(j["license"].is_null());
        assert_eq!(j["license_class"], "unknown");
    }
}
