//! AdamW with OLMo's parameter groups, global-norm gradient clipping, and the learning-rate
//! schedules: warmup + cosine, and warmup-stable-decay (WSD).
//!
//! The update follows `torch.optim.AdamW` (single-tensor path) operation for
//! operation, so a few steps agree with PyTorch to float rounding (golden test).

use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use crate::float::Float;
use crate::params::{ParamKind, ParamLayout};

/// Optimizer hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamWConfig {
    /// Peak learning rate.
    pub lr: f64,
    /// Final learning rate of the cosine decay.
    pub min_lr: f64,
    /// Linear warmup steps.
    pub warmup_steps: u64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Denominator epsilon.
    pub eps: f64,
    /// Decoupled weight decay (matrices only; none on norms and embeddings).
    pub weight_decay: f64,
    /// Global gradient-norm clip (0 disables).
    pub grad_clip: f64,
    /// Learning-rate schedule after warmup.
    pub schedule: Schedule,
    /// WSD: fraction of all steps spent in the final linear decay to `min_lr`.
    pub decay_fraction: f64,
}

/// Learning-rate schedule after the linear warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Cosine decay from `lr` to `min_lr` at the last step.
    #[default]
    Cosine,
    /// Warmup-stable-decay: constant `lr`, then a linear decay to `min_lr` over the last
    /// `decay_fraction` of the steps (so a run can be extended from a stable-phase checkpoint).
    Wsd,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            lr: 4e-4,
            min_lr: 4e-5,
            warmup_steps: 10,
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.1,
            grad_clip: 1.0,
            schedule: Schedule::Cosine,
            decay_fraction: 0.2,
        }
    }
}

/// Learning rate at optimizer step `step` (0-based) of `total` steps: linear warmup to
/// `lr`, then the configured [`Schedule`] down to `min_lr` at the last step.
pub fn lr_at(cfg: &AdamWConfig, step: u64, total: u64) -> f64 {
    if step < cfg.warmup_steps {
        return cfg.lr * (step + 1) as f64 / cfg.warmup_steps as f64;
    }
    if cfg.schedule == Schedule::Wsd {
        let decay = ((total as f64) * cfg.decay_fraction.clamp(0.0, 1.0)).round() as u64;
        let start = total.saturating_sub(decay).max(cfg.warmup_steps);
        if step < start || total <= start {
            return cfg.lr;
        }
        let progress = ((step - start) as f64 / (total - start) as f64).min(1.0);
        return cfg.lr + (cfg.min_lr - cfg.lr) * progress;
    }
    let span = total.saturating_sub(cfg.warmup_steps).max(1);
    let progress = ((step - cfg.warmup_steps) as f64 / span as f64).min(1.0);
    cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1.0 + (std::f64::consts::PI * progress).cos())
}

/// L2 norm of all gradients (summed in f64, in buffer order: deterministic).
pub fn grad_norm<T: Float>(grads: &[T]) -> f64 {
    // Fixed chunks summed with interleaved partials, then the chunk sums in order: the
    // same bits for any thread count, and not one long dependency chain.
    let partial: Vec<f64> = grads
        .par_chunks(1 << 14)
        .map(|c| {
            let mut acc = [0f64; 8];
            let mut it = c.chunks_exact(8);
            for x in &mut it {
                for (a, &g) in acc.iter_mut().zip(x) {
                    *a += g.f64() * g.f64();
                }
            }
            for (a, &g) in acc.iter_mut().zip(it.remainder()) {
                *a += g.f64() * g.f64();
            }
            acc.iter().sum::<f64>()
        })
        .collect();
    partial.iter().sum::<f64>().sqrt()
}

/// Scales gradients as `torch.nn.utils.clip_grad_norm_` does; returns the norm before clipping.
pub fn clip_grad_norm<T: Float>(grads: &mut [T], max_norm: f64) -> f64 {
    let norm = grad_norm(grads);
    if max_norm > 0.0 {
        let coef = (max_norm / (norm + 1e-6)).min(1.0);
        if coef < 1.0 {
            let c = T::of(coef);
            grads
                .par_chunks_mut(1 << 15)
                .for_each(|x| x.iter_mut().for_each(|g| *g *= c));
        }
    }
    norm
}

/// AdamW state: moments in the parameters' flat layout.
#[derive(Debug, Clone)]
pub struct AdamW<T> {
    /// First moments.
    pub m: Vec<T>,
    /// Second moments.
    pub v: Vec<T>,
    /// Updates taken so far.
    pub step: u64,
    /// Per-scalar weight-decay flag, as (range, decays) runs.
    groups: Vec<(std::ops::Range<usize>, bool)>,
}

impl<T: Float> AdamW<T> {
    /// Fresh state for `layout`.
    pub fn new(layout: &ParamLayout) -> Self {
        let groups = layout
            .entries
            .iter()
            .map(|e| (e.range(), e.kind == ParamKind::Matrix))
            .collect();
        AdamW {
            m: vec![T::zero(); layout.total],
            v: vec![T::zero(); layout.total],
            step: 0,
            groups,
        }
    }

    /// One update with learning rate `lr`.
    pub fn update(&mut self, cfg: &AdamWConfig, params: &mut [T], grads: &[T], lr: f64) {
        self.step += 1;
        let t = self.step as i32;
        let bc1 = 1.0 - cfg.beta1.powi(t);
        let bc2 = 1.0 - cfg.beta2.powi(t);
        let step_size = T::of(lr / bc1);
        let bc2_sqrt = T::of(bc2.sqrt());
        let (b1w, b2, b2w, eps) = (
            T::of(1.0 - cfg.beta1),
            T::of(cfg.beta2),
            T::of(1.0 - cfg.beta2),
            T::of(cfg.eps),
        );
        for (range, decays) in &self.groups {
            let shrink = T::of(1.0 - lr * if *decays { cfg.weight_decay } else { 0.0 });
            // Elementwise, so chunks on threads give the same bits; slices (not indices)
            // so the loop vectorises.
            const CHUNK: usize = 1 << 15;
            let r = range.clone();
            params[r.clone()]
                .par_chunks_mut(CHUNK)
                .zip(grads[r.clone()].par_chunks(CHUNK))
                .zip(self.m[r.clone()].par_chunks_mut(CHUNK))
                .zip(self.v[r].par_chunks_mut(CHUNK))
                .for_each(|(((p, g), m), v)| {
                    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
                        *p *= shrink;
                        *m = *m + b1w * (g - *m);
                        *v = *v * b2 + b2w * g * g;
                        let denom = v.sqrt() / bc2_sqrt + eps;
                        *p -= step_size * (*m / denom);
                    }
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ModelConfig;

    #[test]
    fn schedule_warms_up_then_decays_to_min() {
        let c = AdamWConfig {
            lr: 1.0,
            min_lr: 0.1,
            warmup_steps: 4,
            ..Default::default()
        };
        assert_eq!(lr_at(&c, 0, 100), 0.25);
        assert_eq!(lr_at(&c, 3, 100), 1.0);
        assert!((lr_at(&c, 4, 100) - 1.0).abs() < 1e-12);
        assert!((lr_at(&c, 100, 100) - 0.1).abs() < 1e-12);
        let mid = lr_at(&c, 52, 100);
        assert!((mid - 0.55).abs() < 1e-12, "{mid}");
    }

    #[test]
    fn wsd_is_stable_then_decays_linearly_to_min() {
        let c = AdamWConfig {
            lr: 1.0,
            min_lr: 0.1,
            warmup_steps: 4,
            schedule: Schedule::Wsd,
            decay_fraction: 0.2,
            ..Default::default()
        };
        assert_eq!(lr_at(&c, 0, 100), 0.25);
        assert_eq!(lr_at(&c, 10, 100), 1.0);
        assert_eq!(lr_at(&c, 79, 100), 1.0);
        assert_eq!(lr_at(&c, 80, 100), 1.0);
        assert!((lr_at(&c, 90, 100) - 0.55).abs() < 1e-12);
        assert!((lr_at(&c, 100, 100) - 0.1).abs() < 1e-12);
        let t: AdamWConfig = toml::from_str("schedule = \"wsd\"\ndecay_fraction = 0.1").unwrap();
        assert_eq!(t.schedule, Schedule::Wsd);
    }

    #[test]
    fn clipping_scales_to_max_norm() {
        let mut g = vec![3.0f64, 4.0];
        assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
        assert!((grad_norm(&g) - 1.0).abs() < 1e-6);
        let mut small = vec![0.3f64, 0.4];
        clip_grad_norm(&mut small, 1.0);
        assert_eq!(small, vec![0.3, 0.4]);
    }

    #[test]
    fn no_decay_on_norms_and_embeddings() {
        let cfg = ModelConfig::default();
        let layout = ParamLayout::olmoe(&cfg);
        let mut opt = AdamW::<f64>::new(&layout);
        let mut p = vec![1.0; layout.total];
        let g = vec![0.0; layout.total];
        let oc = AdamWConfig {
            weight_decay: 0.5,
            ..Default::default()
        };
        opt.update(&oc, &mut p, &g, 0.1);
        let at = |n: &str| p[layout.get(n).unwrap().offset];
        assert_eq!(at("model.norm.weight"), 1.0);
        assert_eq!(at("model.embed_tokens.weight"), 1.0);
        assert!((at("lm_head.weight") - 0.95).abs() < 1e-12);
    }
}
