//! Exact rational helpers: an `i128` fraction with explicit rounding, checked `i128` steps, and a
//! 256-bit multiply-divide for the ADL score. Nothing here uses floating point.

use super::error::{MarginError, MarginResult};

/// An exact rational `num / den` in lowest terms with `den > 0`, e.g. an unrounded price in
/// ticks. Totally ordered by value (compared without overflow).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ratio {
    num: i128,
    den: i128,
}

impl Ratio {
    /// `num / den`, reduced to lowest terms with the sign moved to the numerator. `den == 0` is
    /// an error, and so is an `i128::MIN` part that cannot be negated.
    pub fn new(num: i128, den: i128) -> MarginResult<Ratio> {
        if den == 0 {
            return Err(MarginError::Overflow("division by zero"));
        }
        let (num, den) = if den < 0 {
            (
                num.checked_neg().ok_or(MarginError::Overflow("ratio sign"))?,
                den.checked_neg().ok_or(MarginError::Overflow("ratio sign"))?,
            )
        } else {
            (num, den)
        };
        // g ≥ 1 divides both; g ≤ den ≤ i128::MAX, so it fits i128.
        let g = gcd(num.unsigned_abs(), den.unsigned_abs()) as i128;
        Ok(Ratio { num: num / g, den: den / g })
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
        if twice >= self.den.unsigned_abs() { if self.num < 0 { q - 1 } else { q + 1 } } else { q }
    }
    /// `self > 0`.
    pub fn is_positive(self) -> bool {
        self.num > 0
    }
}

impl Ord for Ratio {
    /// Exact comparison by continued-fraction expansion: integer parts first, then the
    /// reciprocals of the fractional parts, so no product of numerators and denominators is ever
    /// formed.
    fn cmp(&self, other: &Ratio) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        // Both denominators are positive: when the cross products fit, they decide (the same
        // answer, without the divisions of the expansion below).
        if let (Some(l), Some(r)) = (self.num.checked_mul(other.den), other.num.checked_mul(self.den)) {
            return l.cmp(&r);
        }
        let (mut a, mut b) = (self.num, self.den);
        let (mut c, mut d) = (other.num, other.den);
        // Invariant: compare a/b with c/d (b, d > 0), `flip` inverts the answer.
        let mut flip = false;
        loop {
            // b, d > 0: Euclidean division is floor division, and never overflows.
            let (qa, qc) = (a.div_euclid(b), c.div_euclid(d));
            if qa != qc {
                let o = qa.cmp(&qc);
                return if flip { o.reverse() } else { o };
            }
            let (ra, rc) = (a.rem_euclid(b), c.rem_euclid(d)); // 0 ≤ r < divisor
            match (ra == 0, rc == 0) {
                (true, true) => return Ordering::Equal,
                (true, false) => {
                    return if flip { Ordering::Greater } else { Ordering::Less };
                }
                (false, true) => {
                    return if flip { Ordering::Less } else { Ordering::Greater };
                }
                (false, false) => {
                    // ra/b vs rc/d  ⇔  d/rc vs b/ra, reversed.
                    (a, b, c, d) = (b, ra, d, rc);
                    flip = !flip;
                }
            }
        }
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Ratio) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        // Once both fit 64 bits, go on with 64-bit remainders: a 128-bit one is a call into
        // compiler-builtins and several times slower (the same gcd either way).
        if let (Ok(a64), Ok(b64)) = (u64::try_from(a), u64::try_from(b)) {
            return u128::from(gcd64(a64, b64)).max(1);
        }
        (a, b) = (b, a % b);
    }
    a.max(1)
}

fn gcd64(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `⌊a / b⌋` for `b != 0` (callers guarantee `b != 0` and not `MIN / -1`).
pub(crate) fn div_floor(a: i128, b: i128) -> i128 {
    let q = a / b;
    let r = a % b;
    if r != 0 && ((r < 0) != (b < 0)) { q - 1 } else { q }
}

/// `⌈a / b⌉` for `b != 0`.
pub(crate) fn div_ceil(a: i128, b: i128) -> i128 {
    let q = a / b;
    let r = a % b;
    if r != 0 && ((r < 0) == (b < 0)) { q + 1 } else { q }
}

/// `v`, or an overflow of `what`. The error is built only when there is one: `ok_or` would
/// build and drop it on every call, and these sit on the hottest paths (the drop glue of the
/// error enums, which hold strings, was ~3% of a run's instructions under callgrind).
#[inline]
fn overflow(v: Option<i128>, what: &'static str) -> MarginResult<i128> {
    match v {
        Some(v) => Ok(v),
        None => Err(MarginError::Overflow(what)),
    }
}

/// Checked `a * b` in `i128`.
pub(crate) fn mul(a: i128, b: i128, what: &'static str) -> MarginResult<i128> {
    overflow(a.checked_mul(b), what)
}

/// Checked `a + b` in `i128`.
pub(crate) fn add(a: i128, b: i128, what: &'static str) -> MarginResult<i128> {
    overflow(a.checked_add(b), what)
}

/// Checked `a - b` in `i128`.
pub(crate) fn sub(a: i128, b: i128, what: &'static str) -> MarginResult<i128> {
    overflow(a.checked_sub(b), what)
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
    Some(div_wide(hi, lo, d))
}

const LIMB: u128 = u64::MAX as u128;

/// `⌊(hi · 2^128 + lo) / d⌋` for `hi < d` (so the quotient fits `u128`): schoolbook division
/// in 64-bit limbs (Knuth's algorithm D with a two-limb divisor), two quotient limbs.
fn div_wide(hi: u128, lo: u128, d: u128) -> u128 {
    debug_assert!(hi < d);
    if hi == 0 {
        return lo / d;
    }
    if d >> 64 == 0 {
        // A one-limb divisor: each partial dividend `r · 2^64 + limb` with r < d fits u128.
        let n1 = (hi << 64) | (lo >> 64);
        let (q1, r1) = (n1 / d, n1 % d);
        let q0 = ((r1 << 64) | (lo & LIMB)) / d;
        return (q1 << 64) | q0;
    }
    // Normalise so the divisor's top bit is set; the shifted `hi` stays below the shifted `d`.
    let s = d.leading_zeros();
    let d = d << s;
    let (hi, lo) = if s == 0 { (hi, lo) } else { ((hi << s) | (lo >> (128 - s)), lo << s) };
    let (q1, r) = div_3by2(hi, (lo >> 64) as u64, d);
    let (q0, _) = div_3by2(r, lo as u64, d);
    (q1 << 64) | q0
}

/// Divides the 192-bit `u · 2^64 + low` by the normalised two-limb `d` (top bit set), given
/// `u < d`; returns the one-limb quotient and the remainder.
fn div_3by2(u: u128, low: u64, d: u128) -> (u128, u128) {
    debug_assert!(d >> 127 == 1 && u < d);
    let (d1, d0) = (d >> 64, d & LIMB);
    // u < d gives u's top limb ≤ d1, so the estimate is at most LIMB.
    let mut q = if u >> 64 >= d1 { LIMB } else { u / d1 };
    let mut r = u - q * d1;
    // With a two-limb divisor this test is exactly `q · d > u · 2^64 + low`, so the loop leaves
    // the true quotient limb (it runs at most twice for a normalised divisor). Once r ≥ 2^64 the
    // test is false: q · d0 < 2^128 ≤ r · 2^64.
    while r >> 64 == 0 && q * d0 > ((r << 64) | low as u128) {
        q -= 1;
        r += d1;
    }
    // The true remainder is < d < 2^128, so arithmetic modulo 2^128 gives it exactly.
    let rem = ((u << 64) | low as u128).wrapping_sub(q.wrapping_mul(d));
    (q, rem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        assert_eq!(r(6, -4), r(-3, 2));
        assert_eq!(r(0, 5), r(0, 1));
    }

    #[test]
    fn ordering_is_exact_and_overflow_free() {
        let r = |n, d| Ratio::new(n, d).unwrap();
        assert!(r(1, 3) < r(1, 2));
        assert!(r(-1, 2) < r(-1, 3));
        assert!(r(2, 4) == r(1, 2));
        assert!(r(7, 2) > r(3, 1));
        assert!(r(-7, 2) < r(-3, 1));
        let big = i128::MAX;
        assert!(r(big, big - 1) < r(big - 1, big - 2));
        assert!(r(big - 1, big) > r(big - 2, big - 1));
        assert!(r(i128::MIN, 3) < r(i128::MIN + 1, 3));
        assert!(r(i128::MIN, 7) < r(i128::MIN / 7 + 1, 1));
        assert!(r(big - 2, big - 1) < r(big - 1, big));
        assert!(r(i128::MIN + 1, big) < r(-1, big));
        let mut v = vec![r(5, 3), r(-2, 7), r(0, 1), r(10, 6), r(1, big)];
        v.sort();
        assert_eq!(v, vec![r(-2, 7), r(0, 1), r(1, big), r(5, 3), r(5, 3)]);
    }

    /// Restoring long division one bit at a time: slow, obviously right, the oracle for
    /// [`div_wide`].
    fn div_wide_bitwise(hi: u128, lo: u128, d: u128) -> u128 {
        let (mut r, mut q) = (hi, 0u128);
        for i in (0..128).rev() {
            let carry = r >> 127;
            r = (r << 1) | ((lo >> i) & 1);
            if carry == 1 || r >= d {
                r = r.wrapping_sub(d);
                q |= 1 << i;
            }
        }
        q
    }

    /// Values with long runs of ones and zeros, where division corrections happen.
    fn edgy() -> impl Strategy<Value = u128> {
        prop_oneof![
            any::<u128>(),
            (0u32..128).prop_map(|k| 1u128 << k),
            (0u32..128).prop_map(|k| (1u128 << k) - 1),
            (0u32..128, any::<u64>()).prop_map(|(k, x)| (u128::MAX >> k) ^ x as u128),
            any::<u64>().prop_map(u128::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn div_wide_matches_bitwise_division(a in edgy(), b in edgy(), d in edgy()) {
            prop_assume!(d != 0);
            let (hi, lo) = mul_wide(a, b);
            let got = mul_div_floor_u128(a, b, d);
            if hi >= d {
                prop_assert_eq!(got, None);
            } else {
                prop_assert_eq!(got, Some(div_wide_bitwise(hi, lo, d)));
            }
            // And a dividend built to sit just below the limit, where quotients are largest.
            let hi = d - 1;
            prop_assert_eq!(div_wide(hi, a, d), div_wide_bitwise(hi, a, d));
        }
    }

    /// The comparison by continued fractions alone (what `cmp` does when the cross products
    /// overflow): the oracle for its fast path.
    fn cmp_by_expansion(x: Ratio, y: Ratio) -> std::cmp::Ordering {
        // Scale both by a power of two that makes the cross products overflow, so `cmp` takes
        // the expansion (the value, hence the order, is unchanged).
        let k = |r: Ratio| r.num.unsigned_abs().max(r.den.unsigned_abs()).leading_zeros().saturating_sub(1);
        let (kx, ky) = (k(x), k(y));
        let sx = Ratio { num: x.num << kx, den: x.den << kx };
        let sy = Ratio { num: y.num << ky, den: y.den << ky };
        sx.cmp(&sy)
    }

    fn plain_gcd(mut a: u128, mut b: u128) -> u128 {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a.max(1)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5_000))]
        /// The cross-product fast path orders like the expansion, and the mixed-width gcd is the
        /// plain one.
        #[test]
        fn fast_paths_agree(
            a in any::<i64>(), b in 1i64..i64::MAX, c in any::<i64>(), d in 1i64..i64::MAX,
            shift in 0u32..70,
        ) {
            let x = Ratio::new((a as i128) << (shift / 2), b as i128).unwrap();
            let y = Ratio::new((c as i128) << (shift % 40), d as i128).unwrap();
            prop_assert_eq!(x.cmp(&y), cmp_by_expansion(x, y));
            let (u, v) = ((a.unsigned_abs() as u128) << shift, (d as u128) << (shift % 7));
            prop_assert_eq!(gcd(u, v), plain_gcd(u, v));
        }
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
