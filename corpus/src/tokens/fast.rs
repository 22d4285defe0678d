//! A fast encoder for byte-level BPE tokenizers (GPT-2, GPT-NeoX/OLMo, Llama-3 style, and ours) that
//! gives exactly the ids of `tokenizers`' `encode(text, add_special_tokens=False)`.
//!
//! The library's encode builds an `Encoding` (token strings, offsets, masks) and keeps per-byte
//! alignment tables through normalization and pre-tokenization; a shard writer needs only ids. This
//! path does the same steps on plain `&str`s:
//!
//! 1. split out added tokens that match the raw text (Aho-Corasick, leftmost-longest, as the library);
//! 2. normalize the rest with the tokenizer's own normalizer (skipped for ASCII under NFC/NFD/NFKC/NFKD,
//!    where it is the identity);
//! 3. split out added tokens that match the normalized text;
//! 4. split the rest with the pre-tokenizer regex (the library's own onig `SysRegex`; matches and the
//!    gaps between them are pieces, the `Isolated` behaviour);
//! 5. look each piece up in a per-thread cache of piece → ids; on a miss, map its bytes to the
//!    byte-level alphabet and ask the tokenizer's own BPE model.
//!
//! It is used only when the tokenizer.json has exactly that shape ([`FastBpe::from_tokenizer`] returns
//! `None` otherwise and the library path is used); the tests compare both paths on real documents.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use aho_corasick::{AhoCorasick, MatchKind};
use tokenizers::models::ModelWrapper;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::split::SplitPattern;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::utils::SysRegex;
use tokenizers::{Model, NormalizedString, Normalizer, SplitDelimiterBehavior, Tokenizer};
use xxhash_rust::xxh3::Xxh3Builder;

use super::{Result, TokensError};

/// GPT-2's pre-tokenization regex, used by `ByteLevel` when `use_regex` is true.
const BYTE_LEVEL_REGEX: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// Cache entries per thread before the cache is cleared (bounded memory).
const CACHE_LIMIT: usize = 1 << 18;
/// Pieces at least this long bypass the cache (as the library's own BPE cache does).
const CACHE_MAX_PIECE: usize = 256;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

type PieceCache = HashMap<Box<str>, Box<[u32]>, Xxh3Builder>;

thread_local! {
    static CACHE: RefCell<(u64, PieceCache)> = RefCell::new((0, PieceCache::default()));
}

/// GPT-2's byte → char table of the byte-level alphabet.
fn bytes_to_chars() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..=255u8 {
        let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
        table[b as usize] = if printable {
            char::from(b)
        } else {
            n += 1;
            char::from_u32(255 + n).expect("valid char")
        };
    }
    table
}

/// Added tokens matched by one automaton; `ids[pattern]` is the token id.
struct AddedSet {
    ac: AhoCorasick,
    ids: Vec<u32>,
}

impl AddedSet {
    fn build(pairs: Vec<(String, u32)>) -> Option<Result<Self>> {
        if pairs.is_empty() {
            return None;
        }
        let (pats, ids): (Vec<String>, Vec<u32>) = pairs.into_iter().unzip();
        Some(
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&pats)
                .map(|ac| AddedSet { ac, ids })
                .map_err(|e| TokensError::Tokenizer(format!("added tokens: {e}"))),
        )
    }
}

/// The fast byte-level BPE encoder of one tokenizer.
pub(crate) struct FastBpe {
    id: u64,
    raw_added: Option<AddedSet>,
    norm_added: Option<AddedSet>,
    /// The normalizer, unless there is none.
    normalizer: Option<NormalizerWrapper>,
    /// The normalizer is the identity on ASCII text.
    ascii_identity: bool,
    regex: SysRegex,
    byte_char: [char; 256],
}

impl FastBpe {
    /// The fast encoder for `tok`, or `None` when its pipeline is not one this path reproduces exactly.
    pub(crate) fn from_tokenizer(tok: &Tokenizer) -> Option<Result<Self>> {
        if tok.get_truncation().is_some() || tok.get_padding().is_some() {
            return None;
        }
        match tok.get_model() {
            ModelWrapper::BPE(bpe)
                if bpe.dropout.is_none()
                    && !bpe.byte_fallback
                    && bpe.continuing_subword_prefix.is_none()
                    && bpe.end_of_word_suffix.is_none() => {}
            _ => return None,
        }
        let regex = match tok.get_pre_tokenizer()? {
            PreTokenizerWrapper::ByteLevel(bl) if !bl.add_prefix_space && bl.use_regex => {
                BYTE_LEVEL_REGEX.to_string()
            }
            PreTokenizerWrapper::Sequence(seq) => {
                let json = serde_json::to_value(seq).ok()?;
                let parts = json.get("pretokenizers")?.as_array()?;
                let [split, bl] = parts.as_slice() else {
                    return None;
                };
                let bl: PreTokenizerWrapper = serde_json::from_value(bl.clone()).ok()?;
                match bl {
                    PreTokenizerWrapper::ByteLevel(b) if !b.add_prefix_space && !b.use_regex => {}
                    _ => return None,
                }
                if split.get("type")?.as_str()? != "Split" || split.get("invert")?.as_bool()? {
                    return None;
                }
                let behavior: SplitDelimiterBehavior =
                    serde_json::from_value(split.get("behavior")?.clone()).ok()?;
                if behavior != SplitDelimiterBehavior::Isolated {
                    return None;
                }
                let pattern: SplitPattern =
                    serde_json::from_value(split.get("pattern")?.clone()).ok()?;
                match pattern {
                    SplitPattern::Regex(r) => r,
                    SplitPattern::String(_) => return None,
                }
            }
            _ => return None,
        };
        let normalizer = tok.get_normalizer().cloned();
        let ascii_identity = match &normalizer {
            None => true,
            Some(n) => matches!(
                n,
                NormalizerWrapper::NFC(_)
                    | NormalizerWrapper::NFD(_)
                    | NormalizerWrapper::NFKC(_)
                    | NormalizerWrapper::NFKD(_)
            ),
        };
        let mut raw = Vec::new();
        let mut norm = Vec::new();
        for (id, t) in tok.get_added_tokens_decoder() {
            if t.lstrip || t.rstrip || t.single_word || t.content.is_empty() {
                return None;
            }
            if t.normalized {
                let content = match &normalizer {
                    None => t.content.clone(),
                    Some(n) => {
                        let mut s = NormalizedString::from(t.content.as_str());
                        if n.normalize(&mut s).is_err() {
                            return None;
                        }
                        s.get().to_string()
                    }
                };
                norm.push((content, id));
            } else {
                raw.push((t.content.clone(), id));
            }
        }
        // Sort so the automata (and so tie-breaking between equal matches) do not depend on hash order.
        raw.sort();
        norm.sort();
        let build = || -> Result<Self> {
            Ok(FastBpe {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                raw_added: AddedSet::build(raw).transpose()?,
                norm_added: AddedSet::build(norm).transpose()?,
                normalizer,
                ascii_identity,
                regex: SysRegex::new(&regex)
                    .map_err(|e| TokensError::Tokenizer(format!("pre-tokenizer regex: {e}")))?,
                byte_char: bytes_to_chars(),
            })
        };
        Some(build())
    }

    /// Append the ids of `text` to `out` (no special tokens added).
    pub(crate) fn encode_into(
        &self,
        tok: &Tokenizer,
        text: &str,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        CACHE.with(|cell| {
            let mut guard = cell.borrow_mut();
            let (owner, cache) = &mut *guard;
            if *owner != self.id {
                cache.clear();
                *owner = self.id;
            }
            let model = tok.get_model();
            split_added(self.raw_added.as_ref(), text, out, &mut |piece, out| {
                let normalized;
                let piece = match &self.normalizer {
                    Some(n) if !(self.ascii_identity && piece.is_ascii()) => {
                        let mut s = NormalizedString::from(piece);
                        n.normalize(&mut s)
                            .map_err(|e| TokensError::Tokenizer(e.to_string()))?;
                        normalized = s.get().to_string();
                        normalized.as_str()
                    }
                    _ => piece,
                };
                split_added(self.norm_added.as_ref(), piece, out, &mut |part, out| {
                    self.pre_tokenize_and_bpe(model, cache, part, out)
                })
            })
        })
    }

    fn pre_tokenize_and_bpe(
        &self,
        model: &ModelWrapper,
        cache: &mut PieceCache,
        text: &str,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        let mut prev = 0;
        for (start, end) in self.regex.find_iter(text) {
            if start > prev {
                self.bpe(model, cache, &text[prev..start], out)?;
            }
            if end > start {
                self.bpe(model, cache, &text[start..end], out)?;
            }
            prev = end;
        }
        if prev < text.len() {
            self.bpe(model, cache, &text[prev..], out)?;
        }
        Ok(())
    }

    fn bpe(
        &self,
        model: &ModelWrapper,
        cache: &mut PieceCache,
        piece: &str,
        out: &mut Vec<u32>,
    ) -> Result<()> {
        if let Some(ids) = cache.get(piece) {
            out.extend_from_slice(ids);
            return Ok(());
        }
        let mapped: String = piece.bytes().map(|b| self.byte_char[b as usize]).collect();
        let tokens = model
            .tokenize(&mapped)
            .map_err(|e| TokensError::Tokenizer(e.to_string()))?;
        let first = out.len();
        out.extend(tokens.iter().map(|t| t.id));
        if piece.len() < CACHE_MAX_PIECE {
            if cache.len() >= CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(piece.into(), out[first..].into());
        }
        Ok(())
    }
}

/// Split `text` on the added tokens of `set`: matches go to `out` as their ids, the text between them
/// to `rest`.
fn split_added(
    set: Option<&AddedSet>,
    text: &str,
    out: &mut Vec<u32>,
    rest: &mut dyn FnMut(&str, &mut Vec<u32>) -> Result<()>,
) -> Result<()> {
    let Some(set) = set else {
        return if text.is_empty() {
            Ok(())
        } else {
            rest(text, out)
        };
    };
    let mut prev = 0;
    for m in set.ac.find_iter(text) {
        if m.start() > prev {
            rest(&text[prev..m.start()], out)?;
        }
        out.push(set.ids[m.pattern().as_usize()]);
        prev = m.end();
    }
    if prev < text.len() {
        rest(&text[prev..], out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_table_is_gpt2s() {
        let t = bytes_to_chars();
        assert_eq!(t[b'A' as usize], 'A');
        assert_eq!(t[b' ' as usize], 'Ġ');
        assert_eq!(t[b'\n' as usize], 'Ċ');
        assert_eq!(t[0], 'Ā');
        let set: std::collections::HashSet<char> = t.iter().copied().collect();
        assert_eq!(set.len(), 256);
        let lib: std::collections::HashSet<char> =
            tokenizers::pre_tokenizers::byte_level::ByteLevel::alphabet()
                .into_iter()
                .collect();
        assert_eq!(set, lib);
    }
}
