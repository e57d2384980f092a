//! Typed tables: one list of columns (name, type, whether a cell may be empty) and rows of
//! values, written as CSV or as Parquet from the same description, so that a column means the
//! same thing in both.
//!
//! CSV cells are exact text (an integer as digits, a decimal as written). Parquet columns are
//! typed: `int64`, `uint64` (seeds), `double` (prices, quantities, USD: the decimal parsed to the
//! nearest double, as pandas reads the CSV), `string` and `boolean`; an optional column may hold
//! nulls, a required one never does. Rows are grouped by a fixed count ([`ROW_GROUP_ROWS`]) and
//! the file carries no clock time, so the same rows give the same bytes.

use parquet::basic::{LogicalType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use std::io::{self, Write};
use std::sync::Arc;

/// Rows per Parquet row group (a fixed count, so the bytes do not depend on anything else).
pub const ROW_GROUP_ROWS: usize = 65_536;

/// A column's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// A signed 64-bit integer.
    Int,
    /// An unsigned 64-bit integer (seeds, which use all 64 bits).
    UInt,
    /// A number with a fraction (USD, BTC, prices, rates).
    Float,
    Text,
    Bool,
}

impl ColumnType {
    /// The type's name as pyarrow reports the Parquet column.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Int => "int64",
            ColumnType::UInt => "uint64",
            ColumnType::Float => "double",
            ColumnType::Text => "string",
            ColumnType::Bool => "bool",
        }
    }
}

/// A column: its name, type, and whether a cell may be empty (CSV) or null (Parquet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub optional: bool,
}

impl Column {
    /// A column every row fills.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Column {
        Column { name: name.into(), ty, optional: false }
    }

    /// A column a row may leave empty.
    pub fn optional(name: impl Into<String>, ty: ColumnType) -> Column {
        Column { name: name.into(), ty, optional: true }
    }
}

/// One cell.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// Empty: only in an optional column.
    Null,
    Int(i64),
    UInt(u64),
    /// A float column's value, written in CSV as Rust prints it (shortest exact round trip).
    Float(f64),
    /// A float column's value given as an exact decimal (`"0.01786"`): CSV writes the text,
    /// Parquet the nearest double.
    Decimal(&'a str),
    Text(&'a str),
    Bool(bool),
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Whether `value` fits `column` (an error names the column).
fn check(column: &Column, value: &Value) -> io::Result<()> {
    let fits = match (column.ty, value) {
        (_, Value::Null) => column.optional,
        (ColumnType::Int, Value::Int(_))
        | (ColumnType::UInt, Value::UInt(_))
        | (ColumnType::Float, Value::Float(_) | Value::Decimal(_))
        | (ColumnType::Text, Value::Text(_))
        | (ColumnType::Bool, Value::Bool(_)) => true,
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(invalid(format!(
            "column {} ({}{}): cannot hold {value:?}",
            column.name,
            column.ty.name(),
            if column.optional { ", optional" } else { "" }
        )))
    }
}

fn check_row(columns: &[Column], row: &[Value]) -> io::Result<()> {
    if row.len() != columns.len() {
        return Err(invalid(format!("a row of {} cells for {} columns", row.len(), columns.len())));
    }
    columns.iter().zip(row).try_for_each(|(c, v)| check(c, v))
}

/// Writes a table as CSV: a header line of column names, then a line per row. Cells hold
/// numbers, `true`/`false` and fixed snake_case words, so nothing needs quoting.
pub struct CsvTable<W: Write> {
    out: W,
    columns: Vec<Column>,
    line: String,
}

impl<W: Write> CsvTable<W> {
    pub fn new(mut out: W, columns: Vec<Column>) -> io::Result<Self> {
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        writeln!(out, "{}", names.join(","))?;
        Ok(CsvTable { out, columns, line: String::new() })
    }

    pub fn push(&mut self, row: &[Value]) -> io::Result<()> {
        use std::fmt::Write as _;
        check_row(&self.columns, row)?;
        self.line.clear();
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            let _ = match v {
                Value::Null => Ok(()),
                Value::Int(x) => write!(self.line, "{x}"),
                Value::UInt(x) => write!(self.line, "{x}"),
                Value::Float(x) => write!(self.line, "{x}"),
                Value::Decimal(t) | Value::Text(t) => write!(self.line, "{t}"),
                Value::Bool(b) => write!(self.line, "{b}"),
            };
        }
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One column's values of the current row group, and its definition levels when optional
/// (1: a value, 0: null).
enum Buffer {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Text(Vec<ByteArray>),
    Bool(Vec<bool>),
}

/// Writes a table as Parquet (uncompressed, dictionary-encoded where it pays, page statistics),
/// in row groups of [`ROW_GROUP_ROWS`] rows.
pub struct ParquetTable<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    columns: Vec<Column>,
    values: Vec<Buffer>,
    levels: Vec<Vec<i16>>,
    rows: usize,
    /// A row failed half-way: the buffers no longer line up, so nothing more is written.
    failed: bool,
}

fn parquet_err(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(format!("parquet: {e}"))
}

/// The Parquet schema of `columns`.
fn schema(columns: &[Column]) -> io::Result<Type> {
    let fields = columns
        .iter()
        .map(|c| {
            let (physical, logical) = match c.ty {
                ColumnType::Int => (PhysicalType::INT64, None),
                ColumnType::UInt => (PhysicalType::INT64, Some(LogicalType::integer(64, false))),
                ColumnType::Float => (PhysicalType::DOUBLE, None),
                ColumnType::Text => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
                ColumnType::Bool => (PhysicalType::BOOLEAN, None),
            };
            let repetition = if c.optional { Repetition::OPTIONAL } else { Repetition::REQUIRED };
            Type::primitive_type_builder(&c.name, physical)
                .with_repetition(repetition)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
                .map_err(parquet_err)
        })
        .collect::<io::Result<Vec<_>>>()?;
    Type::group_type_builder("schema").with_fields(fields).build().map_err(parquet_err)
}

impl<W: Write + Send> ParquetTable<W> {
    pub fn new(out: W, columns: Vec<Column>) -> io::Result<Self> {
        let props = WriterProperties::builder().set_max_row_group_row_count(Some(ROW_GROUP_ROWS)).build();
        let writer = SerializedFileWriter::new(out, Arc::new(schema(&columns)?), Arc::new(props))
            .map_err(parquet_err)?;
        let values = columns
            .iter()
            .map(|c| match c.ty {
                ColumnType::Int | ColumnType::UInt => Buffer::Int(Vec::new()),
                ColumnType::Float => Buffer::Float(Vec::new()),
                ColumnType::Text => Buffer::Text(Vec::new()),
                ColumnType::Bool => Buffer::Bool(Vec::new()),
            })
            .collect();
        let levels = vec![Vec::new(); columns.len()];
        Ok(ParquetTable { writer, columns, values, levels, rows: 0, failed: false })
    }

    pub fn push(&mut self, row: &[Value]) -> io::Result<()> {
        if self.failed {
            return Err(invalid("an earlier row could not be written".into()));
        }
        check_row(&self.columns, row)?;
        self.failed = true;
        for (i, v) in row.iter().enumerate() {
            if self.columns[i].optional {
                self.levels[i].push(i16::from(*v != Value::Null));
            }
            match (&mut self.values[i], *v) {
                (_, Value::Null) => {}
                (Buffer::Int(b), Value::Int(x)) => b.push(x),
                // The bits of the unsigned value: Parquet's UINT_64 annotation reads them back.
                (Buffer::Int(b), Value::UInt(x)) => b.push(x as i64),
                (Buffer::Float(b), Value::Float(x)) => b.push(x),
                (Buffer::Float(b), Value::Decimal(t)) => b.push(t.parse().map_err(|_| {
                    invalid(format!("column {}: {t:?} is not a number", self.columns[i].name))
                })?),
                (Buffer::Text(b), Value::Text(t)) => b.push(ByteArray::from(t)),
                (Buffer::Bool(b), Value::Bool(x)) => b.push(x),
                // check_row matched every value to its column's type.
                (_, other) => {
                    return Err(invalid(format!("column {}: cannot hold {other:?}", self.columns[i].name)));
                }
            }
        }
        self.rows += 1;
        if self.rows == ROW_GROUP_ROWS {
            self.flush()?;
        }
        self.failed = false;
        Ok(())
    }

    /// Writes the buffered rows as a row group.
    fn flush(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut group = self.writer.next_row_group().map_err(parquet_err)?;
        for (i, values) in self.values.iter_mut().enumerate() {
            let Some(mut column) = group.next_column().map_err(parquet_err)? else {
                return Err(invalid("parquet: fewer columns than the schema".into()));
            };
            let levels = self.columns[i].optional.then_some(self.levels[i].as_slice());
            let written = match values {
                Buffer::Int(v) => column.typed::<Int64Type>().write_batch(v, levels, None),
                Buffer::Float(v) => column.typed::<DoubleType>().write_batch(v, levels, None),
                Buffer::Text(v) => column.typed::<ByteArrayType>().write_batch(v, levels, None),
                Buffer::Bool(v) => column.typed::<BoolType>().write_batch(v, levels, None),
            };
            written.map_err(parquet_err)?;
            column.close().map_err(parquet_err)?;
            match values {
                Buffer::Int(v) => v.clear(),
                Buffer::Float(v) => v.clear(),
                Buffer::Text(v) => v.clear(),
                Buffer::Bool(v) => v.clear(),
            }
            self.levels[i].clear();
        }
        group.close().map_err(parquet_err)?;
        self.rows = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub fn finish(mut self) -> io::Result<W> {
        if self.failed {
            return Err(invalid("an earlier row could not be written".into()));
        }
        self.flush()?;
        let mut out = self.writer.into_inner().map_err(parquet_err)?;
        out.flush()?;
        Ok(out)
    }
}

/// A table being written in one of the two formats.
pub enum TableSink<W: Write + Send> {
    Csv(CsvTable<W>),
    Parquet(Box<ParquetTable<W>>),
}

impl<W: Write + Send> TableSink<W> {
    pub fn new(out: W, columns: Vec<Column>, parquet: bool) -> io::Result<Self> {
        Ok(if parquet {
            TableSink::Parquet(Box::new(ParquetTable::new(out, columns)?))
        } else {
            TableSink::Csv(CsvTable::new(out, columns)?)
        })
    }

    pub fn push(&mut self, row: &[Value]) -> io::Result<()> {
        match self {
            TableSink::Csv(t) => t.push(row),
            TableSink::Parquet(t) => t.push(row),
        }
    }

    pub fn finish(self) -> io::Result<W> {
        match self {
            TableSink::Csv(t) => t.finish(),
            TableSink::Parquet(t) => t.finish(),
        }
    }
}

/// Writes a whole table into `path` atomically (see [`super::write_atomic`]), as Parquet when
/// `parquet`, else CSV.
pub fn write_table<'a>(
    path: &std::path::Path,
    columns: &[Column],
    rows: impl IntoIterator<Item = Vec<Value<'a>>>,
    parquet: bool,
) -> Result<(), super::ReportError> {
    super::write_atomic(path, |w| {
        let mut t = TableSink::new(w, columns.to_vec(), parquet)?;
        for row in rows {
            t.push(&row)?;
        }
        t.finish()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<Column> {
        vec![
            Column::new("tick", ColumnType::Int),
            Column::new("seed", ColumnType::UInt),
            Column::new("price", ColumnType::Float),
            Column::optional("why", ColumnType::Text),
            Column::new("ok", ColumnType::Bool),
        ]
    }

    fn rows(n: usize) -> Vec<Vec<Value<'static>>> {
        (0..n)
            .map(|i| {
                vec![
                    Value::Int(i as i64 - 1),
                    Value::UInt(u64::MAX - i as u64),
                    if i % 2 == 0 { Value::Decimal("71450.1") } else { Value::Float(0.5) },
                    if i % 3 == 0 { Value::Null } else { Value::Text("requested") },
                    Value::Bool(i % 2 == 1),
                ]
            })
            .collect()
    }

    fn csv(rows: &[Vec<Value>]) -> String {
        let mut t = CsvTable::new(Vec::new(), columns()).unwrap();
        rows.iter().try_for_each(|r| t.push(r)).unwrap();
        String::from_utf8(t.finish().unwrap()).unwrap()
    }

    fn parquet(rows: &[Vec<Value>]) -> Vec<u8> {
        let mut t = ParquetTable::new(Vec::new(), columns()).unwrap();
        rows.iter().try_for_each(|r| t.push(r)).unwrap();
        t.finish().unwrap()
    }

    #[test]
    fn csv_cells_are_exact_text_and_nulls_empty() {
        let text = csv(&rows(2));
        assert_eq!(
            text,
            format!(
                "tick,seed,price,why,ok\n-1,{},71450.1,,false\n0,{},0.5,requested,true\n",
                u64::MAX,
                u64::MAX - 1
            )
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_or_a_null_in_a_required_column_is_refused() {
        let mut t = CsvTable::new(Vec::new(), columns()).unwrap();
        let mut row = rows(1).remove(0);
        row[0] = Value::Null;
        let e = t.push(&row).unwrap_err().to_string();
        assert!(e.contains("column tick (int64)"), "{e}");
        row[0] = Value::Text("x");
        assert!(t.push(&row).is_err());
        assert!(t.push(&row[..4]).unwrap_err().to_string().contains("4 cells for 5 columns"));
        let mut p = ParquetTable::new(Vec::new(), columns()).unwrap();
        let mut bad = rows(1).remove(0);
        bad[2] = Value::Decimal("7x");
        assert!(p.push(&bad).unwrap_err().to_string().contains("\"7x\" is not a number"));
        // The half-written row spoils the table: no later row, no file.
        assert!(p.push(&rows(1)[0]).is_err());
        assert!(p.finish().is_err());
    }

    #[test]
    fn parquet_reads_back_every_row_with_its_type() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        use parquet::record::Field;
        let rows = rows(7);
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&parquet(&rows)).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 7);
        let back: Vec<Vec<(String, Field)>> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().get_column_iter().map(|(n, f)| (n.clone(), f.clone())).collect())
            .collect();
        assert_eq!(back.len(), rows.len());
        for (row, got) in rows.iter().zip(&back) {
            let want: Vec<(String, Field)> = columns()
                .into_iter()
                .zip(row)
                .map(|(c, v)| {
                    let f = match *v {
                        Value::Null => Field::Null,
                        Value::Int(x) => Field::Long(x),
                        Value::UInt(x) => Field::ULong(x),
                        Value::Float(x) => Field::Double(x),
                        Value::Decimal(t) => Field::Double(t.parse().unwrap()),
                        Value::Text(t) => Field::Str(t.into()),
                        Value::Bool(b) => Field::Bool(b),
                    };
                    (c.name, f)
                })
                .collect();
            assert_eq!(got, &want);
        }
    }

    #[test]
    fn parquet_files_are_framed_and_the_same_rows_give_the_same_bytes() {
        // More than one row group.
        let many = rows(ROW_GROUP_ROWS + 3);
        let a = parquet(&many);
        assert!(a.starts_with(b"PAR1") && a.ends_with(b"PAR1"), "not a Parquet file");
        assert_eq!(a, parquet(&many));
        assert_ne!(a, parquet(&many[1..]));
        // An empty table still has its schema.
        let empty = parquet(&[]);
        assert!(empty.starts_with(b"PAR1") && empty.ends_with(b"PAR1"));
        assert!(empty.windows(4).any(|w| w == b"seed"), "the schema names the columns");
    }
}
