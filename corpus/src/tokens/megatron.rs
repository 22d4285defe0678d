//! Megatron-LM's indexed dataset (`MMIDIDX` version 1): a `.bin` of raw tokens and an `.idx` index.
//!
//! Byte layout of `<prefix>.idx`, all little-endian, no padding (as Megatron-LM's
//! `megatron/core/datasets/indexed_dataset.py` `_IndexWriter` writes it):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 9 | magic `MMIDIDX\x00\x00` |
//! | 9 | 8 | version, u64 = 1 |
//! | 17 | 1 | dtype code, u8 (4 = int32, 8 = uint16) |
//! | 18 | 8 | sequence count S, u64 |
//! | 26 | 8 | document count D, u64 (= number of documents + 1) |
//! | 34 | 4·S | sequence lengths, int32, in tokens |
//! | 34+4S | 8·S | sequence pointers, int64, byte offsets into `.bin` |
//! | 34+12S | 8·D | document indices, int64: `[0, …]`, document `i` is sequences `[d[i], d[i+1])` |
//!
//! `<prefix>.bin` is the tokens of all sequences back to back in the dtype. We write one sequence per
//! document (Megatron's `preprocess_data.py` without sentence splitting), so `d = [0, 1, …, S]`; the
//! reader accepts any valid index.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use super::{io_err, tmp_path, Result, TokensError};

/// The index magic.
pub const MAGIC: &[u8; 9] = b"MMIDIDX\x00\x00";
/// Length of the fixed header before the sequence lengths.
pub const HEADER_LEN: usize = 34;

/// Token dtype of a Megatron dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MegatronDtype {
    /// numpy uint16, code 8.
    U16,
    /// numpy int32, code 4.
    I32,
}

impl MegatronDtype {
    /// Megatron's own rule (`DType.optimal_dtype`): uint16 when the vocabulary has fewer than 65,500
    /// ids, else int32.
    pub fn for_vocab(vocab_size: usize) -> Self {
        if vocab_size < 65_500 {
            MegatronDtype::U16
        } else {
            MegatronDtype::I32
        }
    }
    /// The numeric code in the index header.
    pub fn code(self) -> u8 {
        match self {
            MegatronDtype::U16 => 8,
            MegatronDtype::I32 => 4,
        }
    }
    /// Bytes per token.
    pub fn size(self) -> usize {
        match self {
            MegatronDtype::U16 => 2,
            MegatronDtype::I32 => 4,
        }
    }
    fn from_code(code: u8) -> Option<Self> {
        match code {
            8 => Some(MegatronDtype::U16),
            4 => Some(MegatronDtype::I32),
            _ => None,
        }
    }
}

/// `<prefix>.bin` and `<prefix>.idx`.
pub fn paths(prefix: &Path) -> (PathBuf, PathBuf) {
    let mut bin = prefix.as_os_str().to_os_string();
    bin.push(".bin");
    let mut idx = prefix.as_os_str().to_os_string();
    idx.push(".idx");
    (PathBuf::from(bin), PathBuf::from(idx))
}

/// Writes one Megatron dataset, one document per sequence. Files appear (atomically renamed) on
/// [`MegatronWriter::finish`]; dropping the writer unfinished leaves only `.tmp` files.
pub struct MegatronWriter {
    bin_path: PathBuf,
    idx_path: PathBuf,
    bin_tmp: PathBuf,
    bin: BufWriter<File>,
    dtype: MegatronDtype,
    lengths: Vec<i32>,
    tokens: u64,
    buf: Vec<u8>,
}

impl MegatronWriter {
    /// Start `<prefix>.bin` / `<prefix>.idx`.
    pub fn create(prefix: &Path, dtype: MegatronDtype) -> Result<Self> {
        let (bin_path, idx_path) = paths(prefix);
        let bin_tmp = tmp_path(&bin_path);
        let f = File::create(&bin_tmp).map_err(io_err(&bin_tmp))?;
        Ok(MegatronWriter {
            bin_path,
            idx_path,
            bin_tmp,
            bin: BufWriter::with_capacity(1 << 20, f),
            dtype,
            lengths: Vec::new(),
            tokens: 0,
            buf: Vec::new(),
        })
    }

    /// Append one document (its ids, EOS included).
    pub fn add_document(&mut self, ids: &[u32]) -> Result<()> {
        let len = i32::try_from(ids.len()).map_err(|_| {
            TokensError::Config(format!(
                "a document of {} tokens does not fit Megatron's int32 sequence length",
                ids.len()
            ))
        })?;
        self.buf.clear();
        match self.dtype {
            MegatronDtype::U16 => {
                for &id in ids {
                    let v = u16::try_from(id).map_err(|_| {
                        TokensError::Config(format!("token id {id} does not fit uint16"))
                    })?;
                    self.buf.extend_from_slice(&v.to_le_bytes());
                }
            }
            MegatronDtype::I32 => {
                for &id in ids {
                    let v = i32::try_from(id).map_err(|_| {
                        TokensError::Config(format!("token id {id} does not fit int32"))
                    })?;
                    self.buf.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        self.bin
            .write_all(&self.buf)
            .map_err(io_err(&self.bin_tmp))?;
        self.lengths.push(len);
        self.tokens += ids.len() as u64;
        Ok(())
    }

    /// Tokens written so far.
    pub fn tokens(&self) -> u64 {
        self.tokens
    }

    /// Documents written so far.
    pub fn documents(&self) -> u64 {
        self.lengths.len() as u64
    }

    /// Write the index and move both files into place. Returns (`.bin`, `.idx`) paths.
    pub fn finish(self) -> Result<(PathBuf, PathBuf)> {
        let MegatronWriter {
            bin_path,
            idx_path,
            bin_tmp,
            bin,
            dtype,
            lengths,
            ..
        } = self;
        let f = bin.into_inner().map_err(|e| TokensError::Io {
            path: bin_tmp.clone(),
            source: e.into_error(),
        })?;
        f.sync_all().map_err(io_err(&bin_tmp))?;
        drop(f);

        let n = lengths.len();
        let mut idx = Vec::with_capacity(HEADER_LEN + 20 * n + 8);
        idx.extend_from_slice(MAGIC);
        idx.extend_from_slice(&1u64.to_le_bytes());
        idx.push(dtype.code());
        idx.extend_from_slice(&(n as u64).to_le_bytes());
        idx.extend_from_slice(&(n as u64 + 1).to_le_bytes());
        for &l in &lengths {
            idx.extend_from_slice(&l.to_le_bytes());
        }
        let mut ptr = 0i64;
        for &l in &lengths {
            idx.extend_from_slice(&ptr.to_le_bytes());
            ptr += l as i64 * dtype.size() as i64;
        }
        for i in 0..=n as i64 {
            idx.extend_from_slice(&i.to_le_bytes());
        }
        super::write_atomic(&idx_path, &idx)?;
        std::fs::rename(&bin_tmp, &bin_path).map_err(io_err(&bin_path))?;
        Ok((bin_path, idx_path))
    }
}

fn map(path: &Path) -> Result<Option<Mmap>> {
    let f = File::open(path).map_err(io_err(path))?;
    let len = f.metadata().map_err(io_err(path))?.len();
    if len == 0 {
        return Ok(None);
    }
    // SAFETY: the map is read-only and token shards are written once (temp file + rename) and never
    // modified in place; a file truncated under us by another process is outside the contract, as for
    // Megatron's and numpy's own memmap readers.
    let m = unsafe { Mmap::map(&f) }.map_err(io_err(path))?;
    Ok(Some(m))
}

/// A memory-mapped Megatron dataset, validated on open.
pub struct MegatronDataset {
    idx_path: PathBuf,
    idx: Option<Mmap>,
    bin: Option<Mmap>,
    dtype: MegatronDtype,
    seq_count: usize,
    doc_count: usize,
}

impl std::fmt::Debug for MegatronDataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MegatronDataset")
            .field("idx", &self.idx_path)
            .field("dtype", &self.dtype)
            .field("sequences", &self.seq_count)
            .field("documents", &self.doc_count)
            .finish()
    }
}

fn rd_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}
fn rd_i64(b: &[u8], at: usize) -> i64 {
    i64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}
fn rd_i32(b: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

impl MegatronDataset {
    /// Open `<prefix>.idx` and `<prefix>.bin` and check that every sequence lies inside `.bin` and the
    /// document indices run from 0 to the sequence count without going back.
    pub fn open(prefix: &Path) -> Result<Self> {
        let (bin_path, idx_path) = paths(prefix);
        let bad = |m: String| TokensError::Format {
            path: idx_path.clone(),
            format: "megatron .idx",
            message: m,
        };
        let idx = map(&idx_path)?;
        let b: &[u8] = idx.as_deref().unwrap_or(&[]);
        if b.len() < HEADER_LEN {
            return Err(bad(format!(
                "{} bytes, shorter than the 34-byte header",
                b.len()
            )));
        }
        if &b[..9] != MAGIC {
            return Err(bad(format!("magic {:?}, want MMIDIDX\\x00\\x00", &b[..9])));
        }
        let version = rd_u64(b, 9);
        if version != 1 {
            return Err(bad(format!("version {version}, want 1")));
        }
        let dtype = MegatronDtype::from_code(b[17]).ok_or_else(|| {
            bad(format!(
                "dtype code {}, want 4 (int32) or 8 (uint16)",
                b[17]
            ))
        })?;
        let seq_count = rd_u64(b, 18);
        let doc_count = rd_u64(b, 26);
        let want = (HEADER_LEN as u128) + 12 * seq_count as u128 + 8 * doc_count as u128;
        // Multimodal datasets append one int8 mode per sequence; accept and ignore it.
        if b.len() as u128 != want && b.len() as u128 != want + seq_count as u128 {
            return Err(bad(format!(
                "{} bytes, want {want} for {seq_count} sequences and {doc_count} document indices",
                b.len()
            )));
        }
        if doc_count == 0 {
            return Err(bad(
                "document index count 0, want at least 1 (the leading 0)".into(),
            ));
        }
        let (seq_count, doc_count) = (seq_count as usize, doc_count as usize);
        let bin = map(&bin_path)?;
        let bin_len = bin.as_deref().map_or(0, |m| m.len()) as u64;
        let size = dtype.size() as u64;
        for i in 0..seq_count {
            let len = rd_i32(b, HEADER_LEN + 4 * i);
            let ptr = rd_i64(b, HEADER_LEN + 4 * seq_count + 8 * i);
            if len < 0 || ptr < 0 || ptr as u64 % size != 0 {
                return Err(bad(format!("sequence {i}: length {len}, pointer {ptr}")));
            }
            if ptr as u64 + len as u64 * size > bin_len {
                return Err(bad(format!(
                    "sequence {i} ends at byte {} of a {bin_len}-byte .bin",
                    ptr as u64 + len as u64 * size
                )));
            }
        }
        let di = HEADER_LEN + 12 * seq_count;
        let mut prev = 0i64;
        for j in 0..doc_count {
            let d = rd_i64(b, di + 8 * j);
            if (j == 0 && d != 0) || d < prev || d as u64 > seq_count as u64 {
                return Err(bad(format!("document index {j} is {d} after {prev}")));
            }
            prev = d;
        }
        if prev as usize != seq_count {
            return Err(bad(format!(
                "last document index {prev}, want the sequence count {seq_count}"
            )));
        }
        Ok(MegatronDataset {
            idx_path,
            idx,
            bin,
            dtype,
            seq_count,
            doc_count: doc_count - 1,
        })
    }

    fn idx(&self) -> &[u8] {
        self.idx.as_deref().unwrap_or(&[])
    }

    /// Token dtype.
    pub fn dtype(&self) -> MegatronDtype {
        self.dtype
    }

    /// Number of sequences.
    pub fn num_sequences(&self) -> usize {
        self.seq_count
    }

    /// Number of documents (document indices minus one).
    pub fn num_documents(&self) -> usize {
        self.doc_count
    }

    /// Length in tokens of sequence `i`.
    pub fn sequence_length(&self, i: usize) -> usize {
        assert!(i < self.seq_count, "sequence {i} of {}", self.seq_count);
        rd_i32(self.idx(), HEADER_LEN + 4 * i) as usize
    }

    /// Byte offset of sequence `i` in `.bin`.
    pub fn sequence_pointer(&self, i: usize) -> u64 {
        assert!(i < self.seq_count, "sequence {i} of {}", self.seq_count);
        rd_i64(self.idx(), HEADER_LEN + 4 * self.seq_count + 8 * i) as u64
    }

    /// The sequences of document `i`: `[first, end)`.
    pub fn document_sequences(&self, i: usize) -> std::ops::Range<usize> {
        assert!(i < self.doc_count, "document {i} of {}", self.doc_count);
        let di = HEADER_LEN + 12 * self.seq_count;
        let a = rd_i64(self.idx(), di + 8 * i) as usize;
        let b = rd_i64(self.idx(), di + 8 * (i + 1)) as usize;
        a..b
    }

    /// The raw little-endian bytes of sequence `i`.
    pub fn sequence_bytes(&self, i: usize) -> &[u8] {
        let p = self.sequence_pointer(i) as usize;
        let n = self.sequence_length(i) * self.dtype.size();
        &self.bin.as_deref().unwrap_or(&[])[p..p + n]
    }

    /// Append the tokens of sequence `i` to `out`.
    pub fn sequence_into(&self, i: usize, out: &mut Vec<u32>) {
        let b = self.sequence_bytes(i);
        match self.dtype {
            MegatronDtype::U16 => out.extend(
                b.chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]) as u32),
            ),
            MegatronDtype::I32 => out.extend(
                b.chunks_exact(4)
                    .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as u32),
            ),
        }
    }

    /// The tokens of sequence `i`.
    pub fn sequence(&self, i: usize) -> Vec<u32> {
        let mut v = Vec::with_capacity(self.sequence_length(i));
        self.sequence_into(i, &mut v);
        v
    }

    /// The tokens of document `i` (all its sequences).
    pub fn document(&self, i: usize) -> Vec<u32> {
        let mut v = Vec::new();
        for s in self.document_sequences(i) {
            self.sequence_into(s, &mut v);
        }
        v
    }

    /// Total tokens.
    pub fn num_tokens(&self) -> u64 {
        (0..self.seq_count)
            .map(|i| self.sequence_length(i) as u64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_read_roundtrip_both_dtypes() {
        let dir = tempfile::tempdir().unwrap();
        for (dtype, big) in [
            (MegatronDtype::U16, 65_000u32),
            (MegatronDtype::I32, 1_000_000),
        ] {
            let prefix = dir.path().join(format!("ds-{}", dtype.code()));
            let mut w = MegatronWriter::create(&prefix, dtype).unwrap();
            let docs: Vec<Vec<u32>> = vec![vec![1, 2, 3, 0], vec![big, 0], vec![0]];
            for d in &docs {
                w.add_document(d).unwrap();
            }
            assert_eq!(w.tokens(), 7);
            let (bin, idx) = w.finish().unwrap();
            assert_eq!(
                std::fs::metadata(&bin).unwrap().len(),
                7 * dtype.size() as u64
            );
            // 34 header + 3*(4+8) + 4*8
            assert_eq!(std::fs::metadata(&idx).unwrap().len(), 34 + 36 + 32);
            let raw = std::fs::read(&idx).unwrap();
            assert_eq!(&raw[..9], b"MMIDIDX\x00\x00");
            assert_eq!(raw[17], dtype.code());
            let ds = MegatronDataset::open(&prefix).unwrap();
            assert_eq!(ds.num_documents(), 3);
            assert_eq!(ds.num_sequences(), 3);
            assert_eq!(ds.sequence_pointer(2), 6 * dtype.size() as u64);
            for (i, d) in docs.iter().enumerate() {
                assert_eq!(&ds.document(i), d);
            }
            assert_eq!(ds.num_tokens(), 7);
        }
    }

    #[test]
    fn reads_documents_of_several_sequences() {
        // Megatron with sentence splitting: 3 sequences, document 0 = sequences 0..2, document 1 = 2..3.
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("multi");
        let (bin, idx) = paths(&prefix);
        let tokens: [u16; 6] = [10, 11, 12, 13, 14, 0];
        std::fs::write(
            &bin,
            tokens
                .iter()
                .flat_map(|t| t.to_le_bytes())
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&1u64.to_le_bytes());
        b.push(8);
        b.extend_from_slice(&3u64.to_le_bytes());
        b.extend_from_slice(&3u64.to_le_bytes());
        for l in [2i32, 3, 1] {
            b.extend_from_slice(&l.to_le_bytes());
        }
        for p in [0i64, 4, 10] {
            b.extend_from_slice(&p.to_le_bytes());
        }
        for d in [0i64, 2, 3] {
            b.extend_from_slice(&d.to_le_bytes());
        }
        std::fs::write(&idx, &b).unwrap();
        let ds = MegatronDataset::open(&prefix).unwrap();
        assert_eq!(ds.num_sequences(), 3);
        assert_eq!(ds.num_documents(), 2);
        assert_eq!(ds.document_sequences(0), 0..2);
        assert_eq!(ds.document(0), vec![10, 11, 12, 13, 14]);
        assert_eq!(ds.document(1), vec![0]);
        assert_eq!(ds.sequence(1), vec![12, 13, 14]);
    }

    #[test]
    fn u16_overflow_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = MegatronWriter::create(&dir.path().join("x"), MegatronDtype::U16).unwrap();
        assert!(w.add_document(&[70_000]).is_err());
    }

    #[test]
    fn corrupt_index_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("c");
        let mut w = MegatronWriter::create(&prefix, MegatronDtype::U16).unwrap();
        w.add_document(&[5, 6, 0]).unwrap();
        let (bin, idx) = w.finish().unwrap();
        let good = std::fs::read(&idx).unwrap();

        let mut bad = good.clone();
        bad[0] = b'X';
        std::fs::write(&idx, &bad).unwrap();
        assert!(MegatronDataset::open(&prefix)
            .unwrap_err()
            .to_string()
            .contains("magic"));

        std::fs::write(&idx, &good[..good.len() - 1]).unwrap();
        assert!(MegatronDataset::open(&prefix).is_err());

        std::fs::write(&idx, &good).unwrap();
        std::fs::write(&bin, [0u8; 4]).unwrap(); // one token short
        let e = MegatronDataset::open(&prefix).unwrap_err().to_string();
        assert!(e.contains("ends at byte 6"), "{e}");
    }
}
