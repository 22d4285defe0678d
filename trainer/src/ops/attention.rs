//! Causal multi-head attention (grouped-query when `kv_heads < heads`), the
//! eager path of transformers: `softmax(q k^T / sqrt(d) + causal) v`.
//!
//! Layout: `q`, `out` are `[batch, seq, heads, d]`; `k`, `v` are `[batch, seq, kv_heads, d]`;
//! the saved probabilities `att` are `[batch, heads, seq, seq]` (upper triangle zero).
//! Sequences of a batch are independent, so they run in parallel.

use rayon::prelude::*;

use crate::float::Float;

/// Shape of an attention call.
#[derive(Debug, Clone, Copy)]
pub struct AttnShape {
    /// Batch size.
    pub batch: usize,
    /// Sequence length.
    pub seq: usize,
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Head width.
    pub head_dim: usize,
}

/// Forward pass; fills `out` and the probabilities `att`.
pub fn forward<T: Float>(out: &mut [T], att: &mut [T], q: &[T], k: &[T], v: &[T], s: AttnShape) {
    let (t, h, d) = (s.seq, s.heads, s.head_dim);
    let (c, ckv) = (h * d, s.kv_heads * d);
    let group = h / s.kv_heads;
    let scale = T::of(1.0 / (d as f64).sqrt());
    out.par_chunks_mut(t * c)
        .zip(att.par_chunks_mut(h * t * t))
        .enumerate()
        .for_each(|(b, (ob, ab))| {
            let (qb, kb, vb) = (
                &q[b * t * c..][..t * c],
                &k[b * t * ckv..][..t * ckv],
                &v[b * t * ckv..][..t * ckv],
            );
            for hd in 0..h {
                let kvh = hd / group;
                for i in 0..t {
                    let qi = &qb[i * c + hd * d..][..d];
                    let row = &mut ab[(hd * t + i) * t..][..t];
                    let mut mx = T::neg_infinity();
                    for j in 0..=i {
                        let kj = &kb[j * ckv + kvh * d..][..d];
                        let sc = qi.iter().zip(kj).map(|(&a, &b)| a * b).sum::<T>() * scale;
                        row[j] = sc;
                        mx = mx.max(sc);
                    }
                    let mut z = T::zero();
                    for x in row[..=i].iter_mut() {
                        *x = (*x - mx).exp();
                        z += *x;
                    }
                    for x in row[..=i].iter_mut() {
                        *x /= z;
                    }
                    for x in row[i + 1..].iter_mut() {
                        *x = T::zero();
                    }
                    let oi = &mut ob[i * c + hd * d..][..d];
                    oi.iter_mut().for_each(|x| *x = T::zero());
                    for j in 0..=i {
                        let p = row[j];
                        let vj = &vb[j * ckv + kvh * d..][..d];
                        for (o, &vv) in oi.iter_mut().zip(vj) {
                            *o += p * vv;
                        }
                    }
                }
            }
        });
}

/// Backward pass; accumulates into `dq`, `dk`, `dv`.
#[allow(clippy::too_many_arguments)]
pub fn backward<T: Float>(
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
    let (t, h, d) = (s.seq, s.heads, s.head_dim);
    let (c, ckv) = (h * d, s.kv_heads * d);
    let group = h / s.kv_heads;
    let scale = T::of(1.0 / (d as f64).sqrt());
    dq.par_chunks_mut(t * c)
        .zip(dk.par_chunks_mut(t * ckv))
        .zip(dv.par_chunks_mut(t * ckv))
        .enumerate()
        .for_each(|(b, ((dqb, dkb), dvb))| {
            let (qb, kb, vb) = (
                &q[b * t * c..][..t * c],
                &k[b * t * ckv..][..t * ckv],
                &v[b * t * ckv..][..t * ckv],
            );
            let ab = &att[b * h * t * t..][..h * t * t];
            let db = &dout[b * t * c..][..t * c];
            let mut dp = vec![T::zero(); t];
            for hd in 0..h {
                let kvh = hd / group;
                for i in 0..t {
                    let row = &ab[(hd * t + i) * t..][..t];
                    let doi = &db[i * c + hd * d..][..d];
                    let mut sum = T::zero();
                    for j in 0..=i {
                        let vj = &vb[j * ckv + kvh * d..][..d];
                        dp[j] = doi.iter().zip(vj).map(|(&a, &b)| a * b).sum::<T>();
                        sum += dp[j] * row[j];
                        let dvj = &mut dvb[j * ckv + kvh * d..][..d];
                        for (x, &g) in dvj.iter_mut().zip(doi) {
                            *x += row[j] * g;
                        }
                    }
                    for j in 0..=i {
                        let ds = row[j] * (dp[j] - sum) * scale;
                        let (qi, kj) = (&qb[i * c + hd * d..][..d], &kb[j * ckv + kvh * d..][..d]);
                        let dqi = &mut dqb[i * c + hd * d..][..d];
                        for (x, &kk) in dqi.iter_mut().zip(kj) {
                            *x += ds * kk;
                        }
                        let dkj = &mut dkb[j * ckv + kvh * d..][..d];
                        for (x, &qq) in dkj.iter_mut().zip(qi) {
                            *x += ds * qq;
                        }
                    }
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gradcheck::{check, dot, rand_vec};
    use crate::rng::Rng;

    fn run(q: &[f64], k: &[f64], v: &[f64], s: AttnShape, proj: &[f64]) -> (f64, Vec<f64>) {
        let mut o = vec![0.0; q.len()];
        let mut a = vec![0.0; s.batch * s.heads * s.seq * s.seq];
        forward(&mut o, &mut a, q, k, v, s);
        (dot(&o, proj), a)
    }

    fn gradcheck_shape(s: AttnShape) {
        let mut r = Rng::new(13);
        let n = s.batch * s.seq;
        let q = rand_vec(&mut r, n * s.heads * s.head_dim, 1.0);
        let k = rand_vec(&mut r, n * s.kv_heads * s.head_dim, 1.0);
        let v = rand_vec(&mut r, n * s.kv_heads * s.head_dim, 1.0);
        let proj = rand_vec(&mut r, q.len(), 1.0);
        let (_, a) = run(&q, &k, &v, s, &proj);
        let (mut dq, mut dk, mut dv) = (vec![0.0; q.len()], vec![0.0; k.len()], vec![0.0; v.len()]);
        backward(&mut dq, &mut dk, &mut dv, &proj, &a, &q, &k, &v, s);
        check("attention.dq", &q, &dq, |x| run(x, &k, &v, s, &proj).0);
        check("attention.dk", &k, &dk, |x| run(&q, x, &v, s, &proj).0);
        check("attention.dv", &v, &dv, |x| run(&q, &k, x, s, &proj).0);
    }

    #[test]
    fn gradcheck_mha_and_gqa() {
        gradcheck_shape(AttnShape {
            batch: 2,
            seq: 4,
            heads: 2,
            kv_heads: 2,
            head_dim: 3,
        });
        gradcheck_shape(AttnShape {
            batch: 1,
            seq: 3,
            heads: 4,
            kv_heads: 2,
            head_dim: 2,
        });
    }

    #[test]
    fn is_causal() {
        // Changing a later key/value must not change earlier outputs.
        let s = AttnShape {
            batch: 1,
            seq: 4,
            heads: 1,
            kv_heads: 1,
            head_dim: 2,
        };
        let mut r = Rng::new(1);
        let q = rand_vec(&mut r, 8, 1.0);
        let k = rand_vec(&mut r, 8, 1.0);
        let mut v = rand_vec(&mut r, 8, 1.0);
        let mut o1 = vec![0.0; 8];
        let mut a = vec![0.0; 16];
        forward(&mut o1, &mut a, &q, &k, &v, s);
        v[7] += 5.0;
        let mut o2 = vec![0.0; 8];
        forward(&mut o2, &mut a, &q, &k, &v, s);
        assert_eq!(o1[..6], o2[..6]);
        assert_ne!(o1[6..], o2[6..]);
    }
}
