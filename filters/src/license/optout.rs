//! Opt-out signals: robots directives (`<meta name="robots">`, bot-specific robots metas and the
//! `X-Robots-Tag` header) carrying `noai`, `noimageai` or `noindex`, and TDMRep's
//! `tdm-reservation` (meta or header) set to `1`.
//!
//! For pages from `quarry crawl`, [`from_metadata`] adds the site-level signals the crawler
//! recorded: the site's robots.txt disallowing the page for AI crawlers (`robots_ai`) and its
//! `/.well-known/tdmrep.json` reserving TDM rights for the page (`tdm_reservation`).

/// One opt-out signal with the reason recorded in `opt_out_reasons`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct OptOut {
    /// `robots_noai`, `robots_noimageai`, `robots_noindex`, `tdm_reservation` or `robots_ai`.
    pub reason: &'static str,
    /// Where it was found: `meta:<name>`, `header:<name>`, `robots.txt:<agents>` or
    /// `tdmrep.json`.
    pub source: String,
}

/// Reasons from a robots directive list (`"noindex, noai"`, `"googlebot: noindex"`).
fn robots_reasons(content: &str, source: &str, out: &mut Vec<OptOut>) {
    let lower = content.to_ascii_lowercase();
    // X-Robots-Tag may prefix the directives with a user agent: `otherbot: noindex, nofollow`.
    for part in lower.split([',', ' ', ';']) {
        let token = part.rsplit(':').next().unwrap_or("").trim();
        let reason = match token {
            "noai" => "robots_noai",
            "noimageai" => "robots_noimageai",
            "noindex" | "none" => "robots_noindex",
            _ => continue,
        };
        if !out.iter().any(|o| o.reason == reason && o.source == source) {
            out.push(OptOut {
                reason,
                source: source.to_string(),
            });
        }
    }
}

/// Signals carried by a `<meta name=… content=…>`; `name` is lower-cased by the caller.
pub fn from_meta(name: &str, content: &str, out: &mut Vec<OptOut>) {
    if name == "tdm-reservation" {
        if content.trim() == "1" {
            out.push(OptOut {
                reason: "tdm_reservation",
                source: format!("meta:{name}"),
            });
        }
    } else if name == "robots" || name.ends_with("bot") {
        robots_reasons(content, &format!("meta:{name}"), out);
    }
}

/// Signals carried by the HTTP response headers.
pub fn from_headers(headers: &[(String, String)], out: &mut Vec<OptOut>) {
    for (name, value) in headers {
        let lname = name.to_ascii_lowercase();
        match lname.as_str() {
            "x-robots-tag" => robots_reasons(value, "header:x-robots-tag", out),
            "tdm-reservation" if value.trim() == "1" => out.push(OptOut {
                reason: "tdm_reservation",
                source: "header:tdm-reservation".into(),
            }),
            _ => {}
        }
    }
}

/// Signals the crawler recorded in the document metadata (`robots_ai_disallow`: the AI user agents
/// the site's robots.txt disallows for this page; `tdm_reservation`: its tdmrep.json reserves TDM
/// rights for this page).
pub fn from_metadata(meta: &quarry_corpus::Metadata, out: &mut Vec<OptOut>) {
    if let Some(quarry_corpus::MetaValue::List(agents)) = meta.get("robots_ai_disallow") {
        let names: Vec<&str> = agents.iter().filter_map(|a| a.as_str()).collect();
        if !names.is_empty() {
            out.push(OptOut {
                reason: "robots_ai",
                source: format!("robots.txt:{}", names.join(",")),
            });
        }
    }
    if meta.get("tdm_reservation").and_then(|v| v.as_bool()) == Some(true)
        && !out
            .iter()
            .any(|o| o.reason == "tdm_reservation" && o.source == "tdmrep.json")
    {
        out.push(OptOut {
            reason: "tdm_reservation",
            source: "tdmrep.json".into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_and_tdm_signals() {
        let mut out = Vec::new();
        from_meta("robots", "index, follow", &mut out);
        assert!(out.is_empty());
        from_meta("robots", "noai, noimageai", &mut out);
        from_meta("tdm-reservation", "0", &mut out);
        from_meta("tdm-reservation", " 1 ", &mut out);
        from_meta("description", "noai", &mut out);
        let r: Vec<_> = out.iter().map(|o| o.reason).collect();
        assert_eq!(r, ["robots_noai", "robots_noimageai", "tdm_reservation"]);

        let mut out = Vec::new();
        let h = vec![
            (
                "X-Robots-Tag".to_string(),
                "googlebot: noindex, nofollow".to_string(),
            ),
            ("TDM-Reservation".to_string(), "1".to_string()),
            ("Content-Type".to_string(), "text/html".to_string()),
        ];
        from_headers(&h, &mut out);
        let r: Vec<_> = out.iter().map(|o| o.reason).collect();
        assert_eq!(r, ["robots_noindex", "tdm_reservation"]);
        assert_eq!(out[0].source, "header:x-robots-tag");
    }

    #[test]
    fn crawler_metadata_signals() {
        use quarry_corpus::MetaValue;
        let mut meta = quarry_corpus::Metadata::new();
        let mut out = Vec::new();
        from_metadata(&meta, &mut out);
        assert!(out.is_empty());
        meta.insert(
            "robots_ai_disallow".into(),
            MetaValue::List(vec!["GPTBot".into(), "CCBot".into()]),
        );
        meta.insert("tdm_reservation".into(), MetaValue::from(true));
        from_metadata(&meta, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].reason, "robots_ai");
        assert_eq!(out[0].source, "robots.txt:GPTBot,CCBot");
        assert_eq!(out[1].reason, "tdm_reservation");
        assert_eq!(out[1].source, "tdmrep.json");
    }
}
