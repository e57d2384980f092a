//! The order book: two ladders, an order slab, an id index and a per-owner index, with a pure
//! price-time priority matching core. Nothing here does I/O or reads global state; every
//! operation returns (or appends to caller buffers) exactly what happened.

use super::index::{IdMap, NIL};
use super::ladder::{INITIAL_WINDOW, Ladder, MAX_WINDOW};
use super::level::{Slab, Slot};
use super::order::{AccountId, Fill, NewOrder, OrderFlags, OrderId, OrderKind};
use crate::units::{Price, Qty, Side};
use serde::{Deserialize, Serialize};

/// Why the book refused an operation. A refused operation changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    #[error("order quantity must be positive, got {0:?}")]
    ZeroOrNegativeQty(Qty),
    #[error("limit price must be positive, got {0:?}")]
    NonPositivePrice(Price),
    #[error("order id {0:?} is already resting in the book")]
    DuplicateOrderId(OrderId),
    #[error("no resting order with id {0:?}")]
    UnknownOrder(OrderId),
    #[error("resting size on one side would exceed i64::MAX lots")]
    SizeOverflow,
    #[error("the book cannot hold more resting orders")]
    CapacityExceeded,
}

/// What became of a placed (or moved) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PlaceStatus {
    /// Fully matched on arrival.
    Filled,
    /// Nothing matched; all of it rests.
    Resting,
    /// Part matched, the rest rests.
    PartiallyFilledResting,
    /// IOC or market: whatever did not match (possibly all of it) was cancelled.
    Cancelled,
    /// Post-only that would have taken liquidity: nothing matched, nothing rests.
    Rejected,
}

/// The result of [`OrderBook::place`] or [`OrderBook::amend`].
///
/// For `place`, `filled + rested + cancelled == order.qty`. For `amend`, `filled + rested` is the
/// new size and `cancelled` is the size removed by a reduction (0 otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceOutcome {
    pub filled: Qty,
    pub rested: Qty,
    pub cancelled: Qty,
    /// Total size of the resting orders of the same owner that were cancelled by self-trade
    /// prevention; the orders themselves are in [`OrderBook::last_self_trade_cancels`].
    pub self_trade_cancelled: Qty,
    pub status: PlaceStatus,
}

/// A resting order removed without trading (cancel, cancel-all, self-trade prevention).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancelled {
    pub id: OrderId,
    pub owner: AccountId,
    pub side: Side,
    pub price: Price,
    /// The open size that was cancelled.
    pub remaining: Qty,
}

/// A resting order as seen from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestingOrder {
    pub id: OrderId,
    pub owner: AccountId,
    pub side: Side,
    pub kind: OrderKind,
    pub flags: OrderFlags,
    pub price: Price,
    /// Open size.
    pub qty: Qty,
}

/// One level of a depth snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepthLevel {
    pub price: Price,
    pub qty: Qty,
    pub orders: u32,
}

/// Liquidity a taker must consume to move the opposite best price to a target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sweep {
    pub qty: Qty,
    /// Σ price·qty in ticks·lots.
    pub value_ticks_lots: i128,
    pub levels: usize,
}

/// Size accounting over the life of the book, in lots.
///
/// Every lot that enters the book (`placed`: order sizes, plus size increases by `amend`) leaves
/// it exactly once or still rests: as the taker side of a fill (`filled_taker`), as the maker side
/// of a fill (`filled_maker`), or cancelled (`cancelled`: IOC/market remainders, rejected
/// post-only orders, cancels, cancel-all, self-trade prevention, amend size reductions). A fill
/// of `q` lots adds `q` to both `filled_taker` and `filled_maker`, since it consumes `q` lots of
/// two orders. So at all times
/// `placed == filled_taker + filled_maker + resting + cancelled` and
/// `filled_taker == filled_maker`. i128 so no sequence of i64-sized orders can overflow them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookStats {
    pub placed: i128,
    pub filled_taker: i128,
    pub filled_maker: i128,
    /// Open size currently resting on both sides.
    pub resting: i128,
    pub cancelled: i128,
}

impl BookStats {
    /// The conservation identity above.
    pub fn is_conserved(&self) -> bool {
        self.placed == self.filled_taker + self.filled_maker + self.resting + self.cancelled
            && self.filled_taker == self.filled_maker
    }
}

/// The incoming side of a match.
#[derive(Clone, Copy)]
struct Taker {
    id: OrderId,
    owner: AccountId,
    side: Side,
    /// Worst acceptable price (sentinel for market orders).
    limit: Price,
}

/// A price-time priority limit order book for one instrument.
#[derive(Clone, Debug)]
pub struct OrderBook {
    slab: Slab,
    ids: IdMap,
    /// Owner → first slot of that owner's intrusive list.
    owners: IdMap,
    bids: Ladder,
    asks: Ladder,
    stats: BookStats,
    stp: Vec<Cancelled>,
    /// Alongside `stp`: how many of the operation's fills came before each self-trade cancel.
    stp_before: Vec<usize>,
}

impl Default for OrderBook {
    fn default() -> Self {
        OrderBook::new()
    }
}

#[inline]
fn crosses(taker_side: Side, limit: Price, maker_price: Price) -> bool {
    match taker_side {
        Side::Buy => maker_price <= limit,
        Side::Sell => maker_price >= limit,
    }
}

/// Removes slot `i` from its owner's list.
#[inline]
fn unlink_owner(slab: &mut Slab, owners: &mut IdMap, i: u32) {
    let Some(s) = slab.get(i) else {
        return;
    };
    let (owner, prev, next) = (s.owner.0 as u64, s.oprev, s.onext);
    match slab.get_mut(prev) {
        Some(p) => p.onext = next,
        None if next == NIL => {
            owners.remove(owner);
        }
        None => owners.insert(owner, next),
    }
    if let Some(n) = slab.get_mut(next) {
        n.oprev = prev;
    }
}

/// Adds slot `i` at the head of its owner's list.
#[inline]
fn link_owner(slab: &mut Slab, owners: &mut IdMap, i: u32) {
    let Some(owner) = slab.get(i).map(|s| s.owner.0 as u64) else {
        return;
    };
    let head = owners.get(owner).unwrap_or(NIL);
    if let Some(s) = slab.get_mut(i) {
        s.oprev = NIL;
        s.onext = head;
    }
    if let Some(h) = slab.get_mut(head) {
        h.oprev = i;
    }
    owners.insert(owner, i);
}

fn view(s: &Slot) -> RestingOrder {
    RestingOrder {
        id: s.id,
        owner: s.owner,
        side: s.side,
        kind: s.kind,
        flags: s.flags,
        price: s.price,
        qty: s.qty,
    }
}

impl OrderBook {
    pub fn new() -> OrderBook {
        OrderBook::with_window(INITIAL_WINDOW, MAX_WINDOW)
    }

    /// A book whose ladders start with a dense window of `initial` ticks and grow it up to `max`
    /// ticks (tests use tiny windows to exercise the far-price path).
    pub(crate) fn with_window(initial: usize, max: usize) -> OrderBook {
        OrderBook {
            slab: Slab::default(),
            ids: IdMap::new(),
            owners: IdMap::new(),
            bids: Ladder::new(Side::Buy, initial, max),
            asks: Ladder::new(Side::Sell, initial, max),
            stats: BookStats::default(),
            stp: Vec::new(),
            stp_before: Vec::new(),
        }
    }

    #[inline]
    fn ladder(&self, side: Side) -> &Ladder {
        match side {
            Side::Buy => &self.bids,
            Side::Sell => &self.asks,
        }
    }

    #[inline]
    fn ladder_mut(&mut self, side: Side) -> &mut Ladder {
        match side {
            Side::Buy => &mut self.bids,
            Side::Sell => &mut self.asks,
        }
    }

    /// Matches `qty` of the taker against the opposite side; returns the unmatched rest.
    /// Same-owner makers met on the way are cancelled (expire-maker) and recorded in `self.stp`.
    #[inline]
    fn match_taker(&mut self, t: Taker, qty: Qty, out: &mut Vec<Fill>) -> Qty {
        let OrderBook { slab, ids, owners, bids, asks, stats, stp, stp_before } = self;
        let opp = match t.side {
            Side::Buy => asks,
            Side::Sell => bids,
        };
        let first_fill = out.len();
        let mut rem = qty.0;
        while rem > 0 {
            let Some(p) = opp.best() else { break };
            if !crosses(t.side, t.limit, p) {
                break;
            }
            let Some(head) = opp.level(p).map(|l| l.head()) else {
                break;
            };
            let Some(m) = slab.get_mut(head) else { break };
            let (mid, mqty) = (m.id, m.qty.0);
            if m.owner == t.owner {
                stp.push(Cancelled { id: mid, owner: m.owner, side: m.side, price: p, remaining: m.qty });
                stp_before.push(out.len() - first_fill);
                stats.cancelled += mqty as i128;
                stats.resting -= mqty as i128;
                opp.remove(slab, head, p);
                ids.remove(mid.0);
                unlink_owner(slab, owners, head);
                slab.release(head);
                continue;
            }
            let q = rem.min(mqty);
            out.push(Fill {
                maker_order: mid,
                maker: m.owner,
                taker_order: t.id,
                taker: t.owner,
                taker_side: t.side,
                price: p,
                qty: Qty(q),
            });
            rem -= q;
            stats.filled_taker += q as i128;
            stats.filled_maker += q as i128;
            stats.resting -= q as i128;
            if q == mqty {
                opp.remove(slab, head, p);
                ids.remove(mid.0);
                unlink_owner(slab, owners, head);
                slab.release(head);
            } else {
                m.qty = Qty(mqty - q);
                opp.reduce(p, Qty(q));
            }
        }
        Qty(rem)
    }

    /// Would an order on `side` with `limit` take liquidity right now?
    #[inline]
    fn would_cross(&self, side: Side, limit: Price) -> bool {
        self.ladder(side.opposite()).best().is_some_and(|p| crosses(side, limit, p))
    }

    /// Would resting `add` more lots on `side` (after removing `remove`) overflow its total?
    fn side_overflows(&self, side: Side, add: Qty, remove: Qty) -> bool {
        let t = self.ladder(side).total().0 as i128 - remove.0 as i128 + add.0 as i128;
        t > i64::MAX as i128
    }

    /// Places an order: matches it at makers' prices in price-time priority, appending fills to
    /// `out`, then rests (GTC, post-only), or cancels (IOC, market) the remainder. A post-only
    /// order that would match is rejected whole. Self-trade prevention cancels the resting
    /// order (see [`OrderBook::last_self_trade_cancels`]).
    pub fn place(&mut self, o: NewOrder, out: &mut Vec<Fill>) -> Result<PlaceOutcome, BookError> {
        if o.qty.0 <= 0 {
            return Err(BookError::ZeroOrNegativeQty(o.qty));
        }
        let limit = match o.kind {
            // A price-protected market order goes no further than its protection price.
            OrderKind::Market if o.price.0 > 0 => o.price,
            OrderKind::Market => match o.side {
                Side::Buy => Price::MAX,
                Side::Sell => Price::MIN,
            },
            _ if o.price.0 <= 0 => return Err(BookError::NonPositivePrice(o.price)),
            _ => o.price,
        };
        if self.ids.get(o.id.0).is_some() {
            return Err(BookError::DuplicateOrderId(o.id));
        }
        let rests = matches!(o.kind, OrderKind::Gtc | OrderKind::PostOnly);
        if rests {
            if self.side_overflows(o.side, o.qty, Qty(0)) {
                return Err(BookError::SizeOverflow);
            }
            if !self.slab.has_room() {
                return Err(BookError::CapacityExceeded);
            }
        }
        self.clear_self_trade_cancels();
        self.stats.placed += o.qty.0 as i128;
        if o.kind == OrderKind::PostOnly && self.would_cross(o.side, limit) {
            self.stats.cancelled += o.qty.0 as i128;
            return Ok(PlaceOutcome {
                filled: Qty(0),
                rested: Qty(0),
                cancelled: o.qty,
                self_trade_cancelled: Qty(0),
                status: PlaceStatus::Rejected,
            });
        }
        let taker = Taker { id: o.id, owner: o.owner, side: o.side, limit };
        let rem = self.match_taker(taker, o.qty, out);
        let filled = Qty(o.qty.0 - rem.0);
        let stp_qty = self.stp_total();
        let mut outcome = PlaceOutcome {
            filled,
            rested: Qty(0),
            cancelled: Qty(0),
            self_trade_cancelled: stp_qty,
            status: PlaceStatus::Filled,
        };
        if rem.0 == 0 {
            return Ok(outcome);
        }
        if !rests {
            self.stats.cancelled += rem.0 as i128;
            outcome.cancelled = rem;
            outcome.status = PlaceStatus::Cancelled;
            return Ok(outcome);
        }
        let slot = Slot {
            id: o.id,
            owner: o.owner,
            side: o.side,
            kind: o.kind,
            flags: o.flags,
            price: o.price,
            qty: rem,
            prev: NIL,
            next: NIL,
            oprev: NIL,
            onext: NIL,
        };
        // Room was checked above and matching only frees slots.
        let Some(i) = self.slab.alloc(slot) else {
            self.stats.cancelled += rem.0 as i128;
            outcome.cancelled = rem;
            outcome.status = PlaceStatus::Cancelled;
            return Ok(outcome);
        };
        let OrderBook { slab, ids, owners, bids, asks, .. } = self;
        match o.side {
            Side::Buy => bids.push(slab, i, o.price),
            Side::Sell => asks.push(slab, i, o.price),
        }
        ids.insert(o.id.0, i);
        link_owner(slab, owners, i);
        self.stats.resting += rem.0 as i128;
        outcome.rested = rem;
        outcome.status =
            if filled.0 > 0 { PlaceStatus::PartiallyFilledResting } else { PlaceStatus::Resting };
        Ok(outcome)
    }

    fn stp_total(&self) -> Qty {
        Qty(self.stp.iter().map(|c| c.remaining.0).sum())
    }

    /// Removes a resting order.
    pub fn cancel(&mut self, id: OrderId) -> Result<Cancelled, BookError> {
        let i = self.ids.get(id.0).ok_or(BookError::UnknownOrder(id))?;
        let s = *self.slab.get(i).ok_or(BookError::UnknownOrder(id))?;
        let OrderBook { slab, ids, owners, bids, asks, stats, .. } = self;
        match s.side {
            Side::Buy => bids.remove(slab, i, s.price),
            Side::Sell => asks.remove(slab, i, s.price),
        }
        ids.remove(id.0);
        unlink_owner(slab, owners, i);
        slab.release(i);
        stats.cancelled += s.qty.0 as i128;
        stats.resting -= s.qty.0 as i128;
        Ok(Cancelled { id, owner: s.owner, side: s.side, price: s.price, remaining: s.qty })
    }

    /// Moves a resting order to `new_price` with open size `new_qty`.
    ///
    /// A pure size decrease at the same price keeps time priority. Any other change (new price,
    /// larger size) sends the order to the back of its new level, and if the new price crosses
    /// the book it matches first, like a GTC order (whatever its original kind), with
    /// self-trade prevention as in [`OrderBook::place`]. Fills name the moved order as taker.
    pub fn amend(
        &mut self,
        id: OrderId,
        new_price: Price,
        new_qty: Qty,
        out: &mut Vec<Fill>,
    ) -> Result<PlaceOutcome, BookError> {
        let i = self.ids.get(id.0).ok_or(BookError::UnknownOrder(id))?;
        if new_qty.0 <= 0 {
            return Err(BookError::ZeroOrNegativeQty(new_qty));
        }
        if new_price.0 <= 0 {
            return Err(BookError::NonPositivePrice(new_price));
        }
        let s = *self.slab.get(i).ok_or(BookError::UnknownOrder(id))?;
        if new_price == s.price && new_qty <= s.qty {
            let d = s.qty.0 - new_qty.0;
            self.clear_self_trade_cancels();
            if d > 0 {
                if let Some(m) = self.slab.get_mut(i) {
                    m.qty = new_qty;
                }
                self.ladder_mut(s.side).reduce(s.price, Qty(d));
                self.stats.cancelled += d as i128;
                self.stats.resting -= d as i128;
            }
            return Ok(PlaceOutcome {
                filled: Qty(0),
                rested: new_qty,
                cancelled: Qty(d),
                self_trade_cancelled: Qty(0),
                status: PlaceStatus::Resting,
            });
        }
        if self.side_overflows(s.side, new_qty, s.qty) {
            return Err(BookError::SizeOverflow);
        }
        self.clear_self_trade_cancels();
        if new_price == s.price && self.ladder(s.side).is_last(i, s.price) {
            // A larger size at its price, already last in its level: the back of the level is
            // where it stands, so it grows in place (a resting order at its own price cannot
            // cross), sparing the unlink and relink (and a level that empties and returns).
            let d = new_qty.0 - s.qty.0;
            if let Some(m) = self.slab.get_mut(i) {
                m.qty = new_qty;
            }
            self.ladder_mut(s.side).grow(s.price, Qty(d));
            self.stats.placed += d as i128;
            self.stats.resting += d as i128;
            return Ok(PlaceOutcome {
                filled: Qty(0),
                rested: new_qty,
                cancelled: Qty(0),
                self_trade_cancelled: Qty(0),
                status: PlaceStatus::Resting,
            });
        }
        {
            let OrderBook { slab, bids, asks, .. } = self;
            match s.side {
                Side::Buy => bids.remove(slab, i, s.price),
                Side::Sell => asks.remove(slab, i, s.price),
            }
        }
        self.stats.resting -= s.qty.0 as i128;
        let delta = new_qty.0 as i128 - s.qty.0 as i128;
        let reduced = Qty((-delta).max(0) as i64);
        if delta > 0 {
            self.stats.placed += delta;
        } else {
            self.stats.cancelled -= delta;
        }
        let taker = Taker { id, owner: s.owner, side: s.side, limit: new_price };
        let rem = self.match_taker(taker, new_qty, out);
        let filled = Qty(new_qty.0 - rem.0);
        let self_trade_cancelled = self.stp_total();
        let OrderBook { slab, ids, owners, bids, asks, stats, .. } = self;
        if rem.0 == 0 {
            ids.remove(id.0);
            unlink_owner(slab, owners, i);
            slab.release(i);
            return Ok(PlaceOutcome {
                filled,
                rested: Qty(0),
                cancelled: reduced,
                self_trade_cancelled,
                status: PlaceStatus::Filled,
            });
        }
        if let Some(m) = slab.get_mut(i) {
            m.price = new_price;
            m.qty = rem;
        }
        match s.side {
            Side::Buy => bids.push(slab, i, new_price),
            Side::Sell => asks.push(slab, i, new_price),
        }
        stats.resting += rem.0 as i128;
        Ok(PlaceOutcome {
            filled,
            rested: rem,
            cancelled: reduced,
            self_trade_cancelled,
            status: if filled.0 > 0 { PlaceStatus::PartiallyFilledResting } else { PlaceStatus::Resting },
        })
    }

    /// Cancels every resting order of `owner` (both sides), appending them to `out`.
    /// O(orders of that owner).
    pub fn cancel_all(&mut self, owner: AccountId, out: &mut Vec<Cancelled>) {
        let OrderBook { slab, ids, owners, bids, asks, stats, .. } = self;
        let mut i = owners.remove(owner.0 as u64).unwrap_or(NIL);
        while let Some(s) = slab.get(i).copied() {
            match s.side {
                Side::Buy => bids.remove(slab, i, s.price),
                Side::Sell => asks.remove(slab, i, s.price),
            }
            ids.remove(s.id.0);
            slab.release(i);
            stats.cancelled += s.qty.0 as i128;
            stats.resting -= s.qty.0 as i128;
            out.push(Cancelled { id: s.id, owner: s.owner, side: s.side, price: s.price, remaining: s.qty });
            i = s.onext;
        }
    }

    /// Resting orders cancelled by self-trade prevention during the last `place` or `amend`.
    pub fn last_self_trade_cancels(&self) -> &[Cancelled] {
        &self.stp
    }

    /// Alongside [`OrderBook::last_self_trade_cancels`]: how many of that operation's fills
    /// came before each cancel, so a log can record them where they happened.
    pub fn last_self_trade_positions(&self) -> &[usize] {
        &self.stp_before
    }

    fn clear_self_trade_cancels(&mut self) {
        self.stp.clear();
        self.stp_before.clear();
    }

    pub fn best_bid(&self) -> Option<Price> {
        self.bids.best()
    }
    pub fn best_ask(&self) -> Option<Price> {
        self.asks.best()
    }
    /// Best price on `side`.
    pub fn best(&self, side: Side) -> Option<Price> {
        self.ladder(side).best()
    }

    /// Best ask − best bid, in ticks.
    pub fn spread(&self) -> Option<Price> {
        Some(Price(self.best_ask()?.0 - self.best_bid()?.0))
    }

    /// Best bid + best ask: twice the mid price, exact.
    pub fn mid_x2(&self) -> Option<i128> {
        Some(self.best_bid()?.0 as i128 + self.best_ask()?.0 as i128)
    }

    /// Mid price rounded down to a tick.
    pub fn mid(&self) -> Option<Price> {
        let m = self.mid_x2()?.div_euclid(2);
        i64::try_from(m).ok().map(Price)
    }

    /// A resting order by id.
    pub fn order(&self, id: OrderId) -> Option<RestingOrder> {
        self.ids.get(id.0).and_then(|i| self.slab.get(i)).map(view)
    }

    /// The first `levels` levels of `side`, best first.
    pub fn depth(&self, side: Side, levels: usize) -> impl Iterator<Item = DepthLevel> + '_ {
        self.ladder(side).iter().take(levels).map(|(price, l)| DepthLevel {
            price,
            qty: l.total,
            orders: l.count,
        })
    }

    /// Every resting order of `side` in matching priority: best price first, and within a
    /// price in time priority.
    pub fn resting_orders(&self, side: Side) -> impl Iterator<Item = RestingOrder> + '_ {
        self.ladder(side).iter().flat_map(|(_, l)| l.iter(&self.slab)).map(|(_, s)| view(s))
    }

    /// The resting orders of `owner`, newest first (the order [`OrderBook::cancel_all`]
    /// removes them in).
    pub fn orders_of(&self, owner: AccountId) -> impl Iterator<Item = RestingOrder> + '_ {
        let mut i = self.owners.get(owner.0 as u64).unwrap_or(NIL);
        std::iter::from_fn(move || {
            let s = self.slab.get(i)?;
            i = s.onext;
            Some(view(s))
        })
    }

    /// The orders resting at `price` on `side`, in time priority.
    pub fn orders_at(&self, side: Side, price: Price) -> impl Iterator<Item = RestingOrder> + '_ {
        self.ladder(side).level(price).into_iter().flat_map(|l| l.iter(&self.slab)).map(|(_, s)| view(s))
    }

    /// (Σ qty, Σ price·qty) over levels of `side` within `distance` ticks of its best price
    /// (inclusive). A negative distance covers nothing.
    fn within(&self, side: Side, distance: Price) -> (Qty, i128) {
        let (mut q, mut v) = (0i64, 0i128);
        let Some(best) = self.best(side) else {
            return (Qty(0), 0);
        };
        if distance.0 < 0 {
            return (Qty(0), 0);
        }
        let d = distance.0 as i128;
        for (p, l) in self.ladder(side).iter() {
            let gap = (p.0 as i128 - best.0 as i128).abs();
            if gap > d {
                break;
            }
            q += l.total.0;
            v += p.0 as i128 * l.total.0 as i128;
        }
        (Qty(q), v)
    }

    /// Resting size on `side` within `distance` ticks of that side's best price (inclusive).
    pub fn depth_within(&self, side: Side, distance: Price) -> Qty {
        self.within(side, distance).0
    }

    /// Σ price·qty (ticks·lots) of the levels counted by [`OrderBook::depth_within`].
    pub fn depth_notional_within(&self, side: Side, distance: Price) -> i128 {
        self.within(side, distance).1
    }

    /// What a taker on `taker_side` must consume to move the opposite best price to `target`:
    /// for a buyer, all asks strictly below `target` (after which the best ask is ≥ target); for
    /// a seller, all bids strictly above `target`.
    pub fn sweep_cost(&self, taker_side: Side, target: Price) -> Sweep {
        let mut s = Sweep::default();
        for (p, l) in self.ladder(taker_side.opposite()).iter() {
            let inside = match taker_side {
                Side::Buy => p < target,
                Side::Sell => p > target,
            };
            if !inside {
                break;
            }
            s.qty = Qty(s.qty.0 + l.total.0);
            s.value_ticks_lots += p.0 as i128 * l.total.0 as i128;
            s.levels += 1;
        }
        s
    }

    /// Filling `qty` as a taker on `taker_side` right now: the worst price reached and the total
    /// value Σ price·qty (ticks·lots); average price = value / qty. `None` if `qty` is not
    /// positive or the opposite side holds less than `qty`. Ignores self-trade prevention.
    pub fn impact_price(&self, taker_side: Side, qty: Qty) -> Option<(Price, i128)> {
        if qty.0 <= 0 {
            return None;
        }
        let mut rem = qty.0;
        let mut value = 0i128;
        for (p, l) in self.ladder(taker_side.opposite()).iter() {
            let take = rem.min(l.total.0);
            value += p.0 as i128 * take as i128;
            rem -= take;
            if rem == 0 {
                return Some((p, value));
            }
        }
        None
    }

    /// The worst price an order of `qty` on `taker_side`, limited at `limit`, would fill at now:
    /// the last level it reaches before it is filled or the next level is beyond its limit
    /// (`None`: it would fill nothing). A market order's limit is [`Price::MAX`] or
    /// [`Price::MIN`], or its protection price.
    pub fn worst_fill(&self, taker_side: Side, qty: Qty, limit: Price) -> Option<Price> {
        let mut rem = qty.0;
        let mut worst = None;
        for (p, l) in self.ladder(taker_side.opposite()).iter() {
            if rem <= 0 || !crosses(taker_side, limit, p) {
                break;
            }
            worst = Some(p);
            rem -= l.total.0;
        }
        worst
    }

    /// Number of non-empty price levels on `side`.
    pub fn levels_len(&self, side: Side) -> usize {
        self.ladder(side).levels()
    }

    /// Number of resting orders on `side`.
    pub fn side_order_count(&self, side: Side) -> usize {
        self.ladder(side).orders()
    }

    /// Total resting size on `side`.
    pub fn side_qty(&self, side: Side) -> Qty {
        self.ladder(side).total()
    }

    /// Number of resting orders.
    pub fn order_count(&self) -> usize {
        self.ids.len()
    }

    pub fn stats(&self) -> BookStats {
        self.stats
    }

    /// Verifies every structural invariant; `Err` describes the first violation found.
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut seen = Vec::new();
        self.bids.check(&self.slab, &mut seen)?;
        self.asks.check(&self.slab, &mut seen)?;
        if let (Some(b), Some(a)) = (self.best_bid(), self.best_ask())
            && b >= a
        {
            return Err(format!("book crossed: bid {b:?} ≥ ask {a:?}"));
        }
        let n = seen.len();
        if n != self.ids.len() || n != self.slab.live() {
            return Err(format!(
                "{n} orders in levels, {} ids, {} live slots",
                self.ids.len(),
                self.slab.live()
            ));
        }
        for &i in &seen {
            let s = self.slab.get(i).ok_or("slot out of range")?;
            if self.ids.get(s.id.0) != Some(i) {
                return Err(format!("id index does not map {:?} to slot {i}", s.id));
            }
        }
        let mut owned = 0usize;
        for (owner, head) in self.owners.iter() {
            let mut prev = NIL;
            let mut i = head;
            while let Some(s) = self.slab.get(i) {
                if s.owner.0 as u64 != owner || s.oprev != prev {
                    return Err(format!("owner list of {owner} broken at slot {i}"));
                }
                if self.ids.get(s.id.0) != Some(i) {
                    return Err(format!("owner list of {owner} holds a dead slot {i}"));
                }
                owned += 1;
                if owned > n {
                    return Err("owner lists cycle".into());
                }
                prev = i;
                i = s.onext;
            }
            if prev == NIL {
                return Err(format!("owner {owner} indexed with an empty list"));
            }
        }
        if owned != n {
            return Err(format!("owner lists hold {owned} orders, book holds {n}"));
        }
        let resting = self.bids.total().0 as i128 + self.asks.total().0 as i128;
        if self.stats.resting != resting {
            return Err(format!("stats.resting {} ≠ resting size {resting}", self.stats.resting));
        }
        if !self.stats.is_conserved() {
            return Err(format!("size not conserved: {:?}", self.stats));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Side = Side::Buy;
    const S: Side = Side::Sell;

    fn order(id: u64, owner: u32, side: Side, kind: OrderKind, price: i64, qty: i64) -> NewOrder {
        NewOrder {
            id: OrderId(id),
            owner: AccountId(owner),
            side,
            kind,
            price: Price(price),
            qty: Qty(qty),
            flags: OrderFlags::default(),
        }
    }

    fn gtc(id: u64, owner: u32, side: Side, price: i64, qty: i64) -> NewOrder {
        order(id, owner, side, OrderKind::Gtc, price, qty)
    }

    /// Places and checks invariants.
    fn put(book: &mut OrderBook, o: NewOrder, out: &mut Vec<Fill>) -> PlaceOutcome {
        let r = book.place(o, out).expect("valid order");
        book.check_invariants().unwrap();
        r
    }

    fn fill(maker: u64, maker_acc: u32, taker: u64, taker_acc: u32, side: Side, p: i64, q: i64) -> Fill {
        Fill {
            maker_order: OrderId(maker),
            maker: AccountId(maker_acc),
            taker_order: OrderId(taker),
            taker: AccountId(taker_acc),
            taker_side: side,
            price: Price(p),
            qty: Qty(q),
        }
    }

    fn ids_at(book: &OrderBook, side: Side, p: i64) -> Vec<(u64, i64)> {
        book.orders_at(side, Price(p)).map(|o| (o.id.0, o.qty.0)).collect()
    }

    /// Bids 98×5 (id 1), 99×3 (id 2); asks 101×4 (id 3), 102×6 (id 4). Owners 1..=4.
    fn sample() -> OrderBook {
        let mut b = OrderBook::new();
        let mut out = Vec::new();
        put(&mut b, gtc(1, 1, B, 98, 5), &mut out);
        put(&mut b, gtc(2, 2, B, 99, 3), &mut out);
        put(&mut b, gtc(3, 3, S, 101, 4), &mut out);
        put(&mut b, gtc(4, 4, S, 102, 6), &mut out);
        assert!(out.is_empty());
        b
    }

    #[test]
    fn gtc_rests_and_queries_see_it() {
        let b = sample();
        assert_eq!(b.best_bid(), Some(Price(99)));
        assert_eq!(b.best_ask(), Some(Price(101)));
        assert_eq!(b.spread(), Some(Price(2)));
        assert_eq!(b.mid(), Some(Price(100)));
        assert_eq!(b.mid_x2(), Some(200));
        assert_eq!(b.order_count(), 4);
        assert_eq!(b.levels_len(B), 2);
        assert_eq!(b.levels_len(S), 2);
        assert_eq!(b.side_qty(S), Qty(10));
        let o = b.order(OrderId(3)).unwrap();
        assert_eq!((o.owner, o.side, o.price, o.qty), (AccountId(3), S, Price(101), Qty(4)));
        assert_eq!(b.order(OrderId(99)), None);
        let bids: Vec<_> = b.depth(B, 10).map(|l| (l.price.0, l.qty.0, l.orders)).collect();
        assert_eq!(bids, vec![(99, 3, 1), (98, 5, 1)]);
        let asks: Vec<_> = b.depth(S, 1).map(|l| (l.price.0, l.qty.0)).collect();
        assert_eq!(asks, vec![(101, 4)]);
        let empty = OrderBook::new();
        assert_eq!((empty.best_bid(), empty.spread(), empty.mid()), (None, None, None));
        assert_eq!(empty.depth(S, 5).count(), 0);
    }

    #[test]
    fn gtc_crossing_fills_at_maker_prices_and_rests_the_rest() {
        let mut b = sample();
        let mut out = Vec::new();
        let r = put(&mut b, gtc(10, 9, B, 102, 12), &mut out);
        assert_eq!(out, vec![fill(3, 3, 10, 9, B, 101, 4), fill(4, 4, 10, 9, B, 102, 6)]);
        assert_eq!(r.status, PlaceStatus::PartiallyFilledResting);
        assert_eq!((r.filled, r.rested, r.cancelled), (Qty(10), Qty(2), Qty(0)));
        assert_eq!(b.best_bid(), Some(Price(102)));
        assert_eq!(b.best_ask(), None);
        assert_eq!(b.order(OrderId(10)).unwrap().qty, Qty(2));

        // The resting remainder is a normal maker now.
        out.clear();
        let r = put(&mut b, gtc(11, 8, S, 99, 1), &mut out);
        assert_eq!(r.status, PlaceStatus::Filled);
        assert_eq!(out, vec![fill(10, 9, 11, 8, S, 102, 1)]);
        assert_eq!(b.order(OrderId(10)).unwrap().qty, Qty(1));
    }

    #[test]
    fn partial_fill_of_maker_keeps_it_at_the_head() {
        let mut b = sample();
        let mut out = Vec::new();
        put(&mut b, gtc(5, 5, S, 101, 2), &mut out);
        let r = put(&mut b, gtc(10, 9, B, 101, 3), &mut out);
        assert_eq!(r.status, PlaceStatus::Filled);
        assert_eq!(out, vec![fill(3, 3, 10, 9, B, 101, 3)]);
        assert_eq!(ids_at(&b, S, 101), vec![(3, 1), (5, 2)]);
        assert_eq!(b.depth(S, 1).next().unwrap().qty, Qty(3));
    }

    #[test]
    fn fifo_within_a_level() {
        let mut b = OrderBook::new();
        let mut out = Vec::new();
        for (id, q) in [(1, 2), (2, 3), (3, 4)] {
            put(&mut b, gtc(id, id as u32, S, 100, q), &mut out);
        }
        assert_eq!(ids_at(&b, S, 100), vec![(1, 2), (2, 3), (3, 4)]);
        let r = put(&mut b, gtc(9, 9, B, 100, 6), &mut out);
        assert_eq!(r.status, PlaceStatus::Filled);
        assert_eq!(
            out,
            vec![fill(1, 1, 9, 9, B, 100, 2), fill(2, 2, 9, 9, B, 100, 3), fill(3, 3, 9, 9, B, 100, 1)]
        );
        assert_eq!(ids_at(&b, S, 100), vec![(3, 3)]);
    }

    #[test]
    fn ioc_matches_what_it_can_and_cancels_the_rest() {
        let mut b = sample();
        let mut out = Vec::new();
        let r = put(&mut b, order(10, 9, B, OrderKind::Ioc, 101, 7), &mut out);
        assert_eq!(out, vec![fill(3, 3, 10, 9, B, 101, 4)]);
        assert_eq!(r.status, PlaceStatus::Cancelled);
        assert_eq!((r.filled, r.rested, r.cancelled), (Qty(4), Qty(0), Qty(3)));
        assert_eq!(b.order(OrderId(10)), None);
        // Not crossing at all: cancelled whole.
        out.clear();
        let r = put(&mut b, order(11, 9, S, OrderKind::Ioc, 100, 2), &mut out);
        assert!(out.is_empty());
        assert_eq!((r.status, r.cancelled), (PlaceStatus::Cancelled, Qty(2)));
        // Fully filled.
        let r = put(&mut b, order(12, 9, S, OrderKind::Ioc, 98, 4), &mut out);
        assert_eq!(r.status, PlaceStatus::Filled);
        assert_eq!(out, vec![fill(2, 2, 12, 9, S, 99, 3), fill(1, 1, 12, 9, S, 98, 1)]);
        assert_eq!(b.order(OrderId(1)).unwrap().qty, Qty(4));
    }

    #[test]
    fn market_orders_ignore_price_and_never_rest() {
        let mut out = Vec::new();
        let mut empty = OrderBook::new();
        let r = put(&mut empty, order(1, 1, B, OrderKind::Market, 0, 5), &mut out);
        assert_eq!(r.status, PlaceStatus::Cancelled);
        assert_eq!((r.filled, r.cancelled), (Qty(0), Qty(5)));
        assert_eq!(empty.order_count(), 0);

        let mut b = sample();
        let r = put(&mut b, order(10, 9, S, OrderKind::Market, -7, 6), &mut out);
        assert_eq!(r.status, PlaceStatus::Filled);
        assert_eq!(out, vec![fill(2, 2, 10, 9, S, 99, 3), fill(1, 1, 10, 9, S, 98, 3)]);
        out.clear();
        let r = put(&mut b, order(11, 9, B, OrderKind::Market, i64::MIN, 100), &mut out);
        assert_eq!((r.filled, r.cancelled), (Qty(10), Qty(90)));
        assert_eq!(b.best_ask(), None);
    }

    #[test]
    fn post_only_rests_or_is_rejected_whole() {
        let mut b = sample();
        let mut out = Vec::new();
        let r = put(&mut b, order(10, 9, B, OrderKind::PostOnly, 100, 2), &mut out);
        assert_eq!(r.status, PlaceStatus::Resting);
        assert_eq!(b.best_bid(), Some(Price(100)));
        let before = b.clone();
        let r = put(&mut b, order(11, 9, B, OrderKind::PostOnly, 101, 2), &mut out);
        assert_eq!(r.status, PlaceStatus::Rejected);
        assert_eq!((r.filled, r.rested, r.cancelled), (Qty(0), Qty(0), Qty(2)));
        assert!(out.is_empty());
        assert_eq!(b.order(OrderId(11)), None);
        assert_eq!(b.best_ask(), Some(Price(101)));
        assert_eq!(b.side_qty(S), before.side_qty(S));
        // Rejected even when the only liquidity it would take is its owner's own.
        let r = put(&mut b, order(13, 9, S, OrderKind::PostOnly, 100, 1), &mut out);
        assert_eq!(r.status, PlaceStatus::Rejected);
    }

    #[test]
    fn amend_size_decrease_keeps_priority_other_changes_lose_it() {
        let mut b = OrderBook::new();
        let mut out = Vec::new();
        for id in 1..=3 {
            put(&mut b, gtc(id, id as u32, S, 100, 5), &mut out);
        }
        let r = b.amend(OrderId(1), Price(100), Qty(2), &mut out).unwrap();
        assert_eq!(r.status, PlaceStatus::Resting);
        assert_eq!((r.rested, r.cancelled), (Qty(2), Qty(3)));
        assert_eq!(ids_at(&b, S, 100), vec![(1, 2), (2, 5), (3, 5)]);
        // Same size, same price: no change at all.
        b.amend(OrderId(2), Price(100), Qty(5), &mut out).unwrap();
        assert_eq!(ids_at(&b, S, 100), vec![(1, 2), (2, 5), (3, 5)]);
        // Size increase: back of the queue.
        b.amend(OrderId(1), Price(100), Qty(4), &mut out).unwrap();
        assert_eq!(ids_at(&b, S, 100), vec![(2, 5), (3, 5), (1, 4)]);
        // Price change and back: back of the queue.
        b.amend(OrderId(2), Price(101), Qty(5), &mut out).unwrap();
        assert_eq!(ids_at(&b, S, 101), vec![(2, 5)]);
        b.amend(OrderId(2), Price(100), Qty(5), &mut out).unwrap();
        assert_eq!(ids_at(&b, S, 100), vec![(3, 5), (1, 4), (2, 5)]);
        assert_eq!(b.levels_len(S), 1);
        b.check_invariants().unwrap();
        assert!(out.is_empty());
        // Price change with a size decrease also loses priority.
        let r = b.amend(OrderId(3), Price(1000), Qty(1), &mut out).unwrap();
        assert_eq!(r.cancelled, Qty(4));
        let r = b.amend(OrderId(3), Price(100), Qty(1), &mut out).unwrap();
        assert_eq!(r.cancelled, Qty(0));
        assert_eq!(ids_at(&b, S, 100), vec![(1, 4), (2, 5), (3, 1)]);
        b.check_invariants().unwrap();
    }

    #[test]
    fn a_size_increase_of_the_last_order_at_a_level_grows_it_where_it_stands() {
        let mut b = OrderBook::new();
        let mut out = Vec::new();
        put(&mut b, gtc(1, 1, S, 100, 5), &mut out);
        put(&mut b, gtc(2, 2, S, 100, 5), &mut out);
        put(&mut b, gtc(3, 3, S, 101, 5), &mut out);
        let before = b.stats();
        let r = b.amend(OrderId(2), Price(100), Qty(9), &mut out).unwrap();
        assert_eq!(r.status, PlaceStatus::Resting);
        assert_eq!((r.filled, r.rested, r.cancelled), (Qty(0), Qty(9), Qty(0)));
        assert_eq!(ids_at(&b, S, 100), vec![(1, 5), (2, 9)]);
        assert_eq!(b.side_qty(S), Qty(19));
        assert_eq!(b.stats().placed, before.placed + 4);
        assert_eq!(b.stats().resting, before.resting + 4);
        // Alone at its level, it grows there: the level stays.
        let r = b.amend(OrderId(3), Price(101), Qty(8), &mut out).unwrap();
        assert_eq!(r.rested, Qty(8));
        assert_eq!(ids_at(&b, S, 101), vec![(3, 8)]);
        assert_eq!((b.best_ask(), b.levels_len(S)), (Some(Price(100)), 2));
        // Alone at the best level, it grows there: the best price stays (the old path emptied
        // the level and found the best again).
        put(&mut b, gtc(5, 5, B, 99, 3), &mut out);
        put(&mut b, gtc(6, 6, B, 98, 3), &mut out);
        let r = b.amend(OrderId(5), Price(99), Qty(6), &mut out).unwrap();
        assert_eq!(r.rested, Qty(6));
        assert_eq!(ids_at(&b, B, 99), vec![(5, 6)]);
        assert_eq!((b.best_bid(), b.levels_len(B), b.side_qty(B)), (Some(Price(99)), 2, Qty(9)));
        b.check_invariants().unwrap();
        // A buyer meets the queue in its order: 1, then the grown 2.
        put(&mut b, gtc(4, 4, B, 100, 7), &mut out);
        assert_eq!(out.iter().map(|f| (f.maker_order.0, f.qty.0)).collect::<Vec<_>>(), vec![(1, 5), (2, 2)]);
        b.check_invariants().unwrap();
    }

    #[test]
    fn amend_that_crosses_matches_like_gtc() {
        let mut b = sample();
        let mut out = Vec::new();
        // Move bid 2 (99×3) up to 101: takes 3 of ask 3, nothing rests.
        let r = b.amend(OrderId(2), Price(101), Qty(3), &mut out).unwrap();
        assert_eq!(r.status, PlaceStatus::Filled);
        assert_eq!(out, vec![fill(3, 3, 2, 2, B, 101, 3)]);
        assert_eq!(b.order(OrderId(2)), None);
        b.check_invariants().unwrap();
        // Move bid 1 (98×5) to 102 with size 8: takes 1 @101, 6 @102, rests 1 @102.
        out.clear();
        let r = b.amend(OrderId(1), Price(102), Qty(8), &mut out).unwrap();
        assert_eq!(r.status, PlaceStatus::PartiallyFilledResting);
        assert_eq!((r.filled, r.rested), (Qty(7), Qty(1)));
        assert_eq!(out, vec![fill(3, 3, 1, 1, B, 101, 1), fill(4, 4, 1, 1, B, 102, 6)]);
        let o = b.order(OrderId(1)).unwrap();
        assert_eq!((o.price, o.qty), (Price(102), Qty(1)));
        assert_eq!(b.best_ask(), None);
        b.check_invariants().unwrap();
        assert!(b.stats().is_conserved());
    }

    #[test]
    fn self_trade_cancels_the_resting_order_and_continues() {
        let mut b = sample();
        let mut out = Vec::new();
        put(&mut b, gtc(5, 9, S, 101, 2), &mut out); // behind order 3 at 101
        put(&mut b, gtc(6, 9, S, 100, 1), &mut out); // best ask, owner 9
        let r = put(&mut b, gtc(10, 9, B, 101, 5), &mut out);
        // Order 6 (own) is cancelled, 3 fills 4, then 5 (own) is cancelled; 1 lot rests at 101.
        assert_eq!(out, vec![fill(3, 3, 10, 9, B, 101, 4)]);
        let stp: Vec<_> = b
            .last_self_trade_cancels()
            .iter()
            .map(|c| (c.id.0, c.owner.0, c.price.0, c.remaining.0))
            .collect();
        assert_eq!(stp, vec![(6, 9, 100, 1), (5, 9, 101, 2)]);
        // Where they happened: 6 before any fill, 5 after the fill against 3.
        assert_eq!(b.last_self_trade_positions(), &[0, 1]);
        assert_eq!(r.self_trade_cancelled, Qty(3));
        assert_eq!(r.status, PlaceStatus::PartiallyFilledResting);
        assert_eq!((r.filled, r.rested), (Qty(4), Qty(1)));
        assert_eq!(b.order(OrderId(5)), None);
        assert_eq!(b.order(OrderId(6)), None);
        assert_eq!(b.best_bid(), Some(Price(101)));
        assert_eq!(b.best_ask(), Some(Price(102)));
        // The buffer is reset by the next place.
        put(&mut b, gtc(11, 1, B, 50, 1), &mut out);
        assert!(b.last_self_trade_cancels().is_empty());
        // Also through amend: owner 4's bid moved onto its own ask.
        put(&mut b, gtc(12, 4, B, 90, 1), &mut out);
        out.clear();
        let r = b.amend(OrderId(12), Price(102), Qty(1), &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(r.status, PlaceStatus::Resting);
        assert_eq!(b.last_self_trade_cancels()[0].id, OrderId(4));
        b.check_invariants().unwrap();
    }

    #[test]
    fn cancel_and_cancel_all() {
        let mut b = sample();
        let mut out = Vec::new();
        put(&mut b, gtc(5, 1, S, 105, 2), &mut out);
        put(&mut b, gtc(6, 1, B, 97, 3), &mut out);
        put(&mut b, gtc(7, 2, B, 97, 1), &mut out);
        let listed: Vec<_> = b.orders_of(AccountId(1)).map(|o| o.id.0).collect();
        let c = b.cancel(OrderId(2)).unwrap();
        assert_eq!(
            c,
            Cancelled { id: OrderId(2), owner: AccountId(2), side: B, price: Price(99), remaining: Qty(3) }
        );
        assert_eq!(b.best_bid(), Some(Price(98)));
        assert_eq!(b.cancel(OrderId(2)), Err(BookError::UnknownOrder(OrderId(2))));
        let mut gone = Vec::new();
        b.cancel_all(AccountId(1), &mut gone);
        // `orders_of` lists what `cancel_all` removes, in the same order.
        assert_eq!(listed, gone.iter().map(|c| c.id.0).collect::<Vec<_>>());
        let mut got: Vec<_> = gone.iter().map(|c| (c.id.0, c.price.0, c.remaining.0)).collect();
        got.sort();
        assert_eq!(got, vec![(1, 98, 5), (5, 105, 2), (6, 97, 3)]);
        assert_eq!(b.order_count(), 3);
        assert_eq!(b.best_bid(), Some(Price(97)));
        assert_eq!(ids_at(&b, B, 97), vec![(7, 1)]);
        gone.clear();
        b.cancel_all(AccountId(1), &mut gone);
        b.cancel_all(AccountId(77), &mut gone);
        assert!(gone.is_empty());
        b.check_invariants().unwrap();
        let st = b.stats();
        assert_eq!(st.cancelled, 3 + 5 + 2 + 3);
        assert!(st.is_conserved());
    }

    #[test]
    fn resting_orders_come_in_matching_priority() {
        let mut b = sample();
        let mut out = Vec::new();
        put(&mut b, gtc(5, 1, S, 101, 2), &mut out);
        put(&mut b, gtc(6, 2, B, 99, 1), &mut out);
        let asks: Vec<_> = b.resting_orders(S).map(|o| (o.price.0, o.id.0)).collect();
        let bids: Vec<_> = b.resting_orders(B).map(|o| (o.price.0, o.id.0)).collect();
        let mut want_asks: Vec<_> = asks.clone();
        want_asks.sort_by_key(|&(p, _)| p);
        assert_eq!(asks, want_asks, "asks lowest first");
        assert!(bids.windows(2).all(|w| w[0].0 >= w[1].0), "bids highest first: {bids:?}");
        // Within a price, time priority: the newer order comes after the older ones.
        let at_101: Vec<_> = asks.iter().filter(|&&(p, _)| p == 101).map(|&(_, id)| id).collect();
        assert_eq!(at_101.last(), Some(&5));
        assert_eq!(asks.len() + bids.len(), b.order_count());
    }

    /// Asks 101×4, 102×6, 104×5, 110×1; bids 99×3, 98×5, 95×2.
    fn ladder_book() -> OrderBook {
        let mut b = sample();
        let mut out = Vec::new();
        put(&mut b, gtc(5, 5, S, 104, 5), &mut out);
        put(&mut b, gtc(6, 5, S, 110, 1), &mut out);
        put(&mut b, gtc(7, 5, B, 95, 2), &mut out);
        b
    }

    #[test]
    fn a_protected_market_order_stops_at_its_price_and_worst_fill_says_where() {
        let b = ladder_book();
        assert_eq!(b.worst_fill(B, Qty(4), Price::MAX), Some(Price(101)));
        assert_eq!(b.worst_fill(B, Qty(5), Price::MAX), Some(Price(102)));
        assert_eq!(b.worst_fill(B, Qty(17), Price::MAX), Some(Price(110)));
        assert_eq!(b.worst_fill(B, Qty(17), Price(104)), Some(Price(104)));
        assert_eq!(b.worst_fill(B, Qty(1), Price(100)), None);
        assert_eq!(b.worst_fill(S, Qty(50), Price(97)), Some(Price(98)));
        assert_eq!(b.worst_fill(S, Qty(50), Price::MIN), Some(Price(95)));
        // A market buy protected at 104 takes 101, 102 and 104 and leaves 110; unprotected
        // (price 0), it takes that too.
        for (limit, filled, best_left) in [(104, 15, Some(Price(110))), (0, 16, None)] {
            let mut b = ladder_book();
            let mut out = Vec::new();
            let r = put(&mut b, order(20, 42, B, OrderKind::Market, limit, 20), &mut out);
            assert_eq!((r.filled, r.cancelled), (Qty(filled), Qty(20 - filled)), "limit {limit}");
            assert!(out.iter().all(|f| limit == 0 || f.price.0 <= limit));
            assert_eq!(b.best(S), best_left);
        }
    }

    #[test]
    fn sweep_cost_by_hand() {
        let b = ladder_book();
        // To lift the best ask to ≥ 104: buy everything below 104 = 101×4 + 102×6.
        let s = b.sweep_cost(B, Price(104));
        assert_eq!(s, Sweep { qty: Qty(10), value_ticks_lots: 404 + 612, levels: 2 });
        // ≥ 105 also takes 104×5.
        let s = b.sweep_cost(B, Price(105));
        assert_eq!(s, Sweep { qty: Qty(15), value_ticks_lots: 404 + 612 + 520, levels: 3 });
        // Target at or below the best ask costs nothing.
        assert_eq!(b.sweep_cost(B, Price(101)), Sweep::default());
        assert_eq!(b.sweep_cost(B, Price(-5)), Sweep::default());
        // Sellers: bids strictly above 96 are 99×3 and 98×5.
        let s = b.sweep_cost(S, Price(96));
        assert_eq!(s, Sweep { qty: Qty(8), value_ticks_lots: 297 + 490, levels: 2 });
        let all = b.sweep_cost(B, Price::MAX);
        assert_eq!(all.qty, Qty(16));
        assert_eq!(all.value_ticks_lots, 404 + 612 + 520 + 110);
        assert_eq!(b.sweep_cost(S, Price::MIN).qty, Qty(10));
    }

    #[test]
    fn depth_within_by_hand() {
        let b = ladder_book();
        assert_eq!(b.depth_within(S, Price(0)), Qty(4));
        assert_eq!(b.depth_within(S, Price(1)), Qty(10));
        assert_eq!(b.depth_within(S, Price(3)), Qty(15));
        assert_eq!(b.depth_notional_within(S, Price(3)), 404 + 612 + 520);
        assert_eq!(b.depth_within(S, Price(i64::MAX)), Qty(16));
        assert_eq!(b.depth_within(B, Price(1)), Qty(8));
        assert_eq!(b.depth_notional_within(B, Price(1)), 297 + 490);
        assert_eq!(b.depth_within(B, Price(4)), Qty(10));
        assert_eq!(b.depth_within(B, Price(-1)), Qty(0));
        assert_eq!(OrderBook::new().depth_within(B, Price(10)), Qty(0));
    }

    #[test]
    fn impact_price_by_hand() {
        let b = ladder_book();
        assert_eq!(b.impact_price(B, Qty(4)), Some((Price(101), 404)));
        assert_eq!(b.impact_price(B, Qty(7)), Some((Price(102), 404 + 306)));
        assert_eq!(b.impact_price(B, Qty(16)), Some((Price(110), 404 + 612 + 520 + 110)));
        assert_eq!(b.impact_price(B, Qty(17)), None);
        assert_eq!(b.impact_price(S, Qty(4)), Some((Price(98), 297 + 98)));
        assert_eq!(b.impact_price(S, Qty(0)), None);
        assert_eq!(b.impact_price(S, Qty(-3)), None);
    }

    #[test]
    fn every_error_path() {
        let mut b = sample();
        let mut out = Vec::new();
        let before = b.clone();
        assert_eq!(b.place(gtc(9, 1, B, 90, 0), &mut out), Err(BookError::ZeroOrNegativeQty(Qty(0))));
        assert_eq!(
            b.place(order(9, 1, B, OrderKind::Market, 90, -1), &mut out),
            Err(BookError::ZeroOrNegativeQty(Qty(-1)))
        );
        assert_eq!(b.place(gtc(9, 1, B, 0, 1), &mut out), Err(BookError::NonPositivePrice(Price(0))));
        for kind in [OrderKind::PostOnly, OrderKind::Ioc] {
            assert_eq!(
                b.place(order(9, 1, S, kind, i64::MIN, 1), &mut out),
                Err(BookError::NonPositivePrice(Price(i64::MIN)))
            );
        }
        assert_eq!(b.place(gtc(3, 1, B, 90, 1), &mut out), Err(BookError::DuplicateOrderId(OrderId(3))));
        assert_eq!(b.cancel(OrderId(42)), Err(BookError::UnknownOrder(OrderId(42))));
        assert_eq!(
            b.amend(OrderId(42), Price(1), Qty(1), &mut out),
            Err(BookError::UnknownOrder(OrderId(42)))
        );
        assert_eq!(
            b.amend(OrderId(1), Price(98), Qty(0), &mut out),
            Err(BookError::ZeroOrNegativeQty(Qty(0)))
        );
        assert_eq!(
            b.amend(OrderId(1), Price(-1), Qty(1), &mut out),
            Err(BookError::NonPositivePrice(Price(-1)))
        );
        assert_eq!(b.place(gtc(9, 1, B, 90, i64::MAX - 7), &mut out), Err(BookError::SizeOverflow));
        assert_eq!(b.amend(OrderId(1), Price(98), Qty(i64::MAX - 2), &mut out), Err(BookError::SizeOverflow));
        assert!(out.is_empty());
        assert_eq!(b.stats(), before.stats());
        assert_eq!(b.depth(B, 9).collect::<Vec<_>>(), before.depth(B, 9).collect::<Vec<_>>());
        b.check_invariants().unwrap();
        // An IOC of any size is fine: it never rests.
        let r = b.place(order(9, 1, B, OrderKind::Ioc, 90, i64::MAX), &mut out).unwrap();
        assert_eq!(r.cancelled, Qty(i64::MAX));
        // A cancelled id may be used again.
        b.cancel(OrderId(1)).unwrap();
        b.place(gtc(1, 1, B, 90, 1), &mut out).unwrap();
        b.check_invariants().unwrap();
    }

    #[test]
    fn extreme_prices_and_sizes_do_not_overflow() {
        const M: i64 = i64::MAX - 2;
        let mut b = OrderBook::new();
        let mut out = Vec::new();
        put(&mut b, gtc(1, 1, S, i64::MAX, M), &mut out);
        put(&mut b, gtc(2, 2, S, i64::MAX - 1, 1), &mut out);
        put(&mut b, gtc(3, 3, B, 1, M), &mut out);
        put(&mut b, gtc(4, 4, B, 2, 1), &mut out);
        put(&mut b, gtc(5, 5, B, 1 << 40, 1), &mut out);
        put(&mut b, gtc(6, 6, S, 1 << 41, 1), &mut out);
        assert_eq!(b.side_qty(S), Qty(i64::MAX));
        assert_eq!(b.place(gtc(9, 9, S, 7, 1), &mut out), Err(BookError::SizeOverflow));
        assert_eq!(b.levels_len(B), 3);
        assert_eq!(b.levels_len(S), 3);
        assert_eq!(b.spread(), Some(Price((1 << 41) - (1 << 40))));
        assert_eq!(b.depth_within(S, Price(i64::MAX)), Qty(i64::MAX));
        let big = i64::MAX as i128;
        assert_eq!(b.depth_notional_within(S, Price(i64::MAX)), big * M as i128 + (big - 1) + (1 << 41));
        assert_eq!(b.sweep_cost(B, Price::MAX).qty, Qty(2));
        assert_eq!(b.impact_price(B, Qty(3)), Some((Price(i64::MAX), (1 << 41) + big - 1 + big)));
        let asks: Vec<_> = b.depth(S, 5).map(|l| l.price.0).collect();
        assert_eq!(asks, vec![1 << 41, i64::MAX - 1, i64::MAX]);
        let bids: Vec<_> = b.depth(B, 5).map(|l| l.price.0).collect();
        assert_eq!(bids, vec![1 << 40, 2, 1]);
        let r = put(&mut b, order(7, 7, B, OrderKind::Market, 0, 5), &mut out);
        assert_eq!(r.filled, Qty(5));
        assert_eq!(out.last().unwrap().price, Price(i64::MAX));
        let r = put(&mut b, order(8, 7, S, OrderKind::Market, 0, M), &mut out);
        assert_eq!(r.filled, Qty(M));
        assert_eq!(b.best_bid(), Some(Price(1)));
        assert_eq!(b.order(OrderId(3)).unwrap().qty, Qty(2));
        let r = b.amend(OrderId(3), Price(i64::MAX), Qty(5), &mut out).unwrap();
        assert_eq!(r.status, PlaceStatus::Filled);
        assert_eq!(b.best_bid(), None);
        assert_eq!(b.order(OrderId(1)).unwrap().qty, Qty(M - 3 - 5));
        b.check_invariants().unwrap();
    }

    #[test]
    fn window_growth_rebase_and_far_levels() {
        // A tiny window so far levels, growth and re-basing are all exercised.
        let mut b = OrderBook::with_window(8, 32);
        let mut out = Vec::new();
        let prices = [100, 103, 96, 120, 80, 1000, 5, 110, 90, 70];
        for (i, p) in prices.iter().enumerate() {
            put(&mut b, gtc(i as u64 + 1, 1, B, *p, 1), &mut out);
        }
        let bids: Vec<_> = b.depth(B, 20).map(|l| l.price.0).collect();
        assert_eq!(bids, vec![1000, 120, 110, 103, 100, 96, 90, 80, 70, 5]);
        for id in [6, 4, 8, 2, 1] {
            b.cancel(OrderId(id)).unwrap();
            b.check_invariants().unwrap();
        }
        assert_eq!(b.best_bid(), Some(Price(96)));
        let mut gone = Vec::new();
        b.cancel_all(AccountId(1), &mut gone);
        assert_eq!(b.best_bid(), None);
        // Re-based far away once empty.
        put(&mut b, gtc(20, 1, S, 5000, 1), &mut out);
        put(&mut b, gtc(21, 1, S, 5003, 1), &mut out);
        put(&mut b, gtc(22, 1, S, 4000, 1), &mut out);
        let asks: Vec<_> = b.depth(S, 20).map(|l| l.price.0).collect();
        assert_eq!(asks, vec![4000, 5000, 5003]);
        b.cancel(OrderId(22)).unwrap();
        assert_eq!(b.best_ask(), Some(Price(5000)));
        b.check_invariants().unwrap();
    }

    #[test]
    fn stats_conserve_size() {
        let mut b = sample();
        let mut out = Vec::new();
        put(&mut b, gtc(10, 9, B, 101, 6), &mut out); // 4 filled, 2 rest
        put(&mut b, order(11, 9, S, OrderKind::Ioc, 1, 20), &mut out); // 2+3+5 filled... own 10 cancelled
        b.amend(OrderId(4), Price(102), Qty(10), &mut out).unwrap(); // +4 placed
        b.amend(OrderId(4), Price(102), Qty(1), &mut out).unwrap(); // 9 cancelled
        let st = b.stats();
        assert_eq!(st.placed, 5 + 3 + 4 + 6 + 6 + 20 + 4);
        assert_eq!(st.filled_taker, 4 + 8);
        assert_eq!(st.resting, 1);
        assert!(st.is_conserved());
        b.check_invariants().unwrap();
    }
}
