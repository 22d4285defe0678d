//! Model hyper-parameters, named and defaulted as in transformers' `OlmoeConfig`.

use serde::{Deserialize, Serialize};

use crate::Error;

/// Architecture of an OLMoE-style model (field names follow `OlmoeConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    /// Vocabulary size.
    pub vocab_size: usize,
    /// Residual stream width.
    pub hidden_size: usize,
    /// Hidden width of each expert's SwiGLU MLP.
    pub intermediate_size: usize,
    /// Number of transformer blocks.
    pub num_hidden_layers: usize,
    /// Number of query heads.
    pub num_attention_heads: usize,
    /// Number of key/value heads (grouped-query attention when smaller).
    pub num_key_value_heads: usize,
    /// Number of routed experts per layer.
    pub num_experts: usize,
    /// Experts chosen per token (top-k).
    pub num_experts_per_tok: usize,
    /// Shared experts (DeepSeek-MoE / DeepSeek-V3 `n_shared_experts`): always-on SwiGLU
    /// experts every token goes through, added unweighted to the routed output. They
    /// are fused into one MLP of width `num_shared_experts * intermediate_size`, as
    /// DeepSeek does. 0 (OLMoE) disables them; transformers' `OlmoeForCausalLM` has
    /// none, so a model with shared experts cannot be exported to it.
    pub num_shared_experts: usize,
    /// Renormalise the top-k routing weights to sum to one (OLMoE: false).
    pub norm_topk_prob: bool,
    /// RoPE base.
    pub rope_theta: f64,
    /// RMSNorm epsilon.
    pub rms_norm_eps: f64,
    /// Coefficient of the load-balancing loss (OLMoE: 0.01).
    pub router_aux_loss_coef: f64,
    /// Coefficient of the router z-loss (OLMoE pretraining: 0.001; not part of
    /// transformers' loss, which the golden script adds by hand).
    pub router_z_loss_coef: f64,
    /// DeepSeek-V3 auxiliary-loss-free balancing: after every optimizer step each
    /// layer's per-expert selection bias moves by this amount towards balance
    /// (`b += rate * sign(mean_load - load)`). 0 disables it (OLMoE). The bias is not
    /// part of `OlmoeForCausalLM`, so an export routes without it.
    pub router_bias_update_rate: f64,
    /// Longest sequence the RoPE tables are built for.
    pub max_position_embeddings: usize,
    /// Standard deviation of the normal initialisation of weights.
    pub initializer_range: f64,
    /// End-of-sequence token id (also used to pack documents).
    pub eos_token_id: u32,
    /// Padding token id (exported to config.json only).
    pub pad_token_id: u32,
}

impl Default for ModelConfig {
    /// A tiny model for tests and smoke runs.
    fn default() -> Self {
        ModelConfig {
            vocab_size: 64,
            hidden_size: 32,
            intermediate_size: 16,
            num_hidden_layers: 2,
            num_attention_heads: 4,
            num_key_value_heads: 4,
            num_experts: 4,
            num_experts_per_tok: 2,
            num_shared_experts: 0,
            norm_topk_prob: false,
            rope_theta: 10000.0,
            rms_norm_eps: 1e-5,
            router_aux_loss_coef: 0.01,
            router_z_loss_coef: 0.001,
            router_bias_update_rate: 0.0,
            max_position_embeddings: 4096,
            initializer_range: 0.02,
            eos_token_id: 0,
            pad_token_id: 1,
        }
    }
}

impl ModelConfig {
    /// The attention shape of a `batch × seq` step.
    pub fn attn_shape(&self, batch: usize, seq: usize) -> crate::ops::attention::AttnShape {
        crate::ops::attention::AttnShape {
            batch,
            seq,
            heads: self.num_attention_heads,
            kv_heads: self.num_key_value_heads,
            head_dim: self.head_dim(),
        }
    }

    /// Per-head width.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// Hidden width of the fused shared-expert MLP (0 without shared experts).
    pub fn shared_intermediate(&self) -> usize {
        self.num_shared_experts * self.intermediate_size
    }

    /// Width of the key/value projections.
    pub fn kv_dim(&self) -> usize {
        self.head_dim() * self.num_key_value_heads
    }

    /// Rejects shapes the ops cannot run.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::Config(m));
        if self.vocab_size == 0 || self.hidden_size == 0 || self.intermediate_size == 0 {
            return bad("vocab_size, hidden_size and intermediate_size must be positive".into());
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return bad(format!(
                "hidden_size {} is not divisible by num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if !self.head_dim().is_multiple_of(2) {
            return bad(format!(
                "head_dim {} must be even for RoPE",
                self.head_dim()
            ));
        }
        if self.num_key_value_heads == 0
            || !self
                .num_attention_heads
                .is_multiple_of(self.num_key_value_heads)
        {
            return bad(format!(
                "num_attention_heads {} is not a multiple of num_key_value_heads {}",
                self.num_attention_heads, self.num_key_value_heads
            ));
        }
        if self.num_experts == 0
            || self.num_experts_per_tok == 0
            || self.num_experts_per_tok > self.num_experts
        {
            return bad(format!(
                "need 0 < num_experts_per_tok ({}) <= num_experts ({})",
                self.num_experts_per_tok, self.num_experts
            ));
        }
        if self.router_bias_update_rate.is_nan() || self.router_bias_update_rate < 0.0 {
            return bad("router_bias_update_rate must be >= 0".into());
        }
        if self.eos_token_id as usize >= self.vocab_size {
            return bad(format!(
                "eos_token_id {} outside vocab {}",
                self.eos_token_id, self.vocab_size
            ));
        }
        Ok(())
    }

    /// The `config.json` transformers reads to build an `OlmoeForCausalLM`.
    pub fn to_hf_json(&self) -> serde_json::Value {
        serde_json::json!({
            "architectures": ["OlmoeForCausalLM"],
            "model_type": "olmoe",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "num_experts": self.num_experts,
            "num_experts_per_tok": self.num_experts_per_tok,
            "norm_topk_prob": self.norm_topk_prob,
            "rope_theta": self.rope_theta,
            "rope_scaling": null,
            "rms_norm_eps": self.rms_norm_eps,
            "router_aux_loss_coef": self.router_aux_loss_coef,
            "output_router_logits": false,
            "max_position_embeddings": self.max_position_embeddings,
            "initializer_range": self.initializer_range,
            "hidden_act": "silu",
            "attention_bias": false,
            "attention_dropout": 0.0,
            "clip_qkv": null,
            "tie_word_embeddings": false,
            "use_cache": true,
            "eos_token_id": self.eos_token_id,
            "pad_token_id": self.pad_token_id,
            "bos_token_id": null,
            "torch_dtype": "float32",
        })
    }
}
