//! `quarry dedup`: exact and MinHash-LSH dedup of text shards, all four stages on this machine.
//!
//! Each input shard is one task. Stages 1–3 (signatures, candidate pairs, clustering) run through
//! `quarry_dedup::run_local`; stage 4 is a pipeline over the same shards with the dedup filter steps,
//! so the deduplicated shards come with a lineage manifest whose counts add up like any other run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::read::{open_documents, ReaderOptions};
use quarry_corpus::recipe::{InputSection, OutputSection, Recipe, RunSection};
use quarry_corpus::storage::{list_inputs, InputFile};
use quarry_corpus::write::OutputFormat;
use quarry_corpus::{Document, Pipeline, ReadItem, RunOptions};
use quarry_dedup::{run_local, DedupError, DedupPlan};

/// Flags of `quarry dedup`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Text shards (Parquet/JSONL; files, globs or folders). Each file is one task.
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// Output folder: shards/, removed.txt, clusters.jsonl, report.json, manifest.json, work/.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Exact dedup on normalised text.
    #[arg(long)]
    pub exact: bool,
    /// MinHash-LSH near-duplicate dedup (the default when neither is given).
    #[arg(long)]
    pub minhash: bool,
    /// LSH bands [default 14].
    #[arg(long)]
    pub bands: Option<usize>,
    /// Rows per band [default 8].
    #[arg(long)]
    pub rows: Option<usize>,
    /// Word n-gram size of shingles [default 5].
    #[arg(long)]
    pub ngram: Option<usize>,
}

/// Runs `quarry dedup`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let plan = DedupPlan::from_flags(args.exact, args.minhash, args.bands, args.rows, args.ngram)?;
    dedup(&args.input, &args.out, &plan)
}

/// The text shards among the inputs (manifests and dedup outputs beside them are skipped).
fn shard_inputs(patterns: &[String]) -> anyhow::Result<Vec<InputFile>> {
    Ok(list_inputs(patterns)?
        .into_iter()
        .filter(|f| {
            let n = f.location.file_name();
            n.ends_with(".parquet")
                || n.ends_with(".jsonl")
                || n.ends_with(".jsonl.zst")
                || n.ends_with(".jsonl.gz")
        })
        .collect())
}

fn read_task(input: &InputFile) -> Result<impl Iterator<Item = Document>, DedupError> {
    let opened = open_documents(input, &ReaderOptions::default()).map_err(|e| {
        DedupError::io(
            input.location.to_string(),
            std::io::Error::other(e.to_string()),
        )
    })?;
    Ok(opened.items.filter_map(|it| match it {
        ReadItem::Doc(d) => Some(d),
        _ => None,
    }))
}

/// Runs all four dedup stages over `patterns` into `out`.
pub fn dedup(patterns: &[String], out: &Path, plan: &DedupPlan) -> anyhow::Result<ExitCode> {
    let inputs = shard_inputs(patterns)?;
    anyhow::ensure!(
        !inputs.is_empty(),
        "no Parquet or JSONL shards among the inputs"
    );
    let work = out.join("work");
    let report = run_local(plan, inputs.len(), |t| read_task(&inputs[t]), &work)
        .context("dedup stages 1-3")?;
    for f in ["removed.txt", "clusters.jsonl", "report.json"] {
        std::fs::copy(work.join(f), out.join(f)).with_context(|| format!("copying {f}"))?;
    }
    let mut stages = Vec::new();
    if let Some(c) = &plan.exact {
        let mut t = toml::Table::try_from(c).context("exact config")?;
        t.insert("type".into(), "exact_dedup_filter".into());
        t.insert("dir".into(), work.display().to_string().into());
        stages.push(t);
    }
    if let Some(c) = &plan.minhash {
        let mut t = toml::Table::try_from(c).context("minhash config")?;
        t.insert("type".into(), "minhash_filter".into());
        t.insert("dir".into(), work.display().to_string().into());
        stages.push(t);
    }
    let recipe = Recipe {
        name: Some("quarry dedup (stage 4: filter)".into()),
        input: InputSection {
            paths: inputs.iter().map(|f| f.location.to_string()).collect(),
            format: None,
            text_key: None,
            metadata_records: false,
            max_record_bytes: None,
            crawl: None,
        },
        output: OutputSection {
            path: out.display().to_string(),
            format: OutputFormat::Parquet,
            max_shard_bytes: 256 << 20,
            prefix: "part".into(),
            count_metadata: Vec::new(),
        },
        // One task per input shard, as in stages 1-3, so each filter task loads its own removed set.
        run: RunSection {
            tasks: inputs.len(),
            ..Default::default()
        },
        stages,
        dedup: None,
        tokenizer: None,
        tokenize: None,
        card: None,
    };
    let pipeline = Pipeline::from_recipe(recipe, super::registry(), super::build_info())?;
    let code = super::run_pipeline(
        &pipeline,
        &RunOptions {
            force: true,
            ..Default::default()
        },
    )?;
    eprintln!(
        "dedup: {} documents, {} exact duplicates, {} near-duplicates removed, {} kept; {} intermediate bytes",
        report.docs, report.exact_removed, report.minhash_removed, report.kept, report.intermediate_bytes
    );
    Ok(code)
}
