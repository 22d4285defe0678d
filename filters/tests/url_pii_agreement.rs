//! Agreement of `url_filter` and `pii` with datatrove 0.10's URLFilter and PIIFormatter on real data.
//!
//! `scripts/filters/url_pii_reference.py` wrote the reference files and the URL lists (drawn from
//! the real URLs so that every rule fires). Fails unless every URL verdict and every PII output is
//! identical.

mod support;

use quarry_corpus::{Document, Step};
use quarry_filters::{Pii, UrlFilter, UrlFilterConfig};
use sha2::{Digest, Sha256};

fn list(name: &str) -> Vec<String> {
    vec![format!(
        "{}/tests/data/url_lists/{name}",
        env!("CARGO_MANIFEST_DIR")
    )]
}

#[test]
fn url_filter_matches_datatrove_on_real_urls() {
    let f = UrlFilter::new(UrlFilterConfig {
        domains_files: list("domains.txt"),
        urls_files: list("urls.txt"),
        banned_words_files: list("banned_words.txt"),
        banned_subwords_files: list("banned_subwords.txt"),
        soft_banned_words_files: list("soft_banned_words.txt"),
        ..Default::default()
    })
    .unwrap();
    let reference = include_str!("data/url_filter_reference.tsv");
    let (mut n, mut same) = (0, 0);
    let mut by_reason = std::collections::BTreeMap::<String, usize>::new();
    for row in reference.lines().skip(1) {
        let (url, theirs) = row.split_once('\t').unwrap();
        let mut doc = Document::new(url, "");
        doc.url = Some(url.to_string());
        let ours = match f.process(&mut doc) {
            quarry_corpus::Verdict::Keep => "keep".to_string(),
            quarry_corpus::Verdict::Drop(r) => r.to_string(),
        };
        n += 1;
        *by_reason.entry(theirs.to_string()).or_default() += 1;
        if ours == theirs {
            same += 1;
        } else {
            println!("{url}: ours {ours}, datatrove {theirs}");
        }
    }
    println!("url_filter: {same}/{n} identical verdicts; datatrove's verdicts: {by_reason:?}");
    assert_eq!(same, n);
    assert!(
        by_reason.len() == 7,
        "every rule and keep must occur in the reference"
    );
}

#[test]
fn pii_matches_datatrove_on_real_documents() {
    let docs = support::docs::load_docs();
    let reference = include_str!("data/pii_reference.tsv");
    let expected: std::collections::HashMap<&str, &str> = reference
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once('\t'))
        .collect();
    let pii = Pii::default();
    let (mut same, mut changed) = (0, 0);
    for (id, text) in &docs {
        let mut doc = Document::new(id.clone(), text.clone());
        pii.process(&mut doc);
        if doc.text != *text {
            changed += 1;
        }
        let h = hex::encode(Sha256::digest(doc.text.as_bytes()));
        if h[..16] == *expected[id.as_str()] {
            same += 1;
        } else {
            println!("{id}: PII output differs");
        }
    }
    println!(
        "pii: {same}/{} identical outputs, {changed} documents rewritten",
        docs.len()
    );
    assert_eq!(same, docs.len());
    assert!(changed > 0);
}
