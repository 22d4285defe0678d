//! `croissant.json`: MLCommons Croissant 1.0 JSON-LD for the release, with the Responsible-AI (RAI)
//! fields the data and manifests can fill.
//!
//! Every data file of the lineage is a `cr:FileObject` with its sha256 (text shards, raw inputs that are
//! on disk, dedup outputs, token shards, the tokenizer; run records such as manifests are left to
//! `lineage.json`, since their bytes hold run times); the text shards are also a `cr:FileSet` (a glob
//! relative to the card folder), and the `documents` `cr:RecordSet` maps each column of the Parquet
//! schema to a `cr:Field` read from that FileSet. mlcroissant resolves local paths against the folder
//! of `croissant.json`, and walks only below it, so the card folder must be an ancestor of the shards
//! for records to be readable (the layout `quarry build` writes).

use arrow_schema::{DataType, Schema};
use serde_json::{json, Map, Value};

use crate::card::CardContext;

/// The Croissant 1.0 JSON-LD context (as the specification and mlcroissant write it).
pub fn context() -> Value {
    json!({
        "@language": "en",
        "@vocab": "https://schema.org/",
        "citeAs": "cr:citeAs",
        "column": "cr:column",
        "conformsTo": "dct:conformsTo",
        "cr": "http://mlcommons.org/croissant/",
        "rai": "http://mlcommons.org/croissant/RAI/",
        "data": {"@id": "cr:data", "@type": "@json"},
        "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
        "dct": "http://purl.org/dc/terms/",
        "examples": {"@id": "cr:examples", "@type": "@json"},
        "extract": "cr:extract",
        "field": "cr:field",
        "fileProperty": "cr:fileProperty",
        "fileObject": "cr:fileObject",
        "fileSet": "cr:fileSet",
        "format": "cr:format",
        "includes": "cr:includes",
        "isLiveDataset": "cr:isLiveDataset",
        "jsonPath": "cr:jsonPath",
        "key": "cr:key",
        "md5": "cr:md5",
        "parentField": "cr:parentField",
        "path": "cr:path",
        "recordSet": "cr:recordSet",
        "references": "cr:references",
        "regex": "cr:regex",
        "repeated": "cr:repeated",
        "replace": "cr:replace",
        "sc": "https://schema.org/",
        "separator": "cr:separator",
        "source": "cr:source",
        "subField": "cr:subField",
        "transform": "cr:transform"
    })
}

/// The schema.org data type of an Arrow column.
pub fn data_type(t: &DataType) -> &'static str {
    match t {
        DataType::Boolean => "sc:Boolean",
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => "sc:Integer",
        DataType::Float16 | DataType::Float32 | DataType::Float64 => "sc:Float",
        DataType::Date32 | DataType::Date64 => "sc:Date",
        DataType::Timestamp(..) => "sc:DateTime",
        _ => "sc:Text",
    }
}

/// What each column of `quarry-text/1` holds, for the field descriptions.
fn column_description(name: &str) -> &'static str {
    match name {
        "id" => "Stable document id: the WARC-Record-ID (urn:uuid:...) or the input's id.",
        "text" => "Extracted main text, one paragraph per line.",
        "url" => "WARC-Target-URI of the page.",
        "source_file" => "Input file the record was read from.",
        "source_offset" => "Offset of the record in that file (gzip member or byte offset, line, row).",
        "date" => "WARC-Date of the capture, ISO 8601.",
        "crawl" => "Crawl name, e.g. CC-MAIN-2024-22.",
        "content_type" => "MIME type of the HTTP payload.",
        "charset" => "Character set the text was decoded from.",
        "metadata" => "JSON object of stage metadata (language, scores, license, dedup cluster...), keys sorted.",
        _ => "Column of the text shards.",
    }
}

fn file_object(id: &str, path: &str, sha256: &str, bytes: u64, format: &str, desc: &str) -> Value {
    json!({
        "@type": "cr:FileObject",
        "@id": id,
        "name": id,
        "description": desc,
        "contentUrl": path,
        "contentSize": format!("{bytes} B"),
        "encodingFormat": format,
        "sha256": sha256,
    })
}

/// MIME type (or closest registered name) of a file by its name.
pub fn encoding_format(name: &str) -> &'static str {
    if name.ends_with(".parquet") {
        "application/x-parquet"
    } else if name.ends_with(".json") {
        "application/json"
    } else if name.ends_with(".jsonl")
        || name.ends_with(".jsonl.zst")
        || name.ends_with(".jsonl.gz")
    {
        "application/jsonlines"
    } else if name.ends_with(".warc.gz") || name.ends_with(".warc") {
        "application/warc"
    } else if name.ends_with(".txt") {
        "text/plain"
    } else if name.ends_with(".csv.gz") || name.ends_with(".gz") {
        "application/gzip"
    } else {
        "application/octet-stream"
    }
}

/// Builds the JSON-LD document.
pub fn croissant(cx: &CardContext, schema: &Schema) -> Value {
    let mut dist: Vec<Value> = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    for f in &cx.lineage.files {
        // Run records vary with wall time and memory from run to run; the card's README names them
        // by content digest and lineage.json by file digest, so the Croissant file (which needs the
        // file sha256) lists the data alone and stays reproducible.
        if !f.verifiable || f.is_run_record() || !used.insert(f.path.clone()) {
            continue;
        }
        let id = f.path.trim_start_matches("../").replace('/', "_");
        dist.push(file_object(
            &id,
            &f.path,
            &f.sha256,
            f.bytes,
            encoding_format(&f.path),
            &f.role_description(),
        ));
    }
    dist.push(json!({
        "@type": "cr:FileSet",
        "@id": "text-shards",
        "name": "text-shards",
        "description": format!("The {} Parquet text shards (schema quarry-text/1).", cx.stats.shards),
        "encodingFormat": "application/x-parquet",
        "includes": cx.shard_glob,
    }));
    let fields: Vec<Value> = schema
        .fields()
        .iter()
        .map(|f| {
            json!({
                "@type": "cr:Field",
                "@id": format!("documents/{}", f.name()),
                "name": f.name(),
                "description": column_description(f.name()),
                "dataType": data_type(f.data_type()),
                "source": {"fileSet": {"@id": "text-shards"}, "extract": {"column": f.name()}},
            })
        })
        .collect();
    let record_set = json!({
        "@type": "cr:RecordSet",
        "@id": "documents",
        "name": "documents",
        "description": format!("One record per document: {} documents.", cx.stats.documents),
        "key": {"@id": "documents/id"},
        "field": fields,
    });

    let mut m = Map::new();
    m.insert("@context".into(), context());
    m.insert("@type".into(), "sc:Dataset".into());
    m.insert(
        "conformsTo".into(),
        "http://mlcommons.org/croissant/1.0".into(),
    );
    m.insert("name".into(), cx.slug().into());
    m.insert("alternateName".into(), cx.pretty_name.clone().into());
    m.insert("description".into(), cx.summary().into());
    m.insert("license".into(), cx.license_url().into());
    m.insert("url".into(), cx.url().into());
    m.insert("version".into(), cx.options.version.clone().into());
    if let Some(d) = &cx.options.date {
        m.insert("datePublished".into(), d.clone().into());
    }
    m.insert("citeAs".into(), cx.bibtex().into());
    m.insert(
        "creator".into(),
        json!({"@type": "sc:Organization", "name": cx.options.creator.clone()}),
    );
    m.insert(
        "keywords".into(),
        json!([
            "pretraining",
            "web crawl",
            "Common Crawl",
            "language modeling",
            "quarry"
        ]),
    );
    m.insert("inLanguage".into(), json!(cx.language_codes()));
    m.insert("isAccessibleForFree".into(), true.into());
    for (k, v) in rai(cx) {
        m.insert(k, v);
    }
    m.insert("distribution".into(), Value::Array(dist));
    m.insert("recordSet".into(), json!([record_set]));
    Value::Object(m)
}

/// The RAI fields, filled from the statistics and manifests.
fn rai(cx: &CardContext) -> Vec<(String, Value)> {
    let s = &cx.stats;
    let mut v: Vec<(String, Value)> = Vec::new();
    v.push(("rai:dataCollection".into(), cx.collection_text().into()));
    v.push(("rai:dataCollectionType".into(), json!(["Web Scraping"])));
    v.push((
        "rai:dataCollectionRawData".into(),
        cx.raw_data_text().into(),
    ));
    if let Some((a, b)) = &s.date_range {
        v.push(("rai:dataCollectionTimeframe".into(), json!([a, b])));
    }
    v.push((
        "rai:dataCollectionMissingData".into(),
        cx.missing_data_text().into(),
    ));
    v.push((
        "rai:dataPreprocessingProtocol".into(),
        json!(cx.preprocessing_lines()),
    ));
    if let Some(t) = cx.pii_text() {
        v.push(("rai:dataManipulationProtocol".into(), t.clone().into()));
        v.push(("rai:personalSensitiveInformation".into(), json!([t])));
    } else {
        v.push((
            "rai:personalSensitiveInformation".into(),
            json!(["The recipe has no PII stage: e-mail addresses and IP addresses that appear in the pages are kept."]),
        ));
    }
    v.push(("rai:dataBiases".into(), json!(cx.bias_lines())));
    v.push(("rai:dataLimitations".into(), json!(cx.limitation_lines())));
    v.push((
        "rai:dataUseCases".into(),
        json!(["Pretraining and evaluating language models (text generation)."]),
    ));
    v.push((
        "rai:dataSocialImpact".into(),
        "Web text carries the views, errors and biases of its authors and of what the crawl reached; \
         models trained on it can reproduce them. The lineage (lineage.json) lets anyone re-derive and \
         audit every document from the raw crawl."
            .into(),
    ));
    v.push((
        "rai:dataReleaseMaintenancePlan".into(),
        cx.maintenance_text().into(),
    ));
    v
}
