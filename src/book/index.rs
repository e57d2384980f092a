//! A small open-addressing hash map from `u64` keys to `u32` slot indices.
//!
//! The book looks up an order by id on every cancel and move, so this sits on the hot path. Keys
//! are order ids (usually sequential) or account ids; a Fibonacci multiply-shift hash spreads them
//! well. Linear probing with backward-shift deletion keeps the table free of tombstones, and the
//! load factor stays at or below one half.

/// Marks an empty bucket (no slot index can be this value; the slab refuses to grow that far).
pub(crate) const NIL: u32 = u32::MAX;

const MIN_CAPACITY: usize = 16;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    key: u64,
    val: u32,
}

const EMPTY: Bucket = Bucket { key: 0, val: NIL };

#[derive(Clone, Debug)]
pub(crate) struct IdMap {
    buckets: Vec<Bucket>,
    /// `64 - log2(buckets.len())`.
    shift: u32,
    len: usize,
}

impl Default for IdMap {
    fn default() -> Self {
        IdMap::new()
    }
}

impl IdMap {
    pub(crate) fn new() -> IdMap {
        IdMap { buckets: vec![EMPTY; MIN_CAPACITY], shift: 64 - MIN_CAPACITY.trailing_zeros(), len: 0 }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The bucket holding `key`, if any.
    #[inline]
    fn find(&self, key: u64) -> Option<usize> {
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            let b = self.buckets.get(i)?;
            if b.val == NIL {
                return None;
            }
            if b.key == key {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    #[inline]
    pub(crate) fn get(&self, key: u64) -> Option<u32> {
        self.find(key).and_then(|i| self.buckets.get(i)).map(|b| b.val)
    }

    /// Inserts or overwrites. `val` must not be [`NIL`].
    pub(crate) fn insert(&mut self, key: u64, val: u32) {
        debug_assert_ne!(val, NIL);
        if (self.len + 1) * 2 > self.buckets.len() {
            self.grow();
        }
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            let Some(b) = self.buckets.get_mut(i) else {
                return;
            };
            if b.val == NIL {
                *b = Bucket { key, val };
                self.len += 1;
                return;
            }
            if b.key == key {
                b.val = val;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// Removes `key`, returning its value.
    pub(crate) fn remove(&mut self, key: u64) -> Option<u32> {
        let mut hole = self.find(key)?;
        let old = self.buckets.get(hole)?.val;
        self.len -= 1;
        // Backward-shift: pull later entries of the probe run into the hole when their home
        // position does not lie cyclically in (hole, j].
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let b = self.buckets.get(j).copied().unwrap_or(EMPTY);
            if b.val == NIL {
                break;
            }
            let k = self.home(b.key);
            let stays = if hole <= j { hole < k && k <= j } else { hole < k || k <= j };
            if stays {
                continue;
            }
            if let Some(h) = self.buckets.get_mut(hole) {
                *h = b;
            }
            hole = j;
        }
        if let Some(h) = self.buckets.get_mut(hole) {
            *h = EMPTY;
        }
        Some(old)
    }

    fn grow(&mut self) {
        let new_cap = self.buckets.len() * 2;
        let old = std::mem::replace(&mut self.buckets, vec![EMPTY; new_cap]);
        self.shift = 64 - new_cap.trailing_zeros();
        self.len = 0;
        for b in old {
            if b.val != NIL {
                self.insert(b.key, b.val);
            }
        }
    }

    /// All entries, in table order (for invariant checks).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.buckets.iter().filter(|b| b.val != NIL).map(|b| (b.key, b.val))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn behaves_like_a_hashmap() {
        let mut m = IdMap::new();
        let mut r: HashMap<u64, u32> = HashMap::new();
        let mut x: u64 = 12345;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Mix sequential-ish keys with colliding ones (multiples of a power of two).
            let key = match x % 3 {
                0 => x % 500,
                1 => (x % 64) << 40,
                _ => x,
            };
            if x % 5 < 3 {
                m.insert(key, step);
                r.insert(key, step);
            } else {
                assert_eq!(m.remove(key), r.remove(&key));
            }
            assert_eq!(m.len(), r.len());
            assert_eq!(m.get(key), r.get(&key).copied());
        }
        for (k, v) in &r {
            assert_eq!(m.get(*k), Some(*v));
        }
        assert_eq!(m.iter().count(), r.len());
    }
}
