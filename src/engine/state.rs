//! The exchange's whole state — ledger and order book — and the one fold that changes it.
//!
//! [`ExchangeState::apply`] is the only way either changes, live and in replay alike. The book's
//! part of an event is its command: `OrderPlaced` places the order and the book matches it;
//! `OrderAmended` moves it; `OrderCancelled` (requested or by a liquidation) removes it. What the
//! matching produced must then appear in the log, in the order it happened: each fill as a
//! `Traded`, each resting order expired by self-trade prevention as an `OrderCancelled` between
//! the fills it came between, and the unfilled rest of an IOC, market or post-only order as a
//! final `OrderCancelled`. Any other order of events, or an event that says something the book
//! did not do, is refused. So a log whose order ids, prices, sizes or ticks were edited cannot
//! be replayed into a state that passes for the run's.
//!
//! Stop orders live here too, in a [`StopBook`] outside the order book: `StopPlaced` adds one
//! (refused if its price has already reached it), `StopCancelled` removes one, and
//! `StopTriggered` removes one only if the price it watches — the last trade's, or the last
//! `MarkUpdated`'s mark, as this state has seen them — has reached its trigger and it is first
//! in line (no other stop of its queue comes before it). Its market order must follow at once,
//! caused by the trigger.

use crate::book::{
    AccountId, BookError, Cancelled, Fill, NewOrder, NewStop, OrderBook, OrderId, OrderKind, PlaceStatus,
    StopBook, StopId, StopKind, TriggerSource,
};
use crate::events::{CancelReason, Envelope, Event, EventKind, PremiumSample, Seq};
use crate::ledger::{Ledger, LedgerError};
use crate::margin::{self, MarginError, WeightedPremium};
use crate::units::{Price, Qty, Rate, Side};
use crate::venue::ExchangeConfig;

/// Why an event does not apply. The state is unchanged when this is returned.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    // Displayed with the cause, and so not its `source()` too: a chain printed with `{:#}`
    // says each cause once.
    #[error("book: {0}")]
    Book(BookError),
    #[error("event seq {found} out of sequence (expected {expected})")]
    Sequence { expected: Seq, found: Seq },
    #[error("event at tick {found} after tick {current}")]
    TickOrder { current: u64, found: u64 },
    #[error("cause {cause} is not an earlier event")]
    Cause { cause: Seq },
    #[error("order id {found:?} out of sequence (expected {expected:?})")]
    OrderId { expected: OrderId, found: OrderId },
    #[error("{kind:?} while the matching of order {order:?} is not fully recorded")]
    MatchingOpen { kind: EventKind, order: OrderId },
    #[error("{what}, but the book {did}")]
    Mismatch { what: String, did: String },
    #[error("stop id {found:?} out of sequence (expected {expected:?})")]
    StopId { expected: StopId, found: StopId },
    #[error("no pending stop {0:?}")]
    UnknownStop(StopId),
    #[error("{found:?} where the market order of triggered stop {stop:?} must come")]
    StopOrder { stop: StopId, found: EventKind },
    #[error("{what}, but the interval's samples give {computed}")]
    Funding { what: String, computed: String },
    #[error("funding: {0}")]
    Margin(MarginError),
}

crate::units::from_cause!(StateError::Book(BookError));
crate::units::from_cause!(StateError::Margin(MarginError));

type Result<T> = std::result::Result<T, StateError>;

/// The incoming order of a matching.
#[derive(Clone, Copy, Debug)]
struct Taker {
    id: OrderId,
    owner: AccountId,
    liquidation: bool,
}

/// What the book did with the order being matched, and how much of it the log has stated.
#[derive(Clone, Debug, Default)]
struct Matching {
    /// The incoming order, while its outcome is being recorded.
    taker: Option<Taker>,
    fills: Vec<Fill>,
    self_trades: Vec<Cancelled>,
    /// How many fills came before each self-trade cancel.
    self_trades_at: Vec<usize>,
    /// The unfilled rest that does not rest, and why.
    remainder: Option<(Qty, CancelReason)>,
    next_fill: usize,
    next_self_trade: usize,
}

impl Matching {
    /// Ends the matching once everything it produced has been stated.
    fn close_if_done(&mut self) {
        if self.next_fill == self.fills.len()
            && self.next_self_trade == self.self_trades.len()
            && self.remainder.is_none()
        {
            self.taker = None;
        }
    }

    /// The self-trade cancel due before the next fill, if any.
    fn self_trade_due(&self) -> Option<&Cancelled> {
        let at = *self.self_trades_at.get(self.next_self_trade)?;
        (at == self.next_fill).then(|| &self.self_trades[self.next_self_trade])
    }
}

/// Ledger, book, stop book, the funding interval's premium samples, and the bookkeeping of event
/// order.
#[derive(Clone, Debug)]
pub struct ExchangeState {
    ledger: Ledger,
    book: OrderBook,
    stops: StopBook,
    /// The venue's rules the funding samples and rates are checked against.
    venue: ExchangeConfig,
    /// The premium samples of the funding interval under way.
    premium: WeightedPremium,
    next_order: u64,
    next_stop: u64,
    /// The prices stops watch: the last trade's and the last mark update's (the start price
    /// before either).
    last: Price,
    mark: Price,
    /// A stop just triggered, and its trigger's seq: its market order must come next.
    triggered: Option<(Seq, NewStop)>,
    /// Events applied (the next event's seq).
    applied: u64,
    /// Tick of the last event, and the last tick closed.
    tick: u64,
    closed: Option<u64>,
    matching: Matching,
}

impl ExchangeState {
    /// The empty exchange of a venue whose prices start at `start`.
    pub fn new(venue: &ExchangeConfig, start: Price) -> ExchangeState {
        ExchangeState {
            ledger: Ledger::new(venue.instrument, venue.tiers.clone()),
            book: OrderBook::new(),
            stops: StopBook::new(venue.map_bucket_ticks),
            venue: venue.clone(),
            premium: WeightedPremium::default(),
            next_order: 0,
            next_stop: 0,
            last: start,
            mark: start,
            triggered: None,
            applied: 0,
            tick: 0,
            closed: None,
            matching: Matching::default(),
        }
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }
    pub fn book(&self) -> &OrderBook {
        &self.book
    }
    /// The pending stop orders.
    pub fn stops(&self) -> &StopBook {
        &self.stops
    }
    /// The id the next placed order must carry.
    pub fn next_order_id(&self) -> OrderId {
        OrderId(self.next_order)
    }
    /// The id the next placed stop must carry.
    pub fn next_stop_id(&self) -> StopId {
        StopId(self.next_stop)
    }
    /// The price a stop watching `source` is triggered by now.
    pub fn trigger_price(&self, source: TriggerSource) -> Price {
        match source {
            TriggerSource::Last => self.last,
            TriggerSource::Mark => self.mark,
        }
    }
    /// The stop just triggered whose market order has not come yet.
    pub fn pending_stop_order(&self) -> Option<NewStop> {
        self.triggered.map(|(_, stop)| stop)
    }
    /// Events applied so far.
    pub fn events(&self) -> u64 {
        self.applied
    }
    /// The premium samples of the funding interval under way (since the last funding rate).
    pub fn funding_premium(&self) -> &WeightedPremium {
        &self.premium
    }
    /// The funding rate accrued so far: what the interval's weighted premium average would give
    /// if the interval ended now. With no sample yet in the interval, the last rate fixed (0
    /// before any). Derived from the state alone, so a replayed log gives what the run reported.
    pub fn funding_rate_accrued(&self) -> margin::MarginResult<Rate> {
        if self.premium.samples() == 0 {
            return Ok(self.ledger.funding_rate());
        }
        self.venue.funding_rate(self.premium.average()?)
    }

    /// The fills of the order being matched (all of them, recorded or not).
    pub fn pending_fills(&self) -> &[Fill] {
        &self.matching.fills
    }
    /// The resting orders self-trade prevention expired during the current matching, and how
    /// many fills came before each.
    pub fn pending_self_trades(&self) -> (&[Cancelled], &[usize]) {
        (&self.matching.self_trades, &self.matching.self_trades_at)
    }
    /// The order being matched and its owner, until everything its matching produced is
    /// recorded.
    pub fn pending_order(&self) -> Option<(OrderId, AccountId)> {
        self.matching.taker.map(|t| (t.id, t.owner))
    }
    /// The unfilled rest of the current order that does not rest, and why.
    pub fn pending_remainder(&self) -> Option<(Qty, CancelReason)> {
        self.matching.remainder
    }

    /// Applies one event, or refuses it and changes nothing.
    pub fn apply(&mut self, env: &Envelope) -> Result<()> {
        self.check_envelope(env)?;
        let event = &env.event;
        if let Some(taker) = self.matching.taker
            && !allowed_while_matching(event)
        {
            return Err(StateError::MatchingOpen { kind: event.kind(), order: taker.id });
        }
        let answers_trigger = match self.triggered {
            Some((seq, stop)) => {
                check_stop_order(env, seq, &stop)?;
                true
            }
            None => false,
        };
        match *event {
            Event::OrderPlaced { order } => self.place(event, order)?,
            Event::OrderAmended { order, account, price, qty } => {
                self.amend(event, order, account, price, qty)?
            }
            Event::OrderCancelled { order, account, remaining, reason } => {
                self.cancelled(event, order, account, remaining, reason)?
            }
            Event::Traded { .. } => self.traded(event)?,
            Event::StopPlaced { stop } => self.stop_placed(event, stop)?,
            Event::StopCancelled { stop, account, reason } => {
                self.stop_cancelled(event, stop, account, reason)?
            }
            Event::StopTriggered { stop, price } => self.stop_triggered(event, env.seq, stop, price)?,
            Event::MarkUpdated { index, last, round, sample: Some(sample), .. } => {
                let premium = self.checked_sample(index, last, round, &sample)?;
                self.ledger.apply(event)?;
                self.premium = premium;
            }
            Event::FundingRateSet { rate, premium, samples, .. } => {
                self.check_funding_rate(rate, premium, samples)?;
                self.ledger.apply(event)?;
                self.premium = WeightedPremium::default();
            }
            _ => self.ledger.apply(event)?,
        }
        match *event {
            Event::TickClosed { tick } => self.closed = Some(tick),
            Event::Traded { price, .. } => self.last = price,
            Event::MarkUpdated { mark, last, .. } => {
                self.mark = mark;
                self.last = last;
            }
            _ => {}
        }
        if answers_trigger {
            self.triggered = None;
        }
        self.tick = env.tick;
        self.applied += 1;
        Ok(())
    }

    fn check_envelope(&self, env: &Envelope) -> Result<()> {
        if env.seq != self.applied {
            return Err(StateError::Sequence { expected: self.applied, found: env.seq });
        }
        // Ticks never go back; the events after a tick's close belong to a later tick; a
        // close names its own tick.
        let earliest = match self.closed {
            Some(t) => t.saturating_add(1).max(self.tick),
            None => self.tick,
        };
        let closes_other_tick = matches!(env.event, Event::TickClosed { tick } if tick != env.tick);
        if env.tick < earliest || closes_other_tick {
            return Err(StateError::TickOrder { current: self.tick, found: env.tick });
        }
        if let Some(cause) = env.cause
            && cause >= env.seq
        {
            return Err(StateError::Cause { cause });
        }
        Ok(())
    }

    fn place(&mut self, event: &Event, order: NewOrder) -> Result<()> {
        if order.id.0 != self.next_order {
            return Err(StateError::OrderId { expected: OrderId(self.next_order), found: order.id });
        }
        self.ledger.apply(event)?;
        let m = &mut self.matching;
        m.fills.clear();
        let outcome = self.book.place(order, &mut m.fills)?;
        self.next_order += 1;
        let reason = match outcome.status {
            PlaceStatus::Rejected => CancelReason::PostOnlyWouldCross,
            _ => CancelReason::Unfilled,
        };
        let remainder = outcome.cancelled.is_positive().then_some((outcome.cancelled, reason));
        let taker = Taker { id: order.id, owner: order.owner, liquidation: order.flags.liquidation };
        self.begin_matching(taker, remainder);
        Ok(())
    }

    fn amend(
        &mut self,
        event: &Event,
        id: OrderId,
        account: AccountId,
        price: Price,
        qty: Qty,
    ) -> Result<()> {
        let resting = self.book.order(id).ok_or(BookError::UnknownOrder(id))?;
        if resting.owner != account {
            return Err(mismatch(
                format!("{id:?} amended by {account:?}"),
                format!("has it owned by {:?}", resting.owner),
            ));
        }
        self.ledger.apply(event)?;
        let m = &mut self.matching;
        m.fills.clear();
        self.book.amend(id, price, qty, &mut m.fills)?;
        // A size cut is not a cancel of its own; nothing of an amended order is left unstated.
        let taker = Taker { id, owner: account, liquidation: resting.flags.liquidation };
        self.begin_matching(taker, None);
        Ok(())
    }

    fn begin_matching(&mut self, taker: Taker, remainder: Option<(Qty, CancelReason)>) {
        let m = &mut self.matching;
        m.self_trades.clear();
        m.self_trades.extend_from_slice(self.book.last_self_trade_cancels());
        m.self_trades_at.clear();
        m.self_trades_at.extend_from_slice(self.book.last_self_trade_positions());
        m.remainder = remainder;
        m.next_fill = 0;
        m.next_self_trade = 0;
        m.taker = Some(taker);
        m.close_if_done();
    }

    fn traded(&mut self, event: &Event) -> Result<()> {
        let Event::Traded {
            maker_order, maker, taker_order, taker, taker_side, price, qty, liquidation, ..
        } = *event
        else {
            unreachable!("traded() is called with Traded events only")
        };
        let stated = Fill { maker_order, maker, taker_order, taker, taker_side, price, qty };
        let m = &self.matching;
        let what = || format!("a trade of {qty:?} at {price:?} between {maker_order:?} and {taker_order:?}");
        let Some(t) = m.taker else {
            return Err(mismatch(what(), "was matching no order".into()));
        };
        if let Some(c) = m.self_trade_due() {
            return Err(mismatch(what(), format!("expired {:?} by self-trade prevention first", c.id)));
        }
        match m.fills.get(m.next_fill) {
            Some(f) if *f == stated && liquidation == t.liquidation => {}
            Some(f) => return Err(mismatch(what(), format!("matched {f:?}"))),
            None => return Err(mismatch(what(), format!("had no more fills for {:?}", t.id))),
        }
        self.ledger.apply(event)?;
        self.matching.next_fill += 1;
        self.matching.close_if_done();
        Ok(())
    }

    fn cancelled(
        &mut self,
        event: &Event,
        id: OrderId,
        account: AccountId,
        remaining: Qty,
        reason: CancelReason,
    ) -> Result<()> {
        let what =
            || format!("{id:?} of {account:?} cancelled with {remaining:?} left ({})", reason.as_str());
        match reason {
            CancelReason::SelfTrade => {
                let due = self.matching.self_trade_due().copied();
                match due {
                    Some(c) if c.id == id && c.owner == account && c.remaining == remaining => {}
                    Some(c) => return Err(mismatch(what(), format!("expired {c:?} there"))),
                    None => return Err(mismatch(what(), "expired no order there".into())),
                }
                self.ledger.apply(event)?;
                self.matching.next_self_trade += 1;
                self.matching.close_if_done();
            }
            CancelReason::Unfilled | CancelReason::PostOnlyWouldCross => {
                let m = &self.matching;
                let all_stated = m.next_fill == m.fills.len() && m.next_self_trade == m.self_trades.len();
                let ok = all_stated
                    && m.taker.is_some_and(|t| t.id == id && t.owner == account)
                    && m.remainder == Some((remaining, reason));
                if !ok {
                    let did = format!("left {:?} of {:?} unfilled", m.remainder, m.taker.map(|t| t.id));
                    return Err(mismatch(what(), did));
                }
                self.ledger.apply(event)?;
                self.matching.remainder = None;
                self.matching.close_if_done();
            }
            CancelReason::Requested | CancelReason::Liquidation => {
                let resting = self.book.order(id).ok_or(BookError::UnknownOrder(id))?;
                if resting.owner != account || resting.qty != remaining {
                    return Err(mismatch(
                        what(),
                        format!("holds {:?} of {:?} there", resting.qty, resting.owner),
                    ));
                }
                let liquidating = self.ledger.account(account).is_some_and(|a| a.liquidating.is_some());
                if (reason == CancelReason::Liquidation) != liquidating {
                    let state = if liquidating { "is being liquidated" } else { "is not being liquidated" };
                    return Err(mismatch(what(), format!("says {account:?} {state}")));
                }
                self.ledger.apply(event)?;
                self.book.cancel(id)?;
            }
        }
        Ok(())
    }

    fn stop_placed(&mut self, event: &Event, stop: NewStop) -> Result<()> {
        if stop.id.0 != self.next_stop {
            return Err(StateError::StopId { expected: StopId(self.next_stop), found: stop.id });
        }
        if !stop.qty.is_positive() {
            return Err(BookError::ZeroOrNegativeQty(stop.qty).into());
        }
        if !stop.trigger.is_positive() {
            return Err(BookError::NonPositivePrice(stop.trigger).into());
        }
        let what = || format!("{:?} placed by {:?} at {:?}", stop.id, stop.owner, stop.trigger);
        if self.ledger.account(stop.owner).is_some_and(|a| a.liquidating.is_some()) {
            return Err(mismatch(what(), format!("says {:?} is being liquidated", stop.owner)));
        }
        let price = self.trigger_price(stop.source);
        if stop.is_due(price) {
            return Err(mismatch(what(), format!("has its price at {price:?}: it would trigger at once")));
        }
        self.ledger.apply(event)?;
        self.stops.insert(stop);
        self.next_stop += 1;
        Ok(())
    }

    fn stop_cancelled(
        &mut self,
        event: &Event,
        id: StopId,
        account: AccountId,
        reason: CancelReason,
    ) -> Result<()> {
        let stop = *self.stops.get(id).ok_or(StateError::UnknownStop(id))?;
        let what = || format!("{id:?} of {account:?} cancelled ({})", reason.as_str());
        if stop.owner != account {
            return Err(mismatch(what(), format!("has it owned by {:?}", stop.owner)));
        }
        let liquidating = self.ledger.account(account).is_some_and(|a| a.liquidating.is_some());
        match reason {
            CancelReason::Requested | CancelReason::Liquidation => {
                if (reason == CancelReason::Liquidation) != liquidating {
                    let state = if liquidating { "is being liquidated" } else { "is not being liquidated" };
                    return Err(mismatch(what(), format!("says {account:?} {state}")));
                }
            }
            _ => return Err(mismatch(what(), "cancels stops only on request or by a liquidation".into())),
        }
        self.ledger.apply(event)?;
        self.stops.remove(id);
        Ok(())
    }

    fn stop_triggered(&mut self, event: &Event, seq: Seq, stop: NewStop, price: Price) -> Result<()> {
        let pending = *self.stops.get(stop.id).ok_or(StateError::UnknownStop(stop.id))?;
        let what = || format!("{:?} triggered at {price:?}", stop.id);
        if pending != stop {
            return Err(mismatch(what(), format!("holds it as {pending:?}")));
        }
        let watched = self.trigger_price(stop.source);
        if price != watched || !stop.is_due(price) {
            return Err(mismatch(what(), format!("has its {} price at {watched:?}", stop.source.as_str())));
        }
        if !self.stops.is_first_in_line(stop.id) {
            return Err(mismatch(what(), "has another stop of its queue first in line".into()));
        }
        if self.ledger.account(stop.owner).is_some_and(|a| a.liquidating.is_some()) {
            return Err(mismatch(what(), format!("says {:?} is being liquidated", stop.owner)));
        }
        self.ledger.apply(event)?;
        self.stops.remove(stop.id);
        self.triggered = Some((seq, stop));
        Ok(())
    }

    /// The premium samples with `sample` added, if it is what the book and the index give: its
    /// impact prices those of the book now (the last price and index being the event's), its
    /// premium the formula's, taken on a tick's price update.
    fn checked_sample(
        &self,
        index: Price,
        last: Price,
        round: u32,
        sample: &PremiumSample,
    ) -> Result<WeightedPremium> {
        let what = || {
            format!(
                "a premium sample of {} at impact bid {:?} / ask {:?} (index {index:?}, round {round})",
                sample.samples, sample.impact_bid, sample.impact_ask
            )
        };
        if round != 0 || sample.samples == 0 {
            return Err(StateError::Funding { what: what(), computed: "no sample there".into() });
        }
        let (bid, ask) =
            impact_prices(&self.book, &self.venue, last, index).map_err(|e| StateError::Margin(e.into()))?;
        if (bid, ask) != (sample.impact_bid, sample.impact_ask) {
            return Err(mismatch(what(), format!("gives impact bid {bid:?} / ask {ask:?}")));
        }
        let premium = margin::premium_index(bid, ask, index)?;
        if premium != sample.premium {
            let computed = format!("premium {premium:?} from these prices");
            return Err(StateError::Funding {
                what: format!("{} states premium {:?}", what(), sample.premium),
                computed,
            });
        }
        let mut next = self.premium;
        next.add(premium, sample.samples)?;
        Ok(next)
    }

    /// A funding rate must be the one the interval's samples give: their count, their weighted
    /// average, and the clamp formula on it.
    fn check_funding_rate(&self, rate: Rate, premium: Rate, samples: u64) -> Result<()> {
        let average = self.premium.average()?;
        let computed = self.venue.funding_rate(average)?;
        if (rate, premium, samples) != (computed, average, self.premium.samples()) {
            return Err(StateError::Funding {
                what: format!("a funding rate {rate:?} from premium {premium:?} over {samples} samples"),
                computed: format!(
                    "rate {computed:?} from premium {average:?} over {} samples",
                    self.premium.samples()
                ),
            });
        }
        Ok(())
    }

    /// A stable blake3 hash of the whole state — every account, the venue's pools and prices,
    /// and every resting order in matching priority — as 64 hex digits.
    pub fn state_hash(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(b"liqsim-state-v2");
        self.ledger.hash_into(&mut h);
        h.update(&self.next_order.to_le_bytes());
        // Appended only while there are samples, so states without any hash as before.
        if self.premium.samples() > 0 {
            h.update(b"premium");
            h.update(&self.premium.samples().to_le_bytes());
            h.update(&self.premium.weighted_sum().to_le_bytes());
        }
        for side in [Side::Buy, Side::Sell] {
            h.update(&(self.book.side_order_count(side) as u64).to_le_bytes());
            for o in self.book.resting_orders(side) {
                let kind: u8 = match o.kind {
                    OrderKind::Gtc => 0,
                    OrderKind::PostOnly => 1,
                    OrderKind::Ioc => 2,
                    OrderKind::Market => 3,
                };
                h.update(&o.id.0.to_le_bytes());
                h.update(&o.owner.0.to_le_bytes());
                h.update(&[kind, u8::from(o.flags.reduce_only), u8::from(o.flags.liquidation)]);
                h.update(&o.price.0.to_le_bytes());
                h.update(&o.qty.0.to_le_bytes());
            }
        }
        // Appended only once a stop has been placed, so the hash of every state without stops
        // (all states before they existed) is unchanged.
        if self.next_stop > 0 {
            h.update(b"stops").update(&self.next_stop.to_le_bytes());
            h.update(&(self.stops.len() as u64).to_le_bytes());
            for s in self.stops.iter() {
                let side = u8::from(s.side == Side::Sell);
                let kind = u8::from(s.kind == StopKind::TakeProfit);
                let source = u8::from(s.source == TriggerSource::Mark);
                h.update(&s.id.0.to_le_bytes());
                h.update(&s.owner.0.to_le_bytes());
                h.update(&[side, kind, source, u8::from(s.reduce_only)]);
                h.update(&s.trigger.0.to_le_bytes());
                h.update(&s.qty.0.to_le_bytes());
            }
        }
        h.finalize().to_hex().to_string()
    }
}

/// Between an order's fills the engine may take over an account whose fill would overdraw it:
/// its trigger and the cancels of its other orders and stops come where that happened.
fn allowed_while_matching(event: &Event) -> bool {
    match event {
        Event::Traded { .. } | Event::LiquidationTriggered { .. } => true,
        Event::OrderCancelled { reason, .. } => *reason != CancelReason::Requested,
        Event::StopCancelled { reason, .. } => *reason == CancelReason::Liquidation,
        _ => false,
    }
}

/// The event after a stop's trigger must be its market order, caused by the trigger: placed
/// with the stop's owner, side and reduce-only flag, for its size (a reduce-only one clipped to
/// the position), or turned away as asked.
fn check_stop_order(env: &Envelope, trigger: Seq, stop: &NewStop) -> Result<()> {
    let ok = env.cause == Some(trigger)
        && match env.event {
            Event::OrderPlaced { order } => {
                order.owner == stop.owner
                    && order.side == stop.side
                    && order.kind == OrderKind::Market
                    && order.flags.reduce_only == stop.reduce_only
                    && !order.flags.liquidation
                    && (order.qty == stop.qty || (stop.reduce_only && order.qty < stop.qty))
            }
            Event::OrderRejected { account, side, kind, qty, reduce_only, .. } => {
                account == stop.owner
                    && side == stop.side
                    && kind == OrderKind::Market
                    && qty == stop.qty
                    && reduce_only == stop.reduce_only
            }
            _ => false,
        };
    if ok { Ok(()) } else { Err(StateError::StopOrder { stop: stop.id, found: env.event.kind() }) }
}

fn mismatch(what: String, did: String) -> StateError {
    StateError::Mismatch { what, did }
}

/// The impact bid and ask of the premium index: the average prices (truncated to the tick) of
/// selling the venue's impact notional into the bids and of buying it from the asks, sized in
/// lots at the mid (the last price when a side is empty); the index for a side that holds less.
pub(super) fn impact_prices(
    book: &OrderBook,
    venue: &ExchangeConfig,
    last: Price,
    index: Price,
) -> std::result::Result<(Price, Price), crate::units::UnitError> {
    let inst = venue.instrument;
    let mid = book.mid().unwrap_or(last);
    let per_lot = inst.notional(mid, Qty(1))?.0.max(1);
    let qty = Qty((venue.impact_notional.0 / per_lot).max(1));
    let average = |side: Side| {
        book.impact_price(side, qty).map(|(_, value)| Price((value / qty.0 as i128) as i64)).unwrap_or(index)
    };
    Ok((average(Side::Sell), average(Side::Buy)))
}
