//! Funding payments, premium index and its weighted average over an interval, funding rate, the
//! BitMEX fair (basis) price and the Binance mark median.

use super::error::{MarginError, MarginResult};
use super::formulas::check_price;
use super::ratio::{Ratio, add, div_floor, mul, to_i64};
use crate::units::{Instrument, Money, Price, Qty, RATE_SCALE, Rate};

const SCALE: i128 = RATE_SCALE as i128;

/// The amount a position RECEIVES at a funding event: `−qty·mark·rate` (positive rate: longs
/// pay, shorts receive). Rounded toward −∞ to the micro-USD, i.e. payers pay rounded UP in
/// magnitude and receivers receive rounded DOWN, so the sum over a balanced book is ≤ 0 (funding
/// never creates money; the engine sends the remainder to the insurance fund).
/// `|rate| ≤ 100%`; `mark > 0`.
pub fn funding_payment(inst: &Instrument, qty: Qty, mark: Price, rate: Rate) -> MarginResult<Money> {
    check_price("mark price", mark)?;
    super::formulas::check_rate("funding rate", rate, -RATE_SCALE, RATE_SCALE)?;
    let n = super::formulas::notional(inst, mark, qty)?;
    let x = mul(-n, rate.0 as i128, "funding payment")?;
    Ok(Money(to_i64(div_floor(x, SCALE), "funding payment")?))
}

/// Premium index `[max(0, impact_bid − index) − max(0, index − impact_ask)] / index`, truncated
/// toward zero to 1e-8. All prices must be positive.
pub fn premium_index(impact_bid: Price, impact_ask: Price, index: Price) -> MarginResult<Rate> {
    check_price("impact bid", impact_bid)?;
    check_price("impact ask", impact_ask)?;
    check_price("index price", index)?;
    let (b, a, i) = (impact_bid.0 as i128, impact_ask.0 as i128, index.0 as i128);
    let num = (b - i).max(0) - (i - a).max(0);
    let p = mul(num, SCALE, "premium index")? / i;
    Ok(Rate(to_i64(p, "premium index")?))
}

/// Binance samples the premium index every 5 seconds.
pub const PREMIUM_SAMPLE_SECS: u64 = 5;

/// The premium samples of a funding interval so far, and their average with increasing weights
/// (Binance): `(1·P1 + 2·P2 + … + n·Pn) / (1 + 2 + … + n)`, so the interval's last samples
/// count most (n = 5,760 for 8 hours of 5-second samples).
///
/// Kept exactly: the sample count and `Σ k·Pk` in units of 1e-8. Several samples may be added at
/// once with one premium (a tick longer than the sampling period takes all the samples that fall
/// in it at its prices); they take the next weights in turn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WeightedPremium {
    samples: u64,
    weighted_sum: i128,
}

impl WeightedPremium {
    /// Adds `count` samples of `premium`, weighted `n+1, …, n+count` after the `n` so far.
    pub fn add(&mut self, premium: Rate, count: u32) -> MarginResult<()> {
        const W: &str = "weighted premium";
        let (n, c) = (self.samples as i128, count as i128);
        // Σ_{k=n+1}^{n+c} k = c·n + c(c+1)/2
        let weights = add(mul(c, n, W)?, c * (c + 1) / 2, W)?;
        let sum = add(self.weighted_sum, mul(premium.0 as i128, weights, W)?, W)?;
        self.samples = self.samples.checked_add(count as u64).ok_or(MarginError::Overflow(W))?;
        self.weighted_sum = sum;
        Ok(())
    }

    /// Samples so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// `Σ k·Pk`, in units of 1e-8.
    pub fn weighted_sum(&self) -> i128 {
        self.weighted_sum
    }

    /// `Σ k·Pk / Σ k`, truncated toward zero to 1e-8 (the rounding of the premium index itself,
    /// symmetric for longs and shorts); 0 with no sample.
    pub fn average(&self) -> MarginResult<Rate> {
        if self.samples == 0 {
            return Ok(Rate::ZERO);
        }
        let n = self.samples as i128;
        let weights = mul(n, n + 1, "weighted premium")? / 2;
        Ok(Rate(to_i64(self.weighted_sum / weights, "weighted premium")?))
    }
}

/// Funding rate for an N-hour interval (BitMEX/Binance):
/// `F = [P + clamp(I − P, −clamp, +clamp)] / (8/N)`, with `premium` and `interest_8h` quoted per
/// 8 hours as the venues publish them (I = 0.01% = `Rate(10_000)`, clamp 0.05% = `Rate(50_000)`);
/// the division by 8/N (i.e. multiplying by N/8) is truncated toward zero to 1e-8. If `max_abs`
/// is given the final rate is clamped to `±max_abs` (a venue's funding cap; Binance uses e.g.
/// ±0.75% on some contracts, BitMEX none by default).
///
/// Errors: `interval_hours == 0` or > 24, negative `clamp` or `max_abs`, rates beyond ±100%.
pub fn funding_rate(
    premium: Rate,
    interest_8h: Rate,
    clamp: Rate,
    interval_hours: u32,
    max_abs: Option<Rate>,
) -> MarginResult<Rate> {
    use super::formulas::check_rate;
    check_rate("premium index", premium, -RATE_SCALE, RATE_SCALE)?;
    check_rate("interest rate", interest_8h, -RATE_SCALE, RATE_SCALE)?;
    check_rate("funding clamp", clamp, 0, RATE_SCALE)?;
    if let Some(m) = max_abs {
        check_rate("funding cap", m, 0, RATE_SCALE)?;
    }
    if interval_hours == 0 || interval_hours > 24 {
        return Err(MarginError::BadInterval("funding interval must be 1..=24 hours"));
    }
    let p = premium.0 as i128;
    let c = clamp.0 as i128;
    let f8 = p + (interest_8h.0 as i128 - p).clamp(-c, c);
    let mut f = (f8 * interval_hours as i128) / 8;
    if let Some(m) = max_abs {
        let m = m.0 as i128;
        f = f.clamp(-m, m);
    }
    Ok(Rate(to_i64(f, "funding rate")?))
}

/// BitMEX fair (basis) price `index·(1 + rate·ttf/interval)`, rounded to the nearest tick (ties
/// away from zero). `interval_secs > 0`, `time_to_funding_secs ≤ interval_secs`, `|rate| ≤ 100%`.
pub fn funding_basis_price(
    index: Price,
    rate: Rate,
    time_to_funding_secs: u64,
    interval_secs: u64,
) -> MarginResult<Price> {
    check_price("index price", index)?;
    super::formulas::check_rate("funding rate", rate, -RATE_SCALE, RATE_SCALE)?;
    if interval_secs == 0 {
        return Err(MarginError::BadInterval("funding interval must be positive"));
    }
    if time_to_funding_secs > interval_secs {
        return Err(MarginError::BadInterval("time to funding exceeds the funding interval"));
    }
    const W: &str = "funding basis price";
    let iv = interval_secs as i128;
    let den = mul(SCALE, iv, W)?;
    let factor = add(den, mul(rate.0 as i128, time_to_funding_secs as i128, W)?, W)?;
    let p = Ratio::new(mul(index.0 as i128, factor, W)?, den)?.round_half_away();
    if p < 1 {
        return Err(MarginError::NoPositivePrice("funding basis price"));
    }
    Ok(Price(to_i64(p, W)?))
}

/// The median of three prices (Binance mark: median of P1, P2 and last).
pub fn median3(a: Price, b: Price, c: Price) -> Price {
    a.min(b).max(a.max(b).min(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_three() {
        let p = Price;
        for (a, b, c) in [(1, 2, 3), (1, 3, 2), (2, 1, 3), (2, 3, 1), (3, 1, 2), (3, 2, 1)] {
            assert_eq!(median3(p(a), p(b), p(c)), p(2));
        }
        assert_eq!(median3(p(5), p(5), p(1)), p(5));
        assert_eq!(median3(p(1), p(5), p(5)), p(5));
    }

    /// A vector worked by hand: a 4-hour interval sampled by 10-second ticks (two samples a tick,
    /// both at that tick's prices) and then one last sample.
    ///
    /// ```text
    /// sample   premium      weight   weight × premium
    /// P1, P2   0.012345%    1, 2     3 × 12,345  =    37,035
    /// P3, P4   0.2%         3, 4     7 × 200,000 = 1,400,000
    /// P5      −0.0008%      5        5 × −800    =    −4,000
    ///                       Σ 15                 = 1,433,035   (units of 1e-8)
    /// P_avg = 1,433,035 / 15 = 95,535.67 → 95,535 (0.095535%, truncated toward zero)
    /// I − P_avg = 0.01% − 0.095535% = −0.085535% → clamped to −0.05%
    /// F(8 h) = 0.095535% − 0.05% = 0.045535%;  F(4 h) = 0.045535% × 4/8 = 0.0227675% → 0.022767%
    /// 1 BTC long at mark 71,234.5: 71,234.5 × 0.00022767 = 16.217958615 USD
    ///   → the long pays 16.217959 (rounded up), a 1 BTC short receives 16.217958 (down).
    /// ```
    #[test]
    fn weighted_premium_clamp_rate_and_payment_worked_by_hand() {
        let mut w = WeightedPremium::default();
        assert_eq!(w.average(), Ok(Rate::ZERO), "no sample: no premium");
        w.add(Rate(12_345), 2).unwrap();
        w.add(Rate(200_000), 2).unwrap();
        w.add(Rate(-800), 1).unwrap();
        assert_eq!((w.samples(), w.weighted_sum()), (5, 1_433_035));
        let avg = w.average().unwrap();
        assert_eq!(avg, Rate(95_535));
        // The plain mean would be 0.084778%: the weights lean toward the later, richer samples.
        assert!(avg.0 * 5 > 12_345 * 2 + 200_000 * 2 - 800);
        let rate = funding_rate(avg, Rate(10_000), Rate(50_000), 4, Some(Rate(750_000))).unwrap();
        assert_eq!(rate, Rate(22_767));
        assert_eq!(funding_rate(avg, Rate(10_000), Rate(50_000), 8, None).unwrap(), Rate(45_535));
        let inst = Instrument::btcusdt();
        let mark = inst.price(71_234.5).unwrap();
        assert_eq!(funding_payment(&inst, Qty(1_000), mark, rate).unwrap(), Money(-16_217_959));
        assert_eq!(funding_payment(&inst, Qty(-1_000), mark, rate).unwrap(), Money(16_217_958));
        // One at a time or five at once: the same weights.
        let mut one_by_one = WeightedPremium::default();
        for p in [12_345, 12_345, 200_000, 200_000, -800] {
            one_by_one.add(Rate(p), 1).unwrap();
        }
        assert_eq!(one_by_one, w);
        // Negative averages truncate toward zero too: (1·(−1) + 2·(−1) + 3·0)/6 = −0.5 → 0.
        let mut neg = WeightedPremium::default();
        neg.add(Rate(-1), 2).unwrap();
        neg.add(Rate(0), 1).unwrap();
        assert_eq!(neg.average(), Ok(Rate::ZERO));
        neg.add(Rate(-10), 1).unwrap();
        // (−3 − 40)/10 = −4.3 → −4
        assert_eq!(neg.average(), Ok(Rate(-4)));
    }

    #[test]
    fn a_full_8_hour_interval_has_5760_samples_and_a_constant_premium_averages_to_itself() {
        let mut w = WeightedPremium::default();
        // 8 h of 5-second samples, taken by 60-second ticks: 480 ticks of 12.
        for _ in 0..480 {
            w.add(Rate(-31_415), 12).unwrap();
        }
        assert_eq!(w.samples(), 8 * 3_600 / PREMIUM_SAMPLE_SECS);
        assert_eq!(w.samples(), 5_760);
        assert_eq!(w.average(), Ok(Rate(-31_415)));
    }
}
