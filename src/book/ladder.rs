//! One side of the book: price → level, with the best price cached.
//!
//! Prices are i64 ticks, so a plain array cannot cover them all. The ladder keeps a *dense window*
//! of levels indexed by `price − base` (O(1) lookup, insert and remove; a bitset of occupied
//! levels finds the next best price with a few word scans), and a *far* `BTreeMap` for the rare
//! levels that lie outside the window. The window is placed on the first price seen, moved freely
//! while it holds no level, and grows (by doubling) up to `max_window` ticks to take in new prices;
//! prices beyond that go to the far map. The far map never holds a price inside the window.

use super::level::{Level, Slab};
use crate::units::{Price, Qty, Side};
use std::collections::BTreeMap;
use std::collections::btree_map::Range;
use std::ops::Bound;

/// Default initial window (ticks) and the largest the window may grow to.
pub(crate) const INITIAL_WINDOW: usize = 4096;
pub(crate) const MAX_WINDOW: usize = 1 << 18;

#[derive(Clone, Debug)]
pub(crate) struct Ladder {
    side: Side,
    /// Price of `dense[0]`.
    base: i64,
    dense: Vec<Level>,
    /// Bit k set ⇔ `dense[k]` is non-empty.
    bits: Vec<u64>,
    dense_levels: usize,
    far: BTreeMap<i64, Level>,
    best: Option<Price>,
    levels: usize,
    orders: usize,
    /// Total open size on this side; the book keeps it ≤ i64::MAX so no level or depth sum
    /// can overflow.
    total: Qty,
    initial_window: usize,
    max_window: usize,
}

impl Ladder {
    pub(crate) fn new(side: Side, initial_window: usize, max_window: usize) -> Ladder {
        Ladder {
            side,
            base: 0,
            dense: Vec::new(),
            bits: Vec::new(),
            dense_levels: 0,
            far: BTreeMap::new(),
            best: None,
            levels: 0,
            orders: 0,
            total: Qty(0),
            initial_window,
            max_window: max_window.max(initial_window),
        }
    }

    #[inline]
    pub(crate) fn best(&self) -> Option<Price> {
        self.best
    }
    pub(crate) fn levels(&self) -> usize {
        self.levels
    }
    pub(crate) fn orders(&self) -> usize {
        self.orders
    }
    pub(crate) fn total(&self) -> Qty {
        self.total
    }

    /// Is `a` a better price than `b` for this side?
    #[inline]
    fn better(&self, a: i64, b: i64) -> bool {
        match self.side {
            Side::Buy => a > b,
            Side::Sell => a < b,
        }
    }

    #[inline]
    fn dense_index(&self, p: i64) -> Option<usize> {
        let off = p.checked_sub(self.base)?;
        let off = usize::try_from(off).ok()?;
        (off < self.dense.len()).then_some(off)
    }

    /// The non-empty level at `p`.
    #[inline]
    pub(crate) fn level(&self, p: Price) -> Option<&Level> {
        match self.dense_index(p.0) {
            Some(k) => self.dense.get(k).filter(|l| !l.is_empty()),
            None => self.far.get(&p.0),
        }
    }

    /// Appends slot `i` (whose price is `p` and qty already set) to the back of level `p`.
    #[inline]
    pub(crate) fn push(&mut self, slab: &mut Slab, i: u32, p: Price) {
        let qty = slab.get(i).map_or(Qty(0), |s| s.qty);
        let k = match self.dense_index(p.0) {
            Some(k) => Some(k),
            None => self.make_room(p.0),
        };
        let created = match k {
            Some(k) => {
                let Some(l) = self.dense.get_mut(k) else {
                    return;
                };
                let created = l.is_empty();
                l.push_back(slab, i);
                if created {
                    if let Some(w) = self.bits.get_mut(k / 64) {
                        *w |= 1u64 << (k % 64);
                    }
                    self.dense_levels += 1;
                }
                created
            }
            None => {
                let l = self.far.entry(p.0).or_insert(Level::EMPTY);
                let created = l.is_empty();
                l.push_back(slab, i);
                created
            }
        };
        if created {
            self.levels += 1;
            if self.best.is_none_or(|b| self.better(p.0, b.0)) {
                self.best = Some(p);
            }
        }
        self.orders += 1;
        self.total = Qty(self.total.0 + qty.0);
    }

    /// Unlinks slot `i` from level `p` (it must rest there), dropping the level if it empties.
    #[inline]
    pub(crate) fn remove(&mut self, slab: &mut Slab, i: u32, p: Price) {
        let qty = slab.get(i).map_or(Qty(0), |s| s.qty);
        match self.dense_index(p.0) {
            Some(k) => {
                let Some(l) = self.dense.get_mut(k) else {
                    return;
                };
                l.unlink(slab, i);
                if l.is_empty() {
                    if let Some(w) = self.bits.get_mut(k / 64) {
                        *w &= !(1u64 << (k % 64));
                    }
                    self.dense_levels -= 1;
                    self.levels -= 1;
                    if self.best == Some(p) {
                        self.recompute_best(Some(k));
                    }
                }
            }
            None => {
                let Some(l) = self.far.get_mut(&p.0) else {
                    return;
                };
                l.unlink(slab, i);
                if l.is_empty() {
                    self.far.remove(&p.0);
                    self.levels -= 1;
                    if self.best == Some(p) {
                        self.recompute_best(None);
                    }
                }
            }
        }
        self.orders -= 1;
        self.total = Qty(self.total.0 - qty.0);
    }

    /// Reduces the total of level `p` by `by` (the caller reduced one of its orders' qty by as
    /// much, leaving it positive).
    #[inline]
    pub(crate) fn reduce(&mut self, p: Price, by: Qty) {
        self.add_to_level(p, -by.0);
    }

    /// Whether slot `i` is the last order of level `p` (where a size increase sends it anyway).
    #[inline]
    pub(crate) fn is_last(&self, i: u32, p: Price) -> bool {
        self.level(p).is_some_and(|l| l.tail() == i)
    }

    /// Grows the total of level `p` by `by` (the caller grew its last order's qty by as much):
    /// the size increase that leaves the order where it is, at the back of its level.
    #[inline]
    pub(crate) fn grow(&mut self, p: Price, by: Qty) {
        self.add_to_level(p, by.0);
    }

    /// Adds `delta` lots to level `p`'s total and the side's.
    #[inline]
    fn add_to_level(&mut self, p: Price, delta: i64) {
        let l = match self.dense_index(p.0) {
            Some(k) => self.dense.get_mut(k),
            None => self.far.get_mut(&p.0),
        };
        if let Some(l) = l {
            l.total = Qty(l.total.0 + delta);
            self.total = Qty(self.total.0 + delta);
        }
    }

    /// After the best level (at dense index `hint`, or in the far map if `None`) emptied.
    fn recompute_best(&mut self, hint: Option<usize>) {
        let dense_best = if self.dense_levels == 0 {
            None
        } else {
            let k = match self.side {
                Side::Buy => self.prev_set(hint.unwrap_or(self.dense.len().saturating_sub(1))),
                Side::Sell => self.next_set(hint.unwrap_or(0)),
            };
            k.map(|k| self.base.wrapping_add(k as i64))
        };
        let far_best = match self.side {
            Side::Buy => self.far.last_key_value(),
            Side::Sell => self.far.first_key_value(),
        }
        .map(|(k, _)| *k);
        self.best = match (dense_best, far_best) {
            (Some(a), Some(b)) => Some(Price(if self.better(a, b) { a } else { b })),
            (a, b) => a.or(b).map(Price),
        };
    }

    /// Highest occupied dense index ≤ k.
    #[inline]
    fn prev_set(&self, k: usize) -> Option<usize> {
        let mut w = k / 64;
        let mut word = self.bits.get(w)? & (u64::MAX >> (63 - k % 64));
        loop {
            if word != 0 {
                return Some(w * 64 + 63 - word.leading_zeros() as usize);
            }
            w = w.checked_sub(1)?;
            word = *self.bits.get(w)?;
        }
    }

    /// Lowest occupied dense index ≥ k.
    #[inline]
    fn next_set(&self, k: usize) -> Option<usize> {
        let mut w = k / 64;
        let mut word = self.bits.get(w)? & (u64::MAX << (k % 64));
        loop {
            if word != 0 {
                return Some(w * 64 + word.trailing_zeros() as usize);
            }
            w += 1;
            word = *self.bits.get(w)?;
        }
    }

    /// Window end (exclusive) as i128, so it cannot overflow.
    fn window_end(&self) -> i128 {
        self.base as i128 + self.dense.len() as i128
    }

    /// Moves or grows the window so that `p` falls inside, if allowed; returns p's index.
    #[cold]
    fn make_room(&mut self, p: i64) -> Option<usize> {
        if self.dense.is_empty() {
            let w = self.initial_window;
            if w == 0 {
                return None;
            }
            self.dense = bytemuck::zeroed_vec(w);
            self.bits = vec![0; w.div_ceil(64)];
            self.base = p.saturating_sub((w / 2) as i64);
        } else if self.dense_levels == 0 {
            self.base = p.saturating_sub((self.dense.len() / 2) as i64);
        } else {
            let (base, end, p128) = (self.base as i128, self.window_end(), p as i128);
            let lo = base.min(p128);
            let hi = end.max(p128 + 1);
            let needed = usize::try_from(hi - lo).ok()?;
            if needed > self.max_window {
                return None;
            }
            let new_len = needed.next_power_of_two().saturating_mul(2).min(self.max_window).max(needed);
            let new_base = if p128 < base { hi - new_len as i128 } else { lo };
            let new_base = i64::try_from(new_base).ok()?;
            let shift = usize::try_from(self.base as i128 - new_base as i128).ok()?;
            let mut dense: Vec<Level> = bytemuck::zeroed_vec(new_len);
            let mut bits = vec![0u64; new_len.div_ceil(64)];
            let mut k = self.next_set(0);
            while let Some(old) = k {
                let new = old + shift;
                if let (Some(d), Some(l)) = (dense.get_mut(new), self.dense.get(old)) {
                    *d = *l;
                }
                if let Some(w) = bits.get_mut(new / 64) {
                    *w |= 1u64 << (new % 64);
                }
                k = self.next_set(old + 1);
            }
            self.dense = dense;
            self.bits = bits;
            self.base = new_base;
        }
        self.absorb_far();
        self.dense_index(p)
    }

    /// Moves far levels that now fall inside the window into it.
    fn absorb_far(&mut self) {
        if self.far.is_empty() {
            return;
        }
        let upper = match i64::try_from(self.window_end()) {
            Ok(e) => Bound::Excluded(e),
            Err(_) => Bound::Unbounded,
        };
        let keys: Vec<i64> = self.far.range((Bound::Included(self.base), upper)).map(|(k, _)| *k).collect();
        for p in keys {
            let (Some(l), Some(k)) = (self.far.remove(&p), self.dense_index(p)) else {
                continue;
            };
            if let Some(d) = self.dense.get_mut(k) {
                *d = l;
            }
            if let Some(w) = self.bits.get_mut(k / 64) {
                *w |= 1u64 << (k % 64);
            }
            self.dense_levels += 1;
        }
    }

    /// Non-empty levels from the best price outward.
    pub(crate) fn iter(&self) -> Levels<'_> {
        let below = self.far.range((Bound::Unbounded, Bound::Excluded(self.base)));
        let above = match i64::try_from(self.window_end()) {
            Ok(e) => self.far.range((Bound::Included(e), Bound::Unbounded)),
            Err(_) => self.far.range((Bound::Excluded(i64::MAX), Bound::Unbounded)),
        };
        let (front, back, cursor) = match self.side {
            Side::Buy => (above, below, self.dense.len().checked_sub(1).and_then(|k| self.prev_set(k))),
            Side::Sell => (below, above, self.next_set(0)),
        };
        Levels { ladder: self, phase: 0, front, back, cursor }
    }

    /// Checks this side's internal consistency against the slab; returns the slot indices seen.
    pub(crate) fn check(&self, slab: &Slab, seen: &mut Vec<u32>) -> Result<(), String> {
        let side = self.side;
        let mut levels = 0usize;
        let mut orders = 0usize;
        let mut total: i128 = 0;
        let mut dense_levels = 0usize;
        for (k, l) in self.dense.iter().enumerate() {
            let bit = self.bits.get(k / 64).is_some_and(|w| w >> (k % 64) & 1 == 1);
            if bit == l.is_empty() {
                return Err(format!("{side:?} dense bit {k} is {bit} but level {l:?}"));
            }
            if !l.is_empty() {
                dense_levels += 1;
            } else if *l != Level::EMPTY {
                return Err(format!("{side:?} empty dense level {k} not reset: {l:?}"));
            }
        }
        if self.bits.iter().map(|w| w.count_ones() as usize).sum::<usize>() != dense_levels {
            return Err(format!("{side:?} stray bits beyond the window"));
        }
        if dense_levels != self.dense_levels {
            return Err(format!("{side:?} dense_levels {} ≠ {dense_levels}", self.dense_levels));
        }
        for (p, _) in self.far.iter() {
            if self.dense_index(*p).is_some() {
                return Err(format!("{side:?} far level {p} lies inside the window"));
            }
        }
        let mut prev: Option<i64> = None;
        for (p, l) in self.iter() {
            if l.is_empty() {
                return Err(format!("{side:?} empty level at {p:?}"));
            }
            if let Some(q) = prev {
                if !self.better(q, p.0) {
                    return Err(format!("{side:?} levels out of order: {q} then {}", p.0));
                }
            } else if self.best != Some(p) {
                return Err(format!("{side:?} cached best {:?} ≠ {p:?}", self.best));
            }
            prev = Some(p.0);
            levels += 1;
            let mut count = 0u32;
            let mut sum: i128 = 0;
            let mut before = super::index::NIL;
            for (i, s) in l.iter(slab) {
                if s.prev != before {
                    return Err(format!("{side:?} broken prev link at slot {i}"));
                }
                if s.price != p || s.side != side {
                    return Err(format!("{side:?} slot {i} {s:?} filed under {p:?}"));
                }
                if s.qty.0 <= 0 {
                    return Err(format!("{side:?} slot {i} has non-positive qty"));
                }
                count += 1;
                sum += s.qty.0 as i128;
                seen.push(i);
                before = i;
                if count > l.count {
                    return Err(format!("{side:?} level {p:?} longer than its count"));
                }
            }
            if before != l.tail() || count != l.count || sum != l.total.0 as i128 {
                return Err(format!(
                    "{side:?} level {p:?} tail/count/total mismatch: {l:?} vs {count}, {sum}"
                ));
            }
            orders += count as usize;
            total += sum;
        }
        if prev.is_none() && self.best.is_some() {
            return Err(format!("{side:?} best {:?} on an empty side", self.best));
        }
        if levels != self.levels || orders != self.orders || total != self.total.0 as i128 {
            return Err(format!(
                "{side:?} counters: levels {} vs {levels}, orders {} vs {orders}, total {:?} vs {total}",
                self.levels, self.orders, self.total
            ));
        }
        Ok(())
    }
}

/// Iterator over a ladder's non-empty levels, best first.
pub(crate) struct Levels<'a> {
    ladder: &'a Ladder,
    phase: u8,
    front: Range<'a, i64, Level>,
    back: Range<'a, i64, Level>,
    cursor: Option<usize>,
}

impl<'a> Iterator for Levels<'a> {
    type Item = (Price, &'a Level);

    fn next(&mut self) -> Option<Self::Item> {
        let desc = self.ladder.side == Side::Buy;
        loop {
            match self.phase {
                0 | 2 => {
                    let r = if self.phase == 0 { &mut self.front } else { &mut self.back };
                    let x = if desc { r.next_back() } else { r.next() };
                    match x {
                        Some((p, l)) => return Some((Price(*p), l)),
                        None => self.phase += 1,
                    }
                }
                1 => match self.cursor {
                    Some(k) => {
                        let l = self.ladder.dense.get(k)?;
                        self.cursor = if desc {
                            k.checked_sub(1).and_then(|j| self.ladder.prev_set(j))
                        } else {
                            self.ladder.next_set(k + 1)
                        };
                        return Some((Price(self.ladder.base.wrapping_add(k as i64)), l));
                    }
                    None => self.phase = 2,
                },
                _ => return None,
            }
        }
    }
}
