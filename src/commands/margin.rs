//! `margin`: the margin calculator on Binance BTCUSDT's or ETHUSDT's tiers, isolated or cross.

use super::bad;
use crate::cli::{MarginArgs, MarginInstrument, MarginModeArg, MarginSide};
use anyhow::Result;
use std::process::ExitCode;

pub fn margin(args: MarginArgs) -> Result<ExitCode> {
    let MarginArgs { instrument, side, entry, size, leverage, mode, wallet, json } = args;
    let (entry, size, wallet) = (entry.as_str(), size.as_str(), wallet.as_deref());
    use liqsim::margin::{self as m, CrossOthers};
    use liqsim::scenario::InstrumentPreset;
    use liqsim::units::{Instrument, Money, Qty, parse_money};
    let preset = match instrument {
        MarginInstrument::Btcusdt => InstrumentPreset::BtcUsdt,
        MarginInstrument::Ethusdt => InstrumentPreset::EthUsdt,
    };
    let symbol = preset.symbol();
    // The same grid and tiers a scenario with `market: (instrument: ...)` trades on.
    let inst = Instrument::new(preset.tick_usd(), preset.lot())?;
    let tiers = preset.tiers();
    let entry = inst.parse_price(entry).map_err(|e| bad(format!("--entry: {e}")))?;
    let size = inst.parse_qty(size).map_err(|e| bad(format!("--size: {e}")))?;
    if !size.is_positive() {
        return Err(bad("--size: must be positive"));
    }
    let qty = match side {
        MarginSide::Long => size,
        MarginSide::Short => Qty(-size.0),
    };
    let cost = inst.notional(entry, qty).map_err(|e| bad(format!("position too large: {e}")))?;
    let tier_index = tiers.tier_index_for(cost.abs());
    let tier = &tiers.tiers()[tier_index];
    if leverage == 0 || leverage > tier.max_leverage {
        return Err(bad(format!(
            "--leverage: {leverage}x is outside 1..={}x allowed at {} USD notional (tier {})",
            tier.max_leverage,
            cost.abs().to_usd_string(),
            tier_index + 1
        )));
    }
    let im = m::initial_margin(&inst, qty, entry, leverage)?;
    let mm = m::maintenance_margin_tiered(&inst, &tiers, qty, entry)?;
    // What backs the position: its initial margin (isolated), or the whole wallet (cross:
    // Binance's cross formula, with no other position).
    let (mode_name, wallet) = match (mode, wallet) {
        (MarginModeArg::Isolated, None) => ("isolated", im),
        (MarginModeArg::Isolated, Some(_)) => {
            return Err(bad(
                "--wallet: only with --mode cross (an isolated position is backed by its initial margin)",
            ));
        }
        (MarginModeArg::Cross, None) => {
            return Err(bad("--wallet: --mode cross needs the wallet balance (USD) that backs the position"));
        }
        (MarginModeArg::Cross, Some(text)) => {
            let w = parse_money(text).map_err(|e| bad(format!("--wallet: {e}")))?;
            if w < im {
                return Err(bad(format!(
                    "--wallet: {} USD does not cover the initial margin of {} USD",
                    w.to_usd_string(),
                    im.to_usd_string()
                )));
            }
            ("cross", w)
        }
    };
    let lp = match mode {
        MarginModeArg::Isolated => m::liquidation_price_tiered(&inst, &tiers, qty, cost, wallet)?,
        MarginModeArg::Cross => {
            m::liquidation_price_cross_tiered(&inst, &tiers, qty, cost, wallet, CrossOthers::default())?
        }
    };
    let bp = m::bankruptcy_price(&inst, qty, cost, wallet)?;
    let usd = |p: liqsim::units::Price| inst.price_string(p);
    let money = |v: Money| v.to_usd_string();
    if json {
        let mut out = serde_json::json!({
            "instrument": symbol,
            "side": if qty.is_positive() { "long" } else { "short" },
            "entry": inst.price_f64(entry),
            "leverage": leverage,
            "margin_mode": mode_name,
            "wallet": wallet.to_usd_f64(),
            "notional": cost.abs().to_usd_f64(),
            "tier": tier_index + 1,
            "maintenance_margin_rate": tier.mmr.to_f64(),
            "initial_margin": im.to_usd_f64(),
            "maintenance_margin": mm.to_usd_f64(),
            "liquidation_price": lp.map(|p| inst.price_f64(p)),
            "bankruptcy_price": inst.price_f64(bp),
        });
        // `size_btc` or `size_eth`: the size in the contract's asset.
        out[format!("size_{}", preset.asset().to_lowercase())] = serde_json::json!(inst.qty_f64(size));
        println!("{out}");
    } else {
        println!(
            "contract            {symbol}, {} {} at {} USD",
            inst.qty_string(size),
            preset.asset(),
            usd(entry)
        );
        println!(
            "notional            {} USD (tier {}, max {}x, MMR {}%)",
            money(cost.abs()),
            tier_index + 1,
            tier.max_leverage,
            tier.mmr.to_f64() * 100.0
        );
        println!("initial margin      {} USD", money(im));
        println!("maintenance margin  {} USD at entry", money(mm));
        println!("margin mode         {mode_name}: {} USD backs the position", money(wallet));
        println!("liquidation price   {}", lp.map(usd).unwrap_or_else(|| "none".into()));
        println!("bankruptcy price    {}", usd(bp));
    }
    Ok(ExitCode::SUCCESS)
}
