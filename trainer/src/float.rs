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
}
