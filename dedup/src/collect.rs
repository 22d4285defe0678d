//! Stage 1 core shared by MinHash and exact dedup: collect per-document keys while the runtime calls
//! `process` in parallel, then, in `finish`, fix a deterministic document order and write the task's
//! sorted bucket files.
//!
//! Document order within a task is (source file, source offset, id), not arrival order, so that the
//! result does not depend on how the runtime batched and parallelised the task. Documents are referred
//! to by (task, order) in binary files and by their stable id everywhere else (`ids/task-*.jsonl` maps
//! one to the other), so the filter stage can match documents by id whatever their position.

use std::path::{Path, PathBuf};

use quarry_corpus::{Document, SideOutput};
use sha2::{Digest, Sha256};

use crate::error::DedupError;
use crate::format::{AtomicWriter, Header, Kind};
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

/// One collected document (what stage 1 keeps of it until `finish`).
pub(crate) struct Entry {
    pub(crate) file: String,
    pub(crate) offset: u64,
    pub(crate) id: String,
    /// Empty when the document has no key (too short for a shingle, no URL, ...).
    pub(crate) key: Vec<u64>,
    pub(crate) shingles: Option<Vec<u64>>,
}

/// Per-task collector; wrap it in a `Mutex` inside a step.
///
/// Memory is bounded by a byte budget ([`TaskCollector::with_budget`]): past it the collected
/// documents are written as a sorted run under the spill folder, and `finish` merges the runs (and
/// sorts the bucket records externally too), writing the same bytes as an all-in-memory task.
pub struct TaskCollector {
    entries: Vec<Entry>,
    held: usize,
    budget: usize,
    spill_dir: Option<PathBuf>,
    runs: Vec<(PathBuf, u64)>,
    spill_error: Option<DedupError>,
    has_shingles: bool,
    spills: u64,
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

impl Drop for TaskCollector {
    fn drop(&mut self) {
        self.remove_spill_dir();
    }
}

impl TaskCollector {
    /// A collector that holds everything in memory.
    pub fn new() -> Self {
        TaskCollector {
            entries: Vec::new(),
            held: 0,
            budget: usize::MAX,
            spill_dir: None,
            runs: Vec::new(),
            spill_error: None,
            has_shingles: false,
            spills: 0,
        }
    }

    /// A collector that spills sorted runs into a fresh folder `spill-<pid>-<n>` in `dir` once it
    /// holds more than `budget` bytes (the folder is removed when the task finishes or is dropped).
    pub fn with_budget(budget: usize, dir: &Path) -> Self {
        let mut c = Self::new();
        c.budget = budget.max(1);
        c.spill_dir = Some(unique_spill_dir(dir));
        c
    }

    /// Removes this task's spill folder (each task has its own, so no other task is affected).
    fn remove_spill_dir(&self) {
        if let Some(d) = &self.spill_dir {
            if d.exists() {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }

    /// Document runs spilled so far (0 when the task fit in the budget).
    pub fn spills(&self) -> u64 {
        self.spills
    }

    /// Records a document's key (`key` empty: no key) and, for exact verification, its shingle set.
    pub fn push(&mut self, doc: &Document, key: Vec<u64>, shingles: Option<Vec<u64>>) {
        self.has_shingles |= shingles.is_some();
        let e = Entry {
            file: doc.source.file.clone(),
            offset: doc.source.offset,
            id: doc.id.clone(),
            key,
            shingles,
        };
        self.held += crate::spill::entry_bytes(&e);
        self.entries.push(e);
        if self.held > self.budget && self.spill_error.is_none() {
            if let Err(e) = self.spill() {
                self.spill_error = Some(e);
            }
        }
    }

    /// Writes the held entries as one sorted run.
    fn spill(&mut self) -> Result<(), DedupError> {
        let Some(dir) = &self.spill_dir else {
            return Ok(());
        };
        let mut entries = std::mem::take(&mut self.entries);
        self.held = 0;
        entries.sort_unstable_by(crate::spill::entry_cmp);
        let p = dir.join(format!("docs-run-{:05}.bin", self.runs.len()));
        crate::spill::write_entry_run(&p, &entries)?;
        self.runs.push((p, entries.len() as u64));
        self.spills += 1;
        Ok(())
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
        if let Some(e) = self.spill_error.take() {
            return Err(e);
        }
        let total = self.runs.iter().map(|r| r.1).sum::<u64>() + self.entries.len() as u64;
        if total > u32::MAX as u64 {
            return Err(DedupError::Input(format!(
                "task {task} has more than 2^32 documents"
            )));
        }
        // Documents in order: from memory, or merged from the spilled runs.
        let mut in_memory = None;
        let mut merged = None;
        if self.runs.is_empty() {
            let mut entries = std::mem::take(&mut self.entries);
            entries.sort_unstable_by(crate::spill::entry_cmp);
            in_memory = Some(entries.into_iter());
        } else {
            if !self.entries.is_empty() {
                self.spill()?;
            }
            merged = Some(crate::spill::EntryMerge::open(
                &self.runs,
                self.budget.min(64 << 20),
            )?);
        }
        let mut next = || -> Result<Option<Entry>, DedupError> {
            match (&mut in_memory, &mut merged) {
                (Some(it), _) => Ok(it.next()),
                (_, Some(m)) => m.next(),
                _ => Ok(None),
            }
        };
        let spill_dir = self
            .spill_dir
            .get_or_insert_with(|| unique_spill_dir(layout.dir()))
            .clone();

        let mut outputs = Vec::new();
        let mut stats = TaskStats {
            docs: total,
            ..Default::default()
        };
        let width = buckets.width();
        let mut sorter = crate::spill::BucketSorter::new(
            buckets.count(),
            width,
            task as u32,
            fingerprint,
            self.budget,
            spill_dir.clone(),
        );
        let ids_path = layout.ids(task);
        let mut ids = AtomicWriter::create(&ids_path)?;
        let mut sigs = match write_sigs {
            Some(n) => Some((
                n,
                AtomicWriter::with_header(
                    &layout.sigs(task),
                    Header {
                        kind: Kind::Signatures,
                        width: n as u32,
                        fingerprint,
                    },
                )?,
            )),
            None => None,
        };
        // Shingle sets: data to a temp file, offsets in memory (8 bytes a document), assembled below.
        let shingle_tmp = spill_dir.join("shingles.tmp");
        let mut shingle_data = if self.has_shingles {
            std::fs::create_dir_all(&spill_dir).map_err(|e| DedupError::io(&spill_dir, e))?;
            let f =
                std::fs::File::create(&shingle_tmp).map_err(|e| DedupError::io(&shingle_tmp, e))?;
            Some(std::io::BufWriter::with_capacity(1 << 20, f))
        } else {
            None
        };
        let mut shingle_offsets: Vec<u64> = Vec::new();
        let mut prev_id: Option<String> = None;
        let mut line = String::new();
        let mut buf = Vec::new();
        let mut ord = 0u32;
        while let Some(e) = next()? {
            if prev_id.as_deref() == Some(e.id.as_str()) {
                return Err(DedupError::Input(format!(
                    "document id `{}` appears twice in task {task}; dedup identifies documents by id, \
                     so ids must be unique within a task",
                    e.id
                )));
            }
            line.clear();
            line.push_str(&serde_json::to_string(&e.id).expect("a string serialises"));
            line.push('\n');
            ids.write(line.as_bytes())?;
            if e.key.is_empty() {
                stats.unkeyed += 1;
            } else {
                stats.keyed += 1;
                match buckets {
                    Buckets::Bands { rows, hashed, .. } => {
                        for b in 0..buckets.count() {
                            let rs = &e.key[b * rows..(b + 1) * rows];
                            if hashed {
                                buf.clear();
                                for v in rs {
                                    buf.extend_from_slice(&v.to_le_bytes());
                                }
                                let h = xxhash_rust::xxh3::xxh3_128(&buf);
                                sorter.push(b, &[(h >> 64) as u64, h as u64], ord)?;
                            } else {
                                sorter.push(b, rs, ord)?;
                            }
                        }
                    }
                    Buckets::Partitions { parts } => {
                        sorter.push((e.key[0] % parts as u64) as usize, &e.key[..2], ord)?;
                    }
                }
            }
            if let Some((n, w)) = &mut sigs {
                buf.clear();
                if e.key.is_empty() {
                    buf.resize(*n * 8, 0xff);
                } else {
                    for v in &e.key {
                        buf.extend_from_slice(&v.to_le_bytes());
                    }
                }
                w.write(&buf)?;
            }
            if let Some(w) = &mut shingle_data {
                use std::io::Write;
                let s = e.shingles.as_deref().unwrap_or(&[]);
                for v in s {
                    w.write_all(&v.to_le_bytes())
                        .map_err(|er| DedupError::io(&shingle_tmp, er))?;
                }
                shingle_offsets.push(s.len() as u64);
            }
            prev_id = Some(e.id);
            ord += 1;
        }
        ids.finish()?;
        outputs.push(side_output(&ids_path, total)?);

        for b in 0..buckets.count() {
            let p = layout.bucket(b, task);
            let n = sorter.write_bucket(b, &p, fingerprint)?;
            outputs.push(side_output(&p, n)?);
        }
        if let Some((_, w)) = sigs {
            w.finish()?;
            outputs.push(side_output(&layout.sigs(task), total)?);
        }
        if let Some(w) = shingle_data {
            let f = w
                .into_inner()
                .map_err(|e| DedupError::io(&shingle_tmp, e.into_error()))?;
            drop(f);
            let p = layout.shingles(task);
            write_shingles_from(&p, fingerprint, &shingle_offsets, &shingle_tmp)?;
            let _ = std::fs::remove_file(&shingle_tmp);
            outputs.push(side_output(&p, total)?);
        }
        self.remove_spill_dir();
        self.runs.clear();

        stats.bytes = outputs.iter().map(|o| o.bytes).sum();
        let p = layout.stats(task);
        let js = serde_json::to_vec_pretty(&stats).expect("stats serialise");
        crate::format::write_atomic(&p, &js)?;
        Ok((stats, outputs))
    }
}

/// A folder name no other collector of this process (or another process) uses.
fn unique_spill_dir(dir: &Path) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    dir.join(format!("spill-{}-{n}", std::process::id()))
}

/// Writes a shingles file (the [`crate::format::write_shingles`] layout) from per-document set sizes
/// and a file holding the sets' hashes back to back.
fn write_shingles_from(
    path: &Path,
    fingerprint: u64,
    lens: &[u64],
    data: &Path,
) -> Result<(), DedupError> {
    let mut w = crate::format::start_shingles(path, fingerprint, lens.iter().copied())?;
    let mut f = std::io::BufReader::with_capacity(
        1 << 20,
        std::fs::File::open(data).map_err(|e| DedupError::io(data, e))?,
    );
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        use std::io::Read;
        let n = f.read(&mut chunk).map_err(|e| DedupError::io(data, e))?;
        if n == 0 {
            break;
        }
        w.write(&chunk[..n])?;
    }
    w.finish()?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::test_text::text;
    use crate::{
        ExactConfig, ExactKey, ExactSignatures, MinhashConfig, MinhashSignatures, VerifyMode,
    };

    fn docs() -> Vec<Document> {
        let mut v = Vec::new();
        for i in 0..60usize {
            let t = match i % 5 {
                0 => text(i / 5),
                1 => format!("{} and a tail", text(i / 5)),
                _ => text(100 + i),
            };
            let mut d = Document::new(format!("d{:02}", (i * 37) % 60), t);
            d.source.file = format!("f{}", i % 3);
            d.source.offset = (i * 7 % 11) as u64;
            d.url = Some(format!("https://example.com/{}", i % 17));
            if i == 13 {
                d.text = "too short".into();
            }
            v.push(d);
        }
        v
    }

    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(dir).unwrap().display().to_string();
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    /// A budget small enough to spill after every document writes the same bytes as no budget, for
    /// every key layout (hashed bands, raw rows, exact partitions, signatures, shingle sets).
    #[test]
    fn spilling_gives_identical_bytes() {
        let minhash = [
            MinhashConfig::default(),
            MinhashConfig::datatrove(),
            MinhashConfig::builder()
                .verify(VerifyMode::Estimated, 0.5)
                .build()
                .unwrap(),
            MinhashConfig::builder()
                .bands(40, 3)
                .verify(VerifyMode::Exact, 0.5)
                .build()
                .unwrap(),
        ];
        for cfg in minhash {
            let mut base = None;
            for budget in [usize::MAX, 3000, 40_000] {
                let dir = tempfile::tempdir().unwrap();
                let mut st = MinhashSignatures::new(cfg.clone(), dir.path())
                    .unwrap()
                    .with_memory_budget(budget);
                for d in docs().iter().rev() {
                    st.add(d);
                }
                st.write(3).unwrap();
                let spills = st.spills();
                assert_eq!(spills > 0, budget < 100_000, "{budget}: {spills} spills");
                let f = files(dir.path());
                assert!(f.keys().all(|k| !k.contains("spill")), "{:?}", f.keys());
                match &base {
                    None => base = Some(f),
                    Some(b) => assert!(b == &f, "{} with budget {budget}", cfg.tag()),
                }
            }
        }
        for key in [ExactKey::Text, ExactKey::Url] {
            let cfg = ExactConfig {
                key,
                partitions: 4,
                ..Default::default()
            };
            let mut base = None;
            for budget in [usize::MAX, 1, 3000] {
                let dir = tempfile::tempdir().unwrap();
                let mut st = ExactSignatures::new(cfg.clone(), dir.path())
                    .unwrap()
                    .with_memory_budget(budget);
                for d in docs() {
                    st.add(&d);
                }
                st.write(0).unwrap();
                let f = files(dir.path());
                match &base {
                    None => base = Some(f),
                    Some(b) => assert!(b == &f, "{key:?} with budget {budget}"),
                }
            }
        }
    }

    #[test]
    fn repeated_ids_are_found_across_spilled_runs() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = MinhashSignatures::new(MinhashConfig::default(), dir.path())
            .unwrap()
            .with_memory_budget(1);
        let mut a = Document::new("same", text(1));
        a.source.offset = 1;
        let mut b = Document::new("same", text(2));
        b.source.offset = 1;
        st.add(&a);
        st.add(&b);
        let e = st.write(0).unwrap_err().to_string();
        assert!(e.contains("appears twice"), "{e}");
    }
}
