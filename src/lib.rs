//! liqsim: an event-sourced, agent-based simulator of a crypto perpetual-futures market and its
//! liquidation cascades.
//!
//! The exact core is plain Rust with no ECS in it:
//! - [`units`]: integer prices (ticks), quantities (lots), money (micro-USD) and rates;
//! - [`book`]: a price-time priority limit order book whose matching is pure;
//! - [`margin`]: venue margin maths (tiers, maintenance, liquidation and bankruptcy prices, fees,
//!   funding, ADL ranking);
//! - [`events`]: the past-tense events every state change is recorded as, and their binary log;
//! - [`ledger`]: accounts, positions, insurance fund and fees, changed only by applying events;
//! - [`liquidity`]: depth curves (cumulative depth by distance from mid) and their refilling;
//! - [`spot`]: spot venues with their own books, whose weighted median is the index.

pub mod agents;
pub mod analysis;
pub mod book;
pub mod budget;
pub mod compare;
pub mod demo;
pub mod engine;
pub mod events;
pub mod ledger;
pub mod liquidity;
pub mod margin;
pub mod mc;
pub mod page;
pub mod population;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod spot;
pub mod units;
pub mod venue;

#[cfg(test)]
mod error_chains;
