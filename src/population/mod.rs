//! Populations of agents, generated from scenario descriptions.
//!
//! - [`map`]: the liquidation map — position holders whose liquidation prices land in the bands a
//!   scenario describes, with low-leverage counterparties so open interest balances. Pure: it only
//!   produces the events that seed the ledger.

pub mod map;

pub use map::{
    Band, LeverageWeight, MapConfig, MapError, MapPlan, PlannedBand, PositionSide, Role, SeededAccount,
    SeededMap, SeededStop, Shape, StopDistance, StopLoss, draw_stops, generate, seed_map_btc_14_to_1,
    validate,
};
