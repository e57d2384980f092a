//! The sections of those who trade: the liquidation map's accounts, the passive holders, the
//! background traders, the market makers and the hunters.

use super::Checker;
use crate::agents::hunter::{HunterParams, MapView};
use crate::book::{AccountId, TriggerSource};
use crate::margin::TierTable;
use crate::population::{self, MapConfig, MapPlan};
use crate::scenario::behaviour::ticks;
use crate::scenario::{
    BackgroundSpec, FcnBehaviourSpec, HunterSpec, HuntingSpec, MAX_ACCOUNTS, MakerSpec, NoiseFlowSpec,
    QuotingSpec, Scenario,
};
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
    let reserve = s.holders.reserve_fraction;
    let plan = population::validate(&map, inst, tiers, reserve).map_err(|e| map_problem(c, e)).ok()?;
    if !c.sound_since(mark) {
        return None;
    }
    // What only drawn accounts show (a counterparty that would be liquidated within the map's
    // reach, a band whose draws cannot be solved onto it): the map a run with the scenario's
    // seed seeds, drawn here as the run draws it.
    let key = DrawnMap { plan, inst: *inst, tiers: tiers.clone(), seed: s.seed, reserve };
    if !DRAWN.with(|d| d.borrow().contains(&key)) {
        #[cfg(test)]
        DRAWS.with(|n| n.set(n.get() + 1));
        let mut rng = crate::sim::map_rng(s.seed);
        population::generate(&key.plan, inst, tiers, &mut rng, AccountId(0), reserve)
            .map_err(|e| map_problem(c, e))
            .ok()?;
        DRAWN.with(|d| {
            let mut d = d.borrow_mut();
            if d.len() == DRAWN_KEPT {
                d.remove(0);
            }
            d.push(key.clone());
        });
    }
    Some(key.plan)
}

/// Everything a map's draw depends on: the same inputs draw the same accounts (the generator is
/// deterministic), so a map drawn once without error need not be drawn again to be checked.
#[derive(Clone, PartialEq)]
struct DrawnMap {
    plan: MapPlan,
    inst: Instrument,
    tiers: TierTable,
    seed: u64,
    reserve: f64,
}

#[cfg(test)]
thread_local! {
    static DRAWS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// How many maps this thread has drawn to check them.
#[cfg(test)]
pub(in crate::scenario) fn map_draws() -> u32 {
    DRAWS.with(|n| n.get())
}

/// How many drawn maps a thread remembers.
const DRAWN_KEPT: usize = 8;

thread_local! {
    /// The maps this thread drew without error, last DRAWN_KEPT of them: checking a sweep's or a
    /// sensitivity analysis's values validates the scenario once per value, and most values
    /// leave the map as it is (the default scenario's eighteen checks drew it eighteen times,
    /// 0.45 s of every command's start).
    static DRAWN: std::cell::RefCell<Vec<DrawnMap>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reports a map generator's error at its field, from the file's root (`map.counterparty_leverage`).
fn map_problem(c: &mut Checker, e: population::MapError) {
    // The generator's message starts with its own path; say it once.
    let text = e.to_string();
    let path = e.path().to_string();
    let message = text.strip_prefix(&format!("{path}: ")).unwrap_or(&text).to_string();
    c.fail(format!("map.{path}"), message);
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
    tick: Option<u64>,
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
        // Windows are whole ticks: one shorter than a tick would be no window at all.
        if let Some(t) = tick {
            let windows = [
                ("time_window", Some(f.params.time_window)),
                ("mean_reversion_time", f.params.mean_reversion_time),
            ];
            for (name, range) in windows {
                if let Some((lo, _)) = range
                    && lo.is_finite()
                    && lo < t as f64
                {
                    c.fail(
                        format!("background.fcn.params.{name}"),
                        format!("starts at {lo} s, shorter than one {t}s tick"),
                    );
                }
            }
        }
        let decisions = c
            .within("background.fcn.decisions_per_second", f.decisions_per_second, 0.0, MAX_PER_TICK)
            .then_some(tick)
            .flatten()
            .and_then(|t| decisions_per_tick(c, f.decisions_per_second, t));
        for (name, factor) in [("activity", &f.activity), ("chart_sentiment", &f.chart_sentiment)] {
            let Some(ou) = factor else { continue };
            let path = format!("background.fcn.{name}");
            c.within(&format!("{path}.volatility"), ou.volatility, 0.0, 10.0);
            if ou.correlation.secs() == 0 {
                c.fail(format!("{path}.correlation"), "must be longer than 0s");
            }
            if let Some(max) = ou.max_factor
                && c.finite_positive(&format!("{path}.max_factor"), max)
            {
                c.within(&format!("{path}.max_factor"), max, 0.0, 1e6);
            }
        }
        fcn = deposit.zip(tick).zip(decisions).map(|((deposit, tick), decisions_per_tick)| FcnConfig {
            agents: f.agents,
            params: f.params.per_tick(tick),
            decisions_per_tick,
            deposit,
            leverage: f.leverage,
            warmup_ticks: ticks(f.warmup, tick),
            activity: f.activity.as_ref().map(|a| a.per_tick(tick)),
            chart_sentiment: f.chart_sentiment.as_ref().map(|a| a.per_tick(tick)),
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
        noise = deposit.zip(tick).map(|(deposit, tick)| NoiseConfig {
            agents: n.agents,
            params: n.params.per_tick(tick),
            deposit,
            leverage: n.leverage,
        });
    }
    let f = &b.fundamental;
    c.within("background.fundamental.volatility_pct_per_hour", f.volatility_pct_per_hour, 0.0, 100.0);
    c.within("background.fundamental.drift_pct_per_hour", f.drift_pct_per_hour, -100.0, 100.0);
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
    // A geometric walk stepped once a tick: its per-tick volatility grows with the square root
    // of the tick, its drift with the tick.
    let hours = tick? as f64 / 3_600.0;
    Some(BackgroundConfig {
        fcn,
        noise,
        fundamental: FundamentalConfig {
            price: fundamental_price?,
            volatility_per_tick: f.volatility_pct_per_hour / 100.0 * hours.sqrt(),
            drift_per_tick: f.drift_pct_per_hour / 100.0 * hours,
        },
        max_price_deviation: b.max_price_deviation,
    })
}

/// The most decisions or orders a second (or a tick) one population may ask for (the resource
/// budget bounds the product with the horizon).
const MAX_PER_TICK: f64 = 1e7;
/// The longest FCN window, mean-reversion time or order life, and the longest noise-order life,
/// in seconds (a price history and an expiry ring as long as it are kept, a slot a tick).
const MAX_WINDOW_SECS: f64 = 1e7;
/// The most money-like amount (USD) an agent's float parameters may name.
const MAX_AGENT_USD: f64 = 1e13;
/// Basis points: at most 100%.
const MAX_BPS: f64 = 10_000.0;

/// FCN decisions a tick: the rate times the tick, rounded; a positive rate must give at least
/// one.
fn decisions_per_tick(c: &mut Checker, per_second: f64, tick: u64) -> Option<u32> {
    let path = "background.fcn.decisions_per_second";
    let n = (per_second * tick as f64).round();
    if !(n.is_finite() && n <= MAX_PER_TICK) {
        c.fail(path, format!("{per_second} a second is more than {MAX_PER_TICK} decisions a tick"));
        return None;
    }
    if per_second > 0.0 && n < 1.0 {
        c.fail(path, format!("{per_second} a second is less than one decision a {tick}s tick"));
        return None;
    }
    Some(n as u32)
}

/// The FCN population's parameters (PAMS's terms): every one finite and within its range.
fn fcn_params(c: &mut Checker, p: &FcnBehaviourSpec, inst: Option<&Instrument>) {
    let path = |f: &str| format!("background.fcn.params.{f}");
    for (name, v) in [
        ("fundamental_weight_mean", p.fundamental_weight_mean),
        ("chart_weight_mean", p.chart_weight_mean),
        ("noise_weight_mean", p.noise_weight_mean),
    ] {
        c.within(&path(name), v, 0.0, 1e6);
    }
    c.within(&path("noise_scale"), p.noise_scale, 0.0, 10.0);
    c.range_pair(&path("time_window"), p.time_window, 0.0, MAX_WINDOW_SECS);
    if let Some(t) = p.mean_reversion_time {
        c.range_pair(&path("mean_reversion_time"), t, 0.0, MAX_WINDOW_SECS);
    }
    let margin_max = match p.margin_type {
        crate::agents::MarginType::Fixed => 1.0,
        crate::agents::MarginType::Normal => 1e9,
    };
    c.range_pair(&path("order_margin"), p.order_margin, 0.0, margin_max);
    if let Some(ttl) = p.order_ttl {
        c.whole_within(&path("order_ttl"), ttl.secs(), 1, MAX_WINDOW_SECS as u64);
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
fn noise_params(c: &mut Checker, p: &NoiseFlowSpec) {
    let path = |f: &str| format!("background.noise.params.{f}");
    c.within(&path("market_orders_per_second"), p.market_orders_per_second, 0.0, MAX_PER_TICK);
    c.within(&path("limit_orders_per_second"), p.limit_orders_per_second, 0.0, MAX_PER_TICK);
    c.fraction(&path("buy_probability"), p.buy_probability);
    c.within(&path("size_mean"), p.size_mean, 0.0, 1e9);
    c.within(&path("limit_offset_mean"), p.limit_offset_mean, 0.0, 1.0);
    c.whole_within(&path("limit_ttl"), p.limit_ttl.secs(), 0, MAX_WINDOW_SECS as u64);
}

/// A market maker's quoting and withdrawal parameters.
fn maker_params(c: &mut Checker, at: &str, p: &QuotingSpec) {
    let path = |f: &str| format!("{at}.{f}");
    for (name, v) in [
        ("half_spread_bps", p.half_spread_bps),
        ("level_spacing_bps", p.level_spacing_bps),
        ("skew_bps_at_max", p.skew_bps_at_max),
        ("vol_widen_bps", p.vol_widen_bps),
        ("vol_pull_bps", p.vol_pull_bps),
        ("lean_bps", p.lean_bps),
    ] {
        c.within(&path(name), v, 0.0, MAX_BPS);
    }
    for (name, v) in [("maker_fee_bps", p.maker_fee_bps), ("min_edge_bps", p.min_edge_bps)] {
        c.within(&path(name), v, -MAX_BPS, MAX_BPS);
    }
    c.whole_within(&path("levels"), p.levels as u64, 0, 1_000);
    c.within(&path("size_per_level"), p.size_per_level, 0.0, 1e9);
    c.within(&path("max_inventory"), p.max_inventory, 0.0, 1e9);
    c.within(&path("flow_min"), p.flow_min, 0.0, 1e9);
    c.whole_within(&path("vol_window"), p.vol_window.secs(), 1, 1_000_000);
    c.whole_within(&path("flow_window"), p.flow_window.secs(), 1, 1_000_000);
    c.whole_within(&path("cooldown"), p.cooldown.secs(), 0, 1_000_000);
    c.fraction(&path("toxic_widen"), p.toxic_widen);
    c.fraction(&path("toxic_pull"), p.toxic_pull);
    c.within(&path("widen_factor"), p.widen_factor, 1.0, 1_000.0);
}

/// A hunter's (or a hunting maker's) campaign at `at`, read at the tick once that is known;
/// `capital_usd` is its account's deposit × leverage, the most it could hold.
fn hunting(
    c: &mut Checker,
    at: &str,
    h: &HuntingSpec,
    tick: Option<u64>,
    capital_usd: f64,
) -> Option<HunterParams> {
    hunter_params(c, at, h);
    // An inventory its account cannot margin would have its orders refused, silently.
    if capital_usd.is_finite() && capital_usd >= 0.0 && h.max_inventory_usd > capital_usd {
        c.fail(
            format!("{at}.max_inventory_usd"),
            format!(
                "must be at most the account's deposit × leverage ({capital_usd}), got {}",
                h.max_inventory_usd
            ),
        );
    }
    // One tick's reach beyond the touch: past half the price an order limit would be
    // meaningless (a sell limited at or below zero is dropped).
    let sweep = h.sweep_pct_per_second;
    if let Some(t) = tick
        && sweep.is_finite()
        && sweep * t as f64 > 50.0
    {
        c.fail(
            format!("{at}.sweep_pct_per_second"),
            format!(
                "{sweep}% a second reaches {}% beyond the touch in one {t}s tick; at most 50%",
                sweep * t as f64
            ),
        );
    }
    tick.map(|t| h.per_tick(t))
}

/// A hunter's map view, budget, limits and pacing.
fn hunter_params(c: &mut Checker, at: &str, p: &HuntingSpec) {
    let path = |f: &str| format!("{at}.{f}");
    for (name, v) in [
        ("cluster_usd", p.cluster_usd),
        ("budget_usd", p.budget_usd),
        ("pace_usd_per_second", p.pace_usd_per_second),
        ("max_inventory_usd", p.max_inventory_usd),
        ("support_usd", p.support_usd),
        ("feed_after_usd", p.feed_after_usd),
        ("feed_usd", p.feed_usd),
        ("feed_usd_per_second", p.feed_usd_per_second),
        ("unwind_usd_per_second", p.unwind_usd_per_second),
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
    // Half the price, as for the sweep: past it a sell's limit would be at or below zero.
    c.within(&path("push_reach_bps"), p.push_reach_bps, 0.0, 5_000.0);
    c.fraction(&path("max_distance"), p.max_distance);
    c.within(&path("sweep_pct_per_second"), p.sweep_pct_per_second, 0.0, 100.0);
    c.fraction(&path("stop_loss"), p.stop_loss);
    c.within(&path("unwind_slippage_pct"), p.unwind_slippage_pct, 0.0, 50.0);
    c.within(&path("min_ratio"), p.min_ratio, 0.0, 1e12);
    c.within(&path("min_expected_pnl_usd"), p.min_expected_pnl_usd, 0.0, 1e13);
    c.whole_within(&path("book_half_life"), p.book_half_life.secs(), 1, 1_000_000);
    c.fraction(&path("unwind_retention"), p.unwind_retention);
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
    // A value trader's perp account holds its largest position.
    let value = s.value.max_position_usd * s.value.traders as f64;
    let total = s.insurance_fund_usd
        + lp
        + arbitrage
        + value
        + map
        + b.fcn.as_ref().map_or(0.0, |f| f.deposit_usd * f.agents as f64)
        + b.noise.as_ref().map_or(0.0, |n| n.deposit_usd * n.agents as f64)
        + s.makers.iter().map(|m| m.deposit_usd).sum::<f64>()
        + s.hunters.iter().map(|h| h.deposit_usd).sum::<f64>();
    if total.is_finite() && total > super::MAX_WORLD_USD {
        c.fail(
            "insurance_fund_usd / map.bands / *.deposit_usd / value.max_position_usd",
            format!(
                "the world would hold about {total:.3e} USD in all (deposits, insurance fund, map margins), more than the {:e} USD a run may hold",
                super::MAX_WORLD_USD
            ),
        );
    }
}

pub(in crate::scenario) fn makers(
    c: &mut Checker,
    makers: &[MakerSpec],
    tick: Option<u64>,
) -> Option<Vec<MakerConfig>> {
    let mark = c.mark();
    let mut out = Vec::new();
    for (i, mk) in makers.iter().enumerate() {
        let deposit = c.money(&format!("makers[{i}].deposit_usd"), mk.deposit_usd);
        c.leverage(format!("makers[{i}].leverage"), mk.leverage);
        maker_params(c, &format!("makers[{i}].quoting"), &mk.quoting);
        let capital = mk.deposit_usd * mk.leverage as f64;
        let hunting =
            mk.hunting.as_ref().map(|h| hunting(c, &format!("makers[{i}].hunting"), h, tick, capital));
        out.extend(deposit.zip(tick).map(|(deposit, tick)| MakerConfig {
            deposit,
            leverage: mk.leverage,
            quoting: mk.quoting.per_tick(tick),
            hunting: hunting.flatten(),
        }));
    }
    c.sound_since(mark).then_some(out)
}

pub(in crate::scenario) fn hunters(
    c: &mut Checker,
    hunters: &[HunterSpec],
    tick: Option<u64>,
) -> Option<Vec<HunterConfig>> {
    let mark = c.mark();
    let mut out = Vec::new();
    for (i, h) in hunters.iter().enumerate() {
        let deposit = c.money(&format!("hunters[{i}].deposit_usd"), h.deposit_usd);
        c.leverage(format!("hunters[{i}].leverage"), h.leverage);
        let capital = h.deposit_usd * h.leverage as f64;
        let hunting = hunting(c, &format!("hunters[{i}].hunting"), &h.hunting, tick, capital);
        out.extend(deposit.zip(hunting).map(|(deposit, hunting)| HunterConfig {
            deposit,
            leverage: h.leverage,
            team: h.team,
            hunting,
        }));
    }
    c.sound_since(mark).then_some(out)
}
