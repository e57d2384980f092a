//! The core's demo: a small, seeded short squeeze run on the exact core alone.
//!
//! A liquidity provider quotes a ladder around 71,450; 300 leveraged shorts sit with liquidation
//! prices stacked from 71,600 to 72,600 against low-leverage longs; a market buy pushes price
//! into them, and the liquidation engine does the rest. The run writes its event log, and the
//! log is replayed into a fresh ledger to show that it rebuilds the same state.

use crate::book::{AccountId, OrderKind};
use crate::engine::{EngineError, Exchange, ExchangeConfig, LogTarget, OrderRequest};
use crate::population::{self, Band, LeverageWeight, MapConfig, PositionSide, Shape};
use crate::units::{Money, Price, Qty, Side};
use rand::{RngExt, SeedableRng, rngs::ChaCha8Rng};
use std::io::Write;

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

/// The scenario hash the demo's log carries (the demo has no scenario file).
pub fn demo_scenario_hash() -> [u8; 32] {
    *blake3::hash(b"liqsim core demo v1").as_bytes()
}

/// Runs the demo; `log` receives the binary event log.
pub fn run_demo(seed: u64, log: Option<Box<dyn Write + Send + Sync>>) -> Result<DemoReport, DemoError> {
    let cfg = ExchangeConfig::btcusdt();
    let inst = cfg.instrument;
    let start = inst.price(71_450.0)?;
    let log = log.map(|out| LogTarget { out, scenario_hash: demo_scenario_hash(), seed });
    let mut ex = Exchange::new(cfg, start, log)?;
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

    // Shorts whose liquidation prices stack from 71,600 to 72,600, against 1x longs, solved
    // exactly by the liquidation-map generator.
    let band = Band {
        side: PositionSide::Short,
        liq_low_usd: 71_600.0,
        liq_high_usd: 72_600.0,
        notional_usd: 60_000_000.0,
        shape: Shape::Flat,
        leverage: vec![
            LeverageWeight { leverage: 25, weight: 1.0 },
            LeverageWeight { leverage: 50, weight: 1.0 },
        ],
        accounts: 300,
        stop_loss: None,
        cross_share: 0.0,
    };
    let map = MapConfig { counterparty_leverage: 1, ..MapConfig::new(71_450.0, vec![band]) };
    let first = AccountId(ex.ledger().accounts().len() as u32);
    let tiers = ex.config().tiers.clone();
    let plan = population::validate(&map, &inst, &tiers, 0.0)?;
    let seeded = population::generate(&plan, &inst, &tiers, &mut rng, first, 0.0)?;
    for event in seeded.events() {
        ex.record(event, None)?;
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
        final_state_hash: ex.state_hash(),
        event_stream_hash: ex.recorder().stream_hash(),
    })
}

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Map(#[from] population::MapError),
    #[error(transparent)]
    Unit(#[from] crate::units::UnitError),
}
