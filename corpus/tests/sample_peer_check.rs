//! Ties the committed peer check of the sample (fastText lid.176 + trafilatura, run by
//! `scripts/bench/check_sample.py`) to the current generator: if generation changes, the recorded
//! digest no longer matches and the check must be re-run and re-committed.

use quarry_corpus::sample::{generate, SampleConfig};
use sha2::{Digest, Sha256};

const GOLDEN: &str = include_str!("sample_peer_check.json");

#[test]
fn committed_peer_check_matches_the_generator_and_passes() {
    let golden: serde_json::Value = serde_json::from_str(GOLDEN).unwrap();
    let docs = golden["docs"].as_u64().unwrap() as usize;
    let mut h = Sha256::new();
    for p in generate(SampleConfig {
        docs,
        seed: 0,
        ..Default::default()
    }) {
        h.update(p.http_response_bytes());
    }
    assert_eq!(
        hex::encode(h.finalize()),
        golden["sample_sha256"].as_str().unwrap(),
        "the sample generator changed: re-run scripts/bench/check_sample.py (see its docstring) \
         and commit its JSON as corpus/tests/sample_peer_check.json"
    );
    for (lang, acc) in golden["lid_accuracy"].as_object().unwrap() {
        assert!(
            acc.as_f64().unwrap() >= 0.95,
            "lid.176 identifies only {acc} of {lang} pages"
        );
    }
    assert_eq!(golden["lid_accuracy"].as_object().unwrap().len(), 7);
    for (kind, share) in golden["extracted_share"].as_object().unwrap() {
        assert!(
            share.as_f64().unwrap() >= 0.95,
            "trafilatura finds text in only {share} of {kind} pages"
        );
    }
    assert!(golden["gopher_stopword_pass"].as_f64().unwrap() >= 0.95);
}
