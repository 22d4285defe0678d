//! Agreement with PyTorch + transformers (`OlmoeForCausalLM`), against the committed
//! golden state from `scripts/trainer/make_golden.py`: logits, loss terms, every
//! parameter gradient, and five AdamW steps with OLMo's parameter groups and clipping.

use std::path::PathBuf;

use crate::backend::Cpu;
use crate::config::ModelConfig;
use crate::export::{flat_from, load_all, Tensor};
use crate::model::Model;
use crate::ops::cross_entropy::IGNORE;
use crate::optim::{clip_grad_norm, AdamW, AdamWConfig};
use std::collections::BTreeMap;

const TOL: f64 = 1e-4;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

struct Golden {
    json: serde_json::Value,
    tensors: BTreeMap<String, Tensor>,
    cfg: ModelConfig,
    batch: usize,
    seq: usize,
}

fn golden() -> Golden {
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data_dir().join("golden.json")).expect("golden.json"),
    )
    .unwrap();
    let tensors = load_all(&data_dir().join("golden.safetensors")).expect("golden.safetensors");
    let mut cfg: ModelConfig = serde_json::from_value(json["config"].clone()).expect("config");
    cfg.router_z_loss_coef = json["router_z_loss_coef"].as_f64().unwrap();
    let (batch, seq) = (
        json["batch"].as_u64().unwrap() as usize,
        json["seq"].as_u64().unwrap() as usize,
    );
    Golden {
        json,
        tensors,
        cfg,
        batch,
        seq,
    }
}

/// transformers shifts `labels = input_ids` inside the loss; the last position has no target.
fn batch(g: &Golden, i: usize) -> (Vec<u32>, Vec<u32>) {
    let ids: Vec<u32> = g.tensors[&format!("input_ids.{i}")]
        .data
        .iter()
        .map(|&x| x as u32)
        .collect();
    let mut targets = vec![IGNORE; ids.len()];
    for b in 0..g.batch {
        for t in 0..g.seq - 1 {
            targets[b * g.seq + t] = ids[b * g.seq + t + 1];
        }
    }
    (ids, targets)
}

/// (max |a - b|, max |b|)
fn diff(a: &[f64], b: &[f64]) -> (f64, f64) {
    assert_eq!(a.len(), b.len());
    let d = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    (d, b.iter().map(|y| y.abs()).fold(0.0, f64::max))
}

fn close(name: &str, ours: f64, theirs: f64) {
    let rel = (ours - theirs).abs() / theirs.abs().max(1e-12);
    eprintln!("{name:>12}: ours {ours:.8} torch {theirs:.8} rel {rel:.2e}");
    assert!(rel < TOL, "{name}: {ours} vs {theirs}");
}

#[test]
fn forward_and_gradients_match_transformers() {
    let g = golden();
    let flat: Vec<f32> =
        flat_from(&crate::ParamLayout::olmoe(&g.cfg), &g.tensors, "param.").unwrap();
    let mut m = Model::<f32>::from_params(g.cfg.clone(), flat).unwrap();
    let (ids, targets) = batch(&g, 0);
    let parts = m.forward(&Cpu, &ids, &targets, g.batch, g.seq).unwrap();
    let l = &g.json["loss"];
    close("loss", parts.total, l["total"].as_f64().unwrap());
    close("ce", parts.ce, l["ce"].as_f64().unwrap());
    close("aux", parts.aux, l["aux"].as_f64().unwrap());
    close("z", parts.z, l["z"].as_f64().unwrap());
    let logits: Vec<f64> = m.logits().iter().map(|&x| x as f64).collect();
    let (d, mx) = diff(&logits, &g.tensors["logits"].data);
    eprintln!(
        "      logits: max abs diff {d:.2e}, max |logit| {mx:.3}, rel {:.2e}",
        d / mx
    );
    assert!(d <= TOL * mx);
    m.zero_grad();
    m.backward(&Cpu, 1.0).unwrap();
    eprintln!(
        "{:<52} {:>10} {:>10} {:>9}",
        "gradient", "max|diff|", "max|ref|", "rel"
    );
    let mut worst = 0.0f64;
    for e in &m.layout.entries {
        let ours: Vec<f64> = m.grads[e.range()].iter().map(|&x| x as f64).collect();
        let (d, mx) = diff(&ours, &g.tensors[&format!("grad.{}", e.name)].data);
        let rel = d / mx.max(1e-12);
        worst = worst.max(rel);
        eprintln!("{:<52} {d:>10.2e} {mx:>10.2e} {rel:>9.2e}", e.name);
        assert!(
            rel < TOL,
            "gradient of {} differs: {d} (scale {mx})",
            e.name
        );
    }
    eprintln!("worst per-tensor relative gradient difference: {worst:.2e}");
}

#[test]
fn adamw_steps_match_torch() {
    let g = golden();
    let layout = crate::ParamLayout::olmoe(&g.cfg);
    let flat: Vec<f32> = flat_from(&layout, &g.tensors, "param.").unwrap();
    let mut m = Model::<f32>::from_params(g.cfg.clone(), flat).unwrap();
    let o = &g.json["optimizer"];
    let oc = AdamWConfig {
        lr: o["lr"].as_f64().unwrap(),
        beta1: o["betas"][0].as_f64().unwrap(),
        beta2: o["betas"][1].as_f64().unwrap(),
        eps: o["eps"].as_f64().unwrap(),
        weight_decay: o["weight_decay"].as_f64().unwrap(),
        grad_clip: o["max_grad_norm"].as_f64().unwrap(),
        ..Default::default()
    };
    let mut opt = AdamW::<f32>::new(&layout);
    for (i, s) in g.json["steps"].as_array().unwrap().iter().enumerate() {
        let (ids, targets) = batch(&g, i);
        let parts = m.forward(&Cpu, &ids, &targets, g.batch, g.seq).unwrap();
        m.zero_grad();
        m.backward(&Cpu, 1.0).unwrap();
        let norm = clip_grad_norm(&mut m.grads, oc.grad_clip);
        close(
            &format!("step{i} loss"),
            parts.total,
            s["loss"].as_f64().unwrap(),
        );
        close(
            &format!("step{i} |g|"),
            norm,
            s["grad_norm"].as_f64().unwrap(),
        );
        let Model { params, grads, .. } = &mut m;
        opt.update(&oc, params, grads, oc.lr);
    }
    let fin: Vec<f64> = flat_from::<f64>(&layout, &g.tensors, "final.").unwrap();
    let ours: Vec<f64> = m.params.iter().map(|&x| x as f64).collect();
    let (d, mx) = diff(&ours, &fin);
    eprintln!(
        "final params after {} AdamW steps: max abs diff {d:.2e} (max |p| {mx:.3})",
        opt.step
    );
    assert!(d <= TOL * mx, "final parameters differ by {d}");
}
