//! Spot venues: where the index comes from. Each venue has its own order book, held by a
//! liquidity provider that quotes a depth curve around a centre following the venue's fair
//! value; takers (arbitrageurs, exogenous flow) eat into it, a share of the price move they
//! cause stays (permanent impact), and the rest fades as the taken depth refills. The index is
//! the weighted median of the venues' mid prices, as venues build theirs from several exchanges.
//!
//! Spot trades are outside the perpetual's ledger (no leverage, no liquidation): they matter to
//! the perp only through the index, which every `MarkUpdated` event records. Plain Rust, no
//! ECS.

use crate::book::{AccountId, Fill, NewOrder, OrderBook, OrderFlags, OrderId, OrderKind};
use crate::liquidity::{
    DepthCurve, LevelGrid, LevelMemory, Live, MEMORY_HALF_LIVES, Requote, apply_order, requote,
};
use crate::units::{Instrument, Price, Qty, Side, UnitError};

/// The liquidity provider's id in every spot book.
const PROVIDER: AccountId = AccountId(0);

/// One spot venue's settings.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpotVenueConfig {
    pub name: String,
    /// Its weight in the index.
    pub weight: f64,
    /// The depth its liquidity provider keeps around the centre, per side.
    pub depth: DepthCurve,
    /// Taken depth refills with this half-life, seconds.
    pub refill_half_life_secs: f64,
    /// The share of a taker's price move that stays in the venue's centre (permanent impact).
    pub permanence: f64,
    /// Taker fee, as a fraction.
    pub taker_fee: f64,
}

impl SpotVenueConfig {
    /// A venue of Binance BTC spot's depth ($3.5M within 0.1%, $16.5M within 1%,
    /// calibration.md) whose taken depth refills with a 20 s half-life (as the perp's provider,
    /// `sim::LIQUIDITY_REFILL_HALF_LIFE_SECS`), keeping two-thirds of a taker's price move
    /// (Farmer, Gerig, Lillo & Waelbroeck 2013, "How efficiency shapes market impact": permanent
    /// impact is about 2/3 of the peak), at a VIP taker fee of 0.02%.
    pub fn binance_like(name: &str, weight: f64) -> SpotVenueConfig {
        SpotVenueConfig {
            name: name.to_string(),
            weight,
            depth: DepthCurve::binance_btc_spot(),
            refill_half_life_secs: 20.0,
            permanence: 2.0 / 3.0,
            taker_fee: 0.0002,
        }
    }

    /// The index constituents before scaling: three venues of Binance spot's depth, weighted
    /// 40/30/30 (venues build their index as a weighted median of several exchanges' prices).
    pub fn constituents() -> Vec<SpotVenueConfig> {
        vec![
            SpotVenueConfig::binance_like("binance", 0.4),
            SpotVenueConfig::binance_like("coinbase", 0.3),
            SpotVenueConfig::binance_like("okx", 0.3),
        ]
    }

    /// The default index constituents: [`SpotVenueConfig::constituents`] with their depth
    /// multiplied by [`SPOT_DEPTH_SCALE`].
    pub fn calibrated_set() -> Vec<SpotVenueConfig> {
        let mut venues = SpotVenueConfig::constituents();
        for v in &mut venues {
            v.depth = v.depth.scaled(SPOT_DEPTH_SCALE);
        }
        venues
    }
}

/// How much deeper each default spot venue is than Binance's BTC/FDUSD book: 5×, so the three
/// hold $250M within 1% together. One pair on one exchange is only part of what an index's
/// constituents quote (an index averages several exchanges, each with several BTC pairs); no
/// aggregate figure is in calibration.md, so this is an assumption, and the answers that
/// depend on it are given across `index.spot_depth_scale` in docs/market.md.
pub const SPOT_DEPTH_SCALE: f64 = 5.0;

/// What a taker order got.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Taken {
    pub qty: Qty,
    /// Σ price·qty of the fills, in ticks·lots.
    pub value_ticks_lots: i128,
}

impl Taken {
    /// Average fill price in ticks (0 if nothing filled).
    pub fn average(&self) -> f64 {
        if self.qty.is_zero() { 0.0 } else { self.value_ticks_lots as f64 / self.qty.0 as f64 }
    }
}

/// One spot venue.
#[derive(Clone, Debug)]
pub struct SpotVenue {
    cfg: SpotVenueConfig,
    inst: Instrument,
    book: OrderBook,
    next_id: u64,
    /// Log shift of the centre from the fair value: the permanent impact kept so far.
    permanent: f64,
    /// The centre last quoted around, in ticks.
    centre: f64,
    grid: LevelGrid,
    /// The provider's resting orders: id, side, price and quantity resting, sorted by side and
    /// price (it rests one order a level, so each is found by its level, and its levels are
    /// matched with the targets in one pass). Only [`SpotVenue::take`] and the provider's own
    /// changes touch the book, so the quantities are kept here fill by fill instead of being
    /// looked up every tick (a quantity of zero: the order was taken in full and has left the
    /// book). Only the provider rests in a spot book, one order a level, so the order in which
    /// its changes are applied leaves the same book.
    live: Vec<(OrderId, Side, Price, Qty)>,
    /// What the provider held at levels it stopped quoting, and when (see [`LevelMemory`]).
    memory: LevelMemory,
    /// Seconds since the start.
    elapsed: f64,
    /// The last taker fill's price: the venue's price while a side of its book is empty.
    last_fill: Option<Price>,
    fills: Vec<Fill>,
    /// Scratch of each requote (kept to spare allocations a venue a tick): one side's targets,
    /// and the changes.
    targets: Vec<(Price, Qty)>,
    changes: Vec<Requote<OrderId>>,
}

impl SpotVenue {
    /// A venue whose book is quoted around `start`.
    pub fn new(cfg: SpotVenueConfig, inst: Instrument, start: Price) -> Result<SpotVenue, UnitError> {
        let grid = cfg.depth.grid(start);
        let mut v = SpotVenue {
            grid,
            cfg,
            inst,
            book: OrderBook::new(),
            next_id: 0,
            permanent: 0.0,
            centre: start.0 as f64,
            live: Vec::new(),
            memory: LevelMemory::default(),
            elapsed: 0.0,
            last_fill: None,
            fills: Vec::new(),
            targets: Vec::new(),
            changes: Vec::new(),
        };
        v.requote(start.0 as f64, 0.0)?;
        Ok(v)
    }

    pub fn config(&self) -> &SpotVenueConfig {
        &self.cfg
    }
    pub fn book(&self) -> &OrderBook {
        &self.book
    }

    /// The mid price; while a taker has emptied one side, the last fill's price (a buy that
    /// took every ask has moved the price up, not left it at the centre); the centre when
    /// nothing traded yet.
    pub fn mid(&self) -> Price {
        self.book.mid().or(self.last_fill).unwrap_or(Price(self.centre.round() as i64))
    }

    /// One tick of `dt_secs`: the centre moves to the fair value (`fair` ticks) shifted by the
    /// permanent impact kept, and the provider requotes its ladder there, refilling what was
    /// taken toward the curve with the venue's half-life.
    pub fn quote(&mut self, fair: f64, dt_secs: f64) -> Result<(), UnitError> {
        self.requote(fair * self.permanent.exp(), dt_secs)
    }

    fn requote(&mut self, centre: f64, dt_secs: f64) -> Result<(), UnitError> {
        self.centre = centre.max(2.0);
        let c = Price(self.centre.round() as i64);
        // Before the first tick (dt 0) every level is placed full.
        let half_life = if dt_secs > 0.0 { self.cfg.refill_half_life_secs } else { 0.0 };
        self.elapsed += dt_secs;
        let now = self.elapsed;
        // What rested after the last quote and is gone now was taken during the last tick.
        let (book, memory) = (&self.book, &mut self.memory);
        self.live.retain(|&(id, side, price, qty)| {
            debug_assert_eq!(book.order(id).map_or(Qty::ZERO, |o| o.qty), qty, "{id:?} tracked");
            if !qty.is_positive() {
                memory.left(side, price, Qty::ZERO, now - dt_secs);
            }
            qty.is_positive()
        });
        let (mut targets, mut changes) =
            (std::mem::take(&mut self.targets), std::mem::take(&mut self.changes));
        changes.clear();
        let around = self.grid.around(c);
        // `live` is sorted by side, bids first, then by price: each side's orders are matched
        // with its targets in one pass.
        let bids = self.live.partition_point(|l| l.1 == Side::Buy);
        for side in [Side::Buy, Side::Sell] {
            self.cfg.depth.levels_around(&around, &self.inst, side, &mut targets)?;
            let mine = match side {
                Side::Buy => &self.live[..bids],
                Side::Sell => &self.live[bids..],
            };
            let memory = &self.memory;
            let before = |p: Price| memory.before(side, p, now);
            requote(
                side,
                &targets,
                Live::SortedSide(mine),
                dt_secs.max(1e-9),
                half_life,
                before,
                &mut changes,
            );
        }
        apply_order(&mut changes);
        // Cancels come first: they go from `live`, resizes change what rests in place, and
        // placements join at their level (so `live` stays sorted).
        for &change in &changes {
            match change {
                Requote::Cancel { id, side, price } => {
                    let _ = self.book.cancel(id);
                    if let Some(k) = position_at(&self.live, id, side, price) {
                        let (_, side, price, held) = self.live.remove(k);
                        self.memory.left(side, price, held, now);
                    }
                }
                Requote::Resize { id, side, price, qty } => {
                    self.fills.clear();
                    // At its own price a resting order cannot cross: this never fills.
                    if let Ok(done) = self.book.amend(id, price, qty, &mut self.fills)
                        && let Some(k) = position_at(&self.live, id, side, price)
                    {
                        self.live[k].3 = done.rested;
                    }
                }
                Requote::Place { side, price, qty } => {
                    if let Some(id) = self.rest(side, price, qty) {
                        self.memory.placed(side, price);
                        let k = self.live.partition_point(|l| (l.1, l.2) < (side, price));
                        self.live.insert(k, (id, side, price, qty));
                    }
                }
            }
        }
        self.memory.forget_older_than(now, MEMORY_HALF_LIVES * self.cfg.refill_half_life_secs);
        // Both sides quoted again: the book's own mid is the price, not an old fill.
        if self.book.mid().is_some() {
            self.last_fill = None;
        }
        self.targets = targets;
        self.changes = changes;
        Ok(())
    }

    /// Rests a provider order (post-only: it never takes); `None` if it would have crossed.
    fn rest(&mut self, side: Side, price: Price, qty: Qty) -> Option<OrderId> {
        let id = OrderId(self.next_id);
        self.next_id += 1;
        let order = NewOrder {
            id,
            owner: PROVIDER,
            side,
            kind: OrderKind::PostOnly,
            price,
            qty,
            flags: OrderFlags::default(),
        };
        self.fills.clear();
        // A post-only order that would cross (the centre moved through the book) is simply not
        // placed this tick.
        self.book.place(order, &mut self.fills).ok().filter(|_| self.book.order(id).is_some()).map(|_| id)
    }

    /// A taker order of `qty` on `side`, limited at `limit` (`None`: market). A share of the mid's
    /// move stays in the centre.
    pub fn take(&mut self, owner: AccountId, side: Side, qty: Qty, limit: Option<Price>) -> Taken {
        if !qty.is_positive() || owner == PROVIDER {
            return Taken::default();
        }
        let before = self.mid();
        let id = OrderId(self.next_id);
        self.next_id += 1;
        let (kind, price) = match limit {
            Some(p) if p.is_positive() => (OrderKind::Ioc, p),
            _ => (OrderKind::Market, Price::ZERO),
        };
        let order = NewOrder { id, owner, side, kind, price, qty, flags: OrderFlags::default() };
        self.fills.clear();
        if self.book.place(order, &mut self.fills).is_err() {
            return Taken::default();
        }
        let mut taken = Taken::default();
        for f in &self.fills {
            taken.qty = Qty(taken.qty.0 + f.qty.0);
            taken.value_ticks_lots += f.price.0 as i128 * f.qty.0 as i128;
            self.last_fill = Some(f.price);
            if f.maker == PROVIDER
                && let Some(k) = position_at(&self.live, f.maker_order, side.opposite(), f.price)
            {
                self.live[k].3 = Qty(self.live[k].3.0 - f.qty.0);
            }
        }
        let after = self.mid();
        if before.is_positive() && after.is_positive() {
            self.permanent += self.cfg.permanence * (after.0 as f64 / before.0 as f64).ln();
        }
        taken
    }
}

/// Where the provider's order `id`, resting on `side` at `price`, is in its `live` list (sorted
/// by side and price).
fn position_at(live: &[(OrderId, Side, Price, Qty)], id: OrderId, side: Side, price: Price) -> Option<usize> {
    // A venue keeps one order a level; should a level hold more, each is looked at.
    let from = live.partition_point(|l| (l.1, l.2) < (side, price));
    let mut at_level = live[from..].iter().take_while(|l| (l.1, l.2) == (side, price));
    at_level.position(|l| l.0 == id).map(|k| from + k)
}

/// The weighted median of `(price, weight)`: the smallest price at which the cumulative weight
/// reaches half the total (prices sorted ascending). `None` without positive weights.
pub fn weighted_median(values: &mut [(Price, f64)]) -> Option<Price> {
    values.sort_by_key(|v| v.0);
    let total: f64 = values.iter().map(|v| v.1.max(0.0)).sum();
    if total <= 0.0 {
        return None;
    }
    let mut acc = 0.0;
    for &(p, w) in values.iter() {
        acc += w.max(0.0);
        if acc >= total / 2.0 {
            return Some(p);
        }
    }
    values.last().map(|v| v.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_is_found_at_its_level_even_beside_a_stray() {
        let live = [
            (OrderId(7), Side::Buy, Price(99), Qty(1)),
            (OrderId(3), Side::Buy, Price(100), Qty(1)),
            (OrderId(9), Side::Buy, Price(100), Qty(1)),
            (OrderId(4), Side::Sell, Price(100), Qty(1)),
            (OrderId(5), Side::Sell, Price(101), Qty(1)),
        ];
        let (buy, sell) = (Side::Buy, Side::Sell);
        assert_eq!(position_at(&live, OrderId(3), buy, Price(100)), Some(1));
        assert_eq!(position_at(&live, OrderId(9), buy, Price(100)), Some(2));
        assert_eq!(position_at(&live, OrderId(4), sell, Price(100)), Some(3));
        assert_eq!(position_at(&live, OrderId(5), sell, Price(101)), Some(4));
        assert_eq!(position_at(&live, OrderId(5), sell, Price(100)), None, "not at that level");
        assert_eq!(position_at(&live, OrderId(4), buy, Price(100)), None, "not on that side");
        assert_eq!(position_at(&live, OrderId(8), buy, Price(99)), None);
    }

    fn venue(permanence: f64) -> (SpotVenue, Instrument) {
        let inst = Instrument::btcusdt();
        let cfg = SpotVenueConfig {
            name: "binance".into(),
            weight: 1.0,
            depth: DepthCurve::binance_btc_spot(),
            refill_half_life_secs: 30.0,
            permanence,
            taker_fee: 0.001,
        };
        let start = inst.price(71_450.0).unwrap();
        (SpotVenue::new(cfg, inst, start).unwrap(), inst)
    }

    #[test]
    fn the_book_holds_the_curve_and_a_sweep_moves_the_mid_then_fades() {
        let (mut v, inst) = venue(0.5);
        let mid0 = inst.price_f64(v.mid());
        assert!((mid0 / 71_450.0 - 1.0).abs() < 0.0005, "{mid0}");
        // $16.5M within 1% a side: buying $20M sweeps past 1%.
        let qty = inst.qty_floor(20e6 / 71_450.0).unwrap();
        let t = v.take(AccountId(7), Side::Buy, qty, None);
        assert_eq!(t.qty, qty);
        let swept = inst.price_f64(v.mid());
        assert!(swept / mid0 - 1.0 > 0.005, "the mid jumps: {swept}");
        // Ten minutes of refilling around an unchanged fair value: half the move stays.
        let fair = 71_450.0 / 0.1;
        for _ in 0..600 {
            v.quote(fair, 1.0).unwrap();
        }
        let settled = inst.price_f64(v.mid()) / mid0 - 1.0;
        let jump = swept / mid0 - 1.0;
        assert!(settled > 0.3 * jump && settled < 0.7 * jump, "kept {settled:.5} of {jump:.5}");
        // No permanence: the mid comes back.
        let (mut v, _) = venue(0.0);
        v.take(AccountId(7), Side::Sell, qty, None);
        for _ in 0..600 {
            v.quote(fair, 1.0).unwrap();
        }
        assert!((inst.price_f64(v.mid()) / mid0 - 1.0).abs() < 0.0005);
    }

    /// A buy larger than every ask leaves the venue priced at its last fill, far above the
    /// start: not at the centre, as if nothing had happened.
    #[test]
    fn a_taker_that_empties_a_side_moves_the_price_to_its_last_fill() {
        let (mut v, inst) = venue(0.0);
        let t = v.take(AccountId(7), Side::Buy, Qty(1_000_000_000), None);
        assert!(t.qty.is_positive());
        assert_eq!(v.book().best_ask(), None, "every ask was taken");
        let last = v.mid();
        assert!(inst.price_f64(last) > 71_450.0 * 1.05, "{}", inst.price_f64(last));
        assert!(last.0 as f64 >= t.average(), "the last fill is the highest");
    }

    #[test]
    fn a_limited_taker_stops_at_its_limit() {
        let (mut v, inst) = venue(0.0);
        let limit = inst.price(71_500.0).unwrap();
        let t = v.take(AccountId(7), Side::Buy, Qty(1_000_000), Some(limit));
        assert!(t.qty.is_positive() && t.qty < Qty(1_000_000));
        assert!(t.average() <= limit.0 as f64);
        assert_eq!(
            v.take(AccountId(0), Side::Buy, Qty(5), None),
            Taken::default(),
            "the provider never takes"
        );
    }

    #[test]
    fn the_weighted_median_follows_the_weight_not_the_outlier() {
        let p = |v| Price(v);
        assert_eq!(weighted_median(&mut [(p(100), 1.0), (p(101), 1.0), (p(500), 1.0)]), Some(p(101)));
        assert_eq!(weighted_median(&mut [(p(100), 3.0), (p(101), 1.0), (p(102), 1.0)]), Some(p(100)));
        assert_eq!(weighted_median(&mut [(p(100), 0.0)]), None);
    }
}
