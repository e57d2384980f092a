//! Cascade metrics: one row per tick, cascades as runs of ticks with liquidations, and a run
//! summary.

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
    pub last: f64,
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

/// A run of consecutive ticks with liquidations.
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
            liquidations: Vec::new(),
            liquidation_usd: Vec::new(),
            stop_triggers: Vec::new(),
        }
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
    let volume: i64 = trades.read().map(|t| t.qty.0).sum();
    let (mut long_usd, mut short_usd, mut n) = (0i128, 0i128, 0u64);
    let m = &mut *metrics;
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
        last: inst.price_f64(ex.last()),
        mark: inst.price_f64(ex.mark()),
        index: inst.price_f64(ex.index()),
        volume_btc: inst.qty_f64(Qty(volume)),
        open_interest_btc: inst.qty_f64(long_oi),
        liquidated_long_usd: long_usd as f64 / 1e6,
        liquidated_short_usd: short_usd as f64 / 1e6,
        insurance_fund_usd: ex.ledger().insurance_fund().to_usd_f64(),
        funding_rate,
    };
    let last = ex.last();
    m.max = m.max.max(last);
    m.min = m.min.min(last);
    m.max_mark = m.max_mark.max(ex.mark());
    m.min_mark = m.min_mark.min(ex.mark());
    if n > 0 {
        let c = m.open.get_or_insert_with(|| Cascade {
            start_tick: clock.tick,
            end_tick: clock.tick,
            accounts: 0,
            notional_usd: 0.0,
            net_short_usd: 0.0,
            price_before: inst.price_f64(m.previous_last),
            price_after: 0.0,
        });
        c.end_tick = clock.tick;
        c.accounts += n;
        c.notional_usd += (long_usd + short_usd) as f64 / 1e6;
        c.net_short_usd += (short_usd - long_usd) as f64 / 1e6;
        c.price_after = inst.price_f64(last);
    } else if let Some(c) = m.open.take() {
        m.cascades.push(c);
    }
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
