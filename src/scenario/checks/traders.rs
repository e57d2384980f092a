//! The sections of those who trade: the liquidation map's accounts, the passive holders, the
//! background traders, the market makers and the hunters.

use super::Checker;
use crate::book::TriggerSource;
use crate::margin::TierTable;
use crate::population::{self, MapConfig};
use crate::scenario::{MAX_ACCOUNTS, Scenario};
use crate::sim::{BackgroundConfig, HolderConfig, HunterConfig, MakerConfig};
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
        && let Err(e) = population::validate(&map, inst, tiers)
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

/// FCN and noise traders.
pub(in crate::scenario) fn background(c: &mut Checker, b: &BackgroundConfig) -> Option<BackgroundConfig> {
    let mark = c.mark();
    if let Some(f) = &b.fcn {
        c.money("background.fcn.deposit_usd", f.deposit_usd);
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
    }
    if let Some(n) = &b.noise {
        c.money("background.noise.deposit_usd", n.deposit_usd);
        c.leverage("background.noise.leverage", n.leverage);
        if n.agents > 1_000_000 {
            c.fail("background.noise.agents", format!("{} agents is absurd (at most 1000000)", n.agents));
        }
    }
    c.sound_since(mark).then(|| b.clone())
}

pub(in crate::scenario) fn makers(c: &mut Checker, makers: &[MakerConfig]) -> Option<Vec<MakerConfig>> {
    let mark = c.mark();
    for (i, mk) in makers.iter().enumerate() {
        c.money(&format!("makers[{i}].deposit_usd"), mk.deposit_usd);
        c.leverage(format!("makers[{i}].leverage"), mk.leverage);
    }
    c.sound_since(mark).then(|| makers.to_vec())
}

pub(in crate::scenario) fn hunters(c: &mut Checker, hunters: &[HunterConfig]) -> Option<Vec<HunterConfig>> {
    let mark = c.mark();
    for (i, h) in hunters.iter().enumerate() {
        c.money(&format!("hunters[{i}].deposit_usd"), h.deposit_usd);
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
    }
    c.sound_since(mark).then(|| hunters.to_vec())
}
