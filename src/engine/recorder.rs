//! The recorder: the one door through which state changes. It numbers each event, applies it to
//! the exchange state (the same `apply` replay uses), appends it to the log if there is one, and
//! folds it into a running hash of the event stream, so two runs can be compared without a log
//! file.

use super::state::{ExchangeState, StateError};
use crate::events::{Envelope, Event, LogError, LogWriter, Seq};
use std::io::Write;

/// A log sink that can live in an ECS resource.
pub type LogSink = LogWriter<Box<dyn Write + Send + Sync>>;

/// Where a run's event log goes, and what its header says about where the run came from. The
/// exchange writes the header itself, so the venue settings in it are the ones it runs.
pub struct LogTarget {
    pub out: Box<dyn Write + Send + Sync>,
    /// blake3 of the scenario the run came from.
    pub scenario_hash: [u8; 32],
    pub seed: u64,
}

/// Numbers, applies, logs and hashes events.
pub struct Recorder {
    next_seq: Seq,
    tick: u64,
    log: Option<LogSink>,
    /// Whether the event stream is hashed at all (see [`Recorder::skip_stream_hash`]).
    hashing: bool,
    stream: blake3::Hasher,
    /// Encoded events not yet fed to `stream`: hashing in large blocks lets blake3 use its
    /// many-chunk SIMD path, where one small update per event would not. The hash is the same.
    pending: Vec<u8>,
}

use crate::events::{HASH_BLOCK, hash_whole_blocks};

impl Recorder {
    pub fn new(log: Option<LogSink>) -> Recorder {
        Recorder {
            next_seq: 0,
            tick: 0,
            log,
            hashing: true,
            stream: blake3::Hasher::new(),
            pending: Vec::with_capacity(HASH_BLOCK + 256),
        }
    }

    /// Applies `event` to `state` and records it; a refused event is not recorded.
    pub fn record(
        &mut self,
        state: &mut ExchangeState,
        event: Event,
        cause: Option<Seq>,
    ) -> Result<Seq, RecordError> {
        let env = Envelope { seq: self.next_seq, tick: self.tick, cause, event };
        if let Err(error) = state.apply(&env) {
            return Err(RecordError::Refused { error, event: Box::new(env.event) });
        }
        if self.hashing {
            self.hash(&env)?;
        }
        if let Some(log) = &mut self.log {
            log.append(&env)?;
        }
        self.next_seq += 1;
        Ok(env.seq)
    }

    /// Folds one event into the stream hash.
    fn hash(&mut self, env: &Envelope) -> Result<(), RecordError> {
        // Events are a few dozen bytes: encode on the stack, then append in one copy.
        let mut small = [0u8; 256];
        match postcard::to_slice(env, &mut small) {
            Ok(bytes) => self.pending.extend_from_slice(bytes),
            Err(_) => {
                let big =
                    postcard::to_extend(env, Vec::new()).map_err(|e| RecordError::Encode(e.to_string()))?;
                self.pending.extend_from_slice(&big);
            }
        }
        hash_whole_blocks(&mut self.stream, &mut self.pending);
        Ok(())
    }

    /// Stops hashing the event stream, for runs whose outputs do not report it (a Monte Carlo
    /// keeps each run's final state hash, not its stream hash): encoding and hashing every event
    /// is then work nobody reads. Call it before the first event; [`Recorder::stream_hash`] is
    /// then empty. The event log, if any, is written in full as ever.
    pub fn skip_stream_hash(&mut self) {
        debug_assert_eq!(self.next_seq, 0, "the stream hash is skipped from the first event or not at all");
        self.hashing = false;
        self.pending = Vec::new();
    }

    pub fn set_tick(&mut self, tick: u64) {
        self.tick = tick;
    }
    pub fn tick(&self) -> u64 {
        self.tick
    }
    /// Events recorded so far.
    pub fn events(&self) -> u64 {
        self.next_seq
    }
    /// blake3 of the encoded event stream so far, as hex (empty if the stream is not hashed).
    pub fn stream_hash(&self) -> String {
        if !self.hashing {
            return String::new();
        }
        let mut stream = self.stream.clone();
        stream.update(&self.pending);
        stream.finalize().to_hex().to_string()
    }
    /// Finishes the log (writes its footer), if there is one.
    pub fn finish(&mut self) -> Result<(), RecordError> {
        if let Some(log) = self.log.take() {
            log.finish()?;
        }
        Ok(())
    }
}

/// Why an event could not be recorded. A refusal means the engine tried something the ledger
/// forbids: a bug, reported with the event.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the exchange refused {event:?}: {error}")]
    Refused { error: StateError, event: Box<Event> },
    #[error("cannot encode event: {0}")]
    Encode(String),
    #[error(transparent)]
    Log(#[from] LogError),
}
