//! RMSNorm as in `OlmoeRMSNorm`: `w * x / sqrt(mean(x^2) + eps)`.
//!
//! transformers upcasts to f32 for the statistics; our scalar is f32 or f64, so the
//! statistics are always computed in at least f32, then scaled by the gain.

use rayon::prelude::*;

use crate::float::Float;

/// Normalises each of the `n` rows of width `c`; stores `1/rms` per row in `rstd`.
pub fn forward<T: Float>(out: &mut [T], rstd: &mut [T], x: &[T], w: &[T], c: usize, eps: f64) {
    out.par_chunks_mut(c)
        .zip(rstd.par_iter_mut())
        .zip(x.par_chunks(c))
        .for_each(|((o, r), xr)| {
            let ms = xr.iter().map(|&v| v * v).sum::<T>() / T::of(c as f64);
            let rs = T::one() / (ms + T::of(eps)).sqrt();
            *r = rs;
            for j in 0..c {
                o[j] = w[j] * (xr[j] * rs);
            }
        });
}

/// Backward of [`forward`]: accumulates into `dx` and `dw`.
pub fn backward<T: Float>(
    dx: &mut [T],
    dw: &mut [T],
    dout: &[T],
    x: &[T],
    w: &[T],
    rstd: &[T],
    c: usize,
) {
    dx.par_chunks_mut(c)
        .zip(dout.par_chunks(c))
        .zip(x.par_chunks(c))
        .zip(rstd.par_iter())
        .for_each(|(((dxr, dor), xr), &rs)| {
            // d/dx of x*rs: rs * (g - xhat * mean(g * xhat)) with g = dout * w.
            let mut m = T::zero();
            for j in 0..c {
                m += dor[j] * w[j] * xr[j] * rs;
            }
            m /= T::of(c as f64);
            for j in 0..c {
                dxr[j] += rs * (dor[j] * w[j] - xr[j] * rs * m);
            }
        });
    for ((dor, xr), &rs) in dout.chunks(c).zip(x.chunks(c)).zip(rstd) {
        for j in 0..c {
            dw[j] += dor[j] * xr[j] * rs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gradcheck::{check, dot, rand_vec};
    use crate::rng::Rng;

    #[test]
    fn gradcheck() {
        let mut r = Rng::new(9);
        let (n, c) = (4, 6);
        let x = rand_vec(&mut r, n * c, 2.0);
        let w = rand_vec(&mut r, c, 1.0);
        let proj = rand_vec(&mut r, n * c, 1.0);
        let run = |x: &[f64], w: &[f64]| {
            let mut o = vec![0.0; n * c];
            let mut rs = vec![0.0; n];
            forward(&mut o, &mut rs, x, w, c, 1e-5);
            (dot(&o, &proj), rs)
        };
        let (_, rs) = run(&x, &w);
        let mut dx = vec![0.0; n * c];
        let mut dw = vec![0.0; c];
        backward(&mut dx, &mut dw, &proj, &x, &w, &rs, c);
        check("rmsnorm.dx", &x, &dx, |xp| run(xp, &w).0);
        check("rmsnorm.dw", &w, &dw, |wp| run(&x, wp).0);
    }
}
