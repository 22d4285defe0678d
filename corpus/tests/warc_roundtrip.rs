//! Writer ↔ reader round trips, and the writer's digests checked against the digests real crawlers
//! wrote.

use std::path::PathBuf;

use quarry_corpus::warc::writer::{
    base32, record_id_from_hash, sha1_digest, RecordSpec, WriteType,
};
use quarry_corpus::warc::{read_documents, RecordType, WarcOptions, WarcReader, WarcWriter};
use quarry_corpus::{Document, ReadItem};

fn data(rel: &str) -> Vec<u8> {
    let dir = std::env::var_os("QUARRY_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    std::fs::read(dir.join("warc").join(rel)).unwrap()
}

fn docs(bytes: Vec<u8>) -> Vec<Document> {
    read_documents(
        Box::new(std::io::Cursor::new(bytes)),
        "x",
        &WarcOptions::default(),
    )
    .filter_map(|i| match i {
        ReadItem::Doc(d) => Some(d),
        ReadItem::Error(e) => panic!("{e}"),
        ReadItem::Skipped { .. } => None,
    })
    .collect()
}

fn write_type(t: RecordType) -> Option<WriteType> {
    Some(match t {
        RecordType::Warcinfo => WriteType::Warcinfo,
        RecordType::Request => WriteType::Request,
        RecordType::Response => WriteType::Response,
        RecordType::Resource => WriteType::Resource,
        RecordType::Metadata => WriteType::Metadata,
        _ => return None,
    })
}

/// Rewrites every record of a real file with the writer (gzip or not) and compares.
fn rewrite(rel: &str, gzip: bool) -> (Vec<u8>, usize) {
    let src = data(rel);
    let mut w = if gzip {
        WarcWriter::new(Vec::new())
    } else {
        WarcWriter::uncompressed(Vec::new())
    };
    let mut digests_checked = 0;
    for rec in WarcReader::new(&src[..]) {
        let rec = rec.unwrap();
        let Some(t) = write_type(rec.record_type()) else {
            continue;
        };
        // The writer's block digest equals the one the crawler wrote.
        if let Some(d) = rec.headers.get("WARC-Block-Digest") {
            if let Some(v) = d.strip_prefix("sha1:") {
                // Some writers (warcio) use hex instead of base32.
                let want = match hex::decode(v) {
                    Ok(raw) if v.len() == 40 => format!("sha1:{}", base32(&raw)),
                    _ => d.to_string(),
                };
                assert_eq!(
                    sha1_digest(&rec.block),
                    want,
                    "{rel} {:?}",
                    rec.headers.record_id()
                );
                digests_checked += 1;
            }
        }
        let mut spec = RecordSpec::new(
            t,
            rec.headers.record_id().unwrap(),
            rec.headers.get("WARC-Date").unwrap(),
            &rec.block,
        );
        if let Some(u) = rec.headers.target_uri() {
            spec = spec.target_uri(u);
        }
        if let Some(ct) = rec.headers.get("Content-Type") {
            spec = spec.content_type(ct);
        }
        let offset_before = w.offset();
        let at = w.write_record(&spec).unwrap();
        assert_eq!(at, offset_before);
    }
    (w.finish().unwrap(), digests_checked)
}

#[test]
fn rewriting_real_files_gives_the_same_documents() {
    for rel in [
        "commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
        "other/resiliparse_clueweb09-ja-quirk.warc.gz",
        "other/warcio_example-iana.org-chunked.warc",
        "commoncrawl/whirlwind_an.wikipedia.Escopete.CC-MAIN-2024-22.warc.gz",
    ] {
        let original = docs(data(rel));
        for gzip in [true, false] {
            let (out, digests) = rewrite(rel, gzip);
            // For scripts/warc_warcio_check_writer.py: the rewritten files, to be read by warcio.
            if let Some(dir) = std::env::var_os("QUARRY_WARC_WRITE_TO") {
                let name = rel
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .trim_end_matches(".gz")
                    .trim_end_matches(".warc");
                let ext = if gzip { "warc.gz" } else { "warc" };
                std::fs::write(
                    PathBuf::from(dir).join(format!("{name}.rewritten.{ext}")),
                    &out,
                )
                .unwrap();
            }
            assert!(
                digests > 0 || rel.contains("clueweb"),
                "{rel}: no digests compared"
            );
            let again = docs(out.clone());
            assert_eq!(again.len(), original.len(), "{rel}");
            for (a, b) in original.iter().zip(&again) {
                assert_eq!(a.id, b.id);
                assert_eq!(a.url, b.url);
                assert_eq!(a.date, b.date);
                assert_eq!(a.crawl, b.crawl);
                assert_eq!(a.charset, b.charset);
                assert_eq!(a.content_type, b.content_type);
                assert_eq!(a.raw_body(), b.raw_body());
                assert_eq!(a.text, b.text);
            }
            // Offsets point at records: gzip members or first bytes.
            for rec in WarcReader::new(&out[..]) {
                let rec = rec.unwrap();
                if gzip {
                    assert_eq!(
                        &out[rec.offset as usize..rec.offset as usize + 2],
                        &[0x1f, 0x8b]
                    );
                } else {
                    assert!(out[rec.offset as usize..].starts_with(b"WARC/1.1\r\n"));
                }
            }
        }
    }
}

#[test]
fn payload_digest_matches_common_crawl() {
    // CC computes WARC-Payload-Digest over the HTTP entity body; the writer must agree.
    let (out, _) = rewrite(
        "commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz",
        true,
    );
    let original: Vec<_> =
        WarcReader::new(&data("commoncrawl/resiliparse_warcfile.CC-MAIN-2020-34.warc.gz")[..])
            .map(|r| r.unwrap())
            .filter(|r| r.record_type() == RecordType::Response)
            .collect();
    let rewritten: Vec<_> = WarcReader::new(&out[..])
        .map(|r| r.unwrap())
        .filter(|r| r.record_type() == RecordType::Response)
        .collect();
    assert_eq!(original.len(), 16);
    for (a, b) in original.iter().zip(&rewritten) {
        assert_eq!(
            a.headers.get("WARC-Payload-Digest"),
            b.headers.get("WARC-Payload-Digest")
        );
        assert_eq!(
            a.headers.get("WARC-Block-Digest"),
            b.headers.get("WARC-Block-Digest")
        );
    }
}

#[test]
fn written_files_are_deterministic_and_readable() {
    let write = || {
        let mut w = WarcWriter::new(Vec::new());
        let id = record_id_from_hash(b"info");
        w.write_warcinfo(
            &id,
            "2024-05-18T00:00:00Z",
            Some("x.warc.gz"),
            &[("isPartOf", "TEST-1")],
        )
        .unwrap();
        let req = record_id_from_hash(b"req");
        w.write_request(
            &req,
            "2024-05-18T00:00:00Z",
            "https://e.org/a/b?c",
            &[("Host", "e.org")],
        )
        .unwrap();
        let resp = record_id_from_hash(b"resp");
        w.write_response(
            &resp,
            "2024-05-18T00:00:00Z",
            "https://e.org/a/b?c",
            200,
            &[("Content-Type", "text/html; charset=utf-8")],
            "<html><p>héllo</p></html>".as_bytes(),
        )
        .unwrap();
        w.write_resource(
            &record_id_from_hash(b"res"),
            "2024-05-18T00:00:00Z",
            "https://e.org/r",
            "text/html",
            b"<html>r</html>",
        )
        .unwrap();
        w.write_metadata(
            &record_id_from_hash(b"meta"),
            "2024-05-18T00:00:00Z",
            "https://e.org/a/b?c",
            &resp,
            "application/json",
            b"{}",
        )
        .unwrap();
        w.finish().unwrap()
    };
    let a = write();
    assert_eq!(a, write());
    let items: Vec<_> = read_documents(
        Box::new(std::io::Cursor::new(a.clone())),
        "w",
        &WarcOptions::default(),
    )
    .collect();
    assert_eq!(items.len(), 5);
    let ReadItem::Doc(d) = &items[2] else {
        panic!("{:?}", items[2])
    };
    assert_eq!(d.id, record_id_from_hash(b"resp"));
    assert_eq!(d.crawl.as_deref(), Some("TEST-1"));
    assert_eq!(d.charset.as_deref(), Some("utf-8"));
    assert_eq!(d.raw_body(), Some("<html><p>héllo</p></html>".as_bytes()));
    assert!(matches!(items[3], ReadItem::Doc(_)));
    assert!(matches!(
        items[4],
        ReadItem::Skipped {
            reason: "metadata",
            ..
        }
    ));
    let req = WarcReader::new(&a[..]).nth(1).unwrap().unwrap();
    assert!(req
        .block
        .starts_with(b"GET /a/b?c HTTP/1.1\r\nHost: e.org\r\n\r\n"));
}
