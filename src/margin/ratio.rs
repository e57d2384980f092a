//! Exact rational helpers: an `i128` fraction with explicit rounding, checked `i128` steps, and a
//! 256-bit multiply-divide for the ADL score. Nothing here uses floating point.

use super::error::{MarginError, MarginResult};

/// An exact rational `num / den` with `den > 0`, e.g. an unrounded price in ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ratio {
    num: i128,
    den: i128,
}

impl Ratio {
    /// `num / den`; the sign is moved to the numerator. `den == 0` or `i128::MIN` parts are
    /// errors.
    pub fn new(num: i128, den: i128) -> MarginResult<Ratio> {
        if den == 0 {
            return Err(MarginError::Overflow("division by zero"));
        }
        if den < 0 {
            let num = num
                .checked_neg()
                .ok_or(MarginError::Overflow("ratio sign"))?;
            let den = den
                .checked_neg()
                .ok_or(MarginError::Overflow("ratio sign"))?;
            return Ok(Ratio { num, den });
        }
        Ok(Ratio { num, den })
    }
    pub fn num(self) -> i128 {
        self.num
    }
    pub fn den(self) -> i128 {
        self.den
    }
    /// Largest integer ≤ the value.
    pub fn floor(self) -> i128 {
        div_floor(self.num, self.den)
    }
    /// Smallest integer ≥ the value.
    pub fn ceil(self) -> i128 {
        div_ceil(self.num, self.den)
    }
    /// Toward zero.
    pub fn trunc(self) -> i128 {
        self.num / self.den
    }
    /// Nearest integer, ties away from zero.
    pub fn round_half_away(self) -> i128 {
        let q = self.num / self.den;
        let r = self.num % self.den;
        // |r| ≥ den/2 ⇔ 2|r| ≥ den; |r| < den ≤ i128::MAX so 2|r| may need u128.
        let twice = r.unsigned_abs() * 2;
        if twice >= self.den.unsigned_abs() {
            if self.num < 0 { q - 1 } else { q + 1 }
        } else {
            q
        }
    }
    /// `self > 0`.
    pub fn is_positive(self) -> bool {
        self.num > 0
    }
}

/// `⌊a / b⌋` for `b != 0` (callers guarantee `b != 0` and not `MIN / -1`).
pub(crate) fn div_floor(a: i128, b: i128) -> i128 {
    let q = a / b;
    let r = a % b;
    if r != 0 && ((r < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// `⌈a / b⌉` for `b != 0`.
pub(crate) fn div_ceil(a: i128, b: i128) -> i128 {
    let q = a / b;
    let r = a % b;
    if r != 0 && ((r < 0) == (b < 0)) {
        q + 1
    } else {
        q
    }
}

/// Checked `a * b` in `i128`.
pub(crate) fn mul(a: i128, b: i128, what: &'static str) -> MarginResult<i128> {
    a.checked_mul(b).ok_or(MarginError::Overflow(what))
}

/// Checked `a + b` in `i128`.
pub(crate) fn add(a: i128, b: i128, what: &'static str) -> MarginResult<i128> {
    a.checked_add(b).ok_or(MarginError::Overflow(what))
}

/// Checked `a - b` in `i128`.
pub(crate) fn sub(a: i128, b: i128, what: &'static str) -> MarginResult<i128> {
    a.checked_sub(b).ok_or(MarginError::Overflow(what))
}

/// Narrow to `i64` or fail.
pub(crate) fn to_i64(v: i128, what: &'static str) -> MarginResult<i64> {
    i64::try_from(v).map_err(|_| MarginError::Overflow(what))
}

/// The full 256-bit product of two `u128`, as `(high, low)`.
fn mul_wide(a: u128, b: u128) -> (u128, u128) {
    const M: u128 = u64::MAX as u128;
    let (a1, a0) = (a >> 64, a & M);
    let (b1, b0) = (b >> 64, b & M);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    // Each term < 2^64, so the sum < 3·2^64 fits.
    let mid = (p00 >> 64) + (p01 & M) + (p10 & M);
    let lo = (p00 & M) | ((mid & M) << 64);
    // The true high half is < 2^128, so this sum cannot overflow.
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

/// `⌊a · b / d⌋` with a 256-bit intermediate; `None` if `d == 0` or the quotient exceeds `u128`.
pub(crate) fn mul_div_floor_u128(a: u128, b: u128, d: u128) -> Option<u128> {
    if d == 0 {
        return None;
    }
    let (hi, lo) = mul_wide(a, b);
    if hi >= d {
        return None;
    }
    // Restoring long division of (hi, lo) by d, one bit at a time; the running remainder stays
    // < d, and `carry` holds the 129th bit after each shift, so the wrapping subtraction below is
    // exact (the true value 2^128 + r is ≥ d and the difference is < d).
    let mut r = hi;
    let mut q: u128 = 0;
    for i in (0..128).rev() {
        let carry = r >> 127;
        r = (r << 1) | ((lo >> i) & 1);
        if carry == 1 || r >= d {
            r = r.wrapping_sub(d);
            q |= 1 << i;
        }
    }
    Some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_directions() {
        let r = |n, d| Ratio::new(n, d).unwrap();
        assert_eq!(r(7, 2).floor(), 3);
        assert_eq!(r(7, 2).ceil(), 4);
        assert_eq!(r(-7, 2).floor(), -4);
        assert_eq!(r(-7, 2).ceil(), -3);
        assert_eq!(r(7, -2).floor(), -4);
        assert_eq!(r(7, 2).round_half_away(), 4);
        assert_eq!(r(-7, 2).round_half_away(), -4);
        assert_eq!(r(-5, 3).round_half_away(), -2);
        assert_eq!(r(4, 3).round_half_away(), 1);
        assert_eq!(r(6, 3).ceil(), 2);
        assert_eq!(r(-6, 3).floor(), -2);
        assert!(Ratio::new(1, 0).is_err());
        assert!(Ratio::new(i128::MIN, -1).is_err());
    }

    #[test]
    fn wide_mul_div() {
        assert_eq!(mul_div_floor_u128(7, 3, 2), Some(10));
        let big = u128::MAX;
        assert_eq!(mul_div_floor_u128(big, big, big), Some(big));
        assert_eq!(mul_div_floor_u128(big, 2, 4), Some(big / 2));
        assert_eq!(mul_div_floor_u128(big, 2, 1), None);
        assert_eq!(mul_div_floor_u128(1, 1, 0), None);
        let a = 1u128 << 100;
        assert_eq!(mul_div_floor_u128(a, a, 1u128 << 90), Some(1u128 << 110));
        assert_eq!(
            mul_div_floor_u128(10u128.pow(30), 10u128.pow(18), 3 * 10u128.pow(20)),
            Some(10u128.pow(28) / 3)
        );
    }
}
