//! Linear layer without bias, `y = x W^T` with PyTorch's `[out, in]` weight layout.
//!
//! The GEMMs go through ndarray's safe `general_mat_mul` (matrixmultiply kernels).
//! Work is split into one row block per rayon thread: each block packs the shared
//! operand once (packing it per 64 rows cost a fifth of the step on the 4096-row
//! lm_head). Splitting rows never changes an output element's arithmetic (it is the
//! same dot product over the same k-blocks in the same kernel), so results stay
//! bit-identical for any thread count (tested in `model`).

use ndarray::{linalg::general_mat_mul, s, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use crate::float::Float;

/// Fewest rows per parallel task: below this a task costs more to schedule than to run.
const MIN_BLOCK: usize = 64;

/// Rows per parallel task for a GEMM with `rows` output rows: one block per thread.
fn block(rows: usize) -> usize {
    rows.div_ceil(rayon::current_num_threads().max(1))
        .max(MIN_BLOCK)
}

fn view<T: Float>(x: &[T], r: usize, c: usize) -> ArrayView2<'_, T> {
    ArrayView2::from_shape((r, c), x).expect("matmul: slice length does not match shape")
}

fn view_mut<T: Float>(x: &mut [T], r: usize, c: usize) -> ArrayViewMut2<'_, T> {
    ArrayViewMut2::from_shape((r, c), x).expect("matmul: slice length does not match shape")
}

/// `y[n, o] = x[n, i] · w[o, i]^T` (overwrites `y`).
pub fn forward<T: Float>(y: &mut [T], x: &[T], w: &[T], n: usize, i: usize, o: usize) {
    assert_eq!(y.len(), n * o);
    assert_eq!(x.len(), n * i);
    assert_eq!(w.len(), o * i);
    if n == 0 {
        return;
    }
    let wv = view(w, o, i);
    let rb = block(n);
    y.par_chunks_mut(rb * o)
        .zip(x.par_chunks(rb * i))
        .for_each(|(yc, xc)| {
            let rows = yc.len() / o;
            general_mat_mul(
                T::one(),
                &view(xc, rows, i),
                &wv.t(),
                T::zero(),
                &mut view_mut(yc, rows, o),
            );
        });
}

/// Backward of [`forward`]: `dx += dy · w` and `dw += dy^T · x`.
#[allow(clippy::too_many_arguments)]
pub fn backward<T: Float>(
    dx: Option<&mut [T]>,
    dw: &mut [T],
    dy: &[T],
    x: &[T],
    w: &[T],
    n: usize,
    i: usize,
    o: usize,
) {
    assert_eq!(dy.len(), n * o);
    assert_eq!(dw.len(), o * i);
    if n == 0 {
        return;
    }
    if let Some(dx) = dx {
        assert_eq!(dx.len(), n * i);
        let wv = view(w, o, i);
        let rb = block(n);
        dx.par_chunks_mut(rb * i)
            .zip(dy.par_chunks(rb * o))
            .for_each(|(dxc, dyc)| {
                let rows = dxc.len() / i;
                general_mat_mul(
                    T::one(),
                    &view(dyc, rows, o),
                    &wv,
                    T::one(),
                    &mut view_mut(dxc, rows, i),
                );
            });
    }
    let dyv = view(dy, n, o);
    let xv = view(x, n, i);
    let ob = block(o);
    dw.par_chunks_mut(ob * i).enumerate().for_each(|(bi, dwc)| {
        let o0 = bi * ob;
        let rows = dwc.len() / i;
        let dyt = dyv.slice(s![.., o0..o0 + rows]);
        general_mat_mul(
            T::one(),
            &dyt.t(),
            &xv,
            T::one(),
            &mut view_mut(dwc, rows, i),
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gradcheck::{check, dot, rand_vec};
    use crate::rng::Rng;

    #[test]
    fn matches_naive_and_gradcheck() {
        let mut r = Rng::new(3);
        // n crosses a block boundary to exercise the chunking.
        let (n, i, o) = (70, 5, 3);
        let x = rand_vec(&mut r, n * i, 1.0);
        let w = rand_vec(&mut r, o * i, 1.0);
        let mut y = vec![0.0; n * o];
        forward(&mut y, &x, &w, n, i, o);
        for a in 0..n {
            for b in 0..o {
                let e: f64 = (0..i).map(|k| x[a * i + k] * w[b * i + k]).sum();
                assert!((y[a * o + b] - e).abs() < 1e-12);
            }
        }
        let proj = rand_vec(&mut r, n * o, 1.0);
        let mut dx = vec![0.0; n * i];
        let mut dw = vec![0.0; o * i];
        backward(Some(&mut dx), &mut dw, &proj, &x, &w, n, i, o);
        let loss = |x: &[f64], w: &[f64]| {
            let mut y = vec![0.0; n * o];
            forward(&mut y, x, w, n, i, o);
            dot(&y, &proj)
        };
        check("linear.dx", &x, &dx, |xp| loss(xp, &w));
        check("linear.dw", &w, &dw, |wp| loss(&x, wp));
    }
}
