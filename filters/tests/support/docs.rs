//! The real documents the datatrove comparison runs on, rebuilt exactly as
//! `scripts/filters/datatrove_reference.py` builds them (shared by the agreement test and the bench).

#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

/// Speeches per tinyshakespeare chunk (blank-line separated), as in the Python script.
pub const SPEECHES_PER_CHUNK: usize = 40;

/// The shared test data folder: `$QUARRY_TEST_DATA`, else `shared/data` beside the repository
/// (also tried one level further up, for git worktrees kept in a sub-folder).
pub fn data_dir() -> PathBuf {
    if let Ok(p) = std::env::var("QUARRY_TEST_DATA") {
        return PathBuf::from(p);
    }
    let manifest = env!("CARGO_MANIFEST_DIR");
    for rel in ["/../../shared/data", "/../../../shared/data"] {
        let p = PathBuf::from(format!("{manifest}{rel}"));
        if p.join("text").is_dir() {
            return p;
        }
    }
    panic!("shared test data not found: set QUARRY_TEST_DATA to the shared/data folder");
}

/// (id, text) of every document: the 697 CC documents, tinyshakespeare chunks, Tatoeba groups.
pub fn load_docs() -> Vec<(String, String)> {
    let dir = data_dir().join("text");
    let mut docs = Vec::new();
    let dolma = std::fs::read_dir(&dir)
        .expect("read shared/data/text")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("dolma_cc-licensed-docs")
        })
        .expect("dolma CC docs file");
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(dolma).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    for line in s.lines().filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        docs.push((
            v["id"].as_str().unwrap().to_string(),
            v["text"].as_str().unwrap().to_string(),
        ));
    }
    let shakespeare = std::fs::read_to_string(dir.join("tinyshakespeare.txt")).unwrap();
    let speeches: Vec<&str> = shakespeare.split("\n\n").collect();
    for (k, chunk) in speeches.chunks(SPEECHES_PER_CHUNK).enumerate() {
        docs.push((format!("shakespeare-{k}"), chunk.join("\n\n")));
    }
    let tsv = std::fs::read_to_string(dir.join("tatoeba_long.cld2-sample.tsv")).unwrap();
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for line in tsv.split_inclusive('\n').skip(1) {
        let cols: Vec<&str> = line.trim_end_matches('\n').split('\t').collect();
        match groups.iter_mut().find(|(c, _)| c == cols[0]) {
            Some((_, v)) => v.push(cols[3].to_string()),
            None => groups.push((cols[0].to_string(), vec![cols[3].to_string()])),
        }
    }
    for (code, sents) in groups {
        docs.push((format!("tatoeba-{code}"), sents.join("\n")));
    }
    docs
}
