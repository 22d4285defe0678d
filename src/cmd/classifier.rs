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
    /// Score a corpus once and record the threshold that keeps its top fraction (for the
    /// `quality_classifier` stage's `calibration = FILE`).
    Calibrate(CalibrateArgs),
}

/// Flags of `quarry classifier calibrate`.
#[derive(clap::Args, Debug)]
pub struct CalibrateArgs {
    /// The model from `quarry classifier train`.
    #[arg(long)]
    pub model: PathBuf,
    /// Documents to score: the corpus, or a representative sample of it.
    #[arg(long, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// Fraction of documents to keep, in (0, 1].
    #[arg(long)]
    pub top_fraction: f64,
    /// Where to write the calibration JSON.
    #[arg(long, short)]
    pub out: PathBuf,
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
    let a = match args.command {
        ClassifierCommand::Train(a) => a,
        ClassifierCommand::Calibrate(c) => return calibrate(c),
    };
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

/// `quarry classifier calibrate`: one scoring pass, then the threshold as JSON.
fn calibrate(a: CalibrateArgs) -> anyhow::Result<ExitCode> {
    use quarry_filters::classifier::{ClassifierConfig, QualityClassifier};
    let model = a.model.display().to_string();
    let clf = QualityClassifier::new(ClassifierConfig {
        model: model.clone(),
        threshold: None,
        calibration: None,
        key: "quality_score".into(),
    })?;
    let (sha, _) = quarry_corpus::storage::sha256_file(&a.model)?;
    let docs = DocStream::open(&a.input)?;
    let errors = docs.error_counter();
    let cal =
        quarry_filters::classifier::calibrate(&clf, &sha, docs.map(|d| d.text), a.top_fraction)
            .map_err(|e| anyhow::anyhow!("calibrating: {e}"))?;
    let errors = errors.load(std::sync::atomic::Ordering::Relaxed);
    anyhow::ensure!(
        errors == 0,
        "{errors} input records could not be read: refusing to calibrate on part of the corpus"
    );
    let json = serde_json::to_string_pretty(&cal)? + "\n";
    quarry_corpus::storage::write_atomic(&a.out, json.as_bytes())?;
    eprintln!(
        "calibrate: {} documents scored; threshold {:.6} keeps {} ({:.2} %, asked {:.2} %) → {}",
        cal.documents,
        cal.threshold,
        cal.kept,
        100.0 * cal.kept as f64 / cal.documents as f64,
        100.0 * a.top_fraction,
        a.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
