//! [`WarcReader`]: the streaming, lenient record parser.
//!
//! The parser reads line by line until a record's header block ends, then reads exactly
//! `Content-Length` bytes of block. Between records it skips blank lines (the `\r\n\r\n` record
//! terminator, and stray ones). Anything else where a record should start is a malformed stretch: it
//! is reported once, as one error at its offset, and the parser skips line by line until a line
//! starts with `WARC/` (a version line), which is how it resynchronises. gzip faults come from the
//! byte source (see the `gzip` module) and are reported as errors too; after a corrupt member the
//! parser resumes at the next member.

use std::collections::VecDeque;
use std::io::Read;

use super::http::parse_header_lines;
use super::record::{Record, WarcError, WarcHeaders};
use super::source::{LineEnd, Source, SourceError};

/// Default cap on a record block: 64 MiB (bigger records are skipped unread, as `too_large`).
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;
/// Longest header line kept (a longer one makes the record malformed).
const MAX_HEADER_LINE: usize = 64 * 1024;
/// Largest header block (all lines) accepted.
const MAX_HEADER_BYTES: usize = 1024 * 1024;
/// Bytes of a junk line quoted in the error message.
const QUOTE: usize = 40;
/// First allocation for a block; it grows as data arrives, so a lying `Content-Length` costs nothing.
const INITIAL_BLOCK: u64 = 1024 * 1024;

/// Streaming WARC record reader over any [`Read`] (plain, per-record gzip or whole-file gzip,
/// detected from the first bytes).
///
/// Yields `Ok(Record)` for each record, `Err(WarcError::Malformed)` for each bad stretch (then goes on
/// where it can) and `Err(WarcError::TooLarge)` for records over the block limit. It never panics and
/// always ends: every step consumes input.
pub struct WarcReader<R: Read> {
    src: Option<Source<R>>,
    init_error: Option<WarcError>,
    max_record_bytes: u64,
    pending: VecDeque<Result<Record, WarcError>>,
    /// In a malformed stretch that has been reported: skip silently until the next version line.
    skipping: bool,
    done: bool,
    line: Vec<u8>,
    head: Vec<u8>,
}

impl<R: Read> WarcReader<R> {
    /// A reader with the default block limit ([`DEFAULT_MAX_RECORD_BYTES`]).
    pub fn new(input: R) -> Self {
        Self::with_max_record_bytes(input, DEFAULT_MAX_RECORD_BYTES)
    }

    /// A reader that skips (as [`WarcError::TooLarge`]) records whose block exceeds `max` bytes.
    pub fn with_max_record_bytes(input: R, max: u64) -> Self {
        let (src, init_error) = match Source::detect(input) {
            Ok(s) => (Some(s), None),
            Err((_, e)) => (
                None,
                Some(WarcError::Malformed {
                    offset: 0,
                    message: format!("read error: {e}"),
                }),
            ),
        };
        WarcReader {
            src,
            init_error,
            max_record_bytes: max,
            pending: VecDeque::new(),
            skipping: false,
            done: false,
            line: Vec::with_capacity(256),
            head: Vec::with_capacity(4096),
        }
    }

    /// Whether the input was detected as gzip.
    pub fn is_gzip(&self) -> bool {
        self.src.as_ref().is_some_and(Source::is_gzip)
    }

    fn source_error(&mut self, e: SourceError) -> WarcError {
        if e.at_eof {
            self.done = true;
        }
        // What follows a gzip fault is the start of another member or garbage: skip to a version line
        // without a second report.
        self.skipping = true;
        WarcError::Malformed {
            offset: e.offset,
            message: e.message,
        }
    }

    /// Reads lines until a version line; returns (record offset, stream offset, version).
    fn next_version_line(&mut self) -> Option<Result<(u64, u64, String), WarcError>> {
        let src = self.src.as_mut()?;
        loop {
            let pos = src.pos();
            self.line.clear();
            let end = match src.read_line(&mut self.line, 64) {
                Ok((end, _)) => end,
                Err(e) => return Some(Err(self.source_error(e))),
            };
            if self.line.is_empty() && end == LineEnd::Eof {
                self.done = true;
                return None;
            }
            if self.line.starts_with(b"WARC/") {
                let version = String::from_utf8_lossy(&self.line[5..]).trim().to_string();
                let offset = src.record_offset(pos);
                self.skipping = false;
                return Some(Ok((offset, pos, version)));
            }
            if self
                .line
                .iter()
                .all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t'))
            {
                continue;
            }
            if !self.skipping {
                self.skipping = true;
                let offset = src.record_offset(pos);
                let quoted: String = self.line[..self.line.len().min(QUOTE)]
                    .escape_ascii()
                    .to_string();
                return Some(Err(WarcError::Malformed {
                    offset,
                    message: format!(
                        "expected a WARC version line, found \"{quoted}\"; skipping to the next record"
                    ),
                }));
            }
        }
    }

    fn read_record(&mut self) -> Option<Result<Record, WarcError>> {
        let (offset, stream_offset, version) = match self.next_version_line()? {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        let malformed = |message: String| WarcError::Malformed { offset, message };
        // Header lines up to the blank line.
        self.head.clear();
        let src = self.src.as_mut()?;
        loop {
            let before = self.head.len();
            let (end, len) = match src.read_line(&mut self.head, MAX_HEADER_LINE) {
                Ok(r) => r,
                Err(e) => {
                    let err = self.source_error(e);
                    return Some(Err(malformed(format!("in the record header: {err}"))));
                }
            };
            if len > MAX_HEADER_LINE || self.head.len() > MAX_HEADER_BYTES {
                self.skipping = true;
                return Some(Err(malformed(
                    "record header line or block too long".into(),
                )));
            }
            if end == LineEnd::Eof {
                self.done = true;
                return Some(Err(malformed(
                    "input ends inside the record header".to_string(),
                )));
            }
            let line = &self.head[before..];
            if line == b"\r\n" || line == b"\n" {
                self.head.truncate(before);
                break;
            }
        }
        let headers = WarcHeaders(parse_header_lines(
            self.head
                .split(|&b| b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l)),
        ));
        let length = match headers
            .get("Content-Length")
            .and_then(|v| v.trim().parse::<u64>().ok())
        {
            Some(n) => n,
            None => {
                self.skipping = true;
                return Some(Err(malformed(
                    "missing or invalid Content-Length; skipping to the next record".into(),
                )));
            }
        };
        let src = self.src.as_mut()?;
        if length > self.max_record_bytes {
            let (got, err) = src.skip(length);
            if let Some(e) = err {
                let e = self.source_error(e);
                self.pending.push_back(Err(e));
            } else if got < length {
                self.done = true;
                self.pending.push_back(Err(malformed(format!(
                    "input ends inside the record block ({got} of {length} bytes)"
                ))));
            }
            return Some(Err(WarcError::TooLarge {
                offset,
                record_type: headers.record_type(),
                length,
            }));
        }
        let mut block = Vec::with_capacity(length.min(INITIAL_BLOCK) as usize);
        let (got, err) = src.read_exact_into(&mut block, length);
        let mut truncated = false;
        if let Some(e) = err {
            if e.at_eof {
                // The input ends (a cut gzip member): keep what arrived, flagged, then the error.
                truncated = true;
                let e = self.source_error(e);
                self.pending.push_back(Err(e));
            } else {
                let e = self.source_error(e);
                return Some(Err(malformed(format!(
                    "record lost: the input is corrupt inside its block ({e})"
                ))));
            }
        } else if got < length {
            truncated = true;
            self.done = true;
            self.pending.push_back(Err(malformed(format!(
                "input ends inside the record block ({got} of {length} bytes)"
            ))));
        }
        Some(Ok(Record {
            offset,
            stream_offset,
            version,
            headers,
            block,
            truncated,
        }))
    }
}

impl<R: Read> Iterator for WarcReader<R> {
    type Item = Result<Record, WarcError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.init_error.take() {
            self.done = true;
            return Some(Err(e));
        }
        if let Some(item) = self.pending.pop_front() {
            return Some(item);
        }
        if self.done {
            return None;
        }
        let item = self.read_record();
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::warc::record::RecordType;

    fn rec(t: &str, body: &str) -> String {
        format!(
            "WARC/1.0\r\nWARC-Type: {t}\r\nWARC-Record-ID: <urn:uuid:{t}>\r\nContent-Length: {}\r\n\r\n{body}\r\n\r\n",
            body.len()
        )
    }

    #[test]
    fn reads_records_and_offsets() {
        let data = format!("{}{}", rec("resource", "hello"), rec("request", ""));
        let recs: Vec<_> = WarcReader::new(data.as_bytes()).collect();
        assert_eq!(recs.len(), 2);
        let a = recs[0].as_ref().unwrap();
        assert_eq!(a.block, b"hello");
        assert_eq!(a.version, "1.0");
        assert_eq!(a.offset, 0);
        let b = recs[1].as_ref().unwrap();
        assert_eq!(b.offset, rec("resource", "hello").len() as u64);
        assert_eq!(b.record_type(), RecordType::Request);
    }

    #[test]
    fn junk_is_one_error_and_the_reader_resyncs() {
        let data = format!(
            "{}junk line\nmore junk\n{}",
            rec("resource", "a"),
            rec("request", "b")
        );
        let items: Vec<_> = WarcReader::new(data.as_bytes()).collect();
        assert_eq!(items.len(), 3, "{items:?}");
        let err = items[1].as_ref().unwrap_err();
        assert_eq!(err.offset(), rec("resource", "a").len() as u64);
        assert!(items[2].is_ok());
    }

    #[test]
    fn bad_content_length_and_too_large() {
        let bad = "WARC/1.0\r\nWARC-Type: response\r\nContent-Length: lots\r\n\r\nxx\r\n\r\n";
        let data = format!("{bad}{}", rec("resource", "0123456789"));
        let items: Vec<_> = WarcReader::new(data.as_bytes()).collect();
        assert!(matches!(
            items[0],
            Err(WarcError::Malformed { offset: 0, .. })
        ));
        assert!(items[1].is_ok());
        assert_eq!(items.len(), 2);
        let items: Vec<_> = WarcReader::with_max_record_bytes(data.as_bytes(), 5).collect();
        assert!(matches!(
            items[1],
            Err(WarcError::TooLarge { length: 10, .. })
        ));
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn truncated_block_is_flagged_and_reported() {
        let full = rec("resource", "0123456789");
        let cut = &full[..full.len() - 8];
        let items: Vec<_> = WarcReader::new(cut.as_bytes()).collect();
        assert_eq!(items.len(), 2);
        let r = items[0].as_ref().unwrap();
        assert!(r.truncated);
        assert_eq!(r.block, b"012345");
        assert!(items[1].is_err());
    }

    #[test]
    fn empty_and_header_only_inputs_end() {
        assert_eq!(WarcReader::new(&b""[..]).count(), 0);
        assert_eq!(WarcReader::new(&b"\r\n\r\n"[..]).count(), 0);
        let items: Vec<_> = WarcReader::new(&b"WARC/1.0\r\nWARC-Type: x\r\n"[..]).collect();
        assert_eq!(items.len(), 1);
        assert!(items[0].is_err());
    }
}
