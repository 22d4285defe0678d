//! The one text-shard schema of the project, for Parquet and JSONL.
//!
//! Parquet shards (`quarry-text/1`, recorded in the file's key-value metadata under `quarry.schema`):
//!
//! | column | type | null | meaning |
//! |---|---|---|---|
//! | `id` | utf8 | no | stable document id (WARC-Record-ID `urn:uuid:...`, or the input's id) |
//! | `text` | utf8 | no | extracted text, paragraphs separated by `\n` |
//! | `url` | utf8 | yes | `WARC-Target-URI` |
//! | `source_file` | utf8 | no | input file the record came from |
//! | `source_offset` | uint64 | no | record offset in that file (see [`crate::Provenance`]) |
//! | `date` | utf8 | yes | `WARC-Date`, ISO 8601 |
//! | `crawl` | utf8 | yes | crawl name, e.g. `CC-MAIN-2024-22` |
//! | `content_type` | utf8 | yes | MIME type of the payload |
//! | `charset` | utf8 | yes | character set the text was decoded from |
//! | `metadata` | utf8 | no | JSON object of stage metadata (language, scores, license, dedup cluster, ...), keys sorted |
//!
//! JSONL shards follow dolma's layout so dolma and datatrove tools read them:
//! `{"id", "text", "source", "added", "created", "metadata": {url, source_file, source_offset, crawl,
//! content_type, charset, ...stage metadata}}`, where `source` is the crawl name (or `quarry`),
//! `created` the WARC date, and `added` is left empty (`""`) because a timestamp of the run would
//! break byte-identical reruns.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};

use crate::document::{Document, MetaValue, Metadata, Provenance};

/// Name and version of the text-shard schema, stored in each Parquet file's metadata.
pub const TEXT_SCHEMA: &str = "quarry-text/1";

/// The Arrow schema of Parquet text shards.
pub fn arrow_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("url", DataType::Utf8, true),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("source_offset", DataType::UInt64, false),
        Field::new("date", DataType::Utf8, true),
        Field::new("crawl", DataType::Utf8, true),
        Field::new("content_type", DataType::Utf8, true),
        Field::new("charset", DataType::Utf8, true),
        Field::new("metadata", DataType::Utf8, false),
    ]))
}

/// Converts a JSON value into a metadata value (`null` becomes `None`).
pub fn meta_from_json(v: &serde_json::Value) -> Option<MetaValue> {
    use serde_json::Value as J;
    Some(match v {
        J::Null => return None,
        J::Bool(b) => MetaValue::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => MetaValue::Int(i),
            None => MetaValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => MetaValue::Str(s.clone()),
        J::Array(a) => MetaValue::List(a.iter().filter_map(meta_from_json).collect()),
        J::Object(o) => MetaValue::Map(
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), meta_from_json(v)?)))
                .collect(),
        ),
    })
}

/// The dolma-style JSON object of a document (see the module docs).
pub fn to_dolma_json(doc: &Document) -> serde_json::Value {
    let mut meta = serde_json::Map::new();
    if let Some(u) = &doc.url {
        meta.insert("url".into(), u.clone().into());
    }
    meta.insert("source_file".into(), doc.source.file.clone().into());
    meta.insert("source_offset".into(), doc.source.offset.into());
    for (k, v) in [
        ("crawl", &doc.crawl),
        ("content_type", &doc.content_type),
        ("charset", &doc.charset),
    ] {
        if let Some(v) = v {
            meta.insert(k.into(), v.clone().into());
        }
    }
    for (k, v) in &doc.metadata {
        meta.insert(
            k.clone(),
            serde_json::to_value(v).unwrap_or(serde_json::Value::Null),
        );
    }
    serde_json::json!({
        "id": doc.id,
        "text": doc.text,
        "source": doc.crawl.clone().unwrap_or_else(|| "quarry".to_string()),
        "added": "",
        "created": doc.date.clone().unwrap_or_default(),
        "metadata": meta,
    })
}

/// Reads a document from a JSON object in dolma's or datatrove's layout.
///
/// `id` may be a string or a number; the url is taken from `url` or `metadata.url`; the date from
/// `created`, `date`, `metadata.date` or `metadata.warc_date`. Every other `metadata` key (and
/// dolma's `attributes`, under `attributes`) lands in the metadata map. `fallback_id` is used when the
/// object has no id (datatrove's convention: file path plus position).
pub fn from_json_object(
    obj: &serde_json::Map<String, serde_json::Value>,
    text_key: &str,
    fallback_id: &str,
    source: Provenance,
) -> Result<Document, String> {
    use serde_json::Value as J;
    let text = match obj.get(text_key) {
        Some(J::String(s)) => s.clone(),
        Some(other) => {
            return Err(format!(
                "field `{text_key}` is not a string but {}",
                json_kind(other)
            ))
        }
        None => {
            let keys: Vec<&str> = obj.keys().map(|k| k.as_str()).collect();
            return Err(format!(
                "no `{text_key}` field; keys found: {}",
                keys.join(", ")
            ));
        }
    };
    let id = match obj.get("id") {
        Some(J::String(s)) => s.clone(),
        Some(J::Number(n)) => n.to_string(),
        _ => fallback_id.to_string(),
    };
    let mut doc = Document {
        id,
        text,
        source,
        ..Default::default()
    };
    let meta_obj = obj.get("metadata").and_then(|m| m.as_object());
    let get_str = |k: &str| -> Option<String> {
        obj.get(k)
            .and_then(|v| v.as_str())
            .or_else(|| meta_obj.and_then(|m| m.get(k)).and_then(|v| v.as_str()))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    doc.url = get_str("url");
    doc.date = get_str("created")
        .or_else(|| get_str("date"))
        .or_else(|| get_str("warc_date"));
    doc.crawl = get_str("crawl");
    doc.content_type = get_str("content_type");
    doc.charset = get_str("charset");
    if let Some(m) = meta_obj {
        let mut md = Metadata::new();
        for (k, v) in m {
            match k.as_str() {
                "url" | "crawl" | "content_type" | "charset" | "date" | "warc_date" => {}
                "source_file" | "source_offset" => {}
                _ => {
                    if let Some(mv) = meta_from_json(v) {
                        md.insert(k.clone(), mv);
                    }
                }
            }
        }
        doc.metadata = md;
    }
    // Shards we wrote keep the provenance of the original record, not of the shard.
    if let Some(m) = meta_obj {
        if let (Some(f), Some(o)) = (
            m.get("source_file").and_then(|v| v.as_str()),
            m.get("source_offset").and_then(|v| v.as_u64()),
        ) {
            doc.source = Provenance {
                file: f.to_string(),
                offset: o,
            };
        }
    }
    if let Some(src) = obj.get("source").and_then(|s| s.as_str()) {
        if doc.crawl.is_none() && src != "quarry" && !src.is_empty() {
            doc.metadata
                .insert("source".into(), MetaValue::Str(src.to_string()));
        }
    }
    if let Some(a) = obj.get("attributes").and_then(meta_from_json) {
        doc.metadata.insert("attributes".into(), a);
    }
    Ok(doc)
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dolma_round_trip() {
        let mut d = Document::new("urn:uuid:1", "Hello\nworld");
        d.url = Some("https://a.example/".into());
        d.crawl = Some("CC-MAIN-2024-22".into());
        d.date = Some("2024-05-18T01:58:10Z".into());
        d.source = Provenance {
            file: "x.warc.gz".into(),
            offset: 42,
        };
        d.set_meta("language", "en");
        d.set_meta("language_score", 0.97);
        let j = to_dolma_json(&d);
        let back =
            from_json_object(j.as_object().unwrap(), "text", "fallback", d.source.clone()).unwrap();
        assert_eq!(back.id, d.id);
        assert_eq!(back.text, d.text);
        assert_eq!(back.url, d.url);
        assert_eq!(back.crawl, d.crawl);
        assert_eq!(back.date, d.date);
        assert_eq!(back.metadata, d.metadata);
    }

    #[test]
    fn missing_text_names_the_keys_found() {
        let o = serde_json::json!({"id": 1, "content": "x"});
        let e = from_json_object(o.as_object().unwrap(), "text", "f", Provenance::default())
            .unwrap_err();
        assert!(
            e.contains("keys found: content, id") || e.contains("keys found: id, content"),
            "{e}"
        );
    }
}
