//! The WARC reader on every real file in the test-data kit: document counts, skip counts by reason
//! and errors must match the record tables of `shared/data/README.md` (see the notes on the two
//! malformed files where warcio, which made those tables, stops early).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use quarry_corpus::warc::{read_documents, RecordType, WarcOptions, WarcReader};
use quarry_corpus::{Document, ReadItem};

fn data_dir() -> PathBuf {
    std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")))
}

fn path(rel: &str) -> PathBuf {
    data_dir().join("warc").join(rel)
}

fn bytes(rel: &str) -> Vec<u8> {
    let p = path(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

struct Outcome {
    docs: Vec<Document>,
    skipped: BTreeMap<&'static str, usize>,
    errors: Vec<(u64, String)>,
}

fn read_with(rel: &str, opts: &WarcOptions) -> Outcome {
    let mut out = Outcome {
        docs: Vec::new(),
        skipped: BTreeMap::new(),
        errors: Vec::new(),
    };
    for item in read_documents(Box::new(std::io::Cursor::new(bytes(rel))), rel, opts) {
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

fn read(rel: &str) -> Outcome {
    read_with(rel, &WarcOptions::default())
}

/// Record counts by type, as the README tables list them.
fn record_types(rel: &str) -> BTreeMap<RecordType, usize> {
    let mut m = BTreeMap::new();
    for r in WarcReader::new(std::io::Cursor::new(bytes(rel))).flatten() {
        *m.entry(r.record_type()).or_default() += 1;
    }
    m
}

/// (file, HTML docs, skipped by reason, errors) from the README tables.
type Expectation = (&'static str, usize, &'static [(&'static str, usize)], usize);

const EXPECTED: &[Expectation] = &[
    (
        "commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
        16,
        &[("warcinfo", 1), ("request", 17), ("metadata", 16)],
        0,
    ),
    (
        "commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc",
        16,
        &[("warcinfo", 1), ("request", 17), ("metadata", 16)],
        0,
    ),
    (
        "commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.gz",
        1,
        &[("warcinfo", 1), ("request", 1), ("metadata", 1)],
        0,
    ),
    (
        "commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.wet.gz",
        1,
        &[("warcinfo", 1)],
        0,
    ),
    (
        "commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.wat.gz",
        0,
        &[("warcinfo", 1), ("metadata", 1)],
        0,
    ),
    ("commoncrawl/jwarc_cc.warc.gz", 1, &[], 0),
    (
        "other/resiliparse_clueweb09-ja-quirk.warc.gz",
        29,
        &[("warcinfo", 1)],
        0,
    ),
    // resource records here are wget's manifest and log (text/plain).
    (
        "other/dolma_sample-0000.warc.gz",
        22,
        &[
            ("warcinfo", 1),
            ("request", 22),
            ("metadata", 1),
            ("non_html", 2),
        ],
        0,
    ),
    (
        "other/dolma_sample-0001.warc.gz",
        15,
        &[
            ("warcinfo", 1),
            ("request", 15),
            ("metadata", 1),
            ("non_html", 2),
        ],
        0,
    ),
    // 74 responses + 3 resources, 1 of them HTML.
    (
        "other/ukwa_sopa-wikipedia-homepage-2012.warc.gz",
        1,
        &[("warcinfo", 1), ("request", 86), ("non_html", 76)],
        0,
    ),
    // 8 responses: 2 HTML, a dns: record, images, robots.txt.
    (
        "other/ukwa_IAH-20080430204825-00000-blackbook-truncated.warc.gz",
        2,
        &[
            ("warcinfo", 1),
            ("request", 7),
            ("metadata", 7),
            ("non_html", 6),
        ],
        0,
    ),
    (
        "other/warcio_example.warc.gz",
        1,
        &[("warcinfo", 2), ("request", 2), ("revisit", 1)],
        0,
    ),
    (
        "other/warcio_example.warc",
        1,
        &[("warcinfo", 2), ("request", 2), ("revisit", 1)],
        0,
    ),
    (
        "other/warcio_example-iana.org-chunked.warc",
        1,
        &[("warcinfo", 1), ("request", 1)],
        0,
    ),
    (
        "other/resiliparse_block-sized-records.synthetic.warc.gz",
        0,
        &[("unknown_type", 3)],
        0,
    ),
    // The partial record is recovered (flagged) and the cut member is one error.
    ("malformed/resiliparse_clipped.truncated.warc.gz", 1, &[], 1),
    // Content-Length 2 bytes short: the record is read, its 2 stray bytes are one error.
    (
        "malformed/warcio_example-trunc.warc",
        1,
        &[("warcinfo", 2), ("request", 1)],
        1,
    ),
    // warcio stops after the warcinfo ("non-chunked gzip"); all 6 records are in the one member.
    (
        "malformed/warcio_example-bad-non-chunked.warc.gz",
        1,
        &[("warcinfo", 2), ("request", 2), ("revisit", 1)],
        0,
    ),
    (
        "malformed/warcio_example-wrong-chunks.warc.gz",
        1,
        &[("request", 1)],
        0,
    ),
    // warcio stops after 2 records; the member holds 30 responses (zlib: 30 `WARC-Type: response`),
    // all read, then the 55 garbage bytes are one error at their offset.
    (
        "malformed/gowarc_corrupted-trailing-bytes.synthetic.warc.gz",
        30,
        &[],
        1,
    ),
];

#[test]
fn every_real_file_gives_the_expected_documents_skips_and_errors() {
    let mut seen = 0;
    for dir in ["commoncrawl", "other", "malformed"] {
        for entry in std::fs::read_dir(data_dir().join("warc").join(dir)).unwrap() {
            let name = format!("{dir}/{}", entry.unwrap().file_name().to_string_lossy());
            let (_, docs, skipped, errors) = EXPECTED
                .iter()
                .find(|e| e.0 == name)
                .unwrap_or_else(|| panic!("no expectation for {name}"));
            let o = read(&name);
            let want: BTreeMap<&str, usize> = skipped.iter().copied().collect();
            assert_eq!(o.docs.len(), *docs, "{name}: docs (errors {:?})", o.errors);
            assert_eq!(o.skipped, want, "{name}: skipped");
            assert_eq!(o.errors.len(), *errors, "{name}: errors {:?}", o.errors);
            // Every record ends as exactly one item (a truncated record adds its error).
            let records: usize = record_types(&name).values().sum();
            let truncated = o
                .docs
                .iter()
                .filter(|d| d.meta("input_truncated").is_some())
                .count();
            let items = o.docs.len() + o.skipped.values().sum::<usize>();
            assert_eq!(items, records, "{name}: items vs records");
            assert!(o.errors.len() >= truncated);
            seen += 1;
        }
    }
    assert_eq!(seen, EXPECTED.len());
}

#[test]
fn record_types_match_the_readme_tables() {
    use RecordType::*;
    let t = record_types("commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz");
    assert_eq!(
        t,
        BTreeMap::from([(Warcinfo, 1), (Request, 17), (Response, 16), (Metadata, 16)])
    );
    let t = record_types("other/ukwa_sopa-wikipedia-homepage-2012.warc.gz");
    assert_eq!(
        t,
        BTreeMap::from([(Warcinfo, 1), (Request, 86), (Response, 74), (Resource, 3)])
    );
    let t = record_types("other/dolma_sample-0000.warc.gz");
    assert_eq!(
        t,
        BTreeMap::from([
            (Warcinfo, 1),
            (Request, 22),
            (Response, 22),
            (Metadata, 1),
            (Resource, 2)
        ])
    );
    let t = record_types("other/ukwa_IAH-20080430204825-00000-blackbook-truncated.warc.gz");
    assert_eq!(
        t,
        BTreeMap::from([(Warcinfo, 1), (Request, 7), (Response, 8), (Metadata, 7)])
    );
}

fn member_starts_with_warc(file: &[u8], offset: u64) -> bool {
    let mut d = flate2::read::GzDecoder::new(&file[offset as usize..]);
    let mut head = [0u8; 5];
    d.read_exact(&mut head).is_ok() && &head == b"WARC/"
}

#[test]
fn gzip_and_plain_resiliparse_files_give_identical_documents_and_exact_offsets() {
    let gz_name = "commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz";
    let plain_name = "commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc";
    let gz = read(gz_name);
    let plain = read(plain_name);
    let (gz_bytes, plain_bytes) = (bytes(gz_name), bytes(plain_name));
    assert_eq!(gz.docs.len(), 16);
    let mut charsets = BTreeMap::new();
    for (a, b) in gz.docs.iter().zip(&plain.docs) {
        assert_eq!(a.id, b.id);
        assert!(a.id.starts_with("urn:uuid:") && !a.id.contains('<'));
        assert_eq!(a.url, b.url);
        assert_eq!(a.date, b.date);
        assert_eq!(a.charset, b.charset);
        assert_eq!(a.raw_body(), b.raw_body());
        assert_eq!(
            a.raw.as_ref().unwrap().http_headers,
            b.raw.as_ref().unwrap().http_headers
        );
        assert_eq!(a.crawl.as_deref(), Some("CC-MAIN-2020-34"));
        assert_eq!(a.content_type.as_deref(), Some("text/html"));
        assert!(a.text.is_empty());
        assert!(
            member_starts_with_warc(&gz_bytes, a.source.offset),
            "gz offset {}",
            a.source.offset
        );
        assert!(plain_bytes[b.source.offset as usize..].starts_with(b"WARC/1.0\r\n"));
        assert_eq!(a.source.file, gz_name);
        *charsets
            .entry(a.charset.clone().unwrap_or_default())
            .or_insert(0) += 1;
    }
    // Declared HTTP charsets (README: utf-8 7, gb2312 3, gbk 3, iso-8859-1 2, windows-1251 1 after
    // detection; the HTTP header declares a subset, the rest is left to the extractor).
    assert!(charsets.keys().any(|c| c == "utf-8"), "{charsets:?}");
    // Every record's offset is a member start: 50 records, 50 members.
    let offsets: Vec<u64> = WarcReader::new(&gz_bytes[..])
        .map(|r| r.unwrap().offset)
        .collect();
    assert_eq!(offsets.len(), 50);
    assert_eq!(offsets[0], 0);
    assert!(offsets.windows(2).all(|w| w[0] < w[1]));
    assert!(offsets
        .iter()
        .all(|&o| member_starts_with_warc(&gz_bytes, o)));
}

#[test]
fn clueweb09_warc_018_with_lf_http_heads_gives_29_euc_jp_pages() {
    let name = "other/resiliparse_clueweb09-ja-quirk.warc.gz";
    let versions: Vec<String> = WarcReader::new(&bytes(name)[..])
        .map(|r| r.unwrap().version)
        .collect();
    assert!(versions.iter().all(|v| v == "0.18"), "{versions:?}");
    let o = read(name);
    assert_eq!(o.docs.len(), 29);
    for d in &o.docs {
        let raw = d.raw.as_ref().unwrap();
        assert!(
            raw.header("Content-Type").is_some(),
            "bare-LF HTTP head parsed"
        );
        let body = String::from_utf8_lossy(raw.body.as_ref()).to_ascii_lowercase();
        let meta = body.contains("euc-jp");
        assert!(
            d.charset.as_deref() == Some("euc-jp") || meta,
            "{}: {:?}",
            d.id,
            d.charset
        );
        assert!(
            d.meta("http_decode_error").is_none(),
            "payload is stored decoded"
        );
        assert_eq!(d.meta("http_status").and_then(|v| v.as_i64()), Some(200));
    }
}

#[test]
fn warcio_example_plain_gzip_and_whole_file_gzip_agree() {
    let a = read("other/warcio_example.warc");
    let b = read("other/warcio_example.warc.gz");
    let c = read("malformed/warcio_example-bad-non-chunked.warc.gz");
    for o in [&b, &c] {
        assert_eq!(o.docs.len(), 1);
        assert_eq!(o.docs[0].id, a.docs[0].id);
        assert_eq!(o.docs[0].url, a.docs[0].url);
        assert_eq!(o.docs[0].raw_body(), a.docs[0].raw_body());
    }
    let d = &a.docs[0];
    assert_eq!(d.url.as_deref(), Some("http://example.com/"));
    // The payload is sent gzip-encoded; the document carries it decoded.
    assert!(d.raw_body().unwrap().starts_with(b"<!doctype html>"));
    assert!(d.meta("http_decode_error").is_none());
    // Whole-file gzip: every record reports the one member's offset.
    assert_eq!(c.docs[0].source.offset, 0);
}

#[test]
fn iana_chunked_payload_is_dechunked() {
    let o = read("other/warcio_example-iana.org-chunked.warc");
    assert_eq!(o.docs.len(), 1);
    let d = &o.docs[0];
    let body = d.raw_body().unwrap();
    assert!(
        body.starts_with(b"<!doctype") || body.starts_with(b"<!DOCTYPE"),
        "{:?}",
        &body[..20]
    );
    assert!(d.meta("http_dechunk_failed").is_none());
    // No chunk-size lines left: no line that is only hex digits.
    let text = String::from_utf8_lossy(body);
    assert!(!text.lines().any(|l| {
        let l = l.trim();
        !l.is_empty() && l.len() <= 8 && l.chars().all(|c| c.is_ascii_hexdigit())
    }));
    assert!(text.trim_end().ends_with("</html>"));
}

#[test]
fn whirlwind_warc_wet_and_wat() {
    let warc = read("commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.gz");
    let d = &warc.docs[0];
    assert_eq!(d.crawl.as_deref(), Some("CC-MAIN-2024-22"));
    assert_eq!(
        d.url.as_deref(),
        Some("https://an.wikipedia.org/wiki/Escopete")
    );
    assert!(String::from_utf8_lossy(d.raw_body().unwrap())
        .contains("creativecommons.org/licenses/by-sa/4.0"));

    let wet = read("commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.wet.gz");
    let t = &wet.docs[0];
    assert_eq!(t.content_type.as_deref(), Some("text/plain"));
    assert_eq!(t.crawl.as_deref(), Some("CC-MAIN-2024-22"));
    assert_eq!(t.url, d.url);
    assert!(t.text.contains("Escopete"));
    assert!(t.raw.is_none());
    assert_eq!(
        t.meta("warc_identified_content_language")
            .and_then(|v| v.as_str()),
        Some("spa")
    );

    let opts = WarcOptions {
        metadata_records: true,
        ..Default::default()
    };
    let wat = read_with(
        "commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.wat.gz",
        &opts,
    );
    assert_eq!(wat.docs.len(), 1);
    assert_eq!(wat.skipped.get("metadata"), None);
    let json: serde_json::Value =
        serde_json::from_str(&wat.docs[0].text).expect("WAT block is JSON");
    assert!(json.get("Envelope").is_some());
    assert_eq!(
        wat.docs[0].content_type.as_deref(),
        Some("application/json")
    );
}

#[test]
fn jwarc_record_without_warcinfo_has_no_crawl() {
    let o = read("commoncrawl/jwarc_cc.warc.gz");
    assert_eq!(o.docs[0].crawl, None);
    assert_eq!(o.docs[0].url.as_deref(), Some("http://commoncrawl.org/"));
    let forced = read_with(
        "commoncrawl/jwarc_cc.warc.gz",
        &WarcOptions {
            crawl: Some("CC-MAIN-2019-51".into()),
            ..Default::default()
        },
    );
    assert_eq!(forced.docs[0].crawl.as_deref(), Some("CC-MAIN-2019-51"));
}

#[test]
fn block_sized_records_have_member_offsets() {
    let name = "other/resiliparse_block-sized-records.synthetic.warc.gz";
    let file = bytes(name);
    let recs: Vec<_> = WarcReader::new(&file[..]).map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 3);
    for r in &recs {
        assert_eq!(r.record_type(), RecordType::Unknown);
        assert!(member_starts_with_warc(&file, r.offset));
        assert_eq!(
            r.block.len() as u64,
            r.headers
                .get("Content-Length")
                .unwrap()
                .parse::<u64>()
                .unwrap()
        );
    }
}

#[test]
fn malformed_files_name_the_offset_of_each_fault() {
    let o = read("malformed/gowarc_corrupted-trailing-bytes.synthetic.warc.gz");
    assert_eq!(o.errors[0].0, 2362);
    assert!(
        o.errors[0].1.contains("55 bytes of non-gzip data"),
        "{}",
        o.errors[0].1
    );

    let o = read("malformed/resiliparse_clipped.truncated.warc.gz");
    assert_eq!(o.errors[0].0, 0);
    let d = &o.docs[0];
    assert_eq!(
        d.meta("input_truncated").and_then(|v| v.as_bool()),
        Some(true)
    );
    assert!(d.raw_body().unwrap().len() > 70_000);

    let o = read("malformed/warcio_example-trunc.warc");
    let at = bytes("malformed/warcio_example-trunc.warc")
        .windows(4)
        .position(|w| w == b"\x00\x00\r\n")
        .unwrap();
    assert_eq!(o.errors[0].0, at as u64);
    // The gzip-encoded payload lost its last 2 bytes (part of the gzip trailer): the decoded page is
    // complete, and the decode error is noted.
    assert!(o.docs[0].meta("http_decode_error").is_some());
    assert!(o.docs[0]
        .raw_body()
        .unwrap()
        .starts_with(b"<!doctype html>"));

    // Members that split a record mid-way: the record is read across them; its offset is the member
    // where it starts.
    let o = read("malformed/warcio_example-wrong-chunks.warc.gz");
    assert_eq!(o.docs[0].source.offset, 0);
    assert!(o.docs[0]
        .raw_body()
        .unwrap()
        .starts_with(b"<!doctype html>"));
}

/// Every record of every well-formed real file: same offset, type and id as Python warcio 1.8.1
/// (golden file written by scripts/warc_warcio_golden.py).
#[test]
fn offsets_types_and_ids_agree_with_warcio() {
    let golden = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/warc-golden/warcio_records.tsv"
    ))
    .unwrap();
    let mut want: BTreeMap<String, Vec<(u64, String, String)>> = BTreeMap::new();
    for line in golden.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        want.entry(f[0].to_string()).or_default().push((
            f[1].parse().unwrap(),
            f[2].to_string(),
            f[3].to_string(),
        ));
    }
    assert_eq!(want.len(), 15);
    let mut total = 0;
    for (file, records) in &want {
        let got: Vec<(u64, String, String)> = WarcReader::new(std::io::Cursor::new(bytes(file)))
            .map(|r| {
                let r = r.unwrap();
                (
                    r.offset,
                    r.headers.get("WARC-Type").unwrap_or("").to_string(),
                    r.headers.record_id().unwrap_or("").to_string(),
                )
            })
            .collect();
        assert_eq!(&got, records, "{file}");
        total += got.len();
    }
    assert_eq!(total, 426);
}
