//! The liquidation-map generator: bands of liquidation prices in, seeding events out.
//!
//! A [`MapConfig`] describes, in human units, where positions would be liquidated: per band a
//! side, a range of liquidation prices, a total liquidation notional, a shape, a leverage mix and
//! a number of accounts. [`generate()`] turns it into a [`SeededMap`], whose
//! [`SeededMap::events`] are the [`Event`]s that seed a fresh ledger:
//! one `AccountOpened` per account, then one `PositionSeeded` per map position, each against a
//! low-leverage counterparty so open interest stays balanced after every event.
//!
//! Floating point is used only to *choose* targets, sizes and entry prices. Everything that is
//! seeded is on the grid (entry in ticks, size in lots) and the margin is solved exactly in
//! integers, so the ledger's own [`margin::liquidation_price_tiered`] puts every map account's
//! liquidation price on its target tick (verified per account; a band that cannot be solved is
//! an error naming it).
//!
//! [`Event`]: crate::events::Event
//! [`margin::liquidation_price_tiered`]: crate::margin::liquidation_price_tiered
//!
//! - `config`: the map's description ([`MapConfig`], [`Band`], ...), the rules [`validate`]
//!   checks before anything is drawn, and the seed's map;
//! - `solve`: entry and margin of one account so that it liquidates on its target tick (the
//!   formulas are in that module's docs);
//! - `generate`: the draws per band, the accounts, and the counterparties that take the other
//!   side;
//! - `stops`: the stop-losses some bands' holders carry ([`draw_stops`]).

mod config;
mod generate;
mod solve;
mod stops;

pub use config::{
    Band, LeverageWeight, MapConfig, MapError, MapPlan, PlannedBand, PositionSide, Shape, StopDistance,
    StopLoss, seed_map_btc_14_to_1, validate,
};
pub use generate::{Role, SeededAccount, SeededMap, generate};
pub use stops::{SeededStop, draw_stops};

#[cfg(test)]
mod tests;
