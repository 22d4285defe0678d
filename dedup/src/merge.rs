//! Stage 2: per bucket, merge the sorted files of all tasks and emit candidate duplicate pairs.
//!
//! An external k-way merge: one buffered reader per input file and a binary heap of their current
//! records, so memory is `files × buffer` whatever the data size. The buffer shrinks as the number of
//! files grows (within `memory_budget`), and past `max_fan_in` files the merge first combines groups of
//! files into intermediate sorted runs (same format), level by level, so memory stays bounded even for
//! tens of thousands of tasks.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};

use crate::error::DedupError;
use crate::format::{AtomicWriter, BucketReader, BucketRecord, Header, Kind, INDEX_NODE};
use crate::layout::Layout;

/// Which pairs a group of records with equal keys produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairMode {
    /// Each record with its predecessor (datatrove): enough for union-find.
    Consecutive,
    /// Predecessor and also the group's first record (when pairs are verified, a chain alone would
    /// break at the first dissimilar neighbour).
    ConsecutiveAndFirst,
    /// Each record with the group's first record (exact dedup: the first is the one kept).
    First,
}

/// Limits of the merge.
#[derive(Debug, Clone, Copy)]
pub struct MergeLimits {
    /// Total bytes of read buffers (default 64 MiB).
    pub memory_budget: usize,
    /// Most files merged at once (default 512).
    pub max_fan_in: usize,
    /// Stage-1 bytes one signature task holds before it spills sorted runs to disk (default 128 MiB).
    pub signature_budget: usize,
}

impl Default for MergeLimits {
    fn default() -> Self {
        MergeLimits {
            memory_budget: 64 << 20,
            max_fan_in: 512,
            signature_budget: crate::spill::DEFAULT_SIGNATURE_BUDGET,
        }
    }
}

/// What one bucket's merge found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Records read.
    pub records: u64,
    /// Pairs written.
    pub pairs: u64,
    /// Intermediate runs written (0 unless the fan-in limit was hit).
    pub runs: u64,
    /// Bytes of the pairs file.
    pub bytes: u64,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct HeapItem {
    rec: BucketRecord,
    src: usize,
}

/// Merges sorted bucket files, calling `sink` with every record in (key, task, ord) order.
pub(crate) fn merge_files(
    files: &[PathBuf],
    fingerprint: u64,
    limits: &MergeLimits,
    mut sink: impl FnMut(&BucketRecord) -> Result<(), DedupError>,
) -> Result<u64, DedupError> {
    let buf = (limits.memory_budget / files.len().max(1)).clamp(4096, 1 << 20);
    let readers = files
        .iter()
        .map(|p| BucketReader::open(p, fingerprint, buf))
        .collect::<Result<Vec<_>, _>>()?;
    merge_readers(readers, |r, _| sink(r))
}

/// Merges open readers, calling `sink` with every record and the index of its reader, in (key, task,
/// ord, reader) order: on equal records the earlier reader comes first, so index files (whose records
/// read as task 0, order 0) put first lead every group of their key.
pub(crate) fn merge_readers(
    mut readers: Vec<BucketReader>,
    mut sink: impl FnMut(&BucketRecord, usize) -> Result<(), DedupError>,
) -> Result<u64, DedupError> {
    let mut heap = BinaryHeap::with_capacity(readers.len());
    for (src, r) in readers.iter_mut().enumerate() {
        let mut rec = BucketRecord {
            key: Vec::with_capacity(r.width()),
            task: 0,
            ord: 0,
        };
        if r.next_into(&mut rec)? {
            heap.push(Reverse(HeapItem { rec, src }));
        }
    }
    let mut n = 0u64;
    let mut last: Option<BucketRecord> = None;
    while let Some(Reverse(mut item)) = heap.pop() {
        n += 1;
        if let Some(l) = &last {
            if *l > item.rec {
                return Err(DedupError::Format {
                    path: readers[item.src].path().to_path_buf(),
                    message: "records are not sorted (file corrupted or written by another tool)"
                        .into(),
                });
            }
        }
        sink(&item.rec, item.src)?;
        match &mut last {
            Some(l) => l.clone_from(&item.rec),
            None => last = Some(item.rec.clone()),
        }
        if readers[item.src].next_into(&mut item.rec)? {
            heap.push(Reverse(item));
        }
    }
    Ok(n)
}

/// Merges groups of files into sorted runs until at most `max_fan_in` remain.
pub(crate) fn reduce_fan_in(
    mut files: Vec<PathBuf>,
    run_dir: &Path,
    width: usize,
    fingerprint: u64,
    limits: &MergeLimits,
    runs: &mut u64,
) -> Result<Vec<PathBuf>, DedupError> {
    let fan = limits.max_fan_in.max(2);
    let mut level = 0;
    while files.len() > fan {
        let mut next = Vec::new();
        for (g, group) in files.chunks(fan).enumerate() {
            let p = run_dir.join(format!("run-{level:02}-{g:06}.bin"));
            let mut w = AtomicWriter::with_header(
                &p,
                Header {
                    kind: Kind::Bucket,
                    width: width as u32,
                    fingerprint,
                },
            )?;
            let mut buf = Vec::new();
            merge_files(group, fingerprint, limits, |r| {
                buf.clear();
                r.encode_into(&mut buf);
                w.write(&buf)
            })?;
            w.finish()?;
            *runs += 1;
            next.push(p);
        }
        if level > 0 {
            for f in &files {
                let _ = std::fs::remove_file(f);
            }
        }
        files = next;
        level += 1;
    }
    Ok(files)
}

/// Stage 2 for one bucket: merges `buckets/<b>/task-*.bin` of all tasks into `pairs/<b>.bin`.
pub fn find_pairs(
    layout: &Layout,
    bucket: usize,
    fingerprint: u64,
    mode: PairMode,
    limits: &MergeLimits,
) -> Result<MergeStats, DedupError> {
    find_pairs_with_index(layout, bucket, fingerprint, mode, limits, &[])
}

/// [`find_pairs`], also merging `index` files (this bucket of indexes of earlier crawls) as sorted
/// inputs: every document whose key is in an index gets a pair with [`INDEX_NODE`] instead of pairs
/// with the other documents of its key (they all go, as duplicates of the indexed document).
pub fn find_pairs_with_index(
    layout: &Layout,
    bucket: usize,
    fingerprint: u64,
    mode: PairMode,
    limits: &MergeLimits,
    index: &[PathBuf],
) -> Result<MergeStats, DedupError> {
    let dir = layout.bucket_dir(bucket);
    let mut files = Vec::new();
    let rd = std::fs::read_dir(&dir).map_err(|e| DedupError::io(&dir, e))?;
    for e in rd {
        let e = e.map_err(|e| DedupError::io(&dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("task-") && name.ends_with(".bin") {
            files.push(e.path());
        }
    }
    files.sort();
    let mut stats = MergeStats::default();
    let mut width = None;
    for f in &files {
        let w = BucketReader::open(f, fingerprint, 4096)?.width();
        if *width.get_or_insert(w) != w {
            return Err(DedupError::Format {
                path: f.clone(),
                message: format!(
                    "key width {w} differs from the other files of this bucket ({width:?})"
                ),
            });
        }
    }
    let width = width.unwrap_or(0);
    let run_dir = dir.join("runs");
    let files = reduce_fan_in(files, &run_dir, width, fingerprint, limits, &mut stats.runs)?;

    let out = layout.pairs(bucket);
    let mut w = AtomicWriter::with_header(
        &out,
        Header {
            kind: Kind::Pairs,
            width: 0,
            fingerprint,
        },
    )?;
    let mut prev: Option<BucketRecord> = None;
    let mut first: Option<BucketRecord> = None;
    // whether the current key group started with an index record
    let mut indexed = false;
    let mut pairs = 0u64;
    let mut buf = [0u8; 16];
    let mut emit =
        |a: &BucketRecord, b: &BucketRecord, w: &mut AtomicWriter| -> Result<(), DedupError> {
            buf[0..4].copy_from_slice(&a.task.to_le_bytes());
            buf[4..8].copy_from_slice(&a.ord.to_le_bytes());
            buf[8..12].copy_from_slice(&b.task.to_le_bytes());
            buf[12..16].copy_from_slice(&b.ord.to_le_bytes());
            pairs += 1;
            w.write(&buf)
        };
    let buf_bytes =
        (limits.memory_budget / (files.len() + index.len()).max(1)).clamp(4096, 1 << 20);
    let mut readers = index
        .iter()
        .map(|p| BucketReader::open_index(p, fingerprint, buf_bytes))
        .collect::<Result<Vec<_>, _>>()?;
    for f in &files {
        readers.push(BucketReader::open(f, fingerprint, buf_bytes)?);
    }
    for r in &readers {
        if r.width() != width && width != 0 {
            return Err(DedupError::Format {
                path: r.path().to_path_buf(),
                message: format!(
                    "key width {} differs from this bucket's files ({width})",
                    r.width()
                ),
            });
        }
    }
    let n_index = index.len();
    let index_node = BucketRecord {
        key: Vec::new(),
        task: INDEX_NODE,
        ord: INDEX_NODE,
    };
    stats.records = merge_readers(readers, |r, src| {
        let from_index = src < n_index;
        let same_key = prev.as_ref().is_some_and(|p| p.key == r.key);
        if !same_key {
            indexed = from_index;
        }
        if from_index {
            // index records lead their group; repeats (several indexes) add nothing
            match &mut prev {
                Some(p) => p.clone_from(r),
                None => prev = Some(r.clone()),
            }
            return Ok(());
        }
        if indexed {
            emit(&index_node, r, &mut w)?;
            match &mut prev {
                Some(p) => p.clone_from(r),
                None => prev = Some(r.clone()),
            }
            return Ok(());
        }
        match &prev {
            Some(p) if same_key => {
                let f = first.as_ref().expect("a group has a first record");
                match mode {
                    PairMode::Consecutive => emit(p, r, &mut w)?,
                    PairMode::First => emit(f, r, &mut w)?,
                    PairMode::ConsecutiveAndFirst => {
                        emit(p, r, &mut w)?;
                        if (f.task, f.ord) != (p.task, p.ord) {
                            emit(f, r, &mut w)?;
                        }
                    }
                }
            }
            _ => match &mut first {
                Some(f) => f.clone_from(r),
                None => first = Some(r.clone()),
            },
        }
        match &mut prev {
            Some(p) => p.clone_from(r),
            None => prev = Some(r.clone()),
        }
        Ok(())
    })?;
    stats.bytes = w.finish()?;
    stats.pairs = pairs;
    if run_dir.exists() {
        let _ = std::fs::remove_dir_all(&run_dir);
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::read_pairs;

    fn write_bucket(layout: &Layout, task: usize, recs: &[(u64, u32)]) {
        let p = layout.bucket(0, task);
        let mut w = AtomicWriter::with_header(
            &p,
            Header {
                kind: Kind::Bucket,
                width: 1,
                fingerprint: 9,
            },
        )
        .unwrap();
        let mut buf = Vec::new();
        for &(k, ord) in recs {
            BucketRecord {
                key: vec![k],
                task: task as u32,
                ord,
            }
            .encode_into(&mut buf);
        }
        w.write(&buf).unwrap();
        w.finish().unwrap();
    }

    fn pairs(layout: &Layout, mode: PairMode, limits: MergeLimits) -> (MergeStats, Vec<[u32; 4]>) {
        let s = find_pairs(layout, 0, 9, mode, &limits).unwrap();
        let mut v = Vec::new();
        read_pairs(&layout.pairs(0), 9, |p| v.push(p)).unwrap();
        (s, v)
    }

    #[test]
    fn merges_across_tasks_and_through_runs() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        write_bucket(&layout, 0, &[(1, 0), (5, 1), (7, 2)]);
        write_bucket(&layout, 1, &[(5, 0), (6, 1)]);
        write_bucket(&layout, 2, &[(5, 3), (7, 0)]);
        let (s, v) = pairs(&layout, PairMode::Consecutive, MergeLimits::default());
        assert_eq!(s.records, 7);
        assert_eq!(v, vec![[0, 1, 1, 0], [1, 0, 2, 3], [0, 2, 2, 0]]);
        let (_, v) = pairs(&layout, PairMode::First, MergeLimits::default());
        assert_eq!(v, vec![[0, 1, 1, 0], [0, 1, 2, 3], [0, 2, 2, 0]]);
        // a fan-in of 2 forces intermediate runs and must give the same pairs
        let tight = MergeLimits {
            memory_budget: 1,
            max_fan_in: 2,
            ..Default::default()
        };
        let (s, v2) = pairs(&layout, PairMode::First, tight);
        assert!(s.runs >= 1);
        assert_eq!(v, v2);
        assert!(!layout.bucket_dir(0).join("runs").exists());
    }

    #[test]
    fn unsorted_input_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        write_bucket(&layout, 0, &[(5, 0), (1, 1)]);
        let e = find_pairs(
            &layout,
            0,
            9,
            PairMode::Consecutive,
            &MergeLimits::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("not sorted"), "{e}");
    }
}
