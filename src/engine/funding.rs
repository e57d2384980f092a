//! Funding (Binance): the premium index is sampled every 5 seconds of simulated time (see
//! `update_prices`) and accumulated in the exchange state; at the end of each interval the rate
//! is fixed from the samples' weighted average by the clamp formula, payers pay at the mark
//! (capped at what backs their position), receivers are paid pro rata to what was collected, and
//! the rounding dust goes to the insurance fund.

use super::exchange::{Exchange, Result};
#[cfg(doc)]
use super::state::ExchangeState;
use crate::book::AccountId;
use crate::events::{Event, InsuranceReason};
use crate::margin;
use crate::units::{Money, Rate};

impl Exchange {
    /// The funding rate accrued so far (see [`ExchangeState::funding_rate_accrued`]): what the
    /// current interval's weighted premium average would give if the interval ended now; right
    /// after a settlement, until the next interval's first sample, the rate just fixed.
    pub fn funding_rate_accrued(&self) -> Result<Rate> {
        Ok(self.state.funding_rate_accrued()?)
    }

    /// Settles funding if an interval ends at this tick: fixes the rate from the interval's
    /// weighted premium average, collects from payers (capped at the wallet backing their
    /// position), pays receivers pro rata to what was collected, and sends the rounding remainder
    /// to the insurance fund. Returns the rate.
    pub fn settle_funding_if_due(&mut self) -> Result<Option<Rate>> {
        let interval = self.cfg.funding_interval_secs.max(1);
        if self.elapsed_secs == 0 || !self.elapsed_secs.is_multiple_of(interval) {
            return Ok(None);
        }
        let inst = self.cfg.instrument;
        let samples = *self.state.funding_premium();
        let premium = samples.average()?;
        let rate = self.cfg.funding_rate(premium)?;
        let ev = Event::FundingRateSet { rate, premium, samples: samples.samples(), mark: self.mark };
        let set = self.emit(ev, None)?;
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
                let capped = Money(amount.0.max(-acct.wallet().0.max(0)));
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
