//! One streaming pass over Parquet text shards: the document-level statistics of the card.
//!
//! Each shard is read with arrow-rs's Parquet reader, only the columns the statistics need
//! (a projection mask: `text`, `url`, `date`, `crawl`, `content_type`, `charset`, `metadata`), one
//! record batch at a time, so memory is bounded by the batch size and by the summaries of
//! [`crate::sketch`], never by the corpus. Shards are scanned in parallel, a few at a time, and their
//! summaries merged in shard order, so the result does not depend on thread timing.
//!
//! Why not polars: its lazy scans would do the same aggregation, but it adds about 9 minutes to a
//! clean build on two cores (measured, `/work/shared/CRATES.md`) and duplicates arrow-rs, which the
//! project already has; the statistics here are one pass of counts and histograms, which a plain
//! batch loop does at the speed of Parquet decoding.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use serde::Serialize;

use crate::sketch::{CappedCounts, HeavyHitter, Histogram, TopK};
use crate::CardError;

/// Rows per record batch: bounds memory (a batch of long documents is a few MB).
pub const BATCH_ROWS: usize = 1024;
/// Most distinct values counted exactly per string column or metadata key.
pub const VALUE_CAP: usize = 10_000;
/// Domains tracked by the Space-Saving table (exact while fewer distinct domains are seen).
pub const DOMAIN_CAP: usize = 100_000;
/// Most metadata keys summarised (later new keys are only counted in `metadata_keys_over_cap`).
pub const KEY_CAP: usize = 512;

const COLUMNS: [&str; 7] = [
    "text",
    "url",
    "date",
    "crawl",
    "content_type",
    "charset",
    "metadata",
];

/// What one metadata key holds over the documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyStats {
    /// Documents that have the key.
    pub present: u64,
    /// Boolean values: `[false, true]` counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bools: Option<[u64; 2]>,
    /// Numeric values (scores: 20 buckets over [0, 1]; other numbers: log-linear buckets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub numbers: Option<Histogram>,
    /// String values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strings: Option<CappedCounts>,
    /// Lists and objects (counted, not summarised).
    pub structured: u64,
}

impl KeyStats {
    fn new() -> Self {
        KeyStats {
            present: 0,
            bools: None,
            numbers: None,
            strings: None,
            structured: 0,
        }
    }
    fn add(&mut self, key: &str, v: &serde_json::Value) {
        use serde_json::Value as J;
        self.present += 1;
        match v {
            J::Bool(b) => self.bools.get_or_insert([0, 0])[usize::from(*b)] += 1,
            J::Number(n) => self
                .numbers
                .get_or_insert_with(|| number_histogram(key))
                .add(n.as_f64().unwrap_or(f64::NAN)),
            J::String(s) => self
                .strings
                .get_or_insert_with(|| CappedCounts::new(VALUE_CAP))
                .add(s, 1),
            J::Null => self.present -= 1,
            J::Array(_) | J::Object(_) => self.structured += 1,
        }
    }
    fn merge(&mut self, o: &KeyStats) {
        self.present += o.present;
        self.structured += o.structured;
        if let Some(b) = o.bools {
            let a = self.bools.get_or_insert([0, 0]);
            a[0] += b[0];
            a[1] += b[1];
        }
        if let Some(h) = &o.numbers {
            match &mut self.numbers {
                Some(a) => a.merge(h),
                None => self.numbers = Some(h.clone()),
            }
        }
        if let Some(c) = &o.strings {
            match &mut self.strings {
                Some(a) => a.merge(c),
                None => self.strings = Some(c.clone()),
            }
        }
    }
}

/// Whether a metadata key holds a score in [0, 1] (`language_score`, `quality_score`, ...).
pub fn is_score_key(key: &str) -> bool {
    key.ends_with("score") || key.ends_with("_prob") || key.ends_with("_probability")
}

fn number_histogram(key: &str) -> Histogram {
    if is_score_key(key) {
        Histogram::linear(0.0, 1.0, 20)
    } else {
        Histogram::log2()
    }
}

/// The document-level statistics of a set of text shards.
#[derive(Debug, Clone)]
pub struct TextStats {
    /// Documents.
    pub documents: u64,
    /// Unicode characters of `text`.
    pub chars: u64,
    /// UTF-8 bytes of `text`.
    pub bytes: u64,
    /// Whitespace-separated words.
    pub words: u64,
    /// Characters per document.
    pub chars_hist: Histogram,
    /// Words per document.
    pub words_hist: Histogram,
    /// Documents per `crawl` (`(none)` when null).
    pub crawl: CappedCounts,
    /// Documents per `content_type`.
    pub content_type: CappedCounts,
    /// Documents per `charset`.
    pub charset: CappedCounts,
    /// Documents per month of `date` (`YYYY-MM`).
    pub months: CappedCounts,
    /// Earliest `date`.
    pub date_min: Option<String>,
    /// Latest `date`.
    pub date_max: Option<String>,
    /// Documents without a URL.
    pub no_url: u64,
    /// Documents per domain (host without `www.`).
    pub domains: TopK,
    /// Characters per value of the `language` metadata key.
    pub chars_by_language: CappedCounts,
    /// Per metadata key.
    pub metadata: BTreeMap<String, KeyStats>,
    /// Occurrences of metadata keys beyond [`KEY_CAP`] distinct keys.
    pub metadata_keys_over_cap: u64,
    /// Documents whose `metadata` was not a JSON object.
    pub bad_metadata: u64,
}

impl Default for TextStats {
    fn default() -> Self {
        TextStats {
            documents: 0,
            chars: 0,
            bytes: 0,
            words: 0,
            chars_hist: Histogram::log2(),
            words_hist: Histogram::log2(),
            crawl: CappedCounts::new(VALUE_CAP),
            content_type: CappedCounts::new(VALUE_CAP),
            charset: CappedCounts::new(VALUE_CAP),
            months: CappedCounts::new(VALUE_CAP),
            date_min: None,
            date_max: None,
            no_url: 0,
            domains: TopK::new(DOMAIN_CAP),
            chars_by_language: CappedCounts::new(VALUE_CAP),
            metadata: BTreeMap::new(),
            metadata_keys_over_cap: 0,
            bad_metadata: 0,
        }
    }
}

/// The host of a URL, lower-cased, without `www.`, port or user info (`None` when there is none).
/// Registered domains would need the public-suffix list; hosts are what the statistics report.
pub fn domain_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host_port = rest.split(['/', '?', '#']).next()?;
    let host_port = host_port.rsplit_once('@').map_or(host_port, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next()?
    } else {
        host_port.split(':').next()?
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    (!host.is_empty()).then_some(host)
}

impl TextStats {
    /// Adds another shard's statistics (call in shard order).
    pub fn merge(&mut self, o: &TextStats) {
        self.documents += o.documents;
        self.chars += o.chars;
        self.bytes += o.bytes;
        self.words += o.words;
        self.chars_hist.merge(&o.chars_hist);
        self.words_hist.merge(&o.words_hist);
        self.crawl.merge(&o.crawl);
        self.content_type.merge(&o.content_type);
        self.charset.merge(&o.charset);
        self.months.merge(&o.months);
        self.date_min = min_opt(self.date_min.take(), o.date_min.clone(), true);
        self.date_max = min_opt(self.date_max.take(), o.date_max.clone(), false);
        self.no_url += o.no_url;
        self.domains.merge(&o.domains);
        self.chars_by_language.merge(&o.chars_by_language);
        for (k, v) in &o.metadata {
            if let Some(a) = self.metadata.get_mut(k) {
                a.merge(v);
            } else if self.metadata.len() < KEY_CAP {
                self.metadata.insert(k.clone(), v.clone());
            } else {
                self.metadata_keys_over_cap += v.present;
            }
        }
        self.metadata_keys_over_cap += o.metadata_keys_over_cap;
        self.bad_metadata += o.bad_metadata;
    }

    fn add_batch(&mut self, b: &RecordBatch, file: &Path) -> Result<(), CardError> {
        let text = string_col(b, "text").ok_or_else(|| CardError::Format {
            path: file.to_path_buf(),
            message: "no utf8 `text` column".into(),
        })?;
        let (url, date, crawl) = (
            string_col(b, "url"),
            string_col(b, "date"),
            string_col(b, "crawl"),
        );
        let (ctype, charset, meta) = (
            string_col(b, "content_type"),
            string_col(b, "charset"),
            string_col(b, "metadata"),
        );
        // Per-batch pre-aggregation of domains: one Space-Saving update per distinct domain.
        let mut batch_domains: BTreeMap<String, u64> = BTreeMap::new();
        for i in 0..b.num_rows() {
            if text.is_null(i) {
                continue;
            }
            let t = text.value(i);
            let chars = t.chars().count() as u64;
            let words = t.split_whitespace().count() as u64;
            self.documents += 1;
            self.chars += chars;
            self.bytes += t.len() as u64;
            self.words += words;
            self.chars_hist.add_u64(chars);
            self.words_hist.add_u64(words);
            self.crawl.add(opt_value(crawl, i).unwrap_or("(none)"), 1);
            self.content_type
                .add(opt_value(ctype, i).unwrap_or("(none)"), 1);
            self.charset
                .add(opt_value(charset, i).unwrap_or("(none)"), 1);
            if let Some(d) = opt_value(date, i) {
                self.months.add(d.get(..7).unwrap_or(d), 1);
                if self.date_min.as_deref().is_none_or(|m| d < m) {
                    self.date_min = Some(d.to_string());
                }
                if self.date_max.as_deref().is_none_or(|m| d > m) {
                    self.date_max = Some(d.to_string());
                }
            } else {
                self.months.add("(none)", 1);
            }
            match opt_value(url, i).and_then(domain_of) {
                Some(d) => *batch_domains.entry(d).or_default() += 1,
                None => self.no_url += 1,
            }
            let mut language = None;
            if let Some(m) = opt_value(meta, i) {
                match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(m) {
                    Ok(obj) => {
                        for (k, v) in &obj {
                            if let Some(ks) = self.metadata.get_mut(k) {
                                ks.add(k, v);
                            } else if self.metadata.len() < KEY_CAP {
                                let mut ks = KeyStats::new();
                                ks.add(k, v);
                                self.metadata.insert(k.clone(), ks);
                            } else {
                                self.metadata_keys_over_cap += 1;
                            }
                        }
                        language = obj
                            .get("language")
                            .and_then(|v| v.as_str())
                            .map(str::to_string);
                    }
                    Err(_) => self.bad_metadata += 1,
                }
            }
            self.chars_by_language
                .add(language.as_deref().unwrap_or("(none)"), chars);
        }
        for (d, n) in &batch_domains {
            self.domains.add(d, *n);
        }
        Ok(())
    }

    /// The `k` most frequent domains with their error bounds.
    pub fn top_domains(&self, k: usize) -> Vec<HeavyHitter> {
        self.domains.top(k)
    }
}

fn min_opt(a: Option<String>, b: Option<String>, min: bool) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if (a <= b) == min { a } else { b }),
        (a, b) => a.or(b),
    }
}

fn string_col<'a>(b: &'a RecordBatch, name: &str) -> Option<&'a StringArray> {
    let c = b.column_by_name(name)?;
    (c.data_type() == &DataType::Utf8).then(|| c.as_string::<i32>())
}

fn opt_value(c: Option<&StringArray>, i: usize) -> Option<&str> {
    c.filter(|c| !c.is_null(i)).map(|c| c.value(i))
}

/// Scans one Parquet shard: its statistics and its row count.
pub fn scan_shard(path: &Path) -> Result<TextStats, CardError> {
    let f = File::open(path).map_err(|e| CardError::io(path, e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| CardError::Format {
        path: path.to_path_buf(),
        message: format!("not a readable Parquet file: {e}"),
    })?;
    let wanted: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| COLUMNS.contains(&f.name().as_str()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), wanted);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| CardError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let mut st = TextStats::default();
    for batch in reader {
        let batch = batch.map_err(|e| CardError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        st.add_batch(&batch, path)?;
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quarry_corpus::write::{OutputFormat, RollingWriter};
    use quarry_corpus::Document;

    #[test]
    fn domains_are_hosts_without_www_port_or_user() {
        assert_eq!(
            domain_of("https://www.Example.com:8080/a?b").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            domain_of("http://user:pw@sub.example.org/x").as_deref(),
            Some("sub.example.org")
        );
        assert_eq!(domain_of("http://[::1]:80/").as_deref(), Some("[::1]"));
        assert_eq!(domain_of("https:///nohost"), None);
        assert_eq!(
            domain_of("example.net/path").as_deref(),
            Some("example.net")
        );
    }

    fn doc(i: usize, lang: &str, text: &str) -> Document {
        let mut d = Document::new(format!("id-{i}"), text);
        d.url = Some(format!("https://www.site{}.example/p{i}", i % 3));
        d.crawl = Some("CC-MAIN-2024-22".into());
        d.date = Some(format!("2024-0{}-18T01:58:10Z", 4 + i % 2));
        d.set_meta("language", lang);
        d.set_meta("language_score", 0.5 + (i % 5) as f64 / 10.0);
        d.set_meta("opt_out", i.is_multiple_of(4));
        d.set_meta("pii_emails", i as i64);
        d
    }

    #[test]
    fn scan_counts_every_document_and_value() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = RollingWriter::new(dir.path(), "part", 0, OutputFormat::Parquet, 1 << 30);
        let docs: Vec<Document> = (0..2500)
            .map(|i| {
                doc(
                    i,
                    if i % 3 == 0 { "de" } else { "en" },
                    &"wörd ".repeat(1 + i % 40),
                )
            })
            .collect();
        for d in &docs {
            w.write(d).unwrap();
        }
        let shards = w.finish().unwrap();
        let st = scan_shard(Path::new(&shards[0].path)).unwrap();
        assert_eq!(st.documents, 2500);
        let chars: u64 = docs.iter().map(|d| d.text.chars().count() as u64).sum();
        let bytes: u64 = docs.iter().map(|d| d.text.len() as u64).sum();
        assert_eq!((st.chars, st.bytes), (chars, bytes));
        assert_eq!(st.words, (0..2500u64).map(|i| 1 + i % 40).sum::<u64>());
        assert_eq!(st.chars_hist.count, 2500);
        assert_eq!(st.chars_hist.sum, chars as f64);
        let lang = st.metadata["language"].strings.as_ref().unwrap();
        assert_eq!(lang.values["de"], 834);
        assert_eq!(lang.values["en"], 1666);
        assert_eq!(st.metadata["opt_out"].bools, Some([1875, 625]));
        let score = st.metadata["language_score"].numbers.as_ref().unwrap();
        assert_eq!(score.count, 2500);
        assert!(matches!(score.scale, crate::sketch::Scale::Linear { .. }));
        assert!(matches!(
            st.metadata["pii_emails"].numbers.as_ref().unwrap().scale,
            crate::sketch::Scale::Log2
        ));
        assert_eq!(st.months.values["2024-04"], 1250);
        assert_eq!(st.date_min.as_deref(), Some("2024-04-18T01:58:10Z"));
        assert_eq!(st.domains.top(3).iter().map(|h| h.count).sum::<u64>(), 2500);
        assert!(st.domains.exact());
        assert_eq!(st.chars_by_language.total(), chars);
    }
}
