//! `facts`: the stylized facts of the returns in a run's `ticks.csv`.

use super::bad;
use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;

pub fn facts(path: &Path, every: usize, column: &str, lags: usize, json: bool) -> Result<ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header = lines.next().ok_or_else(|| bad(format!("{}: empty file", path.display())))?;
    let col = header.split(',').position(|h| h == column).ok_or_else(|| {
        bad(format!("{}: no column {column:?} (a run's ticks.csv has last, mark, index)", path.display()))
    })?;
    let mut prices = Vec::new();
    for (i, line) in lines.enumerate() {
        let cell = line.split(',').nth(col).unwrap_or("");
        let p: f64 = cell
            .parse()
            .map_err(|_| bad(format!("{}:{}: {column} is not a number: {cell:?}", path.display(), i + 2)))?;
        prices.push(p);
    }
    if every == 0 || prices.len() < 3 * every {
        return Err(bad(format!("{} prices are too few for returns every {every} ticks", prices.len())));
    }
    let f = liqsim::analysis::StylizedFacts::of_prices(&prices, every, 0.05, lags);
    if json {
        let v = serde_json::json!({
            "returns": f.returns,
            "tail_index": f.tail_index,
            "excess_kurtosis": f.excess_kurtosis,
            "acf_returns": f.acf_returns,
            "acf_abs_returns": f.acf_abs_returns,
        });
        println!("{v}");
    } else {
        let fmt = |v: &[f64]| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(" ");
        println!("returns           {} (every {every} ticks of {column})", f.returns);
        println!(
            "tail index (Hill) {}",
            f.tail_index.map(|x| format!("{x:.2}")).unwrap_or_else(|| "n/a".into())
        );
        println!(
            "excess kurtosis   {}",
            f.excess_kurtosis.map(|x| format!("{x:.2}")).unwrap_or_else(|| "n/a".into())
        );
        println!("acf r   (lag 1..) {}", fmt(&f.acf_returns));
        println!("acf |r| (lag 1..) {}", fmt(&f.acf_abs_returns));
    }
    Ok(ExitCode::SUCCESS)
}
