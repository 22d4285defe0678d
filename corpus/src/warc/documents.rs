//! Records to [`ReadItem`]s: the document reader the pipeline uses.
//!
//! See the [module documentation](super) for which records become documents and the fixed set of
//! skip reasons.

use std::io::Read;
use std::sync::Arc;

use serde::Deserialize;

use super::http::{self, Decoded, HttpHead};
use super::reader::{WarcReader, DEFAULT_MAX_RECORD_BYTES};
use super::record::{Record, RecordType, WarcError};
use crate::document::{Document, Provenance, RawPayload};
use crate::read::{ReadItem, RecordError};

/// Options of the WARC document reader (the `[reader]` table of a recipe).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WarcOptions {
    /// Records whose block is bigger than this many bytes are skipped unread (`too_large`); it also
    /// caps a decompressed `Content-Encoding` payload. Default 64 MiB.
    pub max_record_bytes: u64,
    /// Turn `metadata` records into documents (WAT files) instead of skipping them.
    pub metadata_records: bool,
    /// Crawl name for every document, overriding the warcinfo record's `isPartOf`.
    pub crawl: Option<String>,
    /// Decode `Content-Encoding: gzip/deflate/br` payloads (default true).
    pub decode_content: bool,
}

impl Default for WarcOptions {
    fn default() -> Self {
        WarcOptions {
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            metadata_records: false,
            crawl: None,
            decode_content: true,
        }
    }
}

/// Skip reasons, the complete fixed set (each becomes the counter `skipped_<reason>`).
pub mod skip {
    /// A `warcinfo` record (read for the crawl name).
    pub const WARCINFO: &str = "warcinfo";
    /// A `request` record.
    pub const REQUEST: &str = "request";
    /// A `revisit` record (no payload of its own).
    pub const REVISIT: &str = "revisit";
    /// A response or resource whose payload is not HTML (images, scripts, `dns:` records...).
    pub const NON_HTML: &str = "non_html";
    /// An HTTP response whose status is not 2xx.
    pub const HTTP_ERROR: &str = "http_error";
    /// A `metadata` record while `metadata_records` is off.
    pub const METADATA: &str = "metadata";
    /// `continuation` records and unknown or missing `WARC-Type`s.
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    /// A record whose block exceeds `max_record_bytes`.
    pub const TOO_LARGE: &str = "too_large";
    /// An HTML response, resource or conversion record with an empty payload.
    pub const EMPTY: &str = "empty";
    /// All of them.
    pub const ALL: [&str; 9] = [
        WARCINFO,
        REQUEST,
        REVISIT,
        NON_HTML,
        HTTP_ERROR,
        METADATA,
        UNKNOWN_TYPE,
        TOO_LARGE,
        EMPTY,
    ];
}

/// Iterator of [`ReadItem`]s over one WARC/WET/WAT input. Made by [`read_documents`].
pub struct DocumentReader<R: Read> {
    records: WarcReader<R>,
    file: String,
    opts: WarcOptions,
    crawl: Option<String>,
}

/// Reads documents from a WARC, WET or WAT input (plain or gzip, detected from its bytes).
///
/// `file` is the name recorded in each document's [`Provenance`] and in errors.
pub fn read_documents(
    input: Box<dyn Read + Send>,
    file: &str,
    opts: &WarcOptions,
) -> DocumentReader<Box<dyn Read + Send>> {
    DocumentReader::new(input, file, opts)
}

impl<R: Read> DocumentReader<R> {
    /// A document reader over any reader.
    pub fn new(input: R, file: &str, opts: &WarcOptions) -> Self {
        DocumentReader {
            records: WarcReader::with_max_record_bytes(input, opts.max_record_bytes),
            file: file.to_string(),
            crawl: opts.crawl.clone(),
            opts: opts.clone(),
        }
    }

    fn error(&self, offset: u64, message: String) -> ReadItem {
        ReadItem::Error(RecordError {
            file: self.file.clone(),
            offset,
            message,
        })
    }

    fn convert(&mut self, rec: Record) -> ReadItem {
        let skipped = |reason: &'static str| ReadItem::Skipped {
            reason,
            offset: rec.offset,
        };
        match rec.record_type() {
            RecordType::Warcinfo => {
                if self.opts.crawl.is_none() {
                    if let Some(c) = warcinfo_crawl(&rec.block) {
                        self.crawl = Some(c);
                    }
                }
                skipped(skip::WARCINFO)
            }
            RecordType::Request => skipped(skip::REQUEST),
            RecordType::Revisit => skipped(skip::REVISIT),
            RecordType::Continuation | RecordType::Unknown => skipped(skip::UNKNOWN_TYPE),
            RecordType::Metadata if !self.opts.metadata_records => skipped(skip::METADATA),
            RecordType::Metadata | RecordType::Conversion => {
                if rec.block.is_empty() {
                    return skipped(skip::EMPTY);
                }
                let warc_ct = rec.headers.get("Content-Type").unwrap_or("");
                let (mime, _) = http::split_content_type(warc_ct);
                let is_conversion = rec.record_type() == RecordType::Conversion;
                let mut doc = self.base_doc(&rec);
                doc.text = String::from_utf8_lossy(&rec.block).into_owned();
                doc.content_type = Some(if is_conversion || mime.is_empty() {
                    "text/plain".to_string()
                } else {
                    mime
                });
                doc.charset = Some("utf-8".to_string());
                if let Some(lang) = rec.headers.get("WARC-Identified-Content-Language") {
                    doc.set_meta("warc_identified_content_language", lang);
                }
                if let Some(r) = rec.headers.get("WARC-Refers-To") {
                    doc.set_meta("warc_refers_to", super::record::strip_brackets(r));
                }
                ReadItem::Doc(doc)
            }
            RecordType::Resource => {
                let warc_ct = rec.headers.get("Content-Type").unwrap_or("");
                let (mime, charset) = http::split_content_type(warc_ct);
                let html = if mime.is_empty() || mime == "application/octet-stream" {
                    http::sniff_html(&rec.block)
                } else {
                    is_html_mime(&mime)
                };
                if !html {
                    return skipped(skip::NON_HTML);
                }
                if rec.block.is_empty() {
                    return skipped(skip::EMPTY);
                }
                let mut doc = self.base_doc(&rec);
                doc.content_type = Some(if mime.is_empty() || mime == "application/octet-stream" {
                    "text/html".to_string()
                } else {
                    mime
                });
                doc.charset = charset;
                doc.raw = Some(RawPayload {
                    http_headers: Vec::new(),
                    body: Arc::from(&rec.block[..]),
                });
                ReadItem::Doc(doc)
            }
            RecordType::Response => self.convert_response(rec),
        }
    }

    fn convert_response(&mut self, rec: Record) -> ReadItem {
        let skipped = |reason: &'static str| ReadItem::Skipped {
            reason,
            offset: rec.offset,
        };
        let warc_ct = rec
            .headers
            .get("Content-Type")
            .unwrap_or("")
            .to_ascii_lowercase();
        let looks_http = rec
            .block
            .iter()
            .skip_while(|b| matches!(b, b'\r' | b'\n' | b' '))
            .take(5)
            .eq(b"HTTP/".iter());
        if !warc_ct.starts_with("application/http") && !looks_http {
            // `dns:` and other non-HTTP responses.
            return skipped(skip::NON_HTML);
        }
        let head: HttpHead = match http::parse_response(&rec.block) {
            Some(h) => h,
            None if rec.block.is_empty() => return skipped(skip::EMPTY),
            None => {
                let start: String = rec.block[..rec.block.len().min(40)]
                    .escape_ascii()
                    .to_string();
                return self.error(
                    rec.offset,
                    format!("response record has no HTTP status line (starts \"{start}\")"),
                );
            }
        };
        if !(200..300).contains(&head.status) {
            return skipped(skip::HTTP_ERROR);
        }
        let body = &rec.block[head.body_start.min(rec.block.len())..];
        let (mime, charset) = head
            .header("Content-Type")
            .map(http::split_content_type)
            .unwrap_or_default();
        // Only HTML payloads are de-chunked and decoded, except that a payload without Content-Type
        // must be decoded before it can be sniffed.
        if !mime.is_empty() && !is_html_mime(&mime) {
            return skipped(skip::NON_HTML);
        }
        let mut doc = self.base_doc(&rec);
        doc.set_meta("http_status", i64::from(head.status));
        crawl_signals(&rec, &mut doc);
        let decoded = self.decode_payload(&head, body, &mut doc);
        let payload = decoded.as_deref().unwrap_or(body);
        if mime.is_empty()
            && !http::sniff_html(payload)
            && !rec
                .headers
                .get("WARC-Identified-Payload-Type")
                .is_some_and(|t| is_html_mime(&http::split_content_type(t).0))
        {
            return skipped(skip::NON_HTML);
        }
        if payload.iter().all(u8::is_ascii_whitespace) {
            return skipped(skip::EMPTY);
        }
        let body: Arc<[u8]> = match decoded {
            Some(d) => Arc::from(d),
            None => Arc::from(body),
        };
        doc.content_type = Some(if mime.is_empty() {
            "text/html".to_string()
        } else {
            mime
        });
        doc.charset = charset;
        doc.raw = Some(RawPayload {
            http_headers: head.headers,
            body,
        });
        ReadItem::Doc(doc)
    }

    /// De-chunks and content-decodes an HTTP payload; `None` when the body is used as it is. Failures
    /// are noted in `doc`'s metadata.
    fn decode_payload(&self, head: &HttpHead, body: &[u8], doc: &mut Document) -> Option<Vec<u8>> {
        let mut decoded: Option<Vec<u8>> = None;
        let chunked = head.headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("Transfer-Encoding")
                && v.to_ascii_lowercase().contains("chunked")
        });
        if chunked {
            match http::dechunk(body) {
                Some(d) => decoded = Some(d),
                None => doc.set_meta("http_dechunk_failed", true),
            }
        }
        if self.opts.decode_content {
            if let Some(enc) = head.header("Content-Encoding") {
                let current = decoded.as_deref().unwrap_or(body);
                // Many crawlers (ClueWeb09's among them) store the payload decoded but keep the
                // header: a payload that already reads as HTML is not decoded again.
                let gzip_name =
                    matches!(enc.trim().to_ascii_lowercase().as_str(), "gzip" | "x-gzip");
                if http::sniff_html(current) || (gzip_name && !current.starts_with(&[0x1f, 0x8b])) {
                    return decoded;
                }
                let limit = usize::try_from(self.opts.max_record_bytes).unwrap_or(usize::MAX);
                match http::decode_content(enc, current, limit) {
                    Some(Decoded::Full(d)) => decoded = Some(d),
                    Some(Decoded::Partial(d, msg)) => {
                        doc.set_meta(
                            "http_decode_error",
                            format!("{msg}; kept the {} bytes decoded before the error", d.len()),
                        );
                        decoded = Some(d);
                    }
                    Some(Decoded::Failed(msg)) => {
                        doc.set_meta("http_decode_error", format!("{msg}; kept the raw bytes"))
                    }
                    None => {}
                }
            }
        }
        decoded
    }

    /// The fields every document from a record shares.
    fn base_doc(&self, rec: &Record) -> Document {
        let mut doc = Document {
            id: rec
                .headers
                .record_id()
                .map_or_else(|| format!("{}@{}", self.file, rec.offset), str::to_string),
            url: rec.headers.target_uri().map(str::to_string),
            source: Provenance {
                file: self.file.clone(),
                offset: rec.offset,
            },
            date: rec.headers.get("WARC-Date").map(|d| d.trim().to_string()),
            crawl: self.crawl.clone(),
            ..Default::default()
        };
        if let Some(t) = rec.headers.get("WARC-Truncated") {
            doc.set_meta("warc_truncated", t.trim());
        }
        if rec.truncated {
            doc.set_meta("input_truncated", true);
        }
        doc
    }
}

fn is_html_mime(mime: &str) -> bool {
    mime == "text/html" || mime == "application/xhtml+xml"
}

/// The crawl name in a warcinfo block: `isPartOf` (Common Crawl), else none.
fn warcinfo_crawl(block: &[u8]) -> Option<String> {
    let fields = http::parse_header_lines(
        block
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l)),
    );
    fields
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("isPartOf"))
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

impl<R: Read> Iterator for DocumentReader<R> {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        Some(match self.records.next()? {
            Ok(rec) => self.convert(rec),
            Err(WarcError::TooLarge { offset, .. }) => ReadItem::Skipped {
                reason: skip::TOO_LARGE,
                offset,
            },
            Err(WarcError::Malformed { offset, message }) => self.error(offset, message),
        })
    }
}

/// The opt-out signals `quarry crawl` records on a response (see [`crate::crawl`]):
/// `WARC-Robots-AI-Disallow` → `robots_ai_disallow` (list of user agents), `WARC-TDM-Reservation:
/// 1` → `tdm_reservation: true`, `WARC-TDM-Policy` → `tdm_policy`.
fn crawl_signals(rec: &Record, doc: &mut Document) {
    if let Some(v) = rec.headers.get("WARC-Robots-AI-Disallow") {
        let agents: Vec<crate::MetaValue> = v
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(crate::MetaValue::from)
            .collect();
        if !agents.is_empty() {
            doc.set_meta("robots_ai_disallow", crate::MetaValue::List(agents));
        }
    }
    if rec
        .headers
        .get("WARC-TDM-Reservation")
        .is_some_and(|v| v.trim() == "1")
    {
        doc.set_meta("tdm_reservation", true);
        if let Some(p) = rec.headers.get("WARC-TDM-Policy") {
            doc.set_meta("tdm_policy", p.trim());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warc::writer::WarcWriter;

    const DATE: &str = "2024-05-18T00:00:00Z";

    fn items(data: Vec<u8>, opts: &WarcOptions) -> Vec<ReadItem> {
        read_documents(Box::new(std::io::Cursor::new(data)), "t.warc", opts).collect()
    }

    #[test]
    fn the_document_reader_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let r = read_documents(Box::new(std::io::empty()), "e", &WarcOptions::default());
        assert_send(&r);
        assert_eq!(r.count(), 0);
    }

    #[test]
    fn crawler_opt_out_headers_become_metadata() {
        use crate::warc::writer::{RecordSpec, WriteType};
        let mut w = WarcWriter::uncompressed(Vec::new());
        let block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>x</p>";
        w.write_record(
            &RecordSpec::new(WriteType::Response, "urn:uuid:a", DATE, block)
                .target_uri("http://x/a")
                .header("WARC-Robots-AI-Disallow", "GPTBot, CCBot")
                .header("WARC-TDM-Reservation", "1")
                .header("WARC-TDM-Policy", "https://x/policy.json"),
        )
        .unwrap();
        w.write_record(
            &RecordSpec::new(WriteType::Response, "urn:uuid:b", DATE, block)
                .target_uri("http://x/b"),
        )
        .unwrap();
        let out = items(w.finish().unwrap(), &WarcOptions::default());
        let docs: Vec<&Document> = out
            .iter()
            .filter_map(|i| match i {
                ReadItem::Doc(d) => Some(d),
                _ => None,
            })
            .collect();
        assert_eq!(docs.len(), 2);
        assert_eq!(
            docs[0].meta("robots_ai_disallow"),
            Some(&crate::MetaValue::List(vec![
                "GPTBot".into(),
                "CCBot".into()
            ]))
        );
        assert_eq!(
            docs[0].meta("tdm_reservation").and_then(|v| v.as_bool()),
            Some(true)
        );
        assert_eq!(
            docs[0].meta("tdm_policy").and_then(|v| v.as_str()),
            Some("https://x/policy.json")
        );
        assert!(docs[1].meta("robots_ai_disallow").is_none());
        assert!(docs[1].meta("tdm_reservation").is_none());
    }

    #[test]
    fn html_response_becomes_a_document_with_crawl_and_charset() {
        let mut w = WarcWriter::uncompressed(Vec::new());
        w.write_warcinfo("urn:uuid:i", DATE, None, &[("isPartOf", "CC-MAIN-2099-01")])
            .unwrap();
        w.write_response(
            "urn:uuid:r",
            DATE,
            "http://x/",
            200,
            &[("Content-Type", "text/html; charset=ISO-8859-1")],
            b"<html>hi</html>",
        )
        .unwrap();
        w.write_response(
            "urn:uuid:n",
            DATE,
            "http://x/404",
            404,
            &[("Content-Type", "text/html")],
            b"<p>",
        )
        .unwrap();
        w.write_response(
            "urn:uuid:p",
            DATE,
            "http://x/a.png",
            200,
            &[("Content-Type", "image/png")],
            b"\x89PNG",
        )
        .unwrap();
        let out = items(w.finish().unwrap(), &WarcOptions::default());
        assert_eq!(out.len(), 4);
        assert!(matches!(
            out[0],
            ReadItem::Skipped {
                reason: "warcinfo",
                offset: 0
            }
        ));
        let ReadItem::Doc(d) = &out[1] else {
            panic!("{:?}", out[1])
        };
        assert_eq!(d.id, "urn:uuid:r");
        assert_eq!(d.crawl.as_deref(), Some("CC-MAIN-2099-01"));
        assert_eq!(d.charset.as_deref(), Some("iso-8859-1"));
        assert_eq!(d.raw_body(), Some(&b"<html>hi</html>"[..]));
        assert!(matches!(
            out[2],
            ReadItem::Skipped {
                reason: "http_error",
                ..
            }
        ));
        assert!(matches!(
            out[3],
            ReadItem::Skipped {
                reason: "non_html",
                ..
            }
        ));
    }

    #[test]
    fn warc_truncated_header_is_recorded() {
        use crate::warc::writer::{RecordSpec, WriteType};
        let block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>cut";
        let mut w = WarcWriter::new(Vec::new());
        let spec = RecordSpec::new(WriteType::Response, "urn:uuid:t", DATE, block)
            .target_uri("http://x/")
            .header("WARC-Truncated", "length");
        w.write_record(&spec).unwrap();
        let out = items(w.finish().unwrap(), &WarcOptions::default());
        let ReadItem::Doc(d) = &out[0] else {
            panic!("{:?}", out[0])
        };
        assert_eq!(
            d.meta("warc_truncated").and_then(|v| v.as_str()),
            Some("length")
        );
        assert!(d.meta("input_truncated").is_none());
    }

    #[test]
    fn gzip_encoded_chunked_payload_is_decoded() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"<!doctype html><p>zipped</p>").unwrap();
        let gz = gz.finish().unwrap();
        let mut chunked = format!("{:x}\r\n", gz.len()).into_bytes();
        chunked.extend_from_slice(&gz);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let mut w = WarcWriter::new(Vec::new());
        w.write_response(
            "urn:uuid:z",
            DATE,
            "http://x/",
            200,
            &[
                ("Transfer-Encoding", "chunked"),
                ("Content-Encoding", "gzip"),
            ],
            &chunked,
        )
        .unwrap();
        let out = items(w.finish().unwrap(), &WarcOptions::default());
        let ReadItem::Doc(d) = &out[0] else {
            panic!("{:?}", out[0])
        };
        assert_eq!(d.raw_body(), Some(&b"<!doctype html><p>zipped</p>"[..]));
        assert_eq!(d.content_type.as_deref(), Some("text/html"), "sniffed");
        assert!(d.meta("http_decode_error").is_none());
    }

    #[test]
    fn bad_content_encoding_keeps_raw_bytes_and_says_so() {
        let mut w = WarcWriter::uncompressed(Vec::new());
        let enc = [("Content-Type", "text/html"), ("Content-Encoding", "gzip")];
        w.write_response(
            "urn:uuid:b",
            DATE,
            "http://x/",
            200,
            &enc,
            b"\x1f\x8bnot gzip",
        )
        .unwrap();
        w.write_response(
            "urn:uuid:c",
            DATE,
            "http://x/",
            200,
            &enc,
            b"<html>stored decoded",
        )
        .unwrap();
        let out = items(w.finish().unwrap(), &WarcOptions::default());
        let ReadItem::Doc(d) = &out[0] else { panic!() };
        assert_eq!(d.raw_body(), Some(&b"\x1f\x8bnot gzip"[..]));
        assert!(d.meta("http_decode_error").is_some());
        let ReadItem::Doc(d) = &out[1] else { panic!() };
        assert_eq!(d.raw_body(), Some(&b"<html>stored decoded"[..]));
        assert!(d.meta("http_decode_error").is_none());
    }

    #[test]
    fn metadata_only_when_asked_and_too_large_counted() {
        let mut w = WarcWriter::new(Vec::new());
        w.write_metadata(
            "urn:uuid:m",
            DATE,
            "http://x/",
            "urn:uuid:r",
            "application/json",
            b"{\"a\":1}",
        )
        .unwrap();
        w.write_resource(
            "urn:uuid:big",
            DATE,
            "http://x/b",
            "text/html",
            &[b'a'; 5000],
        )
        .unwrap();
        let data = w.finish().unwrap();
        let out = items(
            data.clone(),
            &WarcOptions {
                max_record_bytes: 1000,
                ..Default::default()
            },
        );
        assert!(matches!(
            out[0],
            ReadItem::Skipped {
                reason: "metadata",
                ..
            }
        ));
        assert!(matches!(
            out[1],
            ReadItem::Skipped {
                reason: "too_large",
                ..
            }
        ));
        let out = items(
            data,
            &WarcOptions {
                metadata_records: true,
                ..Default::default()
            },
        );
        let ReadItem::Doc(d) = &out[0] else { panic!() };
        assert_eq!(d.text, "{\"a\":1}");
        assert_eq!(d.content_type.as_deref(), Some("application/json"));
        assert!(matches!(out[1], ReadItem::Doc(_)));
    }
}
