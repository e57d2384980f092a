//! The mark price (Binance): the median of the funding-basis price, the index plus the moving
//! average of (mid − index), and the last price. Liquidation is judged on it, never on last. The
//! tick's price update also takes the funding premium samples that fall in the tick.

use super::exchange::{Exchange, Result};
use super::state::impact_prices;
use crate::events::{Event, PremiumSample, Seq};
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
    /// Advances time by one tick and sets the index: samples the mark's premium, takes the
    /// funding premium samples whose times fall in the tick (one every
    /// [`margin::PREMIUM_SAMPLE_SECS`] of simulated time, all at this tick's book and index), and
    /// recomputes the mark price. Returns the `MarkUpdated` event (round 0), the cause of this
    /// tick's liquidations.
    pub fn update_prices(&mut self, index: Price) -> Result<Seq> {
        let before = self.elapsed_secs;
        self.elapsed_secs += self.cfg.tick_secs;
        self.index = index;
        let mid = self.book().mid().unwrap_or(self.last);
        self.premium.push(mid.0 - index.0);
        self.round = 0;
        let every = margin::PREMIUM_SAMPLE_SECS;
        let samples = self.elapsed_secs / every - before / every;
        let sample = match u32::try_from(samples) {
            Ok(0) => None,
            Ok(samples) => Some(self.premium_sample(samples)?),
            Err(_) => return Err(margin::MarginError::Overflow("premium samples in a tick").into()),
        };
        self.refresh_mark(sample)
    }

    /// The funding premium index now: impact bid and ask against the index.
    fn premium_sample(&self, samples: u32) -> Result<PremiumSample> {
        let (impact_bid, impact_ask) = impact_prices(self.book(), &self.cfg, self.last, self.index)?;
        let premium = margin::premium_index(impact_bid, impact_ask, self.index)?;
        Ok(PremiumSample { impact_bid, impact_ask, premium, samples })
    }

    /// Recomputes the mark from the index, the premium average and the last price, and records
    /// it stamped with the current liquidation round (and, on a tick's price update, the funding
    /// premium `sample`); then triggers the stops the prices have reached (the liquidations of the
    /// round before have moved last, and now the mark).
    pub(super) fn refresh_mark(&mut self, sample: Option<PremiumSample>) -> Result<Seq> {
        let interval = self.cfg.funding_interval_secs.max(1);
        let to_funding = interval - self.elapsed_secs % interval;
        let p1 = margin::funding_basis_price(self.index, self.ledger().funding_rate(), to_funding, interval)?;
        let p2 = Price((self.index.0 + self.premium.average()).max(1));
        self.mark = margin::median3(p1, p2, self.last);
        let ev = Event::MarkUpdated {
            index: self.index,
            mark: self.mark,
            last: self.last,
            round: self.round,
            sample,
        };
        let seq = self.emit(ev, None)?;
        self.mark_update = Some(seq);
        self.trigger_stops()?;
        Ok(seq)
    }
}
