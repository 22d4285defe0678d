//! One module per subcommand: its clap `Args` and a `run` that calls the crates.

pub mod build;
pub mod card;
pub mod cc;
pub mod classifier;
pub mod crawl;
pub mod dedup;
pub mod documents;
pub mod export;
pub mod extract;
pub mod filter;
pub mod inspect;
pub mod launch;
pub mod license;
pub mod lineage;
pub mod models;
pub mod run;
pub mod sample;
pub mod stages;
pub mod status;
pub mod storage;
pub mod tokens;
pub mod train;

use std::process::ExitCode;

use quarry_corpus::manifest::BuildInfo;
use quarry_corpus::{Pipeline, RunOptions, StepRegistry};

/// Every stage type of every crate. Only the CLI knows all crates, so only it builds the full registry.
pub fn registry() -> StepRegistry {
    let mut reg = StepRegistry::new();
    reg.register(
        "extract",
        "HTML → main text: charset detection (HTTP, BOM, meta, chardetng) and boilerplate removal",
        quarry_corpus::html::extract_factory,
    );
    quarry_filters::register(&mut reg);
    quarry_dedup::register(&mut reg);
    reg
}

/// quarry's version and git commit, for manifests.
pub fn build_info() -> BuildInfo {
    BuildInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        git_commit: env!("QUARRY_GIT_COMMIT").to_string(),
    }
}

/// Runs a pipeline, prints what happened, and maps record errors to exit status 1.
pub fn run_pipeline(p: &Pipeline, opts: &RunOptions) -> anyhow::Result<ExitCode> {
    let outcome = p.run(opts)?;
    let out = &p.recipe().output.path;
    for m in &outcome.manifests {
        let rows: u64 = m.outputs.iter().map(|o| o.rows).sum();
        eprintln!(
            "task {}/{}: {} inputs, {} records, {} documents, {} written to {} shard(s), {} skipped, {} errors, {:.1}s",
            m.task,
            m.tasks,
            m.inputs.len(),
            m.reader.records,
            m.reader.documents,
            rows,
            m.outputs.len(),
            m.reader.skipped.values().sum::<u64>(),
            m.reader.errors,
            m.wall_seconds
        );
    }
    if !outcome.skipped.is_empty() {
        eprintln!(
            "already finished, skipped: tasks {:?} (use --force to redo)",
            outcome.skipped
        );
    }
    match &outcome.merged {
        Some(m) => {
            eprintln!("stage           in        kept      dropped");
            for s in &m.stages {
                eprintln!(
                    "{:<15} {:<9} {:<9} {:<9} {:?}",
                    s.name,
                    s.input,
                    s.kept,
                    s.dropped_total(),
                    s.dropped
                );
            }
            eprintln!("manifest: {out}/manifest.json");
        }
        None => eprintln!(
            "not all tasks are finished yet; manifest.json is written when the last one is"
        ),
    }
    let errors = outcome.read_errors();
    if errors > 0 {
        eprintln!("quarry: {errors} record(s) could not be read; see reader.error_samples in the manifest");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
