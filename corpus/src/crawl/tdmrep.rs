//! TDMRep site policies (`/.well-known/tdmrep.json`, W3C CG report): a JSON array of rules
//! `{"location": "/path/*", "tdm-reservation": 1, "tdm-policy": "https://..."}`.
//!
//! `location` is matched like a robots.txt path pattern (`*` wildcard, final `$` anchor); the first
//! matching rule applies, as the report specifies. A file that is not a JSON array of such objects
//! gives no rules (and the crawl counts it as invalid).

use serde::Deserialize;

use super::robots;

#[derive(Debug, Clone, Deserialize)]
struct RawRule {
    location: String,
    #[serde(rename = "tdm-reservation")]
    reservation: serde_json::Value,
    #[serde(rename = "tdm-policy", default)]
    policy: Option<String>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdmRule {
    pattern: Vec<u8>,
    anchored: bool,
    /// `tdm-reservation` is 1: rights reserved for text and data mining.
    pub reserved: bool,
    /// `tdm-policy` URL, if any.
    pub policy: Option<String>,
}

/// The rules of one site.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TdmRep {
    rules: Vec<TdmRule>,
}

impl TdmRep {
    /// Parses a tdmrep.json body; `None` when it is not a valid rule array.
    pub fn parse(body: &[u8]) -> Option<TdmRep> {
        let raw: Vec<RawRule> = serde_json::from_slice(body).ok()?;
        let rules = raw
            .into_iter()
            .map(|r| {
                let loc = if r.location.starts_with('/') || r.location.starts_with('*') {
                    r.location
                } else {
                    format!("/{}", r.location)
                };
                let mut pattern = robots::normalise(&loc);
                let anchored = pattern.last() == Some(&b'$');
                if anchored {
                    pattern.pop();
                }
                let reserved = match &r.reservation {
                    serde_json::Value::Number(n) => n.as_i64() == Some(1),
                    serde_json::Value::String(s) => s.trim() == "1",
                    serde_json::Value::Bool(b) => *b,
                    _ => false,
                };
                TdmRule {
                    pattern,
                    anchored,
                    reserved,
                    policy: r.policy,
                }
            })
            .collect();
        Some(TdmRep { rules })
    }

    /// The rule that applies to `path_and_query`, if any.
    pub fn rule_for(&self, path_and_query: &str) -> Option<&TdmRule> {
        let path = robots::normalise(path_and_query);
        self.rules
            .iter()
            .find(|r| robots::matches(&r.pattern, r.anchored, &path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_rule() {
        let t = TdmRep::parse(
            br#"[{"location":"/free/*","tdm-reservation":0},
                 {"location":"/*","tdm-reservation":1,"tdm-policy":"https://e.org/policy.json"}]"#,
        )
        .unwrap();
        assert!(!t.rule_for("/free/a").unwrap().reserved);
        let r = t.rule_for("/news/1").unwrap();
        assert!(r.reserved);
        assert_eq!(r.policy.as_deref(), Some("https://e.org/policy.json"));
        let t = TdmRep::parse(br#"[{"location":"news/*.html$","tdm-reservation":"1"}]"#).unwrap();
        assert!(t.rule_for("/news/a.html").unwrap().reserved);
        assert!(t.rule_for("/news/a.html?x").is_none());
        assert!(TdmRep::parse(b"<html>").is_none());
        assert!(TdmRep::parse(br#"{"location":"/"}"#).is_none());
    }
}
