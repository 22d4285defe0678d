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

/// Audits one page: `headers` are the HTTP response headers, `html` the (lossily decoded) body.
pub fn audit(headers: &[(String, String)], html: &str) -> Audit {
    let scan = detect::scan(html);
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
