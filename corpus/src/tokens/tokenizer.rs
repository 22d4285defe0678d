//! Byte-level BPE training on a deterministic sample, and loading/encoding any `tokenizer.json`.
//!
//! Training uses the `tokenizers` crate (the library behind Python `tokenizers` and `transformers`' fast
//! tokenizers), so the `tokenizer.json` we write is the one they read, and they encode to the same ids.
//! The layout is Llama-3's (or GPT-2's): a `Split` pre-tokenizer with the regex, then `ByteLevel` without
//! its own regex, a `ByteLevel` decoder, and two special tokens, `<|endoftext|>` (id 0, the EOS appended
//! after each document) and `<|padding|>` (id 1).
//!
//! The sample is chosen by hash, not by position: every document gets `xxh3_64(text, seed)` and the
//! sample is the set of documents with the smallest hashes whose texts fit in the byte budget. That set
//! does not depend on the order of the input, it is the same on every machine, and it is kept in
//! memory bounded by the budget while the input streams by ([`TrainingSample`]).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashSet};
use std::path::Path;

use serde::Serialize;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{BpeTrainerBuilder, BPE};
use tokenizers::models::TrainerWrapper;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, DecoderWrapper, SplitDelimiterBehavior, Tokenizer};

use super::fast::FastBpe;
use super::{io_err, write_atomic, Result, TokensError};
use std::sync::Arc;

/// The end-of-document token of tokenizers trained here (and of GPT-2 / GPT-NeoX / OLMo-1).
pub const EOS_TOKEN: &str = "<|endoftext|>";
/// The padding token of tokenizers trained here (as in GPT-NeoX / OLMo-1).
pub const PAD_TOKEN: &str = "<|padding|>";

/// Llama-3's pre-tokenization regex (also GPT-4's cl100k): numbers in groups of up to 3 digits,
/// case-insensitive contractions, punctuation runs keep their trailing newlines.
pub const LLAMA3_PATTERN: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
/// GPT-2's pre-tokenization regex.
pub const GPT2_PATTERN: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

/// Which pre-tokenization regex a trained tokenizer splits text with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PreTokenPattern {
    /// [`LLAMA3_PATTERN`].
    #[default]
    Llama3,
    /// [`GPT2_PATTERN`].
    Gpt2,
}

impl PreTokenPattern {
    /// The regex.
    pub fn regex(self) -> &'static str {
        match self {
            PreTokenPattern::Llama3 => LLAMA3_PATTERN,
            PreTokenPattern::Gpt2 => GPT2_PATTERN,
        }
    }
}

/// Settings of [`train_bpe`] and [`TrainingSample`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Size of the final vocabulary, special tokens and the 256 byte symbols included.
    pub vocab_size: usize,
    /// A pair must occur this often to be merged.
    pub min_frequency: u64,
    /// Byte budget of the training sample (sum of the sampled texts' UTF-8 lengths).
    pub sample_bytes: u64,
    /// Seed of the sampling hash: another seed draws another sample.
    pub seed: u64,
    /// The pre-tokenization regex.
    pub pattern: PreTokenPattern,
    /// Longest token, in characters of the byte-level alphabet; `None` for no limit.
    pub max_token_length: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            vocab_size: 50_304,
            min_frequency: 2,
            sample_bytes: 1 << 30,
            seed: 0,
            pattern: PreTokenPattern::Llama3,
            max_token_length: Some(32),
        }
    }
}

/// What [`train_bpe`] did, for the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrainReport {
    /// Documents offered to the sample.
    pub documents_seen: u64,
    /// Bytes offered to the sample.
    pub bytes_seen: u64,
    /// Documents in the sample.
    pub documents_sampled: u64,
    /// Bytes in the sample.
    pub bytes_sampled: u64,
    /// Final vocabulary size, special tokens included.
    pub vocab_size: usize,
}

#[derive(PartialEq, Eq)]
struct Sampled {
    hash: u64,
    text: String,
}

impl Ord for Sampled {
    fn cmp(&self, other: &Self) -> Ordering {
        self.hash
            .cmp(&other.hash)
            .then_with(|| self.text.cmp(&other.text))
    }
}

impl PartialOrd for Sampled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A deterministic, order-independent document sample with a byte budget.
///
/// Invariant: the sample holds exactly the documents seen so far whose hash is below `threshold`, and
/// their bytes fit the budget. When they stop fitting, the largest hash leaves and the threshold drops to
/// it, so a later document can only enter with a smaller hash. The final sample is therefore the longest
/// run of smallest-hash documents that fits, whatever the input order. Memory is bounded by the budget
/// plus one document.
pub struct TrainingSample {
    budget: u64,
    seed: u64,
    heap: BinaryHeap<Sampled>,
    bytes: u64,
    threshold: u64,
    seen_docs: u64,
    seen_bytes: u64,
}

impl TrainingSample {
    /// An empty sample with a byte budget and a seed.
    pub fn new(budget_bytes: u64, seed: u64) -> Self {
        TrainingSample {
            budget: budget_bytes,
            seed,
            heap: BinaryHeap::new(),
            bytes: 0,
            threshold: u64::MAX,
            seen_docs: 0,
            seen_bytes: 0,
        }
    }

    /// Offer one document's text.
    pub fn offer(&mut self, text: &str) {
        self.seen_docs += 1;
        self.seen_bytes += text.len() as u64;
        if text.is_empty() {
            return;
        }
        let hash = xxhash_rust::xxh3::xxh3_64_with_seed(text.as_bytes(), self.seed);
        if hash >= self.threshold {
            return;
        }
        self.bytes += text.len() as u64;
        self.heap.push(Sampled {
            hash,
            text: text.to_string(),
        });
        while self.bytes > self.budget {
            let Some(top) = self.heap.pop() else { break };
            self.bytes -= top.text.len() as u64;
            self.threshold = self.threshold.min(top.hash);
        }
        // Keep "everything below the threshold" exact when several texts share the dropped hash.
        while self.heap.peek().is_some_and(|t| t.hash >= self.threshold) {
            let top = self.heap.pop().expect("peeked");
            self.bytes -= top.text.len() as u64;
        }
    }

    /// Documents and bytes offered so far, and documents and bytes in the sample.
    pub fn counts(&self) -> (u64, u64, u64, u64) {
        (
            self.seen_docs,
            self.seen_bytes,
            self.heap.len() as u64,
            self.bytes,
        )
    }

    /// The sampled texts, in hash order.
    pub fn into_texts(self) -> Vec<String> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|s| s.text)
            .collect()
    }
}

fn tk_err(e: impl std::fmt::Display) -> TokensError {
    TokensError::Tokenizer(e.to_string())
}

/// Train a byte-level BPE tokenizer on a deterministic sample of `texts` (see [`TrainingSample`]).
///
/// The result is deterministic: the same texts and config give a byte-identical `tokenizer.json`
/// ([`TextTokenizer::to_json`]), whatever the thread count.
pub fn train_bpe<I, S>(texts: I, cfg: &TrainConfig) -> Result<(TextTokenizer, TrainReport)>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    if cfg.vocab_size < 256 + 2 {
        return Err(TokensError::Config(format!(
            "vocab_size {} is below the 256 byte symbols + 2 special tokens",
            cfg.vocab_size
        )));
    }
    if cfg.vocab_size > u32::MAX as usize {
        return Err(TokensError::Config(format!(
            "vocab_size {} does not fit u32 ids",
            cfg.vocab_size
        )));
    }
    let mut sample = TrainingSample::new(cfg.sample_bytes, cfg.seed);
    for t in texts {
        sample.offer(t.as_ref());
    }
    let (documents_seen, bytes_seen, documents_sampled, bytes_sampled) = sample.counts();
    let texts = sample.into_texts();

    let split = Split::new(
        SplitPattern::Regex(cfg.pattern.regex().to_string()),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .map_err(tk_err)?;
    let pre = Sequence::new(vec![
        PreTokenizerWrapper::Split(split),
        PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, false)),
    ]);
    let mut tokenizer = Tokenizer::new(BPE::default());
    tokenizer
        .with_normalizer(None::<NormalizerWrapper>)
        .map_err(tk_err)?;
    tokenizer.with_pre_tokenizer(Some(PreTokenizerWrapper::Sequence(pre)));
    tokenizer.with_post_processor(Some(PostProcessorWrapper::ByteLevel(ByteLevel::new(
        false, false, false,
    ))));
    tokenizer.with_decoder(Some(DecoderWrapper::ByteLevel(ByteLevelDecoder::default())));

    let alphabet: HashSet<char> = ByteLevel::alphabet().into_iter().collect();
    let trainer = BpeTrainerBuilder::new()
        .vocab_size(cfg.vocab_size)
        .min_frequency(cfg.min_frequency)
        .show_progress(false)
        .special_tokens(vec![
            AddedToken::from(EOS_TOKEN, true),
            AddedToken::from(PAD_TOKEN, true),
        ])
        .initial_alphabet(alphabet)
        .max_token_length(cfg.max_token_length)
        .build();
    let mut trainer = TrainerWrapper::BpeTrainer(trainer);
    tokenizer
        .train(&mut trainer, texts.iter())
        .map_err(tk_err)?;
    drop(texts);

    let tok = TextTokenizer::from_tokenizer(tokenizer, EOS_TOKEN)?;
    let report = TrainReport {
        documents_seen,
        bytes_seen,
        documents_sampled,
        bytes_sampled,
        vocab_size: tok.vocab_size(),
    };
    Ok((tok, report))
}

/// Write a tokenizer as `tokenizer.json` (pretty JSON, as Python `tokenizers` saves it), atomically.
pub fn save_tokenizer_json(tok: &TextTokenizer, path: &Path) -> Result<()> {
    write_atomic(path, tok.to_json()?.as_bytes())
}

/// Write `tokenizer.json` plus the `tokenizer_config.json` that lets `transformers`'
/// `AutoTokenizer.from_pretrained(dir)` load it (fast tokenizer, EOS `<|endoftext|>`, pad
/// `<|padding|>` when present, no BOS), atomically, into `dir`.
pub fn save_tokenizer_dir(tok: &TextTokenizer, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    save_tokenizer_json(tok, &dir.join("tokenizer.json"))?;
    let eos = tok
        .inner
        .id_to_token(tok.eos_id)
        .unwrap_or_else(|| EOS_TOKEN.to_string());
    let pad = tok
        .inner
        .token_to_id(PAD_TOKEN)
        .map(|_| PAD_TOKEN.to_string())
        .unwrap_or_else(|| eos.clone());
    let config = serde_json::json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": null,
        "eos_token": eos,
        "pad_token": pad,
        "unk_token": null,
        "add_bos_token": false,
        "add_eos_token": false,
        "clean_up_tokenization_spaces": false,
        "model_max_length": 1_000_000_000_000_000_000u64,
    });
    let text =
        serde_json::to_string_pretty(&config).map_err(|e| TokensError::Tokenizer(e.to_string()))?;
    write_atomic(&dir.join("tokenizer_config.json"), text.as_bytes())
}

/// A loaded tokenizer plus the EOS id that ends every document.
///
/// Byte-level BPE tokenizers (GPT-2, GPT-NeoX/OLMo, Llama-3 style, ours) encode through
/// [`super::fast`], which gives the library's ids without building `Encoding`s; others through the
/// library.
#[derive(Clone)]
pub struct TextTokenizer {
    inner: Tokenizer,
    eos_id: u32,
    vocab_size: usize,
    fast: Option<Arc<FastBpe>>,
}

impl std::fmt::Debug for TextTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextTokenizer")
            .field("eos_id", &self.eos_id)
            .field("vocab_size", &self.vocab_size)
            .finish()
    }
}

impl TextTokenizer {
    /// Load any `tokenizer.json`; EOS is `<|endoftext|>`.
    pub fn load(path: &Path) -> Result<Self> {
        Self::load_with_eos(path, EOS_TOKEN)
    }

    /// Load any `tokenizer.json` with a named EOS token (`</s>`, `<|end_of_text|>`, ...).
    pub fn load_with_eos(path: &Path, eos: &str) -> Result<Self> {
        let json = std::fs::read(path).map_err(io_err(path))?;
        let inner = Tokenizer::from_bytes(&json)
            .map_err(|e| TokensError::Tokenizer(format!("{}: {e}", path.display())))?;
        Self::from_tokenizer(inner, eos)
    }

    /// Wrap a `tokenizers::Tokenizer`; fails when it has no token `eos`.
    pub fn from_tokenizer(inner: Tokenizer, eos: &str) -> Result<Self> {
        let eos_id = inner.token_to_id(eos).ok_or_else(|| {
            TokensError::Tokenizer(format!("the tokenizer has no EOS token `{eos}`"))
        })?;
        let vocab_size = inner.get_vocab_size(true);
        let fast = FastBpe::from_tokenizer(&inner).transpose()?.map(Arc::new);
        Ok(TextTokenizer {
            inner,
            eos_id,
            vocab_size,
            fast,
        })
    }

    /// The id appended after each document.
    pub fn eos_id(&self) -> u32 {
        self.eos_id
    }

    /// Number of ids, added tokens included (what decides the on-disk dtype).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The wrapped `tokenizers::Tokenizer`.
    pub fn inner(&self) -> &Tokenizer {
        &self.inner
    }

    /// The tokenizer as `tokenizer.json` text (pretty, as Python `tokenizers` saves it).
    pub fn to_json(&self) -> Result<String> {
        self.inner.to_string(true).map_err(tk_err)
    }

    /// The ids of `text`, no special tokens added (Python: `encode(text, add_special_tokens=False)`).
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = Vec::with_capacity(text.len() / 3);
        self.encode_into(text, &mut ids)?;
        Ok(ids)
    }

    /// Append the ids of `text` to `out`, no special tokens added.
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) -> Result<()> {
        match &self.fast {
            Some(f) => f.encode_into(&self.inner, text, out),
            None => {
                out.extend_from_slice(self.encode_reference(text)?.as_slice());
                Ok(())
            }
        }
    }

    /// The ids of `text` through the library's own `encode_fast` (the reference the fast path is
    /// tested against).
    pub fn encode_reference(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self.inner.encode_fast(text, false).map_err(tk_err)?;
        Ok(enc.get_ids().to_vec())
    }

    /// Whether encoding takes the fast byte-level BPE path.
    pub fn is_fast(&self) -> bool {
        self.fast.is_some()
    }

    /// The ids of a document as they go into a shard: its text's ids, then EOS.
    pub fn encode_document(&self, text: &str) -> Result<Vec<u32>> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_into(text, &mut ids)?;
        ids.push(self.eos_id);
        Ok(ids)
    }

    /// `text` after the tokenizer's normalizer (e.g. NFC for GPT-NeoX/OLMo-1): what [`Self::decode`] of
    /// its ids gives back. Unchanged when the tokenizer has no normalizer (those trained here).
    pub fn normalize(&self, text: &str) -> Result<String> {
        use tokenizers::{NormalizedString, Normalizer};
        match self.inner.get_normalizer() {
            None => Ok(text.to_string()),
            Some(n) => {
                let mut s = NormalizedString::from(text);
                n.normalize(&mut s).map_err(tk_err)?;
                Ok(s.get().to_string())
            }
        }
    }

    /// The text of `ids`; special tokens (EOS) dropped when `skip_special`.
    pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String> {
        self.inner.decode(ids, skip_special).map_err(tk_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_is_order_independent_and_fits_budget() {
        let docs: Vec<String> = (0..500)
            .map(|i| format!("document number {i} {}", "x".repeat(i % 37)))
            .collect();
        let mut a = TrainingSample::new(2_000, 7);
        docs.iter().for_each(|d| a.offer(d));
        let mut b = TrainingSample::new(2_000, 7);
        docs.iter().rev().for_each(|d| b.offer(d));
        let (seen, _, n, bytes) = a.counts();
        assert_eq!(seen, 500);
        assert!(bytes <= 2_000 && n > 10, "n={n} bytes={bytes}");
        let ta = a.into_texts();
        assert_eq!(ta, b.into_texts());
        // Another seed draws another sample.
        let mut c = TrainingSample::new(2_000, 8);
        docs.iter().for_each(|d| c.offer(d));
        assert_ne!(ta, c.into_texts());
    }

    #[test]
    fn sample_is_the_smallest_hash_prefix() {
        let docs: Vec<String> = (0..200)
            .map(|i| format!("doc {i} {}", "y".repeat(i % 11)))
            .collect();
        let mut s = TrainingSample::new(1_000, 3);
        docs.iter().for_each(|d| s.offer(d));
        let got = s.into_texts();
        let mut all: Vec<(u64, &String)> = docs
            .iter()
            .map(|d| (xxhash_rust::xxh3::xxh3_64_with_seed(d.as_bytes(), 3), d))
            .collect();
        all.sort();
        let mut want = Vec::new();
        let mut bytes = 0;
        for (_, d) in all {
            if bytes + d.len() > 1_000 {
                break;
            }
            bytes += d.len();
            want.push(d.clone());
        }
        assert_eq!(got, want);
    }

    #[test]
    fn tiny_vocab_is_rejected() {
        let cfg = TrainConfig {
            vocab_size: 100,
            ..TrainConfig::default()
        };
        let err = train_bpe(["abc"], &cfg).unwrap_err();
        assert!(err.to_string().contains("vocab_size 100"), "{err}");
    }

    #[test]
    fn train_small_and_roundtrip() {
        let text = "the cat sat on the mat. the cat ate the rat. 123456 numbers!\n\nnew paragraph";
        let cfg = TrainConfig {
            vocab_size: 300,
            min_frequency: 1,
            sample_bytes: 1 << 20,
            ..TrainConfig::default()
        };
        let (tok, report) = train_bpe([text, "another cat"], &cfg).unwrap();
        assert_eq!(report.documents_sampled, 2);
        assert_eq!(tok.eos_id(), 0);
        assert_eq!(tok.inner().token_to_id(PAD_TOKEN), Some(1));
        assert!(tok.vocab_size() <= 300 && tok.vocab_size() > 258);
        let ids = tok.encode(text).unwrap();
        assert_eq!(tok.decode(&ids, true).unwrap(), text);
        // A literal EOS in the text is the special token, as Python's encode does.
        let ids = tok.encode("a<|endoftext|>b").unwrap();
        assert!(ids.contains(&0));
        assert!(tok.is_fast());
        for t in [
            text,
            "a<|endoftext|>b",
            "  x\n\n\t y  ",
            "ünïcödé 日本 🚀",
            "",
        ] {
            assert_eq!(
                tok.encode(t).unwrap(),
                tok.encode_reference(t).unwrap(),
                "{t:?}"
            );
        }
        let doc = tok.encode_document("cat").unwrap();
        assert_eq!(*doc.last().unwrap(), 0);
    }
}
