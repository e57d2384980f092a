//! Run outputs: files written atomically (a temporary name, then a rename, so a killed run never
//! leaves a file that looks complete), tables as CSV, and pictures.

pub mod belief;
pub mod fmt;
pub mod html;
pub mod interrupt;
pub mod lock;
pub mod plots;
pub mod table;

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The report page of an output folder (see `crate::page`): removed with the outputs it
/// described when a command writes the folder again.
pub const REPORT_FILE: &str = "report.html";

/// Why an output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    // Displayed with the cause, and so not its `source()` too: a chain printed with `{:#}`
    // says each cause once.
    #[error("cannot write {path}: {cause}")]
    Io { path: PathBuf, cause: io::Error },
    #[error("cannot draw {path}: {msg}")]
    Plot { path: PathBuf, msg: String },
}

/// The temporary sibling a file is written to before it is renamed into place. It keeps the
/// extension (plotters picks the image format from it) and starts with a dot.
pub fn atomic_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".tmp-{}-{name}", std::process::id()))
}

/// Puts a finished temporary file on disk (`fsync`), then renames it into place.
/// Once the process is stopping on a signal, nothing is put in place (see [`interrupt`]).
pub fn finish_atomic(tmp: &Path, path: &Path) -> Result<(), ReportError> {
    let renamed = fs::File::open(tmp).and_then(|f| f.sync_all()).and_then(|()| {
        let _gate = interrupt::renaming()?;
        fs::rename(tmp, path)
    });
    renamed.map_err(|source| {
        let _ = fs::remove_file(tmp);
        ReportError::Io { path: path.to_path_buf(), cause: source }
    })
}

/// Writes `summary.json` (a finished folder's mark) last: every other file of the folder is
/// already on disk, and so are their names (the folder is synced before and after).
pub fn write_summary(dir: &Path, json: &str) -> Result<(), ReportError> {
    let io = |cause| ReportError::Io { path: dir.to_path_buf(), cause };
    lock::sync_dir(dir).map_err(io)?;
    write_atomic(&dir.join("summary.json"), |w| writeln!(w, "{json}"))?;
    lock::sync_dir(dir).map_err(io)
}

/// Writes `path` atomically through `fill`; on any error the temporary file is removed.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<fs::File>) -> io::Result<()>,
) -> Result<(), ReportError> {
    let tmp = atomic_path(path);
    let io_err = |cause| ReportError::Io { path: path.to_path_buf(), cause };
    let result = (|| {
        let mut w = BufWriter::new(interrupt::create_temporary(&tmp)?);
        fill(&mut w)?;
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(e));
    }
    finish_atomic(&tmp, path)
}

/// Writes a CSV table: a header and rows of already formatted cells (no quoting needed: cells
/// are numbers and fixed words).
pub fn write_csv<'a, R, C>(path: &Path, header: &[&str], rows: R) -> Result<(), ReportError>
where
    R: IntoIterator<Item = C>,
    C: IntoIterator<Item = &'a str>,
{
    write_atomic(path, |w| {
        writeln!(w, "{}", header.join(","))?;
        for row in rows {
            let mut first = true;
            for cell in row {
                if !first {
                    w.write_all(b",")?;
                }
                first = false;
                w.write_all(cell.as_bytes())?;
            }
            w.write_all(b"\n")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("liqsim-report-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_failed_write_leaves_nothing_behind() {
        let dir = temp_dir("atomic");
        let path = dir.join("out.csv");
        let r = write_atomic(&path, |w| {
            w.write_all(b"half a file")?;
            Err(io::Error::other("killed"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "no file, complete or temporary");
        write_csv(&path, &["a", "b"], [["1", "2"], ["3", "4"]]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "a,b\n1,2\n3,4\n");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn pictures_render_to_png_and_svg() {
        let dir = temp_dir("plots");
        let hm = plots::Heatmap {
            title: "test, seed 1".into(),
            minutes: vec![0.0, 1.0, 2.0],
            price_lo: 70_000.0,
            bucket_usd: 1_000.0,
            cells: vec![vec![0.0, 5e6, 9e8], vec![1e6, 0.0, 8e8], vec![0.0, 0.0, 1e8]],
            path: vec![71_000.0, 71_500.0, 72_400.0],
            liquidations: vec![(2.0, 72_400.0, false)],
            ..Default::default()
        };
        plots::heatmap(&hm, Some(&dir.join("h.png")), Some(&dir.join("h.svg"))).unwrap();
        // With stops, the heatmap draws them beside the liquidations and names both.
        let with_stops = plots::Heatmap {
            stops: vec![vec![2e6, 0.0, 0.0], vec![2e6, 0.0, 0.0], vec![0.0, 0.0, 0.0]],
            stop_triggers: vec![(2.0, 70_500.0)],
            ..hm.clone()
        };
        plots::heatmap(&with_stops, None, Some(&dir.join("hs.svg"))).unwrap();
        let legend = "stop orders (triangles: triggered)";
        assert!(fs::read_to_string(dir.join("hs.svg")).unwrap().contains(legend));
        assert!(!fs::read_to_string(dir.join("h.svg")).unwrap().contains(legend), "no stops, no stop legend");
        let series = plots::PriceSeries {
            title: "test, seed 1".into(),
            minutes: vec![0.0, 1.0, 2.0],
            last: vec![1.0, 2.0, 3.0],
            low: vec![1.0, 1.5, 3.0],
            high: vec![1.0, 2.0, 3.2],
            mark: vec![1.0, 2.0, 2.5],
            index: vec![1.0, 1.5, 2.0],
            liquidated_long_usd: vec![0.0, 0.0, 1e6],
            liquidated_short_usd: vec![2e6, 0.0, 0.0],
        };
        plots::price_chart(&series, Some(&dir.join("p.png")), Some(&dir.join("p.svg"))).unwrap();
        // A tick that traded past its close draws its range, and the legend names it; with none,
        // neither.
        let wick = "went past its close";
        assert!(fs::read_to_string(dir.join("p.svg")).unwrap().contains(wick));
        let closes =
            plots::PriceSeries { low: series.last.clone(), high: series.last.clone(), ..series.clone() };
        plots::price_chart(&closes, None, Some(&dir.join("pc.svg"))).unwrap();
        assert!(!fs::read_to_string(dir.join("pc.svg")).unwrap().contains(wick));
        let bars = [
            plots::MapBar { price: 60_000.0, notional_usd: 1e8, long: true, leverage: 10 },
            plots::MapBar { price: 60_000.0, notional_usd: 5e7, long: true, leverage: 25 },
            plots::MapBar { price: 90_000.0, notional_usd: 3e9, long: false, leverage: 3 },
        ];
        plots::liquidation_map(
            "test, seed 1",
            &bars,
            &[],
            1_000.0,
            71_450.0,
            Some(&dir.join("m.png")),
            Some(&dir.join("m.svg")),
        )
        .unwrap();
        let stops = [plots::MapBar { price: 65_000.0, notional_usd: 4e8, long: true, leverage: 0 }];
        plots::liquidation_map(
            "test, seed 1",
            &bars,
            &stops,
            1_000.0,
            71_450.0,
            None,
            Some(&dir.join("ms.svg")),
        )
        .unwrap();
        assert!(fs::read_to_string(dir.join("ms.svg")).unwrap().contains("stop orders (at their triggers)"));
        assert!(!fs::read_to_string(dir.join("m.svg")).unwrap().contains("stop orders"));
        // A run without leverage: pictures that say there is nothing to draw, not empty axes.
        let none =
            plots::Heatmap { title: "flat, seed 1".into(), minutes: vec![0.0, 1.0], ..Default::default() };
        plots::heatmap(&none, None, Some(&dir.join("h0.svg"))).unwrap();
        plots::liquidation_map("flat, seed 1", &[], &[], 1_000.0, 300.0, None, Some(&dir.join("m0.svg")))
            .unwrap();
        for f in ["h0.svg", "m0.svg"] {
            let text = fs::read_to_string(dir.join(f)).unwrap();
            assert!(text.contains("Nothing to draw") && text.contains("flat, seed 1"), "{f}");
        }
        assert!(!fs::read_to_string(dir.join("h.svg")).unwrap().contains("Nothing to draw"));
        // The heatmap explains its scale and marks, titled with scenario and seed.
        let h = fs::read_to_string(dir.join("h.svg")).unwrap();
        for words in ["test, seed 1", "log scale: ln(1 + USD)", "a long liquidated", "last price", "00:02"] {
            assert!(h.contains(words), "{words:?} not in the heatmap");
        }
        for f in ["h.png", "h.svg", "hs.svg", "p.png", "m.png", "m.svg", "ms.svg"] {
            let bytes = fs::read(dir.join(f)).unwrap();
            assert!(bytes.len() > 1_000, "{f} is too small to hold a picture");
        }
        assert!(fs::read(dir.join("h.png")).unwrap().starts_with(b"\x89PNG"));
        assert!(fs::read_to_string(dir.join("m.svg")).unwrap().contains("<svg"));
        assert!(
            !fs::read_dir(&dir).unwrap().any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".tmp"))
        );
    }
}
