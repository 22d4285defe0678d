//! Router of a sparse MoE block, as `OlmoeTopKRouter`: softmax over *all* experts, then
//! top-k of the probabilities, optionally renormalised (`norm_topk_prob`, OLMoE: off).

use rayon::prelude::*;

use crate::float::Float;

/// Row-wise softmax of `logits` (`[n, e]`); also stores each row's log-sum-exp,
/// which the router z-loss needs.
pub fn softmax_forward<T: Float>(probs: &mut [T], lse: &mut [T], logits: &[T], e: usize) {
    probs
        .par_chunks_mut(e)
        .zip(lse.par_iter_mut())
        .zip(logits.par_chunks(e))
        .for_each(|((p, l), x)| {
            let mx = x.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
            let mut z = T::zero();
            for (pi, &xi) in p.iter_mut().zip(x) {
                *pi = (xi - mx).exp();
                z += *pi;
            }
            for pi in p.iter_mut() {
                *pi /= z;
            }
            *l = mx + z.ln();
        });
}

/// Backward of the softmax: `dlogits += p * (dp - sum(p * dp))`.
pub fn softmax_backward<T: Float>(dlogits: &mut [T], dprobs: &[T], probs: &[T], e: usize) {
    dlogits
        .par_chunks_mut(e)
        .zip(dprobs.par_chunks(e))
        .zip(probs.par_chunks(e))
        .for_each(|((dl, dp), p)| {
            let s = dp.iter().zip(p).map(|(&a, &b)| a * b).sum::<T>();
            for j in 0..e {
                dl[j] += p[j] * (dp[j] - s);
            }
        });
}

/// Selects the `k` most probable experts per row (ties go to the lower index) and their
/// weights: the probabilities themselves, or renormalised over the selection if `norm`.
///
/// `bias` (one value per expert) implements DeepSeek-V3's auxiliary-loss-free
/// balancing: it shifts the *selection* scores only; the weights stay the unbiased
/// probabilities, so the bias gets no gradient.
pub fn topk<T: Float>(
    idx: &mut [u32],
    w: &mut [T],
    probs: &[T],
    bias: Option<&[T]>,
    e: usize,
    k: usize,
    norm: bool,
) {
    idx.par_chunks_mut(k)
        .zip(w.par_chunks_mut(k))
        .zip(probs.par_chunks(e))
        .for_each(|((ix, wr), p)| {
            let mut order: Vec<u32> = (0..e as u32).collect();
            let score = |i: u32| p[i as usize] + bias.map_or(T::zero(), |b| b[i as usize]);
            // Stable sort by descending score keeps lower indices first on ties.
            order.sort_by(|&a, &b| {
                score(b)
                    .partial_cmp(&score(a))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
            ix.copy_from_slice(&order[..k]);
            for s in 0..k {
                wr[s] = p[ix[s] as usize];
            }
            if norm {
                let tot = wr.iter().copied().sum::<T>();
                wr.iter_mut().for_each(|x| *x /= tot);
            }
        });
}

/// Backward of [`topk`] (selection held fixed): accumulates `dprobs` from `dw`.
pub fn topk_backward<T: Float>(
    dprobs: &mut [T],
    dw: &[T],
    probs: &[T],
    idx: &[u32],
    e: usize,
    k: usize,
    norm: bool,
) {
    dprobs.par_chunks_mut(e).enumerate().for_each(|(r, dp)| {
        let (ix, g, p) = (&idx[r * k..][..k], &dw[r * k..][..k], &probs[r * e..][..e]);
        if norm {
            let tot = ix.iter().map(|&i| p[i as usize]).sum::<T>();
            let gw = (0..k).map(|s| g[s] * p[ix[s] as usize]).sum::<T>() / (tot * tot);
            for s in 0..k {
                dp[ix[s] as usize] += g[s] / tot - gw;
            }
        } else {
            for s in 0..k {
                dp[ix[s] as usize] += g[s];
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gradcheck::{check, dot, rand_vec};
    use crate::rng::Rng;

    fn gradcheck_router(norm: bool) {
        let mut r = Rng::new(if norm { 21 } else { 19 });
        let (n, e, k) = (5, 6, 2);
        let logits = rand_vec(&mut r, n * e, 2.0);
        let pw = rand_vec(&mut r, n * k, 1.0);
        let pp = rand_vec(&mut r, n * e, 1.0);
        let run = |x: &[f64]| {
            let (mut p, mut l) = (vec![0.0; n * e], vec![0.0; n]);
            softmax_forward(&mut p, &mut l, x, e);
            let (mut ix, mut w) = (vec![0u32; n * k], vec![0.0; n * k]);
            topk(&mut ix, &mut w, &p, None, e, k, norm);
            (dot(&w, &pw) + dot(&p, &pp) + l.iter().sum::<f64>(), p, ix)
        };
        let (_, p, ix) = run(&logits);
        let mut dp = pp.clone();
        topk_backward(&mut dp, &pw, &p, &ix, e, k, norm);
        // d(lse)/dlogits = softmax: fold it into dprobs-space by adding 1 to every dp
        // (softmax backward of a constant 1 is zero), so add it directly to dlogits.
        let mut dl = p.clone();
        softmax_backward(&mut dl, &dp, &p, e);
        check(
            if norm { "router.norm" } else { "router" },
            &logits,
            &dl,
            |x| run(x).0,
        );
    }

    #[test]
    fn gradcheck_plain_and_renormalised() {
        gradcheck_router(false);
        gradcheck_router(true);
    }

    #[test]
    fn topk_picks_largest_and_breaks_ties_low() {
        let p = [0.1f64, 0.4, 0.1, 0.4];
        let (mut ix, mut w) = ([0u32; 3], [0.0; 3]);
        topk(&mut ix, &mut w, &p, None, 4, 3, false);
        assert_eq!(ix, [1, 3, 0]);
        assert_eq!(w, [0.4, 0.4, 0.1]);
        // A bias changes which experts are chosen, not their weights.
        let bias = [0.0, 0.0, 0.25, -0.5];
        topk(&mut ix, &mut w, &p, Some(&bias), 4, 2, false);
        assert_eq!(ix[..2], [1, 2]);
        assert_eq!(w[..2], [0.4, 0.1]);
    }
}
