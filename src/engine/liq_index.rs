//! The liquidation-price index: every open position's liquidation price, per side, so the
//! accounts a mark price breaches are found in O(k) (plus one bucket) and never by scanning all
//! accounts. It also keeps the liquidation map (notional per price bucket) up to date as
//! positions change, which is what heatmaps draw and hunters read.
//!
//! Both are hashed buckets on the tick grid, so keeping them current costs O(1) amortised per
//! changed account, whatever the number of accounts: an account's entry sits, unsorted, in the
//! bucket of its price (a few ticks wide) and knows its place there, so moving it is a
//! swap-remove and a push. Only the set of non-empty buckets is kept sorted, and it changes only
//! when a bucket empties or fills. The queries that need an order (which accounts a mark
//! breaches, most breached first) sort just what they return.

use crate::book::AccountId;
use crate::book::IdMap;
use crate::units::{Money, Price, Side};
use std::collections::BTreeSet;

/// Where one account would be liquidated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiqEntry {
    /// The side of the position (`Buy` = long).
    pub side: Side,
    pub price: Price,
    /// Notional at the liquidation price, in micro-USD.
    pub notional: Money,
}

/// Index buckets per liquidation-map bucket: small enough that a bucket holds a few dozen
/// accounts at a million of them, so scanning the one a mark falls in is cheap.
const INDEX_BUCKETS_PER_MAP_BUCKET: i64 = 64;

/// Below this many changes at once, [`LiquidationIndex::set_many`] sets them one by one.
const BULK_MIN: usize = 1_024;

/// An account's entry and its position in its bucket.
#[derive(Clone, Copy, Debug, Default)]
struct Indexed {
    entry: Option<LiqEntry>,
    at: u32,
}

/// One side's accounts, bucketed by liquidation price, and its share of the liquidation map.
#[derive(Clone, Debug, Default)]
struct SideIndex {
    /// Index bucket key → slot in `buckets`.
    slots: IdMap,
    /// Unsorted (price, account) of each bucket; a bucket's slot stays once made.
    buckets: Vec<Vec<(Price, AccountId)>>,
    /// Keys of the non-empty buckets, sorted.
    keys: BTreeSet<i64>,
    /// Liquidation-map bucket start → slot in `map`.
    map_slots: IdMap,
    /// (bucket start, Σ notional); zero sums stay as slots and are not listed.
    map: Vec<(Price, i128)>,
    len: usize,
}

impl SideIndex {
    fn bucket(&self, key: i64) -> &[(Price, AccountId)] {
        match self.slots.get(key as u64) {
            Some(slot) => &self.buckets[slot as usize],
            None => &[],
        }
    }

    /// Adds an entry; returns its position in its bucket.
    fn insert(&mut self, key: i64, price: Price, account: AccountId) -> u32 {
        let slot = match self.slots.get(key as u64) {
            Some(slot) => slot as usize,
            None => {
                let slot = self.buckets.len();
                self.buckets.push(Vec::new());
                self.slots.insert(key as u64, slot as u32);
                slot
            }
        };
        let bucket = &mut self.buckets[slot];
        if bucket.is_empty() {
            self.keys.insert(key);
        }
        bucket.push((price, account));
        self.len += 1;
        (bucket.len() - 1) as u32
    }

    /// Removes the entry at `at` of bucket `key`; returns the account moved into its place, if
    /// any (its position is now `at`).
    fn remove(&mut self, key: i64, at: u32) -> Option<AccountId> {
        let slot = self.slots.get(key as u64).expect("an indexed entry has a bucket") as usize;
        let bucket = &mut self.buckets[slot];
        bucket.swap_remove(at as usize);
        self.len -= 1;
        if bucket.is_empty() {
            self.keys.remove(&key);
        }
        bucket.get(at as usize).map(|&(_, a)| a)
    }

    /// Empties the side, keeping its buckets' allocations and map slots (at zero).
    fn clear(&mut self) {
        for b in &mut self.buckets {
            b.clear();
        }
        self.keys.clear();
        for m in &mut self.map {
            m.1 = 0;
        }
        self.len = 0;
    }

    fn add_to_map(&mut self, start: Price, delta: i128) {
        let slot = match self.map_slots.get(start.0 as u64) {
            Some(slot) => slot as usize,
            None => {
                let slot = self.map.len();
                self.map.push((start, 0));
                self.map_slots.insert(start.0 as u64, slot as u32);
                slot
            }
        };
        self.map[slot].1 += delta;
    }

    /// The highest price held, from the highest non-empty bucket.
    fn highest(&self) -> Option<Price> {
        let &key = self.keys.last()?;
        self.bucket(key).iter().map(|&(p, _)| p).max()
    }

    /// The lowest price held, from the lowest non-empty bucket.
    fn lowest(&self) -> Option<Price> {
        let &key = self.keys.first()?;
        self.bucket(key).iter().map(|&(p, _)| p).min()
    }
}

/// Liquidation prices by side, and the liquidation map bucketed by price.
#[derive(Clone, Debug)]
pub struct LiquidationIndex {
    longs: SideIndex,
    shorts: SideIndex,
    /// Per account: its entry, and its position in its bucket (side by side, so that moving an
    /// account touches one cache line of this table, not two).
    accounts: Vec<Indexed>,
    bucket_ticks: i64,
    /// Width of an index bucket, in ticks.
    index_ticks: i64,
    /// The highest long and lowest short liquidation price, so that a tick in which the mark
    /// breaches nobody costs O(1).
    long_top: Option<Price>,
    short_bottom: Option<Price>,
}

impl LiquidationIndex {
    /// `bucket_ticks` is the width of a liquidation-map bucket (at least 1).
    pub fn new(bucket_ticks: i64) -> LiquidationIndex {
        let bucket_ticks = bucket_ticks.max(1);
        LiquidationIndex {
            longs: SideIndex::default(),
            shorts: SideIndex::default(),
            accounts: Vec::new(),
            bucket_ticks,
            index_ticks: (bucket_ticks / INDEX_BUCKETS_PER_MAP_BUCKET).max(1),
            long_top: None,
            short_bottom: None,
        }
    }

    pub fn len(&self) -> usize {
        self.longs.len + self.shorts.len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, account: AccountId) -> Option<LiqEntry> {
        self.accounts.get(account.0 as usize).and_then(|a| a.entry)
    }

    fn key(&self, price: Price) -> i64 {
        price.0.div_euclid(self.index_ticks)
    }

    /// Sets (or with `None` clears) an account's liquidation price.
    pub fn set(&mut self, account: AccountId, entry: Option<LiqEntry>) {
        let slot = account.0 as usize;
        if slot >= self.accounts.len() {
            if entry.is_none() {
                return;
            }
            self.accounts.resize(slot + 1, Indexed::default());
        }
        if self.accounts[slot].entry == entry {
            return;
        }
        if let Some(old) = self.accounts[slot].entry.take() {
            let key = self.key(old.price);
            let start = self.bucket(old.price);
            let at = self.accounts[slot].at;
            let side = self.side_mut(old.side);
            if let Some(moved) = side.remove(key, at) {
                self.accounts[moved.0 as usize].at = at;
            }
            let side = self.side_mut(old.side);
            side.add_to_map(start, -(old.notional.0 as i128));
            match old.side {
                Side::Buy if self.long_top == Some(old.price) => self.long_top = self.longs.highest(),
                Side::Sell if self.short_bottom == Some(old.price) => {
                    self.short_bottom = self.shorts.lowest()
                }
                _ => {}
            }
        }
        if let Some(new) = entry {
            let key = self.key(new.price);
            let start = self.bucket(new.price);
            let side = self.side_mut(new.side);
            let at = side.insert(key, new.price, account);
            side.add_to_map(start, new.notional.0 as i128);
            self.accounts[slot].at = at;
            match new.side {
                Side::Buy => self.long_top = self.long_top.max(Some(new.price)),
                Side::Sell => {
                    self.short_bottom = Some(self.short_bottom.map_or(new.price, |p| p.min(new.price)))
                }
            }
        }
        self.accounts[slot].entry = entry;
    }

    /// Sets many accounts' entries at once, with the result of [`LiquidationIndex::set`] on
    /// each in turn. When they are a large share of the index (a funding settlement moves every
    /// position's price), the entries are written in place and the buckets and the map rebuilt
    /// in one pass over the accounts, instead of a remove and an insert per account at random
    /// places in memory.
    pub fn set_many(&mut self, changes: &[(AccountId, Option<LiqEntry>)]) {
        self.set_many_from(changes, BULK_MIN);
    }

    /// [`LiquidationIndex::set_many`], rebuilding from `bulk_min` changes on.
    fn set_many_from(&mut self, changes: &[(AccountId, Option<LiqEntry>)], bulk_min: usize) {
        if changes.len() < bulk_min || changes.len() * 4 < self.len() {
            for &(account, entry) in changes {
                self.set(account, entry);
            }
            return;
        }
        for &(account, entry) in changes {
            let slot = account.0 as usize;
            if slot >= self.accounts.len() {
                if entry.is_none() {
                    continue;
                }
                self.accounts.resize(slot + 1, Indexed::default());
            }
            self.accounts[slot].entry = entry;
        }
        self.rebuild();
    }

    /// Rebuilds both sides' buckets, the map and the frontier from the accounts' entries.
    fn rebuild(&mut self) {
        let (index_ticks, bucket_ticks) = (self.index_ticks, self.bucket_ticks);
        self.longs.clear();
        self.shorts.clear();
        for (i, a) in self.accounts.iter_mut().enumerate() {
            let Some(e) = a.entry else { continue };
            let side = match e.side {
                Side::Buy => &mut self.longs,
                Side::Sell => &mut self.shorts,
            };
            a.at = side.insert(e.price.0.div_euclid(index_ticks), e.price, AccountId(i as u32));
            let start = Price(e.price.0.div_euclid(bucket_ticks) * bucket_ticks);
            side.add_to_map(start, e.notional.0 as i128);
        }
        self.long_top = self.longs.highest();
        self.short_bottom = self.shorts.lowest();
    }

    fn side_mut(&mut self, side: Side) -> &mut SideIndex {
        match side {
            Side::Buy => &mut self.longs,
            Side::Sell => &mut self.shorts,
        }
    }

    fn side(&self, side: Side) -> &SideIndex {
        match side {
            Side::Buy => &self.longs,
            Side::Sell => &self.shorts,
        }
    }

    fn bucket(&self, price: Price) -> Price {
        Price(price.0.div_euclid(self.bucket_ticks) * self.bucket_ticks)
    }

    /// Accounts whose liquidation price the mark has reached: longs with price ≥ mark, most
    /// breached first, then shorts with price ≤ mark, most breached first (ties by account id,
    /// descending for longs and ascending for shorts).
    pub fn breached(&self, mark: Price, out: &mut Vec<AccountId>) {
        if self.long_top.is_some_and(|p| p >= mark) {
            self.collect_longs(mark, out);
        }
        if self.short_bottom.is_some_and(|p| p <= mark) {
            self.collect_shorts(mark, out);
        }
    }

    fn price_of(&self, a: AccountId) -> Price {
        self.accounts[a.0 as usize].entry.map_or(Price(0), |e| e.price)
    }

    fn collect_longs(&self, mark: Price, out: &mut Vec<AccountId>) {
        let from = out.len();
        for &key in self.longs.keys.range(self.key(mark)..) {
            out.extend(self.longs.bucket(key).iter().filter(|&&(p, _)| p >= mark).map(|&(_, a)| a));
        }
        out[from..].sort_unstable_by_key(|&a| std::cmp::Reverse((self.price_of(a), a)));
    }

    fn collect_shorts(&self, mark: Price, out: &mut Vec<AccountId>) {
        let from = out.len();
        for &key in self.shorts.keys.range(..=self.key(mark)) {
            out.extend(self.shorts.bucket(key).iter().filter(|&&(p, _)| p <= mark).map(|&(_, a)| a));
        }
        out[from..].sort_unstable_by_key(|&a| (self.price_of(a), a));
    }

    /// [`LiquidationIndex::breached`] by a plain scan of every entry, for tests.
    #[cfg(test)]
    fn breached_by_search(&self, mark: Price, out: &mut Vec<AccountId>) {
        let all = |side: Side| {
            let mut v: Vec<(Price, AccountId)> = (self.accounts.iter().enumerate())
                .filter_map(|(i, a)| {
                    a.entry.filter(|e| e.side == side).map(|e| (e.price, AccountId(i as u32)))
                })
                .collect();
            v.sort_unstable();
            v
        };
        out.extend(all(Side::Buy).iter().rev().filter(|&&(p, _)| p >= mark).map(|&(_, a)| a));
        out.extend(all(Side::Sell).iter().filter(|&&(p, _)| p <= mark).map(|&(_, a)| a));
    }

    /// The nearest long liquidation price at or below `price`, and the nearest short one at or
    /// above it.
    pub fn nearest(&self, price: Price) -> (Option<Price>, Option<Price>) {
        let key = self.key(price);
        let long = self
            .longs
            .keys
            .range(..=key)
            .rev()
            .find_map(|&k| self.longs.bucket(k).iter().map(|&(p, _)| p).filter(|&p| p <= price).max());
        let short = self
            .shorts
            .keys
            .range(key..)
            .find_map(|&k| self.shorts.bucket(k).iter().map(|&(p, _)| p).filter(|&p| p >= price).min());
        (long, short)
    }

    /// Liquidation notional of `side` with liquidation prices in `[lo, hi]` (bucket resolution:
    /// buckets are counted whole when their start lies in the range).
    pub fn notional_between(&self, side: Side, lo: Price, hi: Price) -> i128 {
        if lo > hi {
            return 0;
        }
        let (lo, hi) = (self.bucket(lo), self.bucket(hi));
        self.side(side).map.iter().filter(|&&(p, _)| lo <= p && p <= hi).map(|&(_, v)| v).sum()
    }

    /// The liquidation map: (side, bucket start, Σ notional), by side then price; buckets that
    /// sum to nothing are left out.
    pub fn map(&self) -> impl Iterator<Item = (Side, Price, i128)> + '_ {
        let mut all: Vec<(Side, Price, i128)> = Vec::new();
        for side in [Side::Buy, Side::Sell] {
            let from = all.len();
            all.extend(self.side(side).map.iter().filter(|&&(_, v)| v != 0).map(|&(p, v)| (side, p, v)));
            all[from..].sort_unstable_by_key(|&(_, p, _)| p);
        }
        all.into_iter()
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
            wide in any::<bool>(),
        ) {
            // Index buckets one tick wide, or ten (several prices a bucket).
            let mut ix = LiquidationIndex::new(if wide { 640 } else { 10 });
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
                    let (long, short) = ix.nearest(Price(m));
                    let by_scan = |side: Side| ix.accounts.iter().filter_map(|a| a.entry).filter(move |e| e.side == side);
                    prop_assert_eq!(long, by_scan(Side::Buy).map(|e| e.price).filter(|&p| p <= Price(m)).max());
                    prop_assert_eq!(short, by_scan(Side::Sell).map(|e| e.price).filter(|&p| p >= Price(m)).min());
                }
                // The map is the sum of the entries by bucket, empty buckets left out.
                let mut sums = std::collections::BTreeMap::new();
                for e in ix.accounts.iter().filter_map(|a| a.entry) {
                    *sums.entry((e.side, ix.bucket(e.price))).or_insert(0i128) += e.notional.0 as i128;
                }
                let map: Vec<_> = ix.map().collect();
                prop_assert_eq!(map, sums.into_iter().map(|((s, p), v)| (s, p, v)).collect::<Vec<_>>());
                prop_assert_eq!(ix.len(), ix.accounts.iter().filter_map(|a| a.entry).count());
            }
        }
    }

    proptest! {
        /// Setting a batch at once (rebuilt) leaves the index answering as setting its entries
        /// one by one does.
        #[test]
        fn a_rebuilt_batch_answers_like_single_sets(
            batches in prop::collection::vec(
                prop::collection::vec((0u32..40, prop::option::of((any::<bool>(), 900i64..1_100, 1i64..50))), 0..60),
                1..8),
            marks in prop::collection::vec(850i64..1_150, 1..10),
            wide in any::<bool>(),
        ) {
            let bucket = if wide { 640 } else { 10 };
            let (mut one, mut many) = (LiquidationIndex::new(bucket), LiquidationIndex::new(bucket));
            for batch in batches {
                let changes: Vec<_> = batch
                    .into_iter()
                    .map(|(a, e)| {
                        let e = e.map(|(long, p, n)| LiqEntry {
                            side: if long { Side::Buy } else { Side::Sell },
                            price: Price(p),
                            notional: Money(n),
                        });
                        (AccountId(a), e)
                    })
                    .collect();
                for &(a, e) in &changes {
                    one.set(a, e);
                }
                many.set_many_from(&changes, 0);
                prop_assert_eq!(one.len(), many.len());
                prop_assert_eq!(one.map().collect::<Vec<_>>(), many.map().collect::<Vec<_>>());
                for a in 0..40 {
                    prop_assert_eq!(one.get(AccountId(a)), many.get(AccountId(a)));
                }
                for &m in &marks {
                    let (mut x, mut y) = (Vec::new(), Vec::new());
                    one.breached(Price(m), &mut x);
                    many.breached(Price(m), &mut y);
                    prop_assert_eq!(x, y);
                    prop_assert_eq!(one.nearest(Price(m)), many.nearest(Price(m)));
                    for side in [Side::Buy, Side::Sell] {
                        prop_assert_eq!(
                            one.notional_between(side, Price(m - 100), Price(m + 100)),
                            many.notional_between(side, Price(m - 100), Price(m + 100))
                        );
                    }
                }
                // And single sets after a rebuild keep it right.
                for &(a, _) in changes.iter().take(3) {
                    one.set(a, None);
                    many.set(a, None);
                }
                prop_assert_eq!(one.map().collect::<Vec<_>>(), many.map().collect::<Vec<_>>());
                let (mut x, mut y) = (Vec::new(), Vec::new());
                one.breached(Price(1_000), &mut x);
                many.breached(Price(1_000), &mut y);
                prop_assert_eq!(x, y);
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
