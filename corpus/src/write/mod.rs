//! Shard writers: Parquet (zstd) and dolma-style JSONL.zst, size-based rolling, atomic, deterministic.
//!
//! A task writes `<dir>/<prefix>-<task:05>-<seq:05>.<ext>`: names depend only on the task and the
//! order of documents, never on time or thread scheduling, so a rerun writes the same names and the
//! same bytes. Each file is written under a hidden temporary name and renamed when closed.

mod jsonl;
mod parquet;

pub use jsonl::JsonlShardWriter;
pub use parquet::ParquetShardWriter;

use std::path::{Path, PathBuf};

use crate::document::Document;

/// Output formats for text shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Parquet with zstd, schema in [`crate::schema`].
    #[default]
    Parquet,
    /// dolma-style JSON lines, zstd-compressed.
    Jsonl,
    /// Write nothing (documents are still counted): for benchmarks and dry runs.
    Null,
}

impl OutputFormat {
    /// File extension of shards in this format.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Parquet => "parquet",
            OutputFormat::Jsonl => "jsonl.zst",
            OutputFormat::Null => "",
        }
    }
}

/// A finished shard, for the manifest.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ShardInfo {
    /// Path of the shard.
    pub path: String,
    /// Documents in it.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// Lower-case hex sha256.
    pub sha256: String,
}

/// One open shard file in some format.
pub trait ShardFile: Send {
    /// Appends a document.
    fn write(&mut self, doc: &Document) -> std::io::Result<()>;
    /// Approximate bytes this shard will take so far (for rolling).
    fn approx_bytes(&self) -> u64;
    /// Closes and renames the file into place.
    fn finish(self: Box<Self>) -> std::io::Result<ShardInfo>;
}

/// Writes documents into numbered shards of one task, opening the next shard when the current one
/// passes `max_bytes`.
pub struct RollingWriter {
    dir: PathBuf,
    prefix: String,
    task: usize,
    format: OutputFormat,
    max_bytes: u64,
    seq: usize,
    current: Option<Box<dyn ShardFile>>,
    done: Vec<ShardInfo>,
    null_rows: u64,
}

impl RollingWriter {
    /// A writer for task `task` into `dir`.
    pub fn new(
        dir: impl AsRef<Path>,
        prefix: &str,
        task: usize,
        format: OutputFormat,
        max_bytes: u64,
    ) -> Self {
        RollingWriter {
            dir: dir.as_ref().to_path_buf(),
            prefix: prefix.to_string(),
            task,
            format,
            max_bytes: max_bytes.max(1),
            seq: 0,
            current: None,
            done: Vec::new(),
            null_rows: 0,
        }
    }

    /// The name pattern's prefix for this task's shards (used to clean up before a rerun).
    pub fn task_prefix(prefix: &str, task: usize) -> String {
        format!("{prefix}-{task:05}-")
    }

    fn open_next(&mut self) -> std::io::Result<Box<dyn ShardFile>> {
        let name = format!(
            "{}{:05}.{}",
            Self::task_prefix(&self.prefix, self.task),
            self.seq,
            self.format.extension()
        );
        self.seq += 1;
        let path = self.dir.join(name);
        Ok(match self.format {
            OutputFormat::Parquet => Box::new(ParquetShardWriter::create(&path)?),
            OutputFormat::Jsonl => Box::new(JsonlShardWriter::create(&path)?),
            OutputFormat::Null => unreachable!("null output opens no file"),
        })
    }

    /// Appends a document, rolling to a new shard when the current one is full.
    pub fn write(&mut self, doc: &Document) -> std::io::Result<()> {
        if self.format == OutputFormat::Null {
            self.null_rows += 1;
            return Ok(());
        }
        if self.current.is_none() {
            self.current = Some(self.open_next()?);
        }
        let cur = self.current.as_mut().expect("opened above");
        cur.write(doc)?;
        if cur.approx_bytes() >= self.max_bytes {
            let full = self.current.take().expect("present");
            self.done.push(full.finish()?);
        }
        Ok(())
    }

    /// Closes the last shard and returns all shards written, in order.
    pub fn finish(mut self) -> std::io::Result<Vec<ShardInfo>> {
        if self.format == OutputFormat::Null {
            // A pseudo-shard so that the manifest's row count still adds up.
            return Ok(vec![ShardInfo {
                path: "(null output)".to_string(),
                rows: self.null_rows,
                bytes: 0,
                sha256: String::new(),
            }]);
        }
        if let Some(cur) = self.current.take() {
            self.done.push(cur.finish()?);
        }
        Ok(self.done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::{ParquetReader, ReadItem};

    fn docs(n: usize) -> Vec<Document> {
        (0..n)
            .map(|i| {
                let mut d = Document::new(
                    format!("id-{i}"),
                    format!("text number {i}\nsecond line {}", "x".repeat(i % 50)),
                );
                d.url = Some(format!("https://site{}.example/p/{i}", i % 7));
                d.source.file = "in.warc.gz".into();
                d.source.offset = i as u64 * 1000;
                d.set_meta("language", if i % 2 == 0 { "en" } else { "de" });
                d.set_meta("score", i as f64 / 10.0);
                d
            })
            .collect()
    }

    #[test]
    fn rolls_by_size_and_reads_back_identically_and_deterministically() {
        for format in [OutputFormat::Parquet, OutputFormat::Jsonl] {
            let mut hashes = Vec::new();
            for _ in 0..2 {
                let d = tempfile::tempdir().unwrap();
                let mut w = RollingWriter::new(d.path(), "part", 3, format, 20_000);
                let input = docs(2000);
                for doc in &input {
                    w.write(doc).unwrap();
                }
                let shards = w.finish().unwrap();
                assert!(shards.len() > 1, "{format:?} should roll");
                assert!(shards[0]
                    .path
                    .ends_with(&format!("part-00003-00000.{}", format.extension())));
                assert_eq!(shards.iter().map(|s| s.rows).sum::<u64>(), 2000);
                // Read back.
                let mut back = Vec::new();
                for s in &shards {
                    let items: Vec<ReadItem> = match format {
                        OutputFormat::Parquet => {
                            ParquetReader::open(Path::new(&s.path), &s.path, "text")
                                .unwrap()
                                .collect()
                        }
                        OutputFormat::Null => unreachable!(),
                        OutputFormat::Jsonl => {
                            let f = std::fs::File::open(&s.path).unwrap();
                            let dec = zstd::stream::read::Decoder::new(f).unwrap();
                            crate::read::JsonlReader::new(Box::new(dec), &s.path, "text").collect()
                        }
                    };
                    for it in items {
                        match it {
                            ReadItem::Doc(d) => back.push(d),
                            o => panic!("{o:?}"),
                        }
                    }
                }
                for (a, b) in input.iter().zip(&back) {
                    assert_eq!(a.id, b.id);
                    assert_eq!(a.text, b.text);
                    assert_eq!(a.url, b.url);
                    assert_eq!(a.source, b.source);
                    assert_eq!(a.metadata, b.metadata);
                }
                hashes.push(shards.iter().map(|s| s.sha256.clone()).collect::<Vec<_>>());
            }
            assert_eq!(
                hashes[0], hashes[1],
                "{format:?} output must be byte-identical across runs"
            );
        }
    }
}
