//! Random operation sequences against the book and a slow, obviously-correct reference model
//! (a flat Vec scanned for the best order on every match). After every operation: identical
//! results, fills and self-trade cancels, identical depth and orders, and all invariants hold.

use super::*;
use crate::units::{Price, Qty, Side};
use proptest::prelude::*;

#[derive(Clone, Copy, Debug)]
struct RefOrder {
    id: OrderId,
    owner: AccountId,
    side: Side,
    kind: OrderKind,
    price: Price,
    qty: Qty,
    seq: u64,
}

#[derive(Default)]
struct RefBook {
    orders: Vec<RefOrder>,
    seq: u64,
    stp: Vec<Cancelled>,
    stp_before: Vec<usize>,
}

fn better(side: Side, a: Price, b: Price) -> bool {
    match side {
        Side::Buy => a > b,
        Side::Sell => a < b,
    }
}

impl RefBook {
    fn side_total(&self, side: Side) -> i128 {
        self.orders.iter().filter(|o| o.side == side).map(|o| o.qty.0 as i128).sum()
    }

    /// Index of the first maker in priority order for a taker on `side`.
    fn best_maker(&self, side: Side) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, o) in self.orders.iter().enumerate() {
            if o.side == side {
                continue;
            }
            best = match best {
                None => Some(i),
                Some(j) => {
                    let b = self.orders[j];
                    if better(o.side, o.price, b.price) || (o.price == b.price && o.seq < b.seq) {
                        Some(i)
                    } else {
                        Some(j)
                    }
                }
            };
        }
        best
    }

    fn crosses(side: Side, limit: Price, p: Price) -> bool {
        match side {
            Side::Buy => p <= limit,
            Side::Sell => p >= limit,
        }
    }

    fn match_taker(
        &mut self,
        id: OrderId,
        owner: AccountId,
        side: Side,
        limit: Price,
        qty: i64,
        out: &mut Vec<Fill>,
    ) -> i64 {
        let first_fill = out.len();
        let mut rem = qty;
        while rem > 0 {
            let Some(i) = self.best_maker(side) else {
                break;
            };
            let m = self.orders[i];
            if !Self::crosses(side, limit, m.price) {
                break;
            }
            if m.owner == owner {
                self.stp.push(Cancelled {
                    id: m.id,
                    owner: m.owner,
                    side: m.side,
                    price: m.price,
                    remaining: m.qty,
                });
                self.stp_before.push(out.len() - first_fill);
                self.orders.remove(i);
                continue;
            }
            let q = rem.min(m.qty.0);
            out.push(Fill {
                maker_order: m.id,
                maker: m.owner,
                taker_order: id,
                taker: owner,
                taker_side: side,
                price: m.price,
                qty: Qty(q),
            });
            rem -= q;
            if q == m.qty.0 {
                self.orders.remove(i);
            } else {
                self.orders[i].qty = Qty(m.qty.0 - q);
            }
        }
        rem
    }

    fn stp_total(&self) -> Qty {
        Qty(self.stp.iter().map(|c| c.remaining.0).sum())
    }

    fn place(&mut self, o: NewOrder, out: &mut Vec<Fill>) -> Result<PlaceOutcome, BookError> {
        if o.qty.0 <= 0 {
            return Err(BookError::ZeroOrNegativeQty(o.qty));
        }
        let limit = match (o.kind, o.side) {
            // A market order with a price is protected: it goes no further.
            (OrderKind::Market, _) if o.price.0 > 0 => o.price,
            (OrderKind::Market, Side::Buy) => Price::MAX,
            (OrderKind::Market, Side::Sell) => Price::MIN,
            _ if o.price.0 <= 0 => return Err(BookError::NonPositivePrice(o.price)),
            _ => o.price,
        };
        if self.orders.iter().any(|r| r.id == o.id) {
            return Err(BookError::DuplicateOrderId(o.id));
        }
        let rests = matches!(o.kind, OrderKind::Gtc | OrderKind::PostOnly);
        if rests && self.side_total(o.side) + o.qty.0 as i128 > i64::MAX as i128 {
            return Err(BookError::SizeOverflow);
        }
        self.stp.clear();
        self.stp_before.clear();
        if o.kind == OrderKind::PostOnly
            && self.best_maker(o.side).is_some_and(|i| Self::crosses(o.side, limit, self.orders[i].price))
        {
            return Ok(PlaceOutcome {
                filled: Qty(0),
                rested: Qty(0),
                cancelled: o.qty,
                self_trade_cancelled: Qty(0),
                status: PlaceStatus::Rejected,
            });
        }
        let rem = self.match_taker(o.id, o.owner, o.side, limit, o.qty.0, out);
        let filled = Qty(o.qty.0 - rem);
        let stc = self.stp_total();
        let (rested, cancelled, status) = if rem == 0 {
            (0, 0, PlaceStatus::Filled)
        } else if !rests {
            (0, rem, PlaceStatus::Cancelled)
        } else {
            self.seq += 1;
            self.orders.push(RefOrder {
                id: o.id,
                owner: o.owner,
                side: o.side,
                kind: o.kind,
                price: o.price,
                qty: Qty(rem),
                seq: self.seq,
            });
            let st = if filled.0 > 0 { PlaceStatus::PartiallyFilledResting } else { PlaceStatus::Resting };
            (rem, 0, st)
        };
        Ok(PlaceOutcome {
            filled,
            rested: Qty(rested),
            cancelled: Qty(cancelled),
            self_trade_cancelled: stc,
            status,
        })
    }

    fn cancel(&mut self, id: OrderId) -> Result<Cancelled, BookError> {
        let i = self.orders.iter().position(|o| o.id == id).ok_or(BookError::UnknownOrder(id))?;
        let o = self.orders.remove(i);
        Ok(Cancelled { id, owner: o.owner, side: o.side, price: o.price, remaining: o.qty })
    }

    fn amend(
        &mut self,
        id: OrderId,
        price: Price,
        qty: Qty,
        out: &mut Vec<Fill>,
    ) -> Result<PlaceOutcome, BookError> {
        let i = self.orders.iter().position(|o| o.id == id).ok_or(BookError::UnknownOrder(id))?;
        if qty.0 <= 0 {
            return Err(BookError::ZeroOrNegativeQty(qty));
        }
        if price.0 <= 0 {
            return Err(BookError::NonPositivePrice(price));
        }
        let o = self.orders[i];
        if price == o.price && qty <= o.qty {
            self.stp.clear();
            self.stp_before.clear();
            self.orders[i].qty = qty;
            return Ok(PlaceOutcome {
                filled: Qty(0),
                rested: qty,
                cancelled: Qty(o.qty.0 - qty.0),
                self_trade_cancelled: Qty(0),
                status: PlaceStatus::Resting,
            });
        }
        if self.side_total(o.side) - o.qty.0 as i128 + qty.0 as i128 > i64::MAX as i128 {
            return Err(BookError::SizeOverflow);
        }
        self.stp.clear();
        self.stp_before.clear();
        self.orders.remove(i);
        let rem = self.match_taker(id, o.owner, o.side, price, qty.0, out);
        let filled = Qty(qty.0 - rem);
        let reduced = Qty((o.qty.0 - qty.0).max(0));
        let stc = self.stp_total();
        if rem == 0 {
            return Ok(PlaceOutcome {
                filled,
                rested: Qty(0),
                cancelled: reduced,
                self_trade_cancelled: stc,
                status: PlaceStatus::Filled,
            });
        }
        self.seq += 1;
        self.orders.push(RefOrder { price, qty: Qty(rem), seq: self.seq, ..o });
        Ok(PlaceOutcome {
            filled,
            rested: Qty(rem),
            cancelled: reduced,
            self_trade_cancelled: stc,
            status: if filled.0 > 0 { PlaceStatus::PartiallyFilledResting } else { PlaceStatus::Resting },
        })
    }

    fn cancel_all(&mut self, owner: AccountId) -> Vec<Cancelled> {
        let mut gone: Vec<Cancelled> = self
            .orders
            .iter()
            .filter(|o| o.owner == owner)
            .map(|o| Cancelled { id: o.id, owner, side: o.side, price: o.price, remaining: o.qty })
            .collect();
        self.orders.retain(|o| o.owner != owner);
        gone.sort_by_key(|c| c.id);
        gone
    }

    /// Aggregated levels of `side`, best first.
    fn depth(&self, side: Side) -> Vec<DepthLevel> {
        let mut v: Vec<&RefOrder> = self.orders.iter().filter(|o| o.side == side).collect();
        v.sort_by(|a, b| match side {
            Side::Buy => b.price.cmp(&a.price).then(a.seq.cmp(&b.seq)),
            Side::Sell => a.price.cmp(&b.price).then(a.seq.cmp(&b.seq)),
        });
        let mut out: Vec<DepthLevel> = Vec::new();
        for o in v {
            match out.last_mut() {
                Some(l) if l.price == o.price => {
                    l.qty = Qty(l.qty.0 + o.qty.0);
                    l.orders += 1;
                }
                _ => out.push(DepthLevel { price: o.price, qty: o.qty, orders: 1 }),
            }
        }
        out
    }

    /// Order ids at each level of `side`, in time priority.
    fn queues(&self, side: Side) -> Vec<(Price, Vec<(OrderId, Qty)>)> {
        self.depth(side)
            .into_iter()
            .map(|l| {
                let mut at: Vec<&RefOrder> =
                    self.orders.iter().filter(|o| o.side == side && o.price == l.price).collect();
                at.sort_by_key(|o| o.seq);
                (l.price, at.iter().map(|o| (o.id, o.qty)).collect())
            })
            .collect()
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// `id`: `None` for a fresh id, `Some(k)` to reuse the k-th id used so far.
    Place {
        id: Option<usize>,
        owner: u32,
        side: Side,
        kind: OrderKind,
        price: i64,
        qty: i64,
    },
    /// `k`-th id used so far (or an unknown id if none).
    Cancel(usize),
    Amend {
        k: usize,
        price: i64,
        qty: i64,
        /// Keep the price and only change the size (exercises the keep-priority path).
        same_price: bool,
    },
    CancelAll(u32),
}

fn price() -> impl Strategy<Value = i64> {
    prop_oneof![
        12 => 95i64..=106,
        2 => prop::sample::select(vec![1i64, 2, 40, 60, 150, 400, 5_000, 1 << 40, i64::MAX - 1, i64::MAX]),
        1 => -1i64..=0,
    ]
}

fn qty() -> impl Strategy<Value = i64> {
    prop_oneof![
        20 => 1i64..=6,
        1 => prop::sample::select(vec![i64::MAX, i64::MAX / 2 + 1]),
        1 => -1i64..=0,
    ]
}

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn kind() -> impl Strategy<Value = OrderKind> {
    prop_oneof![
        5 => Just(OrderKind::Gtc),
        2 => Just(OrderKind::PostOnly),
        2 => Just(OrderKind::Ioc),
        1 => Just(OrderKind::Market),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (prop::option::weighted(0.05, 0usize..1000), 0u32..4, side(), kind(), price(), qty())
            .prop_map(|(id, owner, side, kind, price, qty)| Op::Place { id, owner, side, kind, price, qty }),
        2 => (0usize..1000).prop_map(Op::Cancel),
        5 => (0usize..1000, price(), qty(), prop::bool::weighted(0.3))
            .prop_map(|(k, price, qty, same_price)| Op::Amend { k, price, qty, same_price }),
        1 => (0u32..5).prop_map(Op::CancelAll),
    ]
}

fn run(book: &mut OrderBook, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut model = RefBook::default();
    let mut used: Vec<OrderId> = Vec::new();
    let mut next = 1u64;
    let (mut got, mut want) = (Vec::new(), Vec::new());
    let pick = |used: &Vec<OrderId>, k: usize| {
        if used.is_empty() { OrderId(u64::MAX) } else { used[k % used.len()] }
    };
    for (step, op) in ops.iter().enumerate() {
        got.clear();
        want.clear();
        match *op {
            Op::Place { id, owner, side, kind, price, qty } => {
                let id = match id {
                    Some(k) if !used.is_empty() => pick(&used, k),
                    _ => {
                        next += 1;
                        used.push(OrderId(next));
                        OrderId(next)
                    }
                };
                let o = NewOrder {
                    id,
                    owner: AccountId(owner),
                    side,
                    kind,
                    price: Price(price),
                    qty: Qty(qty),
                    flags: OrderFlags::default(),
                };
                let a = book.place(o, &mut got);
                let b = model.place(o, &mut want);
                prop_assert_eq!(&a, &b, "step {} place {:?}", step, o);
                if a.is_ok() {
                    prop_assert_eq!(book.last_self_trade_cancels(), &model.stp[..]);
                    prop_assert_eq!(book.last_self_trade_positions(), &model.stp_before[..]);
                }
            }
            Op::Cancel(k) => {
                let id = pick(&used, k);
                prop_assert_eq!(book.cancel(id), model.cancel(id), "step {}", step);
            }
            Op::Amend { k, price, qty, same_price } => {
                let id = pick(&used, k);
                let p = match model.orders.iter().find(|o| o.id == id) {
                    Some(o) if same_price => o.price,
                    _ => Price(price),
                };
                let a = book.amend(id, p, Qty(qty), &mut got);
                let b = model.amend(id, p, Qty(qty), &mut want);
                prop_assert_eq!(&a, &b, "step {} amend {:?} to {:?}×{}", step, id, p, qty);
                if a.is_ok() {
                    prop_assert_eq!(book.last_self_trade_cancels(), &model.stp[..]);
                    prop_assert_eq!(book.last_self_trade_positions(), &model.stp_before[..]);
                }
            }
            Op::CancelAll(owner) => {
                let mut gone = Vec::new();
                book.cancel_all(AccountId(owner), &mut gone);
                gone.sort_by_key(|c| c.id);
                prop_assert_eq!(gone, model.cancel_all(AccountId(owner)));
            }
        }
        prop_assert_eq!(&got, &want, "fills differ at step {}", step);
        if let Err(e) = book.check_invariants() {
            return Err(TestCaseError::fail(format!("step {step}: {e}")));
        }
        prop_assert!(book.stats().is_conserved());
        for side in [Side::Buy, Side::Sell] {
            let depth: Vec<DepthLevel> = book.depth(side, usize::MAX).collect();
            prop_assert_eq!(&depth, &model.depth(side), "depth {:?} step {}", side, step);
            prop_assert_eq!(book.levels_len(side), depth.len());
            for (p, queue) in model.queues(side) {
                let q: Vec<(OrderId, Qty)> = book.orders_at(side, p).map(|o| (o.id, o.qty)).collect();
                prop_assert_eq!(q, queue);
            }
        }
        prop_assert_eq!(book.order_count(), model.orders.len());
        for o in &model.orders {
            let r = book.order(o.id);
            prop_assert_eq!(
                r.map(|r| (r.owner, r.side, r.kind, r.price, r.qty)),
                Some((o.owner, o.side, o.kind, o.price, o.qty))
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A tiny dense window (8 ticks, growing to 32) so far levels, growth and re-basing are hit
    /// all the time.
    #[test]
    fn matches_reference_model_tiny_window(ops in prop::collection::vec(op(), 1..120)) {
        run(&mut OrderBook::with_window(8, 32), &ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The production configuration.
    #[test]
    fn matches_reference_model_default_window(ops in prop::collection::vec(op(), 1..120)) {
        run(&mut OrderBook::new(), &ops)?;
    }
}
