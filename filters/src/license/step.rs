//! The `license` recipe stage.
//!
//! ```toml
//! [[step]]
//! type = "license"
//! keep = ["open"]          # classes and/or SPDX ids; absent = tag only, never drop
//! drop_opted_out = true    # default false
//! ```
//!
//! Reads `doc.raw` (headers + body); without a raw payload it audits `doc.text` (prose
//! declarations only can match there). Writes `license` (absent when none), `license_class`,
//! `license_findings`, `opt_out` and `opt_out_reasons`. Drops with `opted_out` (checked first)
//! or `license_not_allowed`. Opt-outs include those the crawler recorded in the metadata
//! (`robots_ai`, `tdm_reservation` from tdmrep.json; see [`super::optout::from_metadata`]).

use std::collections::BTreeMap;

use quarry_corpus::{Document, MetaValue, Step, StepError, Verdict};
use serde::Deserialize;

use super::spdx::LicenseClass;
use super::{audit_at, audit_bytes_at, Audit};

/// Recipe table of the `license` stage.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseStepConfig {
    /// Classes (`open`, `nc-nd`, `restricted`, `unknown`) or SPDX ids to keep; absent = keep all.
    pub keep: Option<Vec<String>>,
    /// Drop documents carrying any opt-out signal.
    #[serde(default)]
    pub drop_opted_out: bool,
}

/// The licence audit as a pipeline step.
#[derive(Debug, Clone)]
pub struct LicenseStep {
    keep_classes: Vec<LicenseClass>,
    keep_ids: Vec<String>,
    filter: bool,
    drop_opted_out: bool,
}

impl LicenseStep {
    /// Builds the step; unknown class names that do not look like SPDX ids are rejected.
    pub fn new(cfg: LicenseStepConfig) -> Result<Self, StepError> {
        let mut keep_classes = Vec::new();
        let mut keep_ids = Vec::new();
        let filter = cfg.keep.is_some();
        for k in cfg.keep.unwrap_or_default() {
            if let Some(c) = LicenseClass::parse(&k) {
                keep_classes.push(c);
            } else if k.starts_with("CC")
                || k.starts_with("LicenseRef-")
                || k.contains('-')
                || k.contains('.')
            {
                keep_ids.push(k);
            } else {
                return Err(StepError::Config {
                    step: "license".into(),
                    message: format!(
                        "keep: `{k}` is neither a class (open, nc-nd, restricted, unknown) nor an SPDX id"
                    ),
                });
            }
        }
        Ok(LicenseStep {
            keep_classes,
            keep_ids,
            filter,
            drop_opted_out: cfg.drop_opted_out,
        })
    }

    fn allowed(&self, a: &Audit) -> bool {
        if !self.filter {
            return true;
        }
        self.keep_classes.contains(&a.class)
            || a.license
                .as_ref()
                .is_some_and(|l| self.keep_ids.iter().any(|k| k == l))
    }
}

/// Writes an audit into a document's metadata.
pub fn annotate(doc: &mut Document, a: &Audit) {
    match &a.license {
        Some(l) => doc.set_meta("license", l.as_str()),
        None => {
            doc.metadata.remove("license");
        }
    }
    doc.set_meta("license_class", a.class.as_str());
    let findings = a
        .findings
        .iter()
        .map(|f| {
            let mut m = BTreeMap::new();
            m.insert("spdx".to_string(), MetaValue::from(f.spdx.as_str()));
            m.insert("source".to_string(), MetaValue::from(f.source.as_str()));
            m.insert("location".to_string(), MetaValue::from(f.location.as_str()));
            m.insert("evidence".to_string(), MetaValue::from(f.evidence.as_str()));
            m.insert("confidence".to_string(), MetaValue::from(f.confidence));
            MetaValue::Map(m)
        })
        .collect();
    doc.set_meta("license_findings", MetaValue::List(findings));
    doc.set_meta("opt_out", !a.opt_outs.is_empty());
    let mut reasons: Vec<&str> = a.opt_outs.iter().map(|o| o.reason).collect();
    reasons.sort_unstable();
    reasons.dedup();
    doc.set_meta(
        "opt_out_reasons",
        MetaValue::List(reasons.into_iter().map(MetaValue::from).collect()),
    );
}

impl Step for LicenseStep {
    fn name(&self) -> &str {
        "license"
    }

    fn process(&self, doc: &mut Document) -> Verdict {
        let mut a = match &doc.raw {
            Some(raw) => audit_bytes_at(&raw.http_headers, &raw.body, doc.url.as_deref()),
            None => audit_at(&[], &doc.text, doc.url.as_deref()),
        };
        // Site-level signals recorded by `quarry crawl` (robots.txt for AI crawlers, TDMRep).
        super::optout::from_metadata(&doc.metadata, &mut a.opt_outs);
        annotate(doc, &a);
        if self.drop_opted_out && !a.opt_outs.is_empty() {
            return Verdict::drop("opted_out");
        }
        if !self.allowed(&a) {
            return Verdict::drop("license_not_allowed");
        }
        Verdict::Keep
    }
}

/// Recipe factory.
pub fn build(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let cfg: LicenseStepConfig = quarry_corpus::step::table_into("license", table)?;
    Ok(Box::new(LicenseStep::new(cfg)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quarry_corpus::RawPayload;

    fn doc(headers: &[(&str, &str)], body: &str) -> Document {
        let mut d = Document::new("d", "");
        d.raw = Some(RawPayload {
            http_headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().into(),
        });
        d
    }

    fn step(toml_src: &str) -> Box<dyn Step> {
        build(&toml::from_str(toml_src).unwrap()).unwrap()
    }

    #[test]
    fn tags_without_dropping_by_default() {
        let s = step("");
        let mut d = doc(&[], r#"<meta name="copyright" content="ACME">"#);
        assert!(s.process(&mut d).is_keep());
        assert_eq!(
            d.meta("license").and_then(|v| v.as_str()),
            Some("LicenseRef-All-Rights-Reserved")
        );
        assert_eq!(
            d.meta("license_class").and_then(|v| v.as_str()),
            Some("restricted")
        );
        assert_eq!(d.meta("opt_out").and_then(|v| v.as_bool()), Some(false));
        let mut d = doc(&[], "<p>hello</p>");
        assert!(s.process(&mut d).is_keep());
        assert!(d.meta("license").is_none());
        assert_eq!(
            d.meta("license_class").and_then(|v| v.as_str()),
            Some("unknown")
        );
    }

    #[test]
    fn keep_and_opt_out_drop_with_named_reasons() {
        let s = step("keep = [\"open\", \"CC-BY-NC-4.0\"]\ndrop_opted_out = true");
        let open = r#"<a rel="license" href="https://creativecommons.org/licenses/by/4.0/">x</a>"#;
        let nc = r#"<a rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/">x</a>"#;
        let nd = r#"<a rel="license" href="https://creativecommons.org/licenses/by-nd/4.0/">x</a>"#;
        assert!(s.process(&mut doc(&[], open)).is_keep());
        assert!(s.process(&mut doc(&[], nc)).is_keep());
        assert_eq!(
            s.process(&mut doc(&[], nd)),
            Verdict::drop("license_not_allowed")
        );
        let mut d = doc(&[("X-Robots-Tag", "noai")], open);
        assert_eq!(s.process(&mut d), Verdict::drop("opted_out"));
        match d.meta("opt_out_reasons") {
            Some(MetaValue::List(l)) => assert_eq!(l, &vec![MetaValue::from("robots_noai")]),
            other => panic!("{other:?}"),
        }
        let f = match d.meta("license_findings") {
            Some(MetaValue::List(l)) => l.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(f.len(), 1);
    }

    #[test]
    fn config_is_strict() {
        let bad: toml::Table = toml::from_str("keep_open = true").unwrap();
        assert!(build(&bad).is_err());
        let bad: toml::Table = toml::from_str("keep = [\"opne\"]").unwrap();
        assert!(build(&bad).is_err());
    }

    #[test]
    fn crawler_robots_ai_metadata_is_an_opt_out() {
        let s = step("drop_opted_out = true");
        let mut d = doc(&[], "<p>hello</p>");
        d.set_meta(
            "robots_ai_disallow",
            MetaValue::List(vec![MetaValue::from("GPTBot")]),
        );
        assert_eq!(s.process(&mut d), Verdict::drop("opted_out"));
        match d.meta("opt_out_reasons") {
            Some(MetaValue::List(l)) => assert_eq!(l, &vec![MetaValue::from("robots_ai")]),
            other => panic!("{other:?}"),
        }
        let tag = step("");
        let mut d = doc(&[], "<p>hello</p>");
        assert!(tag.process(&mut d).is_keep());
        assert_eq!(d.meta("opt_out").and_then(|v| v.as_bool()), Some(false));
    }
}
