//! Errors of card generation and lineage verification; each names the file it is about.

use std::path::{Path, PathBuf};

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not what it should be (bad JSON, not Parquet, unknown manifest format...).
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was expected and found.
        message: String,
    },
    /// A file's bytes differ from what its manifest recorded, or counts disagree: the card would
    /// describe data that is not there, so none is written.
    #[error("{path}: {message}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The disagreement.
        message: String,
    },
    /// Drawing a plot failed.
    #[error("plot {name}: {message}")]
    Plot {
        /// The plot.
        name: String,
        /// The cause.
        message: String,
    },
}

impl CardError {
    /// An I/O error about `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        CardError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    /// A format error about `path`.
    pub fn format(path: &Path, message: impl Into<String>) -> Self {
        CardError::Format {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, CardError>;
