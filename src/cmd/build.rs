//! `quarry build`: the main job. With no arguments it generates the built-in sample crawl and runs the
//! embedded default recipe on it, writing everything to `./quarry-out`:
//!
//! ```text
//! quarry-out/input/       the sample crawl (4 WARC files) and its ground truth
//! quarry-out/corpus/      text shards after extraction and filtering + manifest.json
//! quarry-out/dedup/       deduplicated text shards, removed.txt, clusters.jsonl + manifest.json
//! quarry-out/tokenizer.json
//! quarry-out/tokens/      Megatron token shards + manifest.json
//! quarry-out/README.md    the dataset card (+ croissant.json, stats.json, lineage.json, plots/)
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_corpus::recipe::Recipe;
use quarry_corpus::sample::{write_sample_crawl, SampleConfig};
use quarry_corpus::tokens::ShardFormat;
use quarry_corpus::Pipeline;
use quarry_dedup::DedupPlan;

use super::run::TaskArgs;

/// The embedded default recipe.
pub const DEFAULT_RECIPE: &str = include_str!("../../recipes/default.toml");

/// Flags of `quarry build`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input files or globs [default: the built-in sample crawl, generated into OUT/input].
    #[arg(long, short, num_args = 1.., value_name = "PATH")]
    pub input: Vec<String>,
    /// Output folder.
    #[arg(long, short, default_value = "quarry-out")]
    pub out: PathBuf,
    /// A recipe to use instead of the embedded default (its [input] and [output] paths are replaced).
    #[arg(long)]
    pub recipe: Option<PathBuf>,
    /// Print the embedded default recipe and exit.
    #[arg(long)]
    pub print_recipe: bool,
    /// Pages in the built-in sample crawl.
    #[arg(long, default_value_t = 2000)]
    pub sample_docs: usize,
    /// Seed of the built-in sample crawl.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub tasks: TaskArgs,
}

/// Runs the main job.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.print_recipe {
        print!("{DEFAULT_RECIPE}");
        return Ok(ExitCode::SUCCESS);
    }
    let text = match &args.recipe {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading recipe {}", p.display()))?
        }
        None => DEFAULT_RECIPE.to_string(),
    };
    let mut recipe = Recipe::parse(&text)?;
    let inputs = if args.input.is_empty() {
        let dir = args.out.join("input");
        let cfg = SampleConfig {
            docs: args.sample_docs,
            seed: args.seed,
            ..Default::default()
        };
        let s = write_sample_crawl(&cfg, &dir, 4).context("writing the built-in sample crawl")?;
        eprintln!(
            "sample crawl: {} pages in {} WARC files in {}",
            s.pages,
            s.warcs.len(),
            dir.display()
        );
        s.warcs
            .iter()
            .map(|w| w.path.display().to_string())
            .collect()
    } else {
        args.input.clone()
    };
    recipe.input.paths = inputs;
    let corpus = args.out.join("corpus");
    recipe.output.path = corpus.display().to_string();
    if needs_lid_model(&recipe) {
        let p = super::models::ensure_lid_model()?;
        // The language_id stage reads the model path from this variable when the recipe names none.
        std::env::set_var("QUARRY_LID_MODEL", &p);
    }
    let (dedup, tokenizer, tokenize) = (
        recipe.dedup.clone(),
        recipe.tokenizer.clone(),
        recipe.tokenize.clone(),
    );
    let card_table = recipe.card.clone().unwrap_or_default();
    let pipeline = Pipeline::from_recipe(recipe, super::registry(), super::build_info())?;
    let opts = args.tasks.options()?;
    let mut code = super::run_pipeline(&pipeline, &opts)?;
    if opts.task.is_some() {
        eprintln!("ran one task only; run the whole-corpus steps once every task is finished (quarry build without --task)");
        return Ok(code);
    }
    anyhow::ensure!(
        corpus.join("manifest.json").exists(),
        "not every task finished; see the messages above"
    );

    let mut text_shards = corpus.join("shards");
    if let Some(t) = dedup {
        let get = |k: &str| t.get(k).and_then(|v| v.as_bool()).unwrap_or(false);
        let num = |k: &str| t.get(k).and_then(|v| v.as_integer()).map(|v| v as usize);
        let plan = DedupPlan::from_flags(
            get("exact"),
            get("minhash"),
            num("bands"),
            num("rows"),
            num("ngram"),
        )?;
        let out = args.out.join("dedup");
        eprintln!("== dedup → {}", out.display());
        let c = super::dedup::dedup(&[text_shards.display().to_string()], &out, &plan)?;
        code = worst(code, c);
        text_shards = out.join("shards");
    }
    let shards_arg = [text_shards.display().to_string()];
    let published = text_shards.parent().map(PathBuf::from).unwrap_or_default();
    let tok_path = match tokenizer {
        Some(t) => match t.get("path").and_then(|v| v.as_str()) {
            Some(p) => Some(PathBuf::from(p)),
            None => {
                let out = args.out.join("tokenizer.json");
                let vocab = t
                    .get("vocab_size")
                    .and_then(|v| v.as_integer())
                    .unwrap_or(50_304) as usize;
                let sample = t
                    .get("sample_bytes")
                    .and_then(|v| v.as_integer())
                    .unwrap_or(1 << 30) as u64;
                let seed = t.get("seed").and_then(|v| v.as_integer()).unwrap_or(0) as u64;
                eprintln!("== tokenizer → {}", out.display());
                super::tokens::train_tokenizer(&shards_arg, vocab, sample, seed, &out)?;
                Some(out)
            }
        },
        None => None,
    };
    let mut tokens_dir = None;
    if let (Some(t), Some(tok)) = (tokenize, &tok_path) {
        let format: ShardFormat = t
            .get("format")
            .and_then(|v| v.as_str())
            .unwrap_or("megatron")
            .parse()?;
        let shard_tokens = t
            .get("shard_tokens")
            .and_then(|v| v.as_integer())
            .unwrap_or(1 << 30) as u64;
        let out = args.out.join("tokens");
        eprintln!("== tokenize → {}", out.display());
        super::tokens::tokenize(tok, &shards_arg, &out, format, shard_tokens, None)?;
        tokens_dir = Some(out);
    }
    // The card goes to the output folder itself, above the shards, so that its relative paths (HF
    // `configs`, Croissant FileSet) stay inside the release.
    eprintln!("== card → {}", args.out.display());
    let card = quarry_datacards::CardInputs {
        corpus: published,
        tokens: tokens_dir,
        train: Vec::new(),
        out: args.out.clone(),
    };
    let opts = super::card::options_from_table(&card_table)?;
    super::card::make(&card, &opts)?;
    eprintln!("done: {}", args.out.display());
    Ok(code)
}

fn needs_lid_model(r: &Recipe) -> bool {
    std::env::var_os("QUARRY_LID_MODEL").is_none()
        && r.stages.iter().any(|s| {
            s.get("type").and_then(|t| t.as_str()) == Some("language_id")
                && !s.contains_key("model")
        })
}

fn worst(a: ExitCode, b: ExitCode) -> ExitCode {
    if a == ExitCode::SUCCESS {
        b
    } else {
        a
    }
}
