//! The exchange-core operation mix of `cargo bench --bench book`, shared so that every bench can
//! print the book's figure beside its own as a yardstick of the machine's state (this machine
//! flips between a fast and a slow state about 1.5x apart).
//!
//! 9% GTC, 3% IOC, 6% cancel, 82% move, with about 1,000 resting orders over about 750 price
//! levels; generated (and validated) up front by replaying it on a scratch book.

#![allow(dead_code)]

use liqsim::book::{AccountId, Fill, NewOrder, OrderBook, OrderFlags, OrderId, OrderKind};
use liqsim::units::{Price, Qty, Side};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

pub const MID: i64 = 1_000_000;
/// Resting prices lie within this many ticks of the mid, on their side.
pub const HALF_RANGE: i64 = 830;
const TARGET_ORDERS: usize = 1_000;
const ACCOUNTS: u32 = 2_000;
pub const OPS: usize = 400_000;

#[derive(Clone, Copy)]
pub enum Op {
    Place(NewOrder),
    Cancel(OrderId),
    Move(OrderId, Price, Qty),
}

struct Gen {
    rng: ChaCha8Rng,
    book: OrderBook,
    live: Vec<OrderId>,
    pos: HashMap<OrderId, usize>,
    next_id: u64,
    fills: Vec<Fill>,
}

impl Gen {
    fn resting_price(&mut self, side: Side) -> Price {
        let off = self.rng.random_range(1..=HALF_RANGE);
        Price(match side {
            Side::Buy => MID - off,
            Side::Sell => MID + off,
        })
    }

    fn crossing_price(&mut self, side: Side) -> Price {
        let off = self.rng.random_range(0..=8);
        Price(match side {
            Side::Buy => MID + off,
            Side::Sell => MID - off,
        })
    }

    fn side(&mut self) -> Side {
        if self.rng.random_bool(0.5) { Side::Buy } else { Side::Sell }
    }

    fn add_live(&mut self, id: OrderId) {
        if self.book.order(id).is_some() && !self.pos.contains_key(&id) {
            self.pos.insert(id, self.live.len());
            self.live.push(id);
        }
    }

    fn drop_if_gone(&mut self, id: OrderId) {
        if self.book.order(id).is_none()
            && let Some(i) = self.pos.remove(&id)
        {
            self.live.swap_remove(i);
            if let Some(moved) = self.live.get(i) {
                self.pos.insert(*moved, i);
            }
        }
    }

    /// Applies `op` to the scratch book and updates the set of live ids.
    fn apply(&mut self, op: Op) {
        self.fills.clear();
        let touched = match op {
            Op::Place(o) => {
                self.book.place(o, &mut self.fills).expect("valid place");
                o.id
            }
            Op::Cancel(id) => {
                self.book.cancel(id).expect("valid cancel");
                id
            }
            Op::Move(id, p, q) => {
                self.book.amend(id, p, q, &mut self.fills).expect("valid move");
                id
            }
        };
        let gone: Vec<OrderId> = self
            .fills
            .iter()
            .map(|f| f.maker_order)
            .chain(self.book.last_self_trade_cancels().iter().map(|c| c.id))
            .chain([touched])
            .collect();
        for id in gone {
            self.drop_if_gone(id);
        }
        self.add_live(touched);
    }

    fn new_order(&mut self, kind: OrderKind, crossing: bool) -> NewOrder {
        let side = self.side();
        let price = if crossing { self.crossing_price(side) } else { self.resting_price(side) };
        self.next_id += 1;
        NewOrder {
            id: OrderId(self.next_id),
            owner: AccountId(self.rng.random_range(0..ACCOUNTS)),
            side,
            kind,
            price,
            qty: Qty(self.rng.random_range(1..=10)),
            flags: OrderFlags::default(),
        }
    }

    fn random_live(&mut self) -> OrderId {
        let i = self.rng.random_range(0..self.live.len());
        self.live[i]
    }
}

/// A pre-filled book and an operation stream valid against it.
pub fn generate(seed: u64, ops: usize) -> (OrderBook, Vec<Op>) {
    let mut g = Gen {
        rng: ChaCha8Rng::seed_from_u64(seed),
        book: OrderBook::new(),
        live: Vec::new(),
        pos: HashMap::new(),
        next_id: 0,
        fills: Vec::new(),
    };
    while g.live.len() < TARGET_ORDERS {
        let o = g.new_order(OrderKind::Gtc, false);
        g.apply(Op::Place(o));
    }
    let start = g.book.clone();
    let mut stream = Vec::with_capacity(ops);
    let (mut levels, mut orders) = (0usize, 0usize);
    for _ in 0..ops {
        let r = g.rng.random_range(0..100u32);
        // Keep the book near its target size: above it, new orders cross a little more often.
        let over = g.live.len() > TARGET_ORDERS;
        let op = if r < 9 || g.live.is_empty() {
            let crossing = g.rng.random_bool(if over { 0.3 } else { 0.05 });
            Op::Place(g.new_order(OrderKind::Gtc, crossing))
        } else if r < 12 {
            Op::Place(g.new_order(OrderKind::Ioc, true))
        } else if r < 18 {
            Op::Cancel(g.random_live())
        } else {
            let id = g.random_live();
            let o = g.book.order(id).expect("live order");
            let crossing = g.rng.random_bool(0.01);
            let mut p = if crossing { g.crossing_price(o.side) } else { g.resting_price(o.side) };
            if p == o.price {
                p = Price(p.0 + if o.side == Side::Buy { -1 } else { 1 });
            }
            Op::Move(id, p, o.qty)
        };
        g.apply(op);
        stream.push(op);
        levels += g.book.levels_len(Side::Buy) + g.book.levels_len(Side::Sell);
        orders += g.book.order_count();
    }
    if let (Some(o), Some(l)) = (orders.checked_div(ops), levels.checked_div(ops)) {
        eprintln!("generated {ops} ops: average {o} resting orders over {l} price levels");
    }
    (start, stream)
}

pub fn run(book: &mut OrderBook, ops: &[Op], fills: &mut Vec<Fill>) {
    for op in ops {
        fills.clear();
        match *op {
            Op::Place(o) => {
                let _ = black_box(book.place(o, fills));
            }
            Op::Cancel(id) => {
                let _ = black_box(book.cancel(id));
            }
            Op::Move(id, p, q) => {
                let _ = black_box(book.amend(id, p, q, fills));
            }
        }
    }
}

/// The book bench's figure now: millions of exchange-core-mix operations a second, the best of
/// five passes over the 400k-operation stream (each from a fresh copy of the start book).
pub fn book_mops() -> f64 {
    let (start, ops) = generate(42, OPS);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut book = start.clone();
        let mut fills = Vec::with_capacity(64);
        let t = Instant::now();
        run(&mut book, &ops, &mut fills);
        best = best.min(t.elapsed().as_secs_f64());
    }
    ops.len() as f64 / best / 1e6
}

/// Prints the yardstick, to stand beside a bench's figures.
pub fn print_yardstick(when: &str) {
    println!("yardstick ({when}): book exchange_core_mix {:.1}M ops/s", book_mops());
}
