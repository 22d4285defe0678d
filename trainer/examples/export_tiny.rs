//! Trains the tiny default model for a few steps on a synthetic token stream and
//! exports it for transformers, together with the logits of a fixed batch, so
//! `scripts/trainer/check_export.py` can check that transformers loads the export as
//! `OlmoeForCausalLM` and computes the same logits and loss.
//!
//! Usage: cargo run -p quarry-trainer --example export_tiny -- OUT_DIR

use std::collections::BTreeMap;
use std::path::PathBuf;

use quarry_trainer::export::{load_hf, save_f32};
use quarry_trainer::model::shift_targets;
use quarry_trainer::{train, Cpu, TrainConfig, VecSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: export_tiny OUT_DIR")?,
    );
    let docs = (0..100u32)
        .map(|d| {
            (0..(10 + d % 30))
                .map(|t| 2 + (d * 13 + t * 7) % 62)
                .collect()
        })
        .collect();
    let src = VecSource { docs };
    let cfg = TrainConfig {
        steps: 10,
        checkpoint_every: 0,
        ..TrainConfig::default()
    };
    let s = train(cfg.clone(), &src, &out)?;
    let hf_dir = s.hf_dir.ok_or("the tiny config is exportable")?;
    let mut model = load_hf::<f32>(cfg.model.clone(), &hf_dir)?;
    let (b, t) = (2, 16);
    let window: Vec<u32> = (0..(b * t + 1) as u32)
        .map(|i| 2 + (i * 5 + 1) % 62)
        .collect();
    let (x, y) = shift_targets(&window, b, t);
    let parts = model.forward(&Cpu, &x, &y, b, t)?;
    let tensors = vec![
        (
            "input_ids".to_string(),
            vec![b, t],
            x.iter().map(|&v| v as f32).collect(),
        ),
        (
            "targets".to_string(),
            vec![b, t],
            y.iter().map(|&v| v as f32).collect(),
        ),
        (
            "logits".to_string(),
            vec![b * t, cfg.model.vocab_size],
            model.logits().to_vec(),
        ),
    ];
    save_f32(&out.join("check.safetensors"), &tensors, BTreeMap::new())?;
    let js = serde_json::json!({"total": parts.total, "ce": parts.ce, "aux": parts.aux, "z": parts.z,
        "z_coef": cfg.model.router_z_loss_coef, "aux_coef": cfg.model.router_aux_loss_coef});
    std::fs::write(out.join("check.json"), serde_json::to_vec_pretty(&js)?)?;
    println!(
        "exported tiny OLMoE ({} params, {} steps) to {}",
        s.params,
        s.steps,
        hf_dir.display()
    );
    Ok(())
}
