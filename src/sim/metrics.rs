//! Cascade metrics: one row per tick, cascades as spells of liquidations each at most
//! [`CASCADE_GAP_SECS`] after the last, and a run summary.

use super::hunters::HunterReport;
use super::levels::LevelReport;
use super::messages::{LiquidationSettled, PositionLiquidated, Publisher, StopFired, TradeExecuted};
use super::{Clock, Halt, Market};
use crate::engine::Exchange;
use crate::units::{Price, Qty, Side};
use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

/// One tick, in human units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TickRow {
    pub tick: u64,
    /// The last traded price at the end of the tick (the close).
    pub last: f64,
    /// The lowest and highest price traded during the tick (the close when nothing traded): a
    /// wick that a trade reached and the close left shows here, whatever the tick length.
    pub low: f64,
    pub high: f64,
    pub mark: f64,
    pub index: f64,
    pub volume_btc: f64,
    pub open_interest_btc: f64,
    pub liquidated_long_usd: f64,
    pub liquidated_short_usd: f64,
    pub insurance_fund_usd: f64,
    /// The funding rate accrued at the end of the tick (a fraction per interval): what the
    /// interval's weighted premium average so far would give; on a settlement tick, and until the
    /// next interval's first sample, the rate just fixed (0 before the run's first sample).
    pub funding_rate: f64,
}

/// Liquidations at most this far apart belong to one cascade: 20 seconds, the default
/// book's refill half-life ([`super::LIQUIDITY_REFILL_HALF_LIFE_SECS`]; order books replenish
/// within seconds to tens of seconds after a large trade: Large 2007, Degryse, de Jong, van
/// Ravenswaaij & Wuyts 2005). Within it a forced order's impact has not faded and can reach
/// the next layer of liquidations; what is liquidated longer after was not pushed there by the
/// last. Seconds (from one tick with liquidations to the next), not ticks: counting runs of
/// consecutive ticks made October's cascades 61% fewer at a 2 s tick.
pub const CASCADE_GAP_SECS: u64 = 20;

/// A run of liquidations in which no two successive ticks with liquidations are more than
/// [`CASCADE_GAP_SECS`] apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cascade {
    pub start_tick: u64,
    pub end_tick: u64,
    pub accounts: u64,
    pub notional_usd: f64,
    /// Liquidated notional of shorts minus longs: positive for a squeeze up.
    pub net_short_usd: f64,
    /// Last price before the cascade and at its end.
    pub price_before: f64,
    pub price_after: f64,
}

/// The outcome of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub ticks: u64,
    pub start_price: f64,
    pub final_price: f64,
    pub max_price: f64,
    pub min_price: f64,
    /// Highest and lowest mark price (liquidation is judged on mark).
    pub max_mark: f64,
    pub min_mark: f64,
    /// Distinct accounts liquidated at least once, by the side of their position.
    pub liquidated_accounts_long: u64,
    pub liquidated_accounts_short: u64,
    /// Liquidation triggers (an account may be liquidated more than once).
    #[serde(default)]
    pub liquidations_long: u64,
    #[serde(default)]
    pub liquidations_short: u64,
    pub liquidated_notional_long: f64,
    pub liquidated_notional_short: f64,
    pub cascades: Vec<Cascade>,
    pub insurance_fund_min: f64,
    pub insurance_fund_final: f64,
    /// Losses beyond what the insurance fund held, absorbed by the venue (USD; 0 unless the
    /// fund ran dry).
    #[serde(default)]
    pub insurance_shortfall: f64,
    pub adl_count: u64,
    /// Auto-deleveraged notional at the bankruptcy prices, USD.
    #[serde(default)]
    pub adl_notional: f64,
    /// Positions the insurance fund took over, and their notional at the bankruptcy prices (USD).
    #[serde(default)]
    pub insurance_takeovers: u64,
    #[serde(default)]
    pub insurance_takeover_notional: f64,
    /// The fund's PnL on what it took over: realised while offloading, plus what it still holds
    /// at the final mark (USD).
    #[serde(default)]
    pub insurance_fund_pnl: f64,
    /// Stop orders triggered (each became a market order).
    #[serde(default)]
    pub stops_triggered: u64,
    /// The funding rate accrued at the end of the run (a fraction per interval; see
    /// [`TickRow::funding_rate`]): for a run shorter than the interval, the rate it would pay.
    #[serde(default)]
    pub funding_rate_accrued: f64,
    pub events: u64,
    pub final_state_hash: String,
    pub event_stream_hash: String,
    /// Watch levels: touched, when, and what happened there.
    #[serde(default)]
    pub levels: Vec<LevelReport>,
    /// Σ hunters' PnL (realised + unrealised at the final mark), USD, and each hunter's story.
    #[serde(default)]
    pub hunter_pnl: f64,
    #[serde(default)]
    pub hunters: Vec<HunterReport>,
    /// The value traders' PnL (the perp leg at the final mark, the spot leg at the final index)
    /// and their net position of both legs at the index, USD (floats: the spot legs live
    /// outside the exact ledger).
    #[serde(default)]
    pub value_pnl: f64,
    #[serde(default)]
    pub value_position_usd: f64,
}

impl RunSummary {
    /// The way the run's first hunting campaign pushed, by start tick (ties: the first hunter):
    /// 1 up, −1 down, 0 when no one hunted.
    pub fn first_hunt_direction(&self) -> f64 {
        self.hunters
            .iter()
            .flat_map(|h| h.campaigns.iter())
            .min_by_key(|c| c.start_tick)
            .map(|c| c.direction.sign())
            .unwrap_or(0.0)
    }
}

/// How far the traded price has swung so far, price by price in the order traded: its largest
/// fall from a running peak (drawdown) and its largest rise from a running trough (run-up), as
/// fractions. Read trade by trade rather than from each tick's close, a fall that a trade
/// reached counts however long the tick.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Swings {
    peak: Price,
    trough: Price,
    pub drawdown: f64,
    pub runup: f64,
}

impl Swings {
    pub fn new(start: Price) -> Swings {
        Swings { peak: start, trough: start, drawdown: 0.0, runup: 0.0 }
    }

    /// The next traded price.
    pub fn see(&mut self, p: Price) {
        if !p.is_positive() {
            return;
        }
        self.peak = self.peak.max(p);
        self.trough = self.trough.min(p);
        self.drawdown = self.drawdown.max((self.peak.0 - p.0) as f64 / self.peak.0 as f64);
        self.runup = self.runup.max((p.0 - self.trough.0) as f64 / self.trough.0 as f64);
    }
}

/// One tick's liquidations: how many, and the notional they closed by side (micro-USD).
#[derive(Clone, Copy, Debug, Default)]
struct Liquidated {
    accounts: u64,
    long_usd: i128,
    short_usd: i128,
}

/// The tick series and cascades so far.
#[derive(Resource, Debug, Clone)]
pub struct Metrics {
    pub rows: Vec<TickRow>,
    pub cascades: Vec<Cascade>,
    start: Price,
    max: Price,
    min: Price,
    max_mark: Price,
    min_mark: Price,
    open: Option<Cascade>,
    previous_last: Price,
    /// The traded price's swings so far, trade by trade.
    swings: Swings,
    /// Every liquidation trigger: (tick, side, mark, liquidation price) — for tests and heatmaps.
    pub liquidations: Vec<(u64, Side, Price, Price)>,
    /// Every liquidation's end: (notional it closed at the trigger's mark, liquidation price),
    /// USD.
    pub liquidation_usd: Vec<(f64, f64)>,
    /// Every stop triggered: (tick, the stop's side, the price that reached its trigger).
    pub stop_triggers: Vec<(u64, Side, Price)>,
}

impl Metrics {
    pub fn new(start: Price) -> Metrics {
        Metrics {
            rows: Vec::new(),
            cascades: Vec::new(),
            start,
            max: start,
            min: start,
            max_mark: start,
            min_mark: start,
            open: None,
            previous_last: start,
            swings: Swings::new(start),
            liquidations: Vec::new(),
            liquidation_usd: Vec::new(),
            stop_triggers: Vec::new(),
        }
    }

    /// Folds one tick's liquidations into the cascades: the open cascade closes once more than
    /// [`CASCADE_GAP_SECS`] have passed since its last tick with liquidations; a tick with
    /// liquidations extends it, or opens one (`before`: the last price before this tick,
    /// `last`: at its end).
    fn fold_cascade(&mut self, tick: u64, tick_secs: u64, l: Liquidated, before: f64, last: f64) {
        let since_last = |c: &Cascade| tick.saturating_sub(c.end_tick).saturating_mul(tick_secs.max(1));
        if let Some(c) = self.open.take_if(|c| since_last(c) > CASCADE_GAP_SECS) {
            self.cascades.push(c);
        }
        if l.accounts == 0 {
            return;
        }
        let c = self.open.get_or_insert(Cascade {
            start_tick: tick,
            end_tick: tick,
            accounts: 0,
            notional_usd: 0.0,
            net_short_usd: 0.0,
            price_before: before,
            price_after: 0.0,
        });
        c.end_tick = tick;
        c.accounts += l.accounts;
        c.notional_usd += (l.long_usd + l.short_usd) as f64 / 1e6;
        c.net_short_usd += (l.short_usd - l.long_usd) as f64 / 1e6;
        c.price_after = last;
    }

    /// The traded price's swings so far.
    pub fn swings(&self) -> Swings {
        self.swings
    }

    pub fn summary(&self, ex: &Exchange) -> RunSummary {
        let inst = ex.instrument();
        let stats = ex.stats();
        let mut cascades = self.cascades.clone();
        cascades.extend(self.open.clone());
        RunSummary {
            ticks: self.rows.len() as u64,
            start_price: inst.price_f64(self.start),
            final_price: inst.price_f64(ex.last()),
            max_price: inst.price_f64(self.max),
            min_price: inst.price_f64(self.min),
            max_mark: inst.price_f64(self.max_mark),
            min_mark: inst.price_f64(self.min_mark),
            liquidated_accounts_long: stats.accounts_long,
            liquidated_accounts_short: stats.accounts_short,
            liquidations_long: stats.liquidations_long,
            liquidations_short: stats.liquidations_short,
            liquidated_notional_long: stats.notional_long as f64 / 1e6,
            liquidated_notional_short: stats.notional_short as f64 / 1e6,
            cascades,
            insurance_fund_min: stats.insurance_min.min(ex.ledger().insurance_fund()).to_usd_f64(),
            insurance_fund_final: ex.ledger().insurance_fund().to_usd_f64(),
            insurance_shortfall: ex.ledger().insurance_shortfall().to_usd_f64(),
            adl_count: stats.adl_events,
            adl_notional: stats.adl_notional as f64 / 1e6,
            insurance_takeovers: stats.insurance_takeovers,
            insurance_takeover_notional: stats.takeover_notional as f64 / 1e6,
            insurance_fund_pnl: ex.fund_pnl().unwrap_or(0) as f64 / 1e6,
            stops_triggered: ex.stops_triggered(),
            funding_rate_accrued: match self.rows.last() {
                Some(row) => row.funding_rate,
                // No tick run: nothing sampled, nothing that can fail.
                None => ex.funding_rate_accrued().map(crate::engine::rate_f64).unwrap_or(0.0),
            },
            events: ex.recorder().events(),
            final_state_hash: ex.state_hash(),
            event_stream_hash: ex.recorder().stream_hash(),
            levels: Vec::new(),
            hunter_pnl: 0.0,
            hunters: Vec::new(),
            value_pnl: 0.0,
            value_position_usd: 0.0,
        }
    }
}

/// The liquidation map sampled as the run goes (for the heatmap): per column, the tick, the last
/// price, and the liquidatable notional by side and bucket start.
#[derive(Resource, Debug, Clone, Default)]
pub struct HeatmapSamples {
    pub every: u64,
    pub columns: Vec<HeatmapColumn>,
}

/// One column of [`HeatmapSamples`].
#[derive(Debug, Clone, PartialEq)]
pub struct HeatmapColumn {
    pub tick: u64,
    pub last: Price,
    /// (side of the positions, bucket start, Σ notional in micro-USD).
    pub buckets: Vec<(Side, Price, i128)>,
    /// The pending stop orders in the same buckets: (side of the stops, bucket start, Σ
    /// notional at their triggers in micro-USD). Empty without stops.
    pub stops: Vec<(Side, Price, i128)>,
}

impl HeatmapSamples {
    pub fn every(ticks: u64) -> HeatmapSamples {
        HeatmapSamples { every: ticks.max(1), columns: Vec::new() }
    }
}

/// Samples the liquidation map at ticks 1, 1 + every, 1 + 2·every, ...: evenly spaced, the
/// first one at the start.
pub(super) fn sample_heatmap(clock: Res<Clock>, market: Res<Market>, mut samples: ResMut<HeatmapSamples>) {
    if !(clock.tick - 1).is_multiple_of(samples.every) {
        return;
    }
    let ex = &market.0;
    let buckets = ex.liquidation_index().map().collect();
    let stops = ex.stop_map().collect();
    samples.columns.push(HeatmapColumn { tick: clock.tick, last: ex.last(), buckets, stops });
}

/// Records the tick's row from the tick's messages and extends or closes the current cascade.
/// In debug builds it asserts that money is conserved and open interest balanced.
#[allow(clippy::too_many_arguments)]
pub(super) fn record_tick(
    clock: Res<Clock>,
    market: Res<Market>,
    mut metrics: ResMut<Metrics>,
    mut halt: ResMut<Halt>,
    mut trades: MessageReader<TradeExecuted>,
    mut liquidated: MessageReader<PositionLiquidated>,
    mut settled: MessageReader<LiquidationSettled>,
    mut stops: MessageReader<StopFired>,
) {
    let ex = &market.0;
    let funding_rate = match ex.funding_rate_accrued() {
        Ok(rate) => crate::engine::rate_f64(rate),
        Err(e) => {
            halt.stop(e);
            return;
        }
    };
    let inst = *ex.instrument();
    let m = &mut *metrics;
    let last = ex.last();
    // The tick's trades in the order they happened: its volume, its range, and the swings.
    let (mut volume, mut low, mut high) = (0i64, last, last);
    for t in trades.read() {
        volume += t.qty.0;
        low = low.min(t.price);
        high = high.max(t.price);
        m.swings.see(t.price);
    }
    m.swings.see(last);
    let (mut long_usd, mut short_usd, mut n) = (0i128, 0i128, 0u64);
    for l in liquidated.read() {
        n += 1;
        m.liquidations.push((clock.tick, l.side, l.mark, l.liquidation_price));
    }
    // What was liquidated is what the liquidations closed (a partial one may close little).
    for l in settled.read() {
        match l.side {
            Side::Buy => long_usd += l.notional.0 as i128,
            Side::Sell => short_usd += l.notional.0 as i128,
        }
        m.liquidation_usd.push((l.notional.0 as f64 / 1e6, inst.price_f64(l.liquidation_price)));
    }
    m.stop_triggers.extend(stops.read().map(|s| (clock.tick, s.side, s.price)));
    let (long_oi, short_oi) = ex.ledger().open_interest();
    debug_assert_eq!(ex.ledger().total_money(), ex.ledger().deposits(), "money not conserved");
    debug_assert_eq!(long_oi, short_oi, "open interest unbalanced");
    let row = TickRow {
        tick: clock.tick,
        last: inst.price_f64(last),
        low: inst.price_f64(low),
        high: inst.price_f64(high),
        mark: inst.price_f64(ex.mark()),
        index: inst.price_f64(ex.index()),
        volume_btc: inst.qty_f64(Qty(volume)),
        open_interest_btc: inst.qty_f64(long_oi),
        liquidated_long_usd: long_usd as f64 / 1e6,
        liquidated_short_usd: short_usd as f64 / 1e6,
        insurance_fund_usd: ex.ledger().insurance_fund().to_usd_f64(),
        funding_rate,
    };
    m.max = m.max.max(high);
    m.min = m.min.min(low);
    m.max_mark = m.max_mark.max(ex.mark());
    m.min_mark = m.min_mark.min(ex.mark());
    let liquidated = Liquidated { accounts: n, long_usd, short_usd };
    m.fold_cascade(
        clock.tick,
        ex.config().tick_secs,
        liquidated,
        inst.price_f64(m.previous_last),
        inst.price_f64(last),
    );
    m.previous_last = last;
    m.rows.push(row);
}

/// Closes the tick: the last event of every tick.
pub(super) fn close_tick(
    clock: Res<Clock>,
    mut market: ResMut<Market>,
    mut halt: ResMut<Halt>,
    mut publisher: Publisher,
) {
    if let Err(e) = market.0.close_tick(clock.tick) {
        halt.stop(e);
        return;
    }
    publisher.publish_or_halt(&mut market, &mut halt);
}

#[cfg(test)]
mod swings_tests {
    use super::*;

    #[test]
    fn swings_count_every_traded_price_in_order() {
        let mut s = Swings::new(Price(1_000));
        for p in [1_100, 990, 1_045, 1_200, 1_080] {
            s.see(Price(p));
        }
        // Falls: 1,100 → 990 and 1,200 → 1,080, 10% each; the largest rise is 990 → 1,200.
        assert!((s.drawdown - 0.10).abs() < 1e-12, "{s:?}");
        assert!((s.runup - 210.0 / 990.0).abs() < 1e-12, "{s:?}");
        // A wick that the next trade undoes still counts, and a zero price is no price.
        let mut wick = Swings::new(Price(1_000));
        for p in [900, 1_000, 0] {
            wick.see(Price(p));
        }
        assert!((wick.drawdown - 0.10).abs() < 1e-12, "{wick:?}");
        assert!((wick.runup - 100.0 / 900.0).abs() < 1e-12, "{wick:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same liquidations, at given seconds, sampled at a 1 s and a 2 s tick: the cascades
    /// are the same (a burst, a gap within the 20 s, more; then a longer quiet and another).
    #[test]
    fn cascades_are_spells_of_time_not_runs_of_ticks() {
        let at_secs = [3u64, 4, 9, 27, 28, 60, 61];
        let cascades = |tick_secs: u64| {
            let mut m = Metrics::new(Price(1_000));
            for tick in 1..=100 / tick_secs {
                let secs = tick * tick_secs;
                let accounts = at_secs.iter().filter(|&&s| s.div_ceil(tick_secs) * tick_secs == secs).count();
                let l = Liquidated {
                    accounts: accounts as u64,
                    long_usd: 1_000_000 * accounts as i128,
                    short_usd: 0,
                };
                // The price before a tick is its second, the price at its end that plus a half.
                let secs = secs as f64;
                m.fold_cascade(tick, tick_secs, l, secs - tick_secs as f64, secs + 0.5);
            }
            m.cascades.extend(m.open.take());
            for c in &m.cascades {
                let (start, end) = ((c.start_tick * tick_secs) as f64, (c.end_tick * tick_secs) as f64);
                assert_eq!((c.price_before, c.price_after), (start - tick_secs as f64, end + 0.5), "{c:?}");
                assert_eq!(c.notional_usd, c.accounts as f64, "$1 a liquidation");
            }
            m.cascades
                .iter()
                .map(|c| (c.start_tick * tick_secs, c.end_tick * tick_secs, c.accounts))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            cascades(1),
            vec![(3, 28, 5), (60, 61, 2)],
            "18 s apart (9 → 27) keeps a cascade open, 32 s apart (28 → 60) ends it"
        );
        assert_eq!(cascades(2), vec![(4, 28, 5), (60, 62, 2)]);
        // Exactly the gap apart: one cascade; a second more: two.
        let gap = CASCADE_GAP_SECS;
        let mut m = Metrics::new(Price(1_000));
        for (tick, n) in [(1, 1), (1 + gap, 1), (2 + 2 * gap, 1)] {
            m.fold_cascade(tick, 1, Liquidated { accounts: n, long_usd: 0, short_usd: 1 }, 0.0, 0.0);
        }
        assert_eq!(m.cascades.len(), 1, "the third came {} s after the second", gap + 1);
        assert_eq!((m.cascades[0].start_tick, m.cascades[0].end_tick), (1, 1 + gap));
    }
}
