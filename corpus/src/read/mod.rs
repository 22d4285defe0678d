//! Readers: every supported input format turned into a stream of [`ReadItem`]s.
//!
//! A reader never panics and never stops at the first bad record when it can resynchronise: each input
//! record ends as a document, a counted skip with a named reason, or a counted error naming the file and
//! byte offset. The runtime adds these to the manifest, so nothing is lost silently.

mod jsonl;
mod parquet;

pub use jsonl::JsonlReader;
pub use parquet::ParquetReader;

use std::io::Read;

use crate::document::Document;
use crate::storage::{self, DigestHandle, HashingReader, InputFile, Location, StorageError};

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

/// Input formats, detected from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// WARC, WET or WAT; gzip (per record or whole file) or uncompressed.
    Warc,
    /// JSON lines; plain, gzip or zstd.
    Jsonl,
    /// Parquet.
    Parquet,
}

/// Compression of a JSONL input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Format {
    /// Detects the format from a file name (`.warc[.gz]`, `.wet[.gz]`, `.wat[.gz]`, `.arc`-less;
    /// `.jsonl[.gz|.zst]`, `.json[.gz|.zst]`, `.ndjson`; `.parquet`).
    pub fn detect(name: &str) -> Option<Format> {
        let n = name.to_ascii_lowercase();
        let base = n
            .strip_suffix(".gz")
            .or_else(|| n.strip_suffix(".zst"))
            .or_else(|| n.strip_suffix(".zstd"))
            .unwrap_or(&n);
        if base.ends_with(".warc")
            || base.ends_with(".wet")
            || base.ends_with(".wat")
            || base.ends_with(".warc.open")
        {
            Some(Format::Warc)
        } else if base.ends_with(".jsonl") || base.ends_with(".json") || base.ends_with(".ndjson") {
            Some(Format::Jsonl)
        } else if n.ends_with(".parquet") {
            Some(Format::Parquet)
        } else {
            None
        }
    }
}

fn compression(name: &str) -> Compression {
    let n = name.to_ascii_lowercase();
    if n.ends_with(".gz") {
        Compression::Gzip
    } else if n.ends_with(".zst") || n.ends_with(".zstd") {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Reader options from the recipe's `[input]` table.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReaderOptions {
    /// Force a format instead of detecting it from the file name.
    pub format: Option<Format>,
    /// JSONL/Parquet field holding the text.
    pub text_key: String,
    /// WARC: also yield `metadata` records (WAT) as documents.
    pub metadata_records: bool,
    /// WARC: largest record body read, in bytes; larger records are skipped as `too_large`.
    pub max_record_bytes: u64,
    /// Crawl name to set on documents whose input does not name one.
    pub crawl: Option<String>,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            format: None,
            text_key: "text".to_string(),
            metadata_records: false,
            max_record_bytes: 64 << 20,
            crawl: None,
        }
    }
}

/// Errors opening an input (reading errors inside a file are [`ReadItem::Error`]s instead).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The file could not be opened.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The format could not be told from the name.
    #[error("{0}: unknown input format (expected .warc[.gz], .wet.gz, .wat.gz, .jsonl[.gz|.zst] or .parquet; or set `format` in the recipe's [input])")]
    UnknownFormat(String),
    /// The file is not in the format its name says.
    #[error("{0}")]
    Bad(RecordError),
}

/// An opened input: its documents, and a handle that gives the sha256 of the bytes read.
pub struct OpenedInput {
    /// The items, in file order.
    pub items: Box<dyn Iterator<Item = ReadItem> + Send>,
    /// sha256 of the raw (compressed) input, complete once the items are exhausted.
    pub digest: DigestHandle,
}

/// Opens an input file and streams its documents.
pub fn open_documents(input: &InputFile, opts: &ReaderOptions) -> Result<OpenedInput, OpenError> {
    let name = input.location.to_string();
    let format = opts
        .format
        .or_else(|| Format::detect(input.location.file_name()))
        .ok_or_else(|| OpenError::UnknownFormat(name.clone()))?;
    let items: Box<dyn Iterator<Item = ReadItem> + Send>;
    let digest;
    match format {
        Format::Parquet => {
            // Parquet needs random access: read local files in place, fetch remote ones first.
            let (path, tmp, handle) = match &input.location {
                Location::Local(p) => {
                    let raw = storage::open_read(&input.location)?;
                    let (mut hr, handle) = HashingReader::new(raw);
                    std::io::copy(&mut hr, &mut std::io::sink()).map_err(|e| StorageError::Io {
                        path: name.clone(),
                        source: e,
                    })?;
                    (p.clone(), None, handle)
                }
                loc => {
                    let raw = storage::open_read(loc)?;
                    let (mut hr, handle) = HashingReader::new(raw);
                    let mut tmp = tempfile_in_temp()?;
                    std::io::copy(&mut hr, tmp.as_file_mut()).map_err(|e| StorageError::Io {
                        path: name.clone(),
                        source: e,
                    })?;
                    (tmp.path().to_path_buf(), Some(tmp), handle)
                }
            };
            let reader =
                ParquetReader::open(&path, &name, &opts.text_key).map_err(OpenError::Bad)?;
            digest = handle;
            items = Box::new(KeepAlive {
                inner: reader,
                _tmp: tmp,
            });
        }
        Format::Jsonl => {
            let raw = storage::open_read(&input.location)?;
            let (hr, handle) = HashingReader::new(raw);
            digest = handle;
            let dec: Box<dyn Read + Send> = match compression(input.location.file_name()) {
                Compression::None => Box::new(hr),
                Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(
                    std::io::BufReader::new(hr),
                )),
                Compression::Zstd => {
                    Box::new(zstd::stream::read::Decoder::new(hr).map_err(|e| {
                        StorageError::Io {
                            path: name.clone(),
                            source: e,
                        }
                    })?)
                }
            };
            let crawl = opts.crawl.clone();
            items = Box::new(
                JsonlReader::new(dec, &name, &opts.text_key).map(move |it| with_crawl(it, &crawl)),
            );
        }
        Format::Warc => {
            let raw = storage::open_read(&input.location)?;
            let (hr, handle) = HashingReader::new(raw);
            digest = handle;
            let wopts = crate::warc::WarcOptions {
                metadata_records: opts.metadata_records,
                max_record_bytes: opts.max_record_bytes,
                ..Default::default()
            };
            let crawl = opts.crawl.clone();
            items = Box::new(
                crate::warc::read_documents(Box::new(hr), &name, &wopts)
                    .map(move |it| with_crawl(it, &crawl)),
            );
        }
    }
    Ok(OpenedInput { items, digest })
}

fn with_crawl(item: ReadItem, crawl: &Option<String>) -> ReadItem {
    match (item, crawl) {
        (ReadItem::Doc(mut d), Some(c)) if d.crawl.is_none() => {
            d.crawl = Some(c.clone());
            ReadItem::Doc(d)
        }
        (it, _) => it,
    }
}

fn tempfile_in_temp() -> Result<NamedTemp, StorageError> {
    NamedTemp::new().map_err(|e| StorageError::Io {
        path: std::env::temp_dir().display().to_string(),
        source: e,
    })
}

/// A temporary local file removed on drop (remote Parquet inputs are staged in one).
pub struct NamedTemp {
    path: std::path::PathBuf,
    file: std::fs::File,
}

impl NamedTemp {
    fn new() -> std::io::Result<NamedTemp> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "quarry-{}-{}.parquet",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let file = std::fs::File::create(&path)?;
        Ok(NamedTemp { path, file })
    }
    fn path(&self) -> &std::path::Path {
        &self.path
    }
    fn as_file_mut(&mut self) -> &mut std::fs::File {
        &mut self.file
    }
}

impl Drop for NamedTemp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

struct KeepAlive<I> {
    inner: I,
    _tmp: Option<NamedTemp>,
}

impl<I: Iterator<Item = ReadItem>> Iterator for KeepAlive<I> {
    type Item = ReadItem;
    fn next(&mut self) -> Option<ReadItem> {
        self.inner.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        assert_eq!(Format::detect("a.warc.gz"), Some(Format::Warc));
        assert_eq!(Format::detect("CC-MAIN-x.warc.wet.gz"), Some(Format::Warc));
        assert_eq!(Format::detect("a.WARC"), Some(Format::Warc));
        assert_eq!(Format::detect("a.jsonl.zst"), Some(Format::Jsonl));
        assert_eq!(Format::detect("a.json.gz"), Some(Format::Jsonl));
        assert_eq!(Format::detect("part-00000.parquet"), Some(Format::Parquet));
        assert_eq!(Format::detect("a.txt"), None);
    }
}
