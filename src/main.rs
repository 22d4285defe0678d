//! The `quarry` command line: parses flags and recipes, then calls the crates. No domain logic here.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// quarry: from raw web crawls to a documented open pretraining corpus and an MoE model.
#[derive(Parser, Debug)]
#[command(name = "quarry", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on the terminal.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The main job: built-in sample crawl (or --input) → default recipe → ./quarry-out.
    Build(cmd::build::Args),
    /// Write a deterministic synthetic multilingual crawl (WARC) for demos and benchmarks.
    Sample(cmd::sample::Args),
    /// Extract text from WARC files into Parquet or JSONL shards.
    Extract(cmd::extract::Args),
    /// Run a TOML recipe (all tasks, or one with --task / Slurm array variables).
    Run(cmd::run::Args),
    /// Show the records or rows of a WARC/WET/WAT, JSONL or Parquet file.
    Inspect(cmd::inspect::Args),
    /// Run filters over text shards: drop, or annotate every verdict (--annotate).
    Filter(cmd::filter::Args),
    /// Train a fastText quality classifier (for the quality_classifier stage).
    Classifier(cmd::classifier::Args),
    /// Print each document's license findings and opt-outs (WARC or HTML files), for auditing.
    License(cmd::license::Args),
    /// Exact and MinHash-LSH dedup of text shards (all stages, this machine).
    Dedup(cmd::dedup::Args),
    /// Train a tokenizer (byte-level BPE) on text shards.
    Tokenizer(cmd::tokens::TokenizerArgs),
    /// Turn text shards into token shards (Megatron .bin/.idx or OLMo layout).
    Tokenize(cmd::tokens::TokenizeArgs),
    /// Train the MoE model on token shards (CPU reference backend).
    Train(cmd::train::Args),
    /// Export a training checkpoint as a Hugging Face model folder (with the tokenizer).
    Export(cmd::export::Args),
    /// Download models (fastText lid.176) into the cache.
    Models(cmd::models::Args),
    /// List the stage types a recipe may use.
    Stages(cmd::stages::Args),
    /// Run the whole build as chained array jobs: Slurm (sbatch) or here, task after task.
    Launch(cmd::launch::Args),
    /// Progress and failures of a launched run, from its completion markers (and squeue).
    Status(cmd::status::Args),
    /// Common Crawl: list a crawl's files, fetch slices of it (resumable, retried).
    Cc(cmd::cc::Args),
    /// Write the dataset card of a release: README.md, croissant.json, stats.json, plots, lineage.json.
    Card(cmd::card::Args),
    /// Check a release bundle: re-hash every file its lineage names.
    Lineage(cmd::lineage::Args),
    /// Crawl the web politely from seed URLs into WARC files (robots.txt, resumable).
    Crawl(cmd::crawl::Args),
    /// Copy files and folders between local paths and s3:// (markers last).
    Storage(cmd::storage::Args),
}

fn main() -> ExitCode {
    // With no arguments at all, run the main job (`cargo run --release` on a fresh clone).
    let cli = if std::env::args_os().len() == 1 {
        Cli::parse_from(["quarry", "build"])
    } else {
        Cli::parse()
    };
    init_logging(cli.verbose, cli.quiet);
    let result = match cli.command {
        Command::Build(a) => cmd::build::run(a),
        Command::Sample(a) => cmd::sample::run(a),
        Command::Extract(a) => cmd::extract::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Filter(a) => cmd::filter::run(a),
        Command::Classifier(a) => cmd::classifier::run(a),
        Command::License(a) => cmd::license::run(a),
        Command::Dedup(a) => cmd::dedup::run(a),
        Command::Tokenizer(a) => cmd::tokens::run_tokenizer(a),
        Command::Tokenize(a) => cmd::tokens::run_tokenize(a),
        Command::Train(a) => cmd::train::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Models(a) => cmd::models::run(a),
        Command::Stages(a) => cmd::stages::run(a),
        Command::Launch(a) => cmd::launch::run(a),
        Command::Status(a) => cmd::status::run(a),
        Command::Cc(a) => cmd::cc::run(a),
        Command::Card(a) => cmd::card::run(a),
        Command::Lineage(a) => cmd::lineage::run(a),
        Command::Crawl(a) => cmd::crawl::run(a),
        Command::Storage(a) => cmd::storage::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("quarry: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = if quiet {
        "error"
    } else {
        match verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
