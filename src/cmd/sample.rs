//! `quarry sample --out DIR [--docs N] [--seed S]`: a deterministic synthetic multilingual crawl.

use std::path::PathBuf;
use std::process::ExitCode;

use quarry_corpus::sample::{write_sample_crawl, SampleConfig};

/// Flags of `quarry sample`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Output folder: writes sample.warc.gz and truth.jsonl (ground truth per page).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Number of pages.
    #[arg(long, default_value_t = 1000)]
    pub docs: usize,
    /// Seed: the same seed always gives the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Number of WARC files the pages are split into.
    #[arg(long, default_value_t = 1)]
    pub files: usize,
}

/// Writes the sample crawl.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(args.docs > 0, "--docs must be at least 1");
    let cfg = SampleConfig {
        docs: args.docs,
        seed: args.seed,
        ..Default::default()
    };
    let s = write_sample_crawl(&cfg, &args.out, args.files)?;
    for w in &s.warcs {
        eprintln!(
            "{} ({} bytes, sha256 {})",
            w.path.display(),
            w.bytes,
            w.sha256
        );
    }
    eprintln!("wrote {} pages and {}", s.pages, s.truth.path.display());
    Ok(ExitCode::SUCCESS)
}
