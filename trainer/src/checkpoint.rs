//! Checkpoints: `model.safetensors` (HF names), `optimizer.safetensors` (AdamW moments
//! under `exp_avg.<name>` / `exp_avg_sq.<name>`), and `state.json` (step, data position
//! with its RNG, tokens seen, config). A checkpoint directory is built under a temporary
//! name and renamed into place, then `latest` is rewritten atomically, so a crash never
//! leaves a half-written checkpoint that resume would pick up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::LoaderPos;
use crate::export::{flat_from, load_all, named_f32, save_f32, write_atomic};
use crate::model::Model;
use crate::optim::AdamW;
use crate::Error;

/// Everything besides tensors needed to continue a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimizer steps completed.
    pub step: u64,
    /// Tokens consumed by training so far.
    pub tokens: u64,
    /// Training data position (includes the shuffle RNG).
    pub data: LoaderPos,
    /// The run's config as TOML, to refuse resuming under a different config.
    pub config_toml: String,
}

fn dir_name(step: u64) -> String {
    format!("step_{step:08}")
}

/// Writes a checkpoint under `root` and points `root/latest` at it; keeps the newest
/// `keep` checkpoints (0 keeps all).
pub fn save(
    root: &Path,
    model: &Model<f32>,
    opt: &AdamW<f32>,
    state: &TrainState,
    keep: usize,
) -> Result<PathBuf, Error> {
    let name = dir_name(state.step);
    let fin = root.join(&name);
    let tmp = root.join(format!(".{name}.tmp"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)
            .map_err(|e| Error::io(format!("remove {}", tmp.display()), e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(format!("create {}", tmp.display()), e))?;
    let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
    save_f32(
        &tmp.join("model.safetensors"),
        &named_f32(&model.layout, &model.params, ""),
        meta.clone(),
    )?;
    let mut moments = named_f32(&model.layout, &opt.m, "exp_avg.");
    moments.extend(named_f32(&model.layout, &opt.v, "exp_avg_sq."));
    let (layers, experts) = (model.cfg.num_hidden_layers, model.cfg.num_experts);
    moments.push((
        "router_bias".to_string(),
        vec![layers, experts],
        model.router_bias.clone(),
    ));
    let mut ometa = meta;
    ometa.insert("step".into(), opt.step.to_string());
    save_f32(&tmp.join("optimizer.safetensors"), &moments, ometa)?;
    let js = serde_json::to_vec_pretty(state).map_err(|e| Error::Format(e.to_string()))?;
    write_atomic(&tmp.join("state.json"), &js)?;
    if fin.exists() {
        std::fs::remove_dir_all(&fin)
            .map_err(|e| Error::io(format!("remove {}", fin.display()), e))?;
    }
    std::fs::rename(&tmp, &fin)
        .map_err(|e| Error::io(format!("rename to {}", fin.display()), e))?;
    write_atomic(&root.join("latest"), name.as_bytes())?;
    if keep > 0 {
        let mut all = list(root)?;
        all.sort();
        let n = all.len();
        for old in all.into_iter().take(n.saturating_sub(keep)) {
            std::fs::remove_dir_all(root.join(&old))
                .map_err(|e| Error::io(format!("remove {old}"), e))?;
        }
    }
    Ok(fin)
}

fn list(root: &Path) -> Result<Vec<String>, Error> {
    let rd =
        std::fs::read_dir(root).map_err(|e| Error::io(format!("list {}", root.display()), e))?;
    Ok(rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("step_") && !n.ends_with(".tmp"))
        .collect())
}

/// The checkpoint `root/latest` points to, if any.
pub fn latest(root: &Path) -> Result<Option<PathBuf>, Error> {
    let p = root.join("latest");
    if !p.exists() {
        return Ok(None);
    }
    let name =
        std::fs::read_to_string(&p).map_err(|e| Error::io(format!("read {}", p.display()), e))?;
    let dir = root.join(name.trim());
    if !dir.join("state.json").exists() {
        return Err(Error::Format(format!(
            "{} points to {}, which is not a complete checkpoint",
            p.display(),
            dir.display()
        )));
    }
    Ok(Some(dir))
}

/// Restores parameters and optimizer state in place; returns the saved [`TrainState`].
pub fn load(dir: &Path, model: &mut Model<f32>, opt: &mut AdamW<f32>) -> Result<TrainState, Error> {
    let sj = std::fs::read(dir.join("state.json"))
        .map_err(|e| Error::io(format!("read {}/state.json", dir.display()), e))?;
    let state: TrainState =
        serde_json::from_slice(&sj).map_err(|e| Error::Format(format!("state.json: {e}")))?;
    let t = load_all(&dir.join("model.safetensors"))?;
    model.params = flat_from(&model.layout, &t, "")?;
    let o = load_all(&dir.join("optimizer.safetensors"))?;
    opt.m = flat_from(&model.layout, &o, "exp_avg.")?;
    opt.v = flat_from(&model.layout, &o, "exp_avg_sq.")?;
    let bias = o
        .get("router_bias")
        .ok_or_else(|| Error::Format("optimizer.safetensors lacks router_bias".into()))?;
    if bias.data.len() != model.router_bias.len() {
        return Err(Error::Format(format!(
            "router_bias has {} values, expected {}",
            bias.data.len(),
            model.router_bias.len()
        )));
    }
    model.router_bias = bias.data.iter().map(|&x| x as f32).collect();
    opt.step = state.step;
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;
    use crate::rng::Rng;

    fn state(step: u64) -> TrainState {
        let data = LoaderPos {
            epoch: 1,
            doc: 2,
            offset: 3,
            epoch_rng: Rng::new(4),
        };
        TrainState {
            step,
            tokens: 10 * step,
            data,
            config_toml: "x = 1".into(),
        }
    }

    #[test]
    fn roundtrip_prune_and_ignore_partial_writes() {
        let root = tempfile::tempdir().unwrap();
        let cfg = ModelConfig {
            router_bias_update_rate: 1e-3,
            ..ModelConfig::default()
        };
        let mut m = Model::<f32>::new(cfg.clone(), 1).unwrap();
        m.router_bias[3] = 0.25;
        let mut opt = AdamW::<f32>::new(&m.layout);
        opt.m[5] = 1.5;
        opt.v[7] = 2.5;
        opt.step = 2;
        assert!(latest(root.path()).unwrap().is_none());
        save(root.path(), &m, &opt, &state(2), 2).unwrap();
        // A crash mid-save leaves only a hidden temp dir, which nothing picks up.
        std::fs::create_dir_all(root.path().join(".step_00000003.tmp")).unwrap();
        save(root.path(), &m, &opt, &state(4), 2).unwrap();
        save(root.path(), &m, &opt, &state(6), 2).unwrap();
        let mut names = list(root.path()).unwrap();
        names.sort();
        assert_eq!(names, vec!["step_00000004", "step_00000006"]);
        let dir = latest(root.path()).unwrap().unwrap();
        assert!(dir.ends_with("step_00000006"));
        let mut m2 = Model::<f32>::new(cfg, 99).unwrap();
        let mut opt2 = AdamW::<f32>::new(&m2.layout);
        let st = load(&dir, &mut m2, &mut opt2).unwrap();
        assert_eq!(st, state(6));
        assert_eq!(m2.params, m.params);
        assert_eq!(m2.router_bias, m.router_bias);
        assert_eq!((opt2.m[5], opt2.v[7], opt2.step), (1.5, 2.5, 6));
        // `latest` naming a directory without state.json is an error, not a silent fresh start.
        std::fs::write(root.path().join("latest"), "step_00000099").unwrap();
        assert!(latest(root.path())
            .unwrap_err()
            .to_string()
            .contains("not a complete checkpoint"));
    }
}
