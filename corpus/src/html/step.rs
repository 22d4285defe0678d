//! The `extract` pipeline step: WARC payload → decoded, boilerplate-free text.

use serde::Deserialize;

use super::charset::decode_with_url;
use super::extract::{extract_with, ExtractOptions, Extractor, Focus};
use super::sniff::{classify, PayloadKind};
use crate::document::Document;
use crate::error::StepError;
use crate::step::{table_into, Step, Verdict};

/// Default cap on the HTML body size: 8 MiB, the same order as Common Crawl's per-record truncation
/// limit (1 MiB in older crawls, 5 MiB since 2025) with room to spare.
pub const DEFAULT_MAX_HTML_BYTES: usize = 8 * 1024 * 1024;

/// Recipe configuration of the `extract` step (`[[stages]] type = "extract"`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExtractConfig {
    /// `quarry` (own single-pass extractor) or `trafilatura` (the port, the reference).
    pub extractor: Extractor,
    /// Drop (`text_too_short`) when the extracted text has fewer characters than this. Default 0:
    /// only empty results are dropped (`empty_text`); length filters belong to the quality stage.
    pub min_text_chars: usize,
    /// Keep `doc.raw` after extraction (for a later license-audit stage that reads the HTML).
    pub keep_raw: bool,
    /// Bodies larger than this are dropped as `html_too_large` without being parsed.
    pub max_html_bytes: usize,
    /// Keep table text (one row per line, cells joined by ` | `).
    pub include_tables: bool,
    /// Keep user comments under the article.
    pub include_comments: bool,
    /// `balanced` (default), `precision` or `recall`.
    pub focus: Focus,
    /// Let the extractor compare with readability/jusText fallbacks (better recall, slower).
    pub fallback: bool,
}

impl Default for ExtractConfig {
    fn default() -> Self {
        let o = ExtractOptions::default();
        ExtractConfig {
            extractor: o.extractor,
            min_text_chars: 0,
            keep_raw: false,
            max_html_bytes: DEFAULT_MAX_HTML_BYTES,
            include_tables: o.include_tables,
            include_comments: o.include_comments,
            focus: o.focus,
            fallback: o.fallback,
        }
    }
}

/// The `extract` step: decodes `doc.raw` (charset from HTTP header, BOM, `<meta>`, detection),
/// extracts the main text, sets `doc.text`, `doc.charset` and `doc.metadata["title"]`, and drops the
/// raw payload unless `keep_raw`.
///
/// Documents without a raw payload but with text (WET, JSONL, Parquet input) pass through unchanged.
/// Drop reasons: `no_payload` (neither raw payload nor text), `html_too_large`, `not_text` (binary
/// payload), `extract_failed` (the HTML library panicked; caught), `empty_text`, `text_too_short`.
#[derive(Debug, Clone)]
pub struct Extract {
    config: ExtractConfig,
    options: ExtractOptions,
}

impl Extract {
    /// A step with this configuration.
    pub fn new(config: ExtractConfig) -> Self {
        let options = ExtractOptions {
            extractor: config.extractor,
            include_tables: config.include_tables,
            include_comments: config.include_comments,
            focus: config.focus,
            fallback: config.fallback,
        };
        Extract { config, options }
    }

    /// The configuration in use.
    pub fn config(&self) -> &ExtractConfig {
        &self.config
    }
}

impl Default for Extract {
    fn default() -> Self {
        Extract::new(ExtractConfig::default())
    }
}

/// Builds the `extract` step from its recipe table (unknown keys are an error).
pub fn extract_factory(table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
    let config: ExtractConfig = table_into("extract", table)?;
    if config.max_html_bytes == 0 {
        return Err(StepError::Config {
            step: "extract".into(),
            message: "`max_html_bytes` must be > 0".into(),
        });
    }
    Ok(Box::new(Extract::new(config)))
}

impl Step for Extract {
    fn name(&self) -> &str {
        "extract"
    }

    fn process(&self, doc: &mut Document) -> Verdict {
        let Some(raw) = doc.raw.as_ref() else {
            return if doc.text.is_empty() {
                Verdict::drop("no_payload")
            } else {
                Verdict::Keep
            };
        };
        let body = raw.body.clone();
        if body.len() > self.config.max_html_bytes {
            return self.finish_drop(doc, "html_too_large");
        }
        let header_ct = raw.header("content-type").map(str::to_string);
        let mime = doc.content_type.clone().or_else(|| header_ct.clone());
        let kind = classify(mime.as_deref(), &body);
        if kind == PayloadKind::Binary {
            return self.finish_drop(doc, "not_text");
        }
        let decoded = decode_with_url(&body, header_ct.as_deref(), doc.url.as_deref());
        let (text, title) = match kind {
            PayloadKind::PlainText => (plain_text(&decoded.text), None),
            _ => {
                let e = extract_with(&decoded.text, doc.url.as_deref(), &self.options);
                if e.failed {
                    return self.finish_drop(doc, "extract_failed");
                }
                (e.text, e.title)
            }
        };
        doc.charset = Some(decoded.charset.to_string());
        if let Some(t) = title {
            doc.set_meta("title", t);
        }
        doc.text = text;
        if !self.config.keep_raw {
            doc.raw = None;
        }
        if doc.text.is_empty() {
            return Verdict::drop("empty_text");
        }
        if self.config.min_text_chars > 0 && doc.text.chars().count() < self.config.min_text_chars {
            return Verdict::drop("text_too_short");
        }
        Verdict::Keep
    }
}

impl Extract {
    fn finish_drop(&self, doc: &mut Document, reason: &'static str) -> Verdict {
        if !self.config.keep_raw {
            doc.raw = None;
        }
        Verdict::drop(reason)
    }
}

/// A `text/plain` body: whitespace-collapsed lines, empty lines removed (the same line shape as
/// extracted HTML).
fn plain_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.lines() {
        let mut first = true;
        for w in line.split_whitespace() {
            if first {
                if !out.is_empty() {
                    out.push('\n');
                }
                first = false;
            } else {
                out.push(' ');
            }
            out.push_str(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::document::RawPayload;

    fn doc_with(body: &[u8], ct: Option<&str>) -> Document {
        let mut d = Document::new("id", "");
        d.url = Some("https://example.org/post".into());
        d.raw = Some(RawPayload {
            http_headers: ct
                .map(|c| vec![("Content-Type".to_string(), c.to_string())])
                .unwrap_or_default(),
            body: Arc::from(body),
        });
        d
    }

    fn article(p: &str) -> String {
        format!(
            "<html><head><title>T1</title></head><body><nav>Home | About</nav><article><h1>T1</h1>\
             <p>{p}</p><p>{p}</p></article><footer>© 2024 Footer Inc</footer></body></html>"
        )
    }

    #[test]
    fn extracts_decodes_and_drops_raw() {
        let p = "Ein schöner Tag in Köln, an dem die Straßenbahn pünktlich war und alle zufrieden waren.";
        let html = article(p);
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&html);
        let mut d = doc_with(&bytes, Some("text/html; charset=ISO-8859-1"));
        let s = Extract::default();
        assert_eq!(s.name(), "extract");
        assert_eq!(s.process(&mut d), Verdict::Keep);
        assert!(d.text.contains(p), "{}", d.text);
        assert!(!d.text.contains("Footer"));
        assert_eq!(d.charset.as_deref(), Some("windows-1252"));
        assert_eq!(d.meta("title").and_then(|m| m.as_str()), Some("T1"));
        assert!(d.raw.is_none());
    }

    #[test]
    fn keep_raw_and_min_chars() {
        let t: toml::Table = toml::from_str("keep_raw = true\nmin_text_chars = 100000").unwrap();
        let s = extract_factory(&t).unwrap();
        let mut d = doc_with(
            article("Short but real paragraph of text for the test.").as_bytes(),
            None,
        );
        assert_eq!(s.process(&mut d), Verdict::drop("text_too_short"));
        assert!(d.raw.is_some());
    }

    #[test]
    fn drop_reasons() {
        let s = Extract::default();
        let mut d = Document::new("x", "");
        assert_eq!(s.process(&mut d), Verdict::drop("no_payload"));
        let mut d = Document::new("x", "already text from WET");
        assert_eq!(s.process(&mut d), Verdict::Keep);
        assert_eq!(d.text, "already text from WET");
        let mut d = doc_with(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some("text/html"));
        assert_eq!(s.process(&mut d), Verdict::drop("not_text"));
        assert!(d.raw.is_none());
        let mut d = doc_with(
            b"<html><body><script>var a = 1;</script></body></html>",
            None,
        );
        assert_eq!(s.process(&mut d), Verdict::drop("empty_text"));
        let small = Extract::new(ExtractConfig {
            max_html_bytes: 10,
            ..Default::default()
        });
        let mut d = doc_with(article("x").as_bytes(), None);
        assert_eq!(small.process(&mut d), Verdict::drop("html_too_large"));
    }

    #[test]
    fn plain_text_payload() {
        let s = Extract::default();
        let mut d = doc_with(
            b"  first   line \r\n\r\nsecond line\n",
            Some("text/plain; charset=utf-8"),
        );
        assert_eq!(s.process(&mut d), Verdict::Keep);
        assert_eq!(d.text, "first line\nsecond line");
    }

    #[test]
    fn config_rejects_unknown_keys_and_zero_cap() {
        let t: toml::Table = toml::from_str("min_text_char = 3").unwrap();
        assert!(extract_factory(&t).is_err());
        let t: toml::Table = toml::from_str("max_html_bytes = 0").unwrap();
        assert!(extract_factory(&t).is_err());
        let t: toml::Table =
            toml::from_str("focus = \"precision\"\ninclude_tables = false").unwrap();
        assert!(extract_factory(&t).is_ok());
        let t: toml::Table = toml::from_str("focus = \"sloppy\"").unwrap();
        assert!(extract_factory(&t).is_err());
    }
}
