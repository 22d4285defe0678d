//! The scalar type the trainer is generic over.
//!
//! Training runs in `f32`; the finite-difference gradient checks run the very same
//! code in `f64`, where central differences are accurate to ~1e-8.

use std::fmt::Debug;
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, Neg, SubAssign};

/// A floating-point scalar usable by every op (implemented for `f32` and `f64`).
pub trait Float:
    ndarray::LinalgScalar
    + num_traits::Float
    + Send
    + Sync
    + Debug
    + Default
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Neg<Output = Self>
    + Sum
    + 'static
{
    /// Converts from `f64` (rounding for `f32`).
    fn of(x: f64) -> Self;
    /// Widens to `f64`.
    fn f64(self) -> f64;
    /// Name of the type, for diagnostics.
    const NAME: &'static str;
    /// `e^x` for the hot loops (softmaxes, cross-entropy, SiLU). `f32`: a branchless
    /// Cephes-style polynomial that the compiler vectorises (within 2 ulp of `exp` on
    /// the range softmax uses, inputs below -87.3 give ~1e-38 instead of 0); `f64`: the
    /// exact `exp`, so gradient checks see the reference function.
    fn fexp(self) -> Self;
}

/// Sum of a slice in a fixed order: 16 interleaved partial sums, then those in order.
/// The same bits for any thread count (the order depends only on the length), and
/// vectorisable, unlike a strict left-to-right fold.
#[inline]
pub fn sum<T: Float>(xs: &[T]) -> T {
    let mut acc = [T::zero(); 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    let mut s = T::zero();
    for (a, &x) in acc.iter_mut().zip(chunks.remainder()) {
        *a += x;
    }
    for a in acc {
        s += a;
    }
    s
}

/// Sum of `a[i] * b[i]`, in the fixed order of [`sum`].
#[inline]
pub fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    let mut acc = [T::zero(); 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..16 {
            acc[i] += x[i] * y[i];
        }
    }
    for i in 0..ra.len().min(rb.len()) {
        acc[i] += ra[i] * rb[i];
    }
    let mut s = T::zero();
    for a in acc {
        s += a;
    }
    s
}

/// `x[i] = e^(x[i] - shift)` over a slice ([`Float::fexp`]).
#[inline]
pub fn exp_shifted<T: Float>(x: &mut [T], shift: T) {
    for v in x.iter_mut() {
        *v = (*v - shift).fexp();
    }
}

/// Largest element (`-inf` for an empty slice), in a vectorisable fixed order.
#[inline]
pub fn max<T: Float>(xs: &[T]) -> T {
    let mut acc = [T::neg_infinity(); 16];
    let mut chunks = xs.chunks_exact(16);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = if x > *a { x } else { *a };
        }
    }
    for (a, &x) in acc.iter_mut().zip(chunks.remainder()) {
        *a = if x > *a { x } else { *a };
    }
    acc.iter()
        .fold(T::neg_infinity(), |m, &a| if a > m { a } else { m })
}

/// `e^x` in f32 without branches or calls: `2^k * p(r)` with `x = k ln2 + r`.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so `k * LN2_HI` is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to the nearest integer with plain float adds (SSE2).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.7);
    let k = (x * LOG2E + ROUND) - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    // k is in [-126, 128]; build 2^k from its exponent bits (two steps keep k = 128 finite).
    let ki = k as i32;
    let half = ki >> 1;
    let s1 = f32::from_bits(((half + 127) as u32) << 23);
    let s2 = f32::from_bits(((ki - half + 127) as u32) << 23);
    y * s1 * s2
}

impl Float for f32 {
    #[inline]
    fn of(x: f64) -> Self {
        x as f32
    }
    #[inline]
    fn f64(self) -> f64 {
        self as f64
    }
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn fexp(self) -> Self {
        exp_f32(self)
    }
}

impl Float for f64 {
    #[inline]
    fn of(x: f64) -> Self {
        x
    }
    #[inline]
    fn f64(self) -> f64 {
        self
    }
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn fexp(self) -> Self {
        self.exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_is_within_two_ulp() {
        let mut worst = 0u32;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (a, b) = (x.fexp(), x.exp());
            let ulp = (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as u32;
            assert!(ulp <= 2, "exp({x}) = {a}, expected {b}");
            worst = worst.max(ulp);
            x += 0.001_37;
        }
        assert_eq!(0f32.fexp(), 1.0);
        assert!(f32::NEG_INFINITY.fexp() < 1e-37);
        assert!((-1e30f32).fexp() >= 0.0);
        assert!(88.7f32.fexp().is_finite());
        eprintln!("fexp worst error {worst} ulp");
    }
}
