//! Errors of the dedup crate. Each names the file and what was expected.

use std::path::PathBuf;

use quarry_corpus::StepError;

/// Everything that can go wrong in a dedup stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DedupError {
    /// Invalid settings.
    #[error("dedup config: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An intermediate file is not what this stage expects (wrong magic, version, settings, truncated).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The input breaks an assumption (e.g. a document id repeated within a task).
    #[error("{0}")]
    Input(String),
}

impl DedupError {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DedupError::Io {
            path: path.into(),
            source,
        }
    }

    /// Converts into the corpus crate's step error, naming the step.
    pub fn into_step(self, step: &str) -> StepError {
        match self {
            DedupError::Io { path, source } => StepError::Io {
                step: step.to_string(),
                path,
                source,
            },
            DedupError::Config(message) => StepError::Config {
                step: step.to_string(),
                message,
            },
            other => StepError::Other {
                step: step.to_string(),
                message: other.to_string(),
            },
        }
    }
}
