//! Every op with its forward and backward pass side by side (llm.c style).
//!
//! Conventions: tensors are row-major slices; a backward pass *accumulates* (`+=`) into
//! the gradients of its inputs, so residual branches and shared weights need no extra
//! bookkeeping; reductions run in a fixed order so results do not depend on the number
//! of threads.

pub mod attention;
pub mod aux_loss;
pub mod cross_entropy;
pub mod embedding;
pub mod linear;
pub mod moe;
pub mod rmsnorm;
pub mod rope;
pub mod router;
pub mod swiglu;

#[cfg(test)]
pub(crate) mod gradcheck;
