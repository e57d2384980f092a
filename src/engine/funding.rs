//! Funding: at the end of each interval the rate is fixed from the premium index (impact bid and
//! ask against the index, clamp formula), payers pay at the mark, receivers are paid pro rata
//! to what was collected, and the rounding dust goes to the insurance fund.

use super::exchange::{Exchange, Result};
use crate::book::{AccountId, OrderBook};
use crate::events::{Event, InsuranceReason};
use crate::margin;
use crate::units::{Money, Price, Qty, Rate, Side};

impl Exchange {
    /// Settles funding if an interval ends at this tick: fixes the rate from the premium index,
    /// collects from payers (capped at their margin), pays receivers pro rata to what was
    /// collected, and sends the rounding remainder to the insurance fund. Returns the rate.
    pub fn settle_funding_if_due(&mut self) -> Result<Option<Rate>> {
        let interval = self.cfg.funding_interval_secs.max(1);
        if self.elapsed_secs == 0 || !self.elapsed_secs.is_multiple_of(interval) {
            return Ok(None);
        }
        let inst = self.cfg.instrument;
        let mid = self.book().mid().unwrap_or(self.last);
        let impact_qty = Qty((self.cfg.impact_notional.0 / inst.notional(mid, Qty(1))?.0.max(1)).max(1));
        let vwap = |side: Side, book: &OrderBook| {
            book.impact_price(side, impact_qty).map(|(_, v)| Price((v / impact_qty.0 as i128) as i64))
        };
        let impact_bid = vwap(Side::Sell, self.book()).unwrap_or(self.index);
        let impact_ask = vwap(Side::Buy, self.book()).unwrap_or(self.index);
        let premium = margin::premium_index(impact_bid, impact_ask, self.index)?;
        let hours = u32::try_from(interval / 3600).unwrap_or(8).clamp(1, 24);
        let rate = margin::funding_rate(
            premium,
            self.cfg.funding_interest_8h,
            self.cfg.funding_clamp,
            hours,
            self.cfg.funding_cap,
        )?;
        let set = self.emit(Event::FundingRateSet { rate, premium, mark: self.mark }, None)?;
        if rate.is_zero() {
            return Ok(Some(rate));
        }
        let mut payers = Vec::new();
        let mut receivers = Vec::new();
        for (i, acct) in self.ledger().accounts().iter().enumerate() {
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
            self.emit(Event::FundingPaid { account, amount }, Some(set))?;
        }
        for (account, amount) in receivers {
            let paid =
                if owed <= collected { amount.0 } else { (amount.0 as i128 * collected / owed) as i64 };
            if paid > 0 {
                self.emit(Event::FundingPaid { account, amount: Money(paid) }, Some(set))?;
            }
        }
        let pool = self.ledger().funding_pool();
        if !pool.is_zero() {
            let ev = Event::InsuranceFundChanged { delta: pool, reason: InsuranceReason::FundingRemainder };
            self.emit(ev, Some(set))?;
        }
        Ok(Some(rate))
    }
}
