//! The binary event log: a versioned header that carries the venue's rules, length-prefixed
//! checksummed records, and a footer that marks the log complete.
//!
//! ```text
//! header  "LIQSIMLG" | version u16 | body length u32 | body | crc32(all header bytes before it) u32
//!         body = postcard(scenario hash [32], seed u64, start price, venue settings)
//! record  payload length u32 | crc32(payload) u32 | payload (postcard-encoded Envelope)
//! footer  0xFFFF_FFFF u32 | record count u64 | crc32(count) u32
//! ```
//! All integers are little-endian. A log without its footer was cut short (a killed run) and is an
//! error to read, even when it ends on a record boundary: a half-written log never passes as whole.
//! The venue settings in the header (contract, tiers, fees, funding, tick length, liquidation
//! rounds) are everything an auditor needs, with the events, to recompute margins, fees and
//! funding without the scenario file.

use super::Envelope;
use crate::units::{Instrument, Price};
use crate::venue::ExchangeConfig;
use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};

const MAGIC: &[u8; 8] = b"LIQSIMLG";
/// Version of the log layout and of the event encoding inside it. Version 2 carries the venue
/// settings in the header and logs the book's whole life (rejections, self-trade cancels where
/// they happen, the margin each fill moved). Version 3 was written by two lines of development
/// for different layouts, so neither is read: version 4 has both, each account's margin mode,
/// the funding premium samples on the price updates and the sample count of each funding rate,
/// and stop orders (their events, and the venue's stop rounds in the header). Version 5 adds
/// the venue's market-order price band to the header, and a market order's protection price
/// (the furthest it may fill) to its `OrderPlaced`.
pub const LOG_FORMAT_VERSION: u16 = 5;
/// Magic, version and body length.
const PREFIX_LEN: usize = 8 + 2 + 4;
/// Larger header bodies are taken as corruption rather than allocated.
const MAX_HEADER_BODY: u32 = 1 << 20;
const FOOTER_MARK: u32 = u32::MAX;
/// Larger records are taken as corruption rather than allocated.
const MAX_RECORD_LEN: u32 = 16 << 20;

/// What a log says about the run that wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct LogHeader {
    pub version: u16,
    /// blake3 of the scenario the run came from.
    pub scenario_hash: [u8; 32],
    pub seed: u64,
    /// Index, mark and last price before the first event.
    pub start_price: Price,
    /// The venue's rules for the whole run.
    pub venue: ExchangeConfig,
}

/// The header's checksummed body, as encoded.
#[derive(Serialize, Deserialize)]
struct HeaderBody {
    scenario_hash: [u8; 32],
    seed: u64,
    start_price: Price,
    venue: ExchangeConfig,
}

impl LogHeader {
    pub fn new(scenario_hash: [u8; 32], seed: u64, start_price: Price, venue: ExchangeConfig) -> LogHeader {
        LogHeader { version: LOG_FORMAT_VERSION, scenario_hash, seed, start_price, venue }
    }

    /// The contract the log's prices and sizes are in.
    pub fn instrument(&self) -> &Instrument {
        &self.venue.instrument
    }

    fn encode(&self) -> Result<Vec<u8>, LogError> {
        let body = HeaderBody {
            scenario_hash: self.scenario_hash,
            seed: self.seed,
            start_price: self.start_price,
            venue: self.venue.clone(),
        };
        let body = postcard::to_stdvec(&body)
            .map_err(|e| LogError::Encode { seq: 0, what: format!("header: {e}") })?;
        let mut b = Vec::with_capacity(PREFIX_LEN + body.len() + 4);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&self.version.to_le_bytes());
        b.extend_from_slice(&(body.len() as u32).to_le_bytes());
        b.extend_from_slice(&body);
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        Ok(b)
    }

    /// Reads the header from the start of `input`; returns it and its length in bytes.
    fn read<R: Read>(input: &mut R) -> Result<(LogHeader, u64), LogError> {
        let mut prefix = [0u8; PREFIX_LEN];
        let got = read_full(input, &mut prefix)?;
        if got == 0 {
            return Err(LogError::Truncated { offset: 0, what: "empty file" });
        }
        let magic_len = got.min(MAGIC.len());
        if prefix[..magic_len] != MAGIC[..magic_len] {
            return Err(LogError::NotALog);
        }
        if got >= 10 {
            let version = u16::from_le_bytes([prefix[8], prefix[9]]);
            if version != LOG_FORMAT_VERSION {
                return Err(LogError::UnsupportedVersion { found: version, supported: LOG_FORMAT_VERSION });
            }
        }
        if got < PREFIX_LEN {
            return Err(LogError::Truncated { offset: got as u64, what: "inside the header" });
        }
        let len = u32::from_le_bytes(le4(&prefix[10..14]));
        if len > MAX_HEADER_BODY {
            return Err(LogError::Corrupt {
                offset: 10,
                what: format!("header length {len} is implausible"),
            });
        }
        let mut rest = vec![0u8; len as usize + 4];
        let got = read_full(input, &mut rest)?;
        if got < rest.len() {
            return Err(LogError::Truncated { offset: (PREFIX_LEN + got) as u64, what: "inside the header" });
        }
        let (body, crc) = rest.split_at(len as usize);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&prefix);
        hasher.update(body);
        if hasher.finalize() != u32::from_le_bytes(le4(crc)) {
            return Err(LogError::Checksum { offset: 0, what: "header" });
        }
        let corrupt = |what: String| LogError::Corrupt { offset: PREFIX_LEN as u64, what };
        let (body, trailing): (HeaderBody, _) =
            postcard::take_from_bytes(body).map_err(|e| corrupt(format!("undecodable header: {e}")))?;
        if !trailing.is_empty() {
            return Err(corrupt("trailing bytes in the header".into()));
        }
        // The contract's derived value must be the one its units give.
        let inst = body.venue.instrument;
        if Instrument::from_units(inst.tick_micros(), inst.lot_sats()).ok() != Some(inst) {
            return Err(corrupt("inconsistent instrument in the header".into()));
        }
        let header = LogHeader {
            version: LOG_FORMAT_VERSION,
            scenario_hash: body.scenario_hash,
            seed: body.seed,
            start_price: body.start_price,
            venue: body.venue,
        };
        Ok((header, (PREFIX_LEN + rest.len()) as u64))
    }
}

fn le4(s: &[u8]) -> [u8; 4] {
    let mut a = [0u8; 4];
    a.copy_from_slice(&s[..4]);
    a
}

/// Why a log could not be written or read. Offsets are byte offsets from the start of the file.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    // Displayed with the cause, and so not its `source()` too: a chain printed with `{:#}`
    // says each cause once.
    #[error("i/o error: {0}")]
    Io(io::Error),
    #[error("not a liqsim event log (bad magic bytes at offset 0)")]
    NotALog,
    #[error(
        "log format version {found} is not supported: this build reads version {supported} only (a log from \
         another liqsim version; re-run its scenario to write a readable log)"
    )]
    UnsupportedVersion { found: u16, supported: u16 },
    #[error("log truncated at byte offset {offset}: {what}")]
    Truncated { offset: u64, what: &'static str },
    #[error("checksum mismatch in {what} at byte offset {offset}: the log is corrupt")]
    Checksum { offset: u64, what: &'static str },
    #[error("corrupt log at byte offset {offset}: {what}")]
    Corrupt { offset: u64, what: String },
    #[error("event out of sequence at byte offset {offset}: expected seq {expected}, found {found}")]
    OutOfSequence { offset: u64, expected: u64, found: u64 },
    #[error("cannot encode event seq {seq}: {what}")]
    Encode { seq: u64, what: String },
}

crate::units::from_cause!(LogError::Io(io::Error));

/// Streams envelopes into a log. Call [`LogWriter::finish`] to write the footer; a writer
/// dropped without it leaves a log that readers reject as cut short.
pub struct LogWriter<W: Write> {
    out: W,
    scratch: Vec<u8>,
    records: u64,
}

impl<W: Write> LogWriter<W> {
    pub fn new(mut out: W, header: &LogHeader) -> Result<LogWriter<W>, LogError> {
        out.write_all(&header.encode()?)?;
        Ok(LogWriter { out, scratch: Vec::with_capacity(256), records: 0 })
    }

    /// Appends one envelope. Its seq must be the next in line (0, 1, 2, ...).
    pub fn append(&mut self, envelope: &Envelope) -> Result<(), LogError> {
        if envelope.seq != self.records {
            return Err(LogError::Encode {
                seq: envelope.seq,
                what: format!("expected seq {}", self.records),
            });
        }
        self.scratch.clear();
        let buf = std::mem::take(&mut self.scratch);
        let buf = postcard::to_extend(envelope, buf)
            .map_err(|e| LogError::Encode { seq: envelope.seq, what: e.to_string() })?;
        let len = u32::try_from(buf.len())
            .ok()
            .filter(|&l| l <= MAX_RECORD_LEN)
            .ok_or_else(|| LogError::Encode { seq: envelope.seq, what: "record too large".into() })?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&crc32fast::hash(&buf).to_le_bytes())?;
        self.out.write_all(&buf)?;
        self.scratch = buf;
        self.records += 1;
        Ok(())
    }

    /// Number of records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Writes the footer and flushes; returns the inner writer.
    pub fn finish(mut self) -> Result<W, LogError> {
        self.out.write_all(&FOOTER_MARK.to_le_bytes())?;
        let count = self.records.to_le_bytes();
        self.out.write_all(&count)?;
        self.out.write_all(&crc32fast::hash(&count).to_le_bytes())?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a log back as an iterator of envelopes. The first error ends the iteration.
pub struct LogReader<R: Read> {
    input: R,
    header: LogHeader,
    offset: u64,
    next_seq: u64,
    buf: Vec<u8>,
    done: bool,
    /// blake3 of the records' payloads read so far (the event stream hash a run reports),
    /// fed in large blocks as the recorder feeds it.
    stream: blake3::Hasher,
    pending: Vec<u8>,
}

/// How many payload bytes are gathered before hashing them (the recorder's block size; the
/// digest does not depend on it).
pub(crate) const HASH_BLOCK: usize = 64 * 1024;
const MAX_SMALL_RECORD: usize = 256;

/// Feeds `stream` the whole [`HASH_BLOCK`]s gathered in `pending`, keeping the rest for later.
/// Every update then starts on a blake3 chunk boundary, so blake3 hashes each block's 64 chunks
/// side by side with SIMD; a block and the ragged tail of its last event (what flushing all of
/// `pending` gave) left the chunk count misaligned, and blake3 went on in small subtrees, taking
/// 20% longer on 120 MB. The digest is the same however the input is split.
pub(crate) fn hash_whole_blocks(stream: &mut blake3::Hasher, pending: &mut Vec<u8>) {
    let whole = pending.len() / HASH_BLOCK * HASH_BLOCK;
    if whole > 0 {
        stream.update(&pending[..whole]);
        pending.drain(..whole);
    }
}

impl<R: Read> LogReader<R> {
    pub fn new(mut input: R) -> Result<LogReader<R>, LogError> {
        let (header, offset) = LogHeader::read(&mut input)?;
        Ok(LogReader {
            input,
            header,
            offset,
            next_seq: 0,
            buf: Vec::new(),
            done: false,
            stream: blake3::Hasher::new(),
            pending: Vec::with_capacity(HASH_BLOCK + MAX_SMALL_RECORD),
        })
    }

    pub fn header(&self) -> &LogHeader {
        &self.header
    }

    /// blake3 of the event stream read so far, as hex: after the last record, the
    /// `event_stream_hash` of the run that wrote the log. Any edit of any event changes it.
    pub fn stream_hash(&self) -> String {
        let mut stream = self.stream.clone();
        stream.update(&self.pending);
        stream.finalize().to_hex().to_string()
    }

    /// Byte offset of the next record (for errors that name where a log went wrong).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn next_record(&mut self) -> Result<Option<Envelope>, LogError> {
        let start = self.offset;
        let mut prefix = [0u8; 8];
        let got = read_full(&mut self.input, &mut prefix)?;
        if got == 0 {
            return Err(LogError::Truncated {
                offset: start,
                what: "no footer: the run that wrote it did not finish",
            });
        }
        if got < 8 {
            return Err(LogError::Truncated { offset: start + got as u64, what: "inside a record header" });
        }
        let len = u32::from_le_bytes(le4(&prefix[..4]));
        if len == FOOTER_MARK {
            return self.read_footer(start, &prefix[4..]).map(|()| None);
        }
        if len > MAX_RECORD_LEN {
            return Err(LogError::Corrupt {
                offset: start,
                what: format!("record length {len} is implausible"),
            });
        }
        let crc = u32::from_le_bytes(le4(&prefix[4..]));
        self.buf.resize(len as usize, 0);
        let got = read_full(&mut self.input, &mut self.buf)?;
        if got < len as usize {
            return Err(LogError::Truncated { offset: start + 8 + got as u64, what: "inside a record" });
        }
        if crc32fast::hash(&self.buf) != crc {
            return Err(LogError::Checksum { offset: start, what: "record" });
        }
        let (envelope, rest): (Envelope, _) = postcard::take_from_bytes(&self.buf)
            .map_err(|e| LogError::Corrupt { offset: start + 8, what: format!("undecodable event: {e}") })?;
        if !rest.is_empty() {
            return Err(LogError::Corrupt { offset: start + 8, what: "trailing bytes in record".into() });
        }
        if envelope.seq != self.next_seq {
            return Err(LogError::OutOfSequence {
                offset: start,
                expected: self.next_seq,
                found: envelope.seq,
            });
        }
        self.offset = start + 8 + len as u64;
        self.next_seq += 1;
        self.pending.extend_from_slice(&self.buf);
        hash_whole_blocks(&mut self.stream, &mut self.pending);
        Ok(Some(envelope))
    }

    fn read_footer(&mut self, start: u64, count_head: &[u8]) -> Result<(), LogError> {
        // The 8-byte prefix already holds the mark and the first 4 bytes of the count.
        let mut rest = [0u8; 8];
        let got = read_full(&mut self.input, &mut rest)?;
        if got < 8 {
            return Err(LogError::Truncated { offset: start + 8 + got as u64, what: "inside the footer" });
        }
        let mut count = [0u8; 8];
        count[..4].copy_from_slice(count_head);
        count[4..].copy_from_slice(&rest[..4]);
        if crc32fast::hash(&count) != u32::from_le_bytes(le4(&rest[4..])) {
            return Err(LogError::Checksum { offset: start, what: "footer" });
        }
        let count = u64::from_le_bytes(count);
        if count != self.next_seq {
            return Err(LogError::Corrupt {
                offset: start,
                what: format!("footer counts {count} records but the log holds {}", self.next_seq),
            });
        }
        let mut extra = [0u8; 1];
        if read_full(&mut self.input, &mut extra)? != 0 {
            return Err(LogError::Corrupt { offset: start + 16, what: "bytes after the footer".into() });
        }
        self.offset = start + 16;
        Ok(())
    }
}

impl<R: Read> Iterator for LogReader<R> {
    type Item = Result<Envelope, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes were read.
fn read_full<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::AccountId;
    use crate::events::Event;
    use crate::margin::MarginMode;
    use crate::units::{Money, Price};
    use crate::venue::ExchangeConfig;

    #[test]
    fn whole_blocks_hash_to_the_digest_of_the_whole_stream() {
        // Pieces of uneven sizes (some larger than a block, one leaving two whole blocks
        // pending at once), as records of any length come.
        let data: Vec<u8> = (0..9 * HASH_BLOCK + 777).map(|i| (i * 31 + i / 251) as u8).collect();
        let (mut stream, mut pending) = (blake3::Hasher::new(), Vec::new());
        let (mut at, mut k) = (0, 0usize);
        while at < data.len() {
            let len = [3, 250, 40_000, HASH_BLOCK + 9, 1, 2 * HASH_BLOCK + 5][k % 6].min(data.len() - at);
            pending.extend_from_slice(&data[at..at + len]);
            hash_whole_blocks(&mut stream, &mut pending);
            (at, k) = (at + len, k + 1);
            // Hashed: whole blocks only, and all of them; kept: the rest.
            assert_eq!(stream.count() % HASH_BLOCK as u64, 0);
            assert!(pending.len() < HASH_BLOCK);
            assert_eq!(stream.count() as usize + pending.len(), at);
        }
        stream.update(&pending);
        assert_eq!(stream.finalize(), blake3::hash(&data));
    }

    fn sample() -> Vec<Envelope> {
        let mut v = Vec::new();
        for i in 0..50u64 {
            let event = if i % 2 == 0 {
                Event::AccountOpened {
                    account: AccountId(i as u32),
                    deposit: Money(1_000 * i as i64),
                    leverage: 10,
                    mode: MarginMode::Isolated,
                }
            } else {
                Event::MarkUpdated {
                    index: Price(700_000 + i as i64),
                    mark: Price(700_001),
                    last: Price(699_999),
                    round: 0,
                    sample: None,
                }
            };
            v.push(Envelope { seq: i, tick: i / 10, cause: i.checked_sub(1), event });
        }
        v
    }

    fn write(envs: &[Envelope]) -> Vec<u8> {
        let header = LogHeader::new([7u8; 32], 42, Price(714_500), ExchangeConfig::btcusdt());
        let mut w = LogWriter::new(Vec::new(), &header).unwrap();
        for e in envs {
            w.append(e).unwrap();
        }
        w.finish().unwrap()
    }

    fn read_all(bytes: &[u8]) -> Result<Vec<Envelope>, LogError> {
        LogReader::new(bytes)?.collect()
    }

    #[test]
    fn the_reader_hashes_the_stream_as_the_recorder_does() {
        let envs = sample();
        let bytes = write(&envs);
        let mut r = LogReader::new(&bytes[..]).unwrap();
        for e in r.by_ref() {
            e.unwrap();
        }
        let mut h = blake3::Hasher::new();
        for e in &envs {
            h.update(&postcard::to_stdvec(e).unwrap());
        }
        assert_eq!(r.stream_hash(), h.finalize().to_hex().to_string());
    }

    #[test]
    fn round_trips() {
        let envs = sample();
        let bytes = write(&envs);
        let r = LogReader::new(&bytes[..]).unwrap();
        assert_eq!(r.header().seed, 42);
        assert_eq!(r.header().scenario_hash, [7u8; 32]);
        assert_eq!(*r.header().instrument(), Instrument::btcusdt());
        assert_eq!(r.header().venue, ExchangeConfig::btcusdt());
        assert_eq!(r.header().start_price, Price(714_500));
        assert_eq!(read_all(&bytes).unwrap(), envs);
    }

    #[test]
    fn every_truncation_is_an_error_naming_an_offset() {
        let bytes = write(&sample());
        for cut in 0..bytes.len() {
            let err = read_all(&bytes[..cut]).expect_err("a cut log must not read as whole");
            let msg = err.to_string();
            assert!(matches!(err, LogError::Truncated { .. }), "cut at {cut}: {msg}");
            assert!(msg.contains("offset"), "cut at {cut}: {msg}");
        }
    }

    #[test]
    fn every_flipped_byte_is_an_error() {
        let bytes = write(&sample());
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x5a;
            assert!(read_all(&b).is_err(), "flip at {i} went unnoticed");
        }
    }

    #[test]
    fn writer_refuses_gaps() {
        let header = LogHeader::new([0; 32], 1, Price(714_500), ExchangeConfig::btcusdt());
        let mut w = LogWriter::new(Vec::new(), &header).unwrap();
        let e = Envelope { seq: 3, tick: 0, cause: None, event: Event::TickClosed { tick: 0 } };
        assert!(matches!(w.append(&e), Err(LogError::Encode { .. })));
    }

    #[test]
    fn trailing_garbage_and_wrong_version_are_errors() {
        let mut bytes = write(&sample());
        bytes.push(0);
        assert!(matches!(read_all(&bytes), Err(LogError::Corrupt { .. })));
        let mut bytes = write(&sample());
        bytes[8] = 99;
        assert!(matches!(read_all(&bytes), Err(LogError::UnsupportedVersion { found: 99, .. })));
        // Logs of older layouts (version 1: no venue settings in the header; version 2: no margin
        // modes, funding samples or stop orders; version 3: one of two layouts, each without the
        // other's margin modes and funding samples, or stop orders; version 4: no market-order
        // price band) are refused by their version, with advice, not misread.
        for old in [1u16, 2, 3, 4] {
            let mut bytes = b"LIQSIMLG".to_vec();
            bytes.extend_from_slice(&old.to_le_bytes());
            bytes.extend_from_slice(&[0u8; 60]);
            let err = read_all(&bytes).unwrap_err();
            assert!(
                matches!(err, LogError::UnsupportedVersion { found, supported: 5 } if found == old),
                "{err}"
            );
            assert!(err.to_string().contains("re-run"), "{err}");
        }
        assert!(matches!(
            read_all(b"hello world, this is not a log at all......................................"),
            Err(LogError::NotALog)
        ));
    }
}
