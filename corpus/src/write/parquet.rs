//! Parquet shard files (zstd, schema `quarry-text/1`).

use std::path::Path;

use arrow_array::builder::{StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use super::{ShardFile, ShardInfo};
use crate::document::Document;
use crate::schema::{arrow_schema, TEXT_SCHEMA};
use crate::storage::AtomicFile;

/// Rows buffered before a record batch is handed to the Parquet writer.
const BATCH_ROWS: usize = 1024;
/// Rows per row group: large enough for good compression, small enough for streaming readers.
const ROW_GROUP_ROWS: usize = 16 * 1024;

/// One Parquet shard being written.
pub struct ParquetShardWriter {
    writer: ArrowWriter<AtomicFile>,
    path: String,
    rows: u64,
    pending: Vec<Row>,
    pending_bytes: u64,
}

struct Row {
    id: String,
    text: String,
    url: Option<String>,
    source_file: String,
    source_offset: u64,
    date: Option<String>,
    crawl: Option<String>,
    content_type: Option<String>,
    charset: Option<String>,
    metadata: String,
}

impl ParquetShardWriter {
    /// Creates the shard at `path` (under a temporary name until finished).
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let file = AtomicFile::create(path)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(3).expect("valid level"),
            ))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_key_value_metadata(Some(vec![KeyValue::new(
                "quarry.schema".to_string(),
                TEXT_SCHEMA.to_string(),
            )]))
            .build();
        let writer = ArrowWriter::try_new(file, arrow_schema(), Some(props))
            .map_err(std::io::Error::other)?;
        Ok(ParquetShardWriter {
            writer,
            path: path.display().to_string(),
            rows: 0,
            pending: Vec::with_capacity(BATCH_ROWS),
            pending_bytes: 0,
        })
    }

    fn flush_pending(&mut self) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        let mut id = StringBuilder::new();
        let mut text = StringBuilder::new();
        let mut url = StringBuilder::new();
        let mut sf = StringBuilder::new();
        let mut so = UInt64Builder::new();
        let mut date = StringBuilder::new();
        let mut crawl = StringBuilder::new();
        let mut ct = StringBuilder::new();
        let mut cs = StringBuilder::new();
        let mut md = StringBuilder::new();
        for r in rows {
            id.append_value(r.id);
            text.append_value(r.text);
            url.append_option(r.url);
            sf.append_value(r.source_file);
            so.append_value(r.source_offset);
            date.append_option(r.date);
            crawl.append_option(r.crawl);
            ct.append_option(r.content_type);
            cs.append_option(r.charset);
            md.append_value(r.metadata);
        }
        let cols: Vec<ArrayRef> = vec![
            std::sync::Arc::new(id.finish()),
            std::sync::Arc::new(text.finish()),
            std::sync::Arc::new(url.finish()),
            std::sync::Arc::new(sf.finish()),
            std::sync::Arc::new(so.finish()),
            std::sync::Arc::new(date.finish()),
            std::sync::Arc::new(crawl.finish()),
            std::sync::Arc::new(ct.finish()),
            std::sync::Arc::new(cs.finish()),
            std::sync::Arc::new(md.finish()),
        ];
        let batch = RecordBatch::try_new(arrow_schema(), cols).map_err(std::io::Error::other)?;
        self.writer.write(&batch).map_err(std::io::Error::other)
    }
}

impl ShardFile for ParquetShardWriter {
    fn write(&mut self, doc: &Document) -> std::io::Result<()> {
        let metadata = serde_json::to_string(&doc.metadata).map_err(std::io::Error::other)?;
        self.pending_bytes += (doc.text.len() + doc.id.len() + metadata.len()) as u64;
        self.pending.push(Row {
            id: doc.id.clone(),
            text: doc.text.clone(),
            url: doc.url.clone(),
            source_file: doc.source.file.clone(),
            source_offset: doc.source.offset,
            date: doc.date.clone(),
            crawl: doc.crawl.clone(),
            content_type: doc.content_type.clone(),
            charset: doc.charset.clone(),
            metadata,
        });
        self.rows += 1;
        if self.pending.len() >= BATCH_ROWS || self.pending_bytes >= 8 << 20 {
            self.flush_pending()?;
        }
        Ok(())
    }

    fn approx_bytes(&self) -> u64 {
        // Bytes already flushed to the file, plus the encoder's in-memory row group and the rows not
        // yet encoded (uncompressed, so an overestimate: shards come out at most this big).
        self.writer.bytes_written() as u64
            + self.writer.in_progress_size() as u64
            + self.pending_bytes / 3
    }

    fn finish(mut self: Box<Self>) -> std::io::Result<ShardInfo> {
        self.flush_pending()?;
        let file = self.writer.into_inner().map_err(std::io::Error::other)?;
        let d = file.commit()?;
        Ok(ShardInfo {
            path: self.path.clone(),
            rows: self.rows,
            bytes: d.bytes,
            sha256: d.sha256,
        })
    }
}
