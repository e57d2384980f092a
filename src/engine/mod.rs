//! The exchange engine: the pure core wired together (book + ledger + liquidation index behind
//! one event recorder), still free of ECS so it can be tested and benched alone.

mod exchange;
mod liq_index;
mod recorder;

pub use exchange::{
    EngineError, Exchange, ExchangeConfig, LiquidationRecord, LiquidationStats, OrderRequest, RejectReason,
    Submitted, rate_f64,
};
pub use liq_index::{LiqEntry, LiquidationIndex};
pub use recorder::{LogSink, RecordError, Recorder};

#[cfg(test)]
mod tests;
