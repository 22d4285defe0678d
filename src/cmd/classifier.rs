//! `quarry classifier train`: a fastText quality classifier (DCLM-style) from positive and negative
//! documents; the `quality_classifier` stage scores with it.

use std::path::PathBuf;
use std::process::ExitCode;

use quarry_filters::classifier::{train_classifier, TrainSettings};

use super::documents::DocStream;

/// Flags of `quarry classifier`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: ClassifierCommand,
}

/// `quarry classifier` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum ClassifierCommand {
    /// Train on high-quality (--pos) and ordinary (--neg) documents.
    Train(TrainArgs),
}

/// Flags of `quarry classifier train`.
#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    /// High-quality reference documents (Parquet/JSONL/WARC files, globs or folders).
    #[arg(long, required = true, num_args = 1..)]
    pub pos: Vec<String>,
    /// Ordinary crawl documents.
    #[arg(long, required = true, num_args = 1..)]
    pub neg: Vec<String>,
    /// Where to write the model (.bin).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Epochs (fastText updates once per document: small training sets need more).
    #[arg(long, default_value_t = 5)]
    pub epoch: i32,
    /// Learning rate.
    #[arg(long, default_value_t = 0.1)]
    pub lr: f64,
    /// Word n-grams.
    #[arg(long, default_value_t = 2)]
    pub word_ngrams: i32,
    /// Vector size.
    #[arg(long, default_value_t = 64)]
    pub dim: i32,
    /// Minimum word count.
    #[arg(long, default_value_t = 2)]
    pub min_count: i32,
    /// Seed of the training order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Hash buckets for word n-grams (model size is buckets × dim floats).
    #[arg(long, default_value_t = 200_000)]
    pub bucket: i32,
}

/// Runs `quarry classifier`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ClassifierCommand::Train(a) = args.command;
    let cfg = TrainSettings {
        epoch: a.epoch,
        lr: a.lr,
        word_ngrams: a.word_ngrams,
        dim: a.dim,
        min_count: a.min_count,
        seed: a.seed,
        bucket: a.bucket,
        ..Default::default()
    };
    let pos = DocStream::open(&a.pos)?.map(|d| d.text);
    let neg = DocStream::open(&a.neg)?.map(|d| d.text);
    let rep =
        train_classifier(pos, neg, &cfg, &a.out).map_err(|e| anyhow::anyhow!("training: {e}"))?;
    let (sha, bytes) = quarry_corpus::storage::sha256_file(&a.out)?;
    eprintln!(
        "classifier: {} positive, {} negative documents → {} ({bytes} bytes, sha256 {sha})",
        rep.positives,
        rep.negatives,
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
