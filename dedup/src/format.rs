//! Intermediate files: a fixed header, then fixed-size little-endian records. Written atomically (temp
//! file + rename), read with bounded buffers.
//!
//! Header (32 bytes): magic `QRYDEDUP`, `u32` format version (1), `u32` [`Kind`], `u32` key width in
//! u64 words (bucket files) or hashes per signature (signature files), `u32` reserved (0), `u64`
//! fingerprint of the dedup settings ([`crate::MinhashConfig::fingerprint`]), so that files written
//! under other settings are refused instead of silently merged.
//!
//! Records per kind:
//! - [`Kind::Bucket`]: `key: [u64; width]`, `task: u32`, `ord: u32`; sorted by (key, task, ord). The
//!   key is a MinHash band's rows (or their xxh3-128 hash, 2 words, for the `xxh3` scheme with more
//!   than 2 rows) or an exact-dedup hash (2 words).
//! - [`Kind::Pairs`]: `task_a: u32, ord_a: u32, task_b: u32, ord_b: u32`; `(task_a, ord_a)` sorts first.
//!   `task_a = ord_a = u32::MAX` ([`INDEX_NODE`]): document b collided with a key of an index of
//!   earlier crawls.
//! - [`Kind::Signatures`]: `[u64; width]` per document order `ord` (all `u64::MAX` if it had no shingles).
//! - [`Kind::Shingles`]: `u64 n`, then `n + 1` `u64` offsets, then the sorted shingle hashes (`u64`);
//!   document `ord`'s set is `values[off[ord]..off[ord+1]]`.
//! - [`Kind::Index`]: `key: [u64; width]`, sorted and distinct: one bucket of a persistent index of
//!   earlier crawls' kept documents ([`crate::index`]).
//!
//! Storage is plain `std::fs` paths; every stage takes a folder, so an object store can be added by
//! swapping these few functions.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::DedupError;

/// File magic.
pub const MAGIC: &[u8; 8] = b"QRYDEDUP";
/// Format version written and accepted.
pub const VERSION: u32 = 1;
/// Header size in bytes.
pub const HEADER_LEN: u64 = 32;
/// The (task, order) that stands for "a document of an earlier crawl's index" in a pairs file.
pub const INDEX_NODE: u32 = u32::MAX;

/// What an intermediate file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// Sorted (key, task, ord) records of one bucket (band or hash partition) of one task.
    Bucket = 1,
    /// Candidate duplicate pairs.
    Pairs = 2,
    /// Full signatures of one task by document order.
    Signatures = 3,
    /// Shingle hash sets of one task by document order.
    Shingles = 4,
    /// Sorted, distinct keys of one bucket of a persistent index of earlier crawls (no task/order).
    Index = 5,
}

/// The parsed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// What the file holds.
    pub kind: Kind,
    /// Key width in u64 words, or signature length.
    pub width: u32,
    /// Settings fingerprint.
    pub fingerprint: u64,
}

impl Header {
    fn encode(&self) -> [u8; HEADER_LEN as usize] {
        let mut h = [0u8; HEADER_LEN as usize];
        h[..8].copy_from_slice(MAGIC);
        h[8..12].copy_from_slice(&VERSION.to_le_bytes());
        h[12..16].copy_from_slice(&(self.kind as u32).to_le_bytes());
        h[16..20].copy_from_slice(&self.width.to_le_bytes());
        h[24..32].copy_from_slice(&self.fingerprint.to_le_bytes());
        h
    }

    /// Bytes per record for bucket/pairs/signature files.
    pub fn record_len(&self) -> usize {
        match self.kind {
            Kind::Bucket => self.width as usize * 8 + 8,
            Kind::Pairs => 16,
            Kind::Signatures => self.width as usize * 8,
            Kind::Shingles => 8,
            Kind::Index => self.width as usize * 8,
        }
    }
}

/// A file being written: becomes visible under its final name only on [`AtomicWriter::finish`].
pub struct AtomicWriter {
    path: PathBuf,
    tmp: PathBuf,
    w: BufWriter<File>,
    bytes: u64,
}

impl AtomicWriter {
    /// Creates the temp file (and parent folders).
    pub fn create(path: &Path) -> Result<Self, DedupError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| DedupError::io(dir, e))?;
        }
        let mut tmp = path.as_os_str().to_owned();
        // Unique per process and per writer: several tasks of one process may write the same file
        // (e.g. config.json) at once, and each must rename its own temp file.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        tmp.push(format!(".tmp-{}-{n}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let f = File::create(&tmp).map_err(|e| DedupError::io(&tmp, e))?;
        Ok(AtomicWriter {
            path: path.to_path_buf(),
            tmp,
            w: BufWriter::with_capacity(1 << 20, f),
            bytes: 0,
        })
    }

    /// Creates the file and writes a header.
    pub fn with_header(path: &Path, header: Header) -> Result<Self, DedupError> {
        let mut w = Self::create(path)?;
        w.write(&header.encode())?;
        Ok(w)
    }

    /// Appends bytes.
    pub fn write(&mut self, b: &[u8]) -> Result<(), DedupError> {
        self.bytes += b.len() as u64;
        self.w
            .write_all(b)
            .map_err(|e| DedupError::io(&self.tmp, e))
    }

    /// Flushes and renames into place; returns the bytes written.
    pub fn finish(self) -> Result<u64, DedupError> {
        let AtomicWriter {
            path,
            tmp,
            w,
            bytes,
        } = self;
        let f = w
            .into_inner()
            .map_err(|e| DedupError::io(&tmp, e.into_error()))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(|e| DedupError::io(&path, e))?;
        Ok(bytes)
    }
}

/// Writes a whole file atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DedupError> {
    let mut w = AtomicWriter::create(path)?;
    w.write(bytes)?;
    w.finish().map(|_| ())
}

/// Reads and checks a header: magic, version, kind, and the settings fingerprint.
pub fn read_header(
    path: &Path,
    r: &mut impl Read,
    kind: Kind,
    fingerprint: u64,
) -> Result<Header, DedupError> {
    let mut h = [0u8; HEADER_LEN as usize];
    r.read_exact(&mut h).map_err(|e| DedupError::Format {
        path: path.to_path_buf(),
        message: format!("cannot read the {HEADER_LEN}-byte header: {e}"),
    })?;
    let bad = |m: String| DedupError::Format {
        path: path.to_path_buf(),
        message: m,
    };
    if &h[..8] != MAGIC {
        return Err(bad("not a quarry dedup file (bad magic)".into()));
    }
    let u32_at = |i: usize| u32::from_le_bytes(h[i..i + 4].try_into().unwrap());
    if u32_at(8) != VERSION {
        return Err(bad(format!(
            "format version {} (this build reads {VERSION})",
            u32_at(8)
        )));
    }
    if u32_at(12) != kind as u32 {
        return Err(bad(format!(
            "file kind {} where {:?} ({}) was expected",
            u32_at(12),
            kind,
            kind as u32
        )));
    }
    let fp = u64::from_le_bytes(h[24..32].try_into().unwrap());
    if fp != fingerprint {
        return Err(bad(format!(
            "written under other dedup settings (fingerprint {fp:016x}, expected {fingerprint:016x}); \
             rerun the earlier stage or use a separate folder"
        )));
    }
    Ok(Header {
        kind,
        width: u32_at(16),
        fingerprint: fp,
    })
}

/// One record of a bucket file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BucketRecord {
    /// The band's rows or the exact-dedup hash.
    pub key: Vec<u64>,
    /// Input task.
    pub task: u32,
    /// Document order within the task.
    pub ord: u32,
}

impl BucketRecord {
    /// Appends the record's bytes.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        for k in &self.key {
            out.extend_from_slice(&k.to_le_bytes());
        }
        out.extend_from_slice(&self.task.to_le_bytes());
        out.extend_from_slice(&self.ord.to_le_bytes());
    }
}

/// Streams the records of a bucket file, checking that they are sorted and that the file is not
/// truncated.
pub struct BucketReader {
    path: PathBuf,
    r: BufReader<File>,
    width: usize,
    buf: Vec<u8>,
    remaining: u64,
    index: bool,
}

impl BucketReader {
    /// Opens a bucket file with a read buffer of `buf_bytes`.
    pub fn open(path: &Path, fingerprint: u64, buf_bytes: usize) -> Result<Self, DedupError> {
        Self::open_kind(path, Kind::Bucket, fingerprint, buf_bytes)
    }

    /// Opens an index file (keys only; its records read as task 0, order 0).
    pub fn open_index(path: &Path, fingerprint: u64, buf_bytes: usize) -> Result<Self, DedupError> {
        Self::open_kind(path, Kind::Index, fingerprint, buf_bytes)
    }

    fn open_kind(
        path: &Path,
        kind: Kind,
        fingerprint: u64,
        buf_bytes: usize,
    ) -> Result<Self, DedupError> {
        let f = File::open(path).map_err(|e| DedupError::io(path, e))?;
        let len = f.metadata().map_err(|e| DedupError::io(path, e))?.len();
        let mut r = BufReader::with_capacity(buf_bytes.max(4096), f);
        let h = read_header(path, &mut r, kind, fingerprint)?;
        let rl = h.record_len() as u64;
        let body = len.saturating_sub(HEADER_LEN);
        if body % rl != 0 {
            return Err(DedupError::Format {
                path: path.to_path_buf(),
                message: format!("{body} bytes of records is not a multiple of the record size {rl} (truncated?)"),
            });
        }
        Ok(BucketReader {
            path: path.to_path_buf(),
            r,
            width: h.width as usize,
            buf: vec![0; rl as usize],
            remaining: body / rl,
            index: kind == Kind::Index,
        })
    }

    /// Whether this is an index file.
    pub fn is_index(&self) -> bool {
        self.index
    }

    /// Key width in u64 words.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of records not yet read.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Reads the next record into `rec` (reusing its key buffer); `false` at the end.
    pub fn next_into(&mut self, rec: &mut BucketRecord) -> Result<bool, DedupError> {
        if self.remaining == 0 {
            return Ok(false);
        }
        self.r
            .read_exact(&mut self.buf)
            .map_err(|e| DedupError::io(&self.path, e))?;
        self.remaining -= 1;
        rec.key.clear();
        for i in 0..self.width {
            rec.key.push(u64::from_le_bytes(
                self.buf[i * 8..i * 8 + 8].try_into().unwrap(),
            ));
        }
        if self.index {
            rec.task = 0;
            rec.ord = 0;
            return Ok(true);
        }
        let o = self.width * 8;
        rec.task = u32::from_le_bytes(self.buf[o..o + 4].try_into().unwrap());
        rec.ord = u32::from_le_bytes(self.buf[o + 4..o + 8].try_into().unwrap());
        Ok(true)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads a whole pairs file.
pub fn read_pairs(
    path: &Path,
    fingerprint: u64,
    mut f: impl FnMut([u32; 4]),
) -> Result<u64, DedupError> {
    let file = File::open(path).map_err(|e| DedupError::io(path, e))?;
    let len = file.metadata().map_err(|e| DedupError::io(path, e))?.len();
    let mut r = BufReader::with_capacity(1 << 20, file);
    read_header(path, &mut r, Kind::Pairs, fingerprint)?;
    let body = len.saturating_sub(HEADER_LEN);
    if body % 16 != 0 {
        return Err(DedupError::Format {
            path: path.to_path_buf(),
            message: format!("{body} bytes of pairs is not a multiple of 16 (truncated?)"),
        });
    }
    let mut b = [0u8; 16];
    for _ in 0..body / 16 {
        r.read_exact(&mut b).map_err(|e| DedupError::io(path, e))?;
        let w = |i: usize| u32::from_le_bytes(b[i * 4..i * 4 + 4].try_into().unwrap());
        f([w(0), w(1), w(2), w(3)]);
    }
    Ok(body / 16)
}

/// Positional reads of per-document records (signatures, shingle sets) for pair verification.
pub struct RandomAccess {
    path: PathBuf,
    f: File,
    kind: Kind,
    width: usize,
    n: u64,
}

impl RandomAccess {
    /// Opens a signatures or shingles file.
    pub fn open(path: &Path, kind: Kind, fingerprint: u64) -> Result<Self, DedupError> {
        let mut f = File::open(path).map_err(|e| DedupError::io(path, e))?;
        let h = read_header(path, &mut f, kind, fingerprint)?;
        let mut n = 0;
        if kind == Kind::Shingles {
            let mut b = [0u8; 8];
            f.read_exact(&mut b).map_err(|e| DedupError::io(path, e))?;
            n = u64::from_le_bytes(b);
        }
        Ok(RandomAccess {
            path: path.to_path_buf(),
            f,
            kind,
            width: h.width as usize,
            n,
        })
    }

    fn read_u64s(&self, at: u64, count: usize, out: &mut Vec<u64>) -> Result<(), DedupError> {
        use std::os::unix::fs::FileExt;
        let mut b = vec![0u8; count * 8];
        self.f
            .read_exact_at(&mut b, at)
            .map_err(|e| DedupError::io(&self.path, e))?;
        out.clear();
        out.extend(
            b.chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap())),
        );
        Ok(())
    }

    /// The record of document `ord` (a signature or a shingle set) into `out`.
    pub fn get(&self, ord: u32, out: &mut Vec<u64>) -> Result<(), DedupError> {
        match self.kind {
            Kind::Signatures => self.read_u64s(
                HEADER_LEN + ord as u64 * self.width as u64 * 8,
                self.width,
                out,
            ),
            Kind::Shingles => {
                if ord as u64 >= self.n {
                    return Err(DedupError::Format {
                        path: self.path.clone(),
                        message: format!("document {ord} out of range ({} documents)", self.n),
                    });
                }
                let mut off = Vec::new();
                self.read_u64s(HEADER_LEN + 8 + ord as u64 * 8, 2, &mut off)?;
                let base = HEADER_LEN + 8 + (self.n + 1) * 8;
                self.read_u64s(base + off[0] * 8, (off[1] - off[0]) as usize, out)
            }
            _ => unreachable!("random access is only opened on signature or shingle files"),
        }
    }
}

/// Starts a shingles file: the header, the document count and the `n + 1` offsets of the sets whose
/// sizes are `lens`; the sets' hashes follow, back to back.
pub fn start_shingles(
    path: &Path,
    fingerprint: u64,
    lens: impl ExactSizeIterator<Item = u64>,
) -> Result<AtomicWriter, DedupError> {
    let mut w = AtomicWriter::with_header(
        path,
        Header {
            kind: Kind::Shingles,
            width: 1,
            fingerprint,
        },
    )?;
    let mut buf = Vec::with_capacity((lens.len() + 2) * 8);
    buf.extend_from_slice(&(lens.len() as u64).to_le_bytes());
    let mut off = 0u64;
    buf.extend_from_slice(&off.to_le_bytes());
    for n in lens {
        off += n;
        buf.extend_from_slice(&off.to_le_bytes());
    }
    w.write(&buf)?;
    Ok(w)
}

/// Writes a shingles file from per-document sorted sets.
pub fn write_shingles(path: &Path, fingerprint: u64, sets: &[&[u64]]) -> Result<u64, DedupError> {
    let mut w = start_shingles(path, fingerprint, sets.iter().map(|s| s.len() as u64))?;
    let mut buf = Vec::new();
    for s in sets {
        buf.clear();
        for v in *s {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        w.write(&buf)?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_roundtrip_and_refusals() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.bin");
        let h = Header {
            kind: Kind::Bucket,
            width: 2,
            fingerprint: 7,
        };
        let mut w = AtomicWriter::with_header(&p, h).unwrap();
        let recs = [
            BucketRecord {
                key: vec![1, 2],
                task: 0,
                ord: 5,
            },
            BucketRecord {
                key: vec![1, 3],
                task: 2,
                ord: 1,
            },
        ];
        let mut buf = Vec::new();
        for r in &recs {
            r.encode_into(&mut buf);
        }
        w.write(&buf).unwrap();
        assert!(!p.exists(), "not visible before finish");
        w.finish().unwrap();
        let mut r = BucketReader::open(&p, 7, 4096).unwrap();
        let mut rec = BucketRecord {
            key: vec![],
            task: 0,
            ord: 0,
        };
        let mut got = Vec::new();
        while r.next_into(&mut rec).unwrap() {
            got.push(rec.clone());
        }
        assert_eq!(got, recs);
        // other settings
        let e = BucketReader::open(&p, 8, 4096).err().unwrap().to_string();
        assert!(e.contains("other dedup settings"), "{e}");
        // truncation
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 3]).unwrap();
        let e = BucketReader::open(&p, 7, 4096).err().unwrap().to_string();
        assert!(e.contains("truncated"), "{e}");
        // garbage
        std::fs::write(&p, b"hello").unwrap();
        assert!(BucketReader::open(&p, 7, 4096).is_err());
    }

    #[test]
    fn shingles_random_access() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.bin");
        let sets: Vec<Vec<u64>> = vec![vec![1, 2, 3], vec![], vec![9]];
        let refs: Vec<&[u64]> = sets.iter().map(|s| s.as_slice()).collect();
        write_shingles(&p, 3, &refs).unwrap();
        let ra = RandomAccess::open(&p, Kind::Shingles, 3).unwrap();
        let mut out = Vec::new();
        for (i, s) in sets.iter().enumerate() {
            ra.get(i as u32, &mut out).unwrap();
            assert_eq!(&out, s);
        }
        assert!(ra.get(3, &mut out).is_err());
    }
}
