//! The WARC reader on every real file in the test-data kit: document counts, skip counts by reason
//! and errors must match the record tables of `shared/data/README.md`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use quarry_corpus::warc::{read_documents, WarcOptions, WarcReader};
use quarry_corpus::{Document, ReadItem};

fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

fn path(rel: &str) -> PathBuf {
    data_dir().join("warc").join(rel)
}

struct Outcome {
    docs: Vec<Document>,
    skipped: BTreeMap<&'static str, usize>,
    errors: Vec<(u64, String)>,
}

fn read(rel: &str, opts: &WarcOptions) -> Outcome {
    let p = path(rel);
    let f = std::fs::File::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut out = Outcome {
        docs: Vec::new(),
        skipped: BTreeMap::new(),
        errors: Vec::new(),
    };
    for item in read_documents(Box::new(f), rel, opts) {
        match item {
            ReadItem::Doc(d) => out.docs.push(d),
            ReadItem::Skipped { reason, .. } => *out.skipped.entry(reason).or_default() += 1,
            ReadItem::Error(e) => {
                assert_eq!(e.file, rel);
                out.errors.push((e.offset, e.message));
            }
        }
    }
    out
}

fn summary(o: &Outcome) -> String {
    format!(
        "docs {} skipped {:?} errors {:?}",
        o.docs.len(),
        o.skipped,
        o.errors
    )
}

fn record_types(rel: &str) -> BTreeMap<String, usize> {
    let f = std::fs::File::open(path(rel)).unwrap();
    let mut m = BTreeMap::new();
    for r in WarcReader::new(f) {
        let r = r.unwrap_or_else(|e| panic!("{rel}: {e}"));
        *m.entry(r.headers.get("WARC-Type").unwrap_or("").to_string())
            .or_default() += 1;
    }
    m
}

#[test]
fn print_all() {
    for dir in ["commoncrawl", "other", "malformed"] {
        let mut files: Vec<_> = std::fs::read_dir(data_dir().join("warc").join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        for f in files {
            let rel = format!("{dir}/{f}");
            let o = read(&rel, &WarcOptions::default());
            eprintln!("{rel}: {}", summary(&o));
            let _ = record_types;
        }
    }
}
