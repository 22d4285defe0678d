//! quarry-trainer: a CPU reference trainer for OLMoE-style Mixture-of-Experts models.
//!
//! Written llm.c style, without an autodiff framework: each op in [`ops`] has its
//! forward and backward side by side; the model ([`model::Model`]) keeps all parameters
//! in one flat buffer addressed by Hugging Face names ([`params::ParamLayout`]); the
//! ops run behind the [`backend::Backend`] trait so a CUDA backend can slot in later.
//! Everything is generic over [`float::Float`] so gradients are checked in f64.
#![warn(missing_docs)]

pub mod backend;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod export;
pub mod float;
pub mod manifest;
pub mod megatron;
pub mod model;
pub mod ops;
pub mod optim;
pub mod params;
pub mod plot;
pub mod rng;
pub mod train;

#[cfg(test)]
mod golden;

pub use backend::{Backend, Cpu};
pub use config::ModelConfig;
pub use data::{TokenSource, VecSource};
pub use float::Float;
pub use manifest::{RunInputs, RunManifest};
pub use megatron::MegatronSource;
pub use model::{LossParts, Model};
pub use params::ParamLayout;
pub use train::{train, train_with, Summary, TrainConfig};

/// Errors of the trainer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Invalid configuration.
    #[error("invalid config: {0}")]
    Config(String),
    /// Tensor shapes or ids that do not fit the model.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// Calls in the wrong order.
    #[error("invalid state: {0}")]
    State(String),
    /// Reading or writing files.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Malformed checkpoint, safetensors or JSON/TOML.
    #[error("format error: {0}")]
    Format(String),
    /// The token source failed.
    #[error("data: {0}")]
    Data(String),
}

impl Error {
    /// Wraps an I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
