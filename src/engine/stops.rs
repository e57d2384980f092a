//! Stop orders: placing and cancelling them, and triggering them when the price they watch
//! reaches their trigger.
//!
//! A stop waits in the state's [`StopBook`](crate::book::StopBook), outside the order book. After
//! every change of a price stops watch — a trade moved the last price (checked once the order that
//! traded is done, never between its fills or inside a liquidation), or the mark was refreshed —
//! [`Exchange::trigger_stops`] triggers what the prices have reached, in rounds: a round
//! triggers every stop reached at its start, in the order a moving price crosses them (nearest
//! trigger first, then time), each becoming a market order; those orders move the last price,
//! and the next round takes the stops that move reached. At most `max_stop_rounds` rounds follow
//! one price change; stops still reached then trigger at the next check. Each check costs
//! O(log n + k) for n pending stops and k triggered.

use super::exchange::{Exchange, Result};
use super::orders::OrderRequest;
use crate::book::{AccountId, NewStop, OrderKind, StopId, StopKind, TriggerSource};
use crate::events::{CancelReason, Event, RejectReason, Seq};
use crate::units::{Price, Qty, Side};
use crate::venue::VenuePreset;

/// A stop order an agent wants to place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopRequest {
    pub account: AccountId,
    pub side: Side,
    pub kind: StopKind,
    pub source: TriggerSource,
    pub trigger: Price,
    pub qty: Qty,
    pub reduce_only: bool,
}

/// What became of a stop request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopSubmitted {
    Accepted(StopId),
    Rejected(RejectReason),
}

impl Exchange {
    /// Places a stop order, or records why not (`StopRejected`): an unknown or liquidating
    /// account, a size or trigger that is not positive, a reduce-only stop with no position to
    /// reduce, a price the venue does not trigger on, or a trigger its price has already reached.
    /// The margin of its market order is checked when it triggers, as venues do.
    pub fn place_stop(&mut self, req: StopRequest, cause: Option<Seq>) -> Result<StopSubmitted> {
        if let Some(reason) = self.stop_check(&req) {
            let ev = Event::StopRejected {
                account: req.account,
                side: req.side,
                kind: req.kind,
                source: req.source,
                trigger: req.trigger,
                qty: req.qty,
                reduce_only: req.reduce_only,
                reason,
            };
            self.emit(ev, cause)?;
            return Ok(StopSubmitted::Rejected(reason));
        }
        let stop = NewStop {
            id: self.state.next_stop_id(),
            owner: req.account,
            side: req.side,
            kind: req.kind,
            source: req.source,
            trigger: req.trigger,
            qty: req.qty,
            reduce_only: req.reduce_only,
        };
        self.emit(Event::StopPlaced { stop }, cause)?;
        Ok(StopSubmitted::Accepted(stop.id))
    }

    fn stop_check(&self, req: &StopRequest) -> Option<RejectReason> {
        let Some(acct) = self.ledger().account(req.account) else {
            return Some(RejectReason::UnknownAccount);
        };
        if acct.liquidating.is_some() {
            return Some(RejectReason::Liquidating);
        }
        if !req.qty.is_positive() {
            return Some(RejectReason::BadQuantity);
        }
        if !req.trigger.is_positive() {
            return Some(RejectReason::BadPrice);
        }
        if self.cfg.liquidation.preset == VenuePreset::Hyperliquid && req.source != TriggerSource::Mark {
            return Some(RejectReason::TriggerSourceUnsupported);
        }
        let held = acct.position.qty;
        if req.reduce_only && held.0.signum() != -req.side.sign() {
            return Some(RejectReason::NothingToReduce);
        }
        let probe = NewStop {
            id: StopId(0),
            owner: req.account,
            side: req.side,
            kind: req.kind,
            source: req.source,
            trigger: req.trigger,
            qty: req.qty,
            reduce_only: req.reduce_only,
        };
        probe.is_due(self.state.trigger_price(req.source)).then_some(RejectReason::WouldTriggerImmediately)
    }

    /// Cancels a pending stop of `account`. Returns false if there is no such stop.
    pub fn cancel_stop(&mut self, account: AccountId, id: StopId, cause: Option<Seq>) -> Result<bool> {
        if self.state.stops().get(id).is_none_or(|s| s.owner != account) {
            return Ok(false);
        }
        self.emit(Event::StopCancelled { stop: id, account, reason: CancelReason::Requested }, cause)?;
        Ok(true)
    }

    /// Cancels every pending stop of an account the engine has just taken over.
    pub(super) fn cancel_stops_for_liquidation(&mut self, account: AccountId, cause: Seq) -> Result<()> {
        if self.state.stops().is_empty() {
            return Ok(());
        }
        let ids: Vec<StopId> = self.state.stops().stops_of(account).map(|s| s.id).collect();
        for stop in ids {
            let ev = Event::StopCancelled { stop, account, reason: CancelReason::Liquidation };
            self.emit(ev, Some(cause))?;
        }
        Ok(())
    }

    /// Triggers the stops the last and mark prices have reached, in bounded rounds (see the
    /// module's docs); returns how many triggered. Free when no stop is pending; a trigger's own
    /// market order does not start another check (its round's caller goes on).
    pub fn trigger_stops(&mut self) -> Result<usize> {
        if self.state.stops().is_empty() || self.triggering_stops {
            return Ok(0);
        }
        self.triggering_stops = true;
        let result = self.stop_rounds();
        self.triggering_stops = false;
        result
    }

    fn stop_rounds(&mut self) -> Result<usize> {
        let mut due = std::mem::take(&mut self.due_stops);
        let mut total = 0;
        for _ in 0..self.cfg.max_stop_rounds.max(1) {
            due.clear();
            let (last, mark) = (
                self.state.trigger_price(TriggerSource::Last),
                self.state.trigger_price(TriggerSource::Mark),
            );
            self.state.stops().due(last, mark, &mut due);
            if due.is_empty() {
                break;
            }
            for &id in &due {
                // A stop reached at the round's start may since have been cancelled (its owner
                // taken over by a fill beyond bankruptcy) or left behind by a price that turned.
                let Some(&stop) = self.state.stops().get(id) else { continue };
                let price = self.state.trigger_price(stop.source);
                if !stop.is_due(price) {
                    continue;
                }
                let cause = match stop.source {
                    TriggerSource::Last => self.last_trade,
                    TriggerSource::Mark => self.mark_update,
                };
                let triggered = self.emit(Event::StopTriggered { stop, price }, cause)?;
                let req = OrderRequest {
                    account: stop.owner,
                    side: stop.side,
                    kind: OrderKind::Market,
                    price: Price::ZERO,
                    qty: stop.qty,
                    reduce_only: stop.reduce_only,
                };
                self.submit(req, Some(triggered))?;
                total += 1;
            }
        }
        self.due_stops = due;
        Ok(total)
    }

    /// The pending stops as a map: (side of the stops, bucket start, Σ trigger notional in
    /// micro-USD), by side then price, in the liquidation map's buckets.
    pub fn stop_map(&self) -> impl Iterator<Item = (Side, Price, i128)> + '_ {
        let value = self.cfg.instrument.tick_lot_value() as i128;
        self.state.stops().map().map(move |(side, bucket, tick_lots)| (side, bucket, tick_lots * value))
    }
}
