//! [`WarcWriter`]: writes WARC/1.1 records, one gzip member per record (as Common Crawl does), to any
//! [`Write`].
//!
//! The writer is deterministic: the caller passes record ids and dates ([`record_id_from_hash`] and
//! [`format_warc_date`] make both from stable inputs), so the same calls give the same bytes. Digests
//! are `sha1:` + RFC 4648 base32, the form Common Crawl and wget write.

use std::io::{self, Write};

use flate2::write::GzEncoder;
use flate2::Compression;
use sha1::{Digest, Sha1};

/// The record types the writer emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteType {
    /// `warcinfo`: describes the file and the crawl.
    Warcinfo,
    /// `request`: an HTTP request (`application/http; msgtype=request`).
    Request,
    /// `response`: an HTTP response (`application/http; msgtype=response`).
    Response,
    /// `resource`: a payload without a protocol envelope.
    Resource,
    /// `metadata`: data about another record.
    Metadata,
}

impl WriteType {
    /// The `WARC-Type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteType::Warcinfo => "warcinfo",
            WriteType::Request => "request",
            WriteType::Response => "response",
            WriteType::Resource => "resource",
            WriteType::Metadata => "metadata",
        }
    }
}

/// Everything needed to write one record. Build it with [`RecordSpec::new`] and the setters.
#[derive(Debug, Clone)]
pub struct RecordSpec<'a> {
    /// Record type.
    pub warc_type: WriteType,
    /// Record id without angle brackets (`urn:uuid:...`); the writer adds them.
    pub record_id: &'a str,
    /// `WARC-Date` (`2024-05-18T10:00:00Z`).
    pub date: &'a str,
    /// `WARC-Target-URI`, if any.
    pub target_uri: Option<&'a str>,
    /// `Content-Type` of the block; a default per type is used when `None`.
    pub content_type: Option<&'a str>,
    /// Further WARC headers (`WARC-Concurrent-To`, `WARC-IP-Address`, ...), written in order.
    pub extra_headers: Vec<(&'a str, &'a str)>,
    /// The record block (for request/response: HTTP header + payload).
    pub block: &'a [u8],
}

impl<'a> RecordSpec<'a> {
    /// A record with the required fields and nothing else.
    pub fn new(warc_type: WriteType, record_id: &'a str, date: &'a str, block: &'a [u8]) -> Self {
        RecordSpec {
            warc_type,
            record_id,
            date,
            target_uri: None,
            content_type: None,
            extra_headers: Vec::new(),
            block,
        }
    }
    /// Sets `WARC-Target-URI`.
    pub fn target_uri(mut self, uri: &'a str) -> Self {
        self.target_uri = Some(uri);
        self
    }
    /// Sets the block's `Content-Type`.
    pub fn content_type(mut self, ct: &'a str) -> Self {
        self.content_type = Some(ct);
        self
    }
    /// Adds a WARC header.
    pub fn header(mut self, name: &'a str, value: &'a str) -> Self {
        self.extra_headers.push((name, value));
        self
    }
}

/// Writes WARC/1.1 records to `W`, each record its own gzip member unless gzip is switched off.
pub struct WarcWriter<W: Write> {
    inner: W,
    gzip: Option<Compression>,
    offset: u64,
    scratch: Vec<u8>,
}

impl<W: Write> WarcWriter<W> {
    /// A writer that compresses each record as its own gzip member (level 6), as Common Crawl does.
    pub fn new(inner: W) -> Self {
        WarcWriter {
            inner,
            gzip: Some(Compression::new(6)),
            offset: 0,
            scratch: Vec::new(),
        }
    }

    /// A writer of uncompressed WARC.
    pub fn uncompressed(inner: W) -> Self {
        WarcWriter {
            gzip: None,
            ..WarcWriter::new(inner)
        }
    }

    /// Sets the gzip level (0–9).
    pub fn with_level(mut self, level: u32) -> Self {
        if self.gzip.is_some() {
            self.gzip = Some(Compression::new(level.min(9)));
        }
        self
    }

    /// Bytes written so far: the offset the next record will start at.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Writes one record and returns its offset (its gzip member's offset for compressed output).
    pub fn write_record(&mut self, spec: &RecordSpec<'_>) -> io::Result<u64> {
        let start = self.offset;
        let mut head = std::mem::take(&mut self.scratch);
        head.clear();
        head.extend_from_slice(b"WARC/1.1\r\n");
        push_header(&mut head, "WARC-Type", spec.warc_type.as_str());
        push_header(&mut head, "WARC-Date", spec.date);
        let id = format!(
            "<{}>",
            spec.record_id.trim_start_matches('<').trim_end_matches('>')
        );
        push_header(&mut head, "WARC-Record-ID", &id);
        if let Some(uri) = spec.target_uri {
            push_header(&mut head, "WARC-Target-URI", uri);
        }
        for (k, v) in &spec.extra_headers {
            push_header(&mut head, k, v);
        }
        let ct = spec.content_type.unwrap_or(match spec.warc_type {
            WriteType::Warcinfo => "application/warc-fields",
            WriteType::Request => "application/http; msgtype=request",
            WriteType::Response => "application/http; msgtype=response",
            WriteType::Resource | WriteType::Metadata => "application/octet-stream",
        });
        push_header(&mut head, "Content-Type", ct);
        push_header(&mut head, "WARC-Block-Digest", &sha1_digest(spec.block));
        let payload = match spec.warc_type {
            WriteType::Request | WriteType::Response => {
                http_header_end(spec.block).map(|end| &spec.block[end..])
            }
            WriteType::Resource => Some(spec.block),
            _ => None,
        };
        if let Some(p) = payload {
            push_header(&mut head, "WARC-Payload-Digest", &sha1_digest(p));
        }
        push_header(&mut head, "Content-Length", &spec.block.len().to_string());
        head.extend_from_slice(b"\r\n");

        let written = match self.gzip {
            Some(level) => {
                let mut counter = CountingWriter {
                    inner: &mut self.inner,
                    count: 0,
                };
                let mut gz = GzEncoder::new(&mut counter, level);
                gz.write_all(&head)?;
                gz.write_all(spec.block)?;
                gz.write_all(b"\r\n\r\n")?;
                gz.finish()?;
                counter.count
            }
            None => {
                self.inner.write_all(&head)?;
                self.inner.write_all(spec.block)?;
                self.inner.write_all(b"\r\n\r\n")?;
                (head.len() + spec.block.len() + 4) as u64
            }
        };
        self.scratch = head;
        self.offset += written;
        Ok(start)
    }

    /// Writes a `warcinfo` record whose block is the given `key: value` fields (e.g. `isPartOf`).
    pub fn write_warcinfo(
        &mut self,
        record_id: &str,
        date: &str,
        filename: Option<&str>,
        fields: &[(&str, &str)],
    ) -> io::Result<u64> {
        let mut block = Vec::new();
        for (k, v) in fields {
            push_header(&mut block, k, v);
        }
        let mut spec = RecordSpec::new(WriteType::Warcinfo, record_id, date, &block);
        if let Some(f) = filename {
            spec = spec.header("WARC-Filename", f);
        }
        self.write_record(&spec)
    }

    /// Writes an HTTP `response` record built from a status, headers (in order) and the payload.
    pub fn write_response(
        &mut self,
        record_id: &str,
        date: &str,
        uri: &str,
        status: u16,
        http_headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<u64> {
        let mut block = http_head(
            &format!("HTTP/1.1 {status} {}", reason(status)),
            http_headers,
        );
        block.extend_from_slice(body);
        self.write_record(
            &RecordSpec::new(WriteType::Response, record_id, date, &block).target_uri(uri),
        )
    }

    /// Writes an HTTP `request` record (`GET <path>` with the given headers and no body).
    pub fn write_request(
        &mut self,
        record_id: &str,
        date: &str,
        uri: &str,
        http_headers: &[(&str, &str)],
    ) -> io::Result<u64> {
        let path = uri
            .find("://")
            .and_then(|i| uri[i + 3..].find('/').map(|j| &uri[i + 3 + j..]))
            .unwrap_or("/");
        let block = http_head(&format!("GET {path} HTTP/1.1"), http_headers);
        self.write_record(
            &RecordSpec::new(WriteType::Request, record_id, date, &block).target_uri(uri),
        )
    }

    /// Writes a `resource` record (a payload without HTTP envelope) of the given MIME type.
    pub fn write_resource(
        &mut self,
        record_id: &str,
        date: &str,
        uri: &str,
        content_type: &str,
        body: &[u8],
    ) -> io::Result<u64> {
        self.write_record(
            &RecordSpec::new(WriteType::Resource, record_id, date, body)
                .target_uri(uri)
                .content_type(content_type),
        )
    }

    /// Writes a `metadata` record about `refers_to` (a record id, without brackets).
    pub fn write_metadata(
        &mut self,
        record_id: &str,
        date: &str,
        uri: &str,
        refers_to: &str,
        content_type: &str,
        block: &[u8],
    ) -> io::Result<u64> {
        let refers = format!("<{refers_to}>");
        self.write_record(
            &RecordSpec::new(WriteType::Metadata, record_id, date, block)
                .target_uri(uri)
                .content_type(content_type)
                .header("WARC-Refers-To", &refers),
        )
    }

    /// Flushes the inner writer (every record written so far reaches it whole).
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}

struct CountingWriter<'w, W: Write> {
    inner: &'w mut W,
    count: u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    // A header value must not break the record framing; line breaks become spaces.
    out.extend(
        value
            .bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
    out.extend_from_slice(b"\r\n");
}

fn http_head(first_line: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut block = Vec::with_capacity(256);
    block.extend_from_slice(first_line.as_bytes());
    block.extend_from_slice(b"\r\n");
    for (k, v) in headers {
        push_header(&mut block, k, v);
    }
    block.extend_from_slice(b"\r\n");
    block
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// End of the HTTP header (index of the first payload byte), tolerating bare-LF line ends.
fn http_header_end(block: &[u8]) -> Option<usize> {
    crate::warc::http::header_end(block)
}

/// `sha1:` + base32 of the SHA-1 of `data`: the digest form of `WARC-Block-Digest` in Common Crawl.
pub fn sha1_digest(data: &[u8]) -> String {
    let hash = Sha1::digest(data);
    format!("sha1:{}", base32(&hash))
}

/// RFC 4648 base32 (upper case, `=` padded).
pub fn base32(data: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let v = buf.iter().fold(0u64, |acc, &b| (acc << 8) | b as u64);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(ALPHABET[((v >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A deterministic `urn:uuid:` id made from any bytes (a URL + date, a content hash, ...).
///
/// The first 16 bytes of SHA-1(`seed`) shaped as a version-5 UUID (RFC 4122 variant), so the id looks
/// like every other WARC record id and the same seed always gives the same id.
pub fn record_id_from_hash(seed: &[u8]) -> String {
    let h = Sha1::digest(seed);
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// Formats seconds since the Unix epoch (UTC) as a `WARC-Date` (`YYYY-MM-DDThh:mm:ssZ`).
pub fn format_warc_date(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    // Days to civil date (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY======");
        assert_eq!(base32(b"fo"), "MZXQ====");
        assert_eq!(base32(b"foob"), "MZXW6YQ=");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI======");
    }

    #[test]
    fn sha1_digest_of_empty_is_the_well_known_value() {
        // SHA-1("") = da39a3ee..., whose base32 is the value seen on empty WARC payloads.
        assert_eq!(sha1_digest(b""), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    }

    #[test]
    fn record_ids_are_deterministic_uuid_shaped() {
        let a = record_id_from_hash(b"http://example.com/ 2024");
        assert_eq!(a, record_id_from_hash(b"http://example.com/ 2024"));
        assert_ne!(a, record_id_from_hash(b"http://example.com/ 2025"));
        assert_eq!(a.len(), "urn:uuid:".len() + 36);
        assert_eq!(&a[9 + 14..9 + 15], "5");
    }

    #[test]
    fn warc_dates() {
        assert_eq!(format_warc_date(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_warc_date(1_716_000_000), "2024-05-18T02:40:00Z");
        assert_eq!(format_warc_date(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn offsets_and_lengths_add_up() {
        let mut w = WarcWriter::uncompressed(Vec::new());
        let a = w
            .write_resource(
                "urn:uuid:1",
                "2024-01-01T00:00:00Z",
                "http://a/",
                "text/plain",
                b"hello",
            )
            .unwrap();
        let b = w
            .write_resource(
                "urn:uuid:2",
                "2024-01-01T00:00:00Z",
                "http://b/",
                "text/plain",
                b"x",
            )
            .unwrap();
        let out = w.finish().unwrap();
        assert_eq!(a, 0);
        assert!(out[b as usize..].starts_with(b"WARC/1.1\r\n"));
        let first = String::from_utf8_lossy(&out[..b as usize]);
        assert!(first.contains("Content-Length: 5\r\n"));
        assert!(first.ends_with("\r\n\r\nhello\r\n\r\n"));
        assert!(first.contains("WARC-Record-ID: <urn:uuid:1>\r\n"));
    }
}
