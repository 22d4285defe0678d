//! Feeds arbitrary bytes through charset decoding and quarry's own HTML extractor: it must not
//! panic, must be deterministic, and its lines must be non-blank and right-trimmed.
//!
//! Run: `cd corpus/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run html_extract -- -max_total_time=600`;
//! seed with the kit's pages: `mkdir -p corpus/html_extract && cp ../../../shared/data/html/*.html corpus/html_extract/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_corpus::html::{decode, extract_with, ExtractOptions, Extractor};

fuzz_target!(|data: &[u8]| {
    let d = decode(data, None);
    let opts = ExtractOptions {
        extractor: Extractor::Quarry,
        ..Default::default()
    };
    let a = extract_with(&d.text, None, &opts);
    assert!(!a.failed);
    assert!(a.text.lines().all(|l| !l.trim().is_empty() && l.trim_end() == l));
    assert_eq!(a, extract_with(&d.text, None, &opts));
});
