//! Agreement with datatrove 0.10 on real documents.
//!
//! The golden file `tests/data/datatrove_reference.jsonl.gz` holds datatrove's verdicts (and the hash
//! of C4's rewritten text) for 961 real documents; `scripts/filters/datatrove_reference.py` made it.
//! This test runs our filters with default config on the same documents, prints the agreement table
//! and fails below 99.5% identical keep/drop per filter or 99% identical C4 text.

mod support;

use std::collections::HashMap;
use std::io::Read;

use quarry_corpus::{Document, Step, Verdict};
use quarry_filters::{C4Quality, FineWebQuality, GopherQuality, GopherRepetition};
use sha2::{Digest, Sha256};

fn golden() -> (serde_json::Value, HashMap<String, serde_json::Value>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/datatrove_reference.jsonl.gz"
    );
    let mut s = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut s)
        .unwrap();
    let mut lines = s.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let rows = lines
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["id"].as_str().unwrap().to_string(), v)
        })
        .collect();
    (header, rows)
}

fn reason(v: &Verdict) -> String {
    match v {
        Verdict::Keep => "keep".into(),
        Verdict::Drop(r) => r.to_string(),
    }
}

#[test]
fn verdicts_agree_with_datatrove_0_10() {
    let (header, gold) = golden();
    let docs = support::docs::load_docs();
    assert_eq!(
        docs.len() as u64,
        header["docs"].as_u64().unwrap(),
        "document set differs from the golden file"
    );
    let steps: Vec<Box<dyn Step>> = vec![
        Box::new(GopherRepetition::default()),
        Box::new(GopherQuality::default()),
        Box::new(C4Quality::default()),
        Box::new(FineWebQuality::default()),
    ];
    let mut same_keep = vec![0usize; steps.len()];
    let mut same_reason = vec![0usize; steps.len()];
    let mut disagreements: Vec<String> = Vec::new();
    let (mut c4_both_kept, mut c4_same_text) = (0usize, 0usize);
    for (id, text) in &docs {
        let g = gold
            .get(id)
            .unwrap_or_else(|| panic!("{id} missing from the golden file"));
        for (k, step) in steps.iter().enumerate() {
            let mut doc = Document::new(id.clone(), text.clone());
            let ours = reason(&step.process(&mut doc));
            let theirs = g[step.name()].as_str().unwrap();
            if (ours == "keep") == (theirs == "keep") {
                same_keep[k] += 1;
            } else {
                disagreements.push(format!(
                    "{:<18} {id}: ours {ours}, datatrove {theirs}",
                    step.name()
                ));
            }
            if ours == theirs {
                same_reason[k] += 1;
            }
            if step.name() == "c4_quality" && ours == "keep" && theirs == "keep" {
                c4_both_kept += 1;
                let h = hex::encode(Sha256::digest(doc.text.as_bytes()));
                if h[..16] == *g["c4_text_sha256"].as_str().unwrap() {
                    c4_same_text += 1;
                } else {
                    disagreements.push(format!("c4 text           {id}: rewritten text differs"));
                }
            }
        }
    }
    let n = docs.len() as f64;
    println!(
        "agreement with datatrove {} (spaCy {}) on {} real documents",
        header["datatrove"],
        header["spacy"],
        docs.len()
    );
    println!("| filter | same keep/drop | same reason |");
    println!("|---|---|---|");
    for (k, step) in steps.iter().enumerate() {
        println!(
            "| {} | {}/{} ({:.2}%) | {}/{} ({:.2}%) |",
            step.name(),
            same_keep[k],
            docs.len(),
            100.0 * same_keep[k] as f64 / n,
            same_reason[k],
            docs.len(),
            100.0 * same_reason[k] as f64 / n
        );
    }
    println!(
        "| c4_quality rewritten text | {c4_same_text}/{c4_both_kept} identical ({:.2}%) | |",
        100.0 * c4_same_text as f64 / c4_both_kept.max(1) as f64
    );
    for d in &disagreements {
        println!("  disagreement: {d}");
    }
    for (k, step) in steps.iter().enumerate() {
        assert!(
            same_keep[k] as f64 / n >= 0.995,
            "{}: keep/drop agreement below 99.5%",
            step.name()
        );
    }
    assert!(
        c4_same_text as f64 >= 0.99 * c4_both_kept as f64,
        "C4 rewritten text agreement below 99%"
    );
}
