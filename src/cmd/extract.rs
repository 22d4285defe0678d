//! `quarry extract --input WARC... --out DIR`: WARC → text shards, with nothing else in between.

use std::process::ExitCode;

use quarry_corpus::recipe::{InputSection, OutputSection, Recipe, RunSection};
use quarry_corpus::write::OutputFormat;
use quarry_corpus::Pipeline;

use super::run::TaskArgs;

/// Flags of `quarry extract`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Input WARC files or globs (local paths, https:// or s3:// URLs).
    #[arg(long, short, required = true, num_args = 1.., value_name = "WARC")]
    pub input: Vec<String>,
    /// Output folder (shards in OUT/shards, manifest in OUT/manifest.json).
    #[arg(long, short, value_name = "DIR")]
    pub out: String,
    /// Shard format.
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: FormatArg,
    /// Roll over to a new shard past this many bytes.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES")]
    pub max_shard_bytes: u64,
    /// Drop documents with fewer characters of text than this after extraction.
    #[arg(long, value_name = "N")]
    pub min_chars: Option<u64>,
    /// Main-content extractor: `quarry` (own single-pass extractor) or `trafilatura` (the port).
    /// Default: the `extract` step's default (see docs/html.md).
    #[arg(long, value_name = "NAME")]
    pub extractor: Option<quarry_corpus::html::Extractor>,
    /// Crawl name for documents whose WARC names none.
    #[arg(long)]
    pub crawl: Option<String>,
    #[command(flatten)]
    pub tasks: TaskArgs,
}

/// `--format` values.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum FormatArg {
    /// Parquet, zstd.
    Parquet,
    /// dolma-style JSONL, zstd.
    Jsonl,
    /// Count only, write no shards (benchmarks).
    Null,
}

/// Builds the one-stage recipe and runs it.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut extract = toml::Table::new();
    extract.insert("type".into(), "extract".into());
    if let Some(e) = args.extractor {
        extract.insert("extractor".into(), e.as_str().into());
    }
    if let Some(n) = args.min_chars {
        extract.insert("min_text_chars".into(), toml::Value::Integer(n as i64));
    }
    let recipe = Recipe {
        name: Some("quarry extract".into()),
        input: InputSection {
            paths: args.input.clone(),
            format: None,
            text_key: None,
            metadata_records: false,
            max_record_bytes: None,
            crawl: args.crawl.clone(),
        },
        output: OutputSection {
            path: args.out.clone(),
            format: match args.format {
                FormatArg::Parquet => OutputFormat::Parquet,
                FormatArg::Jsonl => OutputFormat::Jsonl,
                FormatArg::Null => OutputFormat::Null,
            },
            max_shard_bytes: args.max_shard_bytes,
            prefix: "part".into(),
            count_metadata: Vec::new(),
        },
        run: RunSection::default(),
        stages: vec![extract],
        dedup: None,
        tokenizer: None,
        tokenize: None,
        card: None,
    };
    let pipeline = Pipeline::from_recipe(recipe, super::registry(), super::build_info())?;
    super::run_pipeline(&pipeline, &args.tasks.options()?)
}
