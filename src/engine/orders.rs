//! Orders: the pre-trade checks (margin at the tier's leverage cap), placing, amending and
//! cancelling, and settling what the book matched, event by event in the order it happened.

use super::exchange::{Exchange, Result};
use crate::book::{AccountId, Cancelled, Fill, NewOrder, OrderFlags, OrderId, OrderKind};
use crate::events::{CancelReason, Event, RejectReason, Seq};
use crate::margin;
use crate::units::{Money, Price, Qty, RATE_SCALE, Side};

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

/// What became of an order request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    Accepted { id: OrderId, filled: Qty, rested: Qty },
    Rejected(RejectReason),
}

impl Exchange {
    /// Sends an order: checks it (a refusal is recorded as `OrderRejected`), matches it, settles
    /// its fills, and triggers the stops its trades reached. A market order goes to the book
    /// with its protection price (see [`Exchange::protection_price`]): it fills no further from
    /// the mark than the venue's band, and the rest expires.
    pub fn submit(&mut self, req: OrderRequest, cause: Option<Seq>) -> Result<Submitted> {
        let qty = match self.pre_trade_check(&req)? {
            Ok(qty) => qty,
            Err(reason) => {
                let ev = Event::OrderRejected {
                    account: req.account,
                    side: req.side,
                    kind: req.kind,
                    price: req.price,
                    qty: req.qty,
                    reduce_only: req.reduce_only,
                    reason,
                };
                self.emit(ev, cause)?;
                return Ok(Submitted::Rejected(reason));
            }
        };
        let order = NewOrder {
            id: self.state.next_order_id(),
            owner: req.account,
            side: req.side,
            kind: req.kind,
            price: if req.kind == OrderKind::Market { self.protection_price(req.side) } else { req.price },
            qty,
            flags: OrderFlags { reduce_only: req.reduce_only, liquidation: false },
        };
        let (filled, rested) = self.place(order, cause)?;
        if filled.is_positive() {
            self.trigger_stops()?;
        }
        Ok(Submitted::Accepted { id: order.id, filled, rested })
    }

    /// The protection price of an ordinary market order on `side`: the mark moved by the venue's
    /// band (rounded toward the mark, and at least one tick), the furthest it may fill. A venue
    /// without a band (`market_price_band` zero) leaves market orders unlimited
    /// ([`Price::ZERO`], as the liquidation engine's own market orders).
    pub fn protection_price(&self, side: Side) -> Price {
        let band = self.cfg.market_price_band.0 as i128;
        if band <= 0 {
            return Price::ZERO;
        }
        let move_by = (self.mark.0 as i128 * band / RATE_SCALE as i128).min(i64::MAX as i128) as i64;
        match side {
            Side::Buy => Price(self.mark.0.saturating_add(move_by)),
            Side::Sell => Price(self.mark.0.saturating_sub(move_by).max(1)),
        }
    }

    /// The size the order may go to the book with (reduce-only clipped to the position), or why
    /// it may not. New exposure needs its initial margin — at the account's leverage, capped by
    /// the maximum leverage of the tier the resulting position falls in, priced at the worst
    /// fill the book offers within the order's limit — plus the taker fee on the whole order at
    /// the highest price it may trade at. An order that also closes the position (it turns a
    /// long into a short or back) needs, on top, the loss of closing it at the order's limit
    /// that its margin does not cover (Binance's "open loss"): only a fill that reduces a
    /// position may take an account to its bankruptcy path, so one that opens must find the
    /// money there, whatever the book does within the order's limit.
    fn pre_trade_check(&self, req: &OrderRequest) -> Result<std::result::Result<Qty, RejectReason>> {
        let Some(acct) = self.ledger().account(req.account).copied() else {
            return Ok(Err(RejectReason::UnknownAccount));
        };
        if acct.liquidating.is_some() {
            return Ok(Err(RejectReason::Liquidating));
        }
        if !req.qty.is_positive() {
            return Ok(Err(RejectReason::BadQuantity));
        }
        if req.kind != OrderKind::Market && !req.price.is_positive() {
            return Ok(Err(RejectReason::BadPrice));
        }
        let held = acct.position.qty;
        let reducible = if held.0.signum() == -req.side.sign() { held.abs() } else { Qty::ZERO };
        let mut qty = req.qty;
        if req.reduce_only {
            if reducible.is_zero() {
                return Ok(Err(RejectReason::NothingToReduce));
            }
            qty = qty.min(reducible);
        }
        let opening = Qty((qty.0 - reducible.0).max(0));
        if opening.is_positive() {
            let inst = &self.cfg.instrument;
            let book = self.book();
            // The order's limit: its price, a market order's protection price, or none at all.
            let limit = match req.kind {
                OrderKind::Market => match self.protection_price(req.side) {
                    Price::ZERO if req.side == Side::Buy => Price::MAX,
                    Price::ZERO => Price::MIN,
                    p => p,
                },
                _ => req.price,
            };
            let best = book.best(req.side.opposite());
            // The worst fill the book offers now (an order it cannot fill is priced at the best
            // price, or the last trade's when that side is empty).
            let price = match req.kind {
                OrderKind::Market => book
                    .worst_fill(req.side, qty, limit)
                    .unwrap_or_else(|| best.unwrap_or(self.last).max(self.last)),
                _ => req.price,
            };
            // Where it may trade at worst (its limit; without one, the worst fill now) and at
            // the highest price (a buy at its worst, a sell at the best bid it crosses first).
            let bound = if limit == Price::MAX || limit == Price::MIN { price } else { limit };
            let highest = match req.side {
                Side::Buy => bound,
                Side::Sell => best.map_or(bound, |b| b.max(bound)),
            };
            // The tier is that of the whole position the order leaves (as the ledger sizes it).
            let after = held.checked_add(Qty(req.side.sign() * qty.0))?;
            let resulting = inst.notional(price, after.abs())?;
            let leverage = self.ledger().opening_leverage(&acct, resulting);
            let mut needed = margin::initial_margin(inst, opening, price, leverage)?
                .checked_add(margin::fee(inst.notional(highest, qty)?, self.cfg.taker_fee)?)?;
            if reducible.is_positive() {
                // The whole position closes first: its loss at the bound, beyond its margin.
                let realised = inst.notional(bound, held)?.checked_sub(acct.position.cost)?;
                let uncovered = Money((-realised.0).saturating_sub(acct.position.margin.0).max(0));
                needed = needed.checked_add(uncovered)?;
            }
            if acct.balance < needed {
                return Ok(Err(RejectReason::InsufficientMargin));
            }
        }
        Ok(Ok(qty))
    }

    /// Places a checked order and records everything that follows from it.
    pub(super) fn place(&mut self, order: NewOrder, cause: Option<Seq>) -> Result<(Qty, Qty)> {
        let placed = self.emit(Event::OrderPlaced { order }, cause)?;
        let (filled, unfilled) = self.settle_matching(order.flags.liquidation, placed)?;
        self.close_out_bankrupt()?;
        let rested = Qty(order.qty.0 - filled.0 - unfilled.0);
        Ok((filled, rested))
    }

    /// Records what the book did with the order just placed or amended, in the order it did
    /// it: fills, the self-trade cancels between them, the unfilled rest. Returns the filled
    /// size and the unfilled rest that does not rest.
    fn settle_matching(&mut self, liquidation: bool, cause: Seq) -> Result<(Qty, Qty)> {
        let mut fills = std::mem::take(&mut self.fills);
        fills.clear();
        fills.extend_from_slice(self.state.pending_fills());
        let (cancels, at) = self.state.pending_self_trades();
        let self_trades: Vec<(usize, Cancelled)> = at.iter().copied().zip(cancels.iter().copied()).collect();
        let remainder = self.state.pending_remainder();
        let taker = self.state.pending_order();
        let mut next = self_trades.iter().peekable();
        let mut filled = Qty::ZERO;
        for (i, f) in fills.iter().enumerate() {
            while let Some((_, c)) = next.next_if(|(before, _)| *before == i) {
                self.record_self_trade(c, cause)?;
            }
            self.settle_fill(f, liquidation, cause)?;
            filled = filled.checked_add(f.qty)?;
        }
        for (_, c) in next {
            self.record_self_trade(c, cause)?;
        }
        self.fills = fills;
        let mut unfilled = Qty::ZERO;
        if let (Some((remaining, reason)), Some((order, account))) = (remainder, taker) {
            self.emit(Event::OrderCancelled { order, account, remaining, reason }, Some(cause))?;
            unfilled = remaining;
        }
        Ok((filled, unfilled))
    }

    fn record_self_trade(&mut self, c: &Cancelled, cause: Seq) -> Result<()> {
        let ev = Event::OrderCancelled {
            order: c.id,
            account: c.owner,
            remaining: c.remaining,
            reason: CancelReason::SelfTrade,
        };
        self.emit(ev, Some(cause))?;
        Ok(())
    }

    fn settle_fill(&mut self, f: &Fill, liquidation: bool, cause: Seq) -> Result<()> {
        let notional = self.cfg.instrument.notional(f.price, f.qty)?;
        let maker_fee = margin::fee(notional, self.cfg.maker_fee)?;
        // A liquidation pays the clearance fee at the end instead of a taker fee.
        let taker_fee = if liquidation { Money::ZERO } else { margin::fee(notional, self.cfg.taker_fee)? };
        let maker_side = f.taker_side.opposite();
        // A fill that would take an account below zero (its resting order filled beyond its
        // bankruptcy price while the mark lagged) puts that account on the bankruptcy path
        // first: taken over, then closed out against the fund once this order is done.
        for (account, side, fee) in [(f.maker, maker_side, maker_fee), (f.taker, f.taker_side, taker_fee)] {
            let held = self.ledger().account(account).map(|a| (a.position.qty, a.liquidating.is_some()));
            let Some((qty, false)) = held else { continue };
            let reduces_only = qty.0.signum() == -side.sign() && f.qty <= qty.abs();
            if reduces_only && self.ledger().preview_fill(account, side, f.qty, f.price, fee).is_err() {
                self.take_over_bankrupt(account, cause)?;
            }
        }
        let maker_margin = self.ledger().preview_fill(f.maker, maker_side, f.qty, f.price, maker_fee)?;
        let taker_margin = self.ledger().preview_fill(f.taker, f.taker_side, f.qty, f.price, taker_fee)?;
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
            maker_margin,
            taker_margin,
            liquidation,
        };
        self.last_trade = Some(self.emit(ev, Some(cause))?);
        self.last = f.price;
        Ok(())
    }

    /// Cancels a resting order of `account`. Returns false if there is no such order.
    pub fn cancel(&mut self, account: AccountId, id: OrderId, cause: Option<Seq>) -> Result<bool> {
        let remaining = match self.book().order(id) {
            Some(o) if o.owner == account => o.qty,
            _ => return Ok(false),
        };
        let ev = Event::OrderCancelled { order: id, account, remaining, reason: CancelReason::Requested };
        self.emit(ev, cause)?;
        Ok(true)
    }

    /// Moves a resting order of `account` to a new price and size; may trade if it crosses (and
    /// trigger the stops its trades reach).
    /// Returns false if there is no such order or the new size is not positive.
    pub fn amend(
        &mut self,
        account: AccountId,
        id: OrderId,
        price: Price,
        qty: Qty,
        cause: Option<Seq>,
    ) -> Result<bool> {
        match self.book().order(id) {
            Some(o) if o.owner == account && qty.is_positive() && price.is_positive() => {}
            _ => return Ok(false),
        }
        let amended = self.emit(Event::OrderAmended { order: id, account, price, qty }, cause)?;
        let (filled, _) = self.settle_matching(false, amended)?;
        self.close_out_bankrupt()?;
        if filled.is_positive() {
            self.trigger_stops()?;
        }
        Ok(true)
    }
}
