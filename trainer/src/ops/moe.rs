//! Dropless expert dispatch and combine.
//!
//! Token-slot pairs are counting-sorted by expert (stable, so each expert sees its
//! tokens in order), each expert runs on its contiguous block of rows, and the outputs
//! are combined per token in slot order, so the sum order never depends on threads.

use rayon::prelude::*;

use crate::float::Float;

/// Where each (token, slot) pair went.
#[derive(Debug, Clone, Default)]
pub struct Dispatch {
    /// Expert `x` owns sorted rows `offsets[x]..offsets[x + 1]`.
    pub offsets: Vec<usize>,
    /// Token of each sorted row.
    pub token: Vec<u32>,
    /// For token `t`, slot `s`: its sorted row, at `pos[t * k + s]`.
    pub pos: Vec<u32>,
}

impl Dispatch {
    /// Rows routed to expert `x`.
    pub fn count(&self, x: usize) -> usize {
        self.offsets[x + 1] - self.offsets[x]
    }
}

/// Builds the dispatch plan from the top-k indices (`[n, k]`).
pub fn plan(idx: &[u32], n: usize, k: usize, e: usize) -> Dispatch {
    let mut offsets = vec![0usize; e + 1];
    for &x in idx {
        offsets[x as usize + 1] += 1;
    }
    for x in 0..e {
        offsets[x + 1] += offsets[x];
    }
    let mut fill = offsets.clone();
    let mut token = vec![0u32; n * k];
    let mut pos = vec![0u32; n * k];
    for t in 0..n {
        for s in 0..k {
            let x = idx[t * k + s] as usize;
            token[fill[x]] = t as u32;
            pos[t * k + s] = fill[x] as u32;
            fill[x] += 1;
        }
    }
    Dispatch {
        offsets,
        token,
        pos,
    }
}

/// `xs[row] = x[token[row]]`.
pub fn gather<T: Float>(xs: &mut [T], x: &[T], d: &Dispatch, c: usize) {
    xs.par_chunks_mut(c)
        .zip(d.token.par_iter())
        .for_each(|(row, &t)| {
            row.copy_from_slice(&x[t as usize * c..][..c]);
        });
}

/// Backward of [`gather`]: `dx[t] += sum over slots of dxs[pos[t, s]]`.
pub fn gather_backward<T: Float>(dx: &mut [T], dxs: &[T], d: &Dispatch, c: usize, k: usize) {
    dx.par_chunks_mut(c).enumerate().for_each(|(t, row)| {
        for s in 0..k {
            let src = &dxs[d.pos[t * k + s] as usize * c..][..c];
            for (a, &b) in row.iter_mut().zip(src) {
                *a += b;
            }
        }
    });
}

/// `out[t] = sum_s w[t, s] * ys[pos[t, s]]` (overwrites `out`).
pub fn combine<T: Float>(out: &mut [T], ys: &[T], w: &[T], d: &Dispatch, c: usize, k: usize) {
    out.par_chunks_mut(c).enumerate().for_each(|(t, row)| {
        row.iter_mut().for_each(|x| *x = T::zero());
        for s in 0..k {
            let ws = w[t * k + s];
            let src = &ys[d.pos[t * k + s] as usize * c..][..c];
            for (a, &b) in row.iter_mut().zip(src) {
                *a += ws * b;
            }
        }
    });
}

/// Backward of [`combine`]: `dys[pos] += w * dout[t]`, `dw[t, s] += dout[t] · ys[pos]`.
#[allow(clippy::too_many_arguments)]
pub fn combine_backward<T: Float>(
    dys: &mut [T],
    dw: &mut [T],
    dout: &[T],
    ys: &[T],
    w: &[T],
    d: &Dispatch,
    c: usize,
    k: usize,
) {
    dw.par_iter_mut().enumerate().for_each(|(ts, g)| {
        let t = ts / k;
        let src = &ys[d.pos[ts] as usize * c..][..c];
        *g += dout[t * c..][..c]
            .iter()
            .zip(src)
            .map(|(&a, &b)| a * b)
            .sum::<T>();
    });
    // Each sorted row belongs to exactly one (token, slot), so rows are independent.
    let mut slot_of = vec![0u32; d.token.len()];
    for (ts, &p) in d.pos.iter().enumerate() {
        slot_of[p as usize] = ts as u32;
    }
    dys.par_chunks_mut(c)
        .zip(slot_of.par_iter())
        .for_each(|(row, &ts)| {
            let t = ts as usize / k;
            let ws = w[ts as usize];
            for (a, &g) in row.iter_mut().zip(&dout[t * c..][..c]) {
                *a += ws * g;
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gradcheck::{check, dot, rand_vec};
    use crate::rng::Rng;

    #[test]
    fn plan_sorts_by_expert_stably() {
        let idx = [2u32, 0, 0, 1, 2, 1];
        let d = plan(&idx, 3, 2, 3);
        assert_eq!(d.offsets, vec![0, 2, 4, 6]);
        assert_eq!(d.token, vec![0, 1, 1, 2, 0, 2]);
        for t in 0..3 {
            for s in 0..2 {
                let p = d.pos[t * 2 + s] as usize;
                assert_eq!(d.token[p] as usize, t);
                assert!(
                    p >= d.offsets[idx[t * 2 + s] as usize]
                        && p < d.offsets[idx[t * 2 + s] as usize + 1]
                );
            }
        }
    }

    #[test]
    fn gradcheck_gather_and_combine() {
        let mut r = Rng::new(23);
        let (n, k, e, c) = (4, 2, 3, 3);
        let idx = [0u32, 2, 1, 0, 2, 1, 0, 1];
        let d = plan(&idx, n, k, e);
        let x = rand_vec(&mut r, n * c, 1.0);
        let w = rand_vec(&mut r, n * k, 1.0);
        let proj = rand_vec(&mut r, n * c, 1.0);
        // A per-row nonlinearity between gather and combine, standing in for the expert.
        let run = |x: &[f64], w: &[f64]| {
            let mut xs = vec![0.0; n * k * c];
            gather(&mut xs, x, &d, c);
            let ys: Vec<f64> = xs.iter().map(|v| v * v).collect();
            let mut o = vec![0.0; n * c];
            combine(&mut o, &ys, w, &d, c, k);
            (dot(&o, &proj), xs, ys)
        };
        let (_, xs, ys) = run(&x, &w);
        let (mut dys, mut dw) = (vec![0.0; n * k * c], vec![0.0; n * k]);
        combine_backward(&mut dys, &mut dw, &proj, &ys, &w, &d, c, k);
        let dxs: Vec<f64> = dys.iter().zip(&xs).map(|(g, v)| 2.0 * v * g).collect();
        let mut dx = vec![0.0; n * c];
        gather_backward(&mut dx, &dxs, &d, c, k);
        check("moe.dx", &x, &dx, |xp| run(xp, &w).0);
        check("moe.dw", &w, &dw, |wp| run(&x, wp).0);
    }
}
