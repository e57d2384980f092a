//! Liquidation: accounts the mark breaches are taken over, their orders cancelled, and their
//! positions sold into the book by an IOC whose limit keeps the loss within the insurance fund;
//! what the book cannot take goes to auto-deleveraging. Large positions may first be cut to a
//! lower tier. A fill beyond an account's own bankruptcy takes the same path.

use super::exchange::{Exchange, Result};
use crate::book::{AccountId, NewOrder, OrderFlags, OrderKind};
use crate::events::{CancelReason, Event, Seq, TriggerReason};
use crate::ledger::Position;
use crate::margin;
use crate::units::{Money, Price, Qty, Side};

/// An account the engine has taken over: the trigger event, the mark then, the position then,
/// and its bankruptcy price.
#[derive(Clone, Copy, Debug)]
pub(super) struct TakeOver {
    seq: Seq,
    mark: Price,
    position: Position,
    bankruptcy: Price,
}

impl Exchange {
    /// Liquidates every account the mark has reached, in bounded rounds: each round's forced
    /// orders move last, the mark is refreshed (stamped with the round), and newly breached
    /// accounts go next.
    pub fn run_liquidations(&mut self, mark_seq: Seq) -> Result<usize> {
        let mut total = 0;
        let mut cause = mark_seq;
        for round in 1..=self.cfg.max_liquidation_rounds.max(1) {
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
            self.round = round;
            cause = self.refresh_mark()?;
        }
        self.refresh_liquidation_index()?;
        Ok(total)
    }

    fn liquidate(&mut self, a: AccountId, cause: Seq) -> Result<()> {
        let Some(t) = self.take_over(a, TriggerReason::Maintenance, cause)? else { return Ok(()) };
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
                let now = self.position_of(a);
                let mm = margin::maintenance_margin_tiered(&inst, &self.cfg.tiers, now.qty, t.mark)?;
                let eq = now.margin.checked_add(margin::unrealized_pnl(&inst, now.qty, now.cost, t.mark)?)?;
                let closed = p.qty.checked_sub(now.qty)?;
                if !now.qty.is_zero() && eq > mm && closed.is_positive() == p.qty.is_positive() {
                    let closed_value = inst.notional(t.mark, closed.abs())?;
                    let fee =
                        margin::fee(closed_value, self.cfg.liquidation_fee)?.min(now.margin.max(Money::ZERO));
                    let ev = Event::Liquidated {
                        account: a,
                        closed,
                        mark: t.mark,
                        fee,
                        insurance_delta: fee,
                        partial: true,
                    };
                    self.emit(ev, Some(t.seq))?;
                    return Ok(());
                }
            }
        }
        self.close_out(a, t)
    }

    fn position_of(&self, a: AccountId) -> Position {
        self.ledger().account(a).map(|x| x.position).unwrap_or_default()
    }

    /// The engine takes an account over: records the trigger and cancels its orders. `None` if
    /// it is flat or already taken over.
    fn take_over(&mut self, a: AccountId, reason: TriggerReason, cause: Seq) -> Result<Option<TakeOver>> {
        let Some(acct) = self.ledger().account(a).copied() else { return Ok(None) };
        let p = acct.position;
        if p.qty.is_zero() || acct.liquidating.is_some() {
            return Ok(None);
        }
        let inst = self.cfg.instrument;
        let mark = self.mark;
        let maintenance = margin::maintenance_margin_tiered(&inst, &self.cfg.tiers, p.qty, mark)?;
        let equity = p.margin.checked_add(margin::unrealized_pnl(&inst, p.qty, p.cost, mark)?)?;
        let liquidation_price = self.liq.get(a).map(|e| e.price).unwrap_or(mark);
        let bankruptcy = margin::bankruptcy_price(&inst, p.qty, p.cost, p.margin.max(Money::ZERO))?;
        let seq = self.emit(
            Event::LiquidationTriggered {
                account: a,
                reason,
                mark,
                position: p.qty,
                maintenance,
                equity,
                liquidation_price,
                bankruptcy_price: bankruptcy,
            },
            Some(cause),
        )?;
        let orders: Vec<_> = self.book().orders_of(a).map(|o| (o.id, o.qty)).collect();
        for (order, remaining) in orders {
            let ev =
                Event::OrderCancelled { order, account: a, remaining, reason: CancelReason::Liquidation };
            self.emit(ev, Some(seq))?;
        }
        Ok(Some(TakeOver { seq, mark, position: p, bankruptcy }))
    }

    /// Closes what is left of a taken-over position (an IOC within the fund's reach, then ADL)
    /// and settles its margin with the insurance fund.
    fn close_out(&mut self, a: AccountId, t: TakeOver) -> Result<()> {
        let inst = self.cfg.instrument;
        let close_side = if t.position.qty.is_positive() { Side::Sell } else { Side::Buy };
        let left = self.position_of(a).qty.abs();
        if left.is_positive() {
            self.liquidation_order(a, close_side, left, t.bankruptcy, left, t.seq)?;
        }
        self.auto_deleverage(a, t.bankruptcy, t.seq)?;
        let now = self.position_of(a);
        let fee = margin::fee(inst.notional(t.mark, t.position.qty.abs())?, self.cfg.liquidation_fee)?
            .min(now.margin.max(Money::ZERO));
        let ev = Event::Liquidated {
            account: a,
            closed: t.position.qty,
            mark: t.mark,
            fee,
            insurance_delta: now.margin,
            partial: false,
        };
        self.emit(ev, Some(t.seq))?;
        Ok(())
    }

    /// Puts an account whose fill would overdraw it on the bankruptcy path (see
    /// `settle_fill`); it is closed out when the current order is done.
    pub(super) fn take_over_bankrupt(&mut self, a: AccountId, cause: Seq) -> Result<()> {
        if let Some(t) = self.take_over(a, TriggerReason::BankruptFill, cause)? {
            self.bankrupt.push((a, t));
        }
        Ok(())
    }

    pub(super) fn close_out_bankrupt(&mut self) -> Result<()> {
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
        let per_lot_ticks = self.ledger().insurance_fund().0 as i128 / (position.0.max(1) as i128 * tlv);
        let slack = i64::try_from(per_lot_ticks).unwrap_or(i64::MAX);
        let limit = match side {
            Side::Sell => Price(bankruptcy.0.saturating_sub(slack).max(1)),
            Side::Buy => Price(bankruptcy.0.saturating_add(slack)),
        };
        let order = NewOrder {
            id: self.state.next_order_id(),
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
}
