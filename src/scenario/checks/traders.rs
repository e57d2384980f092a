//! The sections of those who trade: the liquidation map's accounts, the passive holders, the
//! background traders, the market makers and the hunters.

use super::Checker;
use crate::book::TriggerSource;
use crate::margin::TierTable;
use crate::population::{self, MapConfig};
use crate::scenario::{BackgroundSpec, HunterSpec, MAX_ACCOUNTS, MakerSpec, Scenario};
use crate::sim::{
    BackgroundConfig, FcnConfig, FundamentalConfig, HolderConfig, HunterConfig, MakerConfig, NoiseConfig,
};
use crate::units::Instrument;
use crate::venue::VenuePreset;

/// The liquidation map around the start price: its size, then (with a sound instrument and tier
/// table) the generator's own validation, which names the band and field.
pub(in crate::scenario) fn map(
    c: &mut Checker,
    s: &Scenario,
    instrument: Option<&Instrument>,
    tiers: Option<&TierTable>,
) -> Option<MapConfig> {
    let mark = c.mark();
    let map = MapConfig {
        price_usd: s.start_price_usd,
        bands: s.map.bands.clone(),
        counterparty_leverage: s.map.counterparty_leverage,
        counterparties: s.map.counterparties,
        notional_jitter: s.map.notional_jitter,
    };
    let accounts = map.map_accounts() + if map.bands.is_empty() { 0 } else { map.counterparty_count() };
    if accounts > MAX_ACCOUNTS {
        c.fail(
            "map.bands",
            format!("{accounts} accounts in all is more than the {MAX_ACCOUNTS} a run may hold"),
        );
    } else if let (Some(inst), Some(tiers)) = (instrument, tiers)
        && !map.bands.is_empty()
        && let Err(e) = population::validate(&map, inst, tiers, s.holders.reserve_fraction)
    {
        // The generator's message starts with its own path; say it once, from the file's root.
        let text = e.to_string();
        let path = e.path().to_string();
        let message = text.strip_prefix(&format!("{path}: ")).unwrap_or(&text).to_string();
        c.fail(format!("map.{path}"), message);
    }
    // The venue decides which prices a stop may watch: Hyperliquid triggers on the mark only.
    if s.market.venue == VenuePreset::Hyperliquid {
        for (i, b) in map.bands.iter().enumerate() {
            if b.stop_loss.as_ref().is_some_and(|l| l.trigger != TriggerSource::Mark) {
                c.fail(
                    format!("map.bands[{i}].stop_loss.trigger"),
                    "Hyperliquid triggers stops on the mark only: write `trigger: Mark`",
                );
            }
        }
    }
    c.sound_since(mark).then_some(map)
}

pub(in crate::scenario) fn holders(c: &mut Checker, h: &HolderConfig) -> Option<HolderConfig> {
    let mark = c.mark();
    for (name, v) in [
        ("holders.close_per_day", h.close_per_day),
        ("holders.add_margin_per_day", h.add_margin_per_day),
        ("holders.reenter_per_day", h.reenter_per_day),
        ("holders.reserve_fraction", h.reserve_fraction),
    ] {
        c.finite_at_least(name, v, 0.0);
    }
    c.fraction("holders.add_margin_fraction", h.add_margin_fraction);
    c.sound_since(mark).then(|| h.clone())
}

/// FCN and noise traders, their deposits converted.
pub(in crate::scenario) fn background(
    c: &mut Checker,
    b: &BackgroundSpec,
    inst: Option<&Instrument>,
) -> Option<BackgroundConfig> {
    let mark = c.mark();
    let mut fcn = None;
    if let Some(f) = &b.fcn {
        let deposit = c.money("background.fcn.deposit_usd", f.deposit_usd);
        c.leverage("background.fcn.leverage", f.leverage);
        if f.agents > 1_000_000 {
            c.fail("background.fcn.agents", format!("{} agents is absurd (at most 1000000)", f.agents));
        }
        for (name, factor) in [("activity", &f.activity), ("chart_sentiment", &f.chart_sentiment)] {
            let Some(ou) = factor else { continue };
            let path = format!("background.fcn.{name}");
            c.finite_at_least(&format!("{path}.volatility"), ou.volatility, 0.0);
            c.finite_positive(&format!("{path}.correlation_ticks"), ou.correlation_ticks);
            if let Some(max) = ou.max_factor {
                c.finite_positive(&format!("{path}.max_factor"), max);
            }
        }
        fcn = deposit.map(|deposit| FcnConfig {
            agents: f.agents,
            params: f.params.clone(),
            decisions_per_tick: f.decisions_per_tick,
            deposit,
            leverage: f.leverage,
            warmup_ticks: f.warmup_ticks,
            activity: f.activity.clone(),
            chart_sentiment: f.chart_sentiment.clone(),
        });
    }
    let mut noise = None;
    if let Some(n) = &b.noise {
        let deposit = c.money("background.noise.deposit_usd", n.deposit_usd);
        c.leverage("background.noise.leverage", n.leverage);
        if n.agents > 1_000_000 {
            c.fail("background.noise.agents", format!("{} agents is absurd (at most 1000000)", n.agents));
        }
        noise = deposit.map(|deposit| NoiseConfig {
            agents: n.agents,
            params: n.params.clone(),
            deposit,
            leverage: n.leverage,
        });
    }
    let fundamental_price = match (b.fundamental.price_usd, inst) {
        (Some(usd), Some(inst)) => c.price("background.fundamental.price_usd", usd, inst).map(Some),
        (Some(_), None) => None,
        (None, _) => Some(None),
    };
    if !c.sound_since(mark) {
        return None;
    }
    Some(BackgroundConfig {
        fcn,
        noise,
        fundamental: FundamentalConfig {
            price: fundamental_price?,
            volatility_per_tick: b.fundamental.volatility_per_tick,
            drift_per_tick: b.fundamental.drift_per_tick,
        },
        max_price_deviation: b.max_price_deviation,
    })
}

pub(in crate::scenario) fn makers(c: &mut Checker, makers: &[MakerSpec]) -> Option<Vec<MakerConfig>> {
    let mark = c.mark();
    let mut out = Vec::new();
    for (i, mk) in makers.iter().enumerate() {
        let deposit = c.money(&format!("makers[{i}].deposit_usd"), mk.deposit_usd);
        c.leverage(format!("makers[{i}].leverage"), mk.leverage);
        out.extend(deposit.map(|deposit| MakerConfig {
            deposit,
            leverage: mk.leverage,
            quoting: mk.quoting.clone(),
        }));
    }
    c.sound_since(mark).then_some(out)
}

pub(in crate::scenario) fn hunters(c: &mut Checker, hunters: &[HunterSpec]) -> Option<Vec<HunterConfig>> {
    let mark = c.mark();
    let mut out = Vec::new();
    for (i, h) in hunters.iter().enumerate() {
        let deposit = c.money(&format!("hunters[{i}].deposit_usd"), h.deposit_usd);
        c.leverage(format!("hunters[{i}].leverage"), h.leverage);
        let p = &h.hunting;
        for (name, v) in [
            ("budget_usd", p.budget_usd),
            ("pace_usd_per_tick", p.pace_usd_per_tick),
            ("max_inventory_usd", p.max_inventory_usd),
            ("cluster_usd", p.cluster_usd),
        ] {
            c.finite_at_least(&format!("hunters[{i}].hunting.{name}"), v, 0.0);
        }
        c.fraction(&format!("hunters[{i}].hunting.max_distance"), p.max_distance);
        c.fraction(&format!("hunters[{i}].hunting.stop_loss"), p.stop_loss);
        out.extend(deposit.map(|deposit| HunterConfig {
            deposit,
            leverage: h.leverage,
            team: h.team,
            hunting: h.hunting.clone(),
        }));
    }
    c.sound_since(mark).then_some(out)
}
