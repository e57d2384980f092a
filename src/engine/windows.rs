//! Rolling windows over ticks that the liquidation chain needs: the traded volume of the last
//! minute (the fund's offload participation) and the fund's highest balance of the last hours
//! (Bybit's drawdown rule). O(1) amortised per tick.

use crate::units::{Money, RATE_SCALE, Rate};
use std::collections::VecDeque;

/// Σ of a per-tick quantity over the last `ticks` ticks (the current one included).
#[derive(Clone, Debug)]
pub(super) struct RollingSum {
    per_tick: VecDeque<i64>,
    sum: i64,
    ticks: usize,
}

impl RollingSum {
    pub(super) fn new(ticks: usize) -> RollingSum {
        RollingSum { per_tick: VecDeque::from([0]), sum: 0, ticks: ticks.max(1) }
    }

    /// Adds to the current tick.
    pub(super) fn add(&mut self, v: i64) {
        if let Some(last) = self.per_tick.back_mut() {
            *last = last.saturating_add(v);
        }
        self.sum = self.sum.saturating_add(v);
    }

    /// Starts a new tick, forgetting the one that fell out of the window.
    pub(super) fn roll(&mut self) {
        self.per_tick.push_back(0);
        while self.per_tick.len() > self.ticks {
            self.sum -= self.per_tick.pop_front().unwrap_or(0);
        }
    }

    pub(super) fn last_minute(&self) -> i64 {
        self.sum
    }
}

/// The highest value sampled within the last `ticks` ticks (a monotonic queue).
#[derive(Clone, Debug)]
pub(super) struct PeakWindow {
    samples: VecDeque<(u64, Money)>,
    ticks: u64,
}

impl PeakWindow {
    pub(super) fn new(ticks: u64) -> PeakWindow {
        PeakWindow { samples: VecDeque::new(), ticks: ticks.max(1) }
    }

    pub(super) fn sample(&mut self, tick: u64, value: Money) {
        while self.samples.back().is_some_and(|&(_, v)| v <= value) {
            self.samples.pop_back();
        }
        self.samples.push_back((tick, value));
        while self.samples.front().is_some_and(|&(t, _)| t + self.ticks <= tick) {
            self.samples.pop_front();
        }
    }

    pub(super) fn peak(&self) -> Option<Money> {
        self.samples.front().map(|&(_, v)| v)
    }

    /// Whether `now` is more than `threshold` below the window's peak (`None`: never).
    pub(super) fn in_drawdown(&self, now: Money, threshold: Option<Rate>) -> bool {
        match (threshold, self.peak()) {
            (Some(th), Some(peak)) if peak.is_positive() => {
                (peak.0 as i128 - now.0 as i128) * RATE_SCALE as i128 > th.0 as i128 * peak.0 as i128
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rolling_sum_forgets_what_left_the_window() {
        let mut s = RollingSum::new(3);
        for (v, want) in [(5, 5), (1, 6), (2, 8), (0, 3), (0, 2), (0, 0)] {
            s.add(v);
            assert_eq!(s.last_minute(), want);
            s.roll();
        }
    }

    #[test]
    fn the_peak_window_keeps_the_highest_of_the_last_ticks() {
        let mut p = PeakWindow::new(3);
        let m = Money::usd;
        for (tick, v, peak) in [(0, 10, 10), (1, 7, 10), (2, 8, 10), (3, 6, 8), (4, 5, 8), (5, 4, 6)] {
            p.sample(tick, m(v));
            assert_eq!(p.peak(), Some(m(peak)), "tick {tick}");
        }
        // 30% below a peak of 6 is 4.2: 4 is a drawdown beyond it, 4.5 is not.
        assert!(p.in_drawdown(m(4), Some(Rate(30_000_000))));
        assert!(!p.in_drawdown(Money(4_500_000), Some(Rate(30_000_000))));
        assert!(!p.in_drawdown(m(0), None));
    }
}
