//! Readers: every supported input format turned into a stream of [`ReadItem`]s.
//!
//! A reader never panics and never stops at the first bad record when it can resynchronise: each input
//! record ends as a document, a counted skip with a named reason, or a counted error naming the file and
//! byte offset. The runtime adds these to the manifest, so nothing is lost silently.

use crate::document::Document;

/// One item from a reader.
#[derive(Debug)]
pub enum ReadItem {
    /// A document for the pipeline.
    Doc(Document),
    /// A record that was read correctly but is not a document for this pipeline (a request record, a
    /// revisit, a non-HTML response, ...). `reason` becomes the counter `skipped_<reason>`.
    Skipped {
        /// Short snake_case reason: `request`, `revisit`, `non_html`, `warcinfo`, ...
        reason: &'static str,
        /// Offset of the record.
        offset: u64,
    },
    /// A record (or a stretch of the file) that could not be read. The reader goes on after it when it
    /// can find the next record; otherwise this is its last item.
    Error(RecordError),
}

/// A bad record or a bad stretch of an input file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: offset {offset}: {message}")]
pub struct RecordError {
    /// The input file.
    pub file: String,
    /// Byte offset where the problem was found (in the compressed file for gzip input).
    pub offset: u64,
    /// What was wrong.
    pub message: String,
}
