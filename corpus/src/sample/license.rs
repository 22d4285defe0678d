//! License markup: the many ways real pages declare (or seem to declare) a license.
//!
//! The policy is per site (real sites license all their pages alike), drawn from the site's traits
//! stream: no markup at all for most sites, else a `rel="license"` anchor or `<link>`, a Creative
//! Commons badge without `rel`, a JSON-LD `license`, a Dublin Core all-rights-reserved meta, or a
//! mere mention of Creative Commons that licenses nothing. URL spellings vary as in the wild
//! (http/https/protocol-relative, `deed.xx`, `legalcode`, ported licenses with a jurisdiction).

use super::lang::Lang;
use super::rng::Rng;

/// (SPDX id, path under creativecommons.org, English name).
const CC: &[(&str, &str, &str)] = &[
    (
        "CC-BY-4.0",
        "licenses/by/4.0/",
        "Attribution 4.0 International",
    ),
    (
        "CC-BY-SA-4.0",
        "licenses/by-sa/4.0/",
        "Attribution-ShareAlike 4.0 International",
    ),
    (
        "CC-BY-NC-4.0",
        "licenses/by-nc/4.0/",
        "Attribution-NonCommercial 4.0 International",
    ),
    (
        "CC-BY-NC-SA-4.0",
        "licenses/by-nc-sa/4.0/",
        "Attribution-NonCommercial-ShareAlike 4.0 International",
    ),
    (
        "CC-BY-ND-4.0",
        "licenses/by-nd/4.0/",
        "Attribution-NoDerivatives 4.0 International",
    ),
    (
        "CC-BY-NC-ND-4.0",
        "licenses/by-nc-nd/4.0/",
        "Attribution-NonCommercial-NoDerivatives 4.0 International",
    ),
    ("CC-BY-3.0", "licenses/by/3.0/", "Attribution 3.0 Unported"),
    (
        "CC-BY-SA-3.0",
        "licenses/by-sa/3.0/",
        "Attribution-ShareAlike 3.0 Unported",
    ),
    (
        "CC-BY-NC-SA-3.0",
        "licenses/by-nc-sa/3.0/",
        "Attribution-NonCommercial-ShareAlike 3.0 Unported",
    ),
    ("CC-BY-2.0", "licenses/by/2.0/", "Attribution 2.0 Generic"),
    (
        "CC-BY-SA-2.5",
        "licenses/by-sa/2.5/",
        "Attribution-ShareAlike 2.5 Generic",
    ),
    ("CC0-1.0", "publicdomain/zero/1.0/", "CC0 1.0 Universal"),
];

/// Ported licenses, preferred by sites of the matching language.
const CC_PORTS: &[(Lang, &str, &str, &str)] = &[
    (
        Lang::De,
        "CC-BY-3.0-DE",
        "licenses/by/3.0/de/",
        "Attribution 3.0 Germany",
    ),
    (
        Lang::De,
        "CC-BY-SA-3.0-DE",
        "licenses/by-sa/3.0/de/",
        "Attribution-ShareAlike 3.0 Germany",
    ),
    (
        Lang::De,
        "CC-BY-3.0-AT",
        "licenses/by/3.0/at/",
        "Attribution 3.0 Austria",
    ),
    (
        Lang::Fr,
        "CC-BY-NC-SA-2.0-FR",
        "licenses/by-nc-sa/2.0/fr/",
        "Attribution-NonCommercial-ShareAlike 2.0 France",
    ),
    (
        Lang::En,
        "CC-BY-3.0-US",
        "licenses/by/3.0/us/",
        "Attribution 3.0 United States",
    ),
    (
        Lang::Ja,
        "CC-BY-SA-2.1-JP",
        "licenses/by-sa/2.1/jp/",
        "Attribution-ShareAlike 2.1 Japan",
    ),
];

/// The SPDX-style id used for an explicit all-rights-reserved declaration.
pub(crate) const ALL_RIGHTS_RESERVED: &str = "LicenseRef-All-Rights-Reserved";

/// How a page declares its license, rendered into head and footer snippets.
#[derive(Debug, Clone, Default)]
pub(crate) struct LicenseMarkup {
    /// The truth: SPDX id, or `None` when nothing is declared.
    pub spdx: Option<&'static str>,
    /// Which markup (`none`, `rel_license_a`, ...).
    pub markup: &'static str,
    /// HTML for `<head>`.
    pub head: String,
    /// HTML for the footer.
    pub footer: String,
    /// URL for a JSON-LD `license` property.
    pub json_ld: Option<String>,
}

fn cc_url(rng: &mut Rng, path: &str, lang: Lang) -> String {
    let scheme = ["https://", "http://", "//"][rng.weighted(&[0.7, 0.25, 0.05])];
    let suffix = match rng.below(6) {
        0 => format!("deed.{}", lang.code()),
        1 => "legalcode".to_string(),
        2 => "deed.en".to_string(),
        _ => String::new(),
    };
    format!("{scheme}creativecommons.org/{path}{suffix}")
}

/// The license policy of a site, drawn from its traits stream `rng`.
pub(crate) fn site_policy(rng: &mut Rng, lang: Lang, site_name: &str, year: i64) -> LicenseMarkup {
    let style = rng.weighted(&[0.60, 0.13, 0.04, 0.07, 0.05, 0.07, 0.04]);
    let ports: Vec<_> = CC_PORTS.iter().filter(|p| p.0 == lang).collect();
    let (spdx, path, name) = if !ports.is_empty() && rng.chance(0.35) {
        let p = rng.pick(&ports);
        (p.1, p.2, p.3)
    } else {
        let c = rng.pick(CC);
        (c.0, c.1, c.2)
    };
    let url = cc_url(rng, path, lang);
    let ui = &lang.lexicon().ui;
    let badge_img = format!(
        "<img alt=\"Creative Commons License\" style=\"border-width:0\" src=\"https://i.creativecommons.org/{}88x31.png\" />",
        path.replace("licenses/", "l/").replace("publicdomain/zero/", "p/zero/")
    );
    let mut m = LicenseMarkup {
        markup: "none",
        ..Default::default()
    };
    match style {
        1 => {
            m.spdx = Some(spdx);
            m.markup = "rel_license_a";
            m.footer = format!(
                "<p class=\"license\"><a rel=\"license\" href=\"{url}\">{badge_img}</a><br />{} <a rel=\"license\" href=\"{url}\">Creative Commons {name}</a>.</p>",
                ui.licensed_under
            );
        }
        2 => {
            m.spdx = Some(spdx);
            m.markup = "rel_license_link";
            m.head = format!("<link rel=\"license\" href=\"{url}\">\n");
        }
        3 => {
            m.spdx = Some(spdx);
            m.markup = "cc_badge";
            m.footer = format!(
                "<div class=\"cc-badge\"><a href=\"{url}\" target=\"_blank\">{badge_img}</a> {} Creative Commons {name}.</div>",
                ui.licensed_under
            );
        }
        4 => {
            m.spdx = Some(spdx);
            m.markup = "json_ld";
            m.json_ld = Some(
                url.trim_start_matches("//")
                    .replace("http://creativecommons", "https://creativecommons"),
            );
            if let Some(u) = &m.json_ld {
                if !u.starts_with("http") {
                    m.json_ld = Some(format!("https://{u}"));
                }
            }
        }
        5 => {
            m.spdx = Some(ALL_RIGHTS_RESERVED);
            m.markup = "dc_rights";
            m.head = format!(
                "<meta name=\"dc.rights\" content=\"Copyright {year} {site_name}. {}\">\n",
                ui.rights
            );
        }
        6 => {
            m.markup = "cc_mention";
            m.footer = "<p class=\"support\">We support open culture: <a href=\"https://creativecommons.org/about/\">Creative Commons</a> · <a href=\"https://creativecommons.org/licenses/\">About CC licenses</a></p>"
                .to_string();
        }
        _ => {}
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_cover_every_markup_and_carry_spdx_ids() {
        let mut seen = std::collections::BTreeSet::new();
        for s in 0..2000 {
            let mut r = Rng::new(s);
            let lang = Lang::ALL[(s % 7) as usize];
            let m = site_policy(&mut r, lang, "Site", 2024);
            seen.insert(m.markup);
            match m.markup {
                "none" | "cc_mention" => assert!(m.spdx.is_none()),
                "json_ld" => assert!(m.json_ld.as_deref().unwrap().starts_with("http")),
                "rel_license_a" => assert!(m.footer.contains("rel=\"license\"")),
                "rel_license_link" => assert!(m.head.contains("rel=\"license\"")),
                "dc_rights" => assert_eq!(m.spdx, Some(ALL_RIGHTS_RESERVED)),
                _ => {}
            }
            if let Some(id) = m.spdx {
                assert!(id.starts_with("CC") || id.starts_with("LicenseRef-"));
            }
        }
        assert_eq!(seen.len(), 7, "{seen:?}");
    }
}
