//! Token statistics from the token shards themselves (Megatron `.idx`, OLMo `.csv.gz`), checked
//! against the tokenize manifest's counts.

use std::collections::BTreeMap;
use std::path::Path;

use quarry_corpus::tokens::{MegatronDataset, OlmoDataset};
use serde::Serialize;

use crate::bundle::TokensRun;
use crate::error::{CardError, Result};
use crate::sketch::Histogram;

/// Token counts of the token shards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenStats {
    /// `megatron` or `olmo`.
    pub format: String,
    /// Token dtype.
    pub dtype: String,
    /// Tokenizer vocabulary size.
    pub vocab_size: Option<u64>,
    /// Documents in the shards.
    pub documents: u64,
    /// Tokens, one EOS per document included.
    pub tokens: u64,
    /// Bytes of text that were encoded.
    pub text_bytes: u64,
    /// Documents skipped by the tokenizer because their text was empty.
    pub skipped_empty: u64,
    /// Tokens per document, read from the index.
    pub tokens_per_doc: Histogram,
    /// Documents and tokens per source text shard, from the manifest.
    pub per_source: BTreeMap<String, (u64, u64)>,
    /// Shards.
    pub shards: usize,
}

/// Reads every token shard's index and checks its counts against the manifest.
pub fn token_stats(run: &TokensRun) -> Result<TokenStats> {
    let m = &run.manifest;
    let mpath = run.manifest_file.local.clone().unwrap_or_default();
    let mismatch = |message: String| CardError::Mismatch {
        path: mpath.clone(),
        message,
    };
    let mut hist = Histogram::log2();
    let (mut docs, mut tokens) = (0u64, 0u64);
    let mut format = String::new();
    for (k, shard) in m.stats.shards.iter().enumerate() {
        // The shard's files, where they are now: the outputs list them in the same order.
        let local = |ext: &str| {
            run.outputs
                .iter()
                .find(|o| shard.files.iter().any(|f| f == &o.recorded) && o.recorded.ends_with(ext))
                .and_then(|o| o.local.clone())
        };
        let (d, t) = if let Some(idx) = local(".idx") {
            format = "megatron".into();
            let prefix = idx.with_extension("");
            let ds = MegatronDataset::open(&prefix)
                .map_err(|e| CardError::format(&idx, e.to_string()))?;
            for i in 0..ds.num_documents() {
                let n: u64 = ds
                    .document_sequences(i)
                    .map(|s| ds.sequence_length(s) as u64)
                    .sum();
                hist.add_u64(n);
            }
            (ds.num_documents() as u64, ds.num_tokens())
        } else if let Some(npy) = local(".npy") {
            format = "olmo".into();
            let ds = OlmoDataset::open(&npy).map_err(|e| CardError::format(&npy, e.to_string()))?;
            for d in ds.documents() {
                hist.add_u64(d.end - d.start);
            }
            (ds.num_documents() as u64, ds.num_tokens())
        } else {
            return Err(mismatch(format!(
                "token shard {k} ({}): its files are not on disk",
                shard.files.join(", ")
            )));
        };
        if (d, t) != (shard.documents, shard.tokens) {
            return Err(mismatch(format!(
                "token shard {k}: the files hold {d} documents / {t} tokens, the manifest says {} / {}",
                shard.documents, shard.tokens
            )));
        }
        docs += d;
        tokens += t;
    }
    if (docs, tokens) != (m.stats.documents, m.stats.tokens) {
        return Err(mismatch(format!(
            "shards hold {docs} documents / {tokens} tokens, the manifest totals are {} / {}",
            m.stats.documents, m.stats.tokens
        )));
    }
    let mut per_source: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (k, v) in &m.stats.per_source {
        // Source shards by file name (their folders are the build's, not the reader's).
        let name = Path::new(k)
            .file_name()
            .map_or(k.clone(), |n| n.to_string_lossy().into_owned());
        let e = per_source.entry(name).or_default();
        e.0 += v.documents;
        e.1 += v.tokens;
    }
    Ok(TokenStats {
        format,
        dtype: m.stats.dtype.clone(),
        vocab_size: m.tokenizer.vocab_size,
        documents: docs,
        tokens,
        text_bytes: m.stats.text_bytes,
        skipped_empty: m.stats.skipped_empty,
        tokens_per_doc: hist,
        per_source,
        shards: m.stats.shards.len(),
    })
}
