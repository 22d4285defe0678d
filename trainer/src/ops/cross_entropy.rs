//! Softmax cross-entropy over the vocabulary, mean over the targets that are not
//! [`IGNORE`] (PyTorch's `ignore_index=-100` semantics).

use rayon::prelude::*;

use crate::float::{self, Float};

/// Target value meaning "no loss at this position".
pub const IGNORE: u32 = u32::MAX;

/// Per-row losses into `losses` (0 for ignored rows); returns (mean loss, valid rows).
pub fn forward<T: Float>(
    losses: &mut [T],
    logits: &[T],
    targets: &[u32],
    v: usize,
) -> (f64, usize) {
    losses
        .par_iter_mut()
        .zip(logits.par_chunks(v))
        .zip(targets.par_iter())
        .for_each_init(
            || vec![T::zero(); v],
            |buf, ((l, x), &y)| {
                if y == IGNORE {
                    *l = T::zero();
                    return;
                }
                let mx = float::max(x);
                buf.copy_from_slice(x);
                float::exp_shifted(buf, mx);
                *l = mx + float::sum(buf).ln() - x[y as usize];
            },
        );
    let valid = targets.iter().filter(|&&y| y != IGNORE).count();
    // Sum in f64, in row order, for a thread-count independent mean.
    let total: f64 = losses.iter().map(|l| l.f64()).sum();
    (
        if valid == 0 {
            0.0
        } else {
            total / valid as f64
        },
        valid,
    )
}

/// Gradient of `scale * sum(losses)` w.r.t. the logits, written (not accumulated) into
/// `dlogits`; for the mean loss pass `scale = 1 / valid`.
pub fn backward<T: Float>(dlogits: &mut [T], logits: &[T], targets: &[u32], v: usize, scale: T) {
    dlogits
        .par_chunks_mut(v)
        .zip(logits.par_chunks(v))
        .zip(targets.par_iter())
        .for_each(|((d, x), &y)| {
            if y == IGNORE {
                d.iter_mut().for_each(|g| *g = T::zero());
                return;
            }
            let mx = float::max(x);
            d.copy_from_slice(x);
            float::exp_shifted(d, mx);
            let f = scale / float::sum(d);
            d.iter_mut().for_each(|g| *g *= f);
            d[y as usize] -= scale;
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gradcheck::{check, rand_vec};
    use crate::rng::Rng;

    #[test]
    fn gradcheck_with_ignored_rows() {
        let mut r = Rng::new(29);
        let (n, v) = (4, 7);
        let x = rand_vec(&mut r, n * v, 3.0);
        let t = [3u32, IGNORE, 0, 6];
        let mut l = vec![0.0; n];
        let (_, valid) = forward(&mut l, &x, &t, v);
        assert_eq!(valid, 3);
        let mut d = vec![0.0; n * v];
        backward(&mut d, &x, &t, v, 1.0 / 3.0);
        check("cross_entropy", &x, &d, |xp| {
            forward(&mut vec![0.0; n], xp, &t, v).0
        });
    }

    #[test]
    fn uniform_logits_give_log_v() {
        let (loss, _) = forward(&mut [0.0f64; 2], &[0.0; 10], &[1, 4], 5);
        assert!((loss - 5f64.ln()).abs() < 1e-12);
    }
}
