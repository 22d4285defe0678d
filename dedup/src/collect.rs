//! Stage 1 core shared by MinHash and exact dedup: collect per-document keys while the runtime calls
//! `process` in parallel, then, in `finish`, fix a deterministic document order and write the task's
//! sorted bucket files.
//!
//! Document order within a task is (source file, source offset, id), not arrival order, so that the
//! result does not depend on how the runtime batched and parallelised the task. Documents are referred
//! to by (task, order) in binary files and by their stable id everywhere else (`ids/task-*.jsonl` maps
//! one to the other), so the filter stage can match documents by id whatever their position.

use quarry_corpus::{Document, SideOutput};
use sha2::{Digest, Sha256};

use crate::error::DedupError;
use crate::format::{write_shingles, AtomicWriter, BucketRecord, Header, Kind};
use crate::layout::Layout;

/// How a document's keys map to buckets.
#[derive(Debug, Clone, Copy)]
pub enum Buckets {
    /// MinHash: the key is the full signature; bucket `b` holds rows `b*rows..(b+1)*rows`, or, when
    /// `hashed`, the xxh3-128 hash of those rows (2 words instead of `rows`: a 3× smaller band file for
    /// 8 rows; two different bands collide with probability ~2^-128).
    Bands {
        /// Number of bands.
        bands: usize,
        /// Rows per band.
        rows: usize,
        /// Store a 128-bit hash of the rows instead of the rows.
        hashed: bool,
    },
    /// Exact dedup: the key is a 128-bit hash (2 words); it goes to bucket `key[0] % parts`.
    Partitions {
        /// Number of hash partitions.
        parts: usize,
    },
}

impl Buckets {
    /// Number of buckets.
    pub fn count(&self) -> usize {
        match *self {
            Buckets::Bands { bands, .. } => bands,
            Buckets::Partitions { parts } => parts,
        }
    }
    /// Key width of bucket records in u64 words.
    pub fn width(&self) -> usize {
        match *self {
            Buckets::Bands { rows, hashed, .. } => {
                if hashed {
                    2
                } else {
                    rows
                }
            }
            Buckets::Partitions { .. } => 2,
        }
    }
}

struct Entry {
    file: String,
    offset: u64,
    id: String,
    /// Empty when the document has no key (too short for a shingle, no URL, ...).
    key: Vec<u64>,
    shingles: Option<Vec<u64>>,
}

/// Per-task collector; wrap it in a `Mutex` inside a step.
pub struct TaskCollector {
    entries: Vec<Entry>,
}

/// What `finish` wrote.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct TaskStats {
    /// Documents seen.
    pub docs: u64,
    /// Documents with a key (in the bucket files).
    pub keyed: u64,
    /// Documents without a key (never duplicates): too short for one shingle, or no URL.
    pub unkeyed: u64,
    /// Bytes written.
    pub bytes: u64,
}

impl Default for TaskCollector {
    fn default() -> Self {
        Self::new()
    }
}

impl TaskCollector {
    /// An empty collector.
    pub fn new() -> Self {
        TaskCollector {
            entries: Vec::new(),
        }
    }

    /// Records a document's key (`key` empty: no key) and, for exact verification, its shingle set.
    pub fn push(&mut self, doc: &Document, key: Vec<u64>, shingles: Option<Vec<u64>>) {
        self.entries.push(Entry {
            file: doc.source.file.clone(),
            offset: doc.source.offset,
            id: doc.id.clone(),
            key,
            shingles,
        });
    }

    /// Sorts, numbers and writes the task's files; returns stats and side outputs.
    pub fn finish(
        &mut self,
        layout: &Layout,
        task: usize,
        buckets: Buckets,
        fingerprint: u64,
        write_sigs: Option<usize>,
    ) -> Result<(TaskStats, Vec<SideOutput>), DedupError> {
        let mut entries = std::mem::take(&mut self.entries);
        entries
            .sort_unstable_by(|a, b| (&a.file, a.offset, &a.id).cmp(&(&b.file, b.offset, &b.id)));
        for w in entries.windows(2) {
            if w[0].id == w[1].id {
                return Err(DedupError::Input(format!(
                    "document id `{}` appears twice in task {task}; dedup identifies documents by id, \
                     so ids must be unique within a task",
                    w[0].id
                )));
            }
        }
        if entries.len() > u32::MAX as usize {
            return Err(DedupError::Input(format!(
                "task {task} has more than 2^32 documents"
            )));
        }
        let mut outputs = Vec::new();
        let mut stats = TaskStats {
            docs: entries.len() as u64,
            ..Default::default()
        };

        // ids, in document order
        let mut ids = String::new();
        for e in &entries {
            ids.push_str(&serde_json::to_string(&e.id).expect("a string serialises"));
            ids.push('\n');
            if e.key.is_empty() {
                stats.unkeyed += 1;
            } else {
                stats.keyed += 1;
            }
        }
        let p = layout.ids(task);
        outputs.push(write_output(&p, ids.as_bytes(), entries.len() as u64)?);

        // bucket files
        let width = buckets.width();
        let header = Header {
            kind: Kind::Bucket,
            width: width as u32,
            fingerprint,
        };
        let mut hashed_keys: Vec<u64> = Vec::new();
        for b in 0..buckets.count() {
            if let Buckets::Bands {
                rows, hashed: true, ..
            } = buckets
            {
                hashed_keys.clear();
                let mut bytes = Vec::with_capacity(rows * 8);
                for e in &entries {
                    if e.key.is_empty() {
                        hashed_keys.extend([0, 0]);
                        continue;
                    }
                    bytes.clear();
                    for v in &e.key[b * rows..(b + 1) * rows] {
                        bytes.extend_from_slice(&v.to_le_bytes());
                    }
                    let h = xxhash_rust::xxh3::xxh3_128(&bytes);
                    hashed_keys.extend([(h >> 64) as u64, h as u64]);
                }
            }
            let mut recs: Vec<(&[u64], u32)> = Vec::with_capacity(entries.len());
            for (ord, e) in entries.iter().enumerate() {
                if e.key.is_empty() {
                    continue;
                }
                match buckets {
                    Buckets::Bands { hashed: true, .. } => {
                        recs.push((&hashed_keys[ord * 2..ord * 2 + 2], ord as u32))
                    }
                    Buckets::Bands { rows, .. } => {
                        recs.push((&e.key[b * rows..(b + 1) * rows], ord as u32))
                    }
                    Buckets::Partitions { parts } => {
                        if (e.key[0] % parts as u64) as usize == b {
                            recs.push((&e.key[..2], ord as u32));
                        }
                    }
                }
            }
            recs.sort_unstable();
            let mut buf = Vec::with_capacity(recs.len() * (width * 8 + 8));
            let mut rec = BucketRecord {
                key: Vec::with_capacity(width),
                task: task as u32,
                ord: 0,
            };
            for (k, ord) in &recs {
                rec.key.clear();
                rec.key.extend_from_slice(k);
                rec.ord = *ord;
                rec.encode_into(&mut buf);
            }
            let p = layout.bucket(b, task);
            let mut w = AtomicWriter::with_header(&p, header)?;
            w.write(&buf)?;
            w.finish()?;
            outputs.push(side_output(&p, recs.len() as u64)?);
        }

        // full signatures for estimated-Jaccard verification
        if let Some(n) = write_sigs {
            let p = layout.sigs(task);
            let mut w = AtomicWriter::with_header(
                &p,
                Header {
                    kind: Kind::Signatures,
                    width: n as u32,
                    fingerprint,
                },
            )?;
            let mut buf = Vec::with_capacity(n * 8);
            for e in &entries {
                buf.clear();
                if e.key.is_empty() {
                    buf.resize(n * 8, 0xff);
                } else {
                    for v in &e.key {
                        buf.extend_from_slice(&v.to_le_bytes());
                    }
                }
                w.write(&buf)?;
            }
            w.finish()?;
            outputs.push(side_output(&p, entries.len() as u64)?);
        }

        // shingle sets for exact-Jaccard verification
        if entries.iter().any(|e| e.shingles.is_some()) {
            let p = layout.shingles(task);
            let sets: Vec<&[u64]> = entries
                .iter()
                .map(|e| e.shingles.as_deref().unwrap_or(&[]))
                .collect();
            write_shingles(&p, fingerprint, &sets)?;
            outputs.push(side_output(&p, entries.len() as u64)?);
        }

        stats.bytes = outputs.iter().map(|o| o.bytes).sum();
        let p = layout.stats(task);
        let js = serde_json::to_vec_pretty(&stats).expect("stats serialise");
        crate::format::write_atomic(&p, &js)?;
        Ok((stats, outputs))
    }
}

fn write_output(p: &std::path::Path, bytes: &[u8], rows: u64) -> Result<SideOutput, DedupError> {
    crate::format::write_atomic(p, bytes)?;
    side_output(p, rows)
}

/// Describes a written file for the manifest (size and sha256).
pub fn side_output(p: &std::path::Path, rows: u64) -> Result<SideOutput, DedupError> {
    let bytes = std::fs::read(p).map_err(|e| DedupError::io(p, e))?;
    Ok(SideOutput {
        path: p.display().to_string(),
        rows,
        bytes: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(&bytes)),
    })
}
