//! Feeds arbitrary bytes (plain or gzip) to the WARC reader and the document reader: neither may
//! panic, and the number of items is bounded by the input size (no endless loop).
//!
//! Run: `cd corpus/fuzz && cargo +nightly fuzz run warc_reader -- -max_total_time=600`; seed the
//! corpus with the kit's files: `mkdir -p corpus/warc_reader && cp ../../../shared/data/warc/*/* corpus/warc_reader/`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_corpus::warc::{read_documents, WarcOptions, WarcReader};

fuzz_target!(|data: &[u8]| {
    let bound = 2 * data.len() + 4;
    let raw = WarcReader::with_max_record_bytes(data, 1 << 20).count();
    assert!(raw <= bound);
    let opts = WarcOptions {
        max_record_bytes: 1 << 20,
        metadata_records: true,
        ..Default::default()
    };
    let items = read_documents(Box::new(std::io::Cursor::new(data.to_vec())), "fuzz", &opts).count();
    assert!(items <= bound);
});
