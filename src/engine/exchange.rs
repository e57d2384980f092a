//! The exchange: state (ledger + book) and the liquidation index behind one recorder. Plain Rust,
//! no ECS; the systems in `sim/` call these methods and read what they publish.
//!
//! Every change goes through [`Exchange::emit`]: the recorder numbers the event and applies it to
//! the [`ExchangeState`] (the same fold replay uses); the accounts it touches are derived from
//! the event itself and their liquidation prices refreshed; the run's counters are tallied from
//! it; and, when publishing is on, it is queued for the ECS world. The other files of this
//! module hold what the exchange does: orders, stops, the mark, liquidations, ADL and funding.

use super::liq_index::{LiqEntry, LiquidationIndex};
use super::liquidation::TakeOver;
use super::mark::PremiumAverage;
use super::recorder::{LogTarget, RecordError, Recorder};
use super::state::ExchangeState;
use super::windows::{PeakWindow, RollingSum};
use crate::book::{AccountId, BookError, Fill, OrderBook, OrderId, StopId};
use crate::events::{Envelope, Event, InsuranceReason, LogHeader, LogWriter, Seq, TriggerReason};
use crate::ledger::{Account, Ledger};
use crate::margin::{self, MarginError, MarginMode};
use crate::units::{Instrument, Money, Price, RATE_SCALE, Rate, Side, UnitError};
use crate::venue::ExchangeConfig;
use serde::{Deserialize, Serialize};

/// Something the engine could not do. All of these are bugs or broken inputs, never market
/// outcomes (a rejected order is an `OrderRejected` event).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Record(#[from] RecordError),
    // Displayed with the cause, and so not its `source()` too: a chain printed with `{:#}`
    // says each cause once.
    #[error("book: {0}")]
    Book(BookError),
    #[error("margin: {0}")]
    Margin(MarginError),
    #[error("ledger: {0}")]
    Ledger(crate::ledger::LedgerError),
    #[error(transparent)]
    Unit(#[from] UnitError),
}

crate::units::from_cause!(EngineError::Book(BookError));
crate::units::from_cause!(EngineError::Margin(MarginError));
crate::units::from_cause!(EngineError::Ledger(crate::ledger::LedgerError));

pub(super) type Result<T> = std::result::Result<T, EngineError>;

/// Per-run liquidation and insurance counters, tallied from the events as they are recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiquidationStats {
    /// Distinct accounts liquidated at least once, by the side of their position.
    pub accounts_long: u64,
    pub accounts_short: u64,
    /// Liquidation triggers (an account can be liquidated more than once).
    pub liquidations_long: u64,
    pub liquidations_short: u64,
    /// Liquidated notional: what liquidations closed (in full, or the part a partial one
    /// closed), at the mark of the trigger, micro-USD.
    pub notional_long: i128,
    pub notional_short: i128,
    /// Takeovers by the insurance fund, and their notional at the bankruptcy price, micro-USD.
    pub insurance_takeovers: u64,
    pub takeover_notional: i128,
    pub adl_events: u64,
    /// Auto-deleveraged notional at the bankruptcy price, micro-USD.
    pub adl_notional: i128,
    /// The fund's trading cash flow on the positions it took over (paid at takeover, received
    /// when offloading, less fees), micro-USD: its PnL is this plus its position at the mark.
    pub fund_cash_flow: i128,
    pub partial_liquidations: u64,
    /// Accounts put on the bankruptcy path by a fill beyond their bankruptcy price.
    pub bankrupt_fills: u64,
    /// Lowest insurance fund balance after any event that moved it (`i64::MAX` µUSD before the
    /// first).
    pub insurance_min: Money,
}

impl Default for LiquidationStats {
    fn default() -> Self {
        LiquidationStats {
            accounts_long: 0,
            accounts_short: 0,
            liquidations_long: 0,
            liquidations_short: 0,
            notional_long: 0,
            notional_short: 0,
            insurance_takeovers: 0,
            takeover_notional: 0,
            adl_events: 0,
            adl_notional: 0,
            fund_cash_flow: 0,
            partial_liquidations: 0,
            bankrupt_fills: 0,
            insurance_min: Money(i64::MAX),
        }
    }
}

/// Accounts whose ledger state changed and whose liquidation price is not yet refreshed.
#[derive(Clone, Debug, Default)]
pub(super) struct Dirty {
    list: Vec<AccountId>,
    flag: Vec<bool>,
}

impl Dirty {
    fn mark(&mut self, a: AccountId) {
        // The insurance fund has no liquidation price and no component to refresh.
        if a == AccountId::INSURANCE_FUND {
            return;
        }
        let i = a.0 as usize;
        if i >= self.flag.len() {
            self.flag.resize(i + 1, false);
        }
        if !self.flag[i] {
            self.flag[i] = true;
            self.list.push(a);
        }
    }
}

/// The market: everything that matches, settles, marks and liquidates.
pub struct Exchange {
    pub(super) cfg: ExchangeConfig,
    pub(super) state: ExchangeState,
    pub(super) liq: LiquidationIndex,
    pub(super) rec: Recorder,
    /// Scratch: the fills of the order being settled.
    pub(super) fills: Vec<Fill>,
    /// Scratch: accounts breached in a liquidation round.
    pub(super) breached: Vec<AccountId>,
    dirty: Dirty,
    /// Scratch: the refreshed entries of the dirty accounts.
    entries: Vec<(AccountId, Option<LiqEntry>)>,
    /// Accounts refreshed since the last [`Exchange::drain`], and the events recorded since
    /// (kept only while publishing).
    changed: Vec<AccountId>,
    outbox: Option<Vec<Envelope>>,
    /// Orders that left the book since the last [`Exchange::take_gone_orders`], with their
    /// owners (kept only while publishing).
    gone: Vec<(OrderId, AccountId)>,
    pub(super) premium: PremiumAverage,
    pub(super) index: Price,
    pub(super) mark: Price,
    pub(super) last: Price,
    pub(super) elapsed_secs: u64,
    /// Liquidation round within the tick (0 before the first), stamped on mark refreshes.
    pub(super) round: u32,
    stats: LiquidationStats,
    /// Per account: bit 0 once liquidated long, bit 1 once short (for distinct counts).
    liquidated_once: Vec<u8>,
    pub(super) adl: super::adl::AdlQueues,
    /// Accounts taken over mid-order because a fill would overdraw them, to close out next.
    pub(super) bankrupt: Vec<(AccountId, TakeOver)>,
    /// Traded lots of the last minute, and the fund's highest balance of the last 8 hours.
    pub(super) volume: RollingSum,
    pub(super) fund_peak: PeakWindow,
    /// The last `Traded` and `MarkUpdated` recorded: what a stop watching last or mark is
    /// triggered by.
    pub(super) last_trade: Option<Seq>,
    pub(super) mark_update: Option<Seq>,
    /// Set while stops are being triggered (their own market orders start no new check), and
    /// the scratch list of the stops a round triggers.
    pub(super) triggering_stops: bool,
    pub(super) due_stops: Vec<StopId>,
    stops_triggered: u64,
}

/// Bybit's fund drawdown is measured over this many seconds.
const FUND_DRAWDOWN_WINDOW_SECS: u64 = 8 * 3600;

impl Exchange {
    /// A new market at `price` (index, mark and last all start there), writing its event log to
    /// `log` if given (the header first: the venue settings and the start price).
    pub fn new(cfg: ExchangeConfig, price: Price, log: Option<LogTarget>) -> Result<Exchange> {
        let log = match log {
            Some(t) => {
                let header = LogHeader::new(t.scenario_hash, t.seed, price, cfg.clone());
                Some(LogWriter::new(t.out, &header).map_err(RecordError::from)?)
            }
            None => None,
        };
        let tick_secs = cfg.tick_secs.max(1);
        let premium = PremiumAverage::new((cfg.premium_window_secs / tick_secs).max(1) as usize);
        let volume = RollingSum::new((60 / tick_secs).max(1) as usize);
        let fund_peak = PeakWindow::new(FUND_DRAWDOWN_WINDOW_SECS / tick_secs);
        Ok(Exchange {
            state: ExchangeState::new(&cfg, price),
            liq: LiquidationIndex::new(cfg.map_bucket_ticks),
            rec: Recorder::new(log),
            cfg,
            fills: Vec::new(),
            breached: Vec::new(),
            dirty: Dirty::default(),
            entries: Vec::new(),
            changed: Vec::new(),
            outbox: None,
            gone: Vec::new(),
            premium,
            index: price,
            mark: price,
            last: price,
            elapsed_secs: 0,
            round: 0,
            stats: LiquidationStats::default(),
            liquidated_once: Vec::new(),
            adl: Default::default(),
            bankrupt: Vec::new(),
            volume,
            fund_peak,
            last_trade: None,
            mark_update: None,
            triggering_stops: false,
            due_stops: Vec::new(),
            stops_triggered: 0,
        })
    }

    pub fn config(&self) -> &ExchangeConfig {
        &self.cfg
    }
    pub fn state(&self) -> &ExchangeState {
        &self.state
    }
    pub fn book(&self) -> &OrderBook {
        self.state.book()
    }
    pub fn ledger(&self) -> &Ledger {
        self.state.ledger()
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
    /// Stop orders triggered so far.
    pub fn stops_triggered(&self) -> u64 {
        self.stops_triggered
    }
    pub fn instrument(&self) -> &Instrument {
        &self.cfg.instrument
    }
    /// The hash of the whole exchange state (ledger and book), as replay rebuilds it.
    pub fn state_hash(&self) -> String {
        self.state.state_hash()
    }

    /// Records one event: applies it to the state, marks the accounts it touches, tallies it,
    /// and queues it for publishing. The one path by which the exchange changes.
    pub(super) fn emit(&mut self, event: Event, cause: Option<Seq>) -> Result<Seq> {
        for a in event.ledger_accounts().into_iter().flatten() {
            self.dirty.mark(a);
        }
        self.count(&event)?;
        // The fund's offload participates in the others' volume: its own trades do not count.
        if let Event::Traded { qty, maker, taker, .. } = event
            && maker != AccountId::INSURANCE_FUND
            && taker != AccountId::INSURANCE_FUND
        {
            self.volume.add(qty.0);
        }
        let moves_fund = matches!(event, Event::Liquidated { .. } | Event::InsuranceFundChanged { .. });
        let published = (self.outbox.is_some() && publishes(&event)).then(|| event.clone());
        // An order leaves the book only by a cancel (of any reason) or a fill: these events
        // name every order that may have left, with its owner.
        let may_leave = match event {
            Event::OrderCancelled { order, account, .. } => [Some((order, account)), None],
            Event::Traded { maker_order, maker, taker_order, taker, .. } => {
                [Some((maker_order, maker)), Some((taker_order, taker))]
            }
            _ => [None, None],
        };
        let seq = self.rec.record(&mut self.state, event, cause)?;
        if self.outbox.is_some() {
            for (order, owner) in may_leave.into_iter().flatten() {
                if self.state.book().order(order).is_none() {
                    self.gone.push((order, owner));
                }
            }
        }
        if moves_fund {
            let s = &mut self.stats;
            s.insurance_min = s.insurance_min.min(self.state.ledger().insurance_fund());
        }
        if let (Some(event), Some(outbox)) = (published, &mut self.outbox) {
            outbox.push(Envelope { seq, tick: self.rec.tick(), cause, event });
        }
        Ok(seq)
    }

    /// Counts liquidations (distinct accounts and triggers), their notional, takeovers, ADLs,
    /// partial liquidations and the fund's trading cash flow.
    fn count(&mut self, event: &Event) -> Result<()> {
        let inst = self.cfg.instrument;
        let s = &mut self.stats;
        match *event {
            Event::LiquidationTriggered { account, position, reason, .. } => {
                let i = account.0 as usize;
                if i >= self.liquidated_once.len() {
                    self.liquidated_once.resize(i + 1, 0);
                }
                let bit = if position.is_positive() { 1 } else { 2 };
                let first = self.liquidated_once[i] & bit == 0;
                self.liquidated_once[i] |= bit;
                if position.is_positive() {
                    s.accounts_long += u64::from(first);
                    s.liquidations_long += 1;
                } else {
                    s.accounts_short += u64::from(first);
                    s.liquidations_short += 1;
                }
                if reason == TriggerReason::BankruptFill {
                    s.bankrupt_fills += 1;
                }
            }
            Event::InsuranceTakeover { account, qty, price } => {
                let notional = inst.notional_wide(price, qty)?;
                s.insurance_takeovers += 1;
                s.takeover_notional += notional;
                // The fund buys what a long gave up and sells what a short did.
                let long = self.state.ledger().account(account).is_some_and(|a| a.position.qty.is_positive());
                s.fund_cash_flow += if long { -notional } else { notional };
            }
            Event::Traded { maker, taker, taker_side, price, qty, maker_fee, taker_fee, .. } => {
                let notional = inst.notional_wide(price, qty)?;
                for (who, side, fee) in
                    [(maker, taker_side.opposite(), maker_fee), (taker, taker_side, taker_fee)]
                {
                    if who == AccountId::INSURANCE_FUND {
                        s.fund_cash_flow += -(side.sign() as i128) * notional - fee.0 as i128;
                    }
                }
            }
            Event::AutoDeleveraged { qty, price, .. } => {
                s.adl_events += 1;
                s.adl_notional += inst.notional_wide(price, qty)?;
            }
            Event::Liquidated { closed, mark, partial, .. } => {
                let notional = inst.notional_wide(mark, closed.abs())?;
                if closed.is_positive() {
                    s.notional_long += notional;
                } else {
                    s.notional_short += notional;
                }
                s.partial_liquidations += u64::from(partial);
            }
            Event::StopTriggered { .. } => self.stops_triggered += 1,
            _ => {}
        }
        Ok(())
    }

    /// The insurance fund's PnL on the positions it took over: its trading cash flow plus what
    /// it still holds, at the mark (micro-USD).
    pub fn fund_pnl(&self) -> Result<i128> {
        let held = self.state.ledger().insurance_position().qty;
        Ok(self.stats.fund_cash_flow + self.cfg.instrument.notional_wide(self.mark, held)?)
    }

    /// Records an event that is not tied to an order flow (seeding, deposits).
    pub fn record(&mut self, event: Event, cause: Option<Seq>) -> Result<Seq> {
        self.emit(event, cause)
    }

    /// Opens an isolated-margin account with a deposit; returns its id.
    pub fn open_account(&mut self, deposit: Money, leverage: u32) -> Result<AccountId> {
        self.open_account_in(MarginMode::Isolated, deposit, leverage)
    }

    /// Opens an account margined in `mode` with a deposit; returns its id.
    pub fn open_account_in(&mut self, mode: MarginMode, deposit: Money, leverage: u32) -> Result<AccountId> {
        let account = AccountId(self.ledger().accounts().len() as u32);
        self.emit(Event::AccountOpened { account, deposit, leverage, mode }, None)?;
        Ok(account)
    }

    /// Records without hashing the event stream (see [`Recorder::skip_stream_hash`]); before the
    /// first event only.
    pub fn skip_stream_hash(&mut self) {
        self.rec.skip_stream_hash();
    }

    /// Keeps every recorded event (and every refreshed account) for [`Exchange::drain`]: the
    /// ECS world turns them into messages. Off by default, so a bare exchange keeps nothing.
    pub fn set_publishing(&mut self, on: bool) {
        self.outbox = on.then(Vec::new);
        self.changed.clear();
        self.gone.clear();
    }

    /// Hands over the orders that have left the book (filled, cancelled, expired by self-trade
    /// prevention) since the last call, with their owners, in the order they left (an order
    /// may be named twice); nothing unless publishing. Agents learn which of their orders are
    /// gone from this instead of looking every one of them up in the book each tick.
    pub fn take_gone_orders(&mut self, out: &mut Vec<(OrderId, AccountId)>) {
        out.append(&mut self.gone);
    }

    /// Refreshes the liquidation index, then hands over the events recorded since the last call
    /// that the world turns into messages (trades, marks, liquidations and their ends, stop
    /// triggers: see [`publishes`]) and the accounts changed (nothing unless publishing).
    pub fn drain(&mut self, events: &mut Vec<Envelope>, accounts: &mut Vec<AccountId>) -> Result<()> {
        self.refresh_liquidation_index()?;
        if let Some(outbox) = &mut self.outbox {
            events.append(outbox);
            accounts.append(&mut self.changed);
        }
        Ok(())
    }

    /// Recomputes the liquidation price of every account changed since the last refresh.
    pub fn refresh_liquidation_index(&mut self) -> Result<()> {
        let mut dirty = std::mem::take(&mut self.dirty.list);
        let mut entries = std::mem::take(&mut self.entries);
        entries.clear();
        let mut failed = None;
        for &a in &dirty {
            self.dirty.flag[a.0 as usize] = false;
            let entry = match self.state.ledger().account(a).map(|acct| self.liq_entry(acct)) {
                Some(Ok(entry)) => entry,
                Some(Err(e)) => {
                    failed = Some(e);
                    break;
                }
                None => None,
            };
            entries.push((a, entry));
        }
        // One by one, or (a funding settlement's million) rebuilt in one pass; on a failure,
        // what was refreshed before it, as when they were set one at a time.
        self.liq.set_many(&entries);
        self.entries = entries;
        if let Some(e) = failed {
            return Err(e);
        }
        if self.outbox.is_some() {
            self.changed.extend_from_slice(&dirty);
        }
        dirty.clear();
        self.dirty.list = dirty;
        Ok(())
    }

    pub(super) fn liq_entry(&self, a: &Account) -> Result<Option<LiqEntry>> {
        let p = a.position;
        if p.qty.is_zero() || a.liquidating.is_some() {
            return Ok(None);
        }
        let side = if p.qty.is_positive() { Side::Buy } else { Side::Sell };
        // Isolated: the margin backs the position; cross: the whole wallet (Binance's cross
        // formula with no other position, which is the isolated one on the wallet).
        let price = match margin::liquidation_price_tiered(
            &self.cfg.instrument,
            &self.cfg.tiers,
            p.qty,
            p.cost,
            a.wallet(),
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

    /// Ends the tick: records `TickClosed`.
    pub fn close_tick(&mut self, tick: u64) -> Result<()> {
        self.emit(Event::TickClosed { tick }, None)?;
        Ok(())
    }

    /// Sets the tick stamped on the events that follow.
    pub fn begin_tick(&mut self, tick: u64) {
        self.rec.set_tick(tick);
        self.round = 0;
        self.volume.roll();
        self.fund_peak.sample(tick, self.state.ledger().insurance_fund());
    }

    /// Finishes the event log.
    pub fn finish(&mut self) -> Result<()> {
        Ok(self.rec.finish()?)
    }

    /// Moves `amount` of the account's free balance into its position margin. Returns false
    /// (and changes nothing) if the account is flat, being liquidated, or short of balance.
    pub fn add_margin(&mut self, account: AccountId, amount: Money) -> Result<bool> {
        let ok = self.ledger().account(account).is_some_and(|a| {
            amount.is_positive()
                && a.balance >= amount
                && !a.position.qty.is_zero()
                && a.liquidating.is_none()
        });
        if ok {
            self.emit(Event::MarginAdded { account, amount }, None)?;
        }
        Ok(ok)
    }

    /// Deposits into the insurance fund from outside.
    pub fn fund_insurance(&mut self, amount: Money) -> Result<()> {
        if amount.is_positive() {
            self.emit(Event::InsuranceFundChanged { delta: amount, reason: InsuranceReason::Deposit }, None)?;
        }
        Ok(())
    }
}

/// Whether publishing keeps `event` for [`Exchange::drain`]: the kinds the ECS world turns into
/// messages of their own. The others (orders placed and amended, funding payments, ...) reach
/// the world only as changed accounts, and copying them out was a good part of a busy tick.
pub(crate) fn publishes(event: &Event) -> bool {
    matches!(
        event,
        Event::Traded { .. }
            | Event::MarkUpdated { .. }
            | Event::LiquidationTriggered { .. }
            | Event::Liquidated { .. }
            | Event::StopTriggered { .. }
    )
}

/// A rate as a float fraction (reports only).
pub fn rate_f64(r: Rate) -> f64 {
    r.0 as f64 / RATE_SCALE as f64
}
