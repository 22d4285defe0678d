//! The OLMo / dolma token layout: a headerless token array plus gzipped CSV metadata.
//!
//! As dolma's tokenizer (`python/dolma/tokenizer/memmap_writer.py`) writes it:
//! - `<base>.npy`: the tokens of all documents back to back, little-endian, **no numpy header** (it is a
//!   raw `numpy.memmap`, despite the extension). dtype `uint16` when every id fits (`vocab_size - 1 <=
//!   65535`, numpy's `min_scalar_type`), else `uint32`. The dtype is not recorded in the file: OLMo's
//!   config names it; [`OlmoDataset::open`] infers it from the file size and the metadata.
//! - `<base>.csv.gz`: one CSV row per document, `start,end,id,src,loc`, written by Python's `csv.writer`
//!   (`,` separator, fields quoted with `"` only when they hold `,` `"` CR or LF, `"` doubled, rows ended
//!   by `\r\n`), gzip-compressed. `start`/`end` are token offsets into the `.npy` (end exclusive, EOS
//!   included), `src` is the input file and `loc` the document's position in it.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use memmap2::Mmap;

use super::{io_err, tmp_path, Result, TokensError};

/// Token dtype of an OLMo `.npy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OlmoDtype {
    /// uint16.
    U16,
    /// uint32.
    U32,
}

impl OlmoDtype {
    /// dolma's rule: the smallest unsigned type that holds `vocab_size - 1`.
    pub fn for_vocab(vocab_size: usize) -> Self {
        if vocab_size <= 1 << 16 {
            OlmoDtype::U16
        } else {
            OlmoDtype::U32
        }
    }
    /// Bytes per token.
    pub fn size(self) -> usize {
        match self {
            OlmoDtype::U16 => 2,
            OlmoDtype::U32 => 4,
        }
    }
}

/// `<base>.npy` and `<base>.csv.gz`.
pub fn paths(base: &Path) -> (PathBuf, PathBuf) {
    let mut npy = base.as_os_str().to_os_string();
    npy.push(".npy");
    let mut csv = base.as_os_str().to_os_string();
    csv.push(".csv.gz");
    (PathBuf::from(npy), PathBuf::from(csv))
}

/// One metadata row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OlmoDocMeta {
    /// First token (offset into the `.npy`, in tokens).
    pub start: u64,
    /// One past the last token (the EOS).
    pub end: u64,
    /// Document id.
    pub id: String,
    /// Source file.
    pub src: String,
    /// Position of the document in its source (line, row or byte offset).
    pub loc: u64,
}

/// Append one CSV field the way Python's `csv.writer` (QUOTE_MINIMAL) does.
fn csv_field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\r', '\n']) {
        out.push('"');
        for c in s.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// Parse CSV text (as [`csv_field`] writes it, any line ending) into rows of fields.
fn parse_csv(text: &str) -> std::result::Result<Vec<Vec<String>>, String> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut in_quotes = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                in_quotes = true;
                any = true;
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                any = true;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                if any || !field.is_empty() {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                any = false;
            }
            _ => {
                field.push(c);
                any = true;
            }
        }
    }
    if in_quotes {
        return Err("unterminated quoted field".into());
    }
    if any || !field.is_empty() {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

/// Writes one OLMo shard. Files appear (atomically renamed) on [`OlmoWriter::finish`].
pub struct OlmoWriter {
    npy_path: PathBuf,
    csv_path: PathBuf,
    npy_tmp: PathBuf,
    csv_tmp: PathBuf,
    npy: BufWriter<File>,
    csv: GzEncoder<BufWriter<File>>,
    dtype: OlmoDtype,
    tokens: u64,
    documents: u64,
    buf: Vec<u8>,
    line: String,
}

impl OlmoWriter {
    /// Start `<base>.npy` / `<base>.csv.gz`.
    pub fn create(base: &Path, dtype: OlmoDtype) -> Result<Self> {
        let (npy_path, csv_path) = paths(base);
        let npy_tmp = tmp_path(&npy_path);
        let csv_tmp = tmp_path(&csv_path);
        let npy = File::create(&npy_tmp).map_err(io_err(&npy_tmp))?;
        let csv = File::create(&csv_tmp).map_err(io_err(&csv_tmp))?;
        Ok(OlmoWriter {
            npy_path,
            csv_path,
            npy_tmp,
            csv_tmp,
            npy: BufWriter::with_capacity(1 << 20, npy),
            csv: GzEncoder::new(BufWriter::new(csv), Compression::default()),
            dtype,
            tokens: 0,
            documents: 0,
            buf: Vec::new(),
            line: String::new(),
        })
    }

    /// Append one document (its ids, EOS included) and its metadata row.
    pub fn add_document(&mut self, ids: &[u32], id: &str, src: &str, loc: u64) -> Result<()> {
        self.buf.clear();
        match self.dtype {
            OlmoDtype::U16 => {
                for &t in ids {
                    let v = u16::try_from(t).map_err(|_| {
                        TokensError::Config(format!("token id {t} does not fit uint16"))
                    })?;
                    self.buf.extend_from_slice(&v.to_le_bytes());
                }
            }
            OlmoDtype::U32 => {
                for &t in ids {
                    self.buf.extend_from_slice(&t.to_le_bytes());
                }
            }
        }
        self.npy
            .write_all(&self.buf)
            .map_err(io_err(&self.npy_tmp))?;
        let start = self.tokens;
        self.tokens += ids.len() as u64;
        self.line.clear();
        use std::fmt::Write as _;
        let _ = write!(self.line, "{start},{},", self.tokens);
        csv_field(&mut self.line, id);
        self.line.push(',');
        csv_field(&mut self.line, src);
        let _ = write!(self.line, ",{loc}\r\n");
        self.csv
            .write_all(self.line.as_bytes())
            .map_err(io_err(&self.csv_tmp))?;
        self.documents += 1;
        Ok(())
    }

    /// Tokens written so far.
    pub fn tokens(&self) -> u64 {
        self.tokens
    }

    /// Documents written so far.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// Flush, fsync and move both files into place. Returns (`.npy`, `.csv.gz`) paths.
    pub fn finish(self) -> Result<(PathBuf, PathBuf)> {
        let npy = self.npy.into_inner().map_err(|e| TokensError::Io {
            path: self.npy_tmp.clone(),
            source: e.into_error(),
        })?;
        npy.sync_all().map_err(io_err(&self.npy_tmp))?;
        let csv = self.csv.finish().map_err(io_err(&self.csv_tmp))?;
        let csv = csv.into_inner().map_err(|e| TokensError::Io {
            path: self.csv_tmp.clone(),
            source: e.into_error(),
        })?;
        csv.sync_all().map_err(io_err(&self.csv_tmp))?;
        std::fs::rename(&self.npy_tmp, &self.npy_path).map_err(io_err(&self.npy_path))?;
        std::fs::rename(&self.csv_tmp, &self.csv_path).map_err(io_err(&self.csv_path))?;
        Ok((self.npy_path, self.csv_path))
    }
}

/// A memory-mapped OLMo shard with its metadata, validated on open.
pub struct OlmoDataset {
    npy: Option<Mmap>,
    dtype: OlmoDtype,
    docs: Vec<OlmoDocMeta>,
}

impl std::fmt::Debug for OlmoDataset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OlmoDataset")
            .field("dtype", &self.dtype)
            .field("documents", &self.docs.len())
            .finish()
    }
}

impl OlmoDataset {
    /// Open `<base>.npy` + `<base>.csv.gz` (give the `.npy` path or the base). The dtype is inferred:
    /// file bytes / last `end` must be 2 or 4. Rows must tile the array: each `start` is the previous
    /// `end`, the first is 0, the last `end` is the token count.
    pub fn open(path: &Path) -> Result<Self> {
        let s = path.to_string_lossy();
        let base = PathBuf::from(s.strip_suffix(".npy").unwrap_or(&s));
        let (npy_path, csv_path) = paths(&base);
        let bad = |p: &Path, m: String| TokensError::Format {
            path: p.to_path_buf(),
            format: "olmo",
            message: m,
        };
        let mut text = String::new();
        let f = File::open(&csv_path).map_err(io_err(&csv_path))?;
        flate2::read::MultiGzDecoder::new(f)
            .read_to_string(&mut text)
            .map_err(io_err(&csv_path))?;
        let rows = parse_csv(&text).map_err(|m| bad(&csv_path, m))?;
        let mut docs = Vec::with_capacity(rows.len());
        let mut prev_end = 0u64;
        for (i, r) in rows.into_iter().enumerate() {
            if r.len() != 5 {
                return Err(bad(
                    &csv_path,
                    format!("row {i}: {} fields, want 5", r.len()),
                ));
            }
            let num = |k: usize, name: &str| {
                r[k].parse::<u64>().map_err(|_| {
                    bad(
                        &csv_path,
                        format!("row {i}: {name} `{}` is not a number", r[k]),
                    )
                })
            };
            let (start, end, loc) = (num(0, "start")?, num(1, "end")?, num(4, "loc")?);
            if start != prev_end || end < start {
                return Err(bad(
                    &csv_path,
                    format!("row {i}: tokens [{start}, {end}) after a row ending at {prev_end}"),
                ));
            }
            prev_end = end;
            let mut it = r.into_iter();
            let (_, _, id, src) = (it.next(), it.next(), it.next(), it.next());
            docs.push(OlmoDocMeta {
                start,
                end,
                id: id.unwrap_or_default(),
                src: src.unwrap_or_default(),
                loc,
            });
        }
        let f = File::open(&npy_path).map_err(io_err(&npy_path))?;
        let len = f.metadata().map_err(io_err(&npy_path))?.len();
        let npy = if len == 0 {
            None
        } else {
            // SAFETY: read-only map of a shard written once (temp file + rename), never modified in
            // place; truncation by another process is outside the contract, as for numpy.memmap.
            Some(unsafe { Mmap::map(&f) }.map_err(io_err(&npy_path))?)
        };
        let dtype = match (len, prev_end) {
            (0, 0) => OlmoDtype::U16,
            (l, t) if t > 0 && l == 2 * t => OlmoDtype::U16,
            (l, t) if t > 0 && l == 4 * t => OlmoDtype::U32,
            (l, t) => {
                return Err(bad(
                    &npy_path,
                    format!("{l} bytes for {t} tokens in the metadata: neither uint16 nor uint32"),
                ))
            }
        };
        Ok(OlmoDataset { npy, dtype, docs })
    }

    /// Token dtype.
    pub fn dtype(&self) -> OlmoDtype {
        self.dtype
    }

    /// Number of documents.
    pub fn num_documents(&self) -> usize {
        self.docs.len()
    }

    /// Total tokens.
    pub fn num_tokens(&self) -> u64 {
        self.docs.last().map_or(0, |d| d.end)
    }

    /// Metadata rows.
    pub fn documents(&self) -> &[OlmoDocMeta] {
        &self.docs
    }

    /// Append tokens `[start, end)` to `out`.
    pub fn tokens_into(&self, start: u64, end: u64, out: &mut Vec<u32>) {
        assert!(
            start <= end && end <= self.num_tokens(),
            "tokens [{start}, {end})"
        );
        let sz = self.dtype.size();
        let b = &self.npy.as_deref().unwrap_or(&[])[start as usize * sz..end as usize * sz];
        match self.dtype {
            OlmoDtype::U16 => out.extend(
                b.chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]) as u32),
            ),
            OlmoDtype::U32 => out.extend(
                b.chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            ),
        }
    }

    /// The tokens of document `i`.
    pub fn document(&self, i: usize) -> Vec<u32> {
        let d = &self.docs[i];
        let mut v = Vec::with_capacity((d.end - d.start) as usize);
        self.tokens_into(d.start, d.end, &mut v);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_matches_python_and_parses_back() {
        let mut s = String::new();
        csv_field(&mut s, "plain");
        s.push(',');
        csv_field(&mut s, "a,b \"q\"\nline");
        assert_eq!(s, "plain,\"a,b \"\"q\"\"\nline\"");
        let rows = parse_csv(&format!("{s}\r\n1,2\r\n")).unwrap();
        assert_eq!(
            rows,
            vec![
                vec!["plain".to_string(), "a,b \"q\"\nline".to_string()],
                vec!["1".to_string(), "2".to_string()]
            ]
        );
        assert!(parse_csv("\"open").is_err());
    }

    #[test]
    fn write_read_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        for (dtype, big) in [(OlmoDtype::U16, 65_535u32), (OlmoDtype::U32, 100_000)] {
            let base = dir.path().join(format!("part-{}", dtype.size()));
            let mut w = OlmoWriter::create(&base, dtype).unwrap();
            w.add_document(&[1, 2, 0], "doc,1", "in/a.jsonl.gz", 0)
                .unwrap();
            w.add_document(&[big, 0], "doc\"2", "in/a.jsonl.gz", 1)
                .unwrap();
            let (npy, csv) = w.finish().unwrap();
            assert_eq!(
                std::fs::metadata(&npy).unwrap().len(),
                5 * dtype.size() as u64
            );
            let mut text = String::new();
            flate2::read::GzDecoder::new(File::open(&csv).unwrap())
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(
                text,
                "0,3,\"doc,1\",in/a.jsonl.gz,0\r\n3,5,\"doc\"\"2\",in/a.jsonl.gz,1\r\n"
            );
            let ds = OlmoDataset::open(&npy).unwrap();
            assert_eq!(ds.dtype(), dtype);
            assert_eq!(ds.num_documents(), 2);
            assert_eq!(ds.document(0), vec![1, 2, 0]);
            assert_eq!(ds.document(1), vec![big, 0]);
            assert_eq!(ds.documents()[1].id, "doc\"2");
            assert_eq!(ds.documents()[1].loc, 1);
        }
    }

    #[test]
    fn inconsistent_metadata_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("p");
        let mut w = OlmoWriter::create(&base, OlmoDtype::U16).unwrap();
        w.add_document(&[1, 2, 0], "a", "s", 0).unwrap();
        let (npy, _) = w.finish().unwrap();
        std::fs::write(&npy, [0u8; 8]).unwrap(); // 4 u16 tokens for 3 in the metadata
        let e = OlmoDataset::open(&npy).unwrap_err().to_string();
        assert!(e.contains("neither uint16 nor uint32"), "{e}");
    }
}
