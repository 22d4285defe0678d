//! Throughput of the WARC reader on real files concatenated many times (ignored by default; run in
//! release):
//!
//! ```text
//! QUARRY_TEST_DATA=/path/to/shared/data cargo test --release -p quarry-corpus --test warc_bench -- --ignored --nocapture
//! ```
//!
//! `scripts/warc_bench_warcio.py` times Python warcio on the same input for comparison (it rebuilds the
//! same concatenation from the same file list and repeat count).

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use quarry_corpus::warc::{DocumentReader, WarcOptions, WarcReader};
use quarry_corpus::ReadItem;

/// The files and repeat count; keep in sync with scripts/warc_bench_warcio.py.
const FILES: &[&str] = &[
    "commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
    "other/resiliparse_clueweb09-ja-quirk.warc.gz",
    "other/dolma_sample-0000.warc.gz",
    "other/dolma_sample-0001.warc.gz",
    "other/ukwa_sopa-wikipedia-homepage-2012.warc.gz",
    "commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.gz",
];
const REPEAT: usize = 100;

fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.unwrap())
}

#[test]
#[ignore = "benchmark; run in release with --ignored --nocapture"]
fn warc_reader_throughput() {
    let mut one = Vec::new();
    for f in FILES {
        one.extend(std::fs::read(data_dir().join("warc").join(f)).unwrap());
    }
    let gz: Vec<u8> = one.repeat(REPEAT);
    let mut plain = Vec::new();
    flate2::read::MultiGzDecoder::new(&gz[..])
        .read_to_end(&mut plain)
        .unwrap();

    println!("| input | MB in | MB decompressed | records | docs | s (best of 3) | MB/s (in) | MB/s (decompressed) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    // The floor: decompression alone, without any parsing.
    let (secs, n) = best_of(3, || {
        let mut sink = vec![0u8; 1 << 17];
        let mut d = flate2::read::MultiGzDecoder::new(&gz[..]);
        let mut n = 0usize;
        loop {
            match d.read(&mut sink) {
                Ok(0) | Err(_) => break n,
                Ok(k) => n += k,
            }
        }
    });
    assert_eq!(n, plain.len());
    row(
        "gzip, flate2 MultiGzDecoder only (no parsing)",
        gz.len(),
        plain.len(),
        0,
        0,
        secs,
    );
    for (label, bytes) in [("gzip per record", &gz), ("uncompressed", &plain)] {
        let (secs, records) = best_of(3, || {
            WarcReader::new(&bytes[..]).filter(|r| r.is_ok()).count()
        });
        row(
            &format!("{label}, raw records"),
            bytes.len(),
            plain.len(),
            records,
            0,
            secs,
        );
        let (secs, (records, docs)) = best_of(3, || {
            let (mut n, mut d) = (0, 0);
            for item in DocumentReader::new(&bytes[..], "bench", &WarcOptions::default()) {
                n += 1;
                if let ReadItem::Doc(_) = item {
                    d += 1;
                }
            }
            (n, d)
        });
        row(
            &format!("{label}, documents"),
            bytes.len(),
            plain.len(),
            records,
            docs,
            secs,
        );
    }
}

fn row(label: &str, input: usize, plain: usize, records: usize, docs: usize, secs: f64) {
    let mb = |b: usize| b as f64 / 1e6;
    println!(
        "| {label} | {:.1} | {:.1} | {records} | {docs} | {secs:.3} | {:.0} | {:.0} |",
        mb(input),
        mb(plain),
        mb(input) / secs,
        mb(plain) / secs
    );
}
