//! The run manifest, `<out>/manifest.json`: what a training run read and wrote, by
//! digest, so the weights join the corpus lineage (`quarry card --train DIR` reads it).
//!
//! Shape (`kind = "quarry-train/1"`):
//! `{kind, quarry_version, git_commit, config (TOML text), config_sha256,
//!   tokenizer: {path, sha256} | null, shards: [{path, sha256, bytes}],
//!   checkpoints: [{step, path, sha256}], metrics: {path, sha256},
//!   final: {step, train_loss, eval_loss, unigram_entropy}}`.
//!
//! A checkpoint's `sha256` is the digest of its `model.safetensors` (the weights; the
//! optimizer state and `state.json` are not part of it). That file is byte-identical to
//! the `model.safetensors` of a `quarry export` of the checkpoint, and the export
//! records the same digest in its `quarry.json`, so weights found anywhere can be traced
//! back to the run. Checkpoints pruned by `keep_checkpoints` stay listed: the manifest is
//! the run's history. Paths of run outputs are relative to the run folder; tokenizer
//! and shard paths are as given. The manifest is rewritten atomically at every
//! checkpoint and at the end.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::export::write_atomic;
use crate::Error;

/// The manifest's `kind`.
pub const KIND: &str = "quarry-train/1";

/// A file named by path and digest (the tokenizer, the metrics log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRef {
    /// Path.
    pub path: String,
    /// sha256 of the file's bytes, hex.
    pub sha256: String,
}

/// A token shard file (`.bin` or `.idx`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRef {
    /// Path, as given.
    pub path: String,
    /// sha256 of the file's bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// A checkpoint written by the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointRef {
    /// Optimizer step.
    pub step: u64,
    /// Folder, relative to the run folder.
    pub path: String,
    /// sha256 of the checkpoint's `model.safetensors`.
    pub sha256: String,
}

/// Where the run stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FinalState {
    /// Optimizer steps completed.
    pub step: u64,
    /// Training loss of the last step.
    pub train_loss: Option<f64>,
    /// Last held-out loss.
    pub eval_loss: Option<f64>,
    /// Entropy (nats) of the data's unigram distribution: the loss of a model that only
    /// knows token frequencies.
    pub unigram_entropy: Option<f64>,
}

/// `<out>/manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// Always [`KIND`].
    pub kind: String,
    /// Version of quarry that ran.
    pub quarry_version: String,
    /// Git commit quarry was built from.
    pub git_commit: String,
    /// The effective training config (after command-line overrides), as TOML.
    pub config: String,
    /// sha256 of `config`'s UTF-8 bytes.
    pub config_sha256: String,
    /// The tokenizer the shards were made with, if known.
    pub tokenizer: Option<FileRef>,
    /// Token shard files read.
    pub shards: Vec<ShardRef>,
    /// Checkpoints written, oldest first.
    pub checkpoints: Vec<CheckpointRef>,
    /// The metrics log.
    pub metrics: FileRef,
    /// Last state.
    #[serde(rename = "final")]
    pub final_state: FinalState,
}

/// What the caller knows about a run's inputs and build (the trainer itself only sees a
/// token source).
#[derive(Debug, Clone, PartialEq)]
pub struct RunInputs {
    /// quarry's version.
    pub quarry_version: String,
    /// quarry's git commit.
    pub git_commit: String,
    /// The tokenizer file.
    pub tokenizer: Option<FileRef>,
    /// The token shard files.
    pub shards: Vec<ShardRef>,
}

impl Default for RunInputs {
    /// No named inputs (in-memory sources); this crate's version, commit unknown.
    fn default() -> Self {
        RunInputs {
            quarry_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: "unknown".to_string(),
            tokenizer: None,
            shards: Vec::new(),
        }
    }
}

impl RunInputs {
    /// Hashes the tokenizer and shard files (`.bin` and `.idx` of each Megatron prefix).
    pub fn describe(
        quarry_version: &str,
        git_commit: &str,
        tokenizer: Option<&Path>,
        shard_prefixes: &[PathBuf],
    ) -> Result<Self, Error> {
        let tokenizer = tokenizer
            .map(|p| {
                file_sha256(p).map(|(sha256, _)| FileRef {
                    path: p.display().to_string(),
                    sha256,
                })
            })
            .transpose()?;
        let mut shards = Vec::new();
        for prefix in shard_prefixes {
            for ext in ["bin", "idx"] {
                let p = PathBuf::from(format!("{}.{ext}", prefix.display()));
                let (sha256, bytes) = file_sha256(&p)?;
                shards.push(ShardRef {
                    path: p.display().to_string(),
                    sha256,
                    bytes,
                });
            }
        }
        Ok(RunInputs {
            quarry_version: quarry_version.to_string(),
            git_commit: git_commit.to_string(),
            tokenizer,
            shards,
        })
    }
}

/// sha256 (hex) and size of a file.
pub fn file_sha256(path: &Path) -> Result<(String, u64), Error> {
    quarry_corpus::storage::sha256_file(path)
        .map_err(|e| Error::io(format!("hash {}", path.display()), e))
}

/// sha256 (hex) of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl RunManifest {
    /// A manifest for a run that has written nothing yet.
    pub fn new(inputs: &RunInputs, config_toml: String, unigram_entropy: Option<f64>) -> Self {
        RunManifest {
            kind: KIND.to_string(),
            quarry_version: inputs.quarry_version.clone(),
            git_commit: inputs.git_commit.clone(),
            config_sha256: sha256_hex(config_toml.as_bytes()),
            config: config_toml,
            tokenizer: inputs.tokenizer.clone(),
            shards: inputs.shards.clone(),
            checkpoints: Vec::new(),
            metrics: FileRef {
                path: "metrics.jsonl".to_string(),
                sha256: String::new(),
            },
            final_state: FinalState {
                step: 0,
                train_loss: None,
                eval_loss: None,
                unigram_entropy,
            },
        }
    }

    /// Reads `<run>/manifest.json` if it exists.
    pub fn read(run: &Path) -> Result<Option<Self>, Error> {
        let p = run.join("manifest.json");
        if !p.exists() {
            return Ok(None);
        }
        let b = std::fs::read(&p).map_err(|e| Error::io(format!("read {}", p.display()), e))?;
        serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Error::Format(format!("{}: {e}", p.display())))
    }

    /// Records a checkpoint folder (`<run>/<rel>`), hashing its weights; replaces an
    /// earlier entry for the same step (a resumed run rewriting it).
    pub fn add_checkpoint(&mut self, run: &Path, step: u64, rel: &str) -> Result<(), Error> {
        let (sha256, _) = file_sha256(&run.join(rel).join("model.safetensors"))?;
        self.checkpoints.retain(|c| c.step < step);
        self.checkpoints.push(CheckpointRef {
            step,
            path: rel.to_string(),
            sha256,
        });
        Ok(())
    }

    /// Re-hashes the metrics log and writes `<run>/manifest.json` atomically.
    pub fn write(&mut self, run: &Path) -> Result<(), Error> {
        let mp = run.join(&self.metrics.path);
        if mp.exists() {
            self.metrics.sha256 = file_sha256(&mp)?.0;
        }
        let mut js = serde_json::to_vec_pretty(self).map_err(|e| Error::Format(e.to_string()))?;
        js.push(b'\n');
        write_atomic(&run.join("manifest.json"), &js)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_is_exactly_the_documented_one() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path();
        std::fs::write(run.join("tok.json"), b"{}").unwrap();
        std::fs::write(run.join("s.bin"), b"abc").unwrap();
        std::fs::write(run.join("s.idx"), b"de").unwrap();
        let inputs = RunInputs::describe(
            "1.2.3",
            "deadbeef",
            Some(&run.join("tok.json")),
            &[run.join("s")],
        )
        .unwrap();
        assert_eq!(inputs.shards.len(), 2);
        assert_eq!(inputs.shards[0].bytes, 3);
        assert_eq!(
            inputs.shards[0].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let mut m = RunManifest::new(&inputs, "steps = 3\n".into(), Some(2.5));
        std::fs::create_dir_all(run.join("checkpoints/step_00000001")).unwrap();
        std::fs::write(
            run.join("checkpoints/step_00000001/model.safetensors"),
            b"w",
        )
        .unwrap();
        m.add_checkpoint(run, 1, "checkpoints/step_00000001")
            .unwrap();
        std::fs::write(run.join("metrics.jsonl"), b"{\"step\":1}\n").unwrap();
        m.write(run).unwrap();
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.join("manifest.json")).unwrap()).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        let mut want = vec![
            "kind",
            "quarry_version",
            "git_commit",
            "config",
            "config_sha256",
            "tokenizer",
            "shards",
            "checkpoints",
            "metrics",
            "final",
        ];
        want.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, want);
        assert_eq!(v["kind"], KIND);
        assert_eq!(v["config_sha256"], sha256_hex(b"steps = 3\n"));
        assert_eq!(v["tokenizer"]["sha256"], sha256_hex(b"{}"));
        assert_eq!(v["checkpoints"][0]["sha256"], sha256_hex(b"w"));
        assert_eq!(v["metrics"]["sha256"], sha256_hex(b"{\"step\":1}\n"));
        assert_eq!(v["final"]["unigram_entropy"], 2.5);
        assert_eq!(RunManifest::read(run).unwrap().unwrap(), m);
        // A missing shard file is an error, not a manifest with a hole in it.
        assert!(RunInputs::describe("1", "x", None, &[run.join("nope")]).is_err());
    }
}
