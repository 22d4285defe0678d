//! `quarry tokenizer train` and `quarry tokenize`: BPE training and token shards.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::manifest::{InputRecord, OutputRecord};
use quarry_corpus::storage::{sha256_file, write_atomic};
use quarry_corpus::tokens::{
    save_tokenizer_json, tokenize_to_shards, train_bpe, ShardFormat, TextTokenizer, TokenizeConfig,
    TrainConfig,
};

use super::documents::DocStream;

/// Flags of `quarry tokenizer`.
#[derive(clap::Args, Debug)]
pub struct TokenizerArgs {
    #[command(subcommand)]
    pub command: TokenizerCommand,
}

/// `quarry tokenizer` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TokenizerCommand {
    /// Train a byte-level BPE tokenizer on a deterministic sample of text shards.
    Train(TrainArgs),
}

/// Flags of `quarry tokenizer train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// Text shards (Parquet/JSONL; files, globs or folders).
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// Vocabulary size, special tokens and the 256 byte symbols included.
    #[arg(long, default_value_t = 50_304)]
    pub vocab_size: usize,
    /// Byte budget of the training sample.
    #[arg(long, default_value_t = 1 << 30)]
    pub sample_bytes: u64,
    /// Seed of the sample.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to write tokenizer.json.
    #[arg(long, short)]
    pub out: PathBuf,
}

/// Flags of `quarry tokenize`.
#[derive(clap::Args, Debug)]
pub struct TokenizeArgs {
    /// A tokenizer.json (trained by `quarry tokenizer train`, or any Hugging Face one).
    #[arg(long)]
    pub tokenizer: PathBuf,
    /// Text shards (Parquet/JSONL; files, globs or folders).
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// Output folder.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Layout: Megatron `.bin/.idx` or OLMo/dolma `.npy`-less token files + `.csv.gz`.
    #[arg(long, default_value = "megatron")]
    pub format: String,
    /// Most tokens per shard.
    #[arg(long, default_value_t = 1 << 30)]
    pub shard_tokens: u64,
    /// Shuffle documents (within batches) with this seed.
    #[arg(long)]
    pub shuffle_seed: Option<u64>,
}

/// Trains the tokenizer.
pub fn run_tokenizer(args: TokenizerArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        TokenizerCommand::Train(a) => {
            train_tokenizer(&a.input, a.vocab_size, a.sample_bytes, a.seed, &a.out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Trains a tokenizer on the documents of `input` and writes it to `out`.
pub fn train_tokenizer(
    input: &[String],
    vocab_size: usize,
    sample_bytes: u64,
    seed: u64,
    out: &Path,
) -> anyhow::Result<()> {
    let docs = DocStream::open(input)?;
    let errors = docs.error_counter();
    let cfg = TrainConfig {
        vocab_size,
        sample_bytes,
        seed,
        ..Default::default()
    };
    let (tok, report) = train_bpe(docs.map(|d| d.text), &cfg)?;
    let errors = errors.load(std::sync::atomic::Ordering::Relaxed);
    anyhow::ensure!(
        errors == 0,
        "{errors} input record(s) could not be read (see the warnings above); no tokenizer written"
    );
    save_tokenizer_json(&tok, out).with_context(|| format!("writing {}", out.display()))?;
    let (sha, _) = sha256_file(out)?;
    eprintln!(
        "tokenizer: vocab {} from {} of {} documents ({} bytes sampled) → {} (sha256 {sha})",
        report.vocab_size,
        report.documents_sampled,
        report.documents_seen,
        report.bytes_sampled,
        out.display()
    );
    Ok(())
}

/// Tokenizes text shards into token shards and writes `manifest.json` beside them.
pub fn run_tokenize(args: TokenizeArgs) -> anyhow::Result<ExitCode> {
    let format: ShardFormat = args.format.parse()?;
    tokenize(
        &args.tokenizer,
        &args.input,
        &args.out,
        format,
        args.shard_tokens,
        args.shuffle_seed,
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Tokenizes, and records tokenizer, inputs and outputs with their digests in `out/manifest.json`.
pub fn tokenize(
    tokenizer: &Path,
    input: &[String],
    out: &Path,
    format: ShardFormat,
    shard_tokens: u64,
    shuffle_seed: Option<u64>,
) -> anyhow::Result<()> {
    let tok = TextTokenizer::load(tokenizer)
        .with_context(|| format!("tokenizer {}", tokenizer.display()))?;
    let docs = DocStream::open(input)?;
    let errors = docs.error_counter();
    let files = docs.files().to_vec();
    let cfg = TokenizeConfig {
        format,
        shard_tokens,
        shuffle_seed,
        ..Default::default()
    };
    std::fs::create_dir_all(out)?;
    let stats = tokenize_to_shards(&tok, docs, out, &cfg)?;
    let read_errors = errors.load(std::sync::atomic::Ordering::Relaxed);
    let mut outputs = Vec::new();
    for s in &stats.shards {
        for f in &s.files {
            let (sha, bytes) = sha256_file(f)?;
            outputs.push(OutputRecord {
                path: f.display().to_string(),
                rows: s.documents,
                bytes,
                sha256: sha,
            });
        }
    }
    let mut inputs = Vec::new();
    for f in &files {
        let (sha, bytes) = sha256_file(Path::new(f))?;
        inputs.push(InputRecord {
            path: f.clone(),
            bytes,
            sha256: sha,
        });
    }
    let (tok_sha, _) = sha256_file(tokenizer)?;
    let manifest = serde_json::json!({
        "format": "quarry-tokens-manifest/1",
        "build": super::build_info(),
        "tokenizer": {"path": tokenizer.display().to_string(), "sha256": tok_sha, "vocab_size": tok.vocab_size(), "eos_id": tok.eos_id()},
        "config": cfg,
        "read_errors": read_errors,
        "inputs": inputs,
        "outputs": outputs,
        "stats": stats,
    });
    let mpath = out.join("manifest.json");
    write_atomic(&mpath, &serde_json::to_vec_pretty(&manifest)?)?;
    eprintln!(
        "tokenized {} documents ({} skipped empty) into {} tokens ({}) in {} shard(s); manifest {}",
        stats.documents,
        stats.skipped_empty,
        stats.tokens,
        stats.dtype,
        stats.shards.len(),
        mpath.display()
    );
    anyhow::ensure!(
        read_errors == 0,
        "{read_errors} input record(s) could not be read (see the warnings above and read_errors in {})",
        mpath.display()
    );
    Ok(())
}
