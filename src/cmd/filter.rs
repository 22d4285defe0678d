//! `quarry filter`: run filters over text shards, dropping (default) or annotating (`--annotate`).

use std::process::ExitCode;

use quarry_corpus::recipe::{InputSection, OutputSection, Recipe, RunSection};
use quarry_corpus::write::OutputFormat;
use quarry_corpus::Pipeline;

use super::run::TaskArgs;

/// Filters that take the shared `semantics` key.
const HEURISTIC: [&str; 4] = [
    "gopher_repetition",
    "gopher_quality",
    "c4_quality",
    "fineweb_quality",
];
/// Filters that take the shared `annotate` key.
const ANNOTATABLE: [&str; 7] = [
    "gopher_repetition",
    "gopher_quality",
    "c4_quality",
    "fineweb_quality",
    "language_id",
    "url_filter",
    "license",
];

/// Flags of `quarry filter`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Text shards or other inputs (Parquet, JSONL, WARC; files, globs or folders).
    #[arg(long, short, required = true, num_args = 1..)]
    pub input: Vec<String>,
    /// Output folder (shards + manifest).
    #[arg(long, short)]
    pub out: String,
    /// Comma-separated stage types in order, e.g. `language_id,gopher_repetition,gopher_quality`.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "gopher_repetition,gopher_quality,c4_quality,fineweb_quality"
    )]
    pub filters: Vec<String>,
    /// Rule set of the heuristic filters: `datatrove-0.10` or `fineweb-2024`.
    #[arg(long)]
    pub semantics: Option<String>,
    /// Keep every document and record each filter's verdict and reason as metadata
    /// (`<filter>_keep`, `<filter>_reason`), so thresholds can change later without re-running.
    #[arg(long)]
    pub annotate: bool,
    /// Languages for `language_id` (comma-separated; default: keep all, label only).
    #[arg(long, value_delimiter = ',')]
    pub languages: Vec<String>,
    /// fastText model for `language_id` [default: $QUARRY_LID_MODEL or the cache].
    #[arg(long)]
    pub lid_model: Option<String>,
    /// Shard format.
    #[arg(long, default_value = "parquet")]
    pub format: String,
    #[command(flatten)]
    pub tasks: TaskArgs,
}

/// Builds the recipe from the flags and runs it.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut stages = Vec::new();
    for name in &args.filters {
        let name = name.trim();
        let mut t = toml::Table::new();
        t.insert("type".into(), name.into());
        if let Some(s) = &args.semantics {
            if HEURISTIC.contains(&name) {
                t.insert("semantics".into(), s.clone().into());
            }
        }
        if args.annotate && ANNOTATABLE.contains(&name) {
            t.insert("annotate".into(), true.into());
        }
        if name == "language_id" {
            if !args.languages.is_empty() {
                t.insert(
                    "languages".into(),
                    toml::Value::Array(args.languages.iter().map(|l| l.clone().into()).collect()),
                );
            }
            match &args.lid_model {
                Some(m) => {
                    t.insert("model".into(), m.clone().into());
                }
                None if std::env::var_os("QUARRY_LID_MODEL").is_none() => {
                    t.insert(
                        "model".into(),
                        super::models::ensure_lid_model()?
                            .display()
                            .to_string()
                            .into(),
                    );
                }
                None => {}
            }
        }
        stages.push(t);
    }
    let format = match args.format.as_str() {
        "parquet" => OutputFormat::Parquet,
        "jsonl" => OutputFormat::Jsonl,
        "null" => OutputFormat::Null,
        other => anyhow::bail!("--format {other}: want parquet, jsonl or null"),
    };
    let recipe = Recipe {
        name: Some("quarry filter".into()),
        input: InputSection {
            paths: args.input.clone(),
            format: None,
            text_key: None,
            metadata_records: false,
            max_record_bytes: None,
            crawl: None,
        },
        output: OutputSection {
            path: args.out.clone(),
            format,
            max_shard_bytes: 256 << 20,
            prefix: "part".into(),
            count_metadata: Vec::new(),
        },
        run: RunSection::default(),
        stages,
        dedup: None,
        tokenizer: None,
        tokenize: None,
        card: None,
    };
    let pipeline = Pipeline::from_recipe(recipe, super::registry(), super::build_info())?;
    super::run_pipeline(&pipeline, &args.tasks.options()?)
}
