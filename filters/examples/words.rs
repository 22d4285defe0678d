//! Prints the words (and optionally sentence counts) our splitter finds for each document of a JSONL
//! file, one JSON object per line, so that `scripts/filters/compare_words.py` can diff them against
//! datatrove's `split_into_words`.
//!
//! Usage: cargo run -p quarry-filters --example words -- docs.jsonl [LANG] > ours.jsonl
//! (LANG: a language code for [`WordSplitter::for_language`], default English).

use std::io::{BufRead, Write};

use quarry_filters::WordSplitter;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: words <docs.jsonl> [LANG]")?;
    let splitter = std::env::args()
        .nth(2)
        .map_or(WordSplitter::English, |l| WordSplitter::for_language(&l));
    let reader = std::io::BufReader::new(std::fs::File::open(path)?);
    let out = std::io::stdout();
    let mut out = out.lock();
    for line in reader.lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        let text = v["text"].as_str().unwrap_or_default();
        let words = splitter.words(text);
        let obj = serde_json::json!({"id": v["id"], "words": words});
        writeln!(out, "{obj}")?;
    }
    Ok(())
}
