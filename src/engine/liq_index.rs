//! The liquidation-price index: every open position's liquidation price, per side, sorted, so the
//! accounts a mark price breaches are found in O(log n + k) and never by scanning all accounts.
//! It also keeps the liquidation map (notional per price bucket) up to date as positions change,
//! which is what heatmaps draw and hunters read.

use crate::book::AccountId;
use crate::units::{Money, Price, Side};
use std::collections::{BTreeMap, BTreeSet};

/// Where one account would be liquidated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiqEntry {
    /// The side of the position (`Buy` = long).
    pub side: Side,
    pub price: Price,
    /// Notional at the liquidation price, in micro-USD.
    pub notional: Money,
}

/// Liquidation prices by side, and the liquidation map bucketed by price.
#[derive(Clone, Debug)]
pub struct LiquidationIndex {
    longs: BTreeSet<(Price, AccountId)>,
    shorts: BTreeSet<(Price, AccountId)>,
    entries: Vec<Option<LiqEntry>>,
    bucket_ticks: i64,
    /// (side, bucket start) → Σ notional.
    map: BTreeMap<(Side, Price), i128>,
    /// The highest long and lowest short liquidation price, cached so that a tick in which the
    /// mark breaches nobody costs O(1) and not two descents of million-entry trees.
    long_top: Option<Price>,
    short_bottom: Option<Price>,
}

impl LiquidationIndex {
    /// `bucket_ticks` is the width of a liquidation-map bucket (at least 1).
    pub fn new(bucket_ticks: i64) -> LiquidationIndex {
        LiquidationIndex {
            longs: BTreeSet::new(),
            shorts: BTreeSet::new(),
            entries: Vec::new(),
            bucket_ticks: bucket_ticks.max(1),
            map: BTreeMap::new(),
            long_top: None,
            short_bottom: None,
        }
    }

    pub fn len(&self) -> usize {
        self.longs.len() + self.shorts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, account: AccountId) -> Option<LiqEntry> {
        self.entries.get(account.0 as usize).copied().flatten()
    }

    /// Sets (or with `None` clears) an account's liquidation price.
    pub fn set(&mut self, account: AccountId, entry: Option<LiqEntry>) {
        let slot = account.0 as usize;
        if slot >= self.entries.len() {
            if entry.is_none() {
                return;
            }
            self.entries.resize(slot + 1, None);
        }
        if self.entries[slot] == entry {
            return;
        }
        if let Some(old) = self.entries[slot].take() {
            self.side_mut(old.side).remove(&(old.price, account));
            self.add_to_map(old, -1);
            match old.side {
                Side::Buy if self.long_top == Some(old.price) => {
                    self.long_top = self.longs.last().map(|&(p, _)| p)
                }
                Side::Sell if self.short_bottom == Some(old.price) => {
                    self.short_bottom = self.shorts.first().map(|&(p, _)| p)
                }
                _ => {}
            }
        }
        if let Some(new) = entry {
            self.side_mut(new.side).insert((new.price, account));
            self.add_to_map(new, 1);
            match new.side {
                Side::Buy => self.long_top = self.long_top.max(Some(new.price)),
                Side::Sell => {
                    self.short_bottom = Some(self.short_bottom.map_or(new.price, |p| p.min(new.price)))
                }
            }
        }
        self.entries[slot] = entry;
    }

    fn side_mut(&mut self, side: Side) -> &mut BTreeSet<(Price, AccountId)> {
        match side {
            Side::Buy => &mut self.longs,
            Side::Sell => &mut self.shorts,
        }
    }

    fn bucket(&self, price: Price) -> Price {
        Price(price.0.div_euclid(self.bucket_ticks) * self.bucket_ticks)
    }

    fn add_to_map(&mut self, e: LiqEntry, sign: i128) {
        let key = (e.side, self.bucket(e.price));
        let v = self.map.entry(key).or_insert(0);
        *v += sign * e.notional.0 as i128;
        if *v == 0 {
            self.map.remove(&key);
        }
    }

    /// Accounts whose liquidation price the mark has reached: longs with price ≥ mark, most
    /// breached first, then shorts with price ≤ mark, most breached first.
    pub fn breached(&self, mark: Price, out: &mut Vec<AccountId>) {
        if self.long_top.is_some_and(|p| p >= mark) {
            out.extend(self.longs.range((mark, AccountId(0))..).rev().map(|&(_, a)| a));
        }
        if self.short_bottom.is_some_and(|p| p <= mark) {
            out.extend(self.shorts.range(..=(mark, AccountId(u32::MAX))).map(|&(_, a)| a));
        }
    }

    /// [`LiquidationIndex::breached`] without the cached frontier, for tests.
    #[cfg(test)]
    fn breached_by_search(&self, mark: Price, out: &mut Vec<AccountId>) {
        out.extend(self.longs.range((mark, AccountId(0))..).rev().map(|&(_, a)| a));
        out.extend(self.shorts.range(..=(mark, AccountId(u32::MAX))).map(|&(_, a)| a));
    }

    /// The nearest long liquidation price at or below `price`, and the nearest short one at or
    /// above it.
    pub fn nearest(&self, price: Price) -> (Option<Price>, Option<Price>) {
        let long = self.longs.range(..=(price, AccountId(u32::MAX))).next_back().map(|&(p, _)| p);
        let short = self.shorts.range((price, AccountId(0))..).next().map(|&(p, _)| p);
        (long, short)
    }

    /// Liquidation notional of `side` with liquidation prices in `[lo, hi]` (bucket resolution:
    /// buckets are counted whole when their start lies in the range).
    pub fn notional_between(&self, side: Side, lo: Price, hi: Price) -> i128 {
        if lo > hi {
            return 0;
        }
        self.map.range((side, self.bucket(lo))..=(side, self.bucket(hi))).map(|(_, v)| *v).sum()
    }

    /// The liquidation map: (side, bucket start, Σ notional), by side then price.
    pub fn map(&self) -> impl Iterator<Item = (Side, Price, i128)> + '_ {
        self.map.iter().map(|(&(s, p), &v)| (s, p, v))
    }

    pub fn bucket_ticks(&self) -> i64 {
        self.bucket_ticks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The cached frontier never hides a breach: the fast path agrees with a plain search
        /// after any sequence of moves and removals.
        #[test]
        fn frontier_agrees_with_search(
            ops in prop::collection::vec((0u32..20, prop::option::of((any::<bool>(), 900i64..1_100))), 1..200),
            marks in prop::collection::vec(850i64..1_150, 1..20),
        ) {
            let mut ix = LiquidationIndex::new(10);
            for (account, entry) in ops {
                let entry = entry.map(|(long, price)| LiqEntry {
                    side: if long { Side::Buy } else { Side::Sell },
                    price: Price(price),
                    notional: Money(1),
                });
                ix.set(AccountId(account), entry);
                for &m in &marks {
                    let (mut fast, mut slow) = (Vec::new(), Vec::new());
                    ix.breached(Price(m), &mut fast);
                    ix.breached_by_search(Price(m), &mut slow);
                    prop_assert_eq!(fast, slow);
                }
            }
        }
    }

    fn e(side: Side, price: i64, notional: i64) -> Option<LiqEntry> {
        Some(LiqEntry { side, price: Price(price), notional: Money(notional) })
    }

    #[test]
    fn breached_finds_exactly_the_reached_accounts() {
        let mut ix = LiquidationIndex::new(100);
        ix.set(AccountId(0), e(Side::Buy, 900, 5));
        ix.set(AccountId(1), e(Side::Buy, 950, 7));
        ix.set(AccountId(2), e(Side::Sell, 1_100, 3));
        ix.set(AccountId(3), e(Side::Sell, 1_050, 2));
        let mut out = Vec::new();
        ix.breached(Price(1_000), &mut out);
        assert!(out.is_empty());
        ix.breached(Price(950), &mut out);
        assert_eq!(out, [AccountId(1)]);
        out.clear();
        ix.breached(Price(1_100), &mut out);
        assert_eq!(out, [AccountId(3), AccountId(2)]);
        out.clear();
        ix.breached(Price(800), &mut out);
        assert_eq!(out, [AccountId(1), AccountId(0)]);
        assert_eq!(ix.nearest(Price(1_000)), (Some(Price(950)), Some(Price(1_050))));
        ix.set(AccountId(1), None);
        out.clear();
        ix.breached(Price(900), &mut out);
        assert_eq!(out, [AccountId(0)], "the frontier falls back to the next long");
    }

    #[test]
    fn moving_and_clearing_keeps_the_map_exact() {
        let mut ix = LiquidationIndex::new(100);
        ix.set(AccountId(4), e(Side::Sell, 1_120, 10));
        ix.set(AccountId(5), e(Side::Sell, 1_180, 20));
        assert_eq!(ix.notional_between(Side::Sell, Price(1_100), Price(1_199)), 30);
        ix.set(AccountId(4), e(Side::Sell, 1_250, 10));
        assert_eq!(
            ix.map().collect::<Vec<_>>(),
            [(Side::Sell, Price(1_100), 20), (Side::Sell, Price(1_200), 10)]
        );
        ix.set(AccountId(5), None);
        ix.set(AccountId(4), None);
        ix.set(AccountId(99), None);
        assert!(ix.is_empty());
        assert_eq!(ix.map().count(), 0);
        let mut out = Vec::new();
        ix.breached(Price(5_000), &mut out);
        assert!(out.is_empty());
    }
}
