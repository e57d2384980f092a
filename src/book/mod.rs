//! The limit order book (placeholder; being written).
mod order;
pub use order::*;
