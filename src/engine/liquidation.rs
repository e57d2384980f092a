//! Liquidation, in the venue's order of resort: accounts the mark breaches are taken over and
//! their orders cancelled; a large position may first be cut to a lower tier; then the venue's
//! chain (see [`VenuePreset`]) closes what it can in the market, the insurance fund takes over
//! what its cap and balance allow at the bankruptcy price, and only the rest is
//! auto-deleveraged. The fund then offloads its position onto the book gradually. A fill beyond
//! an account's own bankruptcy takes the same chain.

use super::exchange::{Exchange, Result};
use crate::book::{AccountId, NewOrder, OrderFlags, OrderKind};
use crate::events::{CancelReason, Event, Seq, TriggerReason};
use crate::ledger::Position;
use crate::margin;
use crate::units::{Money, Price, Qty, RATE_SCALE, Side};
use crate::venue::VenuePreset;

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
    /// orders move last, the mark is refreshed (stamped with the round) and the stops the prices
    /// reached trigger, and newly breached accounts go next.
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
            cause = self.refresh_mark(None)?;
        }
        self.refresh_liquidation_index()?;
        Ok(total)
    }

    fn liquidate(&mut self, a: AccountId, cause: Seq) -> Result<()> {
        let Some(t) = self.take_over(a, TriggerReason::Maintenance, cause)? else { return Ok(()) };
        if self.cut_to_lower_tier(a, &t)? {
            return Ok(());
        }
        self.close_by_venue_rules(a, t)
    }

    /// Partial liquidation (Bybit/OKX risk-limit style, when the venue sets a tier): a position
    /// above that tier is first cut to the tier's notional cap by an order limited at the
    /// bankruptcy price. If that restores maintenance at the mark, the liquidation ends there
    /// (`true`), the account keeping the rest.
    fn cut_to_lower_tier(&mut self, a: AccountId, t: &TakeOver) -> Result<bool> {
        let Some(tier) = self.cfg.partial_liquidation_tier.and_then(|i| self.cfg.tiers.tiers().get(i)) else {
            return Ok(false);
        };
        let inst = self.cfg.instrument;
        let p = t.position;
        let value_per_lot = inst.notional(t.mark, Qty(1))?.0.max(1);
        let keep = Qty(tier.notional_cap.0 / value_per_lot);
        if !keep.is_positive() || keep >= p.qty.abs() {
            return Ok(false);
        }
        let close_side = if p.qty.is_positive() { Side::Sell } else { Side::Buy };
        let cut = Qty(p.qty.abs().0 - keep.0);
        self.liquidation_order(a, close_side, cut, OrderKind::Ioc, t.bankruptcy, t.seq)?;
        let now = self.position_of(a);
        let mm = margin::maintenance_margin_tiered(&inst, &self.cfg.tiers, now.qty, t.mark)?;
        let eq = now.margin.checked_add(margin::unrealized_pnl(&inst, now.qty, now.cost, t.mark)?)?;
        if now.qty.is_zero() || eq <= mm || now.qty == p.qty {
            return Ok(false);
        }
        self.end_partially(a, t)?;
        Ok(true)
    }

    /// Ends a liquidation with the account keeping what is left of its position: only the
    /// clearance fee on what was closed goes to the fund.
    fn end_partially(&mut self, a: AccountId, t: &TakeOver) -> Result<()> {
        let inst = self.cfg.instrument;
        let now = self.position_of(a);
        let closed = t.position.qty.checked_sub(now.qty)?;
        let fee = margin::fee(inst.notional(t.mark, closed.abs())?, self.cfg.liquidation_fee)?
            .min(now.margin.max(Money::ZERO));
        let ev =
            Event::Liquidated { account: a, closed, mark: t.mark, fee, insurance_delta: fee, partial: true };
        self.emit(ev, Some(t.seq))?;
        Ok(())
    }

    /// The venue's chain of resort for what is left of a taken-over position (see
    /// [`VenuePreset`]).
    fn close_by_venue_rules(&mut self, a: AccountId, t: TakeOver) -> Result<()> {
        let close_side = if t.position.qty.is_positive() { Side::Sell } else { Side::Buy };
        let left = self.position_of(a).qty.abs();
        match self.cfg.liquidation.preset {
            VenuePreset::Binance => {
                if left.is_positive() {
                    self.liquidation_order(a, close_side, left, OrderKind::Ioc, t.bankruptcy, t.seq)?;
                }
            }
            // The liquidation engine takes the position over at once.
            VenuePreset::Bybit => {}
            VenuePreset::Hyperliquid => {
                if left.is_positive() {
                    self.liquidation_order(a, close_side, left, OrderKind::Market, Price::ZERO, t.seq)?;
                }
                let now = self.position_of(a);
                if !now.qty.is_zero() && !self.below_backstop(&now, t.mark)? {
                    // Not deep enough for the backstop: the account keeps the rest for now.
                    return self.end_partially(a, &t);
                }
            }
        }
        self.resolve(a, t)
    }

    /// Hyperliquid's backstop condition: equity below the set share of maintenance margin.
    fn below_backstop(&self, p: &Position, mark: Price) -> Result<bool> {
        let inst = self.cfg.instrument;
        let mm = margin::maintenance_margin_tiered(&inst, &self.cfg.tiers, p.qty, mark)?;
        let eq = p.margin.checked_add(margin::unrealized_pnl(&inst, p.qty, p.cost, mark)?)?;
        let threshold = mm.0 as i128 * self.cfg.liquidation.backstop_below_maintenance.0 as i128;
        Ok((eq.0 as i128) * (RATE_SCALE as i128) < threshold)
    }

    /// What the market did not close: the insurance fund takes over as much as its position cap
    /// and balance allow, at the bankruptcy price; only the rest is auto-deleveraged. Then the
    /// account's margin settles with the fund.
    fn resolve(&mut self, a: AccountId, t: TakeOver) -> Result<()> {
        let left = self.position_of(a).qty;
        if !left.is_zero() {
            let take = self.fund_room(left)?;
            if take.is_positive() {
                self.emit(
                    Event::InsuranceTakeover { account: a, qty: take, price: t.bankruptcy },
                    Some(t.seq),
                )?;
            }
            self.auto_deleverage(a, t.bankruptcy, t.seq)?;
        }
        let inst = self.cfg.instrument;
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

    /// How much of a position of `left` lots the fund may take over now: nothing if it is empty
    /// (or, Bybit, in a drawdown beyond its threshold); else up to where its net position's
    /// notional at the mark reaches its cap share of its balance.
    fn fund_room(&self, left: Qty) -> Result<Qty> {
        let rules = &self.cfg.liquidation;
        let balance = self.ledger().insurance_fund();
        if !balance.is_positive() || self.fund_peak.in_drawdown(balance, rules.fund_drawdown_adl) {
            return Ok(Qty::ZERO);
        }
        let per_lot = self.cfg.instrument.notional(self.mark, Qty(1))?.0.max(1) as i128;
        let cap_lots = balance.0 as i128 * rules.fund_position_cap.0 as i128 / RATE_SCALE as i128 / per_lot;
        let held_same_way = self.ledger().insurance_position().qty.0 as i128 * left.0.signum() as i128;
        let room = (cap_lots - held_same_way).clamp(0, left.abs().0 as i128);
        Ok(Qty(room as i64))
    }

    fn position_of(&self, a: AccountId) -> Position {
        self.ledger().account(a).map(|x| x.position).unwrap_or_default()
    }

    /// The engine takes an account over: records the trigger and cancels its orders and stops.
    /// `None` if it is flat or already taken over.
    fn take_over(&mut self, a: AccountId, reason: TriggerReason, cause: Seq) -> Result<Option<TakeOver>> {
        let Some(acct) = self.ledger().account(a).copied() else { return Ok(None) };
        let p = acct.position;
        if p.qty.is_zero() || acct.liquidating.is_some() {
            return Ok(None);
        }
        let inst = self.cfg.instrument;
        let mark = self.mark;
        let maintenance = margin::maintenance_margin_tiered(&inst, &self.cfg.tiers, p.qty, mark)?;
        // What backs the position: its margin, or a cross account's whole wallet (which the
        // trigger moves into the margin, so from here on the margin is all of it).
        let wallet = acct.wallet();
        let equity = wallet.checked_add(margin::unrealized_pnl(&inst, p.qty, p.cost, mark)?)?;
        // From the account as it is now, not the index's copy: fills earlier in this round may
        // have moved its margin since the index was last refreshed.
        let liquidation_price = self.liq_entry(&acct)?.map(|e| e.price).unwrap_or(mark);
        let bankruptcy = margin::bankruptcy_price(&inst, p.qty, p.cost, wallet.max(Money::ZERO))?;
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
        self.cancel_stops_for_liquidation(a, seq)?;
        Ok(Some(TakeOver { seq, mark, position: p, bankruptcy }))
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
            self.close_by_venue_rules(a, t)?;
        }
        Ok(())
    }

    /// A liquidation order for `qty` lots of `a`'s position: an IOC limited at `limit` (the
    /// bankruptcy price: it never fills worse) or a market order.
    fn liquidation_order(
        &mut self,
        a: AccountId,
        side: Side,
        qty: Qty,
        kind: OrderKind,
        limit: Price,
        cause: Seq,
    ) -> Result<()> {
        let order = NewOrder {
            id: self.state.next_order_id(),
            owner: a,
            side,
            kind,
            price: if kind == OrderKind::Market { Price::ZERO } else { limit },
            qty,
            flags: OrderFlags { reduce_only: true, liquidation: true },
        };
        self.place(order, Some(cause))?;
        Ok(())
    }

    /// The insurance fund works off what it took over: an IOC for the larger of its
    /// participation in the others' volume of the last minute and its minimum share of the
    /// position a minute (scaled to one tick), limited at its slippage bound from the index —
    /// not from the mark or last price, which its own selling would drag along. Once a tick.
    pub fn offload_insurance(&mut self) -> Result<()> {
        let held = self.ledger().insurance_position().qty;
        if held.is_zero() {
            return Ok(());
        }
        let rules = &self.cfg.liquidation;
        let scale = RATE_SCALE as i128;
        let by_volume = self.volume.last_minute() as i128 * rules.offload_participation.0 as i128 / scale;
        let by_position = held.abs().0 as i128 * rules.offload_per_minute.0 as i128 / scale;
        let per_minute = by_volume.max(by_position);
        let per_tick = ((per_minute * self.cfg.tick_secs as i128 + 59) / 60).max(1);
        let qty = Qty(per_tick.min(held.abs().0 as i128) as i64);
        let side = if held.is_positive() { Side::Sell } else { Side::Buy };
        let slip = self.index.0 as i128 * rules.offload_slippage.0 as i128 / scale;
        let limit = match side {
            Side::Sell => Price((self.index.0 as i128 - slip).max(1) as i64),
            Side::Buy => Price((self.index.0 as i128 + slip) as i64),
        };
        let order = NewOrder {
            id: self.state.next_order_id(),
            owner: AccountId::INSURANCE_FUND,
            side,
            kind: OrderKind::Ioc,
            price: limit,
            qty,
            flags: OrderFlags { reduce_only: true, liquidation: false },
        };
        let (filled, _) = self.place(order, None)?;
        if filled.is_positive() {
            self.trigger_stops()?;
        }
        Ok(())
    }
}
