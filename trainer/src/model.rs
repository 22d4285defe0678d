//! The OLMoE causal LM (`OlmoeForCausalLM`): forward pass that saves activations,
//! and the hand-written backward pass over the [`Backend`] ops.

use crate::backend::Backend;
use crate::config::ModelConfig;
use crate::float::Float;
use crate::ops::aux_loss::BalanceStats;
use crate::ops::aux_loss::{z_loss_backward, z_loss_sum};
use crate::ops::cross_entropy::IGNORE;
use crate::ops::moe::{self, Dispatch};
use crate::ops::rope::RopeTables;
use crate::params::{ParamKind, ParamLayout};
use crate::rng::Rng;
use crate::Error;

/// Loss terms of one forward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct LossParts {
    /// `ce + aux_coef * aux + z_coef * z` (what is differentiated).
    pub total: f64,
    /// Mean next-token cross-entropy.
    pub ce: f64,
    /// Load-balancing loss (unscaled).
    pub aux: f64,
    /// Router z-loss (unscaled).
    pub z: f64,
    /// Targets that counted.
    pub valid: usize,
    /// Per layer, (token, slot) assignments per expert.
    pub expert_load: Vec<Vec<usize>>,
}

#[derive(Debug, Default)]
struct LayerActs<T> {
    h1: Vec<T>,
    rstd1: Vec<T>,
    q_raw: Vec<T>,
    k_raw: Vec<T>,
    v: Vec<T>,
    rstd_q: Vec<T>,
    rstd_k: Vec<T>,
    q: Vec<T>,
    k: Vec<T>,
    att: Vec<T>,
    att_out: Vec<T>,
    x_mid: Vec<T>,
    h2: Vec<T>,
    rstd2: Vec<T>,
    probs: Vec<T>,
    lse: Vec<T>,
    idx: Vec<u32>,
    w: Vec<T>,
    plan: Dispatch,
    xs: Vec<T>,
    /// Per sorted row, the expert's gate then up projection (`[n*k, 2f]`).
    gu: Vec<T>,
    act: Vec<T>,
    ys: Vec<T>,
    /// Shared-expert MLP on `h2` (empty without shared experts).
    sh_gu: Vec<T>,
    sh_act: Vec<T>,
}

#[derive(Debug, Default)]
struct Acts<T> {
    batch: usize,
    seq: usize,
    tokens: Vec<u32>,
    targets: Vec<u32>,
    /// `resid[l]` is the input of layer `l`; `resid[L]` the last layer's output.
    resid: Vec<Vec<T>>,
    layers: Vec<LayerActs<T>>,
    hf: Vec<T>,
    rstdf: Vec<T>,
    logits: Vec<T>,
    balance: Option<BalanceStats>,
    valid: usize,
}

/// Model parameters, gradients and saved activations.
#[derive(Debug)]
pub struct Model<T: Float> {
    /// Architecture.
    pub cfg: ModelConfig,
    /// Names and offsets of the tensors in `params` / `grads`.
    pub layout: ParamLayout,
    /// All parameters, one flat buffer.
    pub params: Vec<T>,
    /// Gradients, same layout (accumulated by [`Model::backward`]).
    pub grads: Vec<T>,
    /// Per layer and expert, the selection bias of auxiliary-loss-free balancing
    /// (`[layers * experts]`, zero unless `router_bias_update_rate > 0`).
    pub router_bias: Vec<T>,
    rope: RopeTables<T>,
    acts: Acts<T>,
}

fn zeros<T: Float>(n: usize) -> Vec<T> {
    vec![T::zero(); n]
}

impl<T: Float> Model<T> {
    /// A model initialised like transformers' `OlmoePreTrainedModel._init_weights`:
    /// weights ~ N(0, initializer_range), norm gains = 1; seeded and deterministic.
    pub fn new(cfg: ModelConfig, seed: u64) -> Result<Self, Error> {
        cfg.validate()?;
        let layout = ParamLayout::olmoe(&cfg);
        let mut params = zeros(layout.total);
        let mut rng = Rng::new(seed);
        for e in &layout.entries {
            let p = &mut params[e.range()];
            match e.kind {
                ParamKind::Norm => p.iter_mut().for_each(|x| *x = T::one()),
                _ => p
                    .iter_mut()
                    .for_each(|x| *x = T::of(rng.normal() * cfg.initializer_range)),
            }
        }
        Self::from_params(cfg, params)
    }

    /// A model over existing parameters (in [`ParamLayout::olmoe`] order).
    pub fn from_params(cfg: ModelConfig, params: Vec<T>) -> Result<Self, Error> {
        cfg.validate()?;
        let layout = ParamLayout::olmoe(&cfg);
        if params.len() != layout.total {
            return Err(Error::Shape(format!(
                "{} parameters given, layout needs {}",
                params.len(),
                layout.total
            )));
        }
        let rope = RopeTables::new(0, cfg.head_dim(), cfg.rope_theta);
        Ok(Model {
            grads: zeros(layout.total),
            router_bias: zeros(cfg.num_hidden_layers * cfg.num_experts),
            cfg,
            layout,
            params,
            rope,
            acts: Acts::default(),
        })
    }

    /// Sets all gradients to zero.
    pub fn zero_grad(&mut self) {
        self.grads.iter_mut().for_each(|g| *g = T::zero());
    }

    /// Logits of the last forward pass, `[batch * seq, vocab]`.
    pub fn logits(&self) -> &[T] {
        &self.acts.logits
    }

    fn ensure_acts(&mut self, batch: usize, seq: usize) {
        if self.acts.batch == batch && self.acts.seq == seq && !self.acts.layers.is_empty() {
            return;
        }
        let c = &self.cfg;
        let n = batch * seq;
        let (h, kv, e, k, f) = (
            c.hidden_size,
            c.kv_dim(),
            c.num_experts,
            c.num_experts_per_tok,
            c.intermediate_size,
        );
        let heads = c.num_attention_heads;
        let fs = c.shared_intermediate();
        let layers = (0..c.num_hidden_layers)
            .map(|_| LayerActs {
                h1: zeros(n * h),
                rstd1: zeros(n),
                q_raw: zeros(n * h),
                k_raw: zeros(n * kv),
                v: zeros(n * kv),
                rstd_q: zeros(n),
                rstd_k: zeros(n),
                q: zeros(n * h),
                k: zeros(n * kv),
                att: zeros(batch * heads * seq * seq),
                att_out: zeros(n * h),
                x_mid: zeros(n * h),
                h2: zeros(n * h),
                rstd2: zeros(n),
                probs: zeros(n * e),
                lse: zeros(n),
                idx: vec![0; n * k],
                w: zeros(n * k),
                plan: Dispatch::default(),
                xs: zeros(n * k * h),
                gu: zeros(n * k * 2 * f),
                act: zeros(n * k * f),
                ys: zeros(n * k * h),
                sh_gu: zeros(n * 2 * fs),
                sh_act: zeros(n * fs),
            })
            .collect();
        self.acts = Acts {
            batch,
            seq,
            tokens: vec![0; n],
            targets: vec![0; n],
            resid: (0..=c.num_hidden_layers).map(|_| zeros(n * h)).collect(),
            layers,
            hf: zeros(n * h),
            rstdf: zeros(n),
            logits: zeros(n * c.vocab_size),
            balance: None,
            valid: 0,
        };
        if self.rope.cos.len() < seq * self.cfg.head_dim() / 2 {
            self.rope = RopeTables::new(seq, self.cfg.head_dim(), self.cfg.rope_theta);
        }
    }

    /// Runs the model on `tokens` (`[batch, seq]`), scoring `targets` (same shape,
    /// [`IGNORE`] for no loss); saves what [`Model::backward`] needs.
    pub fn forward<B: Backend<T>>(
        &mut self,
        be: &B,
        tokens: &[u32],
        targets: &[u32],
        batch: usize,
        seq: usize,
    ) -> Result<LossParts, Error> {
        let n = batch * seq;
        if tokens.len() != n || targets.len() != n {
            return Err(Error::Shape(format!(
                "tokens/targets must be batch*seq = {n} long"
            )));
        }
        let vocab = self.cfg.vocab_size as u32;
        if let Some(&bad) = tokens.iter().find(|&&t| t >= vocab) {
            return Err(Error::Shape(format!(
                "token id {bad} outside vocabulary of {vocab}"
            )));
        }
        if let Some(&bad) = targets.iter().find(|&&t| t >= vocab && t != IGNORE) {
            return Err(Error::Shape(format!(
                "target id {bad} outside vocabulary of {vocab}"
            )));
        }
        if seq > self.cfg.max_position_embeddings {
            return Err(Error::Shape(format!(
                "seq {seq} exceeds max_position_embeddings"
            )));
        }
        self.ensure_acts(batch, seq);
        let Model {
            cfg,
            layout,
            params,
            rope,
            acts,
            router_bias,
            ..
        } = self;
        let use_bias = cfg.router_bias_update_rate > 0.0;
        let c = cfg.hidden_size;
        let (kvd, e, k, f, v) = (
            cfg.kv_dim(),
            cfg.num_experts,
            cfg.num_experts_per_tok,
            cfg.intermediate_size,
            cfg.vocab_size,
        );
        let heads = cfg.num_attention_heads;
        let shape = cfg.attn_shape(batch, seq);
        let eps = cfg.rms_norm_eps;
        let p = |off: usize, len: usize| &params[off..off + len];
        acts.tokens.copy_from_slice(tokens);
        acts.targets.copy_from_slice(targets);
        be.embedding_forward(&mut acts.resid[0], p(layout.embed, v * c), tokens, c);
        let mut balance = BalanceStats::new(e);
        let mut zsum = 0.0;
        let mut expert_load = Vec::with_capacity(cfg.num_hidden_layers);
        let mut tmp_q = zeros::<T>(n * c);
        let mut tmp_k = zeros::<T>(n * kvd);
        let fs = cfg.shared_intermediate();
        let mut sh_out = zeros::<T>(if fs > 0 { n * c } else { 0 });
        for (l, lo) in layout.layers.iter().enumerate() {
            let (before, after) = acts.resid.split_at_mut(l + 1);
            let (x_in, x_out) = (&before[l], &mut after[0]);
            let a = &mut acts.layers[l];
            // Attention block: pre-norm, q/k RMSNorm over the whole projection, RoPE.
            be.rmsnorm_forward(&mut a.h1, &mut a.rstd1, x_in, p(lo.ln1, c), c, eps);
            be.matmul_forward(&mut a.q_raw, &a.h1, p(lo.wq, c * c), n, c, c);
            be.matmul_forward(&mut a.k_raw, &a.h1, p(lo.wk, kvd * c), n, c, kvd);
            be.matmul_forward(&mut a.v, &a.h1, p(lo.wv, kvd * c), n, c, kvd);
            be.rmsnorm_forward(&mut tmp_q, &mut a.rstd_q, &a.q_raw, p(lo.q_norm, c), c, eps);
            be.rmsnorm_forward(
                &mut tmp_k,
                &mut a.rstd_k,
                &a.k_raw,
                p(lo.k_norm, kvd),
                kvd,
                eps,
            );
            be.rope_forward(&mut a.q, &tmp_q, rope, heads, seq);
            be.rope_forward(&mut a.k, &tmp_k, rope, cfg.num_key_value_heads, seq);
            be.attention_forward(&mut a.att_out, &mut a.att, &a.q, &a.k, &a.v, shape);
            be.matmul_forward(&mut a.x_mid, &a.att_out, p(lo.wo, c * c), n, c, c);
            for (m, &r) in a.x_mid.iter_mut().zip(x_in.iter()) {
                *m += r;
            }
            // Sparse MoE block.
            be.rmsnorm_forward(&mut a.h2, &mut a.rstd2, &a.x_mid, p(lo.ln2, c), c, eps);
            let mut rlogits = zeros::<T>(n * e);
            be.matmul_forward(&mut rlogits, &a.h2, p(lo.router, e * c), n, c, e);
            be.router_softmax_forward(&mut a.probs, &mut a.lse, &rlogits, e);
            let bias = use_bias.then(|| &router_bias[l * e..(l + 1) * e]);
            be.router_topk(
                &mut a.idx,
                &mut a.w,
                &a.probs,
                bias,
                e,
                k,
                cfg.norm_topk_prob,
            );
            balance.add_layer(&a.probs, &a.idx);
            zsum += z_loss_sum(&a.lse);
            a.plan = moe::plan(&a.idx, n, k, e);
            expert_load.push((0..e).map(|x| a.plan.count(x)).collect());
            be.moe_gather(&mut a.xs, &a.h2, &a.plan, c);
            for x in 0..e {
                let (r0, r1) = (a.plan.offsets[x], a.plan.offsets[x + 1]);
                if r0 == r1 {
                    continue;
                }
                let rows = r1 - r0;
                let xs = &a.xs[r0 * c..r1 * c];
                // gate_proj and up_proj are adjacent in the buffer: one [2f, c] GEMM.
                let gu = &mut a.gu[2 * r0 * f..2 * r1 * f];
                be.matmul_forward(gu, xs, p(lo.gate[x], 2 * f * c), rows, c, 2 * f);
                be.swiglu_forward(&mut a.act[r0 * f..r1 * f], gu, f);
                be.matmul_forward(
                    &mut a.ys[r0 * c..r1 * c],
                    &a.act[r0 * f..r1 * f],
                    p(lo.down[x], c * f),
                    rows,
                    f,
                    c,
                );
            }
            be.moe_combine(x_out, &a.ys, &a.w, &a.plan, c, k);
            for (o, &m) in x_out.iter_mut().zip(a.x_mid.iter()) {
                *o += m;
            }
            // Shared experts: every token, unweighted, beside the routed ones.
            if let Some(sh) = lo.shared {
                be.matmul_forward(&mut a.sh_gu, &a.h2, p(sh.gate, 2 * fs * c), n, c, 2 * fs);
                be.swiglu_forward(&mut a.sh_act, &a.sh_gu, fs);
                be.matmul_forward(&mut sh_out, &a.sh_act, p(sh.down, c * fs), n, fs, c);
                for (o, &s) in x_out.iter_mut().zip(sh_out.iter()) {
                    *o += s;
                }
            }
        }
        let last = &acts.resid[cfg.num_hidden_layers];
        be.rmsnorm_forward(
            &mut acts.hf,
            &mut acts.rstdf,
            last,
            p(layout.final_norm, c),
            c,
            eps,
        );
        be.matmul_forward(
            &mut acts.logits,
            &acts.hf,
            p(layout.lm_head, v * c),
            n,
            c,
            v,
        );
        let mut losses = zeros::<T>(n);
        let (ce, valid) = be.cross_entropy_forward(&mut losses, &acts.logits, targets, v);
        let aux = balance.loss();
        let z = if balance.rows > 0.0 {
            zsum / balance.rows
        } else {
            0.0
        };
        acts.balance = Some(balance);
        acts.valid = valid;
        let total = ce + cfg.router_aux_loss_coef * aux + cfg.router_z_loss_coef * z;
        Ok(LossParts {
            total,
            ce,
            aux,
            z,
            valid,
            expert_load,
        })
    }

    /// DeepSeek-V3 auxiliary-loss-free balancing: moves each layer's expert biases by
    /// `router_bias_update_rate` towards balance, given the (token, slot) counts per
    /// layer and expert accumulated over an optimizer step. No-op when the rate is 0.
    pub fn update_router_bias(&mut self, load: &[Vec<usize>]) {
        let rate = self.cfg.router_bias_update_rate;
        if rate <= 0.0 {
            return;
        }
        let e = self.cfg.num_experts;
        for (l, counts) in load.iter().enumerate() {
            let mean = counts.iter().sum::<usize>() as f64 / e as f64;
            for (x, &c) in counts.iter().enumerate() {
                let step = if (c as f64) < mean {
                    rate
                } else if (c as f64) > mean {
                    -rate
                } else {
                    0.0
                };
                self.router_bias[l * e + x] += T::of(step);
            }
        }
    }

    /// Accumulates `scale * d(total loss)/d(params)` into `grads` for the last forward
    /// pass (`scale = 1 / accumulation steps` for gradient accumulation).
    pub fn backward<B: Backend<T>>(&mut self, be: &B, scale: f64) -> Result<(), Error> {
        let Model {
            cfg,
            layout,
            params,
            grads,
            rope,
            acts,
            ..
        } = self;
        let balance = acts
            .balance
            .take()
            .ok_or_else(|| Error::State("backward called without forward".into()))?;
        let (batch, seq) = (acts.batch, acts.seq);
        let n = batch * seq;
        let c = cfg.hidden_size;
        let (kvd, e, k, f, v) = (
            cfg.kv_dim(),
            cfg.num_experts,
            cfg.num_experts_per_tok,
            cfg.intermediate_size,
            cfg.vocab_size,
        );
        let heads = cfg.num_attention_heads;
        let shape = cfg.attn_shape(batch, seq);
        let p = |off: usize, len: usize| &params[off..off + len];
        macro_rules! g {
            ($off:expr, $len:expr) => {
                &mut grads[$off..$off + $len]
            };
        }
        // Head: cross-entropy -> lm_head -> final norm.
        let mut dlogits = zeros::<T>(n * v);
        let ce_scale = if acts.valid == 0 {
            0.0
        } else {
            scale / acts.valid as f64
        };
        be.cross_entropy_backward(
            &mut dlogits,
            &acts.logits,
            &acts.targets,
            v,
            T::of(ce_scale),
        );
        let mut dhf = zeros::<T>(n * c);
        be.matmul_backward(
            Some(&mut dhf),
            g!(layout.lm_head, v * c),
            &dlogits,
            &acts.hf,
            p(layout.lm_head, v * c),
            n,
            c,
            v,
        );
        drop(dlogits);
        let mut dres = zeros::<T>(n * c);
        let last = &acts.resid[cfg.num_hidden_layers];
        be.rmsnorm_backward(
            &mut dres,
            g!(layout.final_norm, c),
            &dhf,
            last,
            p(layout.final_norm, c),
            &acts.rstdf,
            c,
        );
        let aux_scale = scale * cfg.router_aux_loss_coef;
        let z_scale = scale * cfg.router_z_loss_coef;
        for (l, lo) in layout.layers.iter().enumerate().rev() {
            let a = &acts.layers[l];
            let x_in = &acts.resid[l];
            // MoE branch: combine -> experts -> gather, plus the router.
            let mut dys = zeros::<T>(n * k * c);
            let mut dw = zeros::<T>(n * k);
            be.moe_combine_backward(&mut dys, &mut dw, &dres, &a.ys, &a.w, &a.plan, c, k);
            let mut dact = zeros::<T>(n * k * f);
            let mut dgu = zeros::<T>(n * k * 2 * f);
            let mut dxs = zeros::<T>(n * k * c);
            for x in 0..e {
                let (r0, r1) = (a.plan.offsets[x], a.plan.offsets[x + 1]);
                if r0 == r1 {
                    continue;
                }
                let rows = r1 - r0;
                let (rf, rc) = (r0 * f..r1 * f, r0 * c..r1 * c);
                be.matmul_backward(
                    Some(&mut dact[rf.clone()]),
                    g!(lo.down[x], c * f),
                    &dys[rc.clone()],
                    &a.act[rf.clone()],
                    p(lo.down[x], c * f),
                    rows,
                    f,
                    c,
                );
                let r2 = 2 * r0 * f..2 * r1 * f;
                be.swiglu_backward(&mut dgu[r2.clone()], &dact[rf], &a.gu[r2.clone()], f);
                be.matmul_backward(
                    Some(&mut dxs[rc.clone()]),
                    g!(lo.gate[x], 2 * f * c),
                    &dgu[r2],
                    &a.xs[rc],
                    p(lo.gate[x], 2 * f * c),
                    rows,
                    c,
                    2 * f,
                );
            }
            drop((dact, dgu, dys));
            let mut dh2 = zeros::<T>(n * c);
            be.moe_gather_backward(&mut dh2, &dxs, &a.plan, c, k);
            drop(dxs);
            if let Some(sh) = lo.shared {
                let fs = cfg.shared_intermediate();
                let mut dact = zeros::<T>(n * fs);
                be.matmul_backward(
                    Some(&mut dact),
                    g!(sh.down, c * fs),
                    &dres,
                    &a.sh_act,
                    p(sh.down, c * fs),
                    n,
                    fs,
                    c,
                );
                let mut dgu = zeros::<T>(n * 2 * fs);
                be.swiglu_backward(&mut dgu, &dact, &a.sh_gu, fs);
                be.matmul_backward(
                    Some(&mut dh2),
                    g!(sh.gate, 2 * fs * c),
                    &dgu,
                    &a.h2,
                    p(sh.gate, 2 * fs * c),
                    n,
                    c,
                    2 * fs,
                );
            }
            let mut dprobs = zeros::<T>(n * e);
            be.router_topk_backward(&mut dprobs, &dw, &a.probs, &a.idx, e, k, cfg.norm_topk_prob);
            balance.backward(&mut dprobs, aux_scale);
            let mut drl = zeros::<T>(n * e);
            be.router_softmax_backward(&mut drl, &dprobs, &a.probs, e);
            z_loss_backward(&mut drl, &a.probs, &a.lse, e, balance.rows, z_scale);
            be.matmul_backward(
                Some(&mut dh2),
                g!(lo.router, e * c),
                &drl,
                &a.h2,
                p(lo.router, e * c),
                n,
                c,
                e,
            );
            let mut dx_mid = dres.clone();
            be.rmsnorm_backward(
                &mut dx_mid,
                g!(lo.ln2, c),
                &dh2,
                &a.x_mid,
                p(lo.ln2, c),
                &a.rstd2,
                c,
            );
            // Attention branch.
            let mut datt = zeros::<T>(n * c);
            be.matmul_backward(
                Some(&mut datt),
                g!(lo.wo, c * c),
                &dx_mid,
                &a.att_out,
                p(lo.wo, c * c),
                n,
                c,
                c,
            );
            let (mut dq, mut dk, mut dv) =
                (zeros::<T>(n * c), zeros::<T>(n * kvd), zeros::<T>(n * kvd));
            be.attention_backward(
                &mut dq, &mut dk, &mut dv, &datt, &a.att, &a.q, &a.k, &a.v, shape,
            );
            let (mut dqn, mut dkn) = (zeros::<T>(n * c), zeros::<T>(n * kvd));
            be.rope_backward(&mut dqn, &dq, rope, heads, seq);
            be.rope_backward(&mut dkn, &dk, rope, cfg.num_key_value_heads, seq);
            let (mut dq_raw, mut dk_raw) = (zeros::<T>(n * c), zeros::<T>(n * kvd));
            be.rmsnorm_backward(
                &mut dq_raw,
                g!(lo.q_norm, c),
                &dqn,
                &a.q_raw,
                p(lo.q_norm, c),
                &a.rstd_q,
                c,
            );
            be.rmsnorm_backward(
                &mut dk_raw,
                g!(lo.k_norm, kvd),
                &dkn,
                &a.k_raw,
                p(lo.k_norm, kvd),
                &a.rstd_k,
                kvd,
            );
            let mut dh1 = zeros::<T>(n * c);
            be.matmul_backward(
                Some(&mut dh1),
                g!(lo.wq, c * c),
                &dq_raw,
                &a.h1,
                p(lo.wq, c * c),
                n,
                c,
                c,
            );
            be.matmul_backward(
                Some(&mut dh1),
                g!(lo.wk, kvd * c),
                &dk_raw,
                &a.h1,
                p(lo.wk, kvd * c),
                n,
                c,
                kvd,
            );
            be.matmul_backward(
                Some(&mut dh1),
                g!(lo.wv, kvd * c),
                &dv,
                &a.h1,
                p(lo.wv, kvd * c),
                n,
                c,
                kvd,
            );
            dres = dx_mid;
            be.rmsnorm_backward(
                &mut dres,
                g!(lo.ln1, c),
                &dh1,
                x_in,
                p(lo.ln1, c),
                &a.rstd1,
                c,
            );
        }
        be.embedding_backward(g!(layout.embed, v * c), &dres, &acts.tokens, c);
        // transformers builds `nn.Embedding(vocab, hidden, padding_idx=pad_token_id)`,
        // whose padding row never receives gradient; match it so training agrees.
        let pad = cfg.pad_token_id as usize;
        if pad < v {
            g!(layout.embed + pad * c, c)
                .iter_mut()
                .for_each(|x| *x = T::zero());
        }
        Ok(())
    }
}

/// Splits a packed window of `batch * seq + 1` tokens into inputs and next-token targets.
pub fn shift_targets(window: &[u32], batch: usize, seq: usize) -> (Vec<u32>, Vec<u32>) {
    let n = batch * seq;
    (window[..n].to_vec(), window[1..n + 1].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Cpu;

    fn tiny() -> ModelConfig {
        ModelConfig {
            vocab_size: 11,
            hidden_size: 8,
            intermediate_size: 6,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            num_key_value_heads: 2,
            num_experts: 4,
            num_experts_per_tok: 2,
            // Large enough coefficients that the router terms matter in the check.
            router_aux_loss_coef: 0.3,
            router_z_loss_coef: 0.2,
            initializer_range: 0.5,
            ..ModelConfig::default()
        }
    }

    fn gradcheck_model(cfg: ModelConfig) {
        let (b, t) = (2, 4);
        let mut m = Model::<f64>::new(cfg.clone(), 42).unwrap();
        // Norm gains off 1 so their gradients are generic.
        let mut r = Rng::new(5);
        for x in m.params.iter_mut() {
            *x += 0.05 * r.normal();
        }
        let tokens: Vec<u32> = (0..b * t).map(|i| (i * 7 % 11) as u32).collect();
        let mut targets: Vec<u32> = (0..b * t).map(|i| ((i * 5 + 3) % 11) as u32).collect();
        targets[3] = IGNORE;
        let be = Cpu;
        let base = m.forward(&be, &tokens, &targets, b, t).unwrap();
        assert!(base.aux > 0.0 && base.z > 0.0);
        m.zero_grad();
        m.backward(&be, 1.0).unwrap();
        let analytic = m.grads.clone();
        let params = m.params.clone();
        let h = 1e-6;
        let mut worst = 0.0f64;
        for i in 0..params.len() {
            let mut eval = |x: f64| {
                m.params[i] = x;
                m.forward(&be, &tokens, &targets, b, t).unwrap()
            };
            let lp = eval(params[i] + h);
            let lm = eval(params[i] - h);
            m.params[i] = params[i];
            // The routing must not flip inside the difference, or the check is meaningless.
            assert_eq!(
                lp.expert_load, lm.expert_load,
                "routing flipped at param {i}"
            );
            let num = (lp.total - lm.total) / (2.0 * h);
            let abs = (num - analytic[i]).abs();
            let rel = abs / (1e-6 + num.abs().max(analytic[i].abs()));
            if abs > 1e-8 {
                worst = worst.max(rel);
                let name = &m
                    .layout
                    .entries
                    .iter()
                    .find(|e| e.range().contains(&i))
                    .unwrap()
                    .name;
                assert!(
                    rel < 1e-5,
                    "{name} (flat {i}): numeric {num} analytic {} rel {rel:.2e}",
                    analytic[i]
                );
            }
        }
        eprintln!(
            "whole-model gradcheck: {} params, worst rel err {worst:.2e}",
            params.len()
        );
    }

    #[test]
    fn whole_model_gradcheck_f64() {
        gradcheck_model(tiny());
    }

    #[test]
    fn whole_model_gradcheck_gqa_norm_topk() {
        gradcheck_model(ModelConfig {
            num_attention_heads: 4,
            num_key_value_heads: 2,
            norm_topk_prob: true,
            ..tiny()
        });
    }

    #[test]
    fn whole_model_gradcheck_shared_experts() {
        gradcheck_model(ModelConfig {
            num_shared_experts: 2,
            ..tiny()
        });
    }

    #[test]
    fn shared_experts_change_the_output_and_zero_weights_remove_them() {
        let cfg = ModelConfig {
            num_shared_experts: 1,
            ..tiny()
        };
        let tokens: Vec<u32> = (0..8).map(|i| (i * 3 % 11) as u32).collect();
        let mut with = Model::<f64>::new(cfg.clone(), 6).unwrap();
        let a = with.forward(&Cpu, &tokens, &tokens, 2, 4).unwrap().total;
        // Zeroing the shared down projection must give exactly the plain model on the
        // same routed weights: the shared branch is purely additive.
        let mut plain = Model::<f64>::new(tiny(), 6).unwrap();
        for e in &plain.layout.entries {
            let src = with.layout.get(&e.name).unwrap().range();
            plain.params[e.range()].copy_from_slice(&with.params[src]);
        }
        let b = plain.forward(&Cpu, &tokens, &tokens, 2, 4).unwrap().total;
        assert!((a - b).abs() > 1e-9, "shared experts had no effect");
        for e in with.layout.entries.clone() {
            if e.name.contains("shared_experts.down_proj") {
                with.params[e.range()].iter_mut().for_each(|x| *x = 0.0);
            }
        }
        let z = with.forward(&Cpu, &tokens, &tokens, 2, 4).unwrap().total;
        assert_eq!(z, b);
    }

    #[test]
    fn bitwise_identical_across_thread_counts() {
        let cfg = ModelConfig {
            vocab_size: 50,
            hidden_size: 16,
            num_experts: 8,
            num_experts_per_tok: 3,
            ..tiny()
        };
        let tokens: Vec<u32> = (0..4 * 70).map(|i| (i * 13 % 50) as u32).collect();
        let targets: Vec<u32> = (0..4 * 70).map(|i| (i * 7 % 50) as u32).collect();
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut m = Model::<f32>::new(cfg.clone(), 8).unwrap();
                let l = m.forward(&Cpu, &tokens, &targets, 4, 70).unwrap();
                m.backward(&Cpu, 1.0).unwrap();
                (
                    l.total.to_bits(),
                    m.grads.iter().map(|g| g.to_bits()).collect::<Vec<_>>(),
                )
            })
        };
        let one = run(1);
        assert!(one == run(3), "results depend on the number of threads");
    }

    #[test]
    fn loss_free_bias_balances_a_skewed_router() {
        let cfg = ModelConfig {
            num_experts: 8,
            num_experts_per_tok: 2,
            router_bias_update_rate: 5e-3,
            ..tiny()
        };
        let mut m = Model::<f64>::new(cfg.clone(), 4).unwrap();
        // Start from a bias that sends every token to experts 0 and 1.
        for l in 0..cfg.num_hidden_layers {
            m.router_bias[l * 8] = 0.3;
            m.router_bias[l * 8 + 1] = 0.3;
        }
        let tokens: Vec<u32> = (0..64).map(|i| (i * 5 % 11) as u32).collect();
        let spread = |load: &[Vec<usize>]| {
            load.iter()
                .map(|l| l.iter().max().unwrap() - l.iter().min().unwrap())
                .max()
                .unwrap()
        };
        let before = m
            .forward(&Cpu, &tokens, &tokens, 4, 16)
            .unwrap()
            .expert_load;
        let mut load = before.clone();
        for _ in 0..300 {
            m.update_router_bias(&load);
            load = m
                .forward(&Cpu, &tokens, &tokens, 4, 16)
                .unwrap()
                .expert_load;
        }
        assert!(spread(&before) > 40, "router was not skewed: {before:?}");
        assert!(
            spread(&load) * 4 < spread(&before),
            "bias did not balance: {before:?} -> {load:?}"
        );
    }

    #[test]
    fn rejects_bad_tokens() {
        let mut m = Model::<f32>::new(tiny(), 1).unwrap();
        let err = m.forward(&Cpu, &[0, 99], &[1, 2], 1, 2).unwrap_err();
        assert!(err.to_string().contains("outside vocabulary"), "{err}");
        assert!(m.backward(&Cpu, 1.0).is_err());
    }

    #[test]
    fn f32_matches_f64() {
        let cfg = tiny();
        let m64 = Model::<f64>::new(cfg.clone(), 3).unwrap();
        let p32: Vec<f32> = m64.params.iter().map(|&x| x as f32).collect();
        let mut m64 =
            Model::<f64>::from_params(cfg.clone(), p32.iter().map(|&x| x as f64).collect())
                .unwrap();
        let mut m32 = Model::<f32>::from_params(cfg, p32).unwrap();
        let tokens = [1u32, 2, 3, 4, 5, 6];
        let targets = [2u32, 3, 4, 5, 6, 7];
        let a = m64.forward(&Cpu, &tokens, &targets, 2, 3).unwrap();
        let b = m32.forward(&Cpu, &tokens, &targets, 2, 3).unwrap();
        assert!(
            (a.total - b.total).abs() < 1e-5 * a.total,
            "{} vs {}",
            a.total,
            b.total
        );
    }
}
