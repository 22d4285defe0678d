//! Hugging Face export and import: `model.safetensors` (f32, checkpoint tensor names,
//! `{"format": "pt"}` metadata) plus `config.json`, loadable by transformers as
//! `OlmoeForCausalLM`. Files are written atomically (temp file + rename).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::config::ModelConfig;
use crate::float::Float;
use crate::model::Model;
use crate::params::ParamLayout;
use crate::Error;

/// A tensor read from a safetensors file, widened to f64 (ids stay exact below 2^53).
#[derive(Debug, Clone)]
pub struct Tensor {
    /// Shape.
    pub shape: Vec<usize>,
    /// Values.
    pub data: Vec<f64>,
}

/// Writes `bytes` to `path` atomically: temp file in the same directory, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)
        .map_err(|e| Error::io(format!("create {}", tmp.display()), e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(format!("write {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(format!("rename to {}", path.display()), e))
}

/// Serialises named f32 tensors (sorted by name, as safetensors does) with `metadata`.
pub fn save_f32(
    path: &Path,
    tensors: &[(String, Vec<usize>, Vec<f32>)],
    metadata: BTreeMap<String, String>,
) -> Result<(), Error> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(n, s, d)| {
            (
                n.clone(),
                d.iter().flat_map(|x| x.to_le_bytes()).collect(),
                s.clone(),
            )
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(n, b, s)| {
            TensorView::new(Dtype::F32, s.clone(), b)
                .map(|v| (n.clone(), v))
                .map_err(|e| Error::Format(format!("{n}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let meta: HashMap<String, String> = metadata.into_iter().collect();
    let out =
        safetensors::serialize(views, Some(meta)).map_err(|e| Error::Format(e.to_string()))?;
    write_atomic(path, &out)
}

/// Reads every tensor of a safetensors file (F32, F64, I64, I32 are accepted).
pub fn load_all(path: &Path) -> Result<BTreeMap<String, Tensor>, Error> {
    let buf = std::fs::read(path).map_err(|e| Error::io(format!("read {}", path.display()), e))?;
    let st = SafeTensors::deserialize(&buf)
        .map_err(|e| Error::Format(format!("{}: {e}", path.display())))?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let b = view.data();
        let data: Vec<f64> = match view.dtype() {
            Dtype::F32 => b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            Dtype::F64 => b
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            Dtype::I64 => b
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            Dtype::I32 => b
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
            other => {
                return Err(Error::Format(format!(
                    "{name}: unsupported dtype {other:?}"
                )))
            }
        };
        out.insert(
            name,
            Tensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok(out)
}

/// The flat buffer's tensors under their names, as f32.
pub fn named_f32<T: Float>(
    layout: &ParamLayout,
    flat: &[T],
    prefix: &str,
) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    layout
        .entries
        .iter()
        .map(|e| {
            (
                format!("{prefix}{}", e.name),
                e.shape.clone(),
                flat[e.range()].iter().map(|x| x.f64() as f32).collect(),
            )
        })
        .collect()
}

/// Fills a flat buffer from `tensors[prefix + name]`; every layout tensor must be present
/// with the right shape.
pub fn flat_from<T: Float>(
    layout: &ParamLayout,
    tensors: &BTreeMap<String, Tensor>,
    prefix: &str,
) -> Result<Vec<T>, Error> {
    let mut flat = vec![T::zero(); layout.total];
    for e in &layout.entries {
        let key = format!("{prefix}{}", e.name);
        let t = tensors
            .get(&key)
            .ok_or_else(|| Error::Format(format!("missing tensor {key}")))?;
        if t.shape != e.shape {
            return Err(Error::Format(format!(
                "{key}: shape {:?}, expected {:?}",
                t.shape, e.shape
            )));
        }
        for (d, &s) in flat[e.range()].iter_mut().zip(&t.data) {
            *d = T::of(s);
        }
    }
    Ok(flat)
}

/// Whether transformers' `OlmoeForCausalLM` can hold a model of this config: it has no
/// shared experts, so such a model is refused rather than exported without them.
pub fn exportable(cfg: &ModelConfig) -> Result<(), Error> {
    if cfg.num_shared_experts > 0 {
        return Err(Error::Config(format!(
            "the model has {} shared expert(s), which transformers' OlmoeForCausalLM cannot \
             load; its weights stay in the checkpoint (model.safetensors, \
             mlp.shared_experts.* tensors)",
            cfg.num_shared_experts
        )));
    }
    Ok(())
}

/// Writes `dir/model.safetensors` and `dir/config.json` for transformers; refuses a
/// model [`exportable`] rejects.
pub fn export_hf<T: Float>(model: &Model<T>, dir: &Path) -> Result<(), Error> {
    exportable(&model.cfg)?;
    let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
    save_f32(
        &dir.join("model.safetensors"),
        &named_f32(&model.layout, &model.params, ""),
        meta,
    )?;
    let cfg = serde_json::to_vec_pretty(&model.cfg.to_hf_json())
        .map_err(|e| Error::Format(e.to_string()))?;
    write_atomic(&dir.join("config.json"), &cfg)
}

/// Writes `dir/quarry.json`, joining an exported model folder to the run it came from:
/// `{"kind": "quarry-export/1", "checkpoint": {"path", "step", "sha256"}, "model_sha256"}`,
/// where `checkpoint.sha256` is the digest of the checkpoint's `model.safetensors` (the
/// digest the run manifest lists) and `model_sha256` that of `dir/model.safetensors`
/// (equal to it: export rewrites the same tensors with the same metadata).
pub fn write_lineage(dir: &Path, checkpoint: &Path, step: u64) -> Result<(), Error> {
    let (ck, _) = crate::manifest::file_sha256(&checkpoint.join("model.safetensors"))?;
    let (own, _) = crate::manifest::file_sha256(&dir.join("model.safetensors"))?;
    let v = serde_json::json!({
        "kind": "quarry-export/1",
        "checkpoint": {"path": checkpoint.display().to_string(), "step": step, "sha256": ck},
        "model_sha256": own,
    });
    let mut js = serde_json::to_vec_pretty(&v).map_err(|e| Error::Format(e.to_string()))?;
    js.push(b'\n');
    write_atomic(&dir.join("quarry.json"), &js)
}

/// Loads parameters written by [`export_hf`] (or transformers' `save_pretrained` with
/// the per-expert checkpoint names) for a known config.
pub fn load_hf<T: Float>(cfg: ModelConfig, dir: &Path) -> Result<Model<T>, Error> {
    let tensors = load_all(&dir.join("model.safetensors"))?;
    let layout = ParamLayout::olmoe(&cfg);
    let flat = flat_from(&layout, &tensors, "")?;
    Model::from_params(cfg, flat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_roundtrip_and_pt_metadata() {
        let cfg = ModelConfig::default();
        let m = Model::<f32>::new(cfg.clone(), 9).unwrap();
        let dir = tempfile::tempdir().unwrap();
        export_hf(&m, dir.path()).unwrap();
        let back = load_hf::<f32>(cfg, dir.path()).unwrap();
        assert_eq!(back.params, m.params);
        let buf = std::fs::read(dir.path().join("model.safetensors")).unwrap();
        let (_, meta) = SafeTensors::read_metadata(&buf).unwrap();
        assert_eq!(
            meta.metadata()
                .as_ref()
                .unwrap()
                .get("format")
                .map(String::as_str),
            Some("pt")
        );
        let cj: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap())
                .unwrap();
        assert_eq!(cj["architectures"][0], "OlmoeForCausalLM");
        assert_eq!(cj["num_experts"], 4);
    }

    #[test]
    fn shared_experts_are_refused_with_a_clear_error() {
        let cfg = ModelConfig {
            num_shared_experts: 1,
            ..ModelConfig::default()
        };
        let m = Model::<f32>::new(cfg, 9).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let e = export_hf(&m, dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("shared expert") && e.contains("OlmoeForCausalLM"),
            "{e}"
        );
        assert!(!dir.path().join("model.safetensors").exists());
    }

    #[test]
    fn missing_or_misshaped_tensors_are_errors() {
        let cfg = ModelConfig::default();
        let layout = ParamLayout::olmoe(&cfg);
        let mut t = BTreeMap::new();
        assert!(flat_from::<f32>(&layout, &t, "")
            .unwrap_err()
            .to_string()
            .contains("missing tensor"));
        for e in &layout.entries {
            t.insert(
                e.name.clone(),
                Tensor {
                    shape: e.shape.clone(),
                    data: vec![0.0; e.len()],
                },
            );
        }
        t.get_mut("lm_head.weight").unwrap().shape = vec![1, 2];
        assert!(flat_from::<f32>(&layout, &t, "")
            .unwrap_err()
            .to_string()
            .contains("lm_head"));
    }
}
