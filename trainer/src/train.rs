//! The training loop: `train(config, source, out_dir)`.
//!
//! Per step: `grad_accum` micro-batches of `micro_batch x seq_len` tokens, gradients
//! averaged, clipped to `grad_clip`, one AdamW update at the scheduled learning rate.
//! Writes `metrics.jsonl` (one JSON object per step or eval), checkpoints under
//! `checkpoints/`, the final model for transformers under `hf/`, the loss-curve plot
//! (`loss.svg`, `loss.png`) and the lineage manifest (`manifest.json`, see
//! [`crate::manifest`]); plot and manifest are refreshed at every checkpoint. With `resume`,
//! a run continues from `checkpoints/latest` and reproduces the uninterrupted loss
//! curve bit for bit.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::backend::Cpu;
use crate::checkpoint::{self, TrainState};
use crate::config::ModelConfig;
use crate::data::{unigram_entropy, Loader, Split, TokenSource};
use crate::export::{export_hf, write_atomic};
use crate::manifest::{RunInputs, RunManifest};
use crate::model::{shift_targets, Model};
use crate::optim::{clip_grad_norm, lr_at, AdamW, AdamWConfig};
use crate::Error;

/// The embedded default configuration (a tiny model), as TOML.
pub const TINY_TOML: &str = include_str!("../configs/tiny.toml");

/// Everything a training run needs besides data; deserialisable from TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Architecture.
    pub model: ModelConfig,
    /// Optimizer and schedule.
    pub optim: AdamWConfig,
    /// Tokens per sequence.
    pub seq_len: usize,
    /// Sequences per micro-batch.
    pub micro_batch: usize,
    /// Micro-batches per optimizer step.
    pub grad_accum: usize,
    /// Optimizer steps in the whole run (sets the schedule).
    pub steps: u64,
    /// Stop after this step in this invocation (pre-emption, time-boxed jobs); the
    /// schedule still follows `steps`.
    pub stop_at: Option<u64>,
    /// Seed for initialisation, split and shuffling.
    pub seed: u64,
    /// Evaluate every this many steps (0: only at the end).
    pub eval_every: u64,
    /// Eval windows per evaluation.
    pub eval_batches: usize,
    /// Fraction of documents held out for evaluation (0 disables eval).
    pub eval_fraction: f64,
    /// Checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
    /// Checkpoints to keep (0 keeps all).
    pub keep_checkpoints: usize,
    /// Continue from `out_dir/checkpoints/latest` when it exists.
    pub resume: bool,
}

impl Default for TrainConfig {
    /// The tiny configuration; identical to [`TINY_TOML`] (checked by a test).
    fn default() -> Self {
        TrainConfig {
            model: ModelConfig::default(),
            optim: AdamWConfig {
                lr: 3e-3,
                min_lr: 3e-4,
                warmup_steps: 4,
                ..AdamWConfig::default()
            },
            seq_len: 32,
            micro_batch: 4,
            grad_accum: 2,
            steps: 20,
            stop_at: None,
            seed: 1337,
            eval_every: 10,
            eval_batches: 2,
            eval_fraction: 0.05,
            checkpoint_every: 10,
            keep_checkpoints: 2,
            resume: true,
        }
    }
}

impl TrainConfig {
    /// Parses a TOML config; missing keys take the tiny defaults.
    pub fn from_toml(s: &str) -> Result<Self, Error> {
        toml::from_str(s).map_err(|e| Error::Config(e.to_string()))
    }

    /// Reads a TOML config file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let s = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("read {}", path.display()), e))?;
        Self::from_toml(&s)
    }

    fn validate(&self) -> Result<(), Error> {
        self.model.validate()?;
        if self.seq_len == 0 || self.micro_batch == 0 || self.grad_accum == 0 || self.steps == 0 {
            return Err(Error::Config(
                "seq_len, micro_batch, grad_accum and steps must be positive".into(),
            ));
        }
        if self.seq_len > self.model.max_position_embeddings {
            return Err(Error::Config(
                "seq_len exceeds model.max_position_embeddings".into(),
            ));
        }
        if !(0.0..1.0).contains(&self.eval_fraction) {
            return Err(Error::Config("eval_fraction must be in [0, 1)".into()));
        }
        Ok(())
    }

    /// The part of the config that must not change across a resume.
    fn identity(&self) -> String {
        let mut c = self.clone();
        c.stop_at = None;
        c.resume = false;
        toml::to_string(&c).unwrap_or_default()
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Optimizer steps completed (including those before a resume).
    pub steps: u64,
    /// Training tokens consumed.
    pub tokens: u64,
    /// Step this invocation resumed from, if it did.
    pub resumed_from: Option<u64>,
    /// Training loss of the last step run by this invocation (`None` if it ran none,
    /// e.g. resuming a finished run).
    pub final_loss: Option<f64>,
    /// Last held-out loss, if eval is enabled.
    pub final_eval_loss: Option<f64>,
    /// Mean throughput of this invocation.
    pub tokens_per_s: f64,
    /// Directory with the transformers-loadable model (`None` when the architecture has
    /// no transformers equivalent: shared experts).
    pub hf_dir: Option<PathBuf>,
    /// Parameter count.
    pub params: usize,
    /// Entropy (nats) of the data's unigram distribution, the bar the loss is read against.
    pub unigram_entropy: Option<f64>,
    /// The run manifest.
    pub manifest: PathBuf,
}

fn eval_loss(
    model: &mut Model<f32>,
    loader: &mut Loader<'_>,
    cfg: &TrainConfig,
) -> Result<f64, Error> {
    let (b, t) = (cfg.micro_batch, cfg.seq_len);
    let start = loader.pos();
    let mut sum = 0.0;
    for _ in 0..cfg.eval_batches.max(1) {
        let w = loader.next_window(b * t)?;
        let (x, y) = shift_targets(&w, b, t);
        sum += model.forward(&Cpu, &x, &y, b, t)?.ce;
    }
    // Every evaluation scores the same held-out windows.
    loader.seek(start);
    Ok(sum / cfg.eval_batches.max(1) as f64)
}

/// Keeps the metric lines of steps `<= step` (drops what a pre-empted run logged past
/// its last checkpoint).
fn truncate_metrics(path: &Path, step: u64) -> Result<(), Error> {
    if !path.exists() {
        return Ok(());
    }
    let s = std::fs::read_to_string(path)
        .map_err(|e| Error::io(format!("read {}", path.display()), e))?;
    let kept: String = s
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v["step"].as_u64())
                .is_some_and(|s| s <= step)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    write_atomic(path, kept.as_bytes())
}

/// The last training loss and eval loss logged in `metrics.jsonl` text.
fn last_losses(text: &str) -> (Option<f64>, Option<f64>) {
    let (mut train, mut eval) = (None, None);
    for v in text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    {
        train = v["loss"].as_f64().or(train);
        eval = v["eval_loss"].as_f64().or(eval);
    }
    (train, eval)
}

/// Trains a model on `source`, writing metrics, checkpoints, the plot, the manifest
/// (without named inputs) and the final HF export under `out_dir`.
pub fn train(
    config: TrainConfig,
    source: &dyn TokenSource,
    out_dir: &Path,
) -> Result<Summary, Error> {
    train_with(config, source, out_dir, &RunInputs::default())
}

/// [`train`], naming the tokenizer, shards and build in the manifest.
pub fn train_with(
    config: TrainConfig,
    source: &dyn TokenSource,
    out_dir: &Path,
    inputs: &RunInputs,
) -> Result<Summary, Error> {
    config.validate()?;
    let cfg = &config;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| Error::io(format!("create {}", out_dir.display()), e))?;
    let ckpt_root = out_dir.join("checkpoints");
    let metrics_path = out_dir.join("metrics.jsonl");
    let mut model = Model::<f32>::new(cfg.model.clone(), cfg.seed)?;
    let mut opt = AdamW::<f32>::new(&model.layout);
    let mut train_data = Loader::new(
        source,
        Split::Train,
        cfg.seed,
        cfg.eval_fraction,
        cfg.model.eos_token_id,
    )?;
    let mut eval_data = if cfg.eval_fraction > 0.0 {
        Some(Loader::new(
            source,
            Split::Eval,
            cfg.seed,
            cfg.eval_fraction,
            cfg.model.eos_token_id,
        )?)
    } else {
        None
    };
    let (mut step, mut tokens, mut resumed_from) = (0u64, 0u64, None);
    if cfg.resume {
        if let Some(dir) = checkpoint::latest(&ckpt_root)? {
            let st = checkpoint::load(&dir, &mut model, &mut opt)?;
            if st.config_toml != cfg.identity() {
                return Err(Error::Config(format!(
                    "{} was written with a different config",
                    dir.display()
                )));
            }
            train_data.seek(st.data);
            (step, tokens, resumed_from) = (st.step, st.tokens, Some(st.step));
            truncate_metrics(&metrics_path, step)?;
            tracing::info!(step, "resumed from {}", dir.display());
        }
    }
    if resumed_from.is_none() && metrics_path.exists() {
        std::fs::remove_file(&metrics_path).map_err(|e| Error::io("remove old metrics", e))?;
    }
    let entropy = unigram_entropy(source)?;
    let mut manifest = RunManifest::new(inputs, cfg.identity(), entropy);
    let (mut final_loss, mut final_eval) = (None, None);
    if resumed_from.is_some() {
        // Keep the history of checkpoints up to the resume point, and the losses the
        // (truncated) log ends with.
        if let Some(old) = RunManifest::read(out_dir)? {
            manifest.checkpoints = old.checkpoints;
            manifest.checkpoints.retain(|c| c.step <= step);
        }
        if metrics_path.exists() {
            let text = std::fs::read_to_string(&metrics_path)
                .map_err(|e| Error::io(format!("read {}", metrics_path.display()), e))?;
            (final_loss, final_eval) = last_losses(&text);
        }
        manifest.final_state.step = step;
        manifest.final_state.train_loss = final_loss;
        manifest.final_state.eval_loss = final_eval;
    }
    let mut metrics = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&metrics_path)
        .map_err(|e| Error::io(format!("open {}", metrics_path.display()), e))?;
    let mut log = |v: serde_json::Value| -> Result<(), Error> {
        writeln!(metrics, "{v}")
            .and_then(|_| metrics.flush())
            .map_err(|e| Error::io("write metrics", e))
    };
    let (b, t) = (cfg.micro_batch, cfg.seq_len);
    let end = cfg.stop_at.unwrap_or(cfg.steps).min(cfg.steps);
    let started = Instant::now();
    let tokens_at_start = tokens;
    let mut ran_loss = None;
    while step < end {
        let t0 = Instant::now();
        let lr = lr_at(&cfg.optim, step, cfg.steps);
        model.zero_grad();
        let (mut loss, mut ce, mut aux, mut z) = (0.0, 0.0, 0.0, 0.0);
        let mut load = vec![vec![0usize; cfg.model.num_experts]; cfg.model.num_hidden_layers];
        for _ in 0..cfg.grad_accum {
            let w = train_data.next_window(b * t)?;
            let (x, y) = shift_targets(&w, b, t);
            let parts = model.forward(&Cpu, &x, &y, b, t)?;
            model.backward(&Cpu, 1.0 / cfg.grad_accum as f64)?;
            let k = cfg.grad_accum as f64;
            (loss, ce, aux, z) = (
                loss + parts.total / k,
                ce + parts.ce / k,
                aux + parts.aux / k,
                z + parts.z / k,
            );
            for (acc, l) in load.iter_mut().zip(&parts.expert_load) {
                acc.iter_mut().zip(l).for_each(|(a, b)| *a += b);
            }
        }
        if !loss.is_finite() {
            return Err(Error::State(format!(
                "loss became {loss} at step {}",
                step + 1
            )));
        }
        let gnorm = clip_grad_norm(&mut model.grads, cfg.optim.grad_clip);
        {
            let Model { params, grads, .. } = &mut model;
            opt.update(&cfg.optim, params, grads, lr);
        }
        model.update_router_bias(&load);
        step += 1;
        let step_tokens = (b * t * cfg.grad_accum) as u64;
        tokens += step_tokens;
        final_loss = Some(loss);
        ran_loss = Some(loss);
        let assigned = (b * t * cfg.grad_accum * cfg.model.num_experts_per_tok) as f64;
        let load_frac: Vec<Vec<f64>> = load
            .iter()
            .map(|l| {
                l.iter()
                    .map(|&c| (c as f64 / assigned * 1e4).round() / 1e4)
                    .collect()
            })
            .collect();
        log(serde_json::json!({
            "step": step, "loss": loss, "ce": ce, "aux_loss": aux, "z_loss": z, "lr": lr,
            "grad_norm": gnorm, "tokens": tokens,
            "tokens_per_s": step_tokens as f64 / t0.elapsed().as_secs_f64().max(1e-9),
            "expert_load": load_frac,
        }))?;
        let last = step == end;
        if let Some(ev) = eval_data.as_mut() {
            if (cfg.eval_every > 0 && step % cfg.eval_every == 0) || last {
                let el = eval_loss(&mut model, ev, cfg)?;
                final_eval = Some(el);
                log(serde_json::json!({"step": step, "eval_loss": el}))?;
            }
        }
        if (cfg.checkpoint_every > 0 && step % cfg.checkpoint_every == 0) || last {
            let st = TrainState {
                step,
                tokens,
                data: train_data.pos(),
                config_toml: cfg.identity(),
            };
            let dir = checkpoint::save(&ckpt_root, &model, &opt, &st, cfg.keep_checkpoints)?;
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            manifest.add_checkpoint(out_dir, step, &format!("checkpoints/{name}"))?;
            manifest.final_state.step = step;
            manifest.final_state.train_loss = final_loss;
            manifest.final_state.eval_loss = final_eval;
            crate::plot::write_loss_plot(out_dir)?;
            manifest.write(out_dir)?;
        }
        tracing::info!(step, loss, lr, gnorm, "step");
    }
    let hf_dir = if crate::export::exportable(&cfg.model).is_ok() {
        let hf_dir = out_dir.join("hf");
        export_hf(&model, &hf_dir)?;
        if let Some(last) = checkpoint::latest(&ckpt_root)? {
            crate::export::write_lineage(&hf_dir, &last, step)?;
        }
        Some(hf_dir)
    } else {
        tracing::warn!("shared experts: no transformers export (checkpoints hold the weights)");
        None
    };
    crate::plot::write_loss_plot(out_dir)?;
    manifest.write(out_dir)?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    Ok(Summary {
        steps: step,
        tokens,
        resumed_from,
        final_loss: ran_loss,
        final_eval_loss: final_eval,
        tokens_per_s: (tokens - tokens_at_start) as f64 / secs,
        hf_dir,
        params: model.layout.total,
        unigram_entropy: entropy,
        manifest: out_dir.join("manifest.json"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::VecSource;
    use crate::rng::Rng;

    /// Documents from a small Markov chain, so there is structure to learn.
    fn corpus(docs: usize) -> VecSource {
        let mut r = Rng::new(77);
        VecSource {
            docs: (0..docs)
                .map(|_| {
                    let len = 5 + r.below(40) as usize;
                    let mut tok = 2 + r.below(62) as u32;
                    (0..len)
                        .map(|_| {
                            tok = if r.uniform() < 0.8 {
                                2 + (tok * 7 + 3) % 62
                            } else {
                                2 + r.below(62) as u32
                            };
                            tok
                        })
                        .collect()
                })
                .collect(),
        }
    }

    fn losses(dir: &Path) -> Vec<(u64, u64)> {
        std::fs::read_to_string(dir.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|v| v.get("loss").is_some())
            .map(|v| {
                (
                    v["step"].as_u64().unwrap(),
                    v["loss"].as_f64().unwrap().to_bits(),
                )
            })
            .collect()
    }

    fn small() -> TrainConfig {
        // Exercise the loss-free balancing bias too: resume must restore it.
        let model = ModelConfig {
            router_bias_update_rate: 1e-3,
            ..ModelConfig::default()
        };
        TrainConfig {
            model,
            steps: 6,
            checkpoint_every: 3,
            eval_every: 3,
            seq_len: 16,
            micro_batch: 2,
            ..TrainConfig::default()
        }
    }

    #[test]
    fn default_config_is_the_embedded_toml_and_unknown_keys_fail() {
        let c = TrainConfig::default();
        assert_eq!(TrainConfig::from_toml(TINY_TOML).unwrap(), c);
        assert_eq!(c.model.num_experts, 4);
        assert_eq!(TrainConfig::from_toml("steps = 3").unwrap().steps, 3);
        assert!(TrainConfig::from_toml("stepz = 3").is_err());
        assert!(
            TrainConfig::from_toml("[model]\nhidden_size = 30\nnum_attention_heads = 4").is_ok()
        );
    }

    #[test]
    fn loss_decreases_and_outputs_exist() {
        let src = corpus(200);
        let dir = tempfile::tempdir().unwrap();
        let cfg = TrainConfig {
            steps: 30,
            checkpoint_every: 0,
            eval_every: 10,
            ..TrainConfig::default()
        };
        let s = train(cfg, &src, dir.path()).unwrap();
        assert_eq!(s.steps, 30);
        let l = losses(dir.path());
        let first = f64::from_bits(l[0].1);
        assert!(
            (first - 64f64.ln()).abs() < 0.3,
            "initial loss {first} should be near ln(64)"
        );
        let last = s.final_loss.unwrap();
        assert!(last < first - 0.5, "loss did not fall: {first} -> {last}");
        assert!(s.final_eval_loss.unwrap() < first - 0.3);
        assert!(dir.path().join("hf/model.safetensors").exists());
        let ck = checkpoint::latest(&dir.path().join("checkpoints"))
            .unwrap()
            .unwrap();
        assert!(ck.ends_with("step_00000030"));
        let line: serde_json::Value = serde_json::from_str(
            std::fs::read_to_string(dir.path().join("metrics.jsonl"))
                .unwrap()
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        let load = line["expert_load"].as_array().unwrap();
        assert_eq!(load.len(), 2);
        let sum: f64 = load[0]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-3);
        // Plot and manifest: the manifest's digests are the files' digests.
        assert!(dir.path().join("loss.svg").exists() && dir.path().join("loss.png").exists());
        let m = RunManifest::read(dir.path()).unwrap().unwrap();
        assert_eq!(m.kind, crate::manifest::KIND);
        assert_eq!(m.final_state.step, 30);
        assert_eq!(m.final_state.train_loss, Some(last));
        assert_eq!(m.final_state.eval_loss, s.final_eval_loss);
        assert_eq!(m.final_state.unigram_entropy, s.unigram_entropy);
        assert!(s.unigram_entropy.unwrap() > 1.0);
        assert_eq!(m.checkpoints.len(), 1);
        let ck = dir.path().join(&m.checkpoints[0].path);
        let (digest, _) = crate::manifest::file_sha256(&ck.join("model.safetensors")).unwrap();
        assert_eq!(m.checkpoints[0].sha256, digest);
        let (hf, _) =
            crate::manifest::file_sha256(&dir.path().join("hf/model.safetensors")).unwrap();
        assert_eq!(hf, digest, "export and checkpoint weights differ");
        let q: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("hf/quarry.json")).unwrap())
                .unwrap();
        assert_eq!(q["checkpoint"]["sha256"], digest.as_str());
        let (metrics, _) = crate::manifest::file_sha256(&dir.path().join("metrics.jsonl")).unwrap();
        assert_eq!(m.metrics.sha256, metrics);
        assert_eq!(
            m.config,
            TrainConfig {
                steps: 30,
                checkpoint_every: 0,
                eval_every: 10,
                ..TrainConfig::default()
            }
            .identity()
        );
    }

    #[test]
    fn shared_experts_train_without_an_hf_export() {
        let src = corpus(40);
        let dir = tempfile::tempdir().unwrap();
        let cfg = TrainConfig {
            model: ModelConfig {
                num_shared_experts: 1,
                ..ModelConfig::default()
            },
            steps: 3,
            checkpoint_every: 0,
            ..TrainConfig::default()
        };
        let s = train(cfg, &src, dir.path()).unwrap();
        assert!(s.final_loss.unwrap().is_finite());
        assert!(s.hf_dir.is_none() && !dir.path().join("hf").exists());
        let m = RunManifest::read(dir.path()).unwrap().unwrap();
        assert_eq!(m.checkpoints.len(), 1);
        let t = crate::export::load_all(
            &dir.path()
                .join(&m.checkpoints[0].path)
                .join("model.safetensors"),
        )
        .unwrap();
        assert!(t.contains_key("model.layers.1.mlp.shared_experts.down_proj.weight"));
    }

    #[test]
    fn resume_reproduces_the_loss_curve_bit_for_bit() {
        let src = corpus(60);
        let a = tempfile::tempdir().unwrap();
        train(small(), &src, a.path()).unwrap();
        let b = tempfile::tempdir().unwrap();
        let first = train(
            TrainConfig {
                stop_at: Some(4),
                ..small()
            },
            &src,
            b.path(),
        )
        .unwrap();
        assert_eq!(first.steps, 4);
        // Simulate a crash after step 4 was logged but before its checkpoint: resume
        // must go back to step 3, drop the stale metric line, and redo step 4.
        let ck = b.path().join("checkpoints");
        assert!(ck.join("step_00000004").exists());
        std::fs::write(ck.join("latest"), "step_00000003").unwrap();
        let s = train(small(), &src, b.path()).unwrap();
        assert_eq!(s.resumed_from, Some(3));
        // The manifest's history is the uninterrupted run's: same checkpoints, digests and
        // end state (metrics bytes differ: they log wall-clock tokens/s).
        let (ma, mb) = (
            RunManifest::read(a.path()).unwrap().unwrap(),
            RunManifest::read(b.path()).unwrap().unwrap(),
        );
        assert_eq!(ma.checkpoints, mb.checkpoints);
        assert_eq!(ma.final_state, mb.final_state);
        assert_eq!(losses(a.path()), losses(b.path()));
        assert_eq!(losses(a.path()).len(), 6);
        let pa = std::fs::read(a.path().join("hf/model.safetensors")).unwrap();
        let pb = std::fs::read(b.path().join("hf/model.safetensors")).unwrap();
        assert!(pa == pb, "final weights differ after resume");
    }

    #[test]
    fn resume_refuses_a_changed_config() {
        let src = corpus(30);
        let d = tempfile::tempdir().unwrap();
        train(
            TrainConfig {
                stop_at: Some(3),
                ..small()
            },
            &src,
            d.path(),
        )
        .unwrap();
        let changed = TrainConfig {
            optim: AdamWConfig {
                lr: 1.0,
                ..small().optim
            },
            ..small()
        };
        let e = train(changed, &src, d.path()).unwrap_err();
        assert!(e.to_string().contains("different config"), "{e}");
    }
}
