//! The market's sections: the contract and the venue's rules (fees, funding, tiers), the index
//! price process, and the replenishing liquidity provider.

use super::{Checker, Clock};
use crate::engine::ExchangeConfig;
use crate::margin::TierTable;
use crate::scenario::{IndexSpec, LiquiditySpec, MarketSpec};
use crate::sim::{IndexConfig, LiquidityConfig};
use crate::units::{Instrument, Price, Rate};
use crate::venue::LiquidationRules;

/// The market section: the exchange's configuration when the section is sound; and the
/// instrument and tier table on their own, which the map is checked against even when some other
/// market field is wrong.
pub(in crate::scenario) struct Market {
    pub exchange: Option<ExchangeConfig>,
    pub instrument: Option<Instrument>,
    pub tiers: Option<TierTable>,
}

/// The contract and the venue's rules. `tick` is the scenario's tick in seconds, copied into the
/// exchange's configuration (it is checked with the horizon, by [`time`](super::time)).
pub(in crate::scenario) fn market(c: &mut Checker, m: &MarketSpec, tick: u64) -> Market {
    let mark = c.mark();
    let instrument = match Instrument::new(m.tick_usd, m.lot_btc) {
        Ok(i) => Some(i),
        Err(e) => {
            c.fail("market.tick_usd / market.lot_btc", e);
            None
        }
    };
    let maker = c.percent("market.maker_fee_pct", m.maker_fee_pct);
    let taker = c.percent("market.taker_fee_pct", m.taker_fee_pct);
    let liq_fee = c.percent("market.liquidation_fee_pct", m.liquidation_fee_pct);
    let interest = c.percent("market.funding_interest_pct", m.funding_interest_pct);
    let clamp = c.percent("market.funding_clamp_pct", m.funding_clamp_pct);
    let cap = m.funding_cap_pct.map(|v| c.percent("market.funding_cap_pct", v));
    let impact = c.money("market.impact_notional_usd", m.impact_notional_usd);
    if m.funding_interval.secs() < 3_600
        || m.funding_interval.secs() > 86_400
        || !m.funding_interval.secs().is_multiple_of(3_600)
    {
        c.fail(
            "market.funding_interval",
            format!("must be a whole number of hours from 1h to 24h, got {}", m.funding_interval),
        );
    }
    if m.max_liquidation_rounds == 0 || m.max_liquidation_rounds > 1_000 {
        c.fail(
            "market.max_liquidation_rounds",
            format!("must be 1..=1000, got {}", m.max_liquidation_rounds),
        );
    }
    if m.max_stop_rounds == 0 || m.max_stop_rounds > 1_000 {
        c.fail("market.max_stop_rounds", format!("must be 1..=1000, got {}", m.max_stop_rounds));
    }
    c.finite_positive("market.map_bucket_usd", m.map_bucket_usd);
    let tiers = tiers(c, m);
    let liquidation = liquidation_rules(c, m);
    let exchange = match (instrument, &tiers, maker, taker, liq_fee, interest, clamp, impact) {
        (
            Some(instrument),
            Some(tiers),
            Some(maker),
            Some(taker),
            Some(liq_fee),
            Some(interest),
            Some(clamp),
            Some(impact),
        ) if c.sound_since(mark) => Some(ExchangeConfig {
            instrument,
            tiers: tiers.clone(),
            maker_fee: maker,
            taker_fee: taker,
            liquidation_fee: liq_fee,
            partial_liquidation_tier: m.partial_liquidation_tier,
            funding_interval_secs: m.funding_interval.secs(),
            funding_interest_8h: interest,
            funding_clamp: clamp,
            funding_cap: cap.flatten(),
            impact_notional: impact,
            premium_window_secs: m.premium_window.secs(),
            tick_secs: tick,
            max_liquidation_rounds: m.max_liquidation_rounds,
            max_stop_rounds: m.max_stop_rounds,
            map_bucket_ticks: ((m.map_bucket_usd * 1e6) / instrument.tick_micros() as f64).round().max(1.0)
                as i64,
            liquidation: liquidation.clone(),
        }),
        _ => None,
    };
    Market { exchange, instrument, tiers }
}

/// The venue's liquidation chain with its defaults, and any insurance-fund setting overridden.
fn liquidation_rules(c: &mut Checker, m: &MarketSpec) -> LiquidationRules {
    let mut rules = LiquidationRules::of(m.venue);
    let i = &m.insurance;
    let mut set = |field: &str, value: Option<f64>, into: &mut Rate| {
        if let Some(v) = value
            && let Some(r) = c.percent(&format!("market.insurance.{field}"), v)
        {
            *into = r;
        }
    };
    set("position_cap_pct", i.position_cap_pct, &mut rules.fund_position_cap);
    set("offload_participation_pct", i.offload_participation_pct, &mut rules.offload_participation);
    set("offload_per_minute_pct", i.offload_per_minute_pct, &mut rules.offload_per_minute);
    set("offload_slippage_pct", i.offload_slippage_pct, &mut rules.offload_slippage);
    set(
        "backstop_below_maintenance_pct",
        i.backstop_below_maintenance_pct,
        &mut rules.backstop_below_maintenance,
    );
    if let Some(v) = i.drawdown_adl_pct {
        let mut r = Rate::ZERO;
        set("drawdown_adl_pct", Some(v), &mut r);
        rules.fund_drawdown_adl = Some(r);
    }
    if rules.offload_participation.is_zero() && rules.offload_per_minute.is_zero() {
        c.fail(
            "market.insurance",
            "offload_participation_pct and offload_per_minute_pct are both 0: the fund would never work off what it takes over",
        );
    }
    rules
}

/// The notional tiers (Binance BTCUSDT's table when none are given) and the partial-liquidation
/// tier, which must name one of them.
fn tiers(c: &mut Checker, m: &MarketSpec) -> Option<TierTable> {
    let tiers = match &m.tiers {
        None => Some(TierTable::binance_btcusdt()),
        Some(specs) => {
            let mut brackets = Vec::new();
            for (i, t) in specs.iter().enumerate() {
                let p = |f: &str| format!("market.tiers[{i}].{f}");
                let cap = c.money(&p("cap_usd"), t.cap_usd);
                let mmr = c.percent(&p("maintenance_pct"), t.maintenance_pct);
                if t.max_leverage == 0 {
                    c.fail(p("max_leverage"), "must be at least 1");
                } else if t.maintenance_pct * t.max_leverage as f64 >= 100.0 {
                    c.fail(
                        p("maintenance_pct"),
                        format!(
                            "maintenance {}% is not below the initial margin {:.4}% of {}x",
                            t.maintenance_pct,
                            100.0 / t.max_leverage as f64,
                            t.max_leverage
                        ),
                    );
                }
                if let (Some(cap), Some(mmr)) = (cap, mmr) {
                    brackets.push((cap, t.max_leverage, mmr));
                }
            }
            if specs.is_empty() {
                c.fail(
                    "market.tiers",
                    "needs at least one tier (or leave it out for Binance BTCUSDT's table)",
                );
                None
            } else if brackets.len() == specs.len() {
                match TierTable::new(&brackets) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        c.fail("market.tiers", e);
                        None
                    }
                }
            } else {
                None
            }
        }
    };
    if let (Some(tiers), Some(tier)) = (&tiers, m.partial_liquidation_tier)
        && tier + 1 >= tiers.tiers().len()
    {
        c.fail(
            "market.partial_liquidation_tier",
            format!("must name a tier below the last ({} tiers)", tiers.tiers().len()),
        );
    }
    tiers
}

pub(in crate::scenario) fn index(
    c: &mut Checker,
    index: &IndexSpec,
    clock: Option<Clock>,
) -> Option<IndexConfig> {
    let mark = c.mark();
    c.finite_at_least("index.volatility_pct_per_hour", index.volatility_pct_per_hour, 0.0);
    if !index.drift_pct.is_finite() || index.drift_pct.abs() > 500.0 {
        c.fail("index.drift_pct", format!("must be a number between −500 and 500, got {}", index.drift_pct));
    }
    c.fraction("index.pull_to_mid_per_second", index.pull_to_mid_per_second);
    let clock = clock.filter(|_| c.sound_since(mark))?;
    Some(IndexConfig {
        volatility_per_tick: index.volatility_pct_per_hour / 100.0 * (clock.tick as f64 / 3_600.0).sqrt(),
        drift_per_tick: index.drift_pct / 100.0 / clock.ticks.max(1) as f64,
        pull_to_mid: clock.per_tick(index.pull_to_mid_per_second),
    })
}

/// The liquidity provider, converted: deposit, level spacing on the tick grid, and the size of a
/// full level at the start price.
pub(in crate::scenario) fn liquidity(
    c: &mut Checker,
    l: &LiquiditySpec,
    clock: Option<Clock>,
    grid: Option<(&Instrument, Price)>,
) -> Option<LiquidityConfig> {
    let mark = c.mark();
    let deposit = c.money("liquidity.deposit_usd", l.deposit_usd);
    c.leverage("liquidity.leverage", l.leverage);
    if l.levels_per_side > 100_000 {
        c.fail(
            "liquidity.levels_per_side",
            format!("{} levels is absurd (at most 100000)", l.levels_per_side),
        );
    }
    let spacing = match grid {
        Some((inst, _)) if c.finite_positive("liquidity.spacing_usd", l.spacing_usd) => {
            c.price("liquidity.spacing_usd", l.spacing_usd, inst)
        }
        _ => None,
    };
    c.finite_at_least("liquidity.depth_within_1pct_usd", l.depth_within_1pct_usd, 0.0);
    c.fraction("liquidity.refill_per_second", l.refill_per_second);
    c.fraction("liquidity.anchor_follow_per_second", l.anchor_follow_per_second);
    let withdraw_flow = c.money("liquidity.withdraw_flow_usd", l.withdraw_flow_usd);
    let clock = clock.filter(|_| c.sound_since(mark))?;
    let (inst, start) = grid?;
    let level_qty = match LiquidityConfig::level_qty(inst, start, l.spacing_usd, l.depth_within_1pct_usd) {
        Ok(q) => q,
        Err(e) => {
            c.fail("liquidity.depth_within_1pct_usd", format!("a level's size does not fit: {e}"));
            return None;
        }
    };
    Some(LiquidityConfig {
        deposit: deposit?,
        leverage: l.leverage,
        levels_per_side: l.levels_per_side,
        spacing: spacing?.0,
        level_qty,
        refill_per_tick: clock.per_tick(l.refill_per_second),
        anchor_follow: clock.per_tick(l.anchor_follow_per_second),
        withdraw_flow: withdraw_flow?,
        withdraw_ticks: l.withdraw_for.secs() / clock.tick,
    })
}
