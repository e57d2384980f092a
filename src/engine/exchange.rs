//! The exchange: book + ledger + liquidation index behind one recorder. Plain Rust, no ECS; the
//! ECS systems in `sim/` call these methods and nothing else changes state.

use super::liq_index::{LiqEntry, LiquidationIndex};
use super::recorder::{LogSink, RecordError, Recorder};
use crate::book::{
    AccountId, BookError, Cancelled, Fill, NewOrder, OrderBook, OrderFlags, OrderId, OrderKind,
};
use crate::events::{CancelReason, Event, InsuranceReason, Seq};
use crate::ledger::{Account, Ledger};
use crate::margin::{self, MarginError, TierTable};
use crate::units::{Instrument, Money, Price, Qty, RATE_SCALE, Rate, Side, UnitError};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Venue rules, in exact units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExchangeConfig {
    pub instrument: Instrument,
    pub tiers: TierTable,
    pub maker_fee: Rate,
    pub taker_fee: Rate,
    /// Clearance fee on liquidated notional, paid from what margin is left into the insurance fund.
    pub liquidation_fee: Rate,
    /// Positions above this tier (0-based) are first cut down to its notional cap (Bybit/OKX
    /// style partial liquidation); `None` liquidates in full at once.
    pub partial_liquidation_tier: Option<usize>,
    pub funding_interval_secs: u64,
    pub funding_interest_8h: Rate,
    pub funding_clamp: Rate,
    pub funding_cap: Option<Rate>,
    /// Notional whose average fill price is the impact bid/ask of the premium index.
    pub impact_notional: Money,
    /// Window of the moving average of (mid − index) in the mark price.
    pub premium_window_secs: u64,
    pub tick_secs: u64,
    /// Liquidation rounds within one tick (liquidations → mark refresh → liquidations ...).
    pub max_liquidation_rounds: u32,
    /// Width of a liquidation-map bucket, in ticks.
    pub map_bucket_ticks: i64,
}

impl ExchangeConfig {
    /// Binance BTCUSDT-like defaults: 0.02%/0.05% fees, 0.5% clearance fee, 8 h funding with the
    /// 0.01% interest and 0.05% clamp, 30 s premium average, 1 s ticks.
    pub fn btcusdt() -> ExchangeConfig {
        ExchangeConfig {
            instrument: Instrument::btcusdt(),
            tiers: TierTable::binance_btcusdt(),
            maker_fee: Rate(20_000),
            taker_fee: Rate(50_000),
            liquidation_fee: Rate(500_000),
            partial_liquidation_tier: None,
            funding_interval_secs: 8 * 3600,
            funding_interest_8h: Rate(10_000),
            funding_clamp: Rate(50_000),
            funding_cap: Some(Rate(750_000)),
            impact_notional: Money::usd(25_000),
            premium_window_secs: 30,
            tick_secs: 1,
            max_liquidation_rounds: 8,
            map_bucket_ticks: 1_000,
        }
    }
}

/// Something the engine could not do. All of these are bugs or broken inputs, never market
/// outcomes (a rejected order is a [`Submitted::Rejected`]).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error("book: {0}")]
    Book(#[from] BookError),
    #[error("margin: {0}")]
    Margin(#[from] MarginError),
    #[error(transparent)]
    Unit(#[from] UnitError),
}

type Result<T> = std::result::Result<T, EngineError>;

/// An order an agent wants to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderRequest {
    pub account: AccountId,
    pub side: Side,
    pub kind: OrderKind,
    /// Limit price (ignored for market orders).
    pub price: Price,
    pub qty: Qty,
    pub reduce_only: bool,
}

/// Why an order was turned away before reaching the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectReason {
    UnknownAccount,
    BadQuantity,
    BadPrice,
    /// The account is being liquidated.
    Liquidating,
    /// A reduce-only order with nothing to reduce.
    NothingToReduce,
    /// Not enough free balance for the margin and fee of the new exposure.
    InsufficientMargin,
}

/// What became of an order request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    Accepted { id: OrderId, filled: Qty, rested: Qty },
    Rejected(RejectReason),
}

/// Per-run liquidation and insurance counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquidationStats {
    pub accounts_long: u64,
    pub accounts_short: u64,
    /// Liquidated notional at the mark of the trigger, micro-USD.
    pub notional_long: i128,
    pub notional_short: i128,
    pub adl_events: u64,
    pub partial_liquidations: u64,
    /// Accounts put on the bankruptcy path by a fill beyond their bankruptcy price.
    pub bankrupt_fills: u64,
    pub insurance_min: Money,
}

/// An ADL ranking is rebuilt once it is this many ticks old ...
pub const ADL_RANKING_TICKS: u64 = 30;
/// ... or the mark has moved by more than this fraction since it was built.
pub const ADL_RANKING_MOVE: f64 = 0.01;

/// An ADL ranking of one side (built at `tick` and `mark`), consumed from `cursor` on.
#[derive(Clone, Debug, Default)]
struct AdlQueue {
    tick: u64,
    mark: Price,
    ranked: Vec<AccountId>,
    cursor: usize,
}

/// An account the engine has taken over: the trigger event, the mark then, the position then,
/// and its bankruptcy price.
#[derive(Clone, Copy, Debug)]
struct TakeOver {
    seq: Seq,
    mark: Price,
    position: crate::ledger::Position,
    bankruptcy: Price,
}

/// One liquidation, for metrics and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationRecord {
    pub account: AccountId,
    pub side: Side,
    pub mark: Price,
    pub liquidation_price: Price,
    pub notional: Money,
}

/// Moving average of (mid − index), one sample per tick.
#[derive(Clone, Debug, Default)]
struct PremiumAverage {
    samples: VecDeque<i64>,
    sum: i128,
    window: usize,
}

impl PremiumAverage {
    fn push(&mut self, premium: i64) {
        self.samples.push_back(premium);
        self.sum += premium as i128;
        while self.samples.len() > self.window.max(1) {
            self.sum -= self.samples.pop_front().unwrap_or(0) as i128;
        }
    }
    /// Average in ticks, rounded half away from zero.
    fn average(&self) -> i64 {
        let n = self.samples.len() as i128;
        if n == 0 {
            return 0;
        }
        let q = (self.sum.abs() * 2 + n) / (2 * n);
        (q * self.sum.signum()) as i64
    }
}

/// The market: everything that matches, settles, marks and liquidates.
pub struct Exchange {
    cfg: ExchangeConfig,
    book: OrderBook,
    ledger: Ledger,
    liq: LiquidationIndex,
    rec: Recorder,
    next_order: u64,
    fills: Vec<Fill>,
    cancels: Vec<Cancelled>,
    breached: Vec<AccountId>,
    touched: Vec<AccountId>,
    touched_flag: Vec<bool>,
    /// Accounts refreshed since the last [`Exchange::take_changed`], for mirrors of the ledger.
    changed: Vec<AccountId>,
    premium: PremiumAverage,
    index: Price,
    mark: Price,
    last: Price,
    elapsed_secs: u64,
    stats: LiquidationStats,
    /// ADL rankings of this tick: [counterparties that buy, that sell].
    adl_queue: [Option<AdlQueue>; 2],
    /// Accounts taken over mid-order because a fill would overdraw them, to close out next.
    bankrupt: Vec<(AccountId, TakeOver)>,
    /// Liquidations of the current tick (cleared by [`Exchange::close_tick`]).
    tick_liquidations: Vec<LiquidationRecord>,
    tick_volume: Qty,
}

impl Exchange {
    /// A new market at `price` (index, mark and last all start there).
    pub fn new(cfg: ExchangeConfig, price: Price, log: Option<LogSink>) -> Exchange {
        let window = (cfg.premium_window_secs / cfg.tick_secs.max(1)).max(1) as usize;
        let ledger = Ledger::new(cfg.instrument);
        let liq = LiquidationIndex::new(cfg.map_bucket_ticks);
        Exchange {
            cfg,
            book: OrderBook::new(),
            ledger,
            liq,
            rec: Recorder::new(log),
            next_order: 0,
            fills: Vec::new(),
            cancels: Vec::new(),
            breached: Vec::new(),
            touched: Vec::new(),
            touched_flag: Vec::new(),
            changed: Vec::new(),
            premium: PremiumAverage { window, ..PremiumAverage::default() },
            index: price,
            mark: price,
            last: price,
            elapsed_secs: 0,
            stats: LiquidationStats::default(),
            bankrupt: Vec::new(),
            adl_queue: [None, None],
            tick_liquidations: Vec::new(),
            tick_volume: Qty::ZERO,
        }
    }

    pub fn config(&self) -> &ExchangeConfig {
        &self.cfg
    }
    pub fn book(&self) -> &OrderBook {
        &self.book
    }
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
    pub fn liquidation_index(&self) -> &LiquidationIndex {
        &self.liq
    }
    pub fn recorder(&self) -> &Recorder {
        &self.rec
    }
    pub fn index(&self) -> Price {
        self.index
    }
    pub fn mark(&self) -> Price {
        self.mark
    }
    pub fn last(&self) -> Price {
        self.last
    }
    pub fn stats(&self) -> &LiquidationStats {
        &self.stats
    }
    pub fn tick_liquidations(&self) -> &[LiquidationRecord] {
        &self.tick_liquidations
    }
    pub fn tick_volume(&self) -> Qty {
        self.tick_volume
    }
    pub fn instrument(&self) -> &Instrument {
        &self.cfg.instrument
    }

    /// Records an event that is not tied to an order flow (seeding, deposits).
    pub fn record(&mut self, event: Event, cause: Option<Seq>) -> Result<Seq> {
        let touched: [Option<AccountId>; 2] = match &event {
            Event::AccountOpened { account, .. }
            | Event::Deposited { account, .. }
            | Event::MarginAdded { account, .. } => [Some(*account), None],
            Event::PositionSeeded { long, short, .. } => [Some(*long), Some(*short)],
            _ => [None, None],
        };
        let seq = self.rec.record(&mut self.ledger, event, cause)?;
        for a in touched.into_iter().flatten() {
            self.touch(a);
        }
        Ok(seq)
    }

    /// Opens an account with a deposit; returns its id.
    pub fn open_account(&mut self, deposit: Money, leverage: u32) -> Result<AccountId> {
        let account = AccountId(self.ledger.accounts().len() as u32);
        self.record(Event::AccountOpened { account, deposit, leverage }, None)?;
        Ok(account)
    }

    fn touch(&mut self, a: AccountId) {
        let i = a.0 as usize;
        if i >= self.touched_flag.len() {
            self.touched_flag.resize(i + 1, false);
        }
        if !self.touched_flag[i] {
            self.touched_flag[i] = true;
            self.touched.push(a);
        }
    }

    /// Recomputes the liquidation price of every account changed since the last refresh.
    pub fn refresh_liquidation_index(&mut self) -> Result<()> {
        let mut touched = std::mem::take(&mut self.touched);
        for &a in &touched {
            self.touched_flag[a.0 as usize] = false;
            let entry = match self.ledger.account(a) {
                Some(acct) => self.liq_entry(acct)?,
                None => None,
            };
            self.liq.set(a, entry);
        }
        self.changed.extend_from_slice(&touched);
        touched.clear();
        self.touched = touched;
        Ok(())
    }

    /// Moves the accounts changed since the last call into `out` (after a refresh).
    pub fn take_changed(&mut self, out: &mut Vec<AccountId>) {
        out.append(&mut self.changed);
    }

    fn liq_entry(&self, a: &Account) -> Result<Option<LiqEntry>> {
        let p = a.position;
        if p.qty.is_zero() || a.liquidating.is_some() {
            return Ok(None);
        }
        let side = if p.qty.is_positive() { Side::Buy } else { Side::Sell };
        let price = match margin::liquidation_price_tiered(
            &self.cfg.instrument,
            &self.cfg.tiers,
            p.qty,
            p.cost,
            p.margin,
        ) {
            Ok(Some(price)) => price,
            Ok(None) => return Ok(None),
            // Only a short whose exact price is below one tick, which a consistent short cannot
            // have; treated as never liquidatable rather than as a failure.
            Err(MarginError::NoPositivePrice(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let notional = self.cfg.instrument.notional(price, p.qty.abs())?;
        Ok(Some(LiqEntry { side, price, notional }))
    }

    /// Sends an order: checks it, matches it, settles its fills.
    pub fn submit(&mut self, req: OrderRequest, cause: Option<Seq>) -> Result<Submitted> {
        let Some(acct) = self.ledger.account(req.account).copied() else {
            return Ok(Submitted::Rejected(RejectReason::UnknownAccount));
        };
        if acct.liquidating.is_some() {
            return Ok(Submitted::Rejected(RejectReason::Liquidating));
        }
        if !req.qty.is_positive() {
            return Ok(Submitted::Rejected(RejectReason::BadQuantity));
        }
        if req.kind != OrderKind::Market && !req.price.is_positive() {
            return Ok(Submitted::Rejected(RejectReason::BadPrice));
        }
        let held = acct.position.qty;
        let reducible = if held.0.signum() == -req.side.sign() { held.abs() } else { Qty::ZERO };
        let mut qty = req.qty;
        if req.reduce_only {
            if reducible.is_zero() {
                return Ok(Submitted::Rejected(RejectReason::NothingToReduce));
            }
            qty = qty.min(reducible);
        }
        let opening = Qty((qty.0 - reducible.0).max(0));
        if opening.is_positive() {
            let price = match req.kind {
                OrderKind::Market => match self.book.impact_price(req.side, qty) {
                    Some((worst, _)) => worst,
                    None => self.book.best(req.side.opposite()).unwrap_or(self.last).max(self.last),
                },
                _ => req.price,
            };
            let needed = margin::initial_margin(&self.cfg.instrument, opening, price, acct.leverage)?
                .checked_add(margin::fee(self.cfg.instrument.notional(price, qty)?, self.cfg.taker_fee)?)?;
            if acct.balance < needed {
                return Ok(Submitted::Rejected(RejectReason::InsufficientMargin));
            }
        }
        let order = NewOrder {
            id: OrderId(self.next_order),
            owner: req.account,
            side: req.side,
            kind: req.kind,
            price: if req.kind == OrderKind::Market { Price::ZERO } else { req.price },
            qty,
            flags: OrderFlags { reduce_only: req.reduce_only, liquidation: false },
        };
        let (filled, rested) = self.place(order, cause)?;
        Ok(Submitted::Accepted { id: order.id, filled, rested })
    }

    /// Places a checked order and records everything that follows from it.
    fn place(&mut self, order: NewOrder, cause: Option<Seq>) -> Result<(Qty, Qty)> {
        self.next_order += 1;
        let placed = self.rec.record(&mut self.ledger, Event::OrderPlaced { order }, cause)?;
        let mut fills = std::mem::take(&mut self.fills);
        fills.clear();
        let outcome = self.book.place(order, &mut fills)?;
        self.settle_fills(&fills, order.flags.liquidation, placed)?;
        self.fills = fills;
        self.record_self_trade_cancels(placed)?;
        if outcome.cancelled.is_positive() {
            let reason = match order.kind {
                OrderKind::PostOnly => CancelReason::PostOnlyWouldCross,
                _ => CancelReason::Unfilled,
            };
            let ev = Event::OrderCancelled {
                order: order.id,
                account: order.owner,
                remaining: outcome.cancelled,
                reason,
            };
            self.rec.record(&mut self.ledger, ev, Some(placed))?;
        }
        self.close_out_bankrupt()?;
        Ok((outcome.filled, outcome.rested))
    }

    fn settle_fills(&mut self, fills: &[Fill], liquidation: bool, cause: Seq) -> Result<()> {
        for f in fills {
            let notional = self.cfg.instrument.notional(f.price, f.qty)?;
            let maker_fee = margin::fee(notional, self.cfg.maker_fee)?;
            // A liquidation pays the clearance fee at the end instead of a taker fee.
            let taker_fee =
                if liquidation { Money::ZERO } else { margin::fee(notional, self.cfg.taker_fee)? };
            // A fill that would take an account below zero (its resting order filled beyond its
            // bankruptcy price while the mark lagged) puts that account on the bankruptcy path
            // first: taken over, then closed out against the fund once this order is done.
            for (account, side, fee) in
                [(f.maker, f.taker_side.opposite(), maker_fee), (f.taker, f.taker_side, taker_fee)]
            {
                let held = self.ledger.account(account).map(|a| (a.position.qty, a.liquidating.is_some()));
                let Some((qty, false)) = held else { continue };
                let reduces_only = qty.0.signum() == -side.sign() && f.qty <= qty.abs();
                if reduces_only && self.ledger.preview_fill(account, side, f.qty, f.price, fee).is_err() {
                    self.take_over_bankrupt(account, cause)?;
                }
            }
            let ev = Event::Traded {
                maker_order: f.maker_order,
                maker: f.maker,
                taker_order: f.taker_order,
                taker: f.taker,
                taker_side: f.taker_side,
                price: f.price,
                qty: f.qty,
                maker_fee,
                taker_fee,
                liquidation,
            };
            self.rec.record(&mut self.ledger, ev, Some(cause))?;
            self.touch(f.maker);
            self.touch(f.taker);
            self.last = f.price;
            self.tick_volume = self.tick_volume.checked_add(f.qty)?;
        }
        Ok(())
    }

    fn record_self_trade_cancels(&mut self, cause: Seq) -> Result<()> {
        // Disjoint fields: the book's report is read while the recorder writes, no copy needed.
        for c in self.book.last_self_trade_cancels() {
            let ev = Event::OrderCancelled {
                order: c.id,
                account: c.owner,
                remaining: c.remaining,
                reason: CancelReason::SelfTrade,
            };
            self.rec.record(&mut self.ledger, ev, Some(cause))?;
        }
        Ok(())
    }

    /// Cancels a resting order of `account`. Returns false if there is no such order.
    pub fn cancel(&mut self, account: AccountId, id: OrderId, cause: Option<Seq>) -> Result<bool> {
        match self.book.order(id) {
            Some(o) if o.owner == account => {}
            _ => return Ok(false),
        }
        let c = self.book.cancel(id)?;
        let ev = Event::OrderCancelled {
            order: id,
            account,
            remaining: c.remaining,
            reason: CancelReason::Requested,
        };
        self.rec.record(&mut self.ledger, ev, cause)?;
        Ok(true)
    }

    /// Moves a resting order of `account` to a new price and size; may trade if it crosses.
    /// Returns false if there is no such order or the new size is not positive.
    pub fn amend(
        &mut self,
        account: AccountId,
        id: OrderId,
        price: Price,
        qty: Qty,
        cause: Option<Seq>,
    ) -> Result<bool> {
        match self.book.order(id) {
            Some(o) if o.owner == account && qty.is_positive() && price.is_positive() => {}
            _ => return Ok(false),
        }
        let amended = self.rec.record(
            &mut self.ledger,
            Event::OrderAmended { order: id, account, price, qty },
            cause,
        )?;
        let mut fills = std::mem::take(&mut self.fills);
        fills.clear();
        self.book.amend(id, price, qty, &mut fills)?;
        self.settle_fills(&fills, false, amended)?;
        self.fills = fills;
        self.record_self_trade_cancels(amended)?;
        Ok(true)
    }

    /// Advances time by one tick and sets the index: samples the premium and recomputes the
    /// mark price (Binance: median of the funding-basis price, index + average premium, last).
    pub fn update_prices(&mut self, index: Price) -> Result<Seq> {
        self.elapsed_secs += self.cfg.tick_secs;
        self.index = index;
        let mid = self.book.mid().unwrap_or(self.last);
        self.premium.push(mid.0 - index.0);
        self.refresh_mark()
    }

    fn refresh_mark(&mut self) -> Result<Seq> {
        let interval = self.cfg.funding_interval_secs.max(1);
        let to_funding = interval - self.elapsed_secs % interval;
        let p1 = margin::funding_basis_price(self.index, self.ledger.funding_rate(), to_funding, interval)?;
        let p2 = Price((self.index.0 + self.premium.average()).max(1));
        self.mark = margin::median3(p1, p2, self.last);
        let ev = Event::MarkUpdated { index: self.index, mark: self.mark, last: self.last };
        Ok(self.rec.record(&mut self.ledger, ev, None)?)
    }

    /// Liquidates every account the mark has reached, in bounded rounds: each round's forced
    /// orders move last, the mark is refreshed, and newly breached accounts go next.
    pub fn run_liquidations(&mut self, mark_seq: Seq) -> Result<usize> {
        let mut total = 0;
        let mut cause = mark_seq;
        for _ in 0..self.cfg.max_liquidation_rounds.max(1) {
            self.refresh_liquidation_index()?;
            let mut breached = std::mem::take(&mut self.breached);
            breached.clear();
            self.liq.breached(self.mark, &mut breached);
            let n = breached.len();
            for &a in &breached {
                self.liquidate(a, cause)?;
            }
            self.breached = breached;
            total += n;
            if n == 0 {
                break;
            }
            cause = self.refresh_mark()?;
        }
        self.refresh_liquidation_index()?;
        Ok(total)
    }

    fn liquidate(&mut self, a: AccountId, cause: Seq) -> Result<()> {
        let Some(t) = self.take_over(a, cause)? else { return Ok(()) };
        let inst = self.cfg.instrument;
        let p = t.position;
        let close_side = if p.qty.is_positive() { Side::Sell } else { Side::Buy };
        // Partial: cut a large position to the cap of a lower tier first; stop there if that
        // restores maintenance at the mark.
        if let Some(tier) = self.cfg.partial_liquidation_tier.and_then(|t| self.cfg.tiers.tiers().get(t)) {
            let value_per_lot = inst.notional(t.mark, Qty(1))?.0.max(1);
            let keep = Qty(tier.notional_cap.0 / value_per_lot);
            if keep.is_positive() && keep < p.qty.abs() {
                let cut = Qty(p.qty.abs().0 - keep.0);
                self.liquidation_order(a, close_side, cut, t.bankruptcy, p.qty.abs(), t.seq)?;
                let now = self.ledger.account(a).copied().map(|x| x.position).unwrap_or_default();
                let mm = margin::maintenance_margin_tiered(&inst, &self.cfg.tiers, now.qty, t.mark)?;
                let eq = now.margin.checked_add(margin::unrealized_pnl(&inst, now.qty, now.cost, t.mark)?)?;
                let closed = p.qty.checked_sub(now.qty)?;
                if !now.qty.is_zero() && eq > mm && closed.is_positive() == p.qty.is_positive() {
                    let closed_value = inst.notional(t.mark, closed.abs())?;
                    let fee =
                        margin::fee(closed_value, self.cfg.liquidation_fee)?.min(now.margin.max(Money::ZERO));
                    let ev = Event::Liquidated { account: a, closed, fee, insurance_delta: fee };
                    self.rec.record(&mut self.ledger, ev, Some(t.seq))?;
                    self.stats.partial_liquidations += 1;
                    self.note_insurance();
                    return Ok(());
                }
            }
        }
        self.close_out(a, t)
    }

    /// The engine takes an account over: records the trigger, counts it, cancels its orders.
    /// `None` if it is flat or already taken over.
    fn take_over(&mut self, a: AccountId, cause: Seq) -> Result<Option<TakeOver>> {
        let Some(acct) = self.ledger.account(a).copied() else { return Ok(None) };
        let p = acct.position;
        if p.qty.is_zero() || acct.liquidating.is_some() {
            return Ok(None);
        }
        let inst = self.cfg.instrument;
        let mark = self.mark;
        let side = if p.qty.is_positive() { Side::Buy } else { Side::Sell };
        let maintenance = margin::maintenance_margin_tiered(&inst, &self.cfg.tiers, p.qty, mark)?;
        let equity = p.margin.checked_add(margin::unrealized_pnl(&inst, p.qty, p.cost, mark)?)?;
        let liquidation_price = self.liq.get(a).map(|e| e.price).unwrap_or(mark);
        let bankruptcy = margin::bankruptcy_price(&inst, p.qty, p.cost, p.margin.max(Money::ZERO))?;
        let seq = self.rec.record(
            &mut self.ledger,
            Event::LiquidationTriggered {
                account: a,
                mark,
                position: p.qty,
                maintenance,
                equity,
                liquidation_price,
                bankruptcy_price: bankruptcy,
            },
            Some(cause),
        )?;
        self.touch(a);
        let notional = inst.notional(mark, p.qty.abs())?;
        self.tick_liquidations.push(LiquidationRecord {
            account: a,
            side,
            mark,
            liquidation_price,
            notional,
        });
        match side {
            Side::Buy => {
                self.stats.accounts_long += 1;
                self.stats.notional_long += notional.0 as i128;
            }
            Side::Sell => {
                self.stats.accounts_short += 1;
                self.stats.notional_short += notional.0 as i128;
            }
        }
        let mut cancels = std::mem::take(&mut self.cancels);
        cancels.clear();
        self.book.cancel_all(a, &mut cancels);
        for c in &cancels {
            let ev = Event::OrderCancelled {
                order: c.id,
                account: a,
                remaining: c.remaining,
                reason: CancelReason::Liquidation,
            };
            self.rec.record(&mut self.ledger, ev, Some(seq))?;
        }
        self.cancels = cancels;
        Ok(Some(TakeOver { seq, mark, position: p, bankruptcy }))
    }

    /// Closes what is left of a taken-over position (an IOC within the fund's reach, then ADL)
    /// and settles its margin with the insurance fund.
    fn close_out(&mut self, a: AccountId, t: TakeOver) -> Result<()> {
        let inst = self.cfg.instrument;
        let close_side = if t.position.qty.is_positive() { Side::Sell } else { Side::Buy };
        let left = self.ledger.account(a).map(|x| x.position.qty.abs()).unwrap_or_default();
        if left.is_positive() {
            self.liquidation_order(a, close_side, left, t.bankruptcy, left, t.seq)?;
        }
        self.auto_deleverage(a, t.bankruptcy, t.seq)?;
        let now = self.ledger.account(a).copied().map(|x| x.position).unwrap_or_default();
        let fee = margin::fee(inst.notional(t.mark, t.position.qty.abs())?, self.cfg.liquidation_fee)?
            .min(now.margin.max(Money::ZERO));
        let ev = Event::Liquidated { account: a, closed: t.position.qty, fee, insurance_delta: now.margin };
        self.rec.record(&mut self.ledger, ev, Some(t.seq))?;
        self.note_insurance();
        Ok(())
    }

    /// Puts an account whose fill would overdraw it on the bankruptcy path (see
    /// [`Exchange::settle_fills`]); it is closed out when the current order is done.
    fn take_over_bankrupt(&mut self, a: AccountId, cause: Seq) -> Result<()> {
        if let Some(t) = self.take_over(a, cause)? {
            self.stats.bankrupt_fills += 1;
            self.bankrupt.push((a, t));
        }
        Ok(())
    }

    fn close_out_bankrupt(&mut self) -> Result<()> {
        while let Some((a, t)) = self.bankrupt.pop() {
            self.close_out(a, t)?;
        }
        Ok(())
    }

    /// An IOC liquidation order whose limit keeps the worst possible loss beyond the bankruptcy
    /// price within what the insurance fund holds, so the fund can pay it; what the book cannot
    /// take at that limit is left for auto-deleveraging. (Only a fill the account itself made
    /// beyond its bankruptcy can leave more than the fund holds: see the ledger's shortfall.)
    fn liquidation_order(
        &mut self,
        a: AccountId,
        side: Side,
        qty: Qty,
        bankruptcy: Price,
        position: Qty,
        cause: Seq,
    ) -> Result<()> {
        let tlv = self.cfg.instrument.tick_lot_value() as i128;
        let per_lot_ticks = self.ledger.insurance_fund().0 as i128 / (position.0.max(1) as i128 * tlv);
        let slack = i64::try_from(per_lot_ticks).unwrap_or(i64::MAX);
        let limit = match side {
            Side::Sell => Price(bankruptcy.0.saturating_sub(slack).max(1)),
            Side::Buy => Price(bankruptcy.0.saturating_add(slack)),
        };
        let order = NewOrder {
            id: OrderId(self.next_order),
            owner: a,
            side,
            kind: OrderKind::Ioc,
            price: limit,
            qty,
            flags: OrderFlags { reduce_only: true, liquidation: true },
        };
        self.place(order, Some(cause))?;
        Ok(())
    }

    /// Closes what is left of a liquidated position against the best-ranked opposite positions
    /// (BitMEX ranking) at the bankruptcy price. The ranking of a side is a scan of all accounts,
    /// so it is kept and consumed in order, and rebuilt only when it is [`ADL_RANKING_TICKS`] old
    /// or the mark has moved more than [`ADL_RANKING_MOVE`] since (venues refresh their ADL
    /// queues periodically too): a crash with thousands of ADLs costs a few scans, not thousands.
    fn auto_deleverage(&mut self, a: AccountId, price: Price, cause: Seq) -> Result<()> {
        let mut left = self.ledger.account(a).map(|x| x.position.qty).unwrap_or_default();
        if left.is_zero() {
            return Ok(());
        }
        // Counterparties hold the other side; they close by trading the liquidated side.
        let side = if left.is_positive() { Side::Buy } else { Side::Sell };
        let slot = usize::from(side == Side::Sell);
        let tick = self.rec.tick();
        let mark = self.mark;
        let stale = |q: &AdlQueue| {
            tick.saturating_sub(q.tick) >= ADL_RANKING_TICKS
                || (mark.0 - q.mark.0).unsigned_abs() as f64 > ADL_RANKING_MOVE * q.mark.0 as f64
        };
        if self.adl_queue[slot].as_ref().is_none_or(stale) {
            let queue = self.rank_adl_candidates(side)?;
            self.adl_queue[slot] = Some(AdlQueue { tick, mark, ranked: queue, cursor: 0 });
        }
        let mut queue = self.adl_queue[slot].take().unwrap_or_default();
        let mut i = queue.cursor;
        while i < queue.ranked.len() && !left.is_zero() {
            let c = queue.ranked[i];
            i += 1;
            let Some(acct) = self.ledger.account(c).copied() else { continue };
            let q = acct.position.qty;
            let usable = c != a && acct.liquidating.is_none() && q.0.signum() == -side.sign();
            if !usable {
                // Flat, flipped or taken over since the ranking: gone for this tick.
                if i - 1 == queue.cursor {
                    queue.cursor = i;
                }
                continue;
            }
            let take = q.abs().min(left.abs());
            // A counterparty that would itself go below zero closing at this price is beyond its
            // own bankruptcy: it is not deleveraged (its own liquidation deals with it).
            if self.ledger.preview_fill(c, side, take, price, Money::ZERO).is_err() {
                continue;
            }
            let ev = Event::AutoDeleveraged { account: a, counterparty: c, qty: take, price };
            self.rec.record(&mut self.ledger, ev, Some(cause))?;
            self.touch(c);
            self.stats.adl_events += 1;
            left = Qty(left.0 - left.0.signum() * take.0);
            if take == q.abs() && i - 1 == queue.cursor {
                queue.cursor = i;
            }
        }
        self.adl_queue[slot] = Some(queue);
        Ok(())
    }

    /// Opposite positions (those that close by trading `side`), by ADL rank at the mark.
    fn rank_adl_candidates(&self, side: Side) -> Result<Vec<AccountId>> {
        let inst = self.cfg.instrument;
        let mut candidates = Vec::new();
        for (i, c) in self.ledger.accounts().iter().enumerate() {
            let q = c.position.qty;
            if c.liquidating.is_some() || q.0.signum() != -side.sign() {
                continue;
            }
            let score =
                margin::adl_score(&inst, q, c.position.cost, c.position.margin.max(Money::ZERO), self.mark)?;
            candidates.push((AccountId(i as u32), q.abs(), score));
        }
        margin::adl_rank(&mut candidates);
        Ok(candidates.into_iter().map(|(id, _, _)| id).collect())
    }

    fn note_insurance(&mut self) {
        self.stats.insurance_min = self.stats.insurance_min.min(self.ledger.insurance_fund());
    }

    /// Settles funding if an interval ends at this tick: fixes the rate from the premium index,
    /// collects from payers (capped at their margin), pays receivers pro rata to what was
    /// collected, and sends the rounding remainder to the insurance fund. Returns the rate.
    pub fn settle_funding_if_due(&mut self) -> Result<Option<Rate>> {
        let interval = self.cfg.funding_interval_secs.max(1);
        if self.elapsed_secs == 0 || !self.elapsed_secs.is_multiple_of(interval) {
            return Ok(None);
        }
        let inst = self.cfg.instrument;
        let mid = self.book.mid().unwrap_or(self.last);
        let impact_qty = Qty((self.cfg.impact_notional.0 / inst.notional(mid, Qty(1))?.0.max(1)).max(1));
        let vwap = |side: Side, book: &OrderBook| {
            book.impact_price(side, impact_qty).map(|(_, v)| Price((v / impact_qty.0 as i128) as i64))
        };
        let impact_bid = vwap(Side::Sell, &self.book).unwrap_or(self.index);
        let impact_ask = vwap(Side::Buy, &self.book).unwrap_or(self.index);
        let premium = margin::premium_index(impact_bid, impact_ask, self.index)?;
        let hours = u32::try_from(interval / 3600).unwrap_or(8).clamp(1, 24);
        let rate = margin::funding_rate(
            premium,
            self.cfg.funding_interest_8h,
            self.cfg.funding_clamp,
            hours,
            self.cfg.funding_cap,
        )?;
        let set = self.rec.record(&mut self.ledger, Event::FundingRateSet { rate, mark: self.mark }, None)?;
        if rate.is_zero() {
            return Ok(Some(rate));
        }
        let mut payers = Vec::new();
        let mut receivers = Vec::new();
        for (i, acct) in self.ledger.accounts().iter().enumerate() {
            if acct.position.qty.is_zero() || acct.liquidating.is_some() {
                continue;
            }
            let amount = margin::funding_payment(&inst, acct.position.qty, self.mark, rate)?;
            if amount.is_negative() {
                let capped = Money(amount.0.max(-acct.position.margin.0.max(0)));
                if !capped.is_zero() {
                    payers.push((AccountId(i as u32), capped));
                }
            } else if amount.is_positive() {
                receivers.push((AccountId(i as u32), amount));
            }
        }
        let collected: i128 = payers.iter().map(|(_, m)| -(m.0 as i128)).sum();
        let owed: i128 = receivers.iter().map(|(_, m)| m.0 as i128).sum();
        for (account, amount) in payers {
            self.rec.record(&mut self.ledger, Event::FundingPaid { account, amount }, Some(set))?;
            self.touch(account);
        }
        for (account, amount) in receivers {
            let paid =
                if owed <= collected { amount.0 } else { (amount.0 as i128 * collected / owed) as i64 };
            if paid > 0 {
                self.rec.record(
                    &mut self.ledger,
                    Event::FundingPaid { account, amount: Money(paid) },
                    Some(set),
                )?;
                self.touch(account);
            }
        }
        let pool = self.ledger.funding_pool();
        if !pool.is_zero() {
            let ev = Event::InsuranceFundChanged { delta: pool, reason: InsuranceReason::FundingRemainder };
            self.rec.record(&mut self.ledger, ev, Some(set))?;
        }
        Ok(Some(rate))
    }

    /// Ends the tick: records `TickClosed`, resets per-tick counters.
    pub fn close_tick(&mut self, tick: u64) -> Result<()> {
        self.rec.record(&mut self.ledger, Event::TickClosed { tick }, None)?;
        self.note_insurance();
        self.tick_liquidations.clear();
        self.tick_volume = Qty::ZERO;
        Ok(())
    }

    /// Sets the tick stamped on the events that follow.
    pub fn begin_tick(&mut self, tick: u64) {
        self.rec.set_tick(tick);
    }

    /// Finishes the event log.
    pub fn finish(&mut self) -> Result<()> {
        Ok(self.rec.finish()?)
    }

    /// Moves `amount` of the account's free balance into its position margin. Returns false
    /// (and changes nothing) if the account is flat, being liquidated, or short of balance.
    pub fn add_margin(&mut self, account: AccountId, amount: Money) -> Result<bool> {
        let ok = self.ledger.account(account).is_some_and(|a| {
            amount.is_positive()
                && a.balance >= amount
                && !a.position.qty.is_zero()
                && a.liquidating.is_none()
        });
        if ok {
            self.record(Event::MarginAdded { account, amount }, None)?;
        }
        Ok(ok)
    }

    /// Deposits into the insurance fund from outside.
    pub fn fund_insurance(&mut self, amount: Money) -> Result<()> {
        if amount.is_positive() {
            self.record(
                Event::InsuranceFundChanged { delta: amount, reason: InsuranceReason::Deposit },
                None,
            )?;
            self.stats.insurance_min = self.ledger.insurance_fund();
        }
        Ok(())
    }
}

/// A rate as a float fraction (reports only).
pub fn rate_f64(r: Rate) -> f64 {
    r.0 as f64 / RATE_SCALE as f64
}
