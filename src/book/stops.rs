//! Stop orders: stop-market and take-profit orders held outside the book until a price crosses
//! their trigger, then sent to it as market orders.
//!
//! [`StopBook`] keeps the pending stops in four queues — by trigger source (last or mark) and by
//! which way the price must move to trigger them — each sorted in the order a moving price
//! reaches them: the nearest trigger first, and at one trigger the earliest stop (time
//! priority). The stops a price has triggered are therefore a prefix of each queue, found in
//! O(log n + k); nothing here scans all stops.

use super::order::AccountId;
use crate::units::{Price, Qty, Side};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A stop order, unique for the life of a run (its own sequence, apart from order ids).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StopId(pub u64);

/// What a stop is for, which decides the way the price must move to trigger it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StopKind {
    /// A stop-loss (or a breakout entry): a sell triggers when the price falls to the trigger,
    /// a buy when it rises to it.
    StopMarket,
    /// A take-profit: a sell triggers when the price rises to the trigger, a buy when it falls
    /// to it.
    TakeProfit,
}

impl StopKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StopKind::StopMarket => "stop_market",
            StopKind::TakeProfit => "take_profit",
        }
    }
}

/// Which price a stop watches (Binance's `workingType`, Bybit's `triggerBy`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TriggerSource {
    /// The last traded price (Binance `CONTRACT_PRICE`, Bybit `LastPrice`: both venues'
    /// default).
    #[default]
    Last,
    /// The mark price (Binance `MARK_PRICE`, Bybit `MarkPrice`; the only one Hyperliquid has).
    Mark,
}

impl TriggerSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerSource::Last => "last",
            TriggerSource::Mark => "mark",
        }
    }
}

/// The way the watched price must move to reach a stop's trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Crossing {
    /// Triggered when the price is at or below the trigger (a sell stop-loss, a buy
    /// take-profit).
    Falling,
    /// Triggered when the price is at or above the trigger (a buy stop-loss, a sell
    /// take-profit).
    Rising,
}

/// A stop order as placed: who, which side, what kind, which price it watches, where it
/// triggers, how much, and whether its market order may only reduce the position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewStop {
    pub id: StopId,
    pub owner: AccountId,
    pub side: Side,
    pub kind: StopKind,
    pub source: TriggerSource,
    pub trigger: Price,
    pub qty: Qty,
    pub reduce_only: bool,
}

impl NewStop {
    /// The way the watched price must move to trigger it.
    pub fn crossing(&self) -> Crossing {
        match (self.side, self.kind) {
            (Side::Sell, StopKind::StopMarket) | (Side::Buy, StopKind::TakeProfit) => Crossing::Falling,
            (Side::Buy, StopKind::StopMarket) | (Side::Sell, StopKind::TakeProfit) => Crossing::Rising,
        }
    }

    /// Whether `price` (of its source) has reached the trigger.
    pub fn is_due(&self, price: Price) -> bool {
        match self.crossing() {
            Crossing::Falling => price <= self.trigger,
            Crossing::Rising => price >= self.trigger,
        }
    }
}

/// One queue: (priority key, id) in trigger order. The key is the trigger for a rising queue
/// and its negation for a falling one, so the nearest trigger always comes first.
type Queue = BTreeSet<(i64, StopId)>;

fn queue_index(source: TriggerSource, crossing: Crossing) -> usize {
    match (source, crossing) {
        (TriggerSource::Last, Crossing::Falling) => 0,
        (TriggerSource::Last, Crossing::Rising) => 1,
        (TriggerSource::Mark, Crossing::Falling) => 2,
        (TriggerSource::Mark, Crossing::Rising) => 3,
    }
}

fn key(stop: &NewStop) -> (i64, StopId) {
    let k = match stop.crossing() {
        Crossing::Falling => -stop.trigger.0,
        Crossing::Rising => stop.trigger.0,
    };
    (k, stop.id)
}

/// The pending stops, queued by source and crossing in trigger order, indexed by owner, and
/// summed by price bucket for the stop map.
#[derive(Clone, Debug)]
pub struct StopBook {
    stops: BTreeMap<StopId, NewStop>,
    queues: [Queue; 4],
    by_owner: BTreeSet<(AccountId, StopId)>,
    bucket_ticks: i64,
    /// (side, bucket start) → Σ trigger × size, in tick·lots.
    map: BTreeMap<(Side, Price), i128>,
}

impl StopBook {
    /// An empty stop book whose map buckets are `bucket_ticks` wide (at least 1).
    pub fn new(bucket_ticks: i64) -> StopBook {
        StopBook {
            stops: BTreeMap::new(),
            queues: Default::default(),
            by_owner: BTreeSet::new(),
            bucket_ticks: bucket_ticks.max(1),
            map: BTreeMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.stops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stops.is_empty()
    }

    pub fn get(&self, id: StopId) -> Option<&NewStop> {
        self.stops.get(&id)
    }

    /// Every pending stop, by id (placement order).
    pub fn iter(&self) -> impl Iterator<Item = &NewStop> + '_ {
        self.stops.values()
    }

    /// The pending stops of `owner`, by id.
    pub fn stops_of(&self, owner: AccountId) -> impl Iterator<Item = &NewStop> + '_ {
        self.by_owner
            .range((owner, StopId(0))..=(owner, StopId(u64::MAX)))
            .filter_map(|(_, id)| self.stops.get(id))
    }

    /// Adds a stop. Returns false (and changes nothing) if its id is already pending.
    pub fn insert(&mut self, stop: NewStop) -> bool {
        if self.stops.contains_key(&stop.id) {
            return false;
        }
        self.queues[queue_index(stop.source, stop.crossing())].insert(key(&stop));
        self.by_owner.insert((stop.owner, stop.id));
        self.add_to_map(&stop, 1);
        self.stops.insert(stop.id, stop);
        true
    }

    /// Removes a stop (triggered or cancelled) and returns it.
    pub fn remove(&mut self, id: StopId) -> Option<NewStop> {
        let stop = self.stops.remove(&id)?;
        self.queues[queue_index(stop.source, stop.crossing())].remove(&key(&stop));
        self.by_owner.remove(&(stop.owner, id));
        self.add_to_map(&stop, -1);
        Some(stop)
    }

    /// Whether `id` is the first stop of its queue: the next one a price moving its way
    /// reaches (nearest trigger, then earliest placed).
    pub fn is_first_in_line(&self, id: StopId) -> bool {
        let Some(stop) = self.stops.get(&id) else { return false };
        self.queues[queue_index(stop.source, stop.crossing())].first().map(|&(_, first)| first) == Some(id)
    }

    /// Appends the stops `last` and `mark` have reached, in the order they trigger: those
    /// watching last before those watching mark; within a source the falling queue before the
    /// rising one (a price has moved one way, so at most one of them is newly reached); within a
    /// queue the nearest trigger first — the order a moving price crosses them — and at one
    /// trigger the earliest placed.
    pub fn due(&self, last: Price, mark: Price, out: &mut Vec<StopId>) {
        for source in [TriggerSource::Last, TriggerSource::Mark] {
            let price = match source {
                TriggerSource::Last => last,
                TriggerSource::Mark => mark,
            };
            for crossing in [Crossing::Falling, Crossing::Rising] {
                // Due when key ≤ threshold: trigger ≥ price (falling), trigger ≤ price (rising).
                let threshold = match crossing {
                    Crossing::Falling => -price.0,
                    Crossing::Rising => price.0,
                };
                let queue = &self.queues[queue_index(source, crossing)];
                out.extend(queue.iter().take_while(|&&(k, _)| k <= threshold).map(|&(_, id)| id));
            }
        }
    }

    fn bucket(&self, price: Price) -> Price {
        Price(price.0.div_euclid(self.bucket_ticks) * self.bucket_ticks)
    }

    fn add_to_map(&mut self, stop: &NewStop, sign: i128) {
        let key = (stop.side, self.bucket(stop.trigger));
        let v = self.map.entry(key).or_insert(0);
        *v += sign * stop.trigger.0 as i128 * stop.qty.0 as i128;
        if *v == 0 {
            self.map.remove(&key);
        }
    }

    /// The stop map: (side of the stops, bucket start, Σ trigger × size in tick·lots), by side
    /// then price. Multiply by the instrument's tick-lot value for micro-USD.
    pub fn map(&self) -> impl Iterator<Item = (Side, Price, i128)> + '_ {
        self.map.iter().map(|(&(s, p), &v)| (s, p, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stop(id: u64, side: Side, kind: StopKind, source: TriggerSource, trigger: i64) -> NewStop {
        NewStop {
            id: StopId(id),
            owner: AccountId(id as u32 % 3),
            side,
            kind,
            source,
            trigger: Price(trigger),
            qty: Qty(1),
            reduce_only: true,
        }
    }

    #[test]
    fn a_falling_price_reaches_the_highest_sell_stop_first_and_ties_go_by_time() {
        let mut b = StopBook::new(10);
        for s in [
            stop(0, Side::Sell, StopKind::StopMarket, TriggerSource::Last, 990),
            stop(1, Side::Sell, StopKind::StopMarket, TriggerSource::Last, 995),
            stop(2, Side::Sell, StopKind::StopMarket, TriggerSource::Last, 990),
            stop(3, Side::Buy, StopKind::TakeProfit, TriggerSource::Last, 992),
            stop(4, Side::Sell, StopKind::StopMarket, TriggerSource::Last, 980),
            // Rising and mark stops a fall to 990 does not reach.
            stop(5, Side::Buy, StopKind::StopMarket, TriggerSource::Last, 1_010),
            stop(6, Side::Sell, StopKind::StopMarket, TriggerSource::Mark, 995),
        ] {
            assert!(b.insert(s));
        }
        let mut due = Vec::new();
        b.due(Price(990), Price(1_000), &mut due);
        assert_eq!(due, [StopId(1), StopId(3), StopId(0), StopId(2)]);
        assert!(b.is_first_in_line(StopId(1)) && !b.is_first_in_line(StopId(0)));
        due.clear();
        b.due(Price(1_000), Price(995), &mut due);
        assert_eq!(due, [StopId(6)], "the mark reaches only the stop watching it");
        due.clear();
        b.due(Price(1_010), Price(1_000), &mut due);
        assert_eq!(due, [StopId(5)]);
        assert_eq!(
            b.stops_of(AccountId(0)).map(|s| s.id).collect::<Vec<_>>(),
            [StopId(0), StopId(3), StopId(6)]
        );
    }

    #[test]
    fn a_take_profit_triggers_the_other_way_from_a_stop_loss() {
        let long_stop = stop(0, Side::Sell, StopKind::StopMarket, TriggerSource::Last, 100);
        let long_tp = stop(1, Side::Sell, StopKind::TakeProfit, TriggerSource::Last, 100);
        let short_stop = stop(2, Side::Buy, StopKind::StopMarket, TriggerSource::Last, 100);
        let short_tp = stop(3, Side::Buy, StopKind::TakeProfit, TriggerSource::Last, 100);
        for (s, below, at, above) in [
            (long_stop, true, true, false),
            (long_tp, false, true, true),
            (short_stop, false, true, true),
            (short_tp, true, true, false),
        ] {
            assert_eq!([s.is_due(Price(99)), s.is_due(Price(100)), s.is_due(Price(101))], [below, at, above]);
        }
    }

    #[test]
    fn removing_keeps_the_map_exact() {
        let mut b = StopBook::new(100);
        let mut a = stop(0, Side::Sell, StopKind::StopMarket, TriggerSource::Mark, 950);
        a.qty = Qty(3);
        let c = stop(1, Side::Sell, StopKind::StopMarket, TriggerSource::Last, 960);
        assert!(b.insert(a) && b.insert(c) && !b.insert(c));
        assert_eq!(b.map().collect::<Vec<_>>(), [(Side::Sell, Price(900), 950 * 3 + 960)]);
        assert_eq!(b.remove(StopId(0)), Some(a));
        assert_eq!(b.remove(StopId(0)), None);
        assert_eq!(b.remove(StopId(1)), Some(c));
        assert!(b.is_empty());
        assert_eq!(b.map().count(), 0);
        assert!(b.queues.iter().all(|q| q.is_empty()) && b.by_owner.is_empty());
    }

    proptest! {
        /// The stops found due are exactly those a plain scan finds, in an order consistent with
        /// the rule: per queue, nearest trigger first, then by id.
        #[test]
        fn due_agrees_with_a_scan(
            stops in prop::collection::vec((any::<bool>(), any::<bool>(), any::<bool>(), 90i64..110), 0..60),
            removed in prop::collection::vec(0u64..60, 0..20),
            last in 85i64..115,
            mark in 85i64..115,
        ) {
            let mut b = StopBook::new(7);
            for (i, &(buy, tp, by_mark, trigger)) in stops.iter().enumerate() {
                let side = if buy { Side::Buy } else { Side::Sell };
                let kind = if tp { StopKind::TakeProfit } else { StopKind::StopMarket };
                let source = if by_mark { TriggerSource::Mark } else { TriggerSource::Last };
                b.insert(stop(i as u64, side, kind, source, trigger));
            }
            for id in removed {
                b.remove(StopId(id));
            }
            let mut due = Vec::new();
            b.due(Price(last), Price(mark), &mut due);
            let mut scanned: Vec<NewStop> = b
                .iter()
                .filter(|s| s.is_due(match s.source { TriggerSource::Last => Price(last), TriggerSource::Mark => Price(mark) }))
                .copied()
                .collect();
            scanned.sort_by_key(|s| (queue_index(s.source, s.crossing()), key(s)));
            prop_assert_eq!(due, scanned.iter().map(|s| s.id).collect::<Vec<_>>());
        }
    }
}
