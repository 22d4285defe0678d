//! Stage-1 memory bound: a task's collected documents and, later, its bucket records go to sorted runs
//! on disk once they pass a byte budget, and are merged back in order, so a signature task of any size
//! runs in bounded memory and writes the same bytes as one that fits in memory.
//!
//! Two external sorts, both only when the budget is exceeded:
//! 1. documents (id, source position, key) in document order, (source file, offset, id): sorted runs of
//!    [`Entry`] records in a private format, merged by a heap ([`EntryMerge`]);
//! 2. per bucket, the (key, order) records: sorted runs in the ordinary bucket format, merged with the
//!    stage-2 k-way merge ([`crate::merge::merge_files`]) into the task's final bucket file
//!    ([`BucketSorter`]).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::collect::Entry;
use crate::error::DedupError;
use crate::format::{AtomicWriter, BucketRecord, Header, Kind};
use crate::merge::{merge_files, MergeLimits};

/// Default stage-1 memory budget of one task before it spills (128 MiB).
pub const DEFAULT_SIGNATURE_BUDGET: usize = 128 << 20;

/// Approximate heap bytes an entry holds (what the budget counts).
pub(crate) fn entry_bytes(e: &Entry) -> usize {
    std::mem::size_of::<Entry>()
        + e.file.len()
        + e.id.len()
        + e.key.len() * 8
        + e.shingles.as_ref().map(|s| s.len() * 8).unwrap_or(0)
}

/// Document order: (source file, source offset, id).
pub(crate) fn entry_cmp(a: &Entry, b: &Entry) -> Ordering {
    (&a.file, a.offset, &a.id).cmp(&(&b.file, b.offset, &b.id))
}

fn put_bytes(w: &mut impl Write, b: &[u8]) -> std::io::Result<()> {
    w.write_all(&(b.len() as u64).to_le_bytes())?;
    w.write_all(b)
}

fn put_words(w: &mut impl Write, v: &[u64]) -> std::io::Result<()> {
    w.write_all(&(v.len() as u64).to_le_bytes())?;
    for x in v {
        w.write_all(&x.to_le_bytes())?;
    }
    Ok(())
}

/// Writes `entries` (already in document order) as one run file.
pub(crate) fn write_entry_run(path: &Path, entries: &[Entry]) -> Result<(), DedupError> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| DedupError::io(d, e))?;
    }
    let f = File::create(path).map_err(|e| DedupError::io(path, e))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let io = |e| DedupError::io(path, e);
    for e in entries {
        put_bytes(&mut w, e.file.as_bytes()).map_err(io)?;
        w.write_all(&e.offset.to_le_bytes()).map_err(io)?;
        put_bytes(&mut w, e.id.as_bytes()).map_err(io)?;
        put_words(&mut w, &e.key).map_err(io)?;
        match &e.shingles {
            None => w.write_all(&u64::MAX.to_le_bytes()).map_err(io)?,
            Some(s) => put_words(&mut w, s).map_err(io)?,
        }
    }
    w.flush().map_err(io)
}

/// Reads back one run file written by [`write_entry_run`].
struct EntryRun {
    path: PathBuf,
    r: BufReader<File>,
    remaining: u64,
}

impl EntryRun {
    fn open(path: &Path, count: u64, buf: usize) -> Result<Self, DedupError> {
        let f = File::open(path).map_err(|e| DedupError::io(path, e))?;
        Ok(EntryRun {
            path: path.to_path_buf(),
            r: BufReader::with_capacity(buf.max(4096), f),
            remaining: count,
        })
    }

    fn u64(&mut self) -> Result<u64, DedupError> {
        let mut b = [0u8; 8];
        self.r
            .read_exact(&mut b)
            .map_err(|e| DedupError::io(&self.path, e))?;
        Ok(u64::from_le_bytes(b))
    }

    fn string(&mut self) -> Result<String, DedupError> {
        let n = self.u64()? as usize;
        let mut b = vec![0u8; n];
        self.r
            .read_exact(&mut b)
            .map_err(|e| DedupError::io(&self.path, e))?;
        String::from_utf8(b).map_err(|_| DedupError::Format {
            path: self.path.clone(),
            message: "spill run holds invalid UTF-8 (corrupted)".into(),
        })
    }

    fn words(&mut self, n: u64) -> Result<Vec<u64>, DedupError> {
        let mut b = vec![0u8; n as usize * 8];
        self.r
            .read_exact(&mut b)
            .map_err(|e| DedupError::io(&self.path, e))?;
        Ok(b.chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    fn next(&mut self) -> Result<Option<Entry>, DedupError> {
        if self.remaining == 0 {
            return Ok(None);
        }
        self.remaining -= 1;
        let file = self.string()?;
        let offset = self.u64()?;
        let id = self.string()?;
        let n = self.u64()?;
        let key = self.words(n)?;
        let n = self.u64()?;
        let shingles = if n == u64::MAX {
            None
        } else {
            Some(self.words(n)?)
        };
        Ok(Some(Entry {
            file,
            offset,
            id,
            key,
            shingles,
        }))
    }
}

struct HeapEntry {
    e: Entry,
    src: usize,
}

impl PartialEq for HeapEntry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for HeapEntry {}
impl PartialOrd for HeapEntry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for HeapEntry {
    fn cmp(&self, o: &Self) -> Ordering {
        entry_cmp(&self.e, &o.e).then(self.src.cmp(&o.src))
    }
}

/// K-way merge of entry runs into document order.
pub(crate) struct EntryMerge {
    runs: Vec<EntryRun>,
    heap: BinaryHeap<Reverse<HeapEntry>>,
}

impl EntryMerge {
    /// Opens the runs (`(path, entries)`), sharing `budget` bytes of read buffers.
    pub(crate) fn open(runs: &[(PathBuf, u64)], budget: usize) -> Result<Self, DedupError> {
        let buf = (budget / runs.len().max(1)).clamp(4096, 1 << 20);
        let mut rs = runs
            .iter()
            .map(|(p, n)| EntryRun::open(p, *n, buf))
            .collect::<Result<Vec<_>, _>>()?;
        let mut heap = BinaryHeap::with_capacity(rs.len());
        for (src, r) in rs.iter_mut().enumerate() {
            if let Some(e) = r.next()? {
                heap.push(Reverse(HeapEntry { e, src }));
            }
        }
        Ok(EntryMerge { runs: rs, heap })
    }

    /// The next entry in document order.
    pub(crate) fn next(&mut self) -> Result<Option<Entry>, DedupError> {
        let Some(Reverse(top)) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(e) = self.runs[top.src].next()? {
            self.heap.push(Reverse(HeapEntry { e, src: top.src }));
        }
        Ok(Some(top.e))
    }
}

/// Collects the (key, order) records of every bucket of one task, sorted, spilling sorted runs past
/// the budget, and writes each bucket's final file.
pub(crate) struct BucketSorter {
    width: usize,
    task: u32,
    header: Header,
    budget: usize,
    spill_dir: PathBuf,
    /// Per bucket: flat records of `width + 1` words (the key, then the order).
    bufs: Vec<Vec<u64>>,
    runs: Vec<Vec<PathBuf>>,
    counts: Vec<u64>,
    held: usize,
}

impl BucketSorter {
    pub(crate) fn new(
        buckets: usize,
        width: usize,
        task: u32,
        fingerprint: u64,
        budget: usize,
        spill_dir: PathBuf,
    ) -> Self {
        BucketSorter {
            width,
            task,
            header: Header {
                kind: Kind::Bucket,
                width: width as u32,
                fingerprint,
            },
            budget,
            spill_dir,
            bufs: vec![Vec::new(); buckets],
            runs: vec![Vec::new(); buckets],
            counts: vec![0; buckets],
            held: 0,
        }
    }

    /// Adds a record of `bucket`.
    pub(crate) fn push(&mut self, bucket: usize, key: &[u64], ord: u32) -> Result<(), DedupError> {
        debug_assert_eq!(key.len(), self.width);
        let b = &mut self.bufs[bucket];
        b.extend_from_slice(key);
        b.push(ord as u64);
        self.counts[bucket] += 1;
        // record words plus the u32 index the sort needs
        self.held += (self.width + 1) * 8 + 4;
        if self.held > self.budget {
            self.spill_all()?;
        }
        Ok(())
    }

    /// Encodes `bucket`'s buffered records in (key, order) order and empties the buffer.
    fn sorted_bytes(&mut self, bucket: usize) -> Vec<u8> {
        let s = self.width + 1;
        let buf = std::mem::take(&mut self.bufs[bucket]);
        let mut idx: Vec<u32> = (0..(buf.len() / s) as u32).collect();
        idx.sort_unstable_by(|&a, &b| {
            let (a, b) = (a as usize * s, b as usize * s);
            buf[a..a + s].cmp(&buf[b..b + s])
        });
        let mut out = Vec::with_capacity(idx.len() * (self.width * 8 + 8));
        for i in idx {
            let r = &buf[i as usize * s..(i as usize + 1) * s];
            for k in &r[..self.width] {
                out.extend_from_slice(&k.to_le_bytes());
            }
            out.extend_from_slice(&self.task.to_le_bytes());
            out.extend_from_slice(&(r[self.width] as u32).to_le_bytes());
        }
        out
    }

    fn spill_all(&mut self) -> Result<(), DedupError> {
        for b in 0..self.bufs.len() {
            if self.bufs[b].is_empty() {
                continue;
            }
            let bytes = self.sorted_bytes(b);
            let p = self
                .spill_dir
                .join(format!("bucket-{b:03}-run-{:05}.bin", self.runs[b].len()));
            let mut w = AtomicWriter::with_header(&p, self.header)?;
            w.write(&bytes)?;
            w.finish()?;
            self.runs[b].push(p);
        }
        self.held = 0;
        Ok(())
    }

    /// Writes bucket `b`'s final file at `path`; returns its record count.
    pub(crate) fn write_bucket(
        &mut self,
        b: usize,
        path: &Path,
        fingerprint: u64,
    ) -> Result<u64, DedupError> {
        let mut w = AtomicWriter::with_header(path, self.header)?;
        if self.runs[b].is_empty() {
            let bytes = self.sorted_bytes(b);
            w.write(&bytes)?;
        } else {
            if !self.bufs[b].is_empty() {
                let bytes = self.sorted_bytes(b);
                let p = self
                    .spill_dir
                    .join(format!("bucket-{b:03}-run-{:05}.bin", self.runs[b].len()));
                let mut rw = AtomicWriter::with_header(&p, self.header)?;
                rw.write(&bytes)?;
                rw.finish()?;
                self.runs[b].push(p);
            }
            let limits = MergeLimits {
                memory_budget: self.budget.min(64 << 20),
                ..Default::default()
            };
            let mut buf = Vec::with_capacity(self.width * 8 + 8);
            merge_files(&self.runs[b], fingerprint, &limits, |r: &BucketRecord| {
                buf.clear();
                r.encode_into(&mut buf);
                w.write(&buf)
            })?;
            for p in &self.runs[b] {
                let _ = std::fs::remove_file(p);
            }
        }
        w.finish()?;
        Ok(self.counts[b])
    }
}
