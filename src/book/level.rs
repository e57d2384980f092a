//! One price level: a FIFO of resting orders, held as an intrusive doubly-linked list over the
//! order slab (so unlinking any order is O(1) and no per-level allocation is ever made).

use super::index::NIL;
use super::order::{AccountId, OrderFlags, OrderId, OrderKind};
use crate::units::{Price, Qty, Side};

/// A resting order as stored in the slab, with its links.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub id: OrderId,
    pub owner: AccountId,
    pub side: Side,
    pub kind: OrderKind,
    pub flags: OrderFlags,
    pub price: Price,
    /// Open (unfilled, uncancelled) size.
    pub qty: Qty,
    /// Previous / next order at the same price level (time priority).
    pub prev: u32,
    pub next: u32,
    /// Previous / next order of the same owner (any side, any price).
    pub oprev: u32,
    pub onext: u32,
}

const VACANT: Slot = Slot {
    id: OrderId(0),
    owner: AccountId(0),
    side: Side::Buy,
    kind: OrderKind::Gtc,
    flags: OrderFlags { reduce_only: false, liquidation: false },
    price: Price(0),
    qty: Qty(0),
    prev: NIL,
    next: NIL,
    oprev: NIL,
    onext: NIL,
};

/// Storage for resting orders with a free list; indices are stable while an order rests.
#[derive(Clone, Debug, Default)]
pub(crate) struct Slab {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl Slab {
    /// Stores `slot`, returning its index, or `None` if the slab is full (2^32 − 1 orders).
    #[inline]
    pub(crate) fn alloc(&mut self, slot: Slot) -> Option<u32> {
        if let Some(i) = self.free.pop()
            && let Some(s) = self.slots.get_mut(i as usize)
        {
            *s = slot;
            return Some(i);
        }
        let i = u32::try_from(self.slots.len()).ok().filter(|&i| i != NIL)?;
        self.slots.push(slot);
        Some(i)
    }

    #[inline]
    pub(crate) fn release(&mut self, i: u32) {
        if let Some(s) = self.slots.get_mut(i as usize) {
            *s = VACANT;
            self.free.push(i);
        }
    }

    #[inline]
    pub(crate) fn get(&self, i: u32) -> Option<&Slot> {
        self.slots.get(i as usize)
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, i: u32) -> Option<&mut Slot> {
        self.slots.get_mut(i as usize)
    }

    /// Whether one more slot can be allocated.
    pub(crate) fn has_room(&self) -> bool {
        !self.free.is_empty() || self.slots.len() < NIL as usize
    }

    /// Number of slots in use.
    pub(crate) fn live(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

/// A price level: head (oldest) and tail (newest) of its FIFO, number of orders and total size.
///
/// The head and tail slots are stored plus one (wrapping, so [`NIL`] is 0): an empty level is
/// all zero bytes, and a ladder's window of them is allocated zeroed: a large one comes as fresh
/// pages that the kernel maps in only when a level is first written, instead of every level of a
/// window whose levels are mostly never used being written up front.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Zeroable)]
pub(crate) struct Level {
    head1: u32,
    tail1: u32,
    pub count: u32,
    pub total: Qty,
}

impl Level {
    pub(crate) const EMPTY: Level = Level { head1: 0, tail1: 0, count: 0, total: Qty(0) };

    /// The oldest order's slot ([`NIL`] if none).
    #[inline]
    pub(crate) fn head(&self) -> u32 {
        self.head1.wrapping_sub(1)
    }

    /// The newest order's slot ([`NIL`] if none).
    #[inline]
    pub(crate) fn tail(&self) -> u32 {
        self.tail1.wrapping_sub(1)
    }

    #[inline]
    fn set_head(&mut self, i: u32) {
        self.head1 = i.wrapping_add(1);
    }

    #[inline]
    fn set_tail(&mut self, i: u32) {
        self.tail1 = i.wrapping_add(1);
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends slot `i` (already holding its qty) at the back of the queue.
    #[inline]
    pub(crate) fn push_back(&mut self, slab: &mut Slab, i: u32) {
        let tail = self.tail();
        let qty = match slab.get_mut(i) {
            Some(s) => {
                s.prev = tail;
                s.next = NIL;
                s.qty
            }
            None => return,
        };
        match slab.get_mut(tail) {
            Some(t) => t.next = i,
            None => self.set_head(i),
        }
        self.set_tail(i);
        self.count += 1;
        self.total = Qty(self.total.0 + qty.0);
    }

    /// Removes slot `i` (which must be in this level) from the queue.
    #[inline]
    pub(crate) fn unlink(&mut self, slab: &mut Slab, i: u32) {
        let (prev, next, qty) = match slab.get_mut(i) {
            Some(s) => {
                let r = (s.prev, s.next, s.qty);
                s.prev = NIL;
                s.next = NIL;
                r
            }
            None => return,
        };
        match slab.get_mut(prev) {
            Some(p) => p.next = next,
            None => self.set_head(next),
        }
        match slab.get_mut(next) {
            Some(n) => n.prev = prev,
            None => self.set_tail(prev),
        }
        self.count -= 1;
        self.total = Qty(self.total.0 - qty.0);
    }

    /// Iterates the slot indices of this level, oldest first.
    pub(crate) fn iter<'a>(&self, slab: &'a Slab) -> LevelIter<'a> {
        LevelIter { slab, cur: self.head() }
    }
}

pub(crate) struct LevelIter<'a> {
    slab: &'a Slab,
    cur: u32,
}

impl<'a> Iterator for LevelIter<'a> {
    type Item = (u32, &'a Slot);
    fn next(&mut self) -> Option<Self::Item> {
        let i = self.cur;
        let s = self.slab.get(i)?;
        self.cur = s.next;
        Some((i, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(id: u64, qty: i64) -> Slot {
        Slot { id: OrderId(id), qty: Qty(qty), ..VACANT }
    }

    fn ids(l: &Level, slab: &Slab) -> Vec<u64> {
        l.iter(slab).map(|(_, s)| s.id.0).collect()
    }

    #[test]
    fn an_empty_level_is_all_zero_bytes() {
        // Ladders allocate their windows zeroed and read every zeroed level as empty.
        let zeroed: Level = bytemuck::Zeroable::zeroed();
        assert_eq!(zeroed, Level::EMPTY);
        assert!(zeroed.is_empty() && zeroed.head() == NIL && zeroed.tail() == NIL);
        // A level emptied by unlinking its last order is back to all zeros.
        let mut slab = Slab::default();
        let mut l = Level::EMPTY;
        let a = slab.alloc(slot(1, 5)).unwrap();
        l.push_back(&mut slab, a);
        assert_ne!(l, Level::EMPTY);
        l.unlink(&mut slab, a);
        assert_eq!(l, zeroed);
    }

    #[test]
    fn fifo_push_and_unlink_anywhere() {
        let mut slab = Slab::default();
        let mut l = Level::EMPTY;
        let a = slab.alloc(slot(1, 5)).unwrap();
        let b = slab.alloc(slot(2, 7)).unwrap();
        let c = slab.alloc(slot(3, 11)).unwrap();
        for i in [a, b, c] {
            l.push_back(&mut slab, i);
        }
        assert_eq!(ids(&l, &slab), vec![1, 2, 3]);
        assert_eq!((l.count, l.total), (3, Qty(23)));
        l.unlink(&mut slab, b);
        assert_eq!(ids(&l, &slab), vec![1, 3]);
        l.unlink(&mut slab, a);
        assert_eq!(ids(&l, &slab), vec![3]);
        assert_eq!((l.head(), l.tail()), (c, c));
        l.push_back(&mut slab, a);
        assert_eq!(ids(&l, &slab), vec![3, 1]);
        l.unlink(&mut slab, a);
        l.unlink(&mut slab, c);
        assert!(l.is_empty());
        assert_eq!(l, Level::EMPTY);
        slab.release(b);
        assert_eq!(slab.live(), 2);
        assert_eq!(slab.alloc(slot(9, 1)), Some(b));
    }
}
