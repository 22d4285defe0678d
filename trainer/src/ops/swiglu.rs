//! SwiGLU gating of an expert MLP: `silu(gate) * up` (the `down` projection is a linear).

use rayon::prelude::*;

use crate::float::Float;

#[inline]
fn sigmoid<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

/// `out = silu(gate) * up`, elementwise.
pub fn forward<T: Float>(out: &mut [T], gate: &[T], up: &[T]) {
    out.par_iter_mut()
        .zip(gate.par_iter())
        .zip(up.par_iter())
        .for_each(|((o, &g), &u)| {
            *o = g * sigmoid(g) * u;
        });
}

/// Backward of [`forward`], accumulated into `dgate` and `dup`.
pub fn backward<T: Float>(dgate: &mut [T], dup: &mut [T], dout: &[T], gate: &[T], up: &[T]) {
    dgate
        .par_iter_mut()
        .zip(dup.par_iter_mut())
        .enumerate()
        .for_each(|(i, (dg, du))| {
            let (g, u, d) = (gate[i], up[i], dout[i]);
            let sg = sigmoid(g);
            *du += d * g * sg;
            *dg += d * u * sg * (T::one() + g * (T::one() - sg));
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::gradcheck::{check, dot, rand_vec};
    use crate::rng::Rng;

    #[test]
    fn gradcheck() {
        let mut r = Rng::new(17);
        let n = 12;
        let g = rand_vec(&mut r, n, 3.0);
        let u = rand_vec(&mut r, n, 1.0);
        let proj = rand_vec(&mut r, n, 1.0);
        let run = |g: &[f64], u: &[f64]| {
            let mut o = vec![0.0; n];
            forward(&mut o, g, u);
            dot(&o, &proj)
        };
        let (mut dg, mut du) = (vec![0.0; n], vec![0.0; n]);
        backward(&mut dg, &mut du, &proj, &g, &u);
        check("swiglu.dgate", &g, &dg, |x| run(x, &u));
        check("swiglu.dup", &u, &du, |x| run(&g, x));
    }
}
