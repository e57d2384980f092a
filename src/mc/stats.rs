//! Statistics of a Monte Carlo: quantiles and means of outcomes, and probabilities with Wilson
//! score intervals.
//!
//! - Quantiles are Hyndman & Fan type 7 (R's default, numpy's default `linear`): for sorted
//!   `x[0..n]` and probability `p`, `h = (n − 1)·p`, `q = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`.
//! - The mean is summed in run order (so it is the same whatever order runs finished in).
//! - A probability `k/n` carries the 95% Wilson score interval, `z = 1.959963984540054`:
//!   `(p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)`, clamped to [0, 1].

use serde::{Deserialize, Serialize};

/// The two-sided 95% normal quantile.
pub const Z95: f64 = 1.959_963_984_540_054;

/// The quantile probabilities reported.
pub const QUANTILES: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

/// Type-7 quantile of already sorted, finite values; `None` for no values.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Quantiles p5/p25/p50/p75/p95, mean, and how many values there were.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub n: usize,
    pub mean: Option<f64>,
    pub p5: Option<f64>,
    pub p25: Option<f64>,
    pub p50: Option<f64>,
    pub p75: Option<f64>,
    pub p95: Option<f64>,
}

/// Summarises values (non-finite ones are ignored).
pub fn summarize(values: &[f64]) -> Summary {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let n = sorted.len();
    let mean = if n == 0 { None } else { Some(sorted.iter().sum::<f64>() / n as f64) };
    sorted.sort_by(f64::total_cmp);
    let q = |p| quantile_sorted(&sorted, p);
    Summary { n, mean, p5: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95) }
}

/// A probability estimated from `count` of `runs`, with its 95% Wilson interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probability {
    pub count: u64,
    pub runs: u64,
    pub p: f64,
    pub lo: f64,
    pub hi: f64,
}

/// The Wilson score interval of `k` successes in `n` trials at normal quantile `z`; for
/// `n == 0`, the uninformative [0, 1].
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let center = p + z2 / (2.0 * n_f);
    let half = z * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    // At the ends the interval touches 0 or 1 exactly.
    let lo = if k == 0 { 0.0 } else { ((center - half) / denom).max(0.0) };
    let hi = if k == n { 1.0 } else { ((center + half) / denom).min(1.0) };
    (lo, hi)
}

/// `count` of `runs`, with its 95% Wilson interval.
pub fn probability(count: u64, runs: u64) -> Probability {
    let (lo, hi) = wilson(count, runs, Z95);
    let p = if runs == 0 { 0.0 } else { count as f64 / runs as f64 };
    Probability { count, runs, p, lo, hi }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn quantiles_match_numpy_linear() {
        // numpy.quantile([1, 2, 3, 4], [.05, .25, .5, .75, .95]) = 1.15, 1.75, 2.5, 3.25, 3.85
        let s = summarize(&[4.0, 1.0, 3.0, 2.0]);
        for (got, want) in [(s.p5, 1.15), (s.p25, 1.75), (s.p50, 2.5), (s.p75, 3.25), (s.p95, 3.85)] {
            close(got.unwrap(), want, 1e-12);
        }
        assert_eq!(s.mean, Some(2.5));
        // numpy.quantile([10, 0, 7, 3, 5, 100], ...) = 0.75, 3.5, 6.0, 9.25, 77.5
        let s = summarize(&[10.0, 0.0, 7.0, 3.0, 5.0, 100.0]);
        for (got, want) in [(s.p5, 0.75), (s.p25, 3.5), (s.p50, 6.0), (s.p75, 9.25), (s.p95, 77.5)] {
            close(got.unwrap(), want, 1e-12);
        }
        // One value: every quantile is it; none: no quantiles and no mean.
        let s = summarize(&[42.0]);
        assert_eq!((s.p5, s.p95, s.mean), (Some(42.0), Some(42.0), Some(42.0)));
        let s = summarize(&[]);
        assert_eq!((s.n, s.p50, s.mean), (0, None, None));
        // Non-finite values are left out.
        assert_eq!(summarize(&[1.0, f64::NAN, 3.0]).p50, Some(2.0));
    }

    #[test]
    fn wilson_intervals_match_known_values() {
        // 8/10: [0.4902, 0.9433] (e.g. statsmodels proportion_confint(8, 10, method="wilson")).
        let (lo, hi) = wilson(8, 10, Z95);
        close(lo, 0.4902, 5e-5);
        close(hi, 0.9433, 5e-5);
        // 0/10: [0, 0.2775]; 10/10: [0.7225, 1].
        let (lo, hi) = wilson(0, 10, Z95);
        assert_eq!(lo, 0.0);
        close(hi, 0.2775, 5e-5);
        let (lo, hi) = wilson(10, 10, Z95);
        close(lo, 0.7225, 5e-5);
        assert_eq!(hi, 1.0);
        // 50/100: [0.4038, 0.5962]; 1/1000: [0.0001765, 0.0056426].
        let (lo, hi) = wilson(50, 100, Z95);
        close(lo, 0.4038, 5e-5);
        close(hi, 0.5962, 5e-5);
        let (lo, hi) = wilson(1, 1000, Z95);
        close(lo, 0.000_176_5, 5e-8);
        close(hi, 0.005_642_6, 5e-8);
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
        let p = probability(3, 4);
        assert_eq!((p.count, p.runs, p.p), (3, 4, 0.75));
    }
}
