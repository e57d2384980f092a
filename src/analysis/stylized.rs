//! Stylized facts of a price series: fat tails (Hill tail index, excess kurtosis), no linear
//! autocorrelation of returns, and volatility clustering (slowly decaying autocorrelation of
//! absolute returns).

/// Log returns of `prices` sampled every `interval` points (`interval` 0 is taken as 1). Pairs
/// with a non-positive or non-finite price are skipped.
pub fn log_returns(prices: &[f64], interval: usize) -> Vec<f64> {
    let step = interval.max(1);
    let sampled: Vec<f64> = prices.iter().copied().step_by(step).collect();
    sampled
        .windows(2)
        .filter(|w| w[0] > 0.0 && w[1] > 0.0 && w[0].is_finite() && w[1].is_finite())
        .map(|w| (w[1] / w[0]).ln())
        .collect()
}

/// The Hill estimator of the tail index α of `|x|`, from its `k = ⌊fraction·n⌋` largest values
/// (at least 1): `α = 1 / ((1/k) Σ_{i≤k} ln(x_(i) / x_(k+1)))`. `None` with fewer than two
/// non-zero values or a degenerate tail.
pub fn hill_tail_index(x: &[f64], fraction: f64) -> Option<f64> {
    let mut a: Vec<f64> = x.iter().map(|v| v.abs()).filter(|v| *v > 0.0 && v.is_finite()).collect();
    if a.len() < 2 || fraction.is_nan() || fraction <= 0.0 {
        return None;
    }
    a.sort_by(|p, q| q.total_cmp(p));
    let k = ((fraction * a.len() as f64).floor() as usize).clamp(1, a.len() - 1);
    let threshold = a[k].ln();
    let mean = a[..k].iter().map(|v| v.ln() - threshold).sum::<f64>() / k as f64;
    (mean > 0.0).then(|| 1.0 / mean)
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Excess kurtosis `m4 / m2² − 3` (0 for a normal distribution). `None` for fewer than four
/// values or zero variance.
pub fn excess_kurtosis(x: &[f64]) -> Option<f64> {
    if x.len() < 4 {
        return None;
    }
    let m = mean(x);
    let (m2, m4) = x.iter().fold((0.0, 0.0), |(m2, m4), v| {
        let d = (v - m) * (v - m);
        (m2 + d, m4 + d * d)
    });
    let n = x.len() as f64;
    let (m2, m4) = (m2 / n, m4 / n);
    (m2 > 0.0).then(|| m4 / (m2 * m2) - 3.0)
}

/// Sample autocorrelation at `lag`: `Σ (x_t − x̄)(x_{t+lag} − x̄) / Σ (x_t − x̄)²`. `None` if the
/// lag leaves no pairs or the variance is zero.
pub fn autocorrelation(x: &[f64], lag: usize) -> Option<f64> {
    if lag >= x.len() {
        return None;
    }
    let m = mean(x);
    let var: f64 = x.iter().map(|v| (v - m) * (v - m)).sum();
    if var.is_nan() || var <= 0.0 {
        return None;
    }
    let cov: f64 = x.iter().zip(&x[lag..]).map(|(a, b)| (a - m) * (b - m)).sum();
    Some(cov / var)
}

/// The stylized facts of a price series.
#[derive(Clone, Debug, PartialEq)]
pub struct StylizedFacts {
    pub returns: usize,
    /// Hill tail index of |r|.
    pub tail_index: Option<f64>,
    pub excess_kurtosis: Option<f64>,
    /// Autocorrelation of r at lags 1..=max_lag (index 0 is lag 1).
    pub acf_returns: Vec<f64>,
    /// Autocorrelation of |r| at lags 1..=max_lag.
    pub acf_abs_returns: Vec<f64>,
}

impl StylizedFacts {
    /// From prices sampled every `interval` points, the Hill estimate on the top
    /// `tail_fraction` (0.05 is the customary default), ACFs up to `max_lag`. Undefined ACF
    /// values are NaN.
    pub fn of_prices(prices: &[f64], interval: usize, tail_fraction: f64, max_lag: usize) -> StylizedFacts {
        let r = log_returns(prices, interval);
        let abs: Vec<f64> = r.iter().map(|v| v.abs()).collect();
        let acf = |x: &[f64]| (1..=max_lag).map(|l| autocorrelation(x, l).unwrap_or(f64::NAN)).collect();
        StylizedFacts {
            returns: r.len(),
            tail_index: hill_tail_index(&r, tail_fraction),
            excess_kurtosis: excess_kurtosis(&r),
            acf_returns: acf(&r),
            acf_abs_returns: acf(&abs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::ChaCha8Rng;
    use rand::{RngExt, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};

    #[test]
    fn log_returns_sample_at_the_interval() {
        let p = [100.0, 101.0, 110.0, 0.0, 121.0];
        let r = log_returns(&p, 2);
        assert_eq!(r.len(), 2);
        assert!((r[0] - 0.1f64.ln_1p()).abs() < 1e-12);
        assert!((r[1] - 0.1f64.ln_1p()).abs() < 1e-12);
        assert_eq!(log_returns(&p, 1).len(), 2, "pairs touching the zero are skipped");
    }

    #[test]
    fn hill_recovers_the_index_of_exact_pareto_samples() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        // Pareto(α = 3, x_m = 1) by inversion, signs random.
        let x: Vec<f64> = (0..200_000)
            .map(|_| {
                let u: f64 = 1.0 - rng.random::<f64>();
                let s = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
                s * u.powf(-1.0 / 3.0)
            })
            .collect();
        let alpha = hill_tail_index(&x, 0.05).unwrap();
        assert!((alpha - 3.0).abs() < 0.1, "{alpha}");
        assert_eq!(hill_tail_index(&[1.0], 0.05), None);
        assert_eq!(hill_tail_index(&[2.0, 2.0, 2.0], 0.5), None);
    }

    #[test]
    fn a_normal_sample_has_no_excess_kurtosis_and_a_student_t_has_some() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let x: Vec<f64> = (0..200_000).map(|_| StandardNormal.sample(&mut rng)).collect();
        let k = excess_kurtosis(&x).unwrap();
        assert!(k.abs() < 0.05, "{k}");
        // A scale mixture of normals is fat-tailed: half with σ = 1, half with σ = 3.
        let y: Vec<f64> = x.iter().enumerate().map(|(i, v)| if i % 2 == 0 { *v } else { 3.0 * v }).collect();
        // Theory: 3·E[σ⁴]/E[σ²]² − 3 = 3·41/25 − 3 = 1.92.
        let k = excess_kurtosis(&y).unwrap();
        assert!((k - 1.92).abs() < 0.1, "{k}");
        assert_eq!(excess_kurtosis(&[1.0, 1.0, 1.0, 1.0]), None);
    }

    #[test]
    fn the_acf_of_an_ar1_is_phi_to_the_lag() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let mut x = Vec::with_capacity(200_000);
        let mut v = 0.0f64;
        for _ in 0..200_000 {
            let e: f64 = StandardNormal.sample(&mut rng);
            v = 0.5 * v + e;
            x.push(v);
        }
        for (lag, want) in [(1, 0.5), (2, 0.25), (3, 0.125)] {
            let got = autocorrelation(&x, lag).unwrap();
            assert!((got - want).abs() < 0.01, "lag {lag}: {got}");
        }
        assert_eq!(autocorrelation(&x[..3], 3), None);
        let facts =
            StylizedFacts::of_prices(&x.iter().map(|v| (v / 100.0).exp()).collect::<Vec<_>>(), 1, 0.05, 3);
        assert_eq!(facts.returns, 199_999);
        assert_eq!(facts.acf_returns.len(), 3);
    }
}
