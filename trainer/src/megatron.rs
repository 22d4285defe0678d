//! Token shards written by `quarry tokenize` (Megatron `.bin/.idx`) as a [`TokenSource`].

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use quarry_corpus::tokens::MegatronDataset;

use crate::data::{SourceError, TokenSource};

/// One or more Megatron datasets read as one list of documents, in the order given.
///
/// `quarry tokenize` ends every document with EOS; the trainer's packer adds its own EOS between
/// documents, so a trailing EOS is stripped here to avoid doubling it.
pub struct MegatronSource {
    sets: Vec<MegatronDataset>,
    starts: Vec<usize>,
    total: usize,
    eos: Option<u32>,
}

impl MegatronSource {
    /// Opens every `prefix` (`<prefix>.bin` + `<prefix>.idx`).
    pub fn open(prefixes: &[PathBuf], eos: Option<u32>) -> Result<MegatronSource, SourceError> {
        let mut sets = Vec::with_capacity(prefixes.len());
        let mut starts = Vec::with_capacity(prefixes.len());
        let mut total = 0usize;
        for p in prefixes {
            let ds = MegatronDataset::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
            starts.push(total);
            total += ds.num_documents();
            sets.push(ds);
        }
        Ok(MegatronSource {
            sets,
            starts,
            total,
            eos,
        })
    }

    /// Every `<prefix>` with a `.idx` file directly in `dir`, sorted (a `quarry tokenize` output folder).
    pub fn prefixes_in(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "idx"))
            .map(|p| p.with_extension(""))
            .collect();
        v.sort();
        Ok(v)
    }

    /// Total tokens over all datasets.
    pub fn num_tokens(&self) -> u64 {
        self.sets.iter().map(|s| s.num_tokens()).sum()
    }

    /// Largest token id, for checking the model's vocabulary size.
    pub fn max_token(&self) -> Option<u32> {
        (0..self.total)
            .filter_map(|i| self.tokens(i).ok().and_then(|t| t.iter().copied().max()))
            .max()
    }
}

impl TokenSource for MegatronSource {
    fn num_docs(&self) -> usize {
        self.total
    }

    fn tokens(&self, i: usize) -> Result<Cow<'_, [u32]>, SourceError> {
        if i >= self.total {
            return Err(format!("document {i} out of range ({} documents)", self.total).into());
        }
        let k = self.starts.partition_point(|&s| s <= i) - 1;
        let mut t = self.sets[k].document(i - self.starts[k]);
        if let (Some(e), Some(&last)) = (self.eos, t.last()) {
            if last == e {
                t.pop();
            }
        }
        Ok(Cow::Owned(t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quarry_corpus::tokens::{MegatronDtype, MegatronWriter};

    #[test]
    fn reads_documents_across_datasets_and_strips_eos() {
        let d = tempfile::tempdir().unwrap();
        let mut prefixes = Vec::new();
        for (n, docs) in [vec![vec![5u32, 6, 9], vec![7, 9]], vec![vec![8, 8, 8, 9]]]
            .iter()
            .enumerate()
        {
            let p = d.path().join(format!("s{n}"));
            let mut w = MegatronWriter::create(&p, MegatronDtype::for_vocab(100)).unwrap();
            for doc in docs {
                w.add_document(doc).unwrap();
            }
            w.finish().unwrap();
            prefixes.push(p);
        }
        assert_eq!(MegatronSource::prefixes_in(d.path()).unwrap(), prefixes);
        let s = MegatronSource::open(&prefixes, Some(9)).unwrap();
        assert_eq!(s.num_docs(), 3);
        assert_eq!(&*s.tokens(0).unwrap(), &[5, 6]);
        assert_eq!(&*s.tokens(1).unwrap(), &[7]);
        assert_eq!(&*s.tokens(2).unwrap(), &[8, 8, 8]);
        assert!(s.tokens(3).is_err());
        assert_eq!(s.max_token(), Some(8));
    }
}
