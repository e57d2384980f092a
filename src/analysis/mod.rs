//! Statistics of simulated series (stylized facts of returns).

pub mod stylized;

pub use stylized::{StylizedFacts, autocorrelation, excess_kurtosis, hill_tail_index, log_returns};
