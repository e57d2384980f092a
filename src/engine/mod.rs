//! The exchange engine: the pure core wired together (ledger + book as one [`ExchangeState`]
//! changed only by events, the liquidation index, one event recorder), still free of ECS so it
//! can be tested and benched alone.
//!
//! - `state`: [`ExchangeState`] and its `apply`, the fold that live runs and replay share;
//! - `replay`: a log folded back into the state;
//! - `recorder`: numbers, applies, logs and hashes events;
//! - `exchange`: [`Exchange`], the one recording path and what it publishes;
//! - `orders`, `stops`, `mark`, `liquidation`, `adl`, `funding`: what the exchange does.

mod adl;
mod exchange;
mod funding;
mod liq_index;
mod liquidation;
mod mark;
mod orders;
mod recorder;
mod replay;
mod state;
mod stops;
mod windows;

pub use crate::venue::ExchangeConfig;
pub use adl::{ADL_RANKING_MOVE, ADL_RANKING_TICKS};
pub use exchange::{EngineError, Exchange, LiquidationStats, rate_f64};
pub use liq_index::{LiqEntry, LiquidationIndex};
pub use orders::{OrderRequest, Submitted};
pub use recorder::{LogSink, LogTarget, RecordError, Recorder};
pub use replay::{Mismatch, ReplayError, Replayed, RunRecord, replay};
pub use state::{ExchangeState, StateError};
pub use stops::{StopRequest, StopSubmitted};

pub use crate::events::RejectReason;

#[cfg(test)]
mod tests;
