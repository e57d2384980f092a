//! The mark price (Binance): the median of the funding-basis price, the index plus the moving
//! average of (mid − index), and the last price. Liquidation is judged on it, never on last.

use super::exchange::{Exchange, Result};
use crate::events::{Event, Seq};
use crate::margin;
use crate::units::Price;
use std::collections::VecDeque;

/// Moving average of (mid − index), one sample per tick.
#[derive(Clone, Debug, Default)]
pub(super) struct PremiumAverage {
    samples: VecDeque<i64>,
    sum: i128,
    window: usize,
}

impl PremiumAverage {
    pub(super) fn new(window: usize) -> PremiumAverage {
        PremiumAverage { window: window.max(1), ..PremiumAverage::default() }
    }

    fn push(&mut self, premium: i64) {
        self.samples.push_back(premium);
        self.sum += premium as i128;
        while self.samples.len() > self.window {
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

impl Exchange {
    /// Advances time by one tick and sets the index: samples the premium and recomputes the
    /// mark price. Returns the `MarkUpdated` event (round 0), the cause of this tick's
    /// liquidations.
    pub fn update_prices(&mut self, index: Price) -> Result<Seq> {
        self.elapsed_secs += self.cfg.tick_secs;
        self.index = index;
        let mid = self.book().mid().unwrap_or(self.last);
        self.premium.push(mid.0 - index.0);
        self.round = 0;
        self.refresh_mark()
    }

    /// Recomputes the mark from the index, the premium average and the last price, and records
    /// it stamped with the current liquidation round; then triggers the stops the prices have
    /// reached (the liquidations of the round before have moved last, and now the mark).
    pub(super) fn refresh_mark(&mut self) -> Result<Seq> {
        let interval = self.cfg.funding_interval_secs.max(1);
        let to_funding = interval - self.elapsed_secs % interval;
        let p1 = margin::funding_basis_price(self.index, self.ledger().funding_rate(), to_funding, interval)?;
        let p2 = Price((self.index.0 + self.premium.average()).max(1));
        self.mark = margin::median3(p1, p2, self.last);
        let ev =
            Event::MarkUpdated { index: self.index, mark: self.mark, last: self.last, round: self.round };
        let seq = self.emit(ev, None)?;
        self.mark_update = Some(seq);
        self.trigger_stops()?;
        Ok(seq)
    }
}
