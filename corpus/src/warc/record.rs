//! A raw WARC record as the reader yields it: version, named header fields, the block, and where the
//! record sits in the input.

use std::fmt;

/// The `WARC-Type` of a record, as far as quarry treats types differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordType {
    /// `warcinfo`: about the file and the crawl (`isPartOf` names the crawl).
    Warcinfo,
    /// `response`: a full protocol response (HTTP head + payload).
    Response,
    /// `resource`: a payload without protocol envelope.
    Resource,
    /// `request`: the request that fetched a response.
    Request,
    /// `metadata`: data about another record (CC: fetch time, detected charset/languages; WAT: JSON).
    Metadata,
    /// `revisit`: a payload identical to an earlier capture, usually without the payload.
    Revisit,
    /// `conversion`: a transformed payload, e.g. the extracted text in Common Crawl WET files.
    Conversion,
    /// `continuation`: the rest of a segmented record.
    Continuation,
    /// Any other or missing `WARC-Type`.
    Unknown,
}

impl RecordType {
    /// Reads a `WARC-Type` value (case-insensitive).
    pub fn parse(value: &str) -> Self {
        let v = value.trim();
        let is = |s: &str| v.eq_ignore_ascii_case(s);
        if is("warcinfo") {
            RecordType::Warcinfo
        } else if is("response") {
            RecordType::Response
        } else if is("resource") {
            RecordType::Resource
        } else if is("request") {
            RecordType::Request
        } else if is("metadata") {
            RecordType::Metadata
        } else if is("revisit") {
            RecordType::Revisit
        } else if is("conversion") {
            RecordType::Conversion
        } else if is("continuation") {
            RecordType::Continuation
        } else {
            RecordType::Unknown
        }
    }
}

/// WARC header fields in file order. Lookups are case-insensitive; repeated fields are all kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarcHeaders(pub Vec<(String, String)>);

impl WarcHeaders {
    /// The first field with this name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All fields with this name, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The record type from `WARC-Type` ([`RecordType::Unknown`] when missing).
    pub fn record_type(&self) -> RecordType {
        self.get("WARC-Type")
            .map_or(RecordType::Unknown, RecordType::parse)
    }

    /// `WARC-Record-ID` without the angle brackets (`urn:uuid:...`).
    pub fn record_id(&self) -> Option<&str> {
        self.get("WARC-Record-ID").map(strip_brackets)
    }

    /// `WARC-Target-URI`, without the angle brackets some writers (WARC/1.1 drafts) put around it.
    pub fn target_uri(&self) -> Option<&str> {
        self.get("WARC-Target-URI").map(strip_brackets)
    }
}

/// Removes one pair of surrounding `<` `>` and whitespace.
pub fn strip_brackets(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(v)
        .trim()
}

/// One WARC record.
#[derive(Debug, Clone)]
pub struct Record {
    /// Offset in the input file: the gzip member's offset for compressed input (of the member the
    /// record starts in), the record's first byte for uncompressed input.
    pub offset: u64,
    /// Position of the record's first byte in the decompressed stream (equals `offset` when plain).
    pub stream_offset: u64,
    /// The version from the first line: `1.0`, `1.1`, `0.18`, ...
    pub version: String,
    /// The header fields.
    pub headers: WarcHeaders,
    /// The record block (`Content-Length` bytes, fewer if `truncated`).
    pub block: Vec<u8>,
    /// True when the input ended before `Content-Length` bytes were read; the reader also yields an
    /// error for the truncation right after this record.
    pub truncated: bool,
}

impl Record {
    /// The record type.
    pub fn record_type(&self) -> RecordType {
        self.headers.record_type()
    }
}

/// Why the reader could not give a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarcError {
    /// A well-formed record whose block exceeds the configured limit; its block was skipped unread.
    /// Not a fault in the file: turned into the skip reason `too_large`.
    TooLarge {
        /// Offset of the record.
        offset: u64,
        /// Its `WARC-Type`.
        record_type: RecordType,
        /// Its `Content-Length`.
        length: u64,
    },
    /// A malformed stretch of the input (bad version line, bad header, bad gzip, truncation).
    Malformed {
        /// File offset where the problem was found (the gzip member's offset for gzip input).
        offset: u64,
        /// What was wrong.
        message: String,
    },
}

impl WarcError {
    /// The offset this error is about.
    pub fn offset(&self) -> u64 {
        match self {
            WarcError::TooLarge { offset, .. } | WarcError::Malformed { offset, .. } => *offset,
        }
    }
}

impl fmt::Display for WarcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WarcError::TooLarge { offset, length, .. } => {
                write!(
                    f,
                    "offset {offset}: record block of {length} bytes exceeds the limit"
                )
            }
            WarcError::Malformed { offset, message } => write!(f, "offset {offset}: {message}"),
        }
    }
}

impl std::error::Error for WarcError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_and_ids() {
        let h = WarcHeaders(vec![
            ("WARC-Type".into(), "Response".into()),
            ("WARC-Record-ID".into(), "<urn:uuid:abc>".into()),
            ("WARC-Concurrent-To".into(), "<a>".into()),
            ("warc-concurrent-to".into(), "<b>".into()),
        ]);
        assert_eq!(h.record_type(), RecordType::Response);
        assert_eq!(h.record_id(), Some("urn:uuid:abc"));
        assert_eq!(h.get_all("WARC-Concurrent-To").count(), 2);
        assert_eq!(h.target_uri(), None);
        assert_eq!(RecordType::parse("bogus"), RecordType::Unknown);
    }
}
