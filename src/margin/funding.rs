//! Funding payments, premium index, funding rate, the BitMEX fair (basis) price and the Binance
//! mark median.

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
}
