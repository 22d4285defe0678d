//! Normalisation of licence URLs and names to SPDX identifiers, and the licence classes a recipe
//! keeps or drops.
//!
//! Creative Commons URLs are normalised whatever their dressing: scheme-relative (`//creativecommons.org`),
//! `www.`, web.archive.org rewrites (`https://web.archive.org/web/2016.../http://creativecommons.org/...`),
//! deed vs legalcode, language suffixes (`deed.de`, `legalcode.an`) and jurisdiction ports
//! (`by-sa/3.0/de/`). Ports that the SPDX list carries (`CC-BY-SA-3.0-DE`) get their SPDX id; ports
//! it lacks get `LicenseRef-CC-<CODE>-<version>-<JURISDICTION>` so the port is never silently
//! merged into the unported licence.

/// Public Domain Mark (`creativecommons.org/publicdomain/mark/1.0/`): not a licence, a statement.
pub const PDM: &str = "LicenseRef-PDM";
/// A textual public-domain dedication ("released into the public domain").
pub const PUBLIC_DOMAIN: &str = "LicenseRef-Public-Domain";
/// A copyright notice without a grant ("All rights reserved", `<meta name="copyright">`).
pub const ALL_RIGHTS_RESERVED: &str = "LicenseRef-All-Rights-Reserved";
/// A licence is declared (e.g. `rel="license"` to an imprint page) but cannot be identified.
pub const UNKNOWN: &str = "LicenseRef-Unknown";

/// Jurisdiction ports present on the SPDX licence list (3.2x).
const SPDX_PORTS: &[&str] = &[
    "CC-BY-2.5-AU",
    "CC-BY-3.0-AT",
    "CC-BY-3.0-AU",
    "CC-BY-3.0-DE",
    "CC-BY-3.0-IGO",
    "CC-BY-3.0-NL",
    "CC-BY-3.0-US",
    "CC-BY-NC-3.0-DE",
    "CC-BY-NC-ND-3.0-DE",
    "CC-BY-NC-ND-3.0-IGO",
    "CC-BY-NC-SA-2.0-DE",
    "CC-BY-NC-SA-2.0-FR",
    "CC-BY-NC-SA-2.0-UK",
    "CC-BY-NC-SA-3.0-DE",
    "CC-BY-NC-SA-3.0-IGO",
    "CC-BY-ND-3.0-DE",
    "CC-BY-SA-2.0-UK",
    "CC-BY-SA-2.1-JP",
    "CC-BY-SA-3.0-AT",
    "CC-BY-SA-3.0-DE",
    "CC-BY-SA-3.0-IGO",
];

/// Unported versions on the SPDX list for every one of the six CC licence elements.
const CC_VERSIONS: &[&str] = &["1.0", "2.0", "2.5", "3.0", "4.0"];

/// The coarse class a recipe filters on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LicenseClass {
    /// Usable for an open corpus (Common Pile's definition): CC BY, CC BY-SA, CC0, public domain.
    Open,
    /// Creative Commons with NonCommercial or NoDerivatives.
    NcNd,
    /// All rights reserved / plain copyright notice.
    Restricted,
    /// No licence found, or one that cannot be identified.
    Unknown,
}

impl LicenseClass {
    /// The label written to `license_class` metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseClass::Open => "open",
            LicenseClass::NcNd => "nc-nd",
            LicenseClass::Restricted => "restricted",
            LicenseClass::Unknown => "unknown",
        }
    }

    /// Parses a class label as written in recipes.
    pub fn parse(s: &str) -> Option<LicenseClass> {
        match s {
            "open" => Some(LicenseClass::Open),
            "nc-nd" => Some(LicenseClass::NcNd),
            "restricted" => Some(LicenseClass::Restricted),
            "unknown" => Some(LicenseClass::Unknown),
            _ => None,
        }
    }
}

/// The class of an SPDX id produced by this module.
pub fn class_of(spdx: &str) -> LicenseClass {
    if spdx == PDM || spdx == PUBLIC_DOMAIN || spdx == "CC0-1.0" {
        return LicenseClass::Open;
    }
    if spdx == ALL_RIGHTS_RESERVED {
        return LicenseClass::Restricted;
    }
    let cc = spdx
        .strip_prefix("CC-")
        .or_else(|| spdx.strip_prefix("LicenseRef-CC-"));
    match cc {
        Some(rest) if rest.starts_with("BY-") || rest.starts_with("BY") => {
            let code = rest
                .split('-')
                .take_while(|p| !p.contains('.'))
                .collect::<Vec<_>>();
            if code.iter().any(|p| *p == "NC" || *p == "ND") {
                LicenseClass::NcNd
            } else {
                LicenseClass::Open
            }
        }
        _ => LicenseClass::Unknown,
    }
}

/// Strips a web.archive.org (or any Wayback-style `/web/<timestamp>[flags]/`) rewrite, returning
/// the archived URL.
fn strip_wayback(url: &str) -> &str {
    let lower = url.to_ascii_lowercase();
    if let Some(i) = lower.find("/web/") {
        let host = &lower[..i];
        if host.ends_with("archive.org")
            || host.contains("archive.org/")
            || host.contains("webarchive")
        {
            let rest = &url[i + 5..];
            // <timestamp>[im_|js_|id_|...]/<original url>
            if let Some(slash) = rest.find('/') {
                let stamp = &rest[..slash];
                if stamp.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
                    return &rest[slash + 1..];
                }
            }
        }
    }
    url
}

/// The path after `creativecommons.org/` when `url` points to the Creative Commons site.
fn cc_path(url: &str) -> Option<String> {
    let url = strip_wayback(url.trim());
    let lower = url.to_ascii_lowercase();
    let no_scheme = lower
        .strip_prefix("https:")
        .or_else(|| lower.strip_prefix("http:"))
        .unwrap_or(&lower);
    let host_path = no_scheme.strip_prefix("//")?;
    let host_path = host_path.strip_prefix("www.").unwrap_or(host_path);
    let path = host_path.strip_prefix("creativecommons.org/")?;
    // Drop query and fragment.
    let path = path.split(['?', '#']).next().unwrap_or("");
    Some(path.to_string())
}

/// True when `url` points to a Creative Commons licence or public-domain tool (not to other pages
/// of creativecommons.org).
pub fn is_cc_license_url(url: &str) -> bool {
    from_url(url).is_some_and(|s| s != UNKNOWN)
}

/// Normalises a licence URL to an SPDX id; `None` when the URL is not a recognised licence URL.
pub fn from_url(url: &str) -> Option<String> {
    if let Some(path) = cc_path(url) {
        return cc_from_path(&path);
    }
    let lower = url.trim().to_ascii_lowercase();
    let known: &[(&str, &str)] = &[
        ("gnu.org/licenses/fdl-1.3", "GFDL-1.3-or-later"),
        ("gnu.org/copyleft/fdl", "GFDL-1.3-or-later"),
        ("gnu.org/licenses/gpl-3.0", "GPL-3.0-or-later"),
        ("gnu.org/licenses/gpl-2.0", "GPL-2.0-or-later"),
        ("opensource.org/licenses/mit", "MIT"),
        ("opensource.org/licenses/apache-2.0", "Apache-2.0"),
        ("apache.org/licenses/license-2.0", "Apache-2.0"),
        ("opendatacommons.org/licenses/odbl", "ODbL-1.0"),
    ];
    known
        .iter()
        .find(|(pat, _)| lower.contains(pat))
        .map(|(_, id)| id.to_string())
}

fn cc_from_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        ["publicdomain", "zero", ..] => Some("CC0-1.0".into()),
        ["publicdomain", "mark", ..] => Some(PDM.into()),
        ["licenses", "publicdomain", ..] | ["publicdomain", ..] => Some(PUBLIC_DOMAIN.into()),
        ["licenses", code, rest @ ..] => {
            let code = cc_code(code)?;
            let version = rest.first().copied().filter(|v| is_version(v));
            let Some(version) = version else {
                // A licence without version (`/licenses/by/`): the family is known, the terms are not.
                return Some(format!("LicenseRef-CC-{code}"));
            };
            let juris = rest
                .get(1)
                .copied()
                .filter(|j| !j.starts_with("deed") && !j.starts_with("legalcode") && j.len() <= 5);
            let base = format!("CC-{code}-{version}");
            match juris {
                None => {
                    if CC_VERSIONS.contains(&version) {
                        Some(base)
                    } else {
                        Some(format!("LicenseRef-{base}"))
                    }
                }
                Some(j) => {
                    let id = format!("{base}-{}", j.to_ascii_uppercase());
                    if SPDX_PORTS.contains(&id.as_str()) {
                        Some(id)
                    } else {
                        Some(format!("LicenseRef-{id}"))
                    }
                }
            }
        }
        _ => None,
    }
}

fn is_version(v: &str) -> bool {
    let mut it = v.split('.');
    matches!((it.next(), it.next(), it.next()),
        (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit()) && b.bytes().all(|c| c.is_ascii_digit()))
}

/// Canonical SPDX element order for a CC licence code path segment (`by-nc-sa`, `by-nd-nc`).
fn cc_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "by" => "BY",
        "by-sa" => "BY-SA",
        "by-nd" => "BY-ND",
        "by-nc" => "BY-NC",
        "by-nc-sa" | "by-sa-nc" => "BY-NC-SA",
        "by-nc-nd" | "by-nd-nc" => "BY-NC-ND",
        _ => return None,
    })
}

/// Normalises a licence named in prose ("CC BY-SA 4.0", "Creative Commons Attribution-ShareAlike
/// 4.0 International") to an SPDX id. `elements` are the licence elements as written, `version`
/// the number (may be absent).
pub fn from_cc_name(elements: &str, version: Option<&str>) -> Option<String> {
    let e = elements.to_ascii_lowercase();
    let has = |short: &str, long: &[&str]| {
        e.split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w == short || long.contains(&w))
    };
    let zero = e.contains("cc0") || e.contains("zero");
    if zero {
        return Some("CC0-1.0".into());
    }
    let nc = has("nc", &["noncommercial"])
        || e.contains("non-commercial")
        || e.contains("non commercial");
    let nd = has("nd", &["noderivatives", "noderivs"])
        || e.contains("no derivatives")
        || e.contains("no-derivatives")
        || e.contains("no derivs");
    let sa = has("sa", &["sharealike"]) || e.contains("share-alike") || e.contains("share alike");
    let by = has("by", &["attribution"]);
    if !by {
        return None;
    }
    let code = match (nc, nd, sa) {
        (false, false, false) => "BY",
        (false, false, true) => "BY-SA",
        (false, true, _) => "BY-ND",
        (true, false, false) => "BY-NC",
        (true, false, true) => "BY-NC-SA",
        (true, true, _) => "BY-NC-ND",
    };
    match version {
        Some(v) if CC_VERSIONS.contains(&v) => Some(format!("CC-{code}-{v}")),
        Some(v) => Some(format!("LicenseRef-CC-{code}-{v}")),
        None => Some(format!("LicenseRef-CC-{code}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cc_urls_normalise_through_every_dressing() {
        let cases = [
            ("https://creativecommons.org/licenses/by-sa/4.0/deed.an", "CC-BY-SA-4.0"),
            ("//creativecommons.org/licenses/by-sa/3.0/", "CC-BY-SA-3.0"),
            ("http://www.creativecommons.org/licenses/by/4.0/legalcode", "CC-BY-4.0"),
            ("https://creativecommons.org/licenses/by/4.0/legalcode.de", "CC-BY-4.0"),
            ("http://creativecommons.org/licenses/by-nc-nd/2.5/deed.de", "CC-BY-NC-ND-2.5"),
            ("http://creativecommons.org/licenses/by-sa/3.0/at/", "CC-BY-SA-3.0-AT"),
            ("http://creativecommons.org/licenses/by-nc/3.0/de/", "CC-BY-NC-3.0-DE"),
            ("http://creativecommons.org/licenses/by/2.5/it/", "LicenseRef-CC-BY-2.5-IT"),
            ("https://creativecommons.org/licenses/by-nc-sa/3.0/deed.en_US", "CC-BY-NC-SA-3.0"),
            (
                "https://web.archive.org/web/20160218174457/http://creativecommons.org/licenses/by-nc-sa/3.0/de/",
                "CC-BY-NC-SA-3.0-DE",
            ),
            ("https://web.archive.org/web/2016im_/https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
            ("https://creativecommons.org/publicdomain/mark/1.0/", PDM),
            ("HTTPS://CreativeCommons.org/licenses/BY/4.0/?ref=chooser", "CC-BY-4.0"),
        ];
        for (url, want) in cases {
            assert_eq!(from_url(url).as_deref(), Some(want), "{url}");
        }
        assert_eq!(from_url("https://creativecommons.org/about/"), None);
        assert_eq!(from_url("https://example.org/licenses/by/4.0/"), None);
        assert!(!is_cc_license_url("https://creativecommons.org/"));
    }

    #[test]
    fn classes_follow_common_pile() {
        assert_eq!(class_of("CC-BY-4.0"), LicenseClass::Open);
        assert_eq!(class_of("CC-BY-SA-3.0-DE"), LicenseClass::Open);
        assert_eq!(class_of("CC0-1.0"), LicenseClass::Open);
        assert_eq!(class_of(PDM), LicenseClass::Open);
        assert_eq!(class_of("LicenseRef-CC-BY-2.5-IT"), LicenseClass::Open);
        assert_eq!(class_of("CC-BY-NC-SA-3.0"), LicenseClass::NcNd);
        assert_eq!(class_of("CC-BY-ND-4.0"), LicenseClass::NcNd);
        assert_eq!(class_of(ALL_RIGHTS_RESERVED), LicenseClass::Restricted);
        assert_eq!(class_of(UNKNOWN), LicenseClass::Unknown);
        assert_eq!(class_of("MIT"), LicenseClass::Unknown);
    }

    #[test]
    fn prose_names_normalise() {
        assert_eq!(
            from_cc_name("CC BY-SA", Some("4.0")).as_deref(),
            Some("CC-BY-SA-4.0")
        );
        assert_eq!(
            from_cc_name(
                "Creative Commons Attribution-NonCommercial-ShareAlike",
                Some("3.0")
            )
            .as_deref(),
            Some("CC-BY-NC-SA-3.0")
        );
        assert_eq!(
            from_cc_name("Creative Commons Attribution-NoDerivatives", Some("4.0")).as_deref(),
            Some("CC-BY-ND-4.0")
        );
        assert_eq!(
            from_cc_name("Creative Commons Attribution", Some("4.0")).as_deref(),
            Some("CC-BY-4.0")
        );
        assert_eq!(from_cc_name("CC0", None).as_deref(), Some("CC0-1.0"));
    }
}
