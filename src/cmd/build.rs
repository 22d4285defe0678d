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

use super::run::TaskArgs;

/// The embedded default recipe.
pub const DEFAULT_RECIPE: &str = include_str!("../../recipes/default.toml");

/// Flags of `quarry build`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input files or globs [default: the built-in sample crawl, generated into OUT/input].
    #[arg(long, short, num_args = 1.., value_name = "PATH")]
    pub input: Vec<String>,
    /// Output folder, or s3://bucket/prefix (everything is staged locally, then published with
    /// data first and manifests and completion markers last; see docs/storage.md).
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
pub fn run(mut args: Args) -> anyhow::Result<ExitCode> {
    if args.print_recipe {
        print!("{DEFAULT_RECIPE}");
        return Ok(ExitCode::SUCCESS);
    }
    let out_str = args.out.to_string_lossy().to_string();
    if out_str.starts_with("s3://") {
        let remote = quarry_corpus::storage::Location::parse(&out_str)?;
        let staging = quarry_corpus::storage::staging_dir(args.tasks.staging.as_deref(), &remote);
        // A finished publication leaves `_markers/build.done` on the bucket (uploaded last, with
        // the build's identity), so a rerun from any machine finds the work done without a local
        // staging folder, and a different build is refused instead of mixed into it.
        let identity = build_identity(&args)?;
        let marker = remote.join(BUILD_MARKER);
        if let Some(old) = quarry_corpus::storage::read_opt(&marker)? {
            let old = String::from_utf8_lossy(&old).trim().to_string();
            anyhow::ensure!(
                old == identity,
                "{remote} holds another build (its {BUILD_MARKER} says {old}, this one is \
                 {identity}); use another --out"
            );
            if !args.tasks.force {
                eprintln!(
                    "{remote} is already published ({BUILD_MARKER} found): nothing to do \
                     (--force rebuilds it)"
                );
                return Ok(ExitCode::SUCCESS);
            }
        }
        eprintln!("staging {out_str} in {}", staging.display());
        args.out = staging.clone();
        let whole = args.tasks.task.is_none();
        let code = run_local(args)?;
        if whole && code == ExitCode::SUCCESS {
            quarry_corpus::storage::write_atomic(
                staging.join(BUILD_MARKER),
                format!("{identity}\n").as_bytes(),
            )?;
        }
        let s = quarry_corpus::storage::upload_tree(&staging, &remote)
            .with_context(|| format!("publishing {} to {remote}", staging.display()))?;
        eprintln!(
            "published {} file(s), {} bytes, to {remote} (markers last)",
            s.files, s.bytes
        );
        return Ok(code);
    }
    run_local(args)
}

/// The marker a finished `quarry build --out s3://…` leaves on the bucket.
const BUILD_MARKER: &str = "_markers/build.done";

/// What makes two builds the same build: the recipe text, the inputs, the sample crawl's settings
/// and the task count (sha256 of them, with the quarry version).
fn build_identity(args: &Args) -> anyhow::Result<String> {
    use sha2::{Digest, Sha256};
    let recipe = match &args.recipe {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading recipe {}", p.display()))?
        }
        None => DEFAULT_RECIPE.to_string(),
    };
    let mut h = Sha256::new();
    for part in [
        env!("CARGO_PKG_VERSION").to_string(),
        recipe,
        args.input.join("\n"),
        format!(
            "sample_docs={} seed={} tasks={:?}",
            args.sample_docs, args.seed, args.tasks.tasks
        ),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    Ok(format!("build sha256:{}", hex::encode(h.finalize())))
}

fn run_local(args: Args) -> anyhow::Result<ExitCode> {
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
        let plan = super::dedup::PlanArgs::from_table(&t)?.plan()?;
        let out = args.out.join("dedup");
        eprintln!("== dedup → {}", out.display());
        let c = super::dedup::dedup(
            &[text_shards.display().to_string()],
            &out.display().to_string(),
            &plan,
        )?;
        code = worst(code, c);
        text_shards = out.join("shards");
    }
    let shards_arg = [text_shards.display().to_string()];
    let published = text_shards.parent().map(PathBuf::from).unwrap_or_default();
    let tok_path = match tokenizer {
        Some(t) => {
            let p = TokenizerParams::from_table(&t)?;
            match p.path {
                Some(path) => Some(path),
                None => {
                    let out = args.out.join("tokenizer.json");
                    eprintln!("== tokenizer → {}", out.display());
                    super::tokens::train_tokenizer(
                        &shards_arg,
                        p.vocab_size,
                        p.sample_bytes,
                        p.seed,
                        &out,
                    )?;
                    Some(out)
                }
            }
        }
        None => None,
    };
    let mut tokens_dir = None;
    if let (Some(t), Some(tok)) = (tokenize, &tok_path) {
        let p = TokenizeParams::from_table(&t)?;
        let format: ShardFormat = p.format.parse()?;
        let out = args.out.join("tokens");
        eprintln!("== tokenize → {}", out.display());
        super::tokens::tokenize(tok, &shards_arg, &out, format, p.shard_tokens, None)?;
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

/// Whether the recipe has a language_id stage without a model and none is set in the environment.
pub fn needs_lid_model(r: &Recipe) -> bool {
    std::env::var_os("QUARRY_LID_MODEL").is_none()
        && r.stages.iter().any(|s| {
            s.get("type").and_then(|t| t.as_str()) == Some("language_id")
                && !s.contains_key("model")
        })
}

/// A recipe's `[tokenizer]`: train one (`vocab_size`, `sample_bytes`, `seed`) or use `path`. Shared by
/// `quarry build` and `quarry launch`, so both read a recipe the same way.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizerParams {
    /// An existing tokenizer.json to use instead of training.
    pub path: Option<PathBuf>,
    /// Vocabulary size [50,304].
    pub vocab_size: usize,
    /// Byte budget of the training sample [1 GiB].
    pub sample_bytes: u64,
    /// Sample seed [0].
    pub seed: u64,
}

impl TokenizerParams {
    /// From the recipe table.
    pub fn from_table(t: &toml::Table) -> anyhow::Result<Self> {
        Ok(TokenizerParams {
            path: t.get("path").and_then(|v| v.as_str()).map(PathBuf::from),
            vocab_size: t
                .get("vocab_size")
                .and_then(|v| v.as_integer())
                .unwrap_or(50_304) as usize,
            sample_bytes: t
                .get("sample_bytes")
                .and_then(|v| v.as_integer())
                .unwrap_or(1 << 30) as u64,
            seed: t.get("seed").and_then(|v| v.as_integer()).unwrap_or(0) as u64,
        })
    }
}

/// A recipe's `[tokenize]`: `format` (megatron | olmo) and `shard_tokens`.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizeParams {
    /// Shard layout name.
    pub format: String,
    /// Most tokens per shard [2^30].
    pub shard_tokens: u64,
}

impl TokenizeParams {
    /// From the recipe table (the format name is checked).
    pub fn from_table(t: &toml::Table) -> anyhow::Result<Self> {
        let format = t
            .get("format")
            .and_then(|v| v.as_str())
            .unwrap_or("megatron")
            .to_string();
        let _: ShardFormat = format.parse()?;
        Ok(TokenizeParams {
            format,
            shard_tokens: t
                .get("shard_tokens")
                .and_then(|v| v.as_integer())
                .unwrap_or(1 << 30) as u64,
        })
    }
}

fn worst(a: ExitCode, b: ExitCode) -> ExitCode {
    if a == ExitCode::SUCCESS {
        b
    } else {
        a
    }
}
