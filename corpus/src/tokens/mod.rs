//! Tokenizer training and token shards: the step from text shards to what a trainer reads.
//!
//! - [`tokenizer`]: train a byte-level BPE `tokenizer.json` on a deterministic, byte-budgeted sample of
//!   documents, or load any existing `tokenizer.json`; encode documents to ids.
//! - [`megatron`]: Megatron-LM's indexed dataset (`.bin` + `.idx`, `MMIDIDX` version 1), writer and
//!   memory-mapped reader.
//! - [`olmo`]: the OLMo / dolma layout (headerless `.npy` token arrays + `.csv.gz` metadata rows), writer
//!   and memory-mapped reader.
//! - [`shards`]: the `quarry tokenize` orchestration: stream documents in bounded batches, encode them in
//!   parallel, append EOS, roll size-bounded shards, count tokens per source.
//!
//! Both on-disk formats are specified in `docs/tokens.md`.

mod fast;
pub mod megatron;
pub mod olmo;
pub mod shards;
pub mod tokenizer;

pub use megatron::{MegatronDataset, MegatronDtype, MegatronWriter};
pub use olmo::{OlmoDataset, OlmoDocMeta, OlmoDtype, OlmoWriter};
pub use shards::{
    tokenize_to_shards, ShardFormat, ShardStats, SourceTokens, TokenizeConfig, TokenizeStats,
};
pub use tokenizer::{
    save_tokenizer_dir, save_tokenizer_json, train_bpe, PreTokenPattern, TextTokenizer,
    TrainConfig, TrainReport, TrainingSample,
};

use std::path::{Path, PathBuf};

/// Errors of tokenizer training, encoding and token-shard reading/writing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokensError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The `tokenizers` library reported an error (loading, training, encoding, decoding).
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// A token-shard file is not what its format says it must be.
    #[error("{path}: bad {format} file: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// `megatron .idx`, `olmo .csv.gz`, ...
        format: &'static str,
        /// What was expected and what was found.
        message: String,
    },
    /// A configuration value is out of range.
    #[error("config: {0}")]
    Config(String),
}

/// Result type of this module.
pub type Result<T> = std::result::Result<T, TokensError>;

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TokensError + '_ {
    move |source| TokensError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The temporary name a file is written under before its atomic rename into place.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Write `bytes` to `path` atomically: a temp file in the same folder, fsync, then rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = tmp_path(path);
    let mut f = std::fs::File::create(&tmp).map_err(io_err(&tmp))?;
    f.write_all(bytes).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io_err(path))
}
