//! `quarry train`: train the MoE model on token shards (CPU reference backend).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::tokens::TextTokenizer;
use quarry_trainer::{train_with, MegatronSource, RunInputs, TrainConfig};

/// Flags of `quarry train`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Training config (TOML) [default: the embedded tiny config, `quarry train --print-config`].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Token shards: a `quarry tokenize` output folder, or Megatron prefixes (`<prefix>.bin/.idx`).
    #[arg(long, num_args = 1.., required_unless_present = "print_config")]
    pub data: Vec<PathBuf>,
    /// The tokenizer the shards were made with: sets the model's vocabulary size and EOS/padding ids.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Run folder: metrics.jsonl, checkpoints, hf/ (transformers-loadable export), loss.svg/png,
    /// manifest.json (lineage: config, tokenizer and shards by digest, every checkpoint's digest).
    #[arg(long, short, default_value = "quarry-out/train")]
    pub out: PathBuf,
    /// Override the number of optimizer steps.
    #[arg(long)]
    pub steps: Option<u64>,
    /// Print the embedded default config and exit.
    #[arg(long)]
    pub print_config: bool,
}

/// Runs training and prints the summary as JSON.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.print_config {
        print!("{}", quarry_trainer::train::TINY_TOML);
        return Ok(ExitCode::SUCCESS);
    }
    let mut cfg = match &args.config {
        Some(p) => TrainConfig::from_file(p).with_context(|| format!("config {}", p.display()))?,
        None => TrainConfig::default(),
    };
    if let Some(s) = args.steps {
        cfg.steps = s;
    }
    let mut prefixes = Vec::new();
    for d in &args.data {
        if d.is_dir() {
            let found = MegatronSource::prefixes_in(d)
                .with_context(|| format!("listing {}", d.display()))?;
            anyhow::ensure!(
                !found.is_empty(),
                "{}: no Megatron .idx files (run `quarry tokenize` first)",
                d.display()
            );
            prefixes.extend(found);
        } else {
            prefixes.push(d.clone());
        }
    }
    let eos = match &args.tokenizer {
        Some(t) => {
            let tok =
                TextTokenizer::load(t).with_context(|| format!("tokenizer {}", t.display()))?;
            cfg.model.vocab_size = tok.vocab_size();
            cfg.model.eos_token_id = tok.eos_id();
            if let Some(pad) = tok.inner().token_to_id("<|padding|>") {
                cfg.model.pad_token_id = pad;
            }
            Some(tok.eos_id())
        }
        None => Some(cfg.model.eos_token_id),
    };
    let source = MegatronSource::open(&prefixes, eos).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(max) = source.max_token() {
        anyhow::ensure!(
            (max as usize) < cfg.model.vocab_size,
            "the shards hold token id {max} but the model's vocab_size is {}; pass --tokenizer or set [model] vocab_size",
            cfg.model.vocab_size
        );
    }
    eprintln!(
        "training on {} documents, {} tokens from {} shard(s) → {}",
        source_docs(&source),
        source.num_tokens(),
        prefixes.len(),
        args.out.display()
    );
    let info = super::build_info();
    let inputs = RunInputs::describe(
        &info.version,
        &info.git_commit,
        args.tokenizer.as_deref(),
        &prefixes,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let summary =
        train_with(cfg, &source, &args.out, &inputs).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let (Some(loss), Some(h)) = (summary.final_loss, summary.unigram_entropy) {
        // A model that learned nothing beyond token frequencies sits at the unigram entropy.
        eprintln!("final loss {loss:.4} nats vs unigram entropy of the data {h:.4} nats");
    }
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(ExitCode::SUCCESS)
}

fn source_docs(s: &MegatronSource) -> usize {
    quarry_trainer::TokenSource::num_docs(s)
}
