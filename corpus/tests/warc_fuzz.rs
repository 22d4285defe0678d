//! Property test: the WARC reader on mutated real files (truncations, flipped bytes, garbage,
//! deletions, duplicated stretches, broken Content-Length values; on the gzip bytes and on the
//! decompressed bytes) never panics and always ends, with a bounded number of items.
//!
//! The default case count keeps CI fast; `QUARRY_FUZZ_CASES=200000` turns the same test into a long
//! fuzzing run. Files under `tests/data/warc-regressions/` (inputs that once broke the reader) are
//! read on every run.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use quarry_corpus::warc::{read_documents, WarcOptions, WarcReader};
use quarry_corpus::ReadItem;

const SEEDS: &[&str] = &[
    "other/warcio_example.warc",
    "other/warcio_example.warc.gz",
    "other/warcio_example-iana.org-chunked.warc",
    "commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.wet.gz",
    "commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.wat.gz",
    "commoncrawl/jwarc_cc.warc.gz",
    "other/resiliparse_block-sized-records.synthetic.warc.gz",
    "malformed/warcio_example-trunc.warc",
    "malformed/warcio_example-wrong-chunks.warc.gz",
    "malformed/warcio_example-bad-non-chunked.warc.gz",
    "malformed/gowarc_corrupted-trailing-bytes.synthetic.warc.gz",
];

fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

/// Each seed as its file bytes and as plain (decompressed) bytes.
fn seeds() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let mut v = Vec::new();
        for rel in SEEDS {
            let bytes = std::fs::read(data_dir().join("warc").join(rel)).unwrap();
            if bytes.starts_with(&[0x1f, 0x8b]) {
                let mut plain = Vec::new();
                let _ = flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut plain);
                v.push(plain);
            }
            v.push(bytes);
        }
        v
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(u32),
    Flip(u32, u8),
    Insert(u32, Vec<u8>),
    Delete(u32, u16),
    Duplicate(u32, u16, u32),
    ContentLength(u32, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<u32>().prop_map(Mutation::Truncate),
        (any::<u32>(), any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (
            any::<u32>(),
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..64),
                Just(b"WARC/1.0\r\n".to_vec()),
                Just(b"\r\n\r\n".to_vec()),
                Just(vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]),
                Just(b"Content-Length: 99999999\r\n".to_vec()),
                Just(b"Transfer-Encoding: chunked\r\n".to_vec()),
                Just(b"Content-Encoding: gzip\r\n".to_vec()),
            ]
        )
            .prop_map(|(p, b)| Mutation::Insert(p, b)),
        (any::<u32>(), any::<u16>()).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (any::<u32>(), any::<u16>(), any::<u32>())
            .prop_map(|(a, n, b)| Mutation::Duplicate(a, n, b)),
        (
            any::<u32>(),
            prop_oneof![
                Just(String::new()),
                Just("-1".into()),
                Just("18446744073709551615".into()),
                "[0-9]{1,6}"
            ]
        )
            .prop_map(|(i, s)| Mutation::ContentLength(i, s)),
    ]
}

fn apply(data: &mut Vec<u8>, m: &Mutation) {
    let at = |p: u32, len: usize| if len == 0 { 0 } else { p as usize % (len + 1) };
    match m {
        Mutation::Truncate(p) => {
            let n = at(*p, data.len());
            data.truncate(n)
        }
        Mutation::Flip(p, b) => {
            if !data.is_empty() {
                let i = *p as usize % data.len();
                data[i] ^= b | 1;
            }
        }
        Mutation::Insert(p, bytes) => {
            let i = at(*p, data.len());
            data.splice(i..i, bytes.iter().copied());
        }
        Mutation::Delete(p, n) => {
            let i = at(*p, data.len());
            let end = (i + *n as usize % 512).min(data.len());
            data.drain(i..end);
        }
        Mutation::Duplicate(a, n, b) => {
            let i = at(*a, data.len());
            let end = (i + *n as usize % 2048).min(data.len());
            let chunk = data[i..end].to_vec();
            let j = at(*b, data.len());
            data.splice(j..j, chunk);
        }
        Mutation::ContentLength(k, value) => {
            let hits: Vec<usize> = memchr::memmem::find_iter(data, b"Content-Length: ").collect();
            if !hits.is_empty() {
                let start = hits[*k as usize % hits.len()] + 16;
                let end = start
                    + data[start..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                data.splice(start..end, value.bytes());
            }
        }
    }
}

/// Reads everything; panics (a proptest failure) when the item count is beyond what the input can
/// hold: every item consumes at least one byte, a truncated record adds one error.
fn read_all(data: &[u8], max_record_bytes: u64) {
    let opts = WarcOptions {
        max_record_bytes,
        metadata_records: true,
        ..Default::default()
    };
    let bound = 2 * data.len() + 4;
    let mut n = 0;
    for item in read_documents(Box::new(std::io::Cursor::new(data.to_vec())), "fuzz", &opts) {
        if let ReadItem::Error(e) = &item {
            assert!(
                e.offset <= data.len() as u64,
                "error offset beyond the input: {e}"
            );
        }
        n += 1;
        assert!(n <= bound, "{n} items from {} bytes", data.len());
    }
    let raw = WarcReader::with_max_record_bytes(data, max_record_bytes).count();
    assert!(raw <= bound);
}

fn cases() -> u32 {
    std::env::var("QUARRY_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// Runs `f` on another thread and fails if it does not finish in time (a hang).
fn with_deadline(secs: u64, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => h.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = h.join() {
                std::panic::resume_unwind(p)
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the reader did not finish within {secs} s"),
    }
}

#[test]
fn mutated_real_files_never_panic_or_hang() {
    let n = cases();
    let deadline = if n > 1000 { 24 * 3600 } else { 120 };
    with_deadline(deadline, move || {
        let config = ProptestConfig {
            cases: n,
            failure_persistence: None,
            ..ProptestConfig::default()
        };
        let seed_count = seeds().len();
        proptest!(config, |(
            seed in 0..seed_count,
            muts in proptest::collection::vec(mutation(), 1..6),
            regzip in any::<bool>(),
            small_limit in any::<bool>(),
        )| {
            let mut data = seeds()[seed].clone();
            for m in &muts {
                apply(&mut data, m);
            }
            if regzip && !data.starts_with(&[0x1f, 0x8b]) {
                // Mutated plain bytes as one gzip member, cut at a random point half the time.
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&data).unwrap();
                data = e.finish().unwrap();
                if muts.len() % 2 == 0 {
                    let cut = data.len() * 3 / 4;
                    data.truncate(cut);
                }
            }
            read_all(&data, if small_limit { 300 } else { 64 << 20 });
        });
    });
}

#[test]
fn regression_inputs_are_read_to_the_end() {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/warc-regressions"
    ));
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        with_deadline(30, move || read_all(&data, 1 << 20));
        n += 1;
    }
    assert!(n > 0);
}

fn outcome(name: &str) -> (Vec<quarry_corpus::Document>, Vec<&'static str>, Vec<u64>) {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/warc-regressions"
    ))
    .join(name);
    let data = std::fs::read(path).unwrap();
    let (mut docs, mut skips, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for item in read_documents(
        Box::new(std::io::Cursor::new(data)),
        name,
        &WarcOptions::default(),
    ) {
        match item {
            ReadItem::Doc(d) => docs.push(d),
            ReadItem::Skipped { reason, .. } => skips.push(reason),
            ReadItem::Error(e) => errors.push(e.offset),
        }
    }
    (docs, skips, errors)
}

#[test]
fn synthetic_edge_cases_read_as_expected() {
    // gzip headers with FEXTRA, FNAME, FCOMMENT and FHCRC, and an empty member in between.
    let (docs, skips, errors) = outcome("gzip-header-flags-and-empty-member.warc.gz");
    assert_eq!((docs.len(), skips.len(), errors.len()), (2, 0, 0));
    assert_eq!(docs[0].source.offset, 0);
    assert!(docs[1].source.offset > docs[0].source.offset);
    // A Content-Length far beyond the end (and beyond the block limit): skipped as too_large, and
    // the early end of the input is one error.
    let (docs, skips, errors) = outcome("content-length-beyond-eof.warc");
    assert_eq!(
        (docs.len(), skips.as_slice(), errors.len()),
        (0, &["too_large"][..], 1)
    );
    // gzip magic with reserved flag bits: one error at 0, then the good member.
    let (docs, _, errors) = outcome("bad-gzip-header-then-member.warc.gz");
    assert_eq!((docs.len(), errors.as_slice()), (1, &[0u64][..]));
    // Chunk sizes that lie and a deflate body that is not deflate: a document with the raw bytes and
    // the decode failure noted.
    let (docs, _, errors) = outcome("lying-chunks.warc");
    assert_eq!((docs.len(), errors.len()), (1, 0));
    assert!(docs[0].meta("http_decode_error").is_some());
}
