//! The market's sections: the contract and the venue's rules (fees, funding, tiers), the index
//! and its spot venues, the liquidity provider, and the arbitrage desks.

use super::{Checker, Clock};
use crate::agents::ArbParams;
use crate::engine::ExchangeConfig;
use crate::liquidity::{CurveError, DepthCurve};
use crate::margin::TierTable;
use crate::scenario::{ArbitrageSpec, Duration, IndexSpec, LiquiditySpec, MarketSpec, ValueSpec};
use crate::sim::{ArbConfig, IndexConfig, LiquidityConfig};
use crate::spot::SpotVenueConfig;
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
    let instrument = match Instrument::new(m.tick_usd(), m.lot()) {
        Ok(i) => Some(i),
        Err(e) => {
            c.fail("market.tick_usd / market.lot", e);
            None
        }
    };
    let maker = c.percent("market.maker_fee_pct", m.maker_fee_pct);
    let taker = c.percent("market.taker_fee_pct", m.taker_fee_pct);
    let liq_fee = c.percent("market.liquidation_fee_pct", m.liquidation_fee_pct);
    let interest = c.percent("market.funding_interest_pct", m.funding_interest_pct);
    let clamp = c.percent("market.funding_clamp_pct", m.funding_clamp_pct);
    let cap = m.funding_cap_pct.map(|v| c.percent("market.funding_cap_pct", v));
    let impact = c.money("market.impact_notional_usd", m.impact_notional_usd());
    if m.premium_window.secs() < tick.max(1) || m.premium_window.secs() > 86_400 {
        c.fail(
            "market.premium_window",
            format!("must be from one tick ({tick}s) to 1d, got {}", m.premium_window),
        );
    }
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
    let bucket_usd = m.map_bucket_usd();
    if c.finite_positive("market.map_bucket_usd", bucket_usd)
        && let Some(inst) = instrument
        && bucket_usd * 1e6 < inst.tick_micros() as f64
    {
        c.fail(
            "market.map_bucket_usd",
            format!("{} is less than one tick ({})", bucket_usd, inst.price_f64(crate::units::Price(1))),
        );
    }
    // A band of 0 would refuse every market order; 100% lets a sell go down to one tick.
    let band = if m.price_band_pct.is_finite() && m.price_band_pct > 0.0 && m.price_band_pct <= 100.0 {
        c.percent("market.price_band_pct", m.price_band_pct)
    } else {
        c.fail(
            "market.price_band_pct",
            format!("must be a percentage above 0 and at most 100, got {}", m.price_band_pct),
        );
        None
    };
    let tiers = tiers(c, m);
    let liquidation = liquidation_rules(c, m);
    let exchange = match (instrument, &tiers, maker, taker, liq_fee, interest, clamp, (impact, band)) {
        (
            Some(instrument),
            Some(tiers),
            Some(maker),
            Some(taker),
            Some(liq_fee),
            Some(interest),
            Some(clamp),
            (Some(impact), Some(band)),
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
            map_bucket_ticks: ((bucket_usd * 1e6) / instrument.tick_micros() as f64).round().max(1.0) as i64,
            market_price_band: band,
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

/// The notional tiers (the instrument's table when none are given) and the partial-liquidation
/// tier, which must name one of them.
fn tiers(c: &mut Checker, m: &MarketSpec) -> Option<TierTable> {
    let tiers = match &m.tiers {
        None => Some(m.instrument.tiers()),
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
                    "needs at least one tier (or leave it out for the instrument's table)",
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

/// The most depth (USD) a curve may hold within any distance, after its scales.
const MAX_DEPTH_USD: f64 = 1e13;
/// The largest depth scale (a venue's, the index's, or the provider's).
const MAX_DEPTH_SCALE: f64 = 1e3;
/// The largest index weight a venue may have (weights are relative).
const MAX_VENUE_WEIGHT: f64 = 1e6;
/// The largest volatility of the fair value, percent per square-root hour.
const MAX_VOLATILITY_PCT_PER_HOUR: f64 = 100.0;

pub(in crate::scenario) fn index(
    c: &mut Checker,
    index: &IndexSpec,
    clock: Option<Clock>,
    grid: Option<(&Instrument, Price)>,
) -> Option<IndexConfig> {
    let mark = c.mark();
    c.within(
        "index.volatility_pct_per_hour",
        index.volatility_pct_per_hour,
        0.0,
        MAX_VOLATILITY_PCT_PER_HOUR,
    );
    if !index.drift_pct.is_finite() || index.drift_pct.abs() > 500.0 {
        c.fail("index.drift_pct", format!("must be a number between −500 and 500, got {}", index.drift_pct));
    }
    if let Some(nu) = index.tail_dof
        && !(nu.is_finite() && nu > 2.0 && nu <= 1e6)
    {
        c.fail("index.tail_dof", format!("must be above 2 (a finite variance) and at most 1e6, got {nu}"));
    }
    let mut venues = Vec::new();
    let global = index.spot_depth_scale;
    let global_ok = scale(c, "index.spot_depth_scale", global);
    for (i, v) in index.venues.iter().enumerate() {
        let path = format!("index.venues[{i}]");
        if c.finite_positive(&format!("{path}.weight"), v.weight) {
            c.within(&format!("{path}.weight"), v.weight, 0.0, MAX_VENUE_WEIGHT);
        }
        let by = if global_ok { global } else { 1.0 };
        let depth = curve(c, &path, &v.depth_pct_usd, v.reach_pct, v.depth_scale, by);
        if let (Some(depth), Some((inst, start))) = (&depth, grid) {
            levels_fit(c, &format!("{path}.depth_pct_usd"), depth, inst, start);
        }
        half_life(c, &format!("{path}.refill_half_life"), v.refill_half_life);
        c.fraction(&format!("{path}.permanence"), v.permanence);
        let fee = c.percent(&format!("{path}.taker_fee_pct"), v.taker_fee_pct);
        if let (Some(depth), Some(_)) = (depth, fee) {
            venues.push(SpotVenueConfig {
                name: v.name.clone(),
                weight: v.weight,
                depth,
                refill_half_life_secs: v.refill_half_life.secs() as f64,
                permanence: v.permanence,
                taker_fee: v.taker_fee_pct / 100.0,
            });
        }
    }
    let clock = clock.filter(|_| c.sound_since(mark))?;
    let days = (clock.ticks * clock.tick) as f64 / 86_400.0;
    Some(IndexConfig {
        volatility_per_sqrt_day: index.volatility_pct_per_hour / 100.0 * 24f64.sqrt(),
        drift_per_day: if days > 0.0 { index.drift_pct / 100.0 / days } else { 0.0 },
        tail_dof: index.tail_dof,
        venues,
    })
}

/// A depth scale: above 0 and at most [`MAX_DEPTH_SCALE`].
fn scale(c: &mut Checker, path: &str, v: f64) -> bool {
    let ok = v.is_finite() && v > 0.0 && v <= MAX_DEPTH_SCALE;
    if !ok {
        c.fail(path, format!("must be above 0 and at most {MAX_DEPTH_SCALE}, got {v}"));
    }
    ok
}

/// A depth curve from `(percent, USD)` points, a reach in percent, its own `depth_scale` (at
/// `{path}.depth_scale`) and a scale from outside (`by`, checked by the caller). Every number is
/// finite and in range, named with its path: a distance above 0 and below 100 percent, a depth
/// above 0 and (scaled) at most [`MAX_DEPTH_USD`], the reach above 0 and below 100 percent.
fn curve(
    c: &mut Checker,
    path: &str,
    points: &[(f64, f64)],
    reach_pct: f64,
    depth_scale: f64,
    by: f64,
) -> Option<DepthCurve> {
    let mark = c.mark();
    scale(c, &format!("{path}.depth_scale"), depth_scale);
    for (i, &(d, v)) in points.iter().enumerate() {
        if !(d.is_finite() && d > 0.0 && d < 100.0 && v.is_finite() && v > 0.0 && v <= MAX_DEPTH_USD) {
            c.fail(
                format!("{path}.depth_pct_usd[{i}]"),
                format!(
                    "must be (distance, USD) with a distance between 0 and 100 percent (both excluded) and a positive depth of at most {MAX_DEPTH_USD:e} USD, got ({d}, {v})"
                ),
            );
        }
    }
    if !(reach_pct.is_finite() && reach_pct > 0.0 && reach_pct < 100.0) {
        c.fail(
            format!("{path}.reach_pct"),
            format!("must be a percentage between 0 and 100 (both excluded), got {reach_pct}"),
        );
    }
    if !c.sound_since(mark) {
        return None;
    }
    let factor = depth_scale * by;
    let points: Vec<(f64, f64)> = points.iter().map(|&(d, v)| (d / 100.0, v * factor)).collect();
    if let Some(i) = points.iter().position(|p| p.1 > MAX_DEPTH_USD) {
        c.fail(
            format!("{path}.depth_pct_usd[{i}]"),
            format!("must be at most {MAX_DEPTH_USD:e} USD once scaled (×{factor}), got {}", points[i].1),
        );
        return None;
    }
    match DepthCurve::new(points, reach_pct / 100.0) {
        Ok(curve) => Some(curve),
        Err(e) => {
            let field = match e {
                CurveError::Reach { .. } => format!("{path}.reach_pct"),
                CurveError::Distance(i) | CurveError::Depth(i) => format!("{path}.depth_pct_usd[{i}]"),
                CurveError::Empty => format!("{path}.depth_pct_usd"),
            };
            c.fail(field, format!("{e} (distances and reach in percent, below 100)"));
            None
        }
    }
}

/// The levels a provider quotes on `curve` at the start price fit the instrument's units, on
/// both sides.
fn levels_fit(c: &mut Checker, path: &str, curve: &DepthCurve, inst: &Instrument, start: Price) -> bool {
    let mut levels = Vec::new();
    for side in [crate::units::Side::Buy, crate::units::Side::Sell] {
        if let Err(e) = curve.levels(&curve.grid(start), inst, start, side, &mut levels) {
            c.fail(path, format!("a level's size does not fit: {e}"));
            return false;
        }
    }
    true
}

/// A half-life of at most a day.
fn half_life(c: &mut Checker, path: &str, d: Duration) {
    if d.secs() > 86_400 {
        c.fail(path, format!("{d} is longer than a day"));
    }
}

/// The liquidity provider, converted: deposit, depth curve, half-lives and withdrawal.
pub(in crate::scenario) fn liquidity(
    c: &mut Checker,
    l: &LiquiditySpec,
    clock: Option<Clock>,
    grid: Option<(&Instrument, Price)>,
) -> Option<LiquidityConfig> {
    let mark = c.mark();
    let deposit = c.money("liquidity.deposit_usd", l.deposit_usd);
    c.leverage("liquidity.leverage", l.leverage);
    // The curve is checked even when the provider is off: every number in the file is.
    let curve = curve(c, "liquidity", &l.depth_pct_usd, l.reach_pct, l.depth_scale, 1.0);
    let depth = if l.enabled { curve } else { None };
    half_life(c, "liquidity.refill_half_life", l.refill_half_life);
    half_life(c, "liquidity.anchor_half_life", l.anchor_half_life);
    let withdraw_flow = c.money("liquidity.withdraw_flow_usd_per_second", l.withdraw_flow_usd_per_second);
    let _clock = clock.filter(|_| c.sound_since(mark))?;
    let (inst, start) = grid?;
    if let Some(curve) = &depth
        && !levels_fit(c, "liquidity.depth_pct_usd", curve, inst, start)
    {
        return None;
    }
    Some(LiquidityConfig {
        deposit: deposit?,
        leverage: l.leverage,
        depth,
        refill_half_life_secs: l.refill_half_life.secs() as f64,
        anchor_half_life_secs: l.anchor_half_life.secs() as f64,
        withdraw_flow_per_sec: withdraw_flow?,
        withdraw_secs: l.withdraw_for.secs(),
        crossing: l.crossing,
    })
}

/// The arbitrage desks, converted.
pub(in crate::scenario) fn arbitrage(c: &mut Checker, a: &ArbitrageSpec) -> Option<Vec<ArbConfig>> {
    let mark = c.mark();
    let sizes_ok = group(c, "arbitrage", ("desks", a.desks), a.max_position_usd, a.rate_usd_per_second);
    let deposit = c.money("arbitrage.deposit_usd", a.deposit_usd);
    c.leverage("arbitrage.leverage", a.leverage);
    for (path, v) in [
        ("arbitrage.entry_pct", a.entry_pct),
        ("arbitrage.exit_pct", a.exit_pct),
        ("arbitrage.costs_pct", a.costs_pct),
    ] {
        percentage(c, path, v, 10.0);
    }
    if a.desks > 0 && sizes_ok && a.max_position_usd > a.deposit_usd * a.leverage as f64 {
        c.fail(
            "arbitrage.max_position_usd",
            format!(
                "{} is more than a desk's deposit at its leverage ({} × {})",
                a.max_position_usd, a.deposit_usd, a.leverage
            ),
        );
    }
    if !c.sound_since(mark) {
        return None;
    }
    let params = ArbParams {
        max_position_usd: a.max_position_usd,
        rate_usd_per_sec: a.rate_usd_per_second,
        entry: a.entry_pct / 100.0,
        exit: a.exit_pct / 100.0,
        costs: a.costs_pct / 100.0,
        reaction_secs: a.reaction.secs() as f64,
    };
    let desk = ArbConfig { deposit: deposit?, leverage: a.leverage, params };
    Some(vec![desk; a.desks as usize])
}

/// The value traders, converted.
pub(in crate::scenario) fn value(c: &mut Checker, v: &ValueSpec) -> Option<Vec<ArbParams>> {
    let mark = c.mark();
    group(c, "value", ("traders", v.traders), v.max_position_usd, v.rate_usd_per_second);
    let (lo, hi) = v.discount_pct;
    let bounds =
        percentage(c, "value.discount_pct", lo, 50.0) & percentage(c, "value.discount_pct", hi, 50.0);
    if bounds && lo > hi {
        c.fail("value.discount_pct", format!("the low discount {lo} is above the high one {hi}"));
    }
    if percentage(c, "value.exit_pct", v.exit_pct, 50.0) && bounds && v.exit_pct >= lo {
        c.fail(
            "value.exit_pct",
            format!(
                "{} must be below the lowest entry discount {lo}: a trader would unwind as it enters",
                v.exit_pct
            ),
        );
    }
    c.sound_since(mark).then(|| {
        crate::sim::value_set(
            v.traders,
            v.max_position_usd,
            v.rate_usd_per_second,
            (lo / 100.0, hi / 100.0),
            v.exit_pct / 100.0,
            v.reaction.secs() as f64,
        )
    })
}

/// A percentage between 0 and `max`, or a problem at `path`.
fn percentage(c: &mut Checker, path: &str, v: f64, max: f64) -> bool {
    let ok = v.is_finite() && (0.0..=max).contains(&v);
    if !ok {
        c.fail(path, format!("must be a percentage between 0 and {max}, got {v}"));
    }
    ok
}

/// A group of like traders in `section`: at most 1000 of them, each with a largest position and
/// a rate within the money range. Whether the sizes are sound.
fn group(
    c: &mut Checker,
    section: &str,
    (what, count): (&str, u32),
    max_position_usd: f64,
    rate: f64,
) -> bool {
    if count > 1_000 {
        c.fail(format!("{section}.{what}"), format!("{count} {what} is absurd (at most 1000)"));
    }
    let mut ok =
        c.within(&format!("{section}.max_position_usd"), max_position_usd, 0.0, super::MAX_MONEY_USD as f64);
    ok &= c.within(&format!("{section}.rate_usd_per_second"), rate, 0.0, super::MAX_MONEY_USD as f64);
    ok
}
