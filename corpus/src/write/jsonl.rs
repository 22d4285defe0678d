//! dolma-style JSONL.zst shard files.

use std::io::Write;
use std::path::Path;

use super::{ShardFile, ShardInfo};
use crate::document::Document;
use crate::schema::to_dolma_json;
use crate::storage::AtomicFile;

/// One JSONL.zst shard being written (zstd level 3, single-threaded, so bytes are deterministic).
pub struct JsonlShardWriter {
    enc: zstd::stream::write::Encoder<'static, AtomicFile>,
    path: String,
    rows: u64,
    raw_bytes: u64,
}

impl JsonlShardWriter {
    /// Creates the shard at `path` (under a temporary name until finished).
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let file = AtomicFile::create(path)?;
        let enc = zstd::stream::write::Encoder::new(file, 3)?;
        Ok(JsonlShardWriter {
            enc,
            path: path.display().to_string(),
            rows: 0,
            raw_bytes: 0,
        })
    }
}

impl ShardFile for JsonlShardWriter {
    fn write(&mut self, doc: &Document) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(&to_dolma_json(doc)).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.raw_bytes += line.len() as u64;
        self.rows += 1;
        self.enc.write_all(&line)
    }

    fn approx_bytes(&self) -> u64 {
        // Text compresses about 3-4x with zstd; the compressed size is only known after flushing.
        self.enc.get_ref().bytes_written().max(self.raw_bytes / 4)
    }

    fn finish(self: Box<Self>) -> std::io::Result<ShardInfo> {
        let file = self.enc.finish()?;
        let d = file.commit()?;
        Ok(ShardInfo {
            path: self.path,
            rows: self.rows,
            bytes: d.bytes,
            sha256: d.sha256,
        })
    }
}
