//! Deterministic, resumable data loading over a token stream.
//!
//! Documents come through [`TokenSource`] (quarry-corpus's Megatron `.bin/.idx` reader
//! implements it; [`VecSource`] serves tests). Documents are split into train and
//! held-out eval sets by a seeded hash of their index, shuffled per epoch, and packed
//! with an EOS after each document into windows of `batch * seq + 1` tokens (inputs and
//! next-token targets overlap by one, as in llm.c). The position is a small
//! serialisable value, so a checkpoint resumes the exact same stream.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::rng::{mix, Rng};
use crate::Error;

/// Error type a token source may return.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// A corpus of tokenised documents.
pub trait TokenSource: Sync {
    /// Number of documents.
    fn num_docs(&self) -> usize;
    /// Tokens of document `i` (`i < num_docs()`).
    fn tokens(&self, i: usize) -> Result<Cow<'_, [u32]>, SourceError>;
}

/// An in-memory token source.
#[derive(Debug, Clone, Default)]
pub struct VecSource {
    /// The documents.
    pub docs: Vec<Vec<u32>>,
}

impl TokenSource for VecSource {
    fn num_docs(&self) -> usize {
        self.docs.len()
    }
    fn tokens(&self, i: usize) -> Result<Cow<'_, [u32]>, SourceError> {
        self.docs
            .get(i)
            .map(|d| Cow::Borrowed(d.as_slice()))
            .ok_or_else(|| format!("document {i} out of range").into())
    }
}

/// Which side of the train/eval split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Training documents (shuffled every epoch).
    Train,
    /// Held-out documents (read in index order, never shuffled).
    Eval,
}

/// Whether document `i` is held out: a seeded hash, so the split is stable for a
/// given seed however the source is sharded or reordered in memory.
pub fn is_eval(seed: u64, i: usize, eval_fraction: f64) -> bool {
    let h = mix(seed ^ 0x5EED_E7A1 ^ mix(i as u64));
    (h >> 11) as f64 / (1u64 << 53) as f64 <= eval_fraction && eval_fraction > 0.0
}

/// Position in the packed stream; stored in checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoaderPos {
    /// Passes over the split completed.
    pub epoch: u64,
    /// Index into this epoch's document order.
    pub doc: usize,
    /// Token offset inside that document (its EOS is at `len`).
    pub offset: usize,
    /// Shuffle generator as it was before this epoch's shuffle.
    pub epoch_rng: Rng,
}

/// Packs documents of one split into fixed-size windows.
pub struct Loader<'a> {
    src: &'a dyn TokenSource,
    docs: Vec<u32>,
    order: Vec<u32>,
    pos: LoaderPos,
    eos: u32,
    shuffle: bool,
    cache: Option<(u32, Vec<u32>)>,
}

impl<'a> Loader<'a> {
    /// A loader over `split` of `src`, at the start of epoch 0.
    pub fn new(
        src: &'a dyn TokenSource,
        split: Split,
        seed: u64,
        eval_fraction: f64,
        eos: u32,
    ) -> Result<Self, Error> {
        let want_eval = split == Split::Eval;
        let docs: Vec<u32> = (0..src.num_docs())
            .filter(|&i| is_eval(seed, i, eval_fraction) == want_eval)
            .map(|i| i as u32)
            .collect();
        if docs.is_empty() {
            return Err(Error::Data(format!(
                "the {split:?} split has no documents ({} in source)",
                src.num_docs()
            )));
        }
        let pos = LoaderPos {
            epoch: 0,
            doc: 0,
            offset: 0,
            epoch_rng: Rng::new(mix(seed ^ 0xDA7A)),
        };
        let mut l = Loader {
            src,
            order: Vec::new(),
            docs,
            pos,
            eos,
            shuffle: split == Split::Train,
            cache: None,
        };
        l.seek(pos);
        Ok(l)
    }

    /// Documents in this split.
    pub fn num_docs(&self) -> usize {
        self.docs.len()
    }

    /// Current position (for checkpoints).
    pub fn pos(&self) -> LoaderPos {
        self.pos
    }

    /// Moves to a saved position (regenerating that epoch's order).
    pub fn seek(&mut self, pos: LoaderPos) {
        self.pos = pos;
        self.order = self.docs.clone();
        if self.shuffle {
            let mut r = pos.epoch_rng;
            r.shuffle(&mut self.order);
        }
    }

    fn next_epoch(&mut self) {
        let mut r = self.pos.epoch_rng;
        if self.shuffle {
            // Advance past this epoch's shuffle so the next epoch gets a fresh order.
            let mut tmp = self.docs.clone();
            r.shuffle(&mut tmp);
        }
        self.seek(LoaderPos {
            epoch: self.pos.epoch + 1,
            doc: 0,
            offset: 0,
            epoch_rng: r,
        });
    }

    fn doc_tokens(&mut self, id: u32) -> Result<&[u32], Error> {
        if self.cache.as_ref().map(|c| c.0) != Some(id) {
            let t = self
                .src
                .tokens(id as usize)
                .map_err(|e| Error::Data(format!("document {id}: {e}")))?;
            self.cache = Some((id, t.into_owned()));
        }
        Ok(&self.cache.as_ref().expect("cache filled").1)
    }

    fn read(&mut self, n: usize, out: &mut Vec<u32>) -> Result<(), Error> {
        while out.len() < n {
            let id = self.order[self.pos.doc];
            let eos = self.eos;
            let off = self.pos.offset;
            let toks = self.doc_tokens(id)?;
            let len = toks.len();
            let take = (n - out.len()).min(len.saturating_sub(off));
            out.extend_from_slice(&toks[off.min(len)..off.min(len) + take]);
            self.pos.offset += take;
            if out.len() < n && self.pos.offset == len {
                out.push(eos);
                self.pos.offset += 1;
            }
            if self.pos.offset > len {
                self.pos.doc += 1;
                self.pos.offset = 0;
                if self.pos.doc == self.order.len() {
                    self.next_epoch();
                }
            }
        }
        Ok(())
    }

    /// The next `n + 1` tokens; the stream advances by `n`, so the last token of this
    /// window is the first of the next.
    pub fn next_window(&mut self, n: usize) -> Result<Vec<u32>, Error> {
        let mut out = Vec::with_capacity(n + 1);
        self.read(n, &mut out)?;
        let saved = self.pos;
        self.read(n + 1, &mut out)?;
        if self.pos.epoch != saved.epoch {
            self.seek(saved);
        } else {
            self.pos = saved;
        }
        Ok(out)
    }
}

/// Entropy (nats) of the token unigram distribution over every document's tokens
/// (without the EOS the packer adds between documents): the loss of a model that only
/// knows token frequencies, the bar a trained model's loss is read against. `None` for
/// a source without tokens.
pub fn unigram_entropy(source: &dyn TokenSource) -> Result<Option<f64>, Error> {
    let mut counts: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
    let mut total = 0u64;
    for i in 0..source.num_docs() {
        let t = source
            .tokens(i)
            .map_err(|e| Error::Data(format!("document {i}: {e}")))?;
        for &id in t.iter() {
            *counts.entry(id).or_default() += 1;
        }
        total += t.len() as u64;
    }
    if total == 0 {
        return Ok(None);
    }
    let n = total as f64;
    // Sum in id order so the value does not depend on hash-map iteration order.
    let mut c: Vec<(u32, u64)> = counts.into_iter().collect();
    c.sort_unstable();
    Ok(Some(
        -c.iter()
            .map(|&(_, k)| (k as f64 / n) * (k as f64 / n).ln())
            .sum::<f64>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> VecSource {
        VecSource {
            docs: (0..20)
                .map(|d| (0..(d % 5 + 1)).map(|t| 100 + d * 10 + t).collect())
                .collect(),
        }
    }

    #[test]
    fn split_is_disjoint_and_covers_everything() {
        let s = src();
        let tr = Loader::new(&s, Split::Train, 3, 0.2, 0).unwrap();
        let ev = Loader::new(&s, Split::Eval, 3, 0.2, 0).unwrap();
        assert_eq!(tr.num_docs() + ev.num_docs(), 20);
        assert!(ev.num_docs() >= 1 && tr.num_docs() >= 10);
        assert!(Loader::new(&s, Split::Eval, 3, 0.0, 0).is_err());
    }

    #[test]
    fn packs_every_token_once_per_epoch_with_eos() {
        let s = src();
        let mut l = Loader::new(&s, Split::Train, 1, 0.0, 0).unwrap();
        let total: usize = s.docs.iter().map(|d| d.len() + 1).sum();
        let mut stream = Vec::new();
        while stream.len() < total {
            let w = l.next_window(7).unwrap();
            stream.extend_from_slice(&w[..7]);
        }
        stream.truncate(total);
        assert_eq!(
            stream.iter().filter(|&&t| t == 0).count(),
            20,
            "one EOS per document"
        );
        let mut got: Vec<u32> = stream.iter().copied().filter(|&t| t != 0).collect();
        got.sort();
        let mut want: Vec<u32> = s.docs.concat();
        want.sort();
        assert_eq!(got, want);
        // Documents stay contiguous and are followed by EOS.
        let mut i = 0;
        while i < stream.len() {
            let d = ((stream[i] - 100) / 10) as usize;
            assert_eq!(&stream[i..i + s.docs[d].len()], s.docs[d].as_slice());
            i += s.docs[d].len();
            assert_eq!(stream[i], 0);
            i += 1;
        }
    }

    #[test]
    fn windows_overlap_by_one_and_resume_exactly() {
        let s = src();
        let mut a = Loader::new(&s, Split::Train, 9, 0.1, 0).unwrap();
        let w1 = a.next_window(5).unwrap();
        let saved = a.pos();
        let w2 = a.next_window(5).unwrap();
        assert_eq!(w1[5], w2[0]);
        let rest: Vec<Vec<u32>> = (0..40).map(|_| a.next_window(5).unwrap()).collect();
        let mut b = Loader::new(&s, Split::Train, 9, 0.1, 0).unwrap();
        b.seek(saved);
        assert_eq!(b.next_window(5).unwrap(), w2);
        let rest_b: Vec<Vec<u32>> = (0..40).map(|_| b.next_window(5).unwrap()).collect();
        assert_eq!(rest, rest_b);
        assert!(a.pos().epoch >= 2, "crossed epochs");
    }

    #[test]
    fn epochs_are_reshuffled_deterministically() {
        let s = VecSource {
            docs: (0..50).map(|d| vec![d + 1]).collect(),
        };
        let mut l = Loader::new(&s, Split::Train, 4, 0.0, 0).unwrap();
        let e0: Vec<u32> = (0..50).map(|_| l.next_window(2).unwrap()[0]).collect();
        let e1: Vec<u32> = (0..50).map(|_| l.next_window(2).unwrap()[0]).collect();
        assert_ne!(e0, e1);
        let mut l2 = Loader::new(&s, Split::Train, 4, 0.0, 0).unwrap();
        let again: Vec<u32> = (0..50).map(|_| l2.next_window(2).unwrap()[0]).collect();
        assert_eq!(e0, again);
    }

    struct Failing;
    impl TokenSource for Failing {
        fn num_docs(&self) -> usize {
            3
        }
        fn tokens(&self, i: usize) -> Result<Cow<'_, [u32]>, SourceError> {
            Err(format!("index entry {i} is corrupt").into())
        }
    }

    #[test]
    fn source_errors_surface() {
        let mut l = Loader::new(&Failing, Split::Train, 0, 0.0, 0).unwrap();
        let e = l.next_window(4).unwrap_err().to_string();
        assert!(e.contains("corrupt"), "{e}");
    }

    #[test]
    fn unigram_entropy_of_a_known_distribution() {
        let src = VecSource {
            docs: vec![vec![1, 2], vec![3, 4], vec![]],
        };
        let h = unigram_entropy(&src).unwrap().unwrap();
        assert!((h - 4f64.ln()).abs() < 1e-12);
        let one = VecSource {
            docs: vec![vec![7, 7, 7]],
        };
        assert_eq!(unigram_entropy(&one).unwrap(), Some(0.0));
        assert_eq!(unigram_entropy(&VecSource::default()).unwrap(), None);
    }
}
