//! Helpers the integration tests share: the bundled scenarios and a horizon swapped in a text.
// Each test crate compiles its own copy and uses some of these.
#![allow(dead_code)]

/// The bundled scenario files' names under `scenarios/` (`btc_14_to_1.ron`, ...,
/// `history/oct_10_2025.ron`), sorted.
pub fn bundled_names() -> Vec<String> {
    let mut names = Vec::new();
    for dir in ["", "history/"] {
        for e in std::fs::read_dir(format!("scenarios/{dir}")).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".ron") {
                names.push(format!("{dir}{name}"));
            }
        }
    }
    names.sort();
    names
}

/// A scenario text with its `horizon` replaced.
pub fn with_horizon(text: &str, horizon: &str) -> String {
    let start = text.find("horizon: \"").expect("scenario names a horizon") + "horizon: \"".len();
    let end = start + text[start..].find('"').unwrap();
    format!("{}{horizon}{}", &text[..start], &text[end..])
}
