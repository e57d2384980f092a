//! Replay: a log folded into the exchange state it describes, by the same
//! [`ExchangeState::apply`] the live run used. The one implementation behind `liqsim replay`,
//! the tests and the benches.

use super::state::{ExchangeState, StateError};
use crate::events::{LogError, LogHeader, LogReader, Seq};
use std::io::Read;

/// A log rebuilt: its header, the exchange state at its end, and the hash of its event stream.
#[derive(Clone, Debug)]
pub struct Replayed {
    pub header: LogHeader,
    pub state: ExchangeState,
    pub events: u64,
    /// blake3 of the event stream, as the run reports it (`event_stream_hash`).
    pub stream_hash: String,
}

impl Replayed {
    /// The hash of the rebuilt state, as the run reports it (`final_state_hash`).
    pub fn state_hash(&self) -> String {
        self.state.state_hash()
    }
}

/// Why a log could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("event {seq} (record at byte offset {offset}) does not apply: {error}")]
    Apply { seq: Seq, offset: u64, error: StateError },
    #[error(
        "the log ends while the matching of an order, or a triggered stop's order, is not fully recorded"
    )]
    Unfinished,
}

/// Reads a whole log and folds it into a fresh exchange of the venue its header describes.
pub fn replay<R: Read>(mut reader: LogReader<R>) -> Result<Replayed, ReplayError> {
    let mut state = ExchangeState::new(&reader.header().venue, reader.header().start_price);
    loop {
        let offset = reader.offset();
        let Some(env) = reader.next() else { break };
        let env = env?;
        state.apply(&env).map_err(|error| ReplayError::Apply { seq: env.seq, offset, error })?;
    }
    if state.pending_order().is_some() || state.pending_stop_order().is_some() {
        return Err(ReplayError::Unfinished);
    }
    Ok(Replayed {
        header: reader.header().clone(),
        events: state.events(),
        stream_hash: reader.stream_hash(),
        state,
    })
}

/// What a run recorded about itself (its `summary.json`), for checking a replayed log against.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunRecord {
    pub final_state_hash: String,
    pub event_stream_hash: String,
    pub events: u64,
    pub seed: u64,
    /// Hex blake3 of the scenario.
    pub scenario_hash: String,
    /// The funding rate accrued at the end of the run, as the summary states it (a fraction
    /// per interval).
    pub funding_rate_accrued: f64,
}

/// One way a replayed log differs from what its run recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The summary's key (`final_state_hash`, ...).
    pub key: &'static str,
    /// What the log gives.
    pub from_log: String,
    /// What the run recorded.
    pub recorded: String,
}

impl Replayed {
    /// Every way the replayed log differs from `run`'s record: the state it rebuilds (ledger
    /// and book), the hash of its event stream (so an edit anywhere in any event shows), its
    /// event count, its header's seed and scenario hash, and the funding rate accrued at its end.
    /// Empty when the log is the run's.
    pub fn mismatches(&self, run: &RunRecord) -> Vec<Mismatch> {
        let scenario_hash: String = self.header.scenario_hash.iter().map(|b| format!("{b:02x}")).collect();
        let accrued = match self.state.funding_rate_accrued() {
            Ok(rate) => super::rate_f64(rate).to_string(),
            Err(e) => format!("no rate ({e})"),
        };
        let pairs = [
            ("final_state_hash", self.state_hash(), run.final_state_hash.clone()),
            ("event_stream_hash", self.stream_hash.clone(), run.event_stream_hash.clone()),
            ("events", self.events.to_string(), run.events.to_string()),
            ("seed", self.header.seed.to_string(), run.seed.to_string()),
            ("scenario_hash", scenario_hash, run.scenario_hash.clone()),
            ("funding_rate_accrued", accrued, run.funding_rate_accrued.to_string()),
        ];
        pairs
            .into_iter()
            .filter(|(_, from_log, recorded)| from_log != recorded)
            .map(|(key, from_log, recorded)| Mismatch { key, from_log, recorded })
            .collect()
    }
}
