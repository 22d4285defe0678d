//! HTTP message handling for `response` (and `request`) record blocks: the status line and headers
//! (CRLF or bare LF, repeated and folded headers kept in order), chunked transfer decoding and
//! content decoding (gzip, deflate, brotli).
//!
//! Everything here is lenient: a header block that cannot be parsed yields `None`, a bad chunked body
//! or a failed decompression keeps the bytes as they were and says so, so that the caller can record
//! it in the document's metadata.

use std::io::Read;

/// A parsed HTTP response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHead {
    /// The status code (`200`), or 0 for a request head.
    pub status: u16,
    /// Header (name, value) pairs in order, names as sent, values trimmed.
    pub headers: Vec<(String, String)>,
    /// Index of the first payload byte in the block.
    pub body_start: usize,
}

impl HttpHead {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Index just past the blank line ending the HTTP head (`\r\n\r\n`, `\n\n` or a mix), if any.
pub fn header_end(block: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(nl) = memchr::memchr(b'\n', &block[i..]) {
        let after = i + nl + 1;
        match block.get(after) {
            Some(b'\n') => return Some(after + 1),
            Some(b'\r') if block.get(after + 1) == Some(&b'\n') => return Some(after + 2),
            None => return None,
            _ => i = after,
        }
    }
    None
}

/// Parses an HTTP response head (`HTTP/1.1 200 OK`, headers, blank line). `None` if the block does not
/// start with an HTTP status line. A head without the closing blank line is accepted when it ends the
/// block (a response with no payload).
pub fn parse_response(block: &[u8]) -> Option<HttpHead> {
    // Some crawlers put stray blank lines before the status line.
    let skip = block
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n' | b' '))
        .count();
    let rest = &block[skip..];
    if !rest.starts_with(b"HTTP/") && !rest.starts_with(b"http/") {
        return None;
    }
    let end = header_end(rest).unwrap_or(rest.len());
    let head = &rest[..end];
    let mut lines = head.split(|&b| b == b'\n').map(trim_cr);
    let status_line = lines.next()?;
    let mut parts = status_line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    parts.next()?;
    let status = parts
        .next()
        .and_then(|code| std::str::from_utf8(code).ok())
        .and_then(|code| code.parse::<u16>().ok())
        .unwrap_or(0);
    let headers = parse_header_lines(lines);
    Some(HttpHead {
        status,
        headers,
        body_start: skip + end,
    })
}

/// Parses `Name: value` lines; a line starting with space or tab continues the previous value; lines
/// without a colon are ignored (lenient, like browsers).
pub(crate) fn parse_header_lines<'a>(
    lines: impl Iterator<Item = &'a [u8]>,
) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        if matches!(line[0], b' ' | b'\t') {
            if let Some((_, v)) = headers.last_mut() {
                let cont = String::from_utf8_lossy(line);
                v.push(' ');
                v.push_str(cont.trim());
            }
            continue;
        }
        if let Some(colon) = memchr::memchr(b':', line) {
            let name = String::from_utf8_lossy(&line[..colon]).trim().to_string();
            let value = String::from_utf8_lossy(&line[colon + 1..])
                .trim()
                .to_string();
            if !name.is_empty() {
                headers.push((name, value));
            }
        }
    }
    headers
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Removes chunked transfer encoding. `None` when the body is not valid chunked data (the caller keeps
/// the raw body then). A missing final zero-size chunk is tolerated when the data ends cleanly after a
/// chunk (truncated captures).
pub fn dechunk(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    loop {
        if i >= body.len() {
            // Ran out after a whole chunk: accept what we have, but only if there was a chunk.
            return if i > 0 { Some(out) } else { None };
        }
        let nl = memchr::memchr(b'\n', &body[i..])?;
        let line = trim_cr(&body[i..i + nl]);
        let size_part = line.split(|&b| b == b';').next().unwrap_or(line);
        let size_str = std::str::from_utf8(size_part).ok()?.trim();
        if size_str.is_empty() || size_str.len() > 15 {
            return None;
        }
        let size = usize::from_str_radix(size_str, 16).ok()?;
        i += nl + 1;
        if size == 0 {
            return Some(out);
        }
        let end = i.checked_add(size)?;
        if end > body.len() {
            // The last chunk is cut short: keep its bytes (the record was truncated).
            out.extend_from_slice(&body[i..]);
            return Some(out);
        }
        out.extend_from_slice(&body[i..end]);
        i = end;
        // The CRLF after the chunk data.
        if body[i..].starts_with(b"\r\n") {
            i += 2;
        } else if body[i..].starts_with(b"\n") {
            i += 1;
        } else if i < body.len() {
            return None;
        }
    }
}

/// The result of [`decode_content`] when the encoding is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// The whole payload decoded.
    Full(Vec<u8>),
    /// Decoding failed after some output (a truncated payload): the output so far, and why it stopped.
    Partial(Vec<u8>, String),
    /// Decoding failed before any output, or the output would exceed the limit: keep the raw bytes.
    Failed(String),
}

/// Decodes a `Content-Encoding` (gzip, x-gzip, deflate, br). `None` for identity or an encoding this
/// reader does not know (the body is used as is).
pub fn decode_content(encoding: &str, body: &[u8], limit: usize) -> Option<Decoded> {
    let enc = encoding.trim().to_ascii_lowercase();
    let mut out = Vec::with_capacity(body.len().saturating_mul(3).min(limit));
    let res = match enc.as_str() {
        "gzip" | "x-gzip" => read_limited(flate2::read::MultiGzDecoder::new(body), &mut out, limit),
        "deflate" => {
            // Servers send both zlib-wrapped and raw deflate under this name.
            let zlib = body.len() >= 2
                && body[0] & 0x0f == 8
                && (u16::from(body[0]) << 8 | u16::from(body[1])) % 31 == 0;
            if zlib {
                read_limited(flate2::read::ZlibDecoder::new(body), &mut out, limit)
            } else {
                read_limited(flate2::read::DeflateDecoder::new(body), &mut out, limit)
            }
        }
        "br" => read_limited(
            brotli_decompressor::Decompressor::new(body, 4096),
            &mut out,
            limit,
        ),
        _ => return None,
    };
    Some(match res {
        Ok(()) => Decoded::Full(out),
        Err(e) if out.is_empty() || out.len() > limit => Decoded::Failed(format!("{enc}: {e}")),
        Err(e) => Decoded::Partial(out, format!("{enc}: {e}")),
    })
}

fn read_limited(mut r: impl Read, out: &mut Vec<u8>, limit: usize) -> std::io::Result<()> {
    // Read in steps so that the output decoded before an error is kept.
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.extend_from_slice(&buf[..n]);
        if out.len() > limit {
            return Err(std::io::Error::other(format!(
                "decoded payload exceeds {limit} bytes"
            )));
        }
    }
}

/// Splits a `Content-Type` value into the lower-cased MIME type and the `charset` parameter, if any.
pub fn split_content_type(value: &str) -> (String, Option<String>) {
    let mut parts = value.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("charset") {
            let v = v.trim().trim_matches(|c| c == '"' || c == '\'').trim();
            (!v.is_empty()).then(|| v.to_ascii_lowercase())
        } else {
            None
        }
    });
    (mime, charset)
}

/// Whether the payload looks like HTML (used when no Content-Type was sent).
pub fn sniff_html(body: &[u8]) -> bool {
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&[][..], |p| &body[p..]);
    let head = &start[..start.len().min(512)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    [
        &b"<!doctype html"[..],
        b"<html",
        b"<head",
        b"<body",
        b"<title",
        b"<meta",
        b"<!--",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn parses_crlf_and_bare_lf_heads() {
        let a = parse_response(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n\r\n<p>").unwrap();
        assert_eq!(a.status, 200);
        assert_eq!(a.headers.len(), 3);
        assert_eq!(a.header("content-type"), Some("text/html"));
        assert_eq!(a.body_start, 74);
        let b = parse_response(
            b"HTTP/1.0 404 Not Found\nContent-Type: text/html; charset=EUC-JP\n  x\n\nbody",
        )
        .unwrap();
        assert_eq!(b.status, 404);
        assert_eq!(
            b.header("Content-Type"),
            Some("text/html; charset=EUC-JP x")
        );
        assert_eq!(
            &b"HTTP/1.0 404 Not Found\nContent-Type: text/html; charset=EUC-JP\n  x\n\nbody"
                [b.body_start..],
            b"body"
        );
        assert!(parse_response(b"GET / HTTP/1.1\r\n\r\n").is_none());
        let c = parse_response(b"HTTP/1.1 204 No Content\r\nA: b\r\n").unwrap();
        assert_eq!(c.body_start, 31);
    }

    #[test]
    fn dechunks_and_rejects_garbage() {
        assert_eq!(
            dechunk(b"4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n").unwrap(),
            b"Wikipedia"
        );
        assert_eq!(dechunk(b"4\nWiki\n0\n\n").unwrap(), b"Wiki");
        assert_eq!(dechunk(b"4\r\nWiki\r\n").unwrap(), b"Wiki");
        assert!(dechunk(b"<html>").is_none());
        assert!(dechunk(b"4\r\nWikiXX").is_none());
        assert!(dechunk(b"").is_none());
    }

    #[test]
    fn decodes_gzip_deflate_and_reports_failures() {
        let full = |d: Option<Decoded>| match d {
            Some(Decoded::Full(v)) => v,
            other => panic!("{other:?}"),
        };
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"hello").unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(full(decode_content("gzip", &gz, 100)), b"hello");
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(b"hello").unwrap();
        assert_eq!(
            full(decode_content("deflate", &z.finish().unwrap(), 100)),
            b"hello"
        );
        let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        d.write_all(b"hello").unwrap();
        assert_eq!(
            full(decode_content("Deflate", &d.finish().unwrap(), 100)),
            b"hello"
        );
        assert!(matches!(
            decode_content("gzip", b"not gzip", 100),
            Some(Decoded::Failed(_))
        ));
        assert!(matches!(
            decode_content("gzip", &gz, 3),
            Some(Decoded::Failed(_))
        ));
        // A payload cut before the gzip trailer keeps what was decoded.
        assert!(matches!(
            decode_content("gzip", &gz[..gz.len() - 2], 100),
            Some(Decoded::Partial(ref v, _)) if v == b"hello"
        ));
        assert!(decode_content("identity", b"x", 100).is_none());
    }

    #[test]
    fn content_type_and_sniffing() {
        assert_eq!(
            split_content_type("Text/HTML; Charset=\"GB2312\""),
            ("text/html".to_string(), Some("gb2312".to_string()))
        );
        assert_eq!(
            split_content_type("text/html"),
            ("text/html".to_string(), None)
        );
        assert!(sniff_html(b"\xef\xbb\xbf  <!DOCTYPE html><html>"));
        assert!(sniff_html(b"\n<html lang=en>"));
        assert!(!sniff_html(b"\x89PNG"));
        assert!(!sniff_html(b"{\"a\":1}"));
    }
}
