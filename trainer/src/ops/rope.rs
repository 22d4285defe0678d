//! Rotary position embedding with transformers' `rotate_half` convention: the first
//! and second halves of each head are the two coordinates of each rotated pair.

use rayon::prelude::*;

use crate::float::Float;

/// Precomputed `cos`/`sin` tables, `[seq, head_dim/2]`.
#[derive(Debug, Clone)]
pub struct RopeTables<T> {
    /// `cos(pos * inv_freq[i])`
    pub cos: Vec<T>,
    /// `sin(pos * inv_freq[i])`
    pub sin: Vec<T>,
    /// head_dim / 2
    pub half: usize,
}

impl<T: Float> RopeTables<T> {
    /// Tables for positions `0..seq`; frequencies as `OlmoeRotaryEmbedding`:
    /// `inv_freq[i] = theta^(-2i/d)`, computed in f32 as transformers does, angles in f64.
    pub fn new(seq: usize, head_dim: usize, theta: f64) -> Self {
        let half = head_dim / 2;
        let mut cos = Vec::with_capacity(seq * half);
        let mut sin = Vec::with_capacity(seq * half);
        for p in 0..seq {
            for i in 0..half {
                let inv = 1.0f32 / (theta as f32).powf((2 * i) as f32 / head_dim as f32);
                let a = p as f64 * inv as f64;
                cos.push(T::of(a.cos()));
                sin.push(T::of(a.sin()));
            }
        }
        RopeTables { cos, sin, half }
    }
}

/// Rotates `x` (`[n tokens, heads, head_dim]`, token `r` at position `r % seq`) into `out`.
pub fn forward<T: Float>(out: &mut [T], x: &[T], tab: &RopeTables<T>, heads: usize, seq: usize) {
    let h = tab.half;
    let width = heads * 2 * h;
    out.par_chunks_mut(width)
        .zip(x.par_chunks(width))
        .enumerate()
        .for_each(|(r, (o, xr))| {
            let p = r % seq;
            let (cs, sn) = (&tab.cos[p * h..(p + 1) * h], &tab.sin[p * h..(p + 1) * h]);
            for hd in 0..heads {
                let b = hd * 2 * h;
                for i in 0..h {
                    let (x1, x2) = (xr[b + i], xr[b + h + i]);
                    o[b + i] = x1 * cs[i] - x2 * sn[i];
                    o[b + h + i] = x2 * cs[i] + x1 * sn[i];
                }
            }
        });
}

/// Backward of [`forward`] (the transpose rotation), accumulated into `dx`.
pub fn backward<T: Float>(dx: &mut [T], dout: &[T], tab: &RopeTables<T>, heads: usize, seq: usize) {
    let h = tab.half;
    let width = heads * 2 * h;
    dx.par_chunks_mut(width)
        .zip(dout.par_chunks(width))
        .enumerate()
        .for_each(|(r, (d, g))| {
            let p = r % seq;
            let (cs, sn) = (&tab.cos[p * h..(p + 1) * h], &tab.sin[p * h..(p + 1) * h]);
            for hd in 0..heads {
                let b = hd * 2 * h;
                for i in 0..h {
                    let (g1, g2) = (g[b + i], g[b + h + i]);
                    d[b + i] += g1 * cs[i] + g2 * sn[i];
                    d[b + h + i] += g2 * cs[i] - g1 * sn[i];
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
    fn gradcheck_and_position_zero_is_identity() {
        let mut r = Rng::new(11);
        let (seq, heads, hd) = (3, 2, 4);
        let n = 2 * seq;
        let tab = RopeTables::<f64>::new(seq, hd, 10000.0);
        let x = rand_vec(&mut r, n * heads * hd, 1.0);
        let mut o = vec![0.0; x.len()];
        forward(&mut o, &x, &tab, heads, seq);
        assert_eq!(&o[..heads * hd], &x[..heads * hd]);
        let proj = rand_vec(&mut r, x.len(), 1.0);
        let mut dx = vec![0.0; x.len()];
        backward(&mut dx, &proj, &tab, heads, seq);
        check("rope", &x, &dx, |xp| {
            let mut o = vec![0.0; xp.len()];
            forward(&mut o, xp, &tab, heads, seq);
            dot(&o, &proj)
        });
    }
}
