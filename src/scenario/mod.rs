//! Scenario files: RON in human units (USD, BTC, percent, durations like `"6h"`), read with
//! `deny_unknown_fields` and defaults for everything optional, then validated as a whole so
//! every problem is reported at once with where it is (`file:line:column` for syntax, a field
//! path such as `map.bands[2].liq_low_usd` for meaning), then converted exactly into the
//! simulator's [`SimConfig`]. See `docs/scenario.md` for every field.

mod behaviour;
mod checks;
mod duration;
mod map_csv;
pub mod sensitivity;
mod spec;
pub mod sweep;
mod syntax;

pub use behaviour::{FactorSpec, FcnBehaviourSpec, HuntingSpec, NoiseFlowSpec, QuotingSpec};
pub use duration::Duration;
pub use map_csv::MapCsvSpec;
pub use spec::{
    ArbitrageSpec, BackgroundSpec, FcnSpec, FundamentalSpec, HunterSpec, IndexSpec, InstrumentPreset,
    InsuranceSpec, LiquiditySpec, MakerSpec, MapSpec, MarketSpec, MonteCarloSpec, MorrisSpec, NoiseSpec,
    OutputSpec, Scenario, SensitivityParameter, SensitivitySpec, ShockSpec, Spacing, SpotVenueSpec,
    SweepAxis, SweepSpec, TierSpec, ValueSpec,
};
pub use sweep::SweepValue;

use crate::sim::SimConfig;
use checks::Checker;
use std::fmt;
use std::path::{Path, PathBuf};

/// The most accounts a scenario may ask for (memory: ~420 MB per million).
pub const MAX_ACCOUNTS: u64 = 5_000_000;
/// The most ticks one run may have.
pub const MAX_TICKS: u64 = 10_000_000;

/// One problem with a scenario: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `file:line:column` or `file: field.path`.
    pub location: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why a scenario could not be used: it could not be read, or it has problems (all of them).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    // Displayed with the cause, and so not its `source()` too: a chain printed with `{:#}`
    // says each cause once.
    #[error("cannot read {path}: {cause}")]
    Read { path: PathBuf, cause: std::io::Error },
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl ScenarioError {
    /// The problems, one per line, for tests and tools.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ScenarioError::Invalid(p) => p,
            ScenarioError::Read { .. } => &[],
        }
    }
}

/// A scenario that passed validation, with what the simulator needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Validated {
    pub scenario: Scenario,
    pub sim: SimConfig,
    /// blake3 of the file's bytes, hex: it goes into logs and summaries.
    pub hash: String,
}

/// The scenario's canonical form: its parsed value with every default filled in, as JSON. Output
/// folders store it as `scenario.json`; a Monte Carlo keys resumes on its hash.
pub fn canonical(scenario: &Scenario) -> String {
    serde_json::to_string_pretty(scenario).unwrap_or_default()
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<Validated, ScenarioError> {
    if path.is_dir() {
        return Err(ScenarioError::Read {
            path: path.to_path_buf(),
            cause: std::io::Error::other("is a directory, not a scenario file"),
        });
    }
    let bytes =
        std::fs::read(path).map_err(|cause| ScenarioError::Read { path: path.to_path_buf(), cause })?;
    parse(&path.display().to_string(), &bytes)
}

/// Parses and validates scenario text; `file` names it in messages.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Validated, ScenarioError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ScenarioError::Invalid(vec![Problem {
            location: file.to_string(),
            message: format!("not UTF-8 text: {e}"),
        }])
    })?;
    let mut scenario: Scenario = ron::Options::default()
        .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
        .from_str(text)
        .map_err(|e| syntax_error(file, text, &e))?;
    scenario.market.resolve();
    btc_defaults_on_another_contract(file, text, &scenario)?;
    let expanded = map_csv::expand(file, &mut scenario)?;
    let sim = validate(file, &scenario).map_err(|e| match (e, &expanded) {
        (ScenarioError::Invalid(mut problems), Some(x)) => {
            problems.iter_mut().for_each(|p| map_csv::locate(p, x));
            ScenarioError::Invalid(problems)
        }
        (e, _) => e,
    })?;
    // The hash names what the run was made of: the file, and the export it read.
    let mut hasher = blake3::Hasher::new();
    hasher.update(bytes);
    if let Some(x) = &expanded {
        hasher.update(&x.bytes);
    }
    Ok(Validated { scenario, sim, hash: hasher.finalize().to_hex().to_string() })
}

/// A scenario on another contract than BTCUSDT must give its own start price and map: left out,
/// they would be the seed's (71,450 and bands at 60–100K), which are BTC's, and the run would
/// trade ETH at a BTC price without a word.
fn btc_defaults_on_another_contract(file: &str, text: &str, s: &Scenario) -> Result<(), ScenarioError> {
    if s.market.instrument == InstrumentPreset::BtcUsdt {
        return Ok(());
    }
    let given: Vec<String> = match ron::Options::default().from_str::<ron::Value>(text) {
        Ok(ron::Value::Map(m)) => m
            .keys()
            .filter_map(|k| match k {
                ron::Value::String(name) => Some(name.clone()),
                _ => None,
            })
            .collect(),
        _ => return Ok(()),
    };
    let contract = s.market.instrument.symbol();
    let problems: Vec<Problem> = [
        ("start_price_usd", "the default, 71450, is BTC's"),
        ("map", "the default map is BTC's (shorts at 84K–100K, longs at 60K–70K)"),
    ]
    .into_iter()
    .filter(|(field, _)| !given.iter().any(|g| g == field))
    .map(|(field, why)| Problem {
        location: format!("{file}: {field}"),
        message: format!("required with market.instrument {contract}: {why}"),
    })
    .collect();
    if problems.is_empty() { Ok(()) } else { Err(ScenarioError::Invalid(problems)) }
}

/// Field names that are still read but no longer written (serde aliases of the new ones).
const OLD_NAMES: [&str; 4] = ["lot_btc", "size_per_level_btc", "max_inventory_btc", "flow_min_btc"];

/// A syntax error where it is (`file:line:column`), in which field when it is in one, and for a
/// whole number out of its type's bounds (a negative leverage), the range the field allows.
fn syntax_error(file: &str, text: &str, e: &ron::error::SpannedError) -> ScenarioError {
    let (line, col) = (e.span.start.line, e.span.start.col);
    let location = format!("{file}:{line}:{col}");
    use ron::error::Error as E;
    // A value of the wrong kind is named by its field; punctuation errors keep the place alone.
    let about_a_value = matches!(
        e.code,
        E::IntegerOutOfBounds
            | E::InvalidIntegerDigit { .. }
            | E::ExpectedInteger
            | E::ExpectedFloat
            | E::ExpectedBoolean
            | E::ExpectedString
            | E::ExpectedOption
            | E::ExpectedArray
            | E::ExpectedUnit
            | E::InvalidValueForType { .. }
            | E::NoSuchEnumVariant { .. }
            | E::ExpectedDifferentLength { .. }
            | E::Message(_)
    );
    // A field the section does not have is named by its path, not by the internal type.
    if let E::NoSuchStructField { expected, found, .. } = &e.code
        && let Some(at) = syntax::offset(text, line, col)
    {
        let path = match syntax::field_path(text, at) {
            Some(parent) => format!("{parent}.{found}"),
            None => found.clone(),
        };
        // Old names still read are not offered.
        let names: Vec<&str> = expected.iter().copied().filter(|n| !OLD_NAMES.contains(n)).collect();
        let message = format!("{path}: no such field; this section has {}", names.join(", "));
        return ScenarioError::Invalid(vec![Problem { location, message }]);
    }
    let at = syntax::offset(text, line, col).filter(|_| about_a_value);
    let Some((at, path)) = at.and_then(|at| Some((at, syntax::field_path(text, at)?))) else {
        return ScenarioError::Invalid(vec![Problem { location, message: e.code.to_string() }]);
    };
    let mut message = format!("{path}: {}", e.code);
    if matches!(e.code, E::IntegerOutOfBounds) {
        let token = syntax::token_at(text, at);
        let start = token.as_ptr() as usize - text.as_ptr() as usize;
        // What validation says of this field at 0 is its range (when 0 is outside it).
        let probe = format!("{}0{}", &text[..start], &text[start + token.len()..]);
        let range = match parse(file, probe.as_bytes()) {
            Err(ScenarioError::Invalid(problems)) => problems
                .into_iter()
                .find(|p| p.location == format!("{file}: {path}"))
                .map(|p| p.message.trim_end_matches(", got 0").to_string()),
            _ => None,
        };
        let range = range.unwrap_or_else(|| {
            if token.starts_with('-') {
                "must be a whole number, 0 or more".into()
            } else {
                "is too large".into()
            }
        });
        message = format!("{path}: {range}, got {token}");
    }
    ScenarioError::Invalid(vec![Problem { location, message }])
}

/// Validates a scenario built in code (e.g. a sweep cell: the file's scenario with some values
/// changed); `file` names it in messages and `hash` identifies it in outputs.
pub fn validate_scenario(file: &str, scenario: Scenario, hash: String) -> Result<Validated, ScenarioError> {
    let sim = validate(file, &scenario)?;
    Ok(Validated { scenario, sim, hash })
}
/// Checks everything and builds the simulator's configuration, or lists every problem.
fn validate(file: &str, s: &Scenario) -> Result<SimConfig, ScenarioError> {
    let mut c = Checker::new(file);
    checks::name(&mut c, &s.name);
    let market = checks::market(&mut c, &s.market, s.tick.secs());
    let inst = market.instrument.as_ref();
    let clock = checks::time(&mut c, s);
    let start = checks::start(&mut c, s, inst);
    let grid = inst.zip(start.map(|(price, _)| price));
    let index = checks::index(&mut c, &s.index, clock, grid);
    let liquidity = checks::liquidity(&mut c, &s.liquidity, clock, grid);
    let arbitrageurs = checks::arbitrage(&mut c, &s.arbitrage);
    let value_traders = checks::value(&mut c, &s.value);
    let tick = clock.map(|clock| clock.tick);
    let background = checks::background(&mut c, &s.background, inst, tick);
    let makers = checks::makers(&mut c, &s.makers, tick);
    let hunters = checks::hunters(&mut c, &s.hunters, tick);
    let holders = checks::holders(&mut c, &s.holders);
    let shocks = checks::shocks(&mut c, s, clock);
    let watch_levels = checks::watch_levels(&mut c, s, inst);
    checks::outputs(&mut c, &s.outputs, s.tick.secs().max(1));
    checks::monte_carlo(&mut c, &s.monte_carlo);
    checks::world_money(&mut c, s);
    checks::spot_needed(&mut c, s);
    sweep::check(file, s, &mut c.problems);
    sensitivity::check(file, s, &mut c.problems);
    let map = checks::map(&mut c, s, market.instrument.as_ref(), market.tiers.as_ref());

    if !c.problems.is_empty() {
        return Err(ScenarioError::Invalid(c.problems));
    }
    // With no problems every section is sound, so each gave its part.
    let (
        Some(exchange),
        Some((start_price, insurance_fund)),
        Some(clock),
        Some(index),
        Some(liquidity),
        Some(arbitrageurs),
        Some(value_traders),
        Some(background),
        Some(makers),
        Some(hunters),
        Some(holders),
        Some(shocks),
        Some(watch_levels),
        Some(map),
    ) = (
        market.exchange,
        start,
        clock,
        index,
        liquidity,
        arbitrageurs,
        value_traders,
        background,
        makers,
        hunters,
        holders,
        shocks,
        watch_levels,
        map,
    )
    else {
        return Err(ScenarioError::Invalid(vec![Problem {
            location: file.into(),
            message: "invalid values".into(),
        }]));
    };
    Ok(SimConfig {
        seed: s.seed,
        exchange,
        start_price,
        ticks: clock.ticks,
        insurance_fund,
        map,
        index,
        liquidity,
        arbitrageurs,
        value_traders,
        holders,
        shocks,
        background,
        makers,
        hunters,
        watch_levels,
    })
}

#[cfg(test)]
mod tests;
