//! Wake-ups of passive agents: a hierarchical timing wheel, so scheduling and taking a wake-up
//! cost O(1) amortised however many agents are waiting (a binary heap of a million entries
//! costs a cache-missing descent per wake-up).
//!
//! Ticks are slotted by their low bits while within the current 4,096-tick span (level 0), by
//! their middle bits while within the current span of 4,096 of those (level 1), and beyond that
//! in a heap that is touched once per 16.7M ticks. A slot of level 1 is poured into level 0 as
//! the clock enters its span. What comes out is exactly what a min-heap of `(tick, entity)`
//! would give: every wake-up due by the tick asked for, earliest first, ties by entity.

use bevy_ecs::entity::Entity;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

const BITS: u32 = 12;
const SLOTS: usize = 1 << BITS;
const MASK: u64 = SLOTS as u64 - 1;

/// The wake-up queue of the passive holders.
#[derive(Debug, Clone)]
pub struct WakeWheel {
    /// The first tick not yet gathered into `ready`.
    now: u64,
    /// Due wake-ups (tick < `now`), sorted latest first so the earliest pops off the end.
    ready: Vec<(u64, Entity)>,
    level0: Vec<Vec<(u64, Entity)>>,
    level1: Vec<Vec<(u64, Entity)>>,
    far: BinaryHeap<Reverse<(u64, Entity)>>,
    len: usize,
    /// Entries in each level, so that empty spans are skipped whole.
    in_level0: usize,
    in_level1: usize,
}

impl Default for WakeWheel {
    fn default() -> Self {
        WakeWheel {
            now: 0,
            ready: Vec::new(),
            level0: vec![Vec::new(); SLOTS],
            level1: vec![Vec::new(); SLOTS],
            far: BinaryHeap::new(),
            len: 0,
            in_level0: 0,
            in_level1: 0,
        }
    }
}

impl WakeWheel {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Schedules `entity` to wake at `tick`.
    pub fn push(&mut self, tick: u64, entity: Entity) {
        self.len += 1;
        self.place(tick, entity);
    }

    fn place(&mut self, tick: u64, entity: Entity) {
        let now = self.now;
        if tick < now {
            // Already due: into the sorted ready list.
            let at = self.ready.partition_point(|&r| r > (tick, entity));
            self.ready.insert(at, (tick, entity));
        } else if tick >> BITS == now >> BITS {
            self.level0[(tick & MASK) as usize].push((tick, entity));
            self.in_level0 += 1;
        } else if tick >> (2 * BITS) == now >> (2 * BITS) {
            self.level1[((tick >> BITS) & MASK) as usize].push((tick, entity));
            self.in_level1 += 1;
        } else {
            self.far.push(Reverse((tick, entity)));
        }
    }

    /// Takes the earliest wake-up due by `tick` (ties by entity), if any.
    pub fn pop_due(&mut self, tick: u64) -> Option<(u64, Entity)> {
        if self.now <= tick {
            while self.now <= tick {
                if self.in_level0 > 0 {
                    let slot = &mut self.level0[(self.now & MASK) as usize];
                    self.in_level0 -= slot.len();
                    self.ready.append(slot);
                    self.advance();
                    continue;
                }
                // Nothing in this span: on to the next one (or the next big one, if level 1 is
                // empty too), or just past `tick`.
                let bits = if self.in_level1 > 0 { BITS } else { 2 * BITS };
                let next = ((self.now >> bits) + 1) << bits;
                if next > tick + 1 {
                    self.now = tick + 1;
                } else {
                    self.now = next - 1;
                    self.advance();
                }
            }
            self.ready.sort_unstable_by(|a, b| b.cmp(a));
        }
        match self.ready.last() {
            Some(&(t, _)) if t <= tick => {
                self.len -= 1;
                self.ready.pop()
            }
            _ => None,
        }
    }

    /// Moves the clock one tick on, pouring the next span's wake-ups down a level as it is
    /// entered.
    fn advance(&mut self) {
        self.now += 1;
        let now = self.now;
        if now & MASK != 0 {
            return;
        }
        if (now >> BITS) & MASK == 0 {
            let end = ((now >> (2 * BITS)) + 1) << (2 * BITS);
            while let Some(&Reverse((t, e))) = self.far.peek() {
                if t >= end {
                    break;
                }
                self.far.pop();
                self.place(t, e);
            }
        }
        let slot = ((now >> BITS) & MASK) as usize;
        let moving = std::mem::take(&mut self.level1[slot]);
        self.in_level1 -= moving.len();
        for &(t, e) in &moving {
            self.place(t, e);
        }
        // Keep the slot's allocation for the span after next.
        let mut moving = moving;
        moving.clear();
        self.level1[slot] = moving;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entity(i: u32) -> Entity {
        Entity::from_raw_u32(i).expect("a valid index")
    }

    proptest! {
        /// The wheel gives what a min-heap gives, whatever the spread of the ticks and however
        /// pushes and takes interleave.
        #[test]
        fn agrees_with_a_heap(
            steps in prop::collection::vec(
                (0u64..3, prop::collection::vec((0u64..40_000_000, 0u32..50), 0..8)), 1..200),
            start in 0u64..20_000_000,
        ) {
            let mut wheel = WakeWheel::default();
            let mut heap: BinaryHeap<Reverse<(u64, Entity)>> = BinaryHeap::new();
            let mut tick = start;
            for (gap, pushes) in steps {
                for (dt, i) in pushes {
                    // Mostly near the clock, some far out, a few already due.
                    let t = match dt % 4 {
                        0 => tick.saturating_sub(dt % 3),
                        1 => tick + dt % 5_000,
                        2 => tick + dt % 20_000_000,
                        _ => tick + dt,
                    };
                    wheel.push(t, entity(i));
                    heap.push(Reverse((t, entity(i))));
                }
                tick += match gap {
                    0 => 0,
                    1 => tick % 7_919 + 1,
                    _ => tick % 3_000_000 + 1,
                };
                loop {
                    let expect = match heap.peek() {
                        Some(&Reverse((t, e))) if t <= tick => {
                            heap.pop();
                            Some((t, e))
                        }
                        _ => None,
                    };
                    prop_assert_eq!(wheel.pop_due(tick), expect);
                    if expect.is_none() {
                        break;
                    }
                }
                prop_assert_eq!(wheel.len(), heap.len());
            }
        }
    }
}
