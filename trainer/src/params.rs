//! One flat parameter buffer addressed by Hugging Face tensor names.
//!
//! As in llm.c, parameters, gradients and optimizer moments are each a single `Vec`
//! with the same [`ParamLayout`], so the optimizer and gradient clipping are plain
//! loops and checkpoints are one `safetensors` file with the names transformers uses.

use std::collections::HashMap;
use std::ops::Range;

use crate::config::ModelConfig;

/// One named tensor inside the flat buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamEntry {
    /// Hugging Face name, e.g. `model.layers.0.self_attn.q_proj.weight`.
    pub name: String,
    /// Row-major shape (PyTorch convention: `[out, in]` for linear weights).
    pub shape: Vec<usize>,
    /// Offset of the first element in the flat buffer.
    pub offset: usize,
    /// What kind of tensor this is (drives weight decay).
    pub kind: ParamKind,
}

impl ParamEntry {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    /// True for a zero-sized tensor.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Range inside the flat buffer.
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.len()
    }
}

/// Parameter role; OLMo applies no weight decay to norms and embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Token embedding table.
    Embedding,
    /// RMSNorm gain.
    Norm,
    /// A linear layer's weight matrix (including `lm_head`).
    Matrix,
}

/// Offsets of one transformer block's tensors.
#[derive(Debug, Clone)]
pub struct LayerOffsets {
    /// `input_layernorm.weight`
    pub ln1: usize,
    /// `self_attn.q_proj.weight`
    pub wq: usize,
    /// `self_attn.k_proj.weight`
    pub wk: usize,
    /// `self_attn.v_proj.weight`
    pub wv: usize,
    /// `self_attn.o_proj.weight`
    pub wo: usize,
    /// `self_attn.q_norm.weight`
    pub q_norm: usize,
    /// `self_attn.k_norm.weight`
    pub k_norm: usize,
    /// `post_attention_layernorm.weight`
    pub ln2: usize,
    /// `mlp.gate.weight` (router)
    pub router: usize,
    /// Per expert: `mlp.experts.{e}.gate_proj.weight`, immediately followed by its
    /// `up_proj.weight` (the model multiplies by both as one `[2f, hidden]` matrix)
    pub gate: Vec<usize>,
    /// Per expert: `mlp.experts.{e}.up_proj.weight`
    pub up: Vec<usize>,
    /// Per expert: `mlp.experts.{e}.down_proj.weight`
    pub down: Vec<usize>,
    /// Shared experts, fused (`mlp.shared_experts.{gate,up,down}_proj.weight`, the
    /// DeepSeek-V3 names), when the config has any.
    pub shared: Option<SharedOffsets>,
}

/// Offsets of the fused shared-expert MLP of one block.
#[derive(Debug, Clone, Copy)]
pub struct SharedOffsets {
    /// `mlp.shared_experts.gate_proj.weight`, `[fs, hidden]`, immediately followed by
    /// `up_proj` (one `[2fs, hidden]` GEMM)
    pub gate: usize,
    /// `mlp.shared_experts.up_proj.weight`, `[fs, hidden]`
    pub up: usize,
    /// `mlp.shared_experts.down_proj.weight`, `[hidden, fs]`
    pub down: usize,
}

/// Ordered (name, shape) list over one flat buffer.
#[derive(Debug, Clone)]
pub struct ParamLayout {
    /// Tensors in buffer order.
    pub entries: Vec<ParamEntry>,
    /// Total number of scalars.
    pub total: usize,
    by_name: HashMap<String, usize>,
    /// `model.embed_tokens.weight`
    pub embed: usize,
    /// Per-layer offsets.
    pub layers: Vec<LayerOffsets>,
    /// `model.norm.weight`
    pub final_norm: usize,
    /// `lm_head.weight`
    pub lm_head: usize,
}

impl ParamLayout {
    /// The layout of an `OlmoeForCausalLM` with config `cfg`.
    pub fn olmoe(cfg: &ModelConfig) -> Self {
        let (c, f, v, e) = (
            cfg.hidden_size,
            cfg.intermediate_size,
            cfg.vocab_size,
            cfg.num_experts,
        );
        let kv = cfg.kv_dim();
        let mut b = Builder::default();
        let embed = b.push("model.embed_tokens.weight", &[v, c], ParamKind::Embedding);
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for l in 0..cfg.num_hidden_layers {
            let p = format!("model.layers.{l}");
            let wq = b.push(
                &format!("{p}.self_attn.q_proj.weight"),
                &[c, c],
                ParamKind::Matrix,
            );
            let wk = b.push(
                &format!("{p}.self_attn.k_proj.weight"),
                &[kv, c],
                ParamKind::Matrix,
            );
            let wv = b.push(
                &format!("{p}.self_attn.v_proj.weight"),
                &[kv, c],
                ParamKind::Matrix,
            );
            let wo = b.push(
                &format!("{p}.self_attn.o_proj.weight"),
                &[c, c],
                ParamKind::Matrix,
            );
            let q_norm = b.push(
                &format!("{p}.self_attn.q_norm.weight"),
                &[c],
                ParamKind::Norm,
            );
            let k_norm = b.push(
                &format!("{p}.self_attn.k_norm.weight"),
                &[kv],
                ParamKind::Norm,
            );
            let router = b.push(&format!("{p}.mlp.gate.weight"), &[e, c], ParamKind::Matrix);
            let (mut gate, mut up, mut down) = (Vec::new(), Vec::new(), Vec::new());
            for x in 0..e {
                gate.push(b.push(
                    &format!("{p}.mlp.experts.{x}.gate_proj.weight"),
                    &[f, c],
                    ParamKind::Matrix,
                ));
                up.push(b.push(
                    &format!("{p}.mlp.experts.{x}.up_proj.weight"),
                    &[f, c],
                    ParamKind::Matrix,
                ));
                down.push(b.push(
                    &format!("{p}.mlp.experts.{x}.down_proj.weight"),
                    &[c, f],
                    ParamKind::Matrix,
                ));
            }
            let fs = cfg.shared_intermediate();
            let shared = (fs > 0).then(|| {
                let mut sh = |n: &str, shape: &[usize]| {
                    b.push(
                        &format!("{p}.mlp.shared_experts.{n}.weight"),
                        shape,
                        ParamKind::Matrix,
                    )
                };
                SharedOffsets {
                    gate: sh("gate_proj", &[fs, c]),
                    up: sh("up_proj", &[fs, c]),
                    down: sh("down_proj", &[c, fs]),
                }
            });
            let ln1 = b.push(
                &format!("{p}.input_layernorm.weight"),
                &[c],
                ParamKind::Norm,
            );
            let ln2 = b.push(
                &format!("{p}.post_attention_layernorm.weight"),
                &[c],
                ParamKind::Norm,
            );
            // The model runs gate_proj and up_proj as one [2f, c] GEMM over both.
            debug_assert!((0..e).all(|x| up[x] == gate[x] + f * c));
            debug_assert!(shared.is_none_or(|s| s.up == s.gate + fs * c));
            layers.push(LayerOffsets {
                ln1,
                wq,
                wk,
                wv,
                wo,
                q_norm,
                k_norm,
                ln2,
                router,
                gate,
                up,
                down,
                shared,
            });
        }
        let final_norm = b.push("model.norm.weight", &[c], ParamKind::Norm);
        let lm_head = b.push("lm_head.weight", &[v, c], ParamKind::Matrix);
        let by_name = b
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        ParamLayout {
            total: b.total,
            entries: b.entries,
            by_name,
            embed,
            layers,
            final_norm,
            lm_head,
        }
    }

    /// The entry called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&ParamEntry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }
}

#[derive(Default)]
struct Builder {
    entries: Vec<ParamEntry>,
    total: usize,
}

impl Builder {
    fn push(&mut self, name: &str, shape: &[usize], kind: ParamKind) -> usize {
        let offset = self.total;
        let e = ParamEntry {
            name: name.to_string(),
            shape: shape.to_vec(),
            offset,
            kind,
        };
        self.total += e.len();
        self.entries.push(e);
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_contiguous_and_named_like_transformers() {
        let cfg = ModelConfig::default();
        let l = ParamLayout::olmoe(&cfg);
        let mut next = 0;
        for e in &l.entries {
            assert_eq!(e.offset, next, "{}", e.name);
            next += e.len();
        }
        assert_eq!(next, l.total);
        let q = l.get("model.layers.1.self_attn.q_proj.weight").unwrap();
        assert_eq!(q.offset, l.layers[1].wq);
        assert_eq!(
            l.get("model.layers.0.mlp.experts.3.down_proj.weight")
                .unwrap()
                .shape,
            vec![32, 16]
        );
        assert_eq!(l.get("lm_head.weight").unwrap().kind, ParamKind::Matrix);
        assert_eq!(
            l.get("model.embed_tokens.weight").unwrap().kind,
            ParamKind::Embedding
        );
        // 2 layers x (4 attn mats + 2 qk norms + router + 4 experts x 3 + 2 norms) + embed + norm + head
        assert_eq!(l.entries.len(), 2 * (4 + 2 + 1 + 12 + 2) + 3);
        assert!(l.layers[0].shared.is_none());
    }

    #[test]
    fn shared_experts_are_one_fused_mlp_per_layer() {
        let cfg = ModelConfig {
            num_shared_experts: 2,
            ..ModelConfig::default()
        };
        let l = ParamLayout::olmoe(&cfg);
        let plain = ParamLayout::olmoe(&ModelConfig::default());
        assert_eq!(l.total - plain.total, 2 * 3 * 32 * 32);
        let g = l
            .get("model.layers.1.mlp.shared_experts.gate_proj.weight")
            .unwrap();
        assert_eq!(g.shape, vec![32, 32]);
        assert_eq!(g.offset, l.layers[1].shared.unwrap().gate);
        assert_eq!(
            l.get("model.layers.0.mlp.shared_experts.down_proj.weight")
                .unwrap()
                .shape,
            vec![32, 32]
        );
    }
}
