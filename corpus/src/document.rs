//! The [`Document`]: the one record type that flows through every quarry stage.
//!
//! A document is small on purpose (datatrove's idea): an id, the text, where it came from, and a typed
//! metadata map that later stages fill (language, quality scores, license, dedup cluster, ...). The raw
//! HTTP payload of a WARC record travels beside the text in [`Document::raw`] until extraction, so that
//! stages that need the HTML (extraction, the license audit) can see it; it is never written to shards.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One value of the typed metadata map.
///
/// Serialised untagged, so a metadata map reads as plain JSON: `{"language": "en", "language_score": 0.93}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MetaValue {
    /// A boolean flag (`opt_out: true`).
    Bool(bool),
    /// An integer count or id (`dedup_cluster_size: 3`).
    Int(i64),
    /// A score or ratio (`language_score: 0.93`).
    Float(f64),
    /// A label (`language: "en"`, `license: "CC-BY-4.0"`).
    Str(String),
    /// A list of labels or numbers.
    List(Vec<MetaValue>),
    /// A nested object (evidence records, per-filter verdicts).
    Map(BTreeMap<String, MetaValue>),
}

impl From<bool> for MetaValue {
    fn from(v: bool) -> Self {
        MetaValue::Bool(v)
    }
}
impl From<i64> for MetaValue {
    fn from(v: i64) -> Self {
        MetaValue::Int(v)
    }
}
impl From<u64> for MetaValue {
    fn from(v: u64) -> Self {
        MetaValue::Int(v as i64)
    }
}
impl From<usize> for MetaValue {
    fn from(v: usize) -> Self {
        MetaValue::Int(v as i64)
    }
}
impl From<f64> for MetaValue {
    fn from(v: f64) -> Self {
        MetaValue::Float(v)
    }
}
impl From<&str> for MetaValue {
    fn from(v: &str) -> Self {
        MetaValue::Str(v.to_string())
    }
}
impl From<String> for MetaValue {
    fn from(v: String) -> Self {
        MetaValue::Str(v)
    }
}

impl MetaValue {
    /// The string inside, if this is a [`MetaValue::Str`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            MetaValue::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The number inside as f64, if this is an int or a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            MetaValue::Float(f) => Some(*f),
            MetaValue::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
    /// The integer inside, if this is a [`MetaValue::Int`].
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            MetaValue::Int(i) => Some(*i),
            _ => None,
        }
    }
    /// The flag inside, if this is a [`MetaValue::Bool`].
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            MetaValue::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// The metadata map. A `BTreeMap` so that serialisation order, and so output bytes, are deterministic.
pub type Metadata = BTreeMap<String, MetaValue>;

/// Where a document came from: the input file and the byte offset of its record.
///
/// For gzip-per-record WARC the offset is that of the record's gzip member in the compressed file (what
/// Common Crawl's CDX index calls `offset`); for uncompressed input it is the record's first byte; for
/// JSONL it is the line number (0-based) and for Parquet the row number, since those formats have no
/// stable byte address per record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The input file's path or URL, as given to the reader.
    pub file: String,
    /// Byte offset (WARC), line number (JSONL) or row number (Parquet) of the record.
    pub offset: u64,
}

/// The raw HTTP payload of a WARC record, kept until extraction.
#[derive(Debug, Clone, Default)]
pub struct RawPayload {
    /// The HTTP response headers (name, value) in order, names as sent. Empty for `resource` records.
    pub http_headers: Vec<(String, String)>,
    /// The entity body after de-chunking and content-decoding (gzip/deflate/brotli).
    pub body: Arc<[u8]>,
}

impl RawPayload {
    /// The first HTTP header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.http_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A document: the unit every stage reads and writes.
#[derive(Debug, Clone, Default)]
pub struct Document {
    /// Stable id: the `WARC-Record-ID` for WARC input (without angle brackets), the given id for
    /// JSONL/Parquet input.
    pub id: String,
    /// The text. Empty for a WARC response record until an extraction stage fills it.
    pub text: String,
    /// The page's URL (`WARC-Target-URI`), when known.
    pub url: Option<String>,
    /// Input file and record offset.
    pub source: Provenance,
    /// `WARC-Date` (ISO 8601, as in the record), or the `created` date of JSONL input.
    pub date: Option<String>,
    /// Crawl name, e.g. `CC-MAIN-2024-22`, from the warcinfo record or the recipe.
    pub crawl: Option<String>,
    /// MIME type of the payload (`text/html`), without parameters.
    pub content_type: Option<String>,
    /// Character set the text was decoded from (`utf-8`, `gbk`, ...), once known.
    pub charset: Option<String>,
    /// Typed metadata that stages fill (language, scores, license, dedup cluster, ...).
    pub metadata: Metadata,
    /// The raw payload of a WARC record, until extraction drops it. Never written to shards.
    pub raw: Option<RawPayload>,
}

impl Document {
    /// A document with just an id and a text (tests, JSONL input).
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            text: text.into(),
            ..Default::default()
        }
    }

    /// Sets a metadata key, replacing any earlier value.
    pub fn set_meta(&mut self, key: impl Into<String>, value: impl Into<MetaValue>) {
        self.metadata.insert(key.into(), value.into());
    }

    /// A metadata value by key.
    pub fn meta(&self, key: &str) -> Option<&MetaValue> {
        self.metadata.get(key)
    }

    /// The raw payload bytes, if the document still carries them.
    pub fn raw_body(&self) -> Option<&[u8]> {
        self.raw.as_ref().map(|r| &r.body[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_serialises_as_plain_json_in_key_order() {
        let mut d = Document::new("a", "text");
        d.set_meta("z", 1i64);
        d.set_meta("a", "en");
        d.set_meta("m", 0.5);
        let j = serde_json::to_string(&d.metadata).unwrap();
        assert_eq!(j, r#"{"a":"en","m":0.5,"z":1}"#);
        let back: Metadata = serde_json::from_str(&j).unwrap();
        assert_eq!(back, d.metadata);
    }
}
