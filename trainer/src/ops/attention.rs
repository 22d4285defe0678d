//! Causal multi-head attention (grouped-query when `kv_heads < heads`), the
//! eager path of transformers: `softmax(q k^T / sqrt(d) + causal) v`.
//!
//! Layout: `q`, `out` are `[batch, seq, heads, d]`; `k`, `v` are `[batch, seq, kv_heads, d]`;
//! the saved probabilities `att` are `[batch, heads, seq, seq]` (upper triangle zero).
//! Sequences of a batch are independent, so they run in parallel.

use ndarray::{linalg::general_mat_mul, s, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use crate::float::{self, Float};

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

/// Row-major `[rows, cols]` view of a slice.
fn mat<T: Float>(x: &[T], rows: usize, cols: usize) -> ArrayView2<'_, T> {
    ArrayView2::from_shape((rows, cols), x).expect("attention: slice does not match shape")
}

fn mat_mut<T: Float>(x: &mut [T], rows: usize, cols: usize) -> ArrayViewMut2<'_, T> {
    ArrayViewMut2::from_shape((rows, cols), x).expect("attention: slice does not match shape")
}

/// Forward pass; fills `out` and the probabilities `att`.
///
/// Per (sequence, head) the scores and the weighted sum are GEMMs over strided head
/// views (the masked upper triangle is computed and then zeroed: cheaper than scalar
/// loops at these sizes).
pub fn forward<T: Float>(out: &mut [T], att: &mut [T], q: &[T], k: &[T], v: &[T], s: AttnShape) {
    let (t, h, d) = (s.seq, s.heads, s.head_dim);
    let (c, ckv) = (h * d, s.kv_heads * d);
    let group = h / s.kv_heads;
    let scale = T::of(1.0 / (d as f64).sqrt());
    out.par_chunks_mut(t * c)
        .zip(att.par_chunks_mut(h * t * t))
        .enumerate()
        .for_each(|(b, (ob, ab))| {
            let qb = mat(&q[b * t * c..][..t * c], t, c);
            let kb = mat(&k[b * t * ckv..][..t * ckv], t, ckv);
            let vb = mat(&v[b * t * ckv..][..t * ckv], t, ckv);
            let mut ov = mat_mut(ob, t, c);
            for hd in 0..h {
                let kvh = hd / group;
                let (qs, ks) = (s![.., hd * d..(hd + 1) * d], s![.., kvh * d..(kvh + 1) * d]);
                let pr = &mut ab[hd * t * t..][..t * t];
                general_mat_mul(
                    scale,
                    &qb.slice(qs),
                    &kb.slice(ks).t(),
                    T::zero(),
                    &mut mat_mut(pr, t, t),
                );
                for i in 0..t {
                    let (row, masked) = pr[i * t..][..t].split_at_mut(i + 1);
                    let mx = float::max(row);
                    float::exp_shifted(row, mx);
                    let inv = T::one() / float::sum(row);
                    row.iter_mut().for_each(|x| *x *= inv);
                    masked.iter_mut().for_each(|x| *x = T::zero());
                }
                general_mat_mul(
                    T::one(),
                    &mat(pr, t, t),
                    &vb.slice(ks),
                    T::zero(),
                    &mut ov.slice_mut(qs),
                );
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
            let qb = mat(&q[b * t * c..][..t * c], t, c);
            let kb = mat(&k[b * t * ckv..][..t * ckv], t, ckv);
            let vb = mat(&v[b * t * ckv..][..t * ckv], t, ckv);
            let db = mat(&dout[b * t * c..][..t * c], t, c);
            let (mut dqv, mut dkv, mut dvv) = (
                mat_mut(dqb, t, c),
                mat_mut(dkb, t, ckv),
                mat_mut(dvb, t, ckv),
            );
            let mut ds = vec![T::zero(); t * t];
            for hd in 0..h {
                let kvh = hd / group;
                let (qs, ks) = (s![.., hd * d..(hd + 1) * d], s![.., kvh * d..(kvh + 1) * d]);
                let p = mat(&att[(b * h + hd) * t * t..][..t * t], t, t);
                // dV += P^T dO ; dP = dO V^T
                general_mat_mul(
                    T::one(),
                    &p.t(),
                    &db.slice(qs),
                    T::one(),
                    &mut dvv.slice_mut(ks),
                );
                general_mat_mul(
                    T::one(),
                    &db.slice(qs),
                    &vb.slice(ks).t(),
                    T::zero(),
                    &mut mat_mut(&mut ds, t, t),
                );
                // dS = P * (dP - rowsum(P * dP)) * scale; zero where P is (the mask).
                let pr = p.as_slice().expect("contiguous probabilities");
                for i in 0..t {
                    let (prow, drow) = (&pr[i * t..][..t], &mut ds[i * t..][..t]);
                    let sum = float::dot(&prow[..=i], &drow[..=i]);
                    for (dj, &pj) in drow[..=i].iter_mut().zip(&prow[..=i]) {
                        *dj = pj * (*dj - sum) * scale;
                    }
                    drow[i + 1..].iter_mut().for_each(|x| *x = T::zero());
                }
                let dsm = mat(&ds, t, t);
                // dQ += dS K ; dK += dS^T Q
                general_mat_mul(
                    T::one(),
                    &dsm,
                    &kb.slice(ks),
                    T::one(),
                    &mut dqv.slice_mut(qs),
                );
                general_mat_mul(
                    T::one(),
                    &dsm.t(),
                    &qb.slice(qs),
                    T::one(),
                    &mut dkv.slice_mut(ks),
                );
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
