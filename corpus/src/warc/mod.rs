//! WARC, WET and WAT reading (and WARC writing): quarry's own streaming, lenient reader.
//!
//! # Input
//!
//! [`WarcReader`] reads WARC/1.0 and 1.1 (and tolerates 0.17/0.18, e.g. ClueWeb09) from any
//! [`std::io::Read`]. The format is detected from the first two bytes: gzip magic `1f 8b` means gzip,
//! anything else is read as uncompressed WARC.
//!
//! - **Per-record gzip** (Common Crawl): each record's offset is the offset of the gzip member it
//!   starts in, in the compressed file, exactly (the `offset` of CC's CDX index). Compressed bytes are
//!   counted member by member; gzip headers and trailers are parsed here and checked (CRC, length).
//! - **Whole-file gzip** (one member holding many records) and members that do not line up with
//!   records: the members are read as one continuous stream; a record's offset is the offset of the
//!   member it starts in (so several records can share one offset; [`Record::stream_offset`] has the
//!   exact decompressed position).
//! - **Uncompressed**: the offset is the record's first byte.
//!
//! Memory is bounded: the input goes through fixed buffers, and a record block bigger than
//! [`WarcOptions::max_record_bytes`] (default 64 MiB) is skipped unread.
//!
//! # Leniency and errors
//!
//! Line ends may be CRLF or bare LF, in WARC headers and in HTTP heads (ClueWeb09 has CRLF WARC headers
//! and LF HTTP heads). Blank lines between records are skipped. Each fault is reported once with the
//! file offset where it was found, and reading goes on:
//! - a stretch that is not a record (garbage, a wrong `Content-Length` landing mid-data): one error,
//!   then the reader skips to the next line that starts with `WARC/`;
//! - a missing or unparsable `Content-Length`: one error at the record, then the same skip;
//! - non-gzip bytes in a gzip file (trailing garbage): one error at their compressed offset, then a
//!   scan for the next gzip member;
//! - corrupt deflate data: one error at the member's offset; the record being read is lost and
//!   reading resumes at the next member;
//! - input that ends inside a record (a cut file or a gzip member without its trailer): the partial
//!   record is **recovered** with [`Record::truncated`] set (`input_truncated: true` in the
//!   document's metadata), followed by one error naming the offset of the cut member (gzip) or record.
//!
//! # Documents
//!
//! [`read_documents`] turns records into [`crate::ReadItem`]s:
//!
//! | record | becomes |
//! |---|---|
//! | `response` with an HTTP status 2xx and Content-Type `text/html` or `application/xhtml+xml` (sniffed from the payload, or CC's `WARC-Identified-Payload-Type`, when the Content-Type is missing) | a document with empty text and the de-chunked, content-decoded payload in [`crate::Document::raw`] |
//! | `resource` with an HTML Content-Type (sniffed when missing) | a document, as above, with no HTTP headers |
//! | `conversion` (WET) | a document whose text is the block as UTF-8 (lossy), content type `text/plain` |
//! | `metadata` with [`WarcOptions::metadata_records`] (WAT) | a document whose text is the block |
//! | `warcinfo` | skipped `warcinfo`; its `isPartOf` becomes the crawl of the documents after it |
//!
//! Every other record is skipped with one reason from a fixed set ([`skip::ALL`]): `warcinfo`,
//! `request`, `revisit`, `non_html` (non-HTML payloads and non-HTTP responses such as `dns:`),
//! `http_error` (status not 2xx, HTML or not), `metadata`, `unknown_type` (`continuation`, unknown and
//! missing `WARC-Type`), `too_large`, `empty` (an HTML or text record with an empty payload). A
//! response whose block has no HTTP status line is an error, not a skip.
//!
//! Document fields: `id` is the `WARC-Record-ID` without angle brackets (`urn:uuid:...`), `url` the
//! `WARC-Target-URI`, `date` the `WARC-Date` as written, `charset` the HTTP Content-Type's charset when
//! declared (else `None`: the HTML extractor detects it), `source` the file and record offset.
//! Metadata keys set here: `http_status`; `warc_truncated` (the `WARC-Truncated` header's value);
//! `input_truncated` (the input ended inside the record); `http_dechunk_failed` (declared chunked but
//! not valid chunked data: the raw body is kept); `http_decode_error` (a `Content-Encoding` that
//! failed to decode or exceeded the size cap: the raw bytes are kept, the message says why);
//! `warc_identified_content_language` and `warc_refers_to` (WET/WAT); `robots_ai_disallow`,
//! `tdm_reservation` and `tdm_policy` from the opt-out headers `quarry crawl` writes (see
//! [`crate::crawl`]).
//!
//! # Writing
//!
//! [`writer::WarcWriter`] writes WARC/1.1 with one gzip member per record, SHA-1 base32 block and
//! payload digests, and caller-given (deterministic) record ids and dates.

mod documents;
mod gzip;
pub mod http;
mod reader;
mod record;
mod source;
pub mod writer;

pub use documents::{read_documents, skip, DocumentReader, WarcOptions};
pub use reader::{WarcReader, DEFAULT_MAX_RECORD_BYTES};
pub use record::{strip_brackets, Record, RecordType, WarcError, WarcHeaders};
pub use writer::WarcWriter;
