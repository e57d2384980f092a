//! The core's demo: a small, seeded short squeeze run on the exact core alone.
//!
//! A liquidity provider quotes a ladder around 71,450; 300 leveraged shorts sit with liquidation
//! prices stacked from 71,560 to 72,600 against low-leverage longs; a market buy pushes price
//! into them, and the liquidation engine does the rest. The run writes its event log, and the
//! log is replayed into a fresh ledger to show that it rebuilds the same state.

use crate::book::OrderKind;
use crate::engine::{EngineError, Exchange, ExchangeConfig, LogSink, OrderRequest};
use crate::events::{Event, LogHeader};
use crate::units::{Money, Price, Qty, Side};
use rand::{RngExt, SeedableRng, rngs::ChaCha8Rng};

/// What the demo did.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoReport {
    pub seed: u64,
    pub ticks: u64,
    pub start_price: f64,
    pub max_price: f64,
    pub final_price: f64,
    pub liquidated_shorts: u64,
    pub liquidated_notional_short_usd: f64,
    pub adl_events: u64,
    pub insurance_fund_usd: f64,
    pub events: u64,
    pub final_state_hash: String,
    pub event_stream_hash: String,
}

/// Runs the demo; `log` receives the binary event log.
pub fn run_demo(seed: u64, log: Option<LogSink>) -> Result<DemoReport, EngineError> {
    let cfg = ExchangeConfig::btcusdt();
    let inst = cfg.instrument;
    let start = inst.price(71_450.0)?;
    let mut ex = Exchange::new(cfg, start, log);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    ex.fund_insurance(Money::usd(2_000_000))?;

    // The liquidity provider: 120 levels a side, 5 USD apart, deeper further out.
    let lp = ex.open_account(Money::usd(5_000_000_000), 20)?;
    for level in 1..=120i64 {
        let qty = Qty(400 + 40 * level);
        for side in [Side::Buy, Side::Sell] {
            let price = Price(start.0 - side.sign() * 50 * level);
            let req =
                OrderRequest { account: lp, side, kind: OrderKind::Gtc, price, qty, reduce_only: false };
            ex.submit(req, None)?;
        }
    }

    // Shorts whose liquidation prices stack from 71,560 to 72,600, against 1x longs.
    let tiers = ex.config().tiers.clone();
    for _ in 0..300 {
        let target = rng.random_range(71_560.0..72_600.0);
        let qty = Qty(rng.random_range(200..3_000));
        let cost = inst.notional(start, qty)?;
        // Wallet that puts the liquidation price at the target: WB = LP·(|s|·MMR + |s|) − cum − |s|·EP.
        let tier = tiers.tier_for(cost);
        let lp_value = inst.notional(inst.price_floor(target)?, qty)?.0 as i128;
        let wallet = lp_value * (crate::units::RATE_SCALE as i128 + tier.mmr.0 as i128)
            / crate::units::RATE_SCALE as i128
            - tier.cum.0 as i128
            - cost.0 as i128;
        let wallet = Money(wallet.max(1) as i64);
        let short = ex.open_account(wallet, 100)?;
        let long = ex.open_account(cost, 1)?;
        ex.record(
            Event::PositionSeeded { long, short, qty, price: start, long_margin: cost, short_margin: wallet },
            None,
        )?;
    }
    ex.refresh_liquidation_index()?;

    // The push: 200 BTC bought at market at tick 5, then the index drifts after the perp.
    let whale = ex.open_account(Money::usd(2_000_000_000), 10)?;
    let ticks = 120;
    let mut max_price = start;
    for tick in 1..=ticks {
        ex.begin_tick(tick);
        if tick == 5 {
            let req = OrderRequest {
                account: whale,
                side: Side::Buy,
                kind: OrderKind::Market,
                price: Price::ZERO,
                qty: Qty(200_000),
                reduce_only: false,
            };
            ex.submit(req, None)?;
        }
        let noise: f64 = rng.random_range(-1.0..1.0);
        let mid = ex.book().mid().unwrap_or(ex.last());
        let index = Price(ex.index().0 + ((mid.0 - ex.index().0) as f64 * 0.2 + noise * 5.0).round() as i64);
        let mark_seq = ex.update_prices(index)?;
        ex.run_liquidations(mark_seq)?;
        ex.settle_funding_if_due()?;
        max_price = max_price.max(ex.last());
        ex.close_tick(tick)?;
        debug_assert_eq!(ex.ledger().total_money(), ex.ledger().deposits());
    }
    ex.finish()?;
    let stats = ex.stats().clone();
    Ok(DemoReport {
        seed,
        ticks,
        start_price: inst.price_f64(start),
        max_price: inst.price_f64(max_price),
        final_price: inst.price_f64(ex.last()),
        liquidated_shorts: stats.accounts_short,
        liquidated_notional_short_usd: stats.notional_short as f64 / 1e6,
        adl_events: stats.adl_events,
        insurance_fund_usd: ex.ledger().insurance_fund().to_usd_f64(),
        events: ex.recorder().events(),
        final_state_hash: ex.ledger().state_hash(),
        event_stream_hash: ex.recorder().stream_hash(),
    })
}

/// The header the demo's log carries.
pub fn demo_header(seed: u64) -> LogHeader {
    LogHeader::new(
        *blake3::hash(b"liqsim core demo v1").as_bytes(),
        seed,
        ExchangeConfig::btcusdt().instrument,
    )
}
