//! Stages: the [`Step`] trait that filters, taggers and extractors implement, and the
//! [`StepRegistry`] that turns recipe tables into steps.
//!
//! A step sees one document at a time and answers [`Verdict::Keep`] (possibly after rewriting the text
//! or adding metadata) or [`Verdict::Drop`] with a short reason. The runtime, not the step, counts the
//! verdicts, so "documents in = kept + dropped by reason" holds for every step by construction.
//!
//! Steps must be deterministic per document (the same document gives the same verdict and the same
//! rewrite whatever else is in the batch), because the runtime processes batches in parallel.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::document::Document;
use crate::error::StepError;

/// What a step decided for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Keep the document (the step may have changed it).
    Keep,
    /// Drop it; the reason becomes the counter `dropped_<reason>` (datatrove's reason strings where a
    /// filter mirrors a datatrove filter).
    Drop(Cow<'static, str>),
}

impl Verdict {
    /// A drop with a static reason.
    pub const fn drop(reason: &'static str) -> Verdict {
        Verdict::Drop(Cow::Borrowed(reason))
    }
    /// Whether this verdict keeps the document.
    pub fn is_keep(&self) -> bool {
        matches!(self, Verdict::Keep)
    }
}

/// What a step may know about the task it runs in.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// This task's index, `0..tasks`.
    pub task: usize,
    /// The number of tasks the run is split into.
    pub tasks: usize,
    /// The run's output folder (local path or URL), for steps that write side outputs.
    pub output: String,
    /// A local scratch folder for this task.
    pub scratch: PathBuf,
}

/// A side output that a step wrote when it finished (e.g. MinHash signatures), for the manifest.
#[derive(Debug, Clone)]
pub struct SideOutput {
    /// Where it was written.
    pub path: String,
    /// Records in it.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// sha256 of its bytes, lower-case hex.
    pub sha256: String,
}

/// A pipeline stage that looks at documents one at a time.
pub trait Step: Send + Sync {
    /// The step's name in stats and manifests: the recipe `type`, e.g. `gopher_quality`.
    fn name(&self) -> &str;

    /// Called once per task before any document.
    fn begin(&mut self, _ctx: &TaskContext) -> Result<(), StepError> {
        Ok(())
    }

    /// Looks at one document: keep it (possibly rewritten or annotated) or drop it with a reason.
    fn process(&self, doc: &mut Document) -> Verdict;

    /// Called once per task after the last document; returns side outputs it wrote.
    fn finish(&mut self, _ctx: &TaskContext) -> Result<Vec<SideOutput>, StepError> {
        Ok(Vec::new())
    }
}

/// Builds a step from its recipe table (the `[[stages]]` entry without its `type` key).
pub type StepFactory = fn(&toml::Table) -> Result<Box<dyn Step>, StepError>;

/// Maps recipe `type` names to step factories. Each crate registers its own steps; only the CLI knows
/// them all (ripgrep's layering), so `corpus` stays the bottom layer.
#[derive(Default, Clone)]
pub struct StepRegistry {
    factories: BTreeMap<&'static str, (StepFactory, &'static str)>,
}

impl StepRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a step type with a one-line description (shown by `quarry run --list-stages`).
    pub fn register(&mut self, type_name: &'static str, description: &'static str, f: StepFactory) {
        self.factories.insert(type_name, (f, description));
    }

    /// Builds the step named by `type_name` from its table.
    pub fn build(&self, type_name: &str, table: &toml::Table) -> Result<Box<dyn Step>, StepError> {
        match self.factories.get(type_name) {
            Some((f, _)) => f(table),
            None => Err(StepError::UnknownStep {
                name: type_name.to_string(),
                known: self.factories.keys().map(|s| s.to_string()).collect(),
            }),
        }
    }

    /// Registered step types and their descriptions, sorted by name.
    pub fn list(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.factories.iter().map(|(k, (_, d))| (*k, *d))
    }
}

/// Reads an optional typed key from a step's recipe table, naming the step and key in errors.
pub fn table_get<T: serde::de::DeserializeOwned>(
    step: &str,
    table: &toml::Table,
    key: &str,
) -> Result<Option<T>, StepError> {
    match table.get(key) {
        None => Ok(None),
        Some(v) => v
            .clone()
            .try_into()
            .map(Some)
            .map_err(|e: toml::de::Error| StepError::Config {
                step: step.to_string(),
                message: format!("key `{key}`: {e}"),
            }),
    }
}

/// Deserialises a step's whole recipe table into its config struct, rejecting unknown keys when the
/// struct says `#[serde(deny_unknown_fields)]`.
pub fn table_into<T: serde::de::DeserializeOwned>(
    step: &str,
    table: &toml::Table,
) -> Result<T, StepError> {
    toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| StepError::Config {
            step: step.to_string(),
            message: e.to_string(),
        })
}
