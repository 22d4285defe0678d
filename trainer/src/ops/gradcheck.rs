//! Finite-difference gradient checking in f64 (test helper).

use crate::rng::Rng;

/// Random vector in [-1, 1) scaled by `s`.
pub fn rand_vec(rng: &mut Rng, n: usize, s: f64) -> Vec<f64> {
    (0..n).map(|_| (rng.uniform() * 2.0 - 1.0) * s).collect()
}

/// Checks `analytic` against central differences of `f` at `x`; `f` maps the input to a scalar.
pub fn check(name: &str, x: &[f64], analytic: &[f64], mut f: impl FnMut(&[f64]) -> f64) {
    assert_eq!(x.len(), analytic.len(), "{name}: gradient length");
    let h = 1e-6;
    let mut xp = x.to_vec();
    let mut worst = 0.0f64;
    for i in 0..x.len() {
        xp[i] = x[i] + h;
        let fp = f(&xp);
        xp[i] = x[i] - h;
        let fm = f(&xp);
        xp[i] = x[i];
        let num = (fp - fm) / (2.0 * h);
        let err = (num - analytic[i]).abs() / (1e-6 + num.abs().max(analytic[i].abs()));
        let abs = (num - analytic[i]).abs();
        // Accept either a small relative or a tiny absolute error (near-zero gradients).
        let e = if abs < 1e-8 { 0.0 } else { err };
        worst = worst.max(e);
        assert!(
            e < 1e-5,
            "{name}[{i}]: numeric {num} vs analytic {} (rel {err:.3e})",
            analytic[i]
        );
    }
    eprintln!(
        "gradcheck {name}: {} entries, worst rel err {worst:.2e}",
        x.len()
    );
}

/// A fixed random projection of an output, so a vector-valued op becomes a scalar loss
/// `L = sum(out * proj)` whose output gradient is `proj`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
