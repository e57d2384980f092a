//! The sections of those who trade: the liquidation map's accounts, the passive holders, the
//! background traders, the market makers and the hunters.

use super::Checker;
use crate::agents::hunter::{HunterParams, MapView};
use crate::agents::maker::MakerParams;
use crate::agents::{FcnParams, NoiseParams};
use crate::book::TriggerSource;
use crate::margin::TierTable;
use crate::population::{self, MapConfig, MapPlan};
use crate::scenario::{BackgroundSpec, HunterSpec, MAX_ACCOUNTS, MakerSpec, Scenario};
use crate::sim::{
    BackgroundConfig, FcnConfig, FundamentalConfig, HolderConfig, HunterConfig, MakerConfig, NoiseConfig,
};
use crate::units::Instrument;
use crate::venue::VenuePreset;

/// The liquidation map around the start price: its size, then (with a sound instrument and tier
/// table) the generator's own validation, which names the band and field, and the map on the
/// grid.
pub(in crate::scenario) fn map(
    c: &mut Checker,
    s: &Scenario,
    instrument: Option<&Instrument>,
    tiers: Option<&TierTable>,
) -> Option<MapPlan> {
    let mark = c.mark();
    let map = MapConfig {
        price_usd: s.start_price_usd,
        bands: s.map.bands.clone(),
        counterparty_leverage: s.map.counterparty_leverage,
        counterparties: s.map.counterparties,
        notional_jitter: s.map.notional_jitter,
    };
    // The venue decides which prices a stop may watch: Hyperliquid triggers on the mark only.
    if s.market.venue == VenuePreset::Hyperliquid {
        for (i, b) in map.bands.iter().enumerate() {
            if b.stop_loss.as_ref().is_some_and(|l| l.trigger != TriggerSource::Mark) {
                c.fail(
                    format!("map.bands[{i}].stop_loss.trigger"),
                    "Hyperliquid triggers stops on the mark only: write `trigger: Mark`",
                );
            }
        }
    }
    let accounts = map.map_accounts() + if map.bands.is_empty() { 0 } else { map.counterparty_count() };
    if accounts > MAX_ACCOUNTS {
        c.fail(
            "map.bands",
            format!("{accounts} accounts in all is more than the {MAX_ACCOUNTS} a run may hold"),
        );
        return None;
    }
    let (inst, tiers) = instrument.zip(tiers)?;
    if map.bands.is_empty() {
        // No map to draw: the start price (checked on its own) is all it holds.
        let price = inst.price(s.start_price_usd).ok()?;
        return Some(MapPlan {
            price,
            bands: Vec::new(),
            counterparty_leverage: map.counterparty_leverage,
            counterparties: map.counterparties,
            notional_jitter: map.notional_jitter,
        });
    }
    match population::validate(&map, inst, tiers, s.holders.reserve_fraction) {
        Ok(plan) => c.sound_since(mark).then_some(plan),
        Err(e) => {
            // The generator's message starts with its own path; say it once, from the file's root.
            let text = e.to_string();
            let path = e.path().to_string();
            let message = text.strip_prefix(&format!("{path}: ")).unwrap_or(&text).to_string();
            c.fail(format!("map.{path}"), message);
            None
        }
    }
}

pub(in crate::scenario) fn holders(c: &mut Checker, h: &HolderConfig) -> Option<HolderConfig> {
    let mark = c.mark();
    for (name, v) in [
        ("holders.close_per_day", h.close_per_day),
        ("holders.add_margin_per_day", h.add_margin_per_day),
        ("holders.reenter_per_day", h.reenter_per_day),
    ] {
        if c.finite_at_least(name, v, 0.0) {
            c.within(name, v, 0.0, 86_400.0);
        }
    }
    if c.finite_at_least("holders.reserve_fraction", h.reserve_fraction, 0.0) {
        c.within("holders.reserve_fraction", h.reserve_fraction, 0.0, 100.0);
    }
    c.fraction("holders.add_margin_fraction", h.add_margin_fraction);
    c.sound_since(mark).then(|| h.clone())
}

/// FCN and noise traders, their deposits converted.
pub(in crate::scenario) fn background(
    c: &mut Checker,
    b: &BackgroundSpec,
    inst: Option<&Instrument>,
) -> Option<BackgroundConfig> {
    let mark = c.mark();
    let mut fcn = None;
    if let Some(f) = &b.fcn {
        let deposit = c.money("background.fcn.deposit_usd", f.deposit_usd);
        c.leverage("background.fcn.leverage", f.leverage);
        if f.agents > 1_000_000 {
            c.fail("background.fcn.agents", format!("{} agents is absurd (at most 1000000)", f.agents));
        }
        fcn_params(c, &f.params, inst);
        for (name, factor) in [("activity", &f.activity), ("chart_sentiment", &f.chart_sentiment)] {
            let Some(ou) = factor else { continue };
            let path = format!("background.fcn.{name}");
            c.within(&format!("{path}.volatility"), ou.volatility, 0.0, 10.0);
            if c.finite_positive(&format!("{path}.correlation_ticks"), ou.correlation_ticks) {
                c.within(&format!("{path}.correlation_ticks"), ou.correlation_ticks, 0.0, 1e9);
            }
            if let Some(max) = ou.max_factor
                && c.finite_positive(&format!("{path}.max_factor"), max)
            {
                c.within(&format!("{path}.max_factor"), max, 0.0, 1e6);
            }
        }
        fcn = deposit.map(|deposit| FcnConfig {
            agents: f.agents,
            params: f.params.clone(),
            decisions_per_tick: f.decisions_per_tick,
            deposit,
            leverage: f.leverage,
            warmup_ticks: f.warmup_ticks,
            activity: f.activity.clone(),
            chart_sentiment: f.chart_sentiment.clone(),
        });
    }
    let mut noise = None;
    if let Some(n) = &b.noise {
        let deposit = c.money("background.noise.deposit_usd", n.deposit_usd);
        c.leverage("background.noise.leverage", n.leverage);
        if n.agents > 1_000_000 {
            c.fail("background.noise.agents", format!("{} agents is absurd (at most 1000000)", n.agents));
        }
        noise_params(c, &n.params);
        noise = deposit.map(|deposit| NoiseConfig {
            agents: n.agents,
            params: n.params.clone(),
            deposit,
            leverage: n.leverage,
        });
    }
    let f = &b.fundamental;
    c.within("background.fundamental.volatility_per_tick", f.volatility_per_tick, 0.0, 1.0);
    c.within("background.fundamental.drift_per_tick", f.drift_per_tick, -1.0, 1.0);
    if !(b.max_price_deviation.is_finite() && b.max_price_deviation > 0.0 && b.max_price_deviation <= 1.0) {
        c.fail(
            "background.max_price_deviation",
            format!("must be a number above 0 and at most 1, got {}", b.max_price_deviation),
        );
    }
    let fundamental_price = match (b.fundamental.price_usd, inst) {
        (Some(usd), Some(inst)) => c.price("background.fundamental.price_usd", usd, inst).map(Some),
        (Some(_), None) => None,
        (None, _) => Some(None),
    };
    if !c.sound_since(mark) {
        return None;
    }
    Some(BackgroundConfig {
        fcn,
        noise,
        fundamental: FundamentalConfig {
            price: fundamental_price?,
            volatility_per_tick: b.fundamental.volatility_per_tick,
            drift_per_tick: b.fundamental.drift_per_tick,
        },
        max_price_deviation: b.max_price_deviation,
    })
}

/// The most decisions, orders or levels a tick may ask of one population (the resource
/// budget bounds the product with the horizon).
const MAX_PER_TICK: f64 = 1e7;
/// The longest FCN window, mean-reversion time or order life, and the longest noise-order life,
/// in ticks (a price history and an expiry ring as long as it are kept).
const MAX_WINDOW_TICKS: f64 = 1e7;
/// The most money-like amount (USD) an agent's float parameters may name.
const MAX_AGENT_USD: f64 = 1e13;
/// Basis points: at most 100%.
const MAX_BPS: f64 = 10_000.0;

/// The FCN population's parameters (PAMS's terms): every one finite and within its range.
fn fcn_params(c: &mut Checker, p: &FcnParams, inst: Option<&Instrument>) {
    let path = |f: &str| format!("background.fcn.params.{f}");
    for (name, v) in [
        ("fundamental_weight_mean", p.fundamental_weight_mean),
        ("chart_weight_mean", p.chart_weight_mean),
        ("noise_weight_mean", p.noise_weight_mean),
    ] {
        c.within(&path(name), v, 0.0, 1e6);
    }
    c.within(&path("noise_scale"), p.noise_scale, 0.0, 10.0);
    c.range_pair(&path("time_window"), p.time_window, 0.0, MAX_WINDOW_TICKS);
    if let Some(t) = p.mean_reversion_time {
        c.range_pair(&path("mean_reversion_time"), t, 0.0, MAX_WINDOW_TICKS);
    }
    let margin_max = match p.margin_type {
        crate::agents::MarginType::Fixed => 1.0,
        crate::agents::MarginType::Normal => 1e9,
    };
    c.range_pair(&path("order_margin"), p.order_margin, 0.0, margin_max);
    if let Some(ttl) = p.order_ttl {
        c.whole_within(&path("order_ttl"), ttl as u64, 1, MAX_WINDOW_TICKS as u64);
    }
    if c.finite_positive(&path("order_qty"), p.order_qty)
        && let Some(inst) = inst
    {
        lots(c, &path("order_qty"), p.order_qty, inst);
    }
}

/// A size in BTC that is at least one lot and at most a billion lots.
fn lots(c: &mut Checker, path: &str, btc: f64, inst: &Instrument) {
    let lot = inst.lot_sats() as f64 / 1e8;
    if btc < lot {
        c.fail(path, format!("{btc} is less than one lot ({lot}): no order would ever be sent"));
    } else if btc / lot > 1e9 {
        c.fail(path, format!("{btc} is more than a billion lots ({} at most)", lot * 1e9));
    }
}

/// The noise traders' arrival rates and order shapes.
fn noise_params(c: &mut Checker, p: &NoiseParams) {
    let path = |f: &str| format!("background.noise.params.{f}");
    c.within(&path("market_orders_per_tick"), p.market_orders_per_tick, 0.0, MAX_PER_TICK);
    c.within(&path("limit_orders_per_tick"), p.limit_orders_per_tick, 0.0, MAX_PER_TICK);
    c.fraction(&path("buy_probability"), p.buy_probability);
    c.within(&path("size_mean"), p.size_mean, 0.0, 1e9);
    c.within(&path("limit_offset_mean"), p.limit_offset_mean, 0.0, 1.0);
    c.whole_within(&path("limit_ttl"), p.limit_ttl as u64, 0, MAX_WINDOW_TICKS as u64);
}

/// A market maker's quoting and withdrawal parameters.
fn maker_params(c: &mut Checker, at: &str, p: &MakerParams) {
    let path = |f: &str| format!("{at}.{f}");
    for (name, v) in [
        ("half_spread_bps", p.half_spread_bps),
        ("level_spacing_bps", p.level_spacing_bps),
        ("skew_bps_at_max", p.skew_bps_at_max),
        ("vol_widen_bps", p.vol_widen_bps),
        ("vol_pull_bps", p.vol_pull_bps),
    ] {
        c.within(&path(name), v, 0.0, MAX_BPS);
    }
    for (name, v) in [("maker_fee_bps", p.maker_fee_bps), ("min_edge_bps", p.min_edge_bps)] {
        c.within(&path(name), v, -MAX_BPS, MAX_BPS);
    }
    c.whole_within(&path("levels"), p.levels as u64, 0, 1_000);
    c.within(&path("size_per_level_btc"), p.size_per_level_btc, 0.0, 1e9);
    c.within(&path("max_inventory_btc"), p.max_inventory_btc, 0.0, 1e9);
    c.within(&path("flow_min_btc"), p.flow_min_btc, 0.0, 1e9);
    c.whole_within(&path("vol_window"), p.vol_window as u64, 1, 1_000_000);
    c.whole_within(&path("flow_window"), p.flow_window as u64, 1, 1_000_000);
    c.fraction(&path("toxic_widen"), p.toxic_widen);
    c.fraction(&path("toxic_pull"), p.toxic_pull);
    c.within(&path("widen_factor"), p.widen_factor, 1.0, 1_000.0);
}

/// A hunter's map view, budget, limits and pacing.
fn hunter_params(c: &mut Checker, at: &str, p: &HunterParams) {
    let path = |f: &str| format!("{at}.{f}");
    for (name, v) in [
        ("cluster_usd", p.cluster_usd),
        ("budget_usd", p.budget_usd),
        ("pace_usd_per_tick", p.pace_usd_per_tick),
        ("max_inventory_usd", p.max_inventory_usd),
        ("support_usd", p.support_usd),
        ("feed_after_usd", p.feed_after_usd),
        ("feed_per_tick_usd", p.feed_per_tick_usd),
        ("unwind_per_tick_usd", p.unwind_per_tick_usd),
    ] {
        if c.finite_at_least(&path(name), v, 0.0) {
            c.within(&path(name), v, 0.0, MAX_AGENT_USD);
        }
    }
    for (name, v) in [
        ("support_gap_bps", p.support_gap_bps),
        ("feed_offset_bps", p.feed_offset_bps),
        ("feed_spacing_bps", p.feed_spacing_bps),
    ] {
        c.within(&path(name), v, 0.0, MAX_BPS);
    }
    c.fraction(&path("max_distance"), p.max_distance);
    c.fraction(&path("stop_loss"), p.stop_loss);
    c.within(&path("min_ratio"), p.min_ratio, 0.0, 1e12);
    c.whole_within(&path("feed_levels"), p.feed_levels as u64, 0, 1_000);
    if let MapView::Estimated(e) = &p.map {
        let path = |f: &str| format!("{at}.map.{f}");
        if e.leverage.is_empty() || e.leverage.len() > 100 {
            c.fail(
                path("leverage"),
                format!("needs 1 to 100 (leverage, weight) pairs, got {}", e.leverage.len()),
            );
        }
        for (j, &(lev, w)) in e.leverage.iter().enumerate() {
            c.leverage(format!("{at}.map.leverage[{j}].0"), lev);
            c.within(&format!("{at}.map.leverage[{j}].1"), w, 0.0, 1e6);
        }
        c.fraction(&path("long_share"), e.long_share);
        c.within(&path("entry_spread"), e.entry_spread, 0.0, 0.5);
        c.whole_within(&path("entry_points"), e.entry_points as u64, 1, 10_000);
        c.within(&path("noise_sigma"), e.noise_sigma, 0.0, 10.0);
        c.within(&path("mmr"), e.mmr, 0.0, 0.5);
        if c.finite_positive(&path("bucket_usd"), e.bucket_usd) {
            c.within(&path("bucket_usd"), e.bucket_usd, 1e-6, 1e9);
        }
    }
}

/// Every deposit, the insurance fund and the map's margins, together: at most
/// [`MAX_WORLD_USD`](super::MAX_WORLD_USD).
pub(in crate::scenario) fn world_money(c: &mut Checker, s: &Scenario) {
    let b = &s.background;
    let map: f64 = s.map.bands.iter().map(|b| b.notional_usd.max(0.0)).sum::<f64>()
        * (2.0 + s.holders.reserve_fraction.max(0.0));
    let lp = if s.liquidity.enabled { s.liquidity.deposit_usd } else { 0.0 };
    let arbitrage = s.arbitrage.deposit_usd * s.arbitrage.desks as f64;
    let total = s.insurance_fund_usd
        + lp
        + arbitrage
        + map
        + b.fcn.as_ref().map_or(0.0, |f| f.deposit_usd * f.agents as f64)
        + b.noise.as_ref().map_or(0.0, |n| n.deposit_usd * n.agents as f64)
        + s.makers.iter().map(|m| m.deposit_usd).sum::<f64>()
        + s.hunters.iter().map(|h| h.deposit_usd).sum::<f64>();
    if total.is_finite() && total > super::MAX_WORLD_USD {
        c.fail(
            "insurance_fund_usd / map.bands / *.deposit_usd",
            format!(
                "the world would hold about {total:.3e} USD in all (deposits, insurance fund, map margins), more than the {:e} USD a run may hold",
                super::MAX_WORLD_USD
            ),
        );
    }
}

pub(in crate::scenario) fn makers(c: &mut Checker, makers: &[MakerSpec]) -> Option<Vec<MakerConfig>> {
    let mark = c.mark();
    let mut out = Vec::new();
    for (i, mk) in makers.iter().enumerate() {
        let deposit = c.money(&format!("makers[{i}].deposit_usd"), mk.deposit_usd);
        c.leverage(format!("makers[{i}].leverage"), mk.leverage);
        maker_params(c, &format!("makers[{i}].quoting"), &mk.quoting);
        out.extend(deposit.map(|deposit| MakerConfig {
            deposit,
            leverage: mk.leverage,
            quoting: mk.quoting.clone(),
        }));
    }
    c.sound_since(mark).then_some(out)
}

pub(in crate::scenario) fn hunters(c: &mut Checker, hunters: &[HunterSpec]) -> Option<Vec<HunterConfig>> {
    let mark = c.mark();
    let mut out = Vec::new();
    for (i, h) in hunters.iter().enumerate() {
        let deposit = c.money(&format!("hunters[{i}].deposit_usd"), h.deposit_usd);
        c.leverage(format!("hunters[{i}].leverage"), h.leverage);
        hunter_params(c, &format!("hunters[{i}].hunting"), &h.hunting);
        out.extend(deposit.map(|deposit| HunterConfig {
            deposit,
            leverage: h.leverage,
            team: h.team,
            hunting: h.hunting.clone(),
        }));
    }
    c.sound_since(mark).then_some(out)
}
