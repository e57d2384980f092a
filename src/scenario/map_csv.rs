//! Liquidation maps from a heatmap export: a CSV of `price, long_usd, short_usd` per bucket (as
//! liquidation-heatmap tools export them) becomes map bands, one per side and non-empty bucket,
//! with an assumed leverage mix, since a heatmap says where positions are liquidated but not at
//! what leverage they were opened.

use super::{Problem, Scenario, ScenarioError};
use crate::population::{Band, LeverageWeight, PositionSide, Shape};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `map.csv`: where the export is and what it does not say.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MapCsvSpec {
    /// The file, relative to the scenario file's folder.
    pub path: String,
    /// The leverage mix assumed for the long liquidations ...
    pub long_leverage: Vec<LeverageWeight>,
    /// ... and for the short ones.
    pub short_leverage: Vec<LeverageWeight>,
    /// One account per this much liquidated notional (at least one per non-empty bucket).
    pub usd_per_account: f64,
    /// Multiplies every USD figure: e.g. the venue's share of an all-exchange heatmap.
    pub scale: f64,
}

impl Default for MapCsvSpec {
    /// Retail's 10/25/50/100x mix (the one an estimated map assumes, docs/market.md) on both
    /// sides; $150K an account, the bundled 14:1 map's average ($14.9B over 100,000 accounts).
    fn default() -> MapCsvSpec {
        let mix = [(10, 3.0), (25, 3.0), (50, 2.0), (100, 2.0)]
            .map(|(leverage, weight)| LeverageWeight { leverage, weight })
            .to_vec();
        MapCsvSpec {
            path: String::new(),
            long_leverage: mix.clone(),
            short_leverage: mix,
            usd_per_account: 150_000.0,
            scale: 1.0,
        }
    }
}

/// One bucket of the export, where it was read.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Row {
    line: usize,
    price: f64,
    long_usd: f64,
    short_usd: f64,
}

/// Reads `scenario.map.csv`, if any, and appends its bands to `map.bands`. `file` is the
/// scenario's own path, which a relative `path` is read against.
pub(super) fn expand(file: &str, scenario: &mut Scenario) -> Result<(), ScenarioError> {
    let Some(spec) = scenario.map.csv.clone() else { return Ok(()) };
    let fail = |message: String| {
        ScenarioError::Invalid(vec![Problem { location: format!("{file}: map.csv"), message }])
    };
    if spec.path.trim().is_empty() {
        return Err(fail("path: names no file".into()));
    }
    if !(spec.usd_per_account.is_finite() && spec.usd_per_account >= 1.0) {
        return Err(fail(format!("usd_per_account: must be at least 1, got {}", spec.usd_per_account)));
    }
    if !(spec.scale.is_finite() && spec.scale > 0.0) {
        return Err(fail(format!("scale: must be positive, got {}", spec.scale)));
    }
    let path = resolve(file, &spec.path);
    let text =
        std::fs::read_to_string(&path).map_err(|cause| ScenarioError::Read { path: path.clone(), cause })?;
    let at = path.display().to_string();
    let rows = parse(&at, &text).map_err(ScenarioError::Invalid)?;
    let bands = bands(&at, &rows, &spec, scenario.start_price_usd).map_err(ScenarioError::Invalid)?;
    scenario.map.bands.extend(bands);
    Ok(())
}

/// `path` against the folder of the scenario file `file` (as given: relative to the working
/// directory, or absolute).
fn resolve(file: &str, path: &str) -> PathBuf {
    let own = Path::new(path);
    match Path::new(file).parent() {
        Some(dir) if own.is_relative() => dir.join(own),
        _ => own.to_path_buf(),
    }
}

/// The rows of an export: a header naming `price`, `long_usd` and `short_usd` (any order, any
/// case, other columns ignored), then one line per bucket with prices strictly ascending. Blank
/// lines and lines starting with `#` are skipped.
fn parse(file: &str, text: &str) -> Result<Vec<Row>, Vec<Problem>> {
    let problem = |line: usize, message: String| Problem { location: format!("{file}:{line}"), message };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
    let Some((header_line, header)) = lines.next() else {
        return Err(vec![problem(1, "no header: expected columns price, long_usd, short_usd".into())]);
    };
    let names: Vec<String> =
        header.split(',').map(|c| c.trim().trim_matches('"').to_ascii_lowercase()).collect();
    let column = |want: &str| names.iter().position(|n| n == want);
    let (Some(pc), Some(lc), Some(sc)) = (column("price"), column("long_usd"), column("short_usd")) else {
        return Err(vec![problem(
            header_line,
            format!("the header needs columns price, long_usd and short_usd; it has {}", names.join(", ")),
        )]);
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut last_price = None;
    for (line, l) in lines {
        let cells: Vec<&str> = l.split(',').map(str::trim).collect();
        let mut cell = |col: usize, name: &str| -> Option<f64> {
            match cells.get(col).map(|c| c.parse::<f64>()) {
                Some(Ok(v)) if v.is_finite() && v >= 0.0 && (name != "price" || v > 0.0) => Some(v),
                Some(Ok(v)) => {
                    let least = if name == "price" { "above 0" } else { "0 or more" };
                    problems.push(problem(line, format!("{name}: must be a finite number {least}, got {v}")));
                    None
                }
                Some(Err(_)) => {
                    problems.push(problem(line, format!("{name}: {:?} is not a number", cells[col])));
                    None
                }
                None => {
                    problems.push(problem(
                        line,
                        format!("{name}: missing ({} cells, header has {})", cells.len(), names.len()),
                    ));
                    None
                }
            }
        };
        let (price, long_usd, short_usd) = (cell(pc, "price"), cell(lc, "long_usd"), cell(sc, "short_usd"));
        if let (Some(price), Some(prev)) = (price, last_price)
            && price <= prev
        {
            problems.push(problem(
                line,
                format!("price {price} is not above the previous row's {prev}: rows go up"),
            ));
        }
        last_price = price.or(last_price);
        if let (Some(price), Some(long_usd), Some(short_usd)) = (price, long_usd, short_usd) {
            rows.push(Row { line, price, long_usd, short_usd });
        }
    }
    if problems.is_empty() && rows.len() < 2 {
        problems.push(problem(
            header_line,
            format!(
                "needs at least two rows (one bucket's width is the distance to the next), has {}",
                rows.len()
            ),
        ));
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

/// A band per side and non-empty bucket. Each row's price is its bucket's centre; the bucket
/// reaches halfway to its neighbours (the first and last as far out as in). Long liquidations
/// lie below the start price and short ones above it: a bucket that holds the start price is cut
/// there, and liquidations on the wrong side of it are refused (they would already be gone).
fn bands(file: &str, rows: &[Row], spec: &MapCsvSpec, start: f64) -> Result<Vec<Band>, Vec<Problem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let below = if i == 0 {
            r.price - (rows[1].price - r.price) / 2.0
        } else {
            (rows[i - 1].price + r.price) / 2.0
        };
        let above = if i + 1 == rows.len() {
            r.price + (r.price - rows[i - 1].price) / 2.0
        } else {
            (r.price + rows[i + 1].price) / 2.0
        };
        for (side, usd, mix) in [
            (PositionSide::Long, r.long_usd, &spec.long_leverage),
            (PositionSide::Short, r.short_usd, &spec.short_leverage),
        ] {
            let usd = usd * spec.scale;
            if usd <= 0.0 {
                continue;
            }
            let (low, high) = match side {
                PositionSide::Long => (below.max(0.0), above.min(start)),
                PositionSide::Short => (below.max(start), above),
            };
            if high <= low {
                let (name, way) = match side {
                    PositionSide::Long => ("long_usd", "at or above"),
                    PositionSide::Short => ("short_usd", "at or below"),
                };
                problems.push(Problem {
                    location: format!("{file}:{}", r.line),
                    message: format!(
                        "{name}: liquidations at {} lie {way} the start price {start}: they would already have happened",
                        r.price
                    ),
                });
                continue;
            }
            let accounts = (usd / spec.usd_per_account).round().clamp(1.0, u32::MAX as f64) as u32;
            out.push(Band {
                side,
                liq_low_usd: low,
                liq_high_usd: high,
                notional_usd: usd,
                shape: Shape::Flat,
                leverage: mix.clone(),
                accounts,
                stop_loss: None,
                cross_share: 0.0,
            });
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Result<Vec<Row>, Vec<String>> {
        parse("m.csv", text).map_err(|p| p.iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn a_heatmap_export_becomes_one_band_per_side_and_bucket_cut_at_the_start_price() {
        let text = "# exported\nPrice,Long_USD,short_usd,time\n69000,2e8,0,x\n\n70000,1e8,0,x\n71000,5e7,4e7,x\n72000,0,3e8,x\n";
        let r = rows(text).unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!((r[0].line, r[0].price, r[0].long_usd), (3, 69_000.0, 2e8));
        let spec = MapCsvSpec { scale: 0.5, ..MapCsvSpec::default() };
        let b = bands("m.csv", &r, &spec, 71_200.0).unwrap();
        let got: Vec<(PositionSide, f64, f64, f64, u32)> =
            b.iter().map(|b| (b.side, b.liq_low_usd, b.liq_high_usd, b.notional_usd, b.accounts)).collect();
        assert_eq!(
            got,
            vec![
                (PositionSide::Long, 68_500.0, 69_500.0, 1e8, 667),
                (PositionSide::Long, 69_500.0, 70_500.0, 5e7, 333),
                // The bucket 70,500-71,500 holds the start price: longs below it, shorts above.
                (PositionSide::Long, 70_500.0, 71_200.0, 2.5e7, 167),
                (PositionSide::Short, 71_200.0, 71_500.0, 2e7, 133),
                (PositionSide::Short, 71_500.0, 72_500.0, 1.5e8, 1_000),
            ]
        );
        assert!(
            b.iter().all(|b| b.leverage == MapCsvSpec::default().long_leverage && b.shape == Shape::Flat)
        );
    }

    #[test]
    fn bad_exports_name_the_line_and_what() {
        let e = rows("price,long\n1,2\n").unwrap_err();
        assert_eq!(
            e,
            ["m.csv:1: the header needs columns price, long_usd and short_usd; it has price, long"]
        );
        let e = rows("price,long_usd,short_usd\n100,1,x\n90,1,1\n80,-1\n").unwrap_err();
        assert_eq!(
            e,
            [
                "m.csv:2: short_usd: \"x\" is not a number",
                "m.csv:3: price 90 is not above the previous row's 100: rows go up",
                "m.csv:4: long_usd: must be a finite number 0 or more, got -1",
                "m.csv:4: short_usd: missing (2 cells, header has 3)",
                "m.csv:4: price 80 is not above the previous row's 90: rows go up",
            ]
        );
        assert_eq!(
            rows("price,long_usd,short_usd\n100,1,1\n").unwrap_err(),
            ["m.csv:1: needs at least two rows (one bucket's width is the distance to the next), has 1"]
        );
        assert!(rows("").unwrap_err()[0].starts_with("m.csv:1: no header"));
        // Longs above the start price would already be liquidated.
        let r = rows("price,long_usd,short_usd\n100,0,0\n110,5,0\n").unwrap();
        let e = bands("m.csv", &r, &MapCsvSpec::default(), 90.0).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "m.csv:3: long_usd: liquidations at 110 lie at or above the start price 90: they would already have happened"
        );
    }
}
