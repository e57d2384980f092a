//! Export of events to CSV and JSON Lines, in human units (USD, BTC) written as exact decimals,
//! and to tidy tables: one per event kind, CSV or Parquet.
//!
//! Every format comes from one typed description of each event ([`event_cells`]), so a column
//! means the same thing in all. The wide CSV's rows have every column in [`column_names`] (empty
//! where an event has no such field); JSON objects carry only the fields the event has; a tidy
//! table ([`TableExporter`]) has the columns of its kind only ([`kind_columns`]), typed.

use super::{Envelope, Event, EventKind, LogHeader};
use crate::margin::AdlScore;
use crate::report::table::{Column, ColumnType, TableSink, Value};
use crate::units::{Instrument, Money, Price, Qty, RATE_SCALE, Rate, format_scaled};
use std::io::{self, Write};

/// One exported value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Int(i128),
    /// An exact decimal number, already formatted (`"71450.1"`).
    Decimal(String),
    Text(&'static str),
    Bool(bool),
}

/// Every column an event can fill, in CSV order after `seq,tick,time_s,cause,type`.
pub fn column_names() -> &'static [&'static str] {
    &[
        "account",
        "counterparty",
        "order",
        "side",
        "order_kind",
        "price",
        "qty",
        "remaining",
        "reason",
        "maker_order",
        "maker",
        "taker_order",
        "taker",
        "maker_fee",
        "taker_fee",
        "maker_margin",
        "taker_margin",
        "liquidation",
        "reduce_only",
        "deposit",
        "leverage",
        "amount",
        "long",
        "short",
        "long_margin",
        "short_margin",
        "index",
        "mark",
        "last",
        "round",
        "rate",
        "premium",
        "delta",
        "position",
        "maintenance",
        "equity",
        "liquidation_price",
        "bankruptcy_price",
        "closed",
        "position_side",
        "notional",
        "partial",
        "score",
        "fee",
        "insurance_delta",
        "margin_mode",
        "impact_bid",
        "impact_ask",
        "samples",
        "stop",
        "stop_kind",
        "trigger_source",
        "trigger",
    ]
}

/// The typed fields of one event, in human units.
pub fn event_cells(event: &Event, inst: &Instrument) -> Vec<(&'static str, Cell)> {
    let price = |p: Price| Cell::Decimal(inst.price_string(p));
    let qty = |q: Qty| Cell::Decimal(inst.qty_string(q));
    let money = |m: Money| Cell::Decimal(m.to_usd_string());
    let rate = |r: Rate| Cell::Decimal(format_scaled(r.0 as i128, RATE_SCALE as i128));
    let id = |v: u64| Cell::Int(v as i128);
    let position_side = |q: Qty| Cell::Text(if q.is_positive() { "long" } else { "short" });
    let notional = |p: Price, q: Qty| match inst.notional(p, q.abs()) {
        Ok(m) => money(m),
        Err(_) => Cell::Text("overflow"),
    };
    match event {
        Event::AccountOpened { account, deposit, leverage, mode } => vec![
            ("account", id(account.0.into())),
            ("deposit", money(*deposit)),
            ("leverage", id((*leverage).into())),
            ("margin_mode", Cell::Text(mode.as_str())),
        ],
        Event::Deposited { account, amount } | Event::MarginAdded { account, amount } => {
            vec![("account", id(account.0.into())), ("amount", money(*amount))]
        }
        Event::PositionSeeded { long, short, qty: q, price: p, long_margin, short_margin } => vec![
            ("long", id(long.0.into())),
            ("short", id(short.0.into())),
            ("qty", qty(*q)),
            ("price", price(*p)),
            ("long_margin", money(*long_margin)),
            ("short_margin", money(*short_margin)),
        ],
        Event::OrderRejected { account, side, kind, price: p, qty: q, reduce_only, reason } => vec![
            ("account", id(account.0.into())),
            ("side", Cell::Text(side.as_str())),
            ("order_kind", Cell::Text(kind.as_str())),
            ("price", price(*p)),
            ("qty", qty(*q)),
            ("reduce_only", Cell::Bool(*reduce_only)),
            ("reason", Cell::Text(reason.as_str())),
        ],
        Event::OrderPlaced { order } => vec![
            ("order", id(order.id.0)),
            ("account", id(order.owner.0.into())),
            ("side", Cell::Text(order.side.as_str())),
            ("order_kind", Cell::Text(order.kind.as_str())),
            ("price", price(order.price)),
            ("qty", qty(order.qty)),
            ("reduce_only", Cell::Bool(order.flags.reduce_only)),
            ("liquidation", Cell::Bool(order.flags.liquidation)),
        ],
        Event::OrderCancelled { order, account, remaining, reason } => vec![
            ("order", id(order.0)),
            ("account", id(account.0.into())),
            ("remaining", qty(*remaining)),
            ("reason", Cell::Text(reason.as_str())),
        ],
        Event::OrderAmended { order, account, price: p, qty: q } => vec![
            ("order", id(order.0)),
            ("account", id(account.0.into())),
            ("price", price(*p)),
            ("qty", qty(*q)),
        ],
        Event::Traded {
            maker_order,
            maker,
            taker_order,
            taker,
            taker_side,
            price: p,
            qty: q,
            maker_fee,
            taker_fee,
            maker_margin,
            taker_margin,
            liquidation,
        } => vec![
            ("maker_order", id(maker_order.0)),
            ("maker", id(maker.0.into())),
            ("taker_order", id(taker_order.0)),
            ("taker", id(taker.0.into())),
            ("side", Cell::Text(taker_side.as_str())),
            ("price", price(*p)),
            ("qty", qty(*q)),
            ("maker_fee", money(*maker_fee)),
            ("taker_fee", money(*taker_fee)),
            ("maker_margin", money(*maker_margin)),
            ("taker_margin", money(*taker_margin)),
            ("liquidation", Cell::Bool(*liquidation)),
        ],
        Event::MarkUpdated { index, mark, last, round, sample } => {
            let mut cells = vec![
                ("index", price(*index)),
                ("mark", price(*mark)),
                ("last", price(*last)),
                ("round", id((*round).into())),
            ];
            if let Some(s) = sample {
                cells.extend([
                    ("impact_bid", price(s.impact_bid)),
                    ("impact_ask", price(s.impact_ask)),
                    ("premium", rate(s.premium)),
                    ("samples", id(s.samples.into())),
                ]);
            }
            cells
        }
        Event::FundingRateSet { rate: r, premium, samples, mark } => vec![
            ("rate", rate(*r)),
            ("premium", rate(*premium)),
            ("samples", id(*samples)),
            ("mark", price(*mark)),
        ],
        Event::FundingPaid { account, amount } => {
            vec![("account", id(account.0.into())), ("amount", money(*amount))]
        }
        Event::InsuranceFundChanged { delta, reason } => {
            vec![("delta", money(*delta)), ("reason", Cell::Text(reason.as_str()))]
        }
        Event::LiquidationTriggered {
            account,
            reason,
            mark,
            position,
            maintenance,
            equity,
            liquidation_price,
            bankruptcy_price,
        } => vec![
            ("account", id(account.0.into())),
            ("reason", Cell::Text(reason.as_str())),
            ("mark", price(*mark)),
            ("position", qty(*position)),
            ("position_side", position_side(*position)),
            ("notional", notional(*mark, *position)),
            ("maintenance", money(*maintenance)),
            ("equity", money(*equity)),
            ("liquidation_price", price(*liquidation_price)),
            ("bankruptcy_price", price(*bankruptcy_price)),
        ],
        Event::InsuranceTakeover { account, qty: q, price: p } => vec![
            ("account", id(account.0.into())),
            ("qty", qty(*q)),
            ("price", price(*p)),
            ("notional", notional(*p, *q)),
        ],
        Event::AutoDeleveraged { account, counterparty, qty: q, price: p, score } => vec![
            ("account", id(account.0.into())),
            ("counterparty", id(counterparty.0.into())),
            ("qty", qty(*q)),
            ("price", price(*p)),
            ("notional", notional(*p, *q)),
            ("score", Cell::Decimal(format_scaled(score.raw(), AdlScore::SCALE))),
        ],
        Event::Liquidated { account, closed, mark, fee, insurance_delta, partial } => vec![
            ("account", id(account.0.into())),
            ("closed", qty(*closed)),
            ("position_side", position_side(*closed)),
            ("price", price(*mark)),
            ("notional", notional(*mark, *closed)),
            ("partial", Cell::Bool(*partial)),
            ("fee", money(*fee)),
            ("insurance_delta", money(*insurance_delta)),
        ],
        // The envelope's tick column already says which tick closed.
        Event::TickClosed { .. } => vec![],
        Event::StopPlaced { stop } | Event::StopTriggered { stop, .. } => {
            let mut cells = vec![
                ("stop", id(stop.id.0)),
                ("account", id(stop.owner.0.into())),
                ("side", Cell::Text(stop.side.as_str())),
                ("stop_kind", Cell::Text(stop.kind.as_str())),
                ("trigger_source", Cell::Text(stop.source.as_str())),
                ("trigger", price(stop.trigger)),
                ("qty", qty(stop.qty)),
                ("reduce_only", Cell::Bool(stop.reduce_only)),
            ];
            if let Event::StopTriggered { price: p, .. } = event {
                cells.push(("price", price(*p)));
            }
            cells
        }
        Event::StopRejected { account, side, kind, source, trigger, qty: q, reduce_only, reason } => vec![
            ("account", id(account.0.into())),
            ("side", Cell::Text(side.as_str())),
            ("stop_kind", Cell::Text(kind.as_str())),
            ("trigger_source", Cell::Text(source.as_str())),
            ("trigger", price(*trigger)),
            ("qty", qty(*q)),
            ("reduce_only", Cell::Bool(*reduce_only)),
            ("reason", Cell::Text(reason.as_str())),
        ],
        Event::StopCancelled { stop, account, reason } => vec![
            ("stop", id(stop.0)),
            ("account", id(account.0.into())),
            ("reason", Cell::Text(reason.as_str())),
        ],
    }
}

/// The columns every tidy table starts with: the envelope's `seq`, `tick`, `time_s` (seconds
/// since the start: tick × the log's tick length) and `cause` (the `seq` of the event that
/// caused this one; empty for none).
pub fn envelope_columns() -> Vec<Column> {
    vec![
        Column::new("seq", ColumnType::Int),
        Column::new("tick", ColumnType::Int),
        Column::new("time_s", ColumnType::Int),
        Column::optional("cause", ColumnType::Int),
    ]
}

/// The fields of one kind of event, in [`event_cells`]' order, with their types.
fn kind_fields(kind: EventKind) -> &'static [(&'static str, ColumnType)] {
    use ColumnType::{Bool as B, Float as F, Int as I, Text as T};
    match kind {
        EventKind::AccountOpened => &[("account", I), ("deposit", F), ("leverage", I), ("margin_mode", T)],
        EventKind::Deposited | EventKind::MarginAdded | EventKind::FundingPaid => {
            &[("account", I), ("amount", F)]
        }
        EventKind::PositionSeeded => {
            &[("long", I), ("short", I), ("qty", F), ("price", F), ("long_margin", F), ("short_margin", F)]
        }
        EventKind::OrderRejected => &[
            ("account", I),
            ("side", T),
            ("order_kind", T),
            ("price", F),
            ("qty", F),
            ("reduce_only", B),
            ("reason", T),
        ],
        EventKind::OrderPlaced => &[
            ("order", I),
            ("account", I),
            ("side", T),
            ("order_kind", T),
            ("price", F),
            ("qty", F),
            ("reduce_only", B),
            ("liquidation", B),
        ],
        EventKind::OrderCancelled => &[("order", I), ("account", I), ("remaining", F), ("reason", T)],
        EventKind::OrderAmended => &[("order", I), ("account", I), ("price", F), ("qty", F)],
        EventKind::Traded => &[
            ("maker_order", I),
            ("maker", I),
            ("taker_order", I),
            ("taker", I),
            ("side", T),
            ("price", F),
            ("qty", F),
            ("maker_fee", F),
            ("taker_fee", F),
            ("maker_margin", F),
            ("taker_margin", F),
            ("liquidation", B),
        ],
        EventKind::MarkUpdated => &[
            ("index", F),
            ("mark", F),
            ("last", F),
            ("round", I),
            ("impact_bid", F),
            ("impact_ask", F),
            ("premium", F),
            ("samples", I),
        ],
        EventKind::FundingRateSet => &[("rate", F), ("premium", F), ("samples", I), ("mark", F)],
        EventKind::InsuranceFundChanged => &[("delta", F), ("reason", T)],
        EventKind::LiquidationTriggered => &[
            ("account", I),
            ("reason", T),
            ("mark", F),
            ("position", F),
            ("position_side", T),
            ("notional", F),
            ("maintenance", F),
            ("equity", F),
            ("liquidation_price", F),
            ("bankruptcy_price", F),
        ],
        EventKind::InsuranceTakeover => &[("account", I), ("qty", F), ("price", F), ("notional", F)],
        EventKind::AutoDeleveraged => {
            &[("account", I), ("counterparty", I), ("qty", F), ("price", F), ("notional", F), ("score", F)]
        }
        EventKind::Liquidated => &[
            ("account", I),
            ("closed", F),
            ("position_side", T),
            ("price", F),
            ("notional", F),
            ("partial", B),
            ("fee", F),
            ("insurance_delta", F),
        ],
        EventKind::TickClosed => &[],
        EventKind::StopPlaced => &[
            ("stop", I),
            ("account", I),
            ("side", T),
            ("stop_kind", T),
            ("trigger_source", T),
            ("trigger", F),
            ("qty", F),
            ("reduce_only", B),
        ],
        EventKind::StopRejected => &[
            ("account", I),
            ("side", T),
            ("stop_kind", T),
            ("trigger_source", T),
            ("trigger", F),
            ("qty", F),
            ("reduce_only", B),
            ("reason", T),
        ],
        EventKind::StopCancelled => &[("stop", I), ("account", I), ("reason", T)],
        EventKind::StopTriggered => &[
            ("stop", I),
            ("account", I),
            ("side", T),
            ("stop_kind", T),
            ("trigger_source", T),
            ("trigger", F),
            ("qty", F),
            ("reduce_only", B),
            ("price", F),
        ],
    }
}

/// Whether a kind's field may be empty: the premium sample of a price update (only when a
/// funding sampling time fell in the tick), and a USD notional (only if it overflows, beyond
/// 9.2 trillion USD).
fn optional_field(kind: EventKind, name: &str) -> bool {
    name == "notional"
        || (kind == EventKind::MarkUpdated
            && matches!(name, "impact_bid" | "impact_ask" | "premium" | "samples"))
}

/// The columns of one kind's tidy table: [`envelope_columns`], then the kind's own fields.
pub fn kind_columns(kind: EventKind) -> Vec<Column> {
    let mut columns = envelope_columns();
    columns.extend(kind_fields(kind).iter().map(|&(name, ty)| Column {
        name: name.into(),
        ty,
        optional: optional_field(kind, name),
    }));
    columns
}

/// A tidy table's file name: the kind's type name (`Traded.csv`, `Liquidated.parquet`).
pub fn table_file_name(kind: EventKind, parquet: bool) -> String {
    format!("{}.{}", kind.name(), if parquet { "parquet" } else { "csv" })
}

/// One kind's table being written.
struct KindTable<W: Write + Send> {
    kind: EventKind,
    columns: Vec<Column>,
    sink: TableSink<W>,
    rows: u64,
}

/// Writes events as tidy tables, one per kind: each has only its kind's columns
/// ([`kind_columns`]), typed, in CSV or Parquet.
pub struct TableExporter<W: Write + Send> {
    /// By position in [`EventKind::ALL`]; `None` for a kind not exported.
    tables: Vec<Option<KindTable<W>>>,
    instrument: Instrument,
    tick_secs: u64,
}

impl<W: Write + Send> TableExporter<W> {
    /// An exporter of `kinds` (a table each, even if no event of the kind comes, so that a script
    /// reading `Liquidated.csv` works on a run without liquidations); `open` gives each kind's
    /// table its output.
    pub fn new(
        header: &LogHeader,
        kinds: &[EventKind],
        parquet: bool,
        mut open: impl FnMut(EventKind) -> io::Result<W>,
    ) -> io::Result<Self> {
        let mut tables = Vec::with_capacity(EventKind::ALL.len());
        for &kind in EventKind::ALL {
            tables.push(if kinds.contains(&kind) {
                let columns = kind_columns(kind);
                let sink = TableSink::new(open(kind)?, columns.clone(), parquet)?;
                Some(KindTable { kind, columns, sink, rows: 0 })
            } else {
                None
            });
        }
        Ok(TableExporter { tables, instrument: *header.instrument(), tick_secs: header.venue.tick_secs })
    }

    pub fn write(&mut self, env: &Envelope) -> io::Result<()> {
        let kind = env.event.kind();
        let Some(table) =
            EventKind::ALL.iter().position(|k| *k == kind).and_then(|i| self.tables.get_mut(i)?.as_mut())
        else {
            return Ok(());
        };
        let cells = event_cells(&env.event, &self.instrument);
        let int = |v: u64| i64::try_from(v).map(Value::Int);
        let fail = |what: String| {
            io::Error::new(io::ErrorKind::InvalidData, format!("{} event {}: {what}", kind.name(), env.seq))
        };
        let out_of_range = |name: &str| fail(format!("{name} beyond the int64 range"));
        let mut row = vec![
            int(env.seq).map_err(|_| out_of_range("seq"))?,
            int(env.tick).map_err(|_| out_of_range("tick"))?,
            int(env.tick.saturating_mul(self.tick_secs)).map_err(|_| out_of_range("time_s"))?,
            match env.cause {
                Some(c) => int(c).map_err(|_| out_of_range("cause"))?,
                None => Value::Null,
            },
        ];
        for column in &table.columns[row.len()..] {
            let cell = cells.iter().find(|(n, _)| *n == column.name).map(|(_, c)| c);
            row.push(match cell {
                None => Value::Null,
                Some(Cell::Int(v)) => {
                    i64::try_from(*v).map(Value::Int).map_err(|_| out_of_range(&column.name))?
                }
                Some(Cell::Decimal(d)) => Value::Decimal(d),
                // A notional beyond Money's range: empty.
                Some(Cell::Text(_)) if column.ty == ColumnType::Float => Value::Null,
                Some(Cell::Text(t)) => Value::Text(t),
                Some(Cell::Bool(b)) => Value::Bool(*b),
            });
        }
        if let Some((name, _)) = cells.iter().find(|(n, _)| !table.columns.iter().any(|c| c.name == *n)) {
            return Err(fail(format!("field {name} has no column in its table")));
        }
        table.sink.push(&row).map_err(|e| fail(e.to_string()))?;
        table.rows += 1;
        Ok(())
    }

    /// Finishes every table; returns each kind's output and its number of rows.
    pub fn finish(self) -> io::Result<Vec<(EventKind, W, u64)>> {
        self.tables.into_iter().flatten().map(|t| Ok((t.kind, t.sink.finish()?, t.rows))).collect()
    }
}

/// Output format of an export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    JsonLines,
}

/// Writes envelopes as CSV or JSON Lines, optionally keeping only some kinds.
pub struct Exporter<W: Write> {
    out: W,
    format: ExportFormat,
    /// The first line: the CSV column names, or the log header as a JSON object.
    first_line: String,
    instrument: Instrument,
    /// Seconds per tick, for the `time_s` column.
    tick_secs: u64,
    kinds: Option<Vec<EventKind>>,
    wrote_header: bool,
    line: String,
}

impl<W: Write> Exporter<W> {
    /// An exporter for the events of the log `header` describes (its contract gives the units,
    /// its tick length the time column).
    pub fn new(out: W, format: ExportFormat, header: &LogHeader, kinds: Option<Vec<EventKind>>) -> Self {
        let first_line = match format {
            ExportFormat::Csv => {
                let mut names = String::from("seq,tick,time_s,cause,type");
                for c in column_names() {
                    names.push(',');
                    names.push_str(c);
                }
                names
            }
            ExportFormat::JsonLines => header_json(header),
        };
        Exporter {
            out,
            format,
            first_line,
            instrument: *header.instrument(),
            tick_secs: header.venue.tick_secs,
            kinds,
            wrote_header: false,
            line: String::new(),
        }
    }

    fn write_first_line(&mut self) -> io::Result<()> {
        if !self.wrote_header {
            self.wrote_header = true;
            self.out.write_all(self.first_line.as_bytes())?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }

    pub fn write(&mut self, env: &Envelope) -> io::Result<()> {
        self.write_first_line()?;
        let kind = env.event.kind();
        if let Some(kinds) = &self.kinds
            && !kinds.contains(&kind)
        {
            return Ok(());
        }
        let cells = event_cells(&env.event, &self.instrument);
        self.line.clear();
        let cause = env.cause.map(|c| c.to_string()).unwrap_or_default();
        let time_s = env.tick.saturating_mul(self.tick_secs);
        match self.format {
            ExportFormat::Csv => {
                use std::fmt::Write as _;
                let _ = write!(self.line, "{},{},{},{},{}", env.seq, env.tick, time_s, cause, kind.name());
                for name in column_names() {
                    self.line.push(',');
                    if let Some((_, cell)) = cells.iter().find(|(n, _)| n == name) {
                        push_cell(&mut self.line, cell);
                    }
                }
            }
            ExportFormat::JsonLines => {
                use std::fmt::Write as _;
                let cause = env.cause.map(|c| c.to_string()).unwrap_or_else(|| "null".into());
                let _ = write!(
                    self.line,
                    "{{\"seq\":{},\"tick\":{},\"time_s\":{},\"cause\":{},\"type\":\"{}\"",
                    env.seq,
                    env.tick,
                    time_s,
                    cause,
                    kind.name()
                );
                for (name, cell) in &cells {
                    let _ = write!(self.line, ",\"{name}\":");
                    match cell {
                        Cell::Text(t) => {
                            let _ = write!(self.line, "\"{t}\"");
                        }
                        other => push_cell(&mut self.line, other),
                    }
                }
                self.line.push('}');
            }
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.write_first_line()?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The log header as the first line of a JSON Lines export, in human units: everything an
/// independent program needs, with the events, to recompute margins, fees, liquidation triggers
/// and funding (`"type":"LogHeader"`).
fn header_json(h: &LogHeader) -> String {
    use std::fmt::Write as _;
    let v = &h.venue;
    let inst = &v.instrument;
    let rate = |r: Rate| format_scaled(r.0 as i128, RATE_SCALE as i128);
    let hash: String = h.scenario_hash.iter().map(|b| format!("{b:02x}")).collect();
    let mut s = String::new();
    let _ = write!(
        s,
        "{{\"type\":\"LogHeader\",\"version\":{},\"seed\":{},\"scenario_hash\":\"{hash}\",\"start_price\":{},\
         \"tick_secs\":{},\"tick_size\":{},\"lot_size\":{},\"maker_fee\":{},\"taker_fee\":{},\
         \"liquidation_fee\":{},\"partial_liquidation_tier\":{},\"funding_interval_secs\":{},\
         \"funding_interest_8h\":{},\"funding_clamp\":{},\"funding_cap\":{},\"impact_notional\":{},\
         \"premium_window_secs\":{},\"max_liquidation_rounds\":{},\"max_stop_rounds\":{},\"map_bucket\":{},\
         \"market_price_band\":{},\"tiers\":[",
        h.version,
        h.seed,
        inst.price_string(h.start_price),
        v.tick_secs,
        Money(inst.tick_micros()).to_usd_string(),
        format_scaled(inst.lot_sats() as i128, 100_000_000),
        rate(v.maker_fee),
        rate(v.taker_fee),
        rate(v.liquidation_fee),
        v.partial_liquidation_tier.map(|t| t.to_string()).unwrap_or_else(|| "null".into()),
        v.funding_interval_secs,
        rate(v.funding_interest_8h),
        rate(v.funding_clamp),
        v.funding_cap.map(rate).unwrap_or_else(|| "null".into()),
        v.impact_notional.to_usd_string(),
        v.premium_window_secs,
        v.max_liquidation_rounds,
        v.max_stop_rounds,
        inst.price_string(Price(v.map_bucket_ticks)),
        rate(v.market_price_band),
    );
    for (i, t) in v.tiers.tiers().iter().enumerate() {
        let _ = write!(
            s,
            "{}{{\"notional_cap\":{},\"max_leverage\":{},\"mmr\":{},\"cum\":{}}}",
            if i == 0 { "" } else { "," },
            t.notional_cap.to_usd_string(),
            t.max_leverage,
            rate(t.mmr),
            t.cum.to_usd_string()
        );
    }
    s.push_str("]}");
    s
}

/// Cells hold only digits, signs, dots and fixed snake_case words: nothing needs quoting.
fn push_cell(line: &mut String, cell: &Cell) {
    use std::fmt::Write as _;
    let _ = match cell {
        Cell::Int(v) => write!(line, "{v}"),
        Cell::Decimal(d) => write!(line, "{d}"),
        Cell::Text(t) => write!(line, "{t}"),
        Cell::Bool(b) => write!(line, "{b}"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book::{
        AccountId, NewOrder, NewStop, OrderFlags, OrderId, OrderKind, StopId, StopKind, TriggerSource,
    };
    use crate::events::{CancelReason, InsuranceReason, PremiumSample, RejectReason, TriggerReason};
    use crate::margin::MarginMode;
    use crate::units::Side;
    use crate::venue::ExchangeConfig;

    fn log_header() -> LogHeader {
        LogHeader::new(
            [0; 32],
            1,
            Price(714_500),
            ExchangeConfig { tick_secs: 2, ..ExchangeConfig::btcusdt() },
        )
    }

    /// One event of every kind (kept in step with [`EventKind::ALL`] by the test below).
    pub(crate) fn one_of_each() -> Vec<Event> {
        let stop = NewStop {
            id: StopId(0),
            owner: AccountId(0),
            side: Side::Sell,
            kind: StopKind::StopMarket,
            source: TriggerSource::Mark,
            trigger: Price(690_000),
            qty: Qty(1_000),
            reduce_only: true,
        };
        let a = AccountId(1);
        let b = AccountId(2);
        vec![
            Event::AccountOpened {
                account: a,
                deposit: Money::usd(10_000),
                leverage: 10,
                mode: MarginMode::Cross,
            },
            Event::Deposited { account: a, amount: Money::usd(5) },
            Event::MarginAdded { account: a, amount: Money(-5) },
            Event::PositionSeeded {
                long: a,
                short: b,
                qty: Qty(1_000),
                price: Price(714_500),
                long_margin: Money::usd(7_145),
                short_margin: Money::usd(7_145),
            },
            Event::OrderRejected {
                account: a,
                side: Side::Sell,
                kind: OrderKind::Market,
                price: Price(0),
                qty: Qty(7),
                reduce_only: false,
                reason: RejectReason::InsufficientMargin,
            },
            Event::OrderPlaced {
                order: NewOrder {
                    id: OrderId(9),
                    owner: a,
                    side: Side::Buy,
                    kind: OrderKind::PostOnly,
                    price: Price(714_501),
                    qty: Qty(3),
                    flags: OrderFlags { reduce_only: true, liquidation: false },
                },
            },
            Event::OrderCancelled {
                order: OrderId(9),
                account: a,
                remaining: Qty(2),
                reason: CancelReason::Requested,
            },
            Event::OrderAmended { order: OrderId(9), account: a, price: Price(714_400), qty: Qty(5) },
            Event::Traded {
                maker_order: OrderId(9),
                maker: a,
                taker_order: OrderId(10),
                taker: b,
                taker_side: Side::Sell,
                price: Price(714_400),
                qty: Qty(5),
                maker_fee: Money(7_144),
                taker_fee: Money(17_860),
                maker_margin: Money(-3_000),
                taker_margin: Money(0),
                liquidation: true,
            },
            Event::MarkUpdated {
                index: Price(714_000),
                mark: Price(714_100),
                last: Price(714_400),
                round: 0,
                sample: Some(PremiumSample {
                    impact_bid: Price(714_150),
                    impact_ask: Price(714_160),
                    premium: Rate(21_008),
                    samples: 2,
                }),
            },
            Event::FundingRateSet {
                rate: Rate(10_000),
                premium: Rate(2_500),
                samples: 5_760,
                mark: Price(714_100),
            },
            Event::FundingPaid { account: a, amount: Money(-1) },
            Event::InsuranceFundChanged { delta: Money(1), reason: InsuranceReason::FundingRemainder },
            Event::LiquidationTriggered {
                account: a,
                reason: TriggerReason::Maintenance,
                mark: Price(640_000),
                position: Qty(1_000),
                maintenance: Money::usd(256),
                equity: Money::usd(250),
                liquidation_price: Price(640_010),
                bankruptcy_price: Price(637_500),
            },
            Event::InsuranceTakeover { account: a, qty: Qty(10), price: Price(637_500) },
            Event::AutoDeleveraged {
                account: a,
                counterparty: b,
                qty: Qty(10),
                price: Price(637_500),
                score: AdlScore(AdlScore::SCALE / 4),
            },
            Event::Liquidated {
                account: a,
                closed: Qty(1_000),
                mark: Price(640_000),
                fee: Money::usd(19),
                insurance_delta: Money::usd(-3),
                partial: false,
            },
            Event::TickClosed { tick: 4 },
            Event::StopPlaced { stop },
            Event::StopRejected {
                account: a,
                side: Side::Sell,
                kind: StopKind::StopMarket,
                source: TriggerSource::Last,
                trigger: Price(720_000),
                qty: Qty(1_000),
                reduce_only: true,
                reason: RejectReason::WouldTriggerImmediately,
            },
            Event::StopCancelled { stop: StopId(1), account: b, reason: CancelReason::Liquidation },
            Event::StopTriggered { stop, price: Price(689_000) },
        ]
    }

    #[test]
    fn every_kind_exports_only_known_columns() {
        let inst = Instrument::btcusdt();
        let events = one_of_each();
        let kinds: Vec<_> = events.iter().map(Event::kind).collect();
        assert_eq!(kinds, EventKind::ALL.to_vec(), "one_of_each must cover every kind, in order");
        let names: Vec<_> = EventKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names[0], "AccountOpened");
        assert!(names.contains(&"OrderRejected") && names.contains(&"TickClosed"));
        for e in &events {
            for (name, _) in event_cells(e, &inst) {
                assert!(column_names().contains(&name), "{name} missing from column_names");
            }
        }
    }

    /// The column type a cell belongs in.
    fn cell_type(cell: &Cell) -> ColumnType {
        match cell {
            Cell::Int(_) => ColumnType::Int,
            Cell::Decimal(_) => ColumnType::Float,
            Cell::Text(_) => ColumnType::Text,
            Cell::Bool(_) => ColumnType::Bool,
        }
    }

    /// One event of every kind, and a price update without a premium sample.
    fn events_to_table() -> Vec<Envelope> {
        let mut events = one_of_each();
        events.push(Event::MarkUpdated {
            index: Price(714_000),
            mark: Price(714_100),
            last: Price(714_400),
            round: 2,
            sample: None,
        });
        events
            .into_iter()
            .enumerate()
            .map(|(i, event)| Envelope { seq: i as u64, tick: 3, cause: (i % 2 == 1).then_some(7), event })
            .collect()
    }

    #[test]
    fn every_kind_has_a_table_with_exactly_its_fields_typed() {
        let inst = Instrument::btcusdt();
        for &kind in EventKind::ALL {
            let columns = kind_columns(kind);
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            assert_eq!(names[..4], ["seq", "tick", "time_s", "cause"], "{kind:?}");
            let mut unique = names.clone();
            unique.sort_unstable();
            unique.dedup();
            assert_eq!(unique.len(), names.len(), "{kind:?} repeats a column");
            for c in &columns[4..] {
                assert!(column_names().contains(&c.name.as_str()), "{} missing from the wide table", c.name);
            }
        }
        for env in events_to_table() {
            let kind = env.event.kind();
            let columns = kind_columns(kind);
            let cells = event_cells(&env.event, &inst);
            // The event's fields are its table's columns, in order, each of its type; only an
            // optional column is ever missing.
            let required: Vec<&str> =
                columns[4..].iter().filter(|c| !c.optional).map(|c| c.name.as_str()).collect();
            for name in required {
                assert!(cells.iter().any(|(n, _)| *n == name), "{kind:?} lacks required {name}");
            }
            let mut at = 4;
            for (name, cell) in &cells {
                let offset = columns[at..].iter().position(|c| c.name == *name);
                let Some(offset) = offset else { panic!("{kind:?}: {name} out of order or not a column") };
                at += offset;
                assert_eq!(columns[at].ty, cell_type(cell), "{kind:?}.{name}");
                at += 1;
            }
        }
    }

    /// Writes `envs` as tidy tables of every kind; returns each kind's bytes and rows.
    fn tables(envs: &[Envelope], kinds: &[EventKind], parquet: bool) -> Vec<(EventKind, Vec<u8>, u64)> {
        let mut ex = TableExporter::new(&log_header(), kinds, parquet, |_| Ok(Vec::new())).unwrap();
        for env in envs {
            ex.write(env).unwrap();
        }
        ex.finish().unwrap()
    }

    #[test]
    fn tidy_csv_tables_hold_each_event_once_in_its_own_typed_columns() {
        let envs = events_to_table();
        let out = tables(&envs, EventKind::ALL, false);
        assert_eq!(out.len(), EventKind::ALL.len(), "a table for every kind");
        let inst = Instrument::btcusdt();
        for (kind, bytes, rows) in out {
            let text = String::from_utf8(bytes).unwrap();
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(',').collect();
            let names: Vec<String> = kind_columns(kind).into_iter().map(|c| c.name).collect();
            assert_eq!(header, names, "{kind:?}");
            let mine: Vec<&Envelope> = envs.iter().filter(|e| e.event.kind() == kind).collect();
            assert_eq!(rows as usize, mine.len());
            for (line, env) in lines.zip(&mine) {
                let row: Vec<&str> = line.split(',').collect();
                assert_eq!(row.len(), header.len(), "{line}");
                assert_eq!(
                    row[..3],
                    [env.seq.to_string(), "3".into(), "6".into()],
                    "tick 3 of 2-second ticks"
                );
                assert_eq!(row[3], env.cause.map(|c| c.to_string()).unwrap_or_default());
                let cells = event_cells(&env.event, &inst);
                for (name, cell) in row[4..].iter().zip(&header[4..]).map(|(v, n)| (*n, *v)) {
                    let want = cells.iter().find(|(n, _)| *n == name).map(|(_, c)| c);
                    let mut text = String::new();
                    if let Some(c) = want {
                        push_cell(&mut text, c);
                    }
                    assert_eq!(cell, text, "{kind:?}.{name}");
                }
            }
        }
        // Kept kinds only.
        let liq = tables(&envs, &EventKind::parse_filter("liquidation").unwrap(), false);
        let kinds: Vec<_> = liq.iter().map(|(k, _, _)| k.name()).collect();
        assert_eq!(kinds, ["LiquidationTriggered", "InsuranceTakeover", "AutoDeleveraged", "Liquidated"]);
        assert_eq!(table_file_name(EventKind::Traded, true), "Traded.parquet");
    }

    #[test]
    fn tidy_parquet_tables_read_back_as_the_csv_says() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        use parquet::record::Field;
        use std::io::Write as _;
        let envs = events_to_table();
        let csv = tables(&envs, EventKind::ALL, false);
        let parquet = tables(&envs, EventKind::ALL, true);
        assert_eq!(parquet, tables(&envs, EventKind::ALL, true), "the same events give the same bytes");
        for ((kind, csv, _), (_, bytes, rows)) in csv.iter().zip(parquet) {
            assert!(bytes.starts_with(b"PAR1"), "{kind:?}");
            let mut file = tempfile::tempfile().unwrap();
            file.write_all(&bytes).unwrap();
            let reader = SerializedFileReader::new(file).unwrap();
            assert_eq!(reader.metadata().file_metadata().num_rows() as u64, rows, "{kind:?}");
            let columns = kind_columns(*kind);
            let text = String::from_utf8(csv.clone()).unwrap();
            let back = reader.get_row_iter(None).unwrap();
            for (line, row) in text.lines().skip(1).zip(back) {
                let row = row.unwrap();
                let fields: Vec<&Field> = row.get_column_iter().map(|(_, f)| f).collect();
                assert_eq!(fields.len(), columns.len());
                for ((c, cell), field) in columns.iter().zip(line.split(',')).zip(fields) {
                    let want = match (cell, c.ty) {
                        ("", _) => Field::Null,
                        (v, ColumnType::Int) => Field::Long(v.parse().unwrap()),
                        (v, ColumnType::Float) => Field::Double(v.parse().unwrap()),
                        (v, ColumnType::Bool) => Field::Bool(v.parse().unwrap()),
                        (v, _) => Field::Str(v.into()),
                    };
                    assert_eq!(field, &want, "{kind:?}.{}", c.name);
                }
            }
        }
    }

    /// A kind's line in docs/events.md's table of columns.
    fn doc_line(kind: EventKind) -> String {
        let columns: Vec<String> = kind_columns(kind)[4..]
            .iter()
            .map(|c| format!("{} {}{}", c.name, c.ty.name(), if c.optional { "?" } else { "" }))
            .collect();
        let columns = if columns.is_empty() { "(none)".to_string() } else { columns.join(", ") };
        format!("| `{}` | {} | {columns} |", kind.name(), kind.group())
    }

    #[test]
    fn docs_list_every_tables_columns_and_types() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/events.md")).unwrap();
        let missing: Vec<String> =
            EventKind::ALL.iter().map(|&k| doc_line(k)).filter(|l| !docs.contains(l.as_str())).collect();
        assert!(
            missing.is_empty(),
            "docs/events.md lacks (or has other columns for):\n{}",
            missing.join("\n")
        );
    }

    fn traded() -> Event {
        one_of_each().into_iter().find(|e| e.kind() == EventKind::Traded).expect("one_of_each has a trade")
    }

    #[test]
    fn csv_and_jsonl_say_the_same_in_human_units() {
        let env = Envelope { seq: 6, tick: 2, cause: Some(5), event: traded() };
        let mut csv = Exporter::new(Vec::new(), ExportFormat::Csv, &log_header(), None);
        csv.write(&env).unwrap();
        let csv = String::from_utf8(csv.finish().unwrap()).unwrap();
        let mut lines = csv.lines();
        let header: Vec<_> = lines.next().unwrap().split(',').collect();
        let row: Vec<_> = lines.next().unwrap().split(',').collect();
        assert_eq!(header.len(), row.len());
        let get = |col: &str| row[header.iter().position(|h| *h == col).unwrap()];
        assert_eq!(get("type"), "Traded");
        assert_eq!(get("price"), "71440");
        assert_eq!(get("qty"), "0.005");
        assert_eq!(get("taker_fee"), "0.01786");
        assert_eq!(get("maker_margin"), "-0.003");
        assert_eq!(get("cause"), "5");
        assert_eq!(get("time_s"), "4", "tick 2 of 2-second ticks");
        assert_eq!(get("account"), "");

        let mut json = Exporter::new(Vec::new(), ExportFormat::JsonLines, &log_header(), None);
        json.write(&env).unwrap();
        let json = String::from_utf8(json.finish().unwrap()).unwrap();
        let (first, json) = json.split_once('\n').unwrap();
        let header: serde_json::Value = serde_json::from_str(first).unwrap();
        assert_eq!(header["type"], "LogHeader");
        assert_eq!((header["tick_secs"].as_u64(), header["tick_size"].as_f64()), (Some(2), Some(0.1)));
        assert_eq!(header["tiers"][1]["cum"].as_f64(), Some(50.0), "{first}");
        assert_eq!(header["taker_fee"].as_f64(), Some(0.0005));
        assert!(
            json.starts_with("{\"seq\":6,\"tick\":2,\"time_s\":4,\"cause\":5,\"type\":\"Traded\""),
            "{json}"
        );
        assert!(json.contains("\"price\":71440,") && json.contains("\"side\":\"sell\""), "{json}");
        assert!(json.contains("\"liquidation\":true}"), "{json}");
    }

    #[test]
    fn kind_filter_keeps_only_matching_events() {
        let kinds = EventKind::parse_filter("liquidation").unwrap();
        let mut ex = Exporter::new(Vec::new(), ExportFormat::JsonLines, &log_header(), Some(kinds));
        for (i, e) in one_of_each().into_iter().enumerate() {
            ex.write(&Envelope { seq: i as u64, tick: 0, cause: None, event: e }).unwrap();
        }
        let out = String::from_utf8(ex.finish().unwrap()).unwrap();
        let types: Vec<_> = out
            .lines()
            .skip(1)
            .map(|l| l.split("\"type\":\"").nth(1).unwrap().split('"').next().unwrap())
            .collect();
        assert_eq!(types, ["LiquidationTriggered", "InsuranceTakeover", "AutoDeleveraged", "Liquidated"]);
        // Liquidations say the side, the price and the USD notional.
        let liquidated = out.lines().last().unwrap();
        assert!(liquidated.contains("\"position_side\":\"long\""), "{liquidated}");
        assert!(
            liquidated.contains("\"price\":64000,") && liquidated.contains("\"notional\":64000,"),
            "{liquidated}"
        );
        // Stops: their own group, with what they watch and where they trigger.
        let mut ex = Exporter::new(
            Vec::new(),
            ExportFormat::JsonLines,
            &log_header(),
            EventKind::parse_filter("stop"),
        );
        for (i, e) in one_of_each().into_iter().enumerate() {
            ex.write(&Envelope { seq: i as u64, tick: 0, cause: None, event: e }).unwrap();
        }
        let out = String::from_utf8(ex.finish().unwrap()).unwrap();
        assert_eq!(out.lines().count(), 1 + 4, "{out}");
        let triggered = out.lines().last().unwrap();
        for cell in [
            "\"type\":\"StopTriggered\"",
            "\"stop_kind\":\"stop_market\"",
            "\"trigger_source\":\"mark\"",
            "\"trigger\":69000,",
            "\"price\":68900",
        ] {
            assert!(triggered.contains(cell), "{cell} not in {triggered}");
        }
        assert!(EventKind::parse_filter("nonsense").is_none());
        assert_eq!(EventKind::parse_filter("Traded").unwrap(), vec![EventKind::Traded]);
    }
}
