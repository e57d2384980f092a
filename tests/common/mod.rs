//! Helpers the integration tests share: the bundled scenarios and a horizon swapped in a text.

/// The bundled scenario files' names (`btc_14_to_1.ron`, ...), sorted.
pub fn bundled_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ron"))
        .collect();
    names.sort();
    names
}

/// A scenario text with its `horizon` replaced.
pub fn with_horizon(text: &str, horizon: &str) -> String {
    let start = text.find("horizon: \"").expect("scenario names a horizon") + "horizon: \"".len();
    let end = start + text[start..].find('"').unwrap();
    format!("{}{horizon}{}", &text[..start], &text[end..])
}
