//! SwiGLU gating of an expert MLP: `silu(gate) * up` (the `down` projection is a linear).
//!
//! Gate and up come fused, one `[rows, 2f]` buffer with each row's `f` gate values then
//! its `f` up values: the product of the row block with the expert's `gate_proj` and
//! `up_proj` weights, which sit next to each other in the flat parameter buffer, so
//! both projections are one GEMM (one packing of the inputs, half the calls).

use rayon::prelude::*;

use crate::float::Float;

/// Rows per parallel task; inner loops are plain slices so they vectorise.
fn rows_per_task(f: usize) -> usize {
    (1 << 13) / f.max(1) + 1
}

#[inline(always)]
fn sigmoid<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).fexp())
}

/// `out[r] = silu(gu[r, :f]) * gu[r, f:]` for `out` of `[rows, f]`, `gu` of `[rows, 2f]`.
pub fn forward<T: Float>(out: &mut [T], gu: &[T], f: usize) {
    assert_eq!(out.len() * 2, gu.len());
    if f == 0 {
        return;
    }
    let rb = rows_per_task(f);
    out.par_chunks_mut(rb * f)
        .zip(gu.par_chunks(rb * 2 * f))
        .for_each(|(o, gu)| {
            for (o, gu) in o.chunks_exact_mut(f).zip(gu.chunks_exact(2 * f)) {
                let (g, u) = gu.split_at(f);
                for ((o, &g), &u) in o.iter_mut().zip(g).zip(u) {
                    *o = g * sigmoid(g) * u;
                }
            }
        });
}

/// Backward of [`forward`]: writes (does not accumulate) `dgu` (`[rows, 2f]`).
pub fn backward<T: Float>(dgu: &mut [T], dout: &[T], gu: &[T], f: usize) {
    assert_eq!(dout.len() * 2, gu.len());
    assert_eq!(dgu.len(), gu.len());
    if f == 0 {
        return;
    }
    let rb = rows_per_task(f);
    dgu.par_chunks_mut(rb * 2 * f)
        .zip(dout.par_chunks(rb * f))
        .zip(gu.par_chunks(rb * 2 * f))
        .for_each(|((dgu, d), gu)| {
            for ((dgu, d), gu) in dgu
                .chunks_exact_mut(2 * f)
                .zip(d.chunks_exact(f))
                .zip(gu.chunks_exact(2 * f))
            {
                let (dg, du) = dgu.split_at_mut(f);
                let (g, u) = gu.split_at(f);
                for ((((dg, du), &d), &g), &u) in dg.iter_mut().zip(du).zip(d).zip(g).zip(u) {
                    let sg = sigmoid(g);
                    *du = d * g * sg;
                    *dg = d * u * sg * (T::one() + g * (T::one() - sg));
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gradcheck::{check, dot, rand_vec};
    use crate::rng::Rng;

    #[test]
    fn gradcheck() {
        let mut r = Rng::new(17);
        let (rows, f) = (5, 3);
        let mut gu = rand_vec(&mut r, rows * 2 * f, 3.0);
        // Up values on a smaller scale, as in the unfused check.
        for row in gu.chunks_exact_mut(2 * f) {
            row[f..].iter_mut().for_each(|u| *u /= 3.0);
        }
        let proj = rand_vec(&mut r, rows * f, 1.0);
        let run = |gu: &[f64]| {
            let mut o = vec![0.0; rows * f];
            forward(&mut o, gu, f);
            dot(&o, &proj)
        };
        let mut o = vec![0.0; rows * f];
        forward(&mut o, &gu, f);
        let (g, u) = (gu[2 * f + 1], gu[2 * f + 1 + f]);
        assert!((o[f + 1] - g / (1.0 + (-g).exp()) * u).abs() < 1e-15);
        let mut dgu = vec![7.0; rows * 2 * f];
        backward(&mut dgu, &proj, &gu, f);
        check("swiglu.dgu", &gu, &dgu, run);
    }
}
