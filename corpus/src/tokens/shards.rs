//! `quarry tokenize`: documents in, size-bounded token shards out.
//!
//! Documents stream through in batches (bounded by bytes and count, so memory is bounded whatever the
//! corpus size). Each batch is optionally permuted with a seeded generator, encoded in parallel with
//! rayon, and appended in batch order, so the output depends only on the input order, the tokenizer and
//! the config, never on thread timing. Each document gets EOS appended. A shard is closed when the next
//! document would push it past `shard_tokens`; a document longer than that gets a shard of its own.
//! Documents with empty text are skipped and counted (`skipped_empty`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::megatron::{MegatronDtype, MegatronWriter};
use super::olmo::{OlmoDtype, OlmoWriter};
use super::tokenizer::TextTokenizer;
use super::{io_err, Result, TokensError};
use crate::document::Document;

/// Output layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShardFormat {
    /// Megatron-LM `.bin` + `.idx` ([`super::megatron`]).
    #[default]
    Megatron,
    /// OLMo / dolma `.npy` + `.csv.gz` ([`super::olmo`]).
    Olmo,
}

impl std::str::FromStr for ShardFormat {
    type Err = TokensError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "megatron" => Ok(ShardFormat::Megatron),
            "olmo" => Ok(ShardFormat::Olmo),
            _ => Err(TokensError::Config(format!(
                "format `{s}`: want `megatron` or `olmo`"
            ))),
        }
    }
}

/// Settings of [`tokenize_to_shards`].
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TokenizeConfig {
    /// Output layout.
    pub format: ShardFormat,
    /// Most tokens per shard (1 Gi tokens = 2 GiB of uint16 by default).
    pub shard_tokens: u64,
    /// Shard file names are `<prefix>-NNNNN.<ext>`.
    pub prefix: String,
    /// Permute documents within each batch with this seed (a window shuffle); `None` keeps input order.
    pub shuffle_seed: Option<u64>,
    /// A batch closes at this many bytes of text ...
    pub batch_bytes: usize,
    /// ... or this many documents.
    pub batch_docs: usize,
    /// Encoding threads; `None` uses rayon's global pool (all cores).
    pub threads: Option<usize>,
}

impl Default for TokenizeConfig {
    fn default() -> Self {
        TokenizeConfig {
            format: ShardFormat::Megatron,
            shard_tokens: 1 << 30,
            prefix: "part".into(),
            shuffle_seed: None,
            batch_bytes: 32 << 20,
            batch_docs: 16_384,
            threads: None,
        }
    }
}

/// Documents and tokens of one source file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SourceTokens {
    /// Documents written.
    pub documents: u64,
    /// Tokens written, EOS included.
    pub tokens: u64,
}

/// One written shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardStats {
    /// The files (`.bin`+`.idx` or `.npy`+`.csv.gz`).
    pub files: Vec<PathBuf>,
    /// Documents in the shard.
    pub documents: u64,
    /// Tokens in the shard.
    pub tokens: u64,
}

/// What [`tokenize_to_shards`] wrote, for the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenizeStats {
    /// Documents read.
    pub documents_in: u64,
    /// Documents written.
    pub documents: u64,
    /// Documents skipped because their text was empty.
    pub skipped_empty: u64,
    /// Tokens written, one EOS per document included.
    pub tokens: u64,
    /// Bytes of text encoded.
    pub text_bytes: u64,
    /// `uint16`, `int32` or `uint32`.
    pub dtype: String,
    /// Per source file (`Document::source.file`).
    pub per_source: BTreeMap<String, SourceTokens>,
    /// Shards in order.
    pub shards: Vec<ShardStats>,
}

enum Sink {
    Megatron(MegatronWriter),
    Olmo(Box<OlmoWriter>),
}

impl Sink {
    fn tokens(&self) -> u64 {
        match self {
            Sink::Megatron(w) => w.tokens(),
            Sink::Olmo(w) => w.tokens(),
        }
    }
    fn documents(&self) -> u64 {
        match self {
            Sink::Megatron(w) => w.documents(),
            Sink::Olmo(w) => w.documents(),
        }
    }
    fn finish(self) -> Result<Vec<PathBuf>> {
        Ok(match self {
            Sink::Megatron(w) => {
                let (a, b) = w.finish()?;
                vec![a, b]
            }
            Sink::Olmo(w) => {
                let (a, b) = w.finish()?;
                vec![a, b]
            }
        })
    }
}

struct ShardSet<'a> {
    dir: &'a Path,
    cfg: &'a TokenizeConfig,
    vocab: usize,
    current: Option<Sink>,
    stats: TokenizeStats,
}

impl ShardSet<'_> {
    fn open_next(&mut self) -> Result<Sink> {
        let base = self.dir.join(format!(
            "{}-{:05}",
            self.cfg.prefix,
            self.stats.shards.len()
        ));
        Ok(match self.cfg.format {
            ShardFormat::Megatron => Sink::Megatron(MegatronWriter::create(
                &base,
                MegatronDtype::for_vocab(self.vocab),
            )?),
            ShardFormat::Olmo => Sink::Olmo(Box::new(OlmoWriter::create(
                &base,
                OlmoDtype::for_vocab(self.vocab),
            )?)),
        })
    }

    fn close(&mut self) -> Result<()> {
        if let Some(sink) = self.current.take() {
            let (documents, tokens) = (sink.documents(), sink.tokens());
            let files = sink.finish()?;
            self.stats.shards.push(ShardStats {
                files,
                documents,
                tokens,
            });
        }
        Ok(())
    }

    fn add(&mut self, doc: &Document, ids: &[u32]) -> Result<()> {
        let n = ids.len() as u64;
        if let Some(cur) = &self.current {
            if cur.tokens() > 0 && cur.tokens() + n > self.cfg.shard_tokens {
                self.close()?;
            }
        }
        if self.current.is_none() {
            self.current = Some(self.open_next()?);
        }
        match self.current.as_mut().expect("opened above") {
            Sink::Megatron(w) => w.add_document(ids)?,
            Sink::Olmo(w) => w.add_document(ids, &doc.id, &doc.source.file, doc.source.offset)?,
        }
        let s = self
            .stats
            .per_source
            .entry(doc.source.file.clone())
            .or_default();
        s.documents += 1;
        s.tokens += n;
        self.stats.documents += 1;
        self.stats.tokens += n;
        self.stats.text_bytes += doc.text.len() as u64;
        Ok(())
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fisher-Yates with splitmix64, seeded per batch so batch `k` is permuted the same on every run.
fn shuffle<T>(v: &mut [T], seed: u64, batch: u64) {
    let mut state = seed ^ batch.wrapping_mul(0xD1B5_4A32_D192_ED03);
    for i in (1..v.len()).rev() {
        let j = (splitmix64(&mut state) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// Tokenize `docs` into shards under `out_dir` (created if missing).
pub fn tokenize_to_shards<I>(
    tok: &TextTokenizer,
    docs: I,
    out_dir: &Path,
    cfg: &TokenizeConfig,
) -> Result<TokenizeStats>
where
    I: IntoIterator<Item = Document>,
{
    if cfg.shard_tokens == 0 || cfg.batch_docs == 0 || cfg.batch_bytes == 0 {
        return Err(TokensError::Config(
            "shard_tokens, batch_docs and batch_bytes must be positive".into(),
        ));
    }
    std::fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let pool = match cfg.threads {
        Some(n) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n.max(1))
                .build()
                .map_err(|e| TokensError::Config(format!("thread pool: {e}")))?,
        ),
        None => None,
    };
    let mut set = ShardSet {
        dir: out_dir,
        cfg,
        vocab: tok.vocab_size(),
        current: None,
        stats: TokenizeStats {
            dtype: match cfg.format {
                ShardFormat::Megatron => match MegatronDtype::for_vocab(tok.vocab_size()) {
                    MegatronDtype::U16 => "uint16",
                    MegatronDtype::I32 => "int32",
                },
                ShardFormat::Olmo => match OlmoDtype::for_vocab(tok.vocab_size()) {
                    OlmoDtype::U16 => "uint16",
                    OlmoDtype::U32 => "uint32",
                },
            }
            .to_string(),
            ..TokenizeStats::default()
        },
    };
    let encode = |batch: &[Document]| -> Result<Vec<Vec<u32>>> {
        let run = || {
            batch
                .par_iter()
                .map(|d| tok.encode_document(&d.text))
                .collect::<Result<Vec<_>>>()
        };
        match &pool {
            Some(p) => p.install(run),
            None => run(),
        }
    };

    let mut batch: Vec<Document> = Vec::new();
    let mut batch_bytes = 0usize;
    let mut batch_no = 0u64;
    let mut flush = |batch: &mut Vec<Document>, set: &mut ShardSet| -> Result<()> {
        if let Some(seed) = cfg.shuffle_seed {
            shuffle(batch, seed, batch_no);
        }
        batch_no += 1;
        let ids = encode(batch)?;
        for (d, ids) in batch.iter().zip(&ids) {
            set.add(d, ids)?;
        }
        batch.clear();
        Ok(())
    };
    for doc in docs {
        set.stats.documents_in += 1;
        if doc.text.is_empty() {
            set.stats.skipped_empty += 1;
            continue;
        }
        batch_bytes += doc.text.len();
        batch.push(doc);
        if batch.len() >= cfg.batch_docs || batch_bytes >= cfg.batch_bytes {
            flush(&mut batch, &mut set)?;
            batch_bytes = 0;
        }
    }
    if !batch.is_empty() {
        flush(&mut batch, &mut set)?;
    }
    set.close()?;
    Ok(set.stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_is_a_seeded_permutation() {
        let mut a: Vec<u32> = (0..100).collect();
        let mut b = a.clone();
        shuffle(&mut a, 42, 0);
        shuffle(&mut b, 42, 0);
        assert_eq!(a, b);
        let mut c: Vec<u32> = (0..100).collect();
        shuffle(&mut c, 42, 1);
        assert_ne!(a, c);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(a, sorted);
    }

    #[test]
    fn format_parses() {
        assert_eq!("olmo".parse::<ShardFormat>().unwrap(), ShardFormat::Olmo);
        assert!("npy".parse::<ShardFormat>().is_err());
    }
}
