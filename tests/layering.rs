//! The library's layering stays one way: a module may use only modules of a lower layer (or its
//! own). Read from the source: every `crate::<module>` path outside comments and test code.
//!
//! ```text
//! 0 units        1 book, margin, agents, analysis, report
//! (liquidity is layer 1, spot layer 2)
//! 2 venue, spot  3 events        4 ledger        5 engine, population
//! 6 sim, demo    7 scenario      8 runner, budget 9 mc
//! 10 page (a folder's report, made of every kind of output)
//! ```
//! The command line (`src/main.rs` and its modules) sits on top of all of them.

use std::path::Path;

const LAYERS: &[(&str, u32)] = &[
    ("units", 0),
    ("book", 1),
    ("margin", 1),
    ("agents", 1),
    ("analysis", 1),
    ("report", 1),
    ("liquidity", 1),
    ("spot", 2),
    ("venue", 2),
    ("events", 3),
    ("ledger", 4),
    ("engine", 5),
    ("population", 5),
    ("sim", 6),
    ("demo", 6),
    ("scenario", 7),
    ("runner", 8),
    ("budget", 8),
    ("mc", 9),
    ("page", 10),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, l)| l)
}

/// The top-level module a file under `src/` belongs to (`src/engine/state.rs` → `engine`).
fn module_of(path: &Path) -> Option<String> {
    let rel = path.strip_prefix("src").ok()?;
    let first = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
    Some(first.trim_end_matches(".rs").to_string())
}

fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name == "tests.rs"
        || name.ends_with("_tests.rs")
        || name == "proptests.rs"
        || path.components().any(|c| c.as_os_str() == "tests")
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut violations = Vec::new();
    let mut checked = 0;
    for path in files {
        let Some(module) = module_of(&path) else { continue };
        let Some(own) = layer(&module) else { continue };
        if is_test_file(&path) {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        // Code after the first `#[cfg(test)]` is test code (the test modules close the files).
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            let line = line.trim_start();
            if line.starts_with("//") {
                continue;
            }
            for (i, _) in line.match_indices("crate::") {
                let used: String = line[i + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                checked += 1;
                match layer(&used) {
                    Some(l) if l > own => violations.push(format!(
                        "{}:{}: {module} (layer {own}) uses {used} (layer {l})",
                        path.display(),
                        n + 1
                    )),
                    None if used != module => violations.push(format!(
                        "{}:{}: {used} has no layer in this test",
                        path.display(),
                        n + 1
                    )),
                    _ => {}
                }
            }
        }
    }
    assert!(checked > 100, "the scan found only {checked} paths: is it reading src/?");
    assert!(violations.is_empty(), "layering broken:\n{}", violations.join("\n"));
}
