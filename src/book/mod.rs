//! The limit order book: a pure price-time priority matching core.
//!
//! - `order`: the order and fill types the rest of the crate speaks;
//! - `book`: [`OrderBook`] — placing, cancelling, moving orders, queries and invariants;
//! - `ladder`: one side, price → level, with the best price cached;
//! - `level`: a FIFO of orders at one price, intrusive over the order slab;
//! - `index`: the order-id hash index;
//! - `stops`: [`StopBook`] — stop-market and take-profit orders held outside the book until
//!   their trigger is reached.

#[allow(clippy::module_inception)]
mod book;
mod index;
pub(crate) use index::IdMap;
mod ladder;
mod level;
mod order;
#[cfg(test)]
mod proptests;
mod stops;

pub use book::*;
pub use order::*;
pub use stops::*;
