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

/// Query rows per causal block: row block `[r0, r1)` only attends to keys `[0, r1)`, so
/// the GEMMs skip most of the masked upper triangle (3/8 of the work at 4 blocks).
const BLOCK: usize = 64;

/// Forward pass; fills `out` and the probabilities `att`.
///
/// Per (sequence, head) the scores and the weighted sum are GEMMs over strided head
/// views, block-causal: each block of query rows against the keys up to its last row
/// (the masked entries inside a block are computed, then zeroed).
pub fn forward<T: Float>(out: &mut [T], att: &mut [T], q: &[T], k: &[T], v: &[T], s: AttnShape) {
    forward_blocked(out, att, q, k, v, s, BLOCK)
}

fn blocks(t: usize, blk: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..t)
        .step_by(blk.max(1))
        .map(move |r0| (r0, (r0 + blk).min(t)))
}

fn forward_blocked<T: Float>(
    out: &mut [T],
    att: &mut [T],
    q: &[T],
    k: &[T],
    v: &[T],
    s: AttnShape,
    blk: usize,
) {
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
                let (qc, kc) = (hd * d..(hd + 1) * d, kvh * d..(kvh + 1) * d);
                let pr = &mut ab[hd * t * t..][..t * t];
                for (r0, r1) in blocks(t, blk) {
                    general_mat_mul(
                        scale,
                        &qb.slice(s![r0..r1, qc.clone()]),
                        &kb.slice(s![0..r1, kc.clone()]).t(),
                        T::zero(),
                        &mut mat_mut(pr, t, t).slice_mut(s![r0..r1, 0..r1]),
                    );
                    for i in r0..r1 {
                        let (row, masked) = pr[i * t..][..t].split_at_mut(i + 1);
                        let mx = float::max(row);
                        float::exp_shifted(row, mx);
                        let inv = T::one() / float::sum(row);
                        row.iter_mut().for_each(|x| *x *= inv);
                        masked.iter_mut().for_each(|x| *x = T::zero());
                    }
                    general_mat_mul(
                        T::one(),
                        &mat(pr, t, t).slice(s![r0..r1, 0..r1]),
                        &vb.slice(s![0..r1, kc.clone()]),
                        T::zero(),
                        &mut ov.slice_mut(s![r0..r1, qc.clone()]),
                    );
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
    backward_blocked(dq, dk, dv, dout, att, q, k, v, s, BLOCK)
}

#[allow(clippy::too_many_arguments)]
fn backward_blocked<T: Float>(
    dq: &mut [T],
    dk: &mut [T],
    dv: &mut [T],
    dout: &[T],
    att: &[T],
    q: &[T],
    k: &[T],
    v: &[T],
    s: AttnShape,
    blk: usize,
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
                let (qc, kc) = (hd * d..(hd + 1) * d, kvh * d..(kvh + 1) * d);
                let pr = &att[(b * h + hd) * t * t..][..t * t];
                let p = mat(pr, t, t);
                for (r0, r1) in blocks(t, blk) {
                    let (rows, cols) = (r0..r1, 0..r1);
                    let pb = p.slice(s![rows.clone(), cols.clone()]);
                    let dob = db.slice(s![rows.clone(), qc.clone()]);
                    // dV += P^T dO ; dP = dO V^T
                    general_mat_mul(
                        T::one(),
                        &pb.t(),
                        &dob,
                        T::one(),
                        &mut dvv.slice_mut(s![cols.clone(), kc.clone()]),
                    );
                    general_mat_mul(
                        T::one(),
                        &dob,
                        &vb.slice(s![cols.clone(), kc.clone()]).t(),
                        T::zero(),
                        &mut mat_mut(&mut ds, t, t).slice_mut(s![rows.clone(), cols.clone()]),
                    );
                    // dS = P * (dP - rowsum(P * dP)) * scale; zero where P is (the mask).
                    for i in rows.clone() {
                        let (prow, drow) = (&pr[i * t..][..r1], &mut ds[i * t..][..r1]);
                        let sum = float::dot(&prow[..=i], &drow[..=i]);
                        for (dj, &pj) in drow[..=i].iter_mut().zip(&prow[..=i]) {
                            *dj = pj * (*dj - sum) * scale;
                        }
                        drow[i + 1..].iter_mut().for_each(|x| *x = T::zero());
                    }
                    let dsb = mat(&ds, t, t);
                    let dsb = dsb.slice(s![rows.clone(), cols.clone()]);
                    // dQ += dS K ; dK += dS^T Q
                    general_mat_mul(
                        T::one(),
                        &dsb,
                        &kb.slice(s![cols.clone(), kc.clone()]),
                        T::one(),
                        &mut dqv.slice_mut(s![rows.clone(), qc.clone()]),
                    );
                    general_mat_mul(
                        T::one(),
                        &dsb.t(),
                        &qb.slice(s![rows, qc.clone()]),
                        T::one(),
                        &mut dkv.slice_mut(s![cols, kc.clone()]),
                    );
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
    fn blocked_matches_unblocked_and_gradchecks() {
        let mut r = Rng::new(31);
        let s = AttnShape {
            batch: 2,
            seq: 7,
            heads: 4,
            kv_heads: 2,
            head_dim: 2,
        };
        let n = s.batch * s.seq;
        let q = rand_vec(&mut r, n * 8, 1.0);
        let k = rand_vec(&mut r, n * 4, 1.0);
        let v = rand_vec(&mut r, n * 4, 1.0);
        let proj = rand_vec(&mut r, n * 8, 1.0);
        let att_len = s.batch * s.heads * s.seq * s.seq;
        let fwd = |blk: usize, q: &[f64], k: &[f64], v: &[f64]| {
            let (mut o, mut a) = (vec![0.0; n * 8], vec![9.0; att_len]);
            forward_blocked(&mut o, &mut a, q, k, v, s, blk);
            (o, a)
        };
        let (o_ref, a_ref) = fwd(s.seq, &q, &k, &v);
        for blk in [1, 2, 3] {
            let (o, a) = fwd(blk, &q, &k, &v);
            for (x, y) in o.iter().zip(&o_ref).chain(a.iter().zip(&a_ref)) {
                assert!((x - y).abs() < 1e-12, "block {blk}: {x} vs {y}");
            }
            let (mut dq, mut dk, mut dv) =
                (vec![0.0; q.len()], vec![0.0; k.len()], vec![0.0; v.len()]);
            backward_blocked(&mut dq, &mut dk, &mut dv, &proj, &a, &q, &k, &v, s, blk);
            let loss = |q: &[f64], k: &[f64], v: &[f64]| dot(&fwd(blk, q, k, v).0, &proj);
            check("attention.blocked.dq", &q, &dq, |x| loss(x, &k, &v));
            check("attention.blocked.dk", &k, &dk, |x| loss(&q, x, &v));
            check("attention.blocked.dv", &v, &dv, |x| loss(&q, &k, x));
        }
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
