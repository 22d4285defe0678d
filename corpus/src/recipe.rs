//! TOML recipes: inputs, stages, output, and how the run is split into tasks.
//!
//! ```toml
//! [input]
//! paths = ["crawl/*.warc.gz", "s3://bucket/prefix/*.warc.gz"]   # globs; local, https:// or s3://
//! # format = "warc"            # warc | jsonl | parquet; detected from the file name when absent
//! # crawl = "CC-MAIN-2024-22"  # crawl name for documents whose input names none
//!
//! [output]
//! path = "out"                 # shards go to out/shards/, manifests to out/_manifests/
//! format = "parquet"           # parquet | jsonl (dolma-style .jsonl.zst)
//! max_shard_bytes = 268435456
//!
//! [run]
//! tasks = 4                    # input files are split into this many independent tasks
//!
//! [[stages]]
//! type = "extract"
//!
//! [[stages]]
//! type = "language_id"
//! languages = ["en"]
//! ```
//!
//! Unknown keys are errors that name the key, so a typo never silently changes a run. Relative paths
//! are relative to the current directory.

use serde::{Deserialize, Serialize};

use crate::read::{Format, ReaderOptions};
use crate::write::OutputFormat;

/// A parsed recipe.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// A name for people; not used by the runtime.
    #[serde(default)]
    pub name: Option<String>,
    /// What to read.
    pub input: InputSection,
    /// Where to write.
    pub output: OutputSection,
    /// How to split the work.
    #[serde(default)]
    pub run: RunSection,
    /// The stages, in order; each table has a `type` and that stage's options.
    #[serde(default)]
    pub stages: Vec<toml::Table>,
    /// Whole-corpus steps that run after every task of the document pipeline is finished, in this
    /// order: `[dedup]`, `[tokenizer]`, `[tokenize]`, `[card]`. Each is interpreted by the command
    /// that runs the recipe (they need the crates above `corpus`); see README "Recipes".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<toml::Table>,
    /// Train or load a tokenizer (see `[dedup]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<toml::Table>,
    /// Write token shards (see `[dedup]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenize: Option<toml::Table>,
    /// Write the dataset card (see `[dedup]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<toml::Table>,
}

/// The `[input]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSection {
    /// Globs or URLs of input files.
    pub paths: Vec<String>,
    /// Force a format instead of detecting it.
    #[serde(default)]
    pub format: Option<Format>,
    /// JSONL/Parquet field holding the text (default `text`).
    #[serde(default)]
    pub text_key: Option<String>,
    /// WARC: also read `metadata` (WAT) records as documents.
    #[serde(default)]
    pub metadata_records: bool,
    /// WARC: largest record body read (bytes, default 64 MiB).
    #[serde(default)]
    pub max_record_bytes: Option<u64>,
    /// Crawl name for documents whose input does not name one.
    #[serde(default)]
    pub crawl: Option<String>,
}

impl InputSection {
    /// The reader options this table describes.
    pub fn reader_options(&self) -> ReaderOptions {
        let d = ReaderOptions::default();
        ReaderOptions {
            format: self.format,
            text_key: self.text_key.clone().unwrap_or(d.text_key),
            metadata_records: self.metadata_records,
            max_record_bytes: self.max_record_bytes.unwrap_or(d.max_record_bytes),
            crawl: self.crawl.clone(),
        }
    }
}

/// The `[output]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Output folder.
    pub path: String,
    /// Shard format.
    #[serde(default)]
    pub format: OutputFormat,
    /// Shards roll over past this size (bytes).
    #[serde(default = "default_shard_bytes")]
    pub max_shard_bytes: u64,
    /// Shard file name prefix.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Metadata keys whose values are counted over the written documents, into the manifest's
    /// `metadata_counts` (e.g. `["language", "license", "license_class"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub count_metadata: Vec<String>,
}

fn default_shard_bytes() -> u64 {
    256 << 20
}
fn default_prefix() -> String {
    "part".to_string()
}

/// The `[run]` table.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSection {
    /// Number of tasks the inputs are split into (overridden by `--tasks` or Slurm's array size).
    #[serde(default = "one")]
    pub tasks: usize,
    /// Documents processed together (in parallel) inside a task; bounds memory.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
}

impl Default for RunSection {
    fn default() -> Self {
        RunSection {
            tasks: 1,
            batch_size: default_batch(),
        }
    }
}

fn one() -> usize {
    1
}
fn default_batch() -> usize {
    256
}

/// A recipe that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("recipe: {0}")]
pub struct RecipeError(pub String);

impl Recipe {
    /// Parses and checks a recipe's TOML text (stage types are checked when the steps are built).
    pub fn parse(text: &str) -> Result<Recipe, RecipeError> {
        let r: Recipe = toml::from_str(text).map_err(|e| RecipeError(e.to_string()))?;
        if r.input.paths.is_empty() {
            return Err(RecipeError(
                "[input] paths is empty: name at least one file or glob".into(),
            ));
        }
        if r.run.tasks == 0 {
            return Err(RecipeError("[run] tasks must be at least 1".into()));
        }
        if r.run.batch_size == 0 {
            return Err(RecipeError("[run] batch_size must be at least 1".into()));
        }
        for (i, s) in r.stages.iter().enumerate() {
            match s.get("type") {
                Some(toml::Value::String(_)) => {}
                _ => {
                    return Err(RecipeError(format!(
                        "[[stages]] #{}: missing `type = \"...\"`",
                        i + 1
                    )))
                }
            }
        }
        Ok(r)
    }

    /// The recipe as TOML text (for recipes built in code, so the manifest records what ran).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_unknown_keys() {
        let r = Recipe::parse(
            r#"
[input]
paths = ["a/*.warc.gz"]
[output]
path = "out"
format = "jsonl"
[[stages]]
type = "extract"
min_chars = 3
"#,
        )
        .unwrap();
        assert_eq!(r.output.format, OutputFormat::Jsonl);
        assert_eq!(r.run.tasks, 1);
        assert_eq!(r.stages.len(), 1);
        let e = Recipe::parse("[input]\npaths=['x']\npath='y'\n[output]\npath='o'\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `path`"), "{e}");
        let e = Recipe::parse("[input]\npaths=['x']\n[output]\npath='o'\n[[stages]]\nmin=1\n")
            .unwrap_err();
        assert!(e.to_string().contains("missing `type"), "{e}");
        let back = Recipe::parse(&r.to_toml()).unwrap();
        assert_eq!(back.stages, r.stages);
    }
}
