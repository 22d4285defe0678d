//! Router regularisers.
//!
//! * Load balancing (Switch Transformer, as transformers' `load_balancing_loss_func`):
//!   over the rows of *all* layers together, `E * sum_x f_x * P_x` where `f_x` is the
//!   fraction of (row, slot) assignments to expert `x` (divided by rows, not slots) and
//!   `P_x` the mean router probability. `f` is piecewise constant, so only `P` carries
//!   gradient.
//! * Router z-loss (ST-MoE, used by OLMoE): mean over all layers' rows of
//!   `logsumexp(router_logits)^2`.

use rayon::prelude::*;

use crate::float::Float;

/// Statistics of the load-balancing loss gathered over the layers of one forward pass.
#[derive(Debug, Clone, PartialEq)]
pub struct BalanceStats {
    /// Assignments per expert, summed over layers.
    pub counts: Vec<f64>,
    /// Router probability mass per expert, summed over layers and rows.
    pub prob_sum: Vec<f64>,
    /// Rows summed over layers.
    pub rows: f64,
}

impl BalanceStats {
    /// Empty statistics for `e` experts.
    pub fn new(e: usize) -> Self {
        BalanceStats {
            counts: vec![0.0; e],
            prob_sum: vec![0.0; e],
            rows: 0.0,
        }
    }

    /// Adds one layer's probabilities (`[n, e]`) and top-k indices (`[n, k]`).
    pub fn add_layer<T: Float>(&mut self, probs: &[T], idx: &[u32]) {
        let e = self.counts.len();
        for &x in idx {
            self.counts[x as usize] += 1.0;
        }
        for row in probs.chunks(e) {
            for (s, &p) in self.prob_sum.iter_mut().zip(row) {
                *s += p.f64();
            }
        }
        self.rows += (probs.len() / e) as f64;
    }

    /// The loss value.
    pub fn loss(&self) -> f64 {
        if self.rows == 0.0 {
            return 0.0;
        }
        let e = self.counts.len() as f64;
        let r2 = self.rows * self.rows;
        e * self
            .counts
            .iter()
            .zip(&self.prob_sum)
            .map(|(c, p)| c * p)
            .sum::<f64>()
            / r2
    }

    /// Accumulates `scale * d(loss)/d(probs)` for one layer's probabilities.
    pub fn backward<T: Float>(&self, dprobs: &mut [T], scale: f64) {
        let e = self.counts.len();
        let r2 = self.rows * self.rows;
        let g: Vec<T> = self
            .counts
            .iter()
            .map(|c| T::of(scale * e as f64 * c / r2))
            .collect();
        dprobs.par_chunks_mut(e).for_each(|row| {
            for (d, &gi) in row.iter_mut().zip(&g) {
                *d += gi;
            }
        });
    }
}

/// Sum of `lse^2` over one layer's rows (divide by all layers' rows for the loss).
pub fn z_loss_sum<T: Float>(lse: &[T]) -> f64 {
    lse.iter().map(|l| l.f64() * l.f64()).sum()
}

/// Accumulates `scale * d/dlogits (sum lse^2 / rows)` = `scale * 2 lse p / rows`.
pub fn z_loss_backward<T: Float>(
    dlogits: &mut [T],
    probs: &[T],
    lse: &[T],
    e: usize,
    rows: f64,
    scale: f64,
) {
    dlogits
        .par_chunks_mut(e)
        .zip(probs.par_chunks(e))
        .zip(lse.par_iter())
        .for_each(|((d, p), &l)| {
            let g = T::of(2.0 * scale / rows) * l;
            for (di, &pi) in d.iter_mut().zip(p) {
                *di += g * pi;
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gradcheck::{check, rand_vec};
    use crate::ops::router::{softmax_backward, softmax_forward, topk};
    use crate::rng::Rng;

    /// aux + z over two layers of router logits, as a function of the logits.
    fn losses(logits: &[f64], layers: usize, n: usize, e: usize, k: usize) -> (f64, f64) {
        let mut st = BalanceStats::new(e);
        let mut z = 0.0;
        for l in 0..layers {
            let x = &logits[l * n * e..][..n * e];
            let (mut p, mut lse) = (vec![0.0; n * e], vec![0.0; n]);
            softmax_forward(&mut p, &mut lse, x, e);
            let (mut ix, mut w) = (vec![0; n * k], vec![0.0; n * k]);
            topk(&mut ix, &mut w, &p, None, e, k, false);
            st.add_layer(&p, &ix);
            z += z_loss_sum(&lse);
        }
        (st.loss(), z / st.rows)
    }

    #[test]
    fn gradcheck_aux_and_z() {
        let mut r = Rng::new(31);
        let (layers, n, e, k) = (2, 5, 4, 2);
        let logits = rand_vec(&mut r, layers * n * e, 2.0);
        let mut st = BalanceStats::new(e);
        let mut saved = Vec::new();
        for l in 0..layers {
            let x = &logits[l * n * e..][..n * e];
            let (mut p, mut lse) = (vec![0.0; n * e], vec![0.0; n]);
            softmax_forward(&mut p, &mut lse, x, e);
            let (mut ix, mut w) = (vec![0; n * k], vec![0.0; n * k]);
            topk(&mut ix, &mut w, &p, None, e, k, false);
            st.add_layer(&p, &ix);
            saved.push((p, lse));
        }
        let (a_coef, z_coef) = (0.7, 0.3);
        let mut grad = vec![0.0; logits.len()];
        for (l, (p, lse)) in saved.iter().enumerate() {
            let mut dp = vec![0.0; n * e];
            st.backward(&mut dp, a_coef);
            let g = &mut grad[l * n * e..][..n * e];
            softmax_backward(g, &dp, p, e);
            z_loss_backward(g, p, lse, e, st.rows, z_coef);
        }
        check("aux+z", &logits, &grad, |x| {
            let (a, z) = losses(x, layers, n, e, k);
            a_coef * a + z_coef * z
        });
    }

    #[test]
    fn perfectly_balanced_uniform_router_gives_k() {
        // Uniform probabilities and equal counts: loss = E * sum_x (k/E) * (1/E) = k.
        let (n, e, k) = (4, 4, 2);
        let p = vec![0.25f64; n * e];
        let idx = [0u32, 1, 2, 3, 0, 1, 2, 3];
        let mut st = BalanceStats::new(e);
        st.add_layer(&p, &idx);
        assert!((st.loss() - k as f64).abs() < 1e-12);
    }
}
