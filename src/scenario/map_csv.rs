//! Liquidation maps from a heatmap export: a CSV of `price, long_usd, short_usd` per bucket (as
//! liquidation-heatmap tools export them) becomes map bands, one per side and non-empty bucket,
//! with an assumed leverage mix, since a heatmap says where positions are liquidated but not at
//! what leverage they were opened.

use super::{InstrumentPreset, Problem, Scenario, ScenarioError};
use crate::population::{Band, LeverageWeight, PositionSide, Shape};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `map.csv`: where the export is and what it does not say.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MapCsvSpec {
    /// The file, relative to the scenario file's folder.
    pub path: String,
    /// The leverage mix assumed for the long liquidations (`None`: the instrument's, see
    /// [`default_mix`]) ...
    pub long_leverage: Option<Vec<LeverageWeight>>,
    /// ... and for the short ones.
    pub short_leverage: Option<Vec<LeverageWeight>>,
    /// One account per this much liquidated notional (at least one per non-empty bucket).
    pub usd_per_account: f64,
    /// Multiplies every USD figure: e.g. the venue's share of an all-exchange heatmap.
    pub scale: f64,
}

impl Default for MapCsvSpec {
    /// $150K an account, the bundled 14:1 map's average ($14.9B over 100,000 accounts).
    fn default() -> MapCsvSpec {
        MapCsvSpec {
            path: String::new(),
            long_leverage: None,
            short_leverage: None,
            usd_per_account: 150_000.0,
            scale: 1.0,
        }
    }
}

/// The leverage mix assumed when the export's is not given: retail's 10/25/50/100x (the one an
/// estimated map assumes, docs/market.md) where the tiers allow 100x on a $150K account
/// (BTCUSDT), and 5/10/20/25x where they stop at 50x above $100K and 25x above $500K (ETHUSDT).
pub fn default_mix(instrument: InstrumentPreset) -> Vec<LeverageWeight> {
    let mix: [(u32, f64); 4] = match instrument {
        InstrumentPreset::BtcUsdt => [(10, 3.0), (25, 3.0), (50, 2.0), (100, 2.0)],
        InstrumentPreset::EthUsdt => [(5, 2.0), (10, 3.0), (20, 3.0), (25, 2.0)],
    };
    mix.map(|(leverage, weight)| LeverageWeight { leverage, weight }).to_vec()
}

/// What an export made: the bands, where each came from (`file:line`), and the file's bytes.
pub(super) struct Expanded {
    pub first_band: usize,
    pub origins: Vec<String>,
    pub bytes: Vec<u8>,
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
/// scenario's own path, which a relative `path` is read against. A start price that is not a
/// positive number leaves the export unread: validation says what is wrong with it.
pub(super) fn expand(file: &str, scenario: &mut Scenario) -> Result<Option<Expanded>, ScenarioError> {
    let Some(spec) = scenario.map.csv.clone() else { return Ok(None) };
    let start = scenario.start_price_usd;
    if !(start.is_finite() && start > 0.0) {
        return Ok(None);
    }
    let fail = |message: String| {
        ScenarioError::Invalid(vec![Problem {
            location: file.to_string(),
            message: format!("map.csv.{message}"),
        }])
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
    let bytes =
        std::fs::read(&path).map_err(|e| fail(format!("path: cannot read {}: {e}", path.display())))?;
    let at = path.display().to_string();
    let text = std::str::from_utf8(&bytes).map_err(|e| fail(format!("path: {at} is not UTF-8 text: {e}")))?;
    let rows = parse(&at, text).map_err(ScenarioError::Invalid)?;
    let instrument = scenario.market.instrument;
    let mixes = (
        spec.long_leverage.clone().unwrap_or_else(|| default_mix(instrument)),
        spec.short_leverage.clone().unwrap_or_else(|| default_mix(instrument)),
    );
    let made =
        bands(&at, &rows, &spec, &mixes, start, scenario.market.lot()).map_err(ScenarioError::Invalid)?;
    let first_band = scenario.map.bands.len();
    let origins = made.iter().map(|(_, origin)| origin.clone()).collect();
    scenario.map.bands.extend(made.into_iter().map(|(band, _)| band));
    Ok(Some(Expanded { first_band, origins, bytes }))
}

/// Names a problem with band `k` of `map.bands` by where it came from, when an export made it:
/// `s.ron: map.bands[12].accounts` becomes `s.ron: map.bands[12] (from maps/x.csv:40,
/// long_usd).accounts`.
pub(super) fn locate(problem: &mut Problem, expanded: &Expanded) {
    const AT: &str = ": map.bands[";
    let Some(at) = problem.location.find(AT) else { return };
    let rest = &problem.location[at + AT.len()..];
    let Some((k, tail)) = rest.split_once(']') else { return };
    let origin = k
        .parse::<usize>()
        .ok()
        .and_then(|k| k.checked_sub(expanded.first_band))
        .and_then(|i| expanded.origins.get(i));
    if let Some(origin) = origin {
        problem.location = format!("{}{AT}{k}] (from {origin}){tail}", &problem.location[..at]);
    }
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
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
        let cells: Vec<&str> = l.split(',').map(|c| c.trim().trim_matches('"').trim()).collect();
        let mut cell = |col: usize, name: &str| -> Option<f64> {
            // An empty cell is nothing liquidated there; an empty price is an error below.
            let value = cells
                .get(col)
                .map(|c| if c.is_empty() && name != "price" { Ok(0.0) } else { c.parse::<f64>() });
            match value {
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

/// A band per side and non-empty bucket, with where it came from. Each row's price is its
/// bucket's centre, and every bucket is as wide as the smallest step between rows (an export's
/// grid: one that leaves out empty buckets does not stretch its neighbours over them). Long
/// liquidations lie below the start price and short ones above it: a bucket that holds the
/// start price is cut there, and liquidations on the wrong side of it are refused (they would
/// already be gone). A cell worth less than one lot at its price (`lot`, in the asset) is dust
/// and left out.
fn bands(
    file: &str,
    rows: &[Row],
    spec: &MapCsvSpec,
    (long_mix, short_mix): &(Vec<LeverageWeight>, Vec<LeverageWeight>),
    start: f64,
    lot: f64,
) -> Result<Vec<(Band, String)>, Vec<Problem>> {
    let width = rows.windows(2).map(|w| w[1].price - w[0].price).fold(f64::INFINITY, f64::min);
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for r in rows {
        let (below, above) = (r.price - width / 2.0, r.price + width / 2.0);
        for (side, name, usd, mix) in [
            (PositionSide::Long, "long_usd", r.long_usd, long_mix),
            (PositionSide::Short, "short_usd", r.short_usd, short_mix),
        ] {
            let usd = usd * spec.scale;
            if usd <= 0.0 || usd < lot * r.price {
                continue;
            }
            let (low, high) = match side {
                PositionSide::Long => (below.max(0.0), above.min(start)),
                PositionSide::Short => (below.max(start), above),
            };
            if high <= low {
                let way = if side == PositionSide::Long { "at or above" } else { "at or below" };
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
            let band = Band {
                side,
                liq_low_usd: low,
                liq_high_usd: high,
                notional_usd: usd,
                shape: Shape::Flat,
                leverage: mix.clone(),
                accounts,
                stop_loss: None,
                cross_share: 0.0,
            };
            out.push((band, format!("{file}:{}, {name}", r.line)));
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

    fn btc_mixes() -> (Vec<LeverageWeight>, Vec<LeverageWeight>) {
        (default_mix(InstrumentPreset::BtcUsdt), default_mix(InstrumentPreset::BtcUsdt))
    }

    #[test]
    fn a_heatmap_export_becomes_one_band_per_side_and_bucket_cut_at_the_start_price() {
        // A spreadsheet's export: a byte-order mark, quoted cells, an empty cell, a column more,
        // the empty buckets between 72,000 and 75,000 left out, and a dust cell.
        let text = "\u{feff}# exported\nPrice,Long_USD,short_usd,time\n69000,2e8,0,x\n\n\"70000\",\"1e8\",,x\n71000,5e7,4e7,x\n72000,0,3e8,x\n75000,0,1e8,x\n76000,0,20,x\n";
        let r = rows(text).unwrap();
        assert_eq!(r.len(), 6);
        assert_eq!((r[0].line, r[0].price, r[0].long_usd), (3, 69_000.0, 2e8));
        assert_eq!((r[1].line, r[1].price, r[1].long_usd, r[1].short_usd), (5, 70_000.0, 1e8, 0.0));
        let spec = MapCsvSpec { scale: 0.5, ..MapCsvSpec::default() };
        let b = bands("m.csv", &r, &spec, &btc_mixes(), 71_200.0, 0.001).unwrap();
        let got: Vec<(PositionSide, f64, f64, f64, u32, &str)> = b
            .iter()
            .map(|(b, o)| (b.side, b.liq_low_usd, b.liq_high_usd, b.notional_usd, b.accounts, o.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (PositionSide::Long, 68_500.0, 69_500.0, 1e8, 667, "m.csv:3, long_usd"),
                (PositionSide::Long, 69_500.0, 70_500.0, 5e7, 333, "m.csv:5, long_usd"),
                // The bucket 70,500-71,500 holds the start price: longs below it, shorts above.
                (PositionSide::Long, 70_500.0, 71_200.0, 2.5e7, 167, "m.csv:6, long_usd"),
                (PositionSide::Short, 71_200.0, 71_500.0, 2e7, 133, "m.csv:6, short_usd"),
                (PositionSide::Short, 71_500.0, 72_500.0, 1.5e8, 1_000, "m.csv:7, short_usd"),
                // Every bucket is the grid's width, however far the next row is.
                (PositionSide::Short, 74_500.0, 75_500.0, 5e7, 333, "m.csv:8, short_usd"),
                // $10 at 76,000 is less than a lot: dust, left out.
            ]
        );
        assert!(b.iter().all(|(b, _)| b.leverage == btc_mixes().0 && b.shape == Shape::Flat));
    }

    #[test]
    fn the_default_leverage_mix_is_one_the_instrument_s_tiers_allow() {
        assert_eq!(default_mix(InstrumentPreset::BtcUsdt).iter().map(|l| l.leverage).max(), Some(100));
        // ETHUSDT allows 25x up to $1M: a $150K account cannot be at 50x or 100x.
        let eth = crate::margin::TierTable::binance_ethusdt();
        let max = default_mix(InstrumentPreset::EthUsdt).iter().map(|l| l.leverage).max().unwrap();
        assert!(max <= eth.max_leverage_for(crate::units::Money::usd(1_000_000)), "{max}x");
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
        let e = bands("m.csv", &r, &MapCsvSpec::default(), &btc_mixes(), 90.0, 0.001).unwrap_err();
        assert_eq!(
            e[0].to_string(),
            "m.csv:3: long_usd: liquidations at 110 lie at or above the start price 90: they would already have happened"
        );
    }
}
