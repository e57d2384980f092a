//! Notional tiers ("leverage brackets"): maximum leverage, maintenance margin rate and the
//! maintenance amount `cum` that keeps maintenance margin continuous across tier boundaries.

use super::error::{MarginError, MarginResult};
use super::ratio::{Ratio, add, div_floor, mul, to_i64};
use crate::units::{MICROS_PER_USD, Money, RATE_SCALE, Rate};
use serde::{Deserialize, Serialize};

/// One tier: positions with absolute notional up to `notional_cap` (inclusive, and above the
/// previous tier's cap) may use up to `max_leverage` and pay maintenance `|s|·mark·mmr − cum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Upper bound (inclusive) of the tier's absolute notional, micro-USD.
    pub notional_cap: Money,
    pub max_leverage: u32,
    /// Maintenance margin rate.
    pub mmr: Rate,
    /// Maintenance amount, micro-USD.
    pub cum: Money,
}

/// A validated, ordered list of tiers. Deserialising re-validates the rows (and checks that the
/// stored `cum` column is the derived one), so a table read from a scenario file obeys the same
/// rules as one built with [`TierTable::new`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<Tier>", into = "Vec<Tier>")]
pub struct TierTable {
    tiers: Vec<Tier>,
}

impl TierTable {
    /// Build from `(cap, max leverage, mmr)` rows, deriving
    /// `cum_n = floor_n · (MMR_n − MMR_{n−1}) + cum_{n−1}` with `floor_n` the previous cap
    /// (`floor_1 = 0`, `cum_1 = 0`).
    ///
    /// Rounding: when `floor_n · ΔMMR` is not a whole micro-USD the term is rounded DOWN, so the
    /// maintenance margin is never understated (a smaller `cum` means a larger margin).
    ///
    /// Rules: at least one tier; caps positive and strictly ascending; MMR > 0 and non-decreasing;
    /// max leverage ≥ 1 and non-increasing; maintenance below initial (`MMR < 1/max_leverage`).
    pub fn new(brackets: &[(Money, u32, Rate)]) -> MarginResult<TierTable> {
        if brackets.is_empty() {
            return Err(MarginError::EmptyTierTable);
        }
        let mut tiers: Vec<Tier> = Vec::with_capacity(brackets.len());
        for (index, &(cap, max_leverage, mmr)) in brackets.iter().enumerate() {
            let bad = |reason| Err(MarginError::InvalidTier { index, reason });
            if cap.0 <= 0 {
                return bad("notional cap must be positive");
            }
            if max_leverage == 0 {
                return bad("max leverage must be at least 1");
            }
            if mmr.0 <= 0 {
                return bad("maintenance margin rate must be positive");
            }
            // MMR < 1 / max_leverage  ⇔  mmr · L < RATE_SCALE
            if (mmr.0 as i128) * (max_leverage as i128) >= RATE_SCALE as i128 {
                return bad("maintenance margin rate must be below the initial rate 1/max_leverage");
            }
            let cum = match tiers.last() {
                None => Money::ZERO,
                Some(prev) => {
                    if cap <= prev.notional_cap {
                        return bad("notional caps must be strictly ascending");
                    }
                    if mmr < prev.mmr {
                        return bad("maintenance margin rates must not decrease");
                    }
                    if max_leverage > prev.max_leverage {
                        return bad("max leverage must not increase");
                    }
                    let step = mul(prev.notional_cap.0 as i128, (mmr.0 - prev.mmr.0) as i128, "tier cum")?;
                    let step = div_floor(step, RATE_SCALE as i128);
                    Money(to_i64(add(step, prev.cum.0 as i128, "tier cum")?, "tier cum")?)
                }
            };
            tiers.push(Tier { notional_cap: cap, max_leverage, mmr, cum });
        }
        Ok(TierTable { tiers })
    }

    /// Binance BTCUSDT brackets (snapshot Oct 2024), the default table.
    pub fn binance_btcusdt() -> TierTable {
        // (cap USD, max leverage, MMR in basis points: 0.40% = 40)
        TierTable::from_basis_points(&[
            (50_000, 125, 40),
            (600_000, 100, 50),
            (3_000_000, 75, 65),
            (12_000_000, 50, 100),
            (70_000_000, 25, 200),
            (100_000_000, 20, 250),
            (230_000_000, 10, 500),
            (480_000_000, 5, 1_000),
            (600_000_000, 4, 1_250),
            (800_000_000, 3, 1_500),
            (1_200_000_000, 2, 2_500),
            (1_800_000_000, 1, 5_000),
        ])
    }

    /// Binance ETHUSDT brackets as of the Binance liquidation-price FAQ's worked ETH example
    /// (`../shared/reference/margin-and-liquidation.md`): the first six rows reproduce its
    /// maintenance amount (MMR 10%, cum 135,365) and put its 5.37M position in the 10% tier.
    /// The 10% tier's upper cap and the rows past it (4x to 1x) are assumptions the example does
    /// not pin; a scenario that needs today's table gives `market.tiers`.
    pub fn binance_ethusdt() -> TierTable {
        TierTable::from_basis_points(&[
            (10_000, 100, 50),
            (100_000, 75, 65),
            (500_000, 50, 100),
            (1_000_000, 25, 200),
            (2_000_000, 10, 500),
            (10_000_000, 5, 1_000),
            (20_000_000, 4, 1_250),
            (40_000_000, 3, 1_500),
            (100_000_000, 2, 2_500),
            (200_000_000, 1, 5_000),
        ])
    }

    /// A constant table from `(cap USD, max leverage, MMR in basis points)` rows.
    fn from_basis_points(rows: &[(i64, u32, i64)]) -> TierTable {
        const USD: i64 = MICROS_PER_USD;
        let rows: Vec<(Money, u32, Rate)> = rows
            .iter()
            .map(|&(cap, lev, mmr_bp)| (Money(cap * USD), lev, Rate(mmr_bp * (RATE_SCALE / 10_000))))
            .collect();
        match TierTable::new(&rows) {
            Ok(t) => t,
            // The constant tables above satisfy every rule (tested); this arm is unreachable.
            Err(_) => TierTable {
                tiers: vec![Tier {
                    notional_cap: rows.last().map_or(Money(USD), |r| r.0),
                    max_leverage: 1,
                    mmr: Rate(RATE_SCALE / 2),
                    cum: Money::ZERO,
                }],
            },
        }
    }

    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// Index of the tier for an absolute notional: the first whose cap ≥ |notional|; above the
    /// last cap, the last tier.
    pub fn tier_index_for(&self, notional: Money) -> usize {
        let n = notional.0.unsigned_abs();
        self.tiers.iter().position(|t| n <= t.notional_cap.0.unsigned_abs()).unwrap_or(self.tiers.len() - 1)
    }

    /// The tier for an absolute notional (see [`TierTable::tier_index_for`]).
    pub fn tier_for(&self, notional: Money) -> &Tier {
        &self.tiers[self.tier_index_for(notional)]
    }

    /// The maximum leverage allowed at that notional.
    pub fn max_leverage_for(&self, notional: Money) -> u32 {
        self.tier_for(notional).max_leverage
    }

    /// The tier index of the notional `|s|·price` at an exact price in ticks, where
    /// `lot_value = |s| · tick_lot_value` (micro-USD per tick for the whole position, > 0).
    /// Compared exactly as `price ≤ cap / lot_value`, so nothing can overflow.
    pub(crate) fn tier_index_at_price(&self, price: Ratio, lot_value: i128) -> usize {
        self.tiers
            .iter()
            .position(|t| {
                let cap = t.notional_cap.0 as i128;
                // price ≤ cap / lot_value ⇔ num · lot_value ≤ cap · den (both denominators
                // positive): exact when the products fit, which they do for any real position;
                // otherwise the reduced fraction is compared.
                if lot_value > 0
                    && let (Some(l), Some(r)) =
                        (price.num().checked_mul(lot_value), cap.checked_mul(price.den()))
                {
                    return l <= r;
                }
                match Ratio::new(cap, lot_value) {
                    Ok(cap_price) => price <= cap_price,
                    Err(_) => true,
                }
            })
            .unwrap_or(self.tiers.len() - 1)
    }
}

impl TryFrom<Vec<Tier>> for TierTable {
    type Error = MarginError;
    fn try_from(tiers: Vec<Tier>) -> MarginResult<TierTable> {
        let rows: Vec<(Money, u32, Rate)> =
            tiers.iter().map(|t| (t.notional_cap, t.max_leverage, t.mmr)).collect();
        let table = TierTable::new(&rows)?;
        for (index, (given, derived)) in tiers.iter().zip(table.tiers()).enumerate() {
            if given.cum != derived.cum {
                return Err(MarginError::InvalidTier {
                    index,
                    reason: "cum is not the one derived from the caps and rates",
                });
            }
        }
        Ok(table)
    }
}

impl From<TierTable> for Vec<Tier> {
    fn from(t: TierTable) -> Vec<Tier> {
        t.tiers
    }
}

impl Default for TierTable {
    fn default() -> Self {
        TierTable::binance_btcusdt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binance_cum_matches_reference_column() {
        let t = TierTable::binance_btcusdt();
        let expected_cum_usd: [i64; 12] = [
            0,
            50,
            950,
            11_450,
            131_450,
            481_450,
            2_981_450,
            14_481_450,
            26_481_450,
            41_481_450,
            121_481_450,
            421_481_450,
        ];
        assert_eq!(t.tiers().len(), 12);
        for (tier, cum) in t.tiers().iter().zip(expected_cum_usd) {
            assert_eq!(tier.cum, Money::usd(cum), "{tier:?}");
        }
        assert_eq!(t.tiers()[0].mmr, Rate(400_000));
        assert_eq!(t.tiers()[11].mmr, Rate(50_000_000));
    }

    #[test]
    fn binance_ethusdt_reproduces_the_faq_example_cum() {
        let t = TierTable::binance_ethusdt();
        let expected_cum_usd: [i64; 10] =
            [0, 15, 365, 5_365, 35_365, 135_365, 385_365, 885_365, 4_885_365, 29_885_365];
        assert_eq!(t.tiers().len(), 10);
        for (tier, cum) in t.tiers().iter().zip(expected_cum_usd) {
            assert_eq!(tier.cum, Money::usd(cum), "{tier:?}");
        }
        // The FAQ's example, 3,683.979 ETH at 1,456.84 (5.37M), is in the 10% tier, cum 135,365.
        let tier = t.tier_for(Money::usd(5_366_982));
        assert_eq!((tier.mmr, tier.cum, tier.max_leverage), (Rate(10_000_000), Money::usd(135_365), 5));
    }

    #[test]
    fn tier_lookup() {
        let t = TierTable::binance_btcusdt();
        assert_eq!(t.tier_index_for(Money::ZERO), 0);
        assert_eq!(t.tier_index_for(Money::usd(50_000)), 0);
        assert_eq!(t.tier_index_for(Money(50_000 * MICROS_PER_USD + 1)), 1);
        assert_eq!(t.tier_index_for(Money::usd(-70_000)), 1);
        assert_eq!(t.tier_for(Money::usd(70_000)).cum, Money::usd(50));
        assert_eq!(t.max_leverage_for(Money::usd(70_000)), 100);
        assert_eq!(t.max_leverage_for(Money::usd(10_000_000_000)), 1);
        assert_eq!(t.tier_index_for(Money(i64::MIN)), 11);
        // 1 BTC = 1000 lots of 100 micro-USD per tick: cap 50,000 USD is at 500,000 ticks.
        let r = |n, d| Ratio::new(n, d).unwrap();
        assert_eq!(t.tier_index_at_price(r(500_000, 1), 100_000), 0);
        assert_eq!(t.tier_index_at_price(r(1_500_001, 3), 100_000), 1);
        assert_eq!(t.tier_index_at_price(r(-5, 1), 100_000), 0);
        assert_eq!(t.tier_index_at_price(r(i128::MAX, 1), 1), 11);
    }

    #[test]
    fn invalid_tables_are_typed_errors() {
        let r = |bp: i64| Rate(bp * 10_000);
        assert_eq!(TierTable::new(&[]), Err(MarginError::EmptyTierTable));
        let bad = |rows: &[(Money, u32, Rate)], index| match TierTable::new(rows) {
            Err(MarginError::InvalidTier { index: i, .. }) => assert_eq!(i, index),
            other => panic!("expected InvalidTier at {index}, got {other:?}"),
        };
        bad(&[(Money::ZERO, 10, r(40))], 0);
        bad(&[(Money::usd(1), 0, r(40))], 0);
        bad(&[(Money::usd(1), 10, r(0))], 0);
        bad(&[(Money::usd(1), 10, r(-1))], 0);
        // 10% maintenance at 10x is not below initial.
        bad(&[(Money::usd(1), 10, r(1_000))], 0);
        bad(&[(Money::usd(2), 10, r(40)), (Money::usd(2), 10, r(50))], 1);
        bad(&[(Money::usd(2), 10, r(40)), (Money::usd(3), 10, r(30))], 1);
        bad(&[(Money::usd(2), 10, r(40)), (Money::usd(3), 20, r(50))], 1);
        assert!(TierTable::new(&[(Money::usd(2), 10, r(40)), (Money::usd(3), 10, r(40))]).is_ok());
    }

    #[test]
    fn fractional_cum_rounds_down() {
        // floor 1.000001 USD × 0.5% = 0.005000005 USD → 5000 micro-USD (rounded down).
        let t =
            TierTable::new(&[(Money(1_000_001), 100, Rate(100_000)), (Money(10_000_000), 50, Rate(600_000))])
                .unwrap();
        assert_eq!(t.tiers()[1].cum, Money(5_000));
    }

    #[test]
    fn serde_roundtrip() {
        let t = TierTable::binance_btcusdt();
        let bytes = postcard::to_allocvec(&t).unwrap();
        let back: TierTable = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(t, back);
        let mut tampered: Vec<Tier> = t.into();
        tampered[1].cum = Money::usd(51);
        let bytes = postcard::to_allocvec(&tampered).unwrap();
        assert!(postcard::from_bytes::<TierTable>(&bytes).is_err());
    }
}
