//! The seam between the model and the hardware: every op the model runs, as a trait.
//!
//! [`Cpu`] runs the reference implementations in [`crate::ops`]. A CUDA backend
//! implements the same trait with kernels from `quarry-kernels`; the model code, the
//! optimizer and the gradient checks stay as they are, and the CPU backend remains
//! the oracle its kernels are tested against. (Buffers are host slices here; the CUDA
//! backend is expected to add an associated device-buffer type when it lands.)

use crate::float::Float;
use crate::ops::attention::AttnShape;
use crate::ops::moe::Dispatch;
use crate::ops::rope::RopeTables;
use crate::ops::{attention, cross_entropy, embedding, linear, moe, rmsnorm, rope, router, swiglu};

/// The ops of an OLMoE forward and backward pass. Backward methods accumulate into
/// input gradients unless documented otherwise; see [`crate::ops`] for each contract.
#[allow(clippy::too_many_arguments)]
pub trait Backend<T: Float>: Send + Sync {
    /// Short name for logs and metrics.
    fn name(&self) -> &'static str;
    /// Token embedding lookup ([`crate::ops::embedding::forward`]).
    fn embedding_forward(&self, out: &mut [T], table: &[T], tokens: &[u32], c: usize);
    /// Scatter-add into the embedding table ([`crate::ops::embedding::backward`]).
    fn embedding_backward(&self, dtable: &mut [T], dout: &[T], tokens: &[u32], c: usize);
    /// `y = x W^T` ([`crate::ops::linear::forward`]).
    fn matmul_forward(&self, y: &mut [T], x: &[T], w: &[T], n: usize, i: usize, o: usize);
    /// `dx += dy W`, `dW += dy^T x` ([`crate::ops::linear::backward`]).
    fn matmul_backward(
        &self,
        dx: Option<&mut [T]>,
        dw: &mut [T],
        dy: &[T],
        x: &[T],
        w: &[T],
        n: usize,
        i: usize,
        o: usize,
    );
    /// RMSNorm, saving `1/rms` per row ([`crate::ops::rmsnorm::forward`]).
    fn rmsnorm_forward(&self, out: &mut [T], rstd: &mut [T], x: &[T], w: &[T], c: usize, eps: f64);
    /// RMSNorm backward ([`crate::ops::rmsnorm::backward`]).
    fn rmsnorm_backward(
        &self,
        dx: &mut [T],
        dw: &mut [T],
        dout: &[T],
        x: &[T],
        w: &[T],
        rstd: &[T],
        c: usize,
    );
    /// Rotary embedding, rotate_half convention ([`crate::ops::rope::forward`]).
    fn rope_forward(&self, out: &mut [T], x: &[T], tab: &RopeTables<T>, heads: usize, seq: usize);
    /// Inverse rotation of the gradient ([`crate::ops::rope::backward`]).
    fn rope_backward(
        &self,
        dx: &mut [T],
        dout: &[T],
        tab: &RopeTables<T>,
        heads: usize,
        seq: usize,
    );
    /// Causal (grouped-query) attention, saving probabilities ([`crate::ops::attention::forward`]).
    fn attention_forward(
        &self,
        out: &mut [T],
        att: &mut [T],
        q: &[T],
        k: &[T],
        v: &[T],
        s: AttnShape,
    );
    /// Attention backward ([`crate::ops::attention::backward`]).
    fn attention_backward(
        &self,
        dq: &mut [T],
        dk: &mut [T],
        dv: &mut [T],
        dout: &[T],
        att: &[T],
        q: &[T],
        k: &[T],
        v: &[T],
        s: AttnShape,
    );
    /// `silu(gate) * up` over fused `[rows, 2f]` gate|up rows ([`crate::ops::swiglu::forward`]).
    fn swiglu_forward(&self, out: &mut [T], gu: &[T], f: usize);
    /// SwiGLU backward; overwrites `dgu` ([`crate::ops::swiglu::backward`]).
    fn swiglu_backward(&self, dgu: &mut [T], dout: &[T], gu: &[T], f: usize);
    /// Router softmax with per-row log-sum-exp ([`crate::ops::router::softmax_forward`]).
    fn router_softmax_forward(&self, probs: &mut [T], lse: &mut [T], logits: &[T], e: usize);
    /// Softmax backward ([`crate::ops::router::softmax_backward`]).
    fn router_softmax_backward(&self, dlogits: &mut [T], dprobs: &[T], probs: &[T], e: usize);
    /// Top-k expert selection and weights ([`crate::ops::router::topk`]).
    fn router_topk(
        &self,
        idx: &mut [u32],
        w: &mut [T],
        probs: &[T],
        bias: Option<&[T]>,
        e: usize,
        k: usize,
        norm: bool,
    );
    /// Top-k weights backward ([`crate::ops::router::topk_backward`]).
    fn router_topk_backward(
        &self,
        dprobs: &mut [T],
        dw: &[T],
        probs: &[T],
        idx: &[u32],
        e: usize,
        k: usize,
        norm: bool,
    );
    /// Gather token rows in expert order ([`crate::ops::moe::gather`]).
    fn moe_gather(&self, xs: &mut [T], x: &[T], d: &Dispatch, c: usize);
    /// Gather backward ([`crate::ops::moe::gather_backward`]).
    fn moe_gather_backward(&self, dx: &mut [T], dxs: &[T], d: &Dispatch, c: usize, k: usize);
    /// Weighted combine of expert outputs per token ([`crate::ops::moe::combine`]).
    fn moe_combine(&self, out: &mut [T], ys: &[T], w: &[T], d: &Dispatch, c: usize, k: usize);
    /// Combine backward ([`crate::ops::moe::combine_backward`]).
    fn moe_combine_backward(
        &self,
        dys: &mut [T],
        dw: &mut [T],
        dout: &[T],
        ys: &[T],
        w: &[T],
        d: &Dispatch,
        c: usize,
        k: usize,
    );
    /// Cross-entropy per row; returns (mean loss, valid rows) ([`crate::ops::cross_entropy::forward`]).
    fn cross_entropy_forward(
        &self,
        losses: &mut [T],
        logits: &[T],
        targets: &[u32],
        v: usize,
    ) -> (f64, usize);
    /// Cross-entropy gradient; overwrites `dlogits` ([`crate::ops::cross_entropy::backward`]).
    fn cross_entropy_backward(
        &self,
        dlogits: &mut [T],
        logits: &[T],
        targets: &[u32],
        v: usize,
        scale: T,
    );
}

/// The CPU reference backend (rayon + matrixmultiply).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu;

impl<T: Float> Backend<T> for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }
    fn embedding_forward(&self, out: &mut [T], table: &[T], tokens: &[u32], c: usize) {
        embedding::forward(out, table, tokens, c)
    }
    fn embedding_backward(&self, dtable: &mut [T], dout: &[T], tokens: &[u32], c: usize) {
        embedding::backward(dtable, dout, tokens, c)
    }
    fn matmul_forward(&self, y: &mut [T], x: &[T], w: &[T], n: usize, i: usize, o: usize) {
        linear::forward(y, x, w, n, i, o)
    }
    fn matmul_backward(
        &self,
        dx: Option<&mut [T]>,
        dw: &mut [T],
        dy: &[T],
        x: &[T],
        w: &[T],
        n: usize,
        i: usize,
        o: usize,
    ) {
        linear::backward(dx, dw, dy, x, w, n, i, o)
    }
    fn rmsnorm_forward(&self, out: &mut [T], rstd: &mut [T], x: &[T], w: &[T], c: usize, eps: f64) {
        rmsnorm::forward(out, rstd, x, w, c, eps)
    }
    fn rmsnorm_backward(
        &self,
        dx: &mut [T],
        dw: &mut [T],
        dout: &[T],
        x: &[T],
        w: &[T],
        rstd: &[T],
        c: usize,
    ) {
        rmsnorm::backward(dx, dw, dout, x, w, rstd, c)
    }
    fn rope_forward(&self, out: &mut [T], x: &[T], tab: &RopeTables<T>, heads: usize, seq: usize) {
        rope::forward(out, x, tab, heads, seq)
    }
    fn rope_backward(
        &self,
        dx: &mut [T],
        dout: &[T],
        tab: &RopeTables<T>,
        heads: usize,
        seq: usize,
    ) {
        rope::backward(dx, dout, tab, heads, seq)
    }
    fn attention_forward(
        &self,
        out: &mut [T],
        att: &mut [T],
        q: &[T],
        k: &[T],
        v: &[T],
        s: AttnShape,
    ) {
        attention::forward(out, att, q, k, v, s)
    }
    fn attention_backward(
        &self,
        dq: &mut [T],
        dk: &mut [T],
        dv: &mut [T],
        dout: &[T],
        att: &[T],
        q: &[T],
        k: &[T],
        v: &[T],
        s: AttnShape,
    ) {
        attention::backward(dq, dk, dv, dout, att, q, k, v, s)
    }
    fn swiglu_forward(&self, out: &mut [T], gu: &[T], f: usize) {
        swiglu::forward(out, gu, f)
    }
    fn swiglu_backward(&self, dgu: &mut [T], dout: &[T], gu: &[T], f: usize) {
        swiglu::backward(dgu, dout, gu, f)
    }
    fn router_softmax_forward(&self, probs: &mut [T], lse: &mut [T], logits: &[T], e: usize) {
        router::softmax_forward(probs, lse, logits, e)
    }
    fn router_softmax_backward(&self, dlogits: &mut [T], dprobs: &[T], probs: &[T], e: usize) {
        router::softmax_backward(dlogits, dprobs, probs, e)
    }
    fn router_topk(
        &self,
        idx: &mut [u32],
        w: &mut [T],
        probs: &[T],
        bias: Option<&[T]>,
        e: usize,
        k: usize,
        norm: bool,
    ) {
        router::topk(idx, w, probs, bias, e, k, norm)
    }
    fn router_topk_backward(
        &self,
        dprobs: &mut [T],
        dw: &[T],
        probs: &[T],
        idx: &[u32],
        e: usize,
        k: usize,
        norm: bool,
    ) {
        router::topk_backward(dprobs, dw, probs, idx, e, k, norm)
    }
    fn moe_gather(&self, xs: &mut [T], x: &[T], d: &Dispatch, c: usize) {
        moe::gather(xs, x, d, c)
    }
    fn moe_gather_backward(&self, dx: &mut [T], dxs: &[T], d: &Dispatch, c: usize, k: usize) {
        moe::gather_backward(dx, dxs, d, c, k)
    }
    fn moe_combine(&self, out: &mut [T], ys: &[T], w: &[T], d: &Dispatch, c: usize, k: usize) {
        moe::combine(out, ys, w, d, c, k)
    }
    fn moe_combine_backward(
        &self,
        dys: &mut [T],
        dw: &mut [T],
        dout: &[T],
        ys: &[T],
        w: &[T],
        d: &Dispatch,
        c: usize,
        k: usize,
    ) {
        moe::combine_backward(dys, dw, dout, ys, w, d, c, k)
    }
    fn cross_entropy_forward(
        &self,
        losses: &mut [T],
        logits: &[T],
        targets: &[u32],
        v: usize,
    ) -> (f64, usize) {
        cross_entropy::forward(losses, logits, targets, v)
    }
    fn cross_entropy_backward(
        &self,
        dlogits: &mut [T],
        logits: &[T],
        targets: &[u32],
        v: usize,
        scale: T,
    ) {
        cross_entropy::backward(dlogits, logits, targets, v, scale)
    }
}
