//! Error types of the corpus crate. Each says what was expected, what was found, and where.

use std::path::PathBuf;

/// Errors from building or running a step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StepError {
    /// The recipe names a step type nobody registered.
    #[error("unknown stage type `{name}`; known types: {}", known.join(", "))]
    UnknownStep {
        /// The name in the recipe.
        name: String,
        /// The registered names.
        known: Vec<String>,
    },
    /// A step's recipe table is wrong.
    #[error("stage `{step}`: {message}")]
    Config {
        /// The step type.
        step: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// A step failed to read or write a file it needs (a model, a side output).
    #[error("stage `{step}`: {path}: {source}")]
    Io {
        /// The step type.
        step: String,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Anything else a step reports.
    #[error("stage `{step}`: {message}")]
    Other {
        /// The step type.
        step: String,
        /// What happened.
        message: String,
    },
}
