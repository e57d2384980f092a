//! Generation of a map's seeding events: per band, liquidation ticks, sizes and leverage are
//! drawn and each account is solved onto its tick; then counterparties, one group per side that
//! needs one, take the other side of every position and must survive any move within the map;
//! last, each map account's reserve is deposited beside its margin.

use super::config::invalid;
use super::solve::{Backing, Unsolved, Wanted, solve};
use super::{LeverageWeight, MapError, MapPlan, PositionSide, Shape};
use crate::book::AccountId;
use crate::events::Event;
use crate::margin::{self, MarginError, MarginMode, TierTable};
use crate::units::{Instrument, Money, Price, Qty};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// Whose position a seeded account holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// A position of the liquidation map.
    Map,
    /// A low-leverage account taking the other side of map positions.
    Counterparty,
}

/// One seeded account and where it ends up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeededAccount {
    pub account: AccountId,
    pub side: PositionSide,
    /// Signed size (long > 0).
    pub qty: Qty,
    /// Entry price. For a counterparty, which aggregates many seeds, the average entry
    /// `cost / qty` rounded to the nearest tick (the exact value is `cost`).
    pub entry: Price,
    /// Signed entry notional, exactly as the ledger holds it.
    pub cost: Money,
    /// Margin posted for the position (equal to the account's opening deposit).
    pub margin: Money,
    /// Spare cash deposited beside the margin: the holders' reserve fraction of an isolated
    /// account's margin; of a cross account, the rest of the wallet its solve gave (margin +
    /// reserve back its position). Zero for counterparties.
    pub reserve: Money,
    pub mode: MarginMode,
    /// The account's leverage setting. For a map account the drawn leverage, lowered to the tier
    /// maximum at its entry notional when the draw exceeded it.
    pub leverage: u32,
    /// The tiered liquidation price of the seeded position, with its reserve deposited (which
    /// moves it only for a cross account); `None` only for a long that is fully collateralised
    /// (a 1x counterparty).
    pub liquidation_price: Option<Price>,
    pub role: Role,
    /// The band of a map account (`None` for counterparties).
    pub band: Option<usize>,
}

/// A seeded map: its accounts, the counterparty of each map position, and what they produce. The
/// events that seed it are produced on demand by [`SeededMap::events`] (at a million accounts,
/// three million events held at once cost a quarter of a gigabyte and a sixth of the build).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeededMap {
    /// Map accounts in id order, then counterparties.
    pub accounts: Vec<SeededAccount>,
    /// For each map account, in order: the counterparty that takes the other side of its
    /// position, and the margin that counterparty posts for it.
    seeds: Vec<(AccountId, Money)>,
    /// Σ |size| × liquidation price over long map accounts, micro-USD.
    pub liq_notional_long: Money,
    /// Σ |size| × liquidation price over short map accounts, micro-USD.
    pub liq_notional_short: Money,
    /// The same per band, in band order.
    pub band_liq_notional: Vec<Money>,
}

impl SeededMap {
    /// The events that seed the map: all `AccountOpened` (map accounts, then counterparties),
    /// then all `PositionSeeded`, then a `Deposited` per map account with a reserve, in account
    /// order.
    pub fn events(&self) -> impl Iterator<Item = Event> + '_ {
        let opened = self.accounts.iter().map(|a| Event::AccountOpened {
            account: a.account,
            deposit: a.margin,
            leverage: a.leverage,
            mode: a.mode,
        });
        let seeded = self.accounts.iter().zip(&self.seeds).map(|(a, &(cp, cp_margin))| {
            let (long, short, long_margin, short_margin) = match a.side {
                PositionSide::Long => (a.account, cp, a.margin, cp_margin),
                PositionSide::Short => (cp, a.account, cp_margin, a.margin),
            };
            Event::PositionSeeded { long, short, qty: a.qty.abs(), price: a.entry, long_margin, short_margin }
        });
        let deposits = self
            .accounts
            .iter()
            .filter(|a| a.reserve.is_positive())
            .map(|a| Event::Deposited { account: a.account, amount: a.reserve });
        opened.chain(seeded).chain(deposits)
    }
}

/// The spare cash an isolated map account holds beside its margin: `⌊margin × fraction⌋`.
fn isolated_reserve(margin: i64, reserve_fraction: f64) -> i64 {
    if reserve_fraction > 0.0 { (margin as f64 * reserve_fraction).floor() as i64 } else { 0 }
}

/// A liquidation tick drawn by the band's shape.
fn draw_tick(rng: &mut impl Rng, shape: Shape, lo: i64, hi: i64) -> i64 {
    let width = (hi - lo + 1) as f64;
    let u: f64 = rng.random::<f64>();
    let x = match shape {
        Shape::Flat => u,
        Shape::Rising | Shape::Falling => {
            // Steps k = 0..5 with weight k+1 (Σ = 15); then uniform within the step.
            let pick = rng.random_range(0..15u32);
            let k = match pick {
                0 => 0,
                1..=2 => 1,
                3..=5 => 2,
                6..=9 => 3,
                _ => 4,
            };
            let x = (k as f64 + u) / 5.0;
            if shape == Shape::Rising { x } else { 1.0 - x }
        }
    };
    let t = lo + (x * width).floor() as i64;
    t.clamp(lo, hi)
}

/// A roughly standard-normal draw (Irwin–Hall of four uniforms, rescaled).
fn draw_normalish(rng: &mut impl Rng) -> f64 {
    let s: f64 = (0..4).map(|_| rng.random::<f64>()).sum();
    (s - 2.0) * 3f64.sqrt()
}

fn draw_leverage(rng: &mut impl Rng, mix: &[LeverageWeight], total: f64) -> u32 {
    let mut x = rng.random::<f64>() * total;
    for lw in mix {
        if x < lw.weight {
            return lw.leverage;
        }
        x -= lw.weight;
    }
    mix[mix.len() - 1].leverage
}

/// Generates the events that seed `cfg` (a map [`validate`](super::validate)d for this
/// instrument and tier table, with this `reserve_fraction`) into a ledger whose next account id
/// is `first_account`, each map account holding `reserve_fraction` of its margin as spare cash
/// beside it (the holders' reserve; in a cross account, part of the wallet that backs the
/// position). Nothing is converted; it fails only when the drawn accounts cannot be solved onto
/// their ticks or a counterparty would be liquidated within the map's reach.
///
/// Deterministic: the same config, instrument, tiers, reserve and rng state give the same events.
/// Cost is O(accounts) time and memory.
pub fn generate(
    cfg: &MapPlan,
    inst: &Instrument,
    tiers: &TierTable,
    rng: &mut impl Rng,
    first_account: AccountId,
    reserve_fraction: f64,
) -> Result<SeededMap, MapError> {
    let price_t = cfg.price.0;
    let v = inst.tick_lot_value() as i128;
    let n_map = cfg.map_accounts() as usize;
    if first_account.0 as u64 + n_map as u64 + cfg.counterparty_count() + 2 > u32::MAX as u64 {
        return Err(invalid("bands", format!("account ids from {first_account:?} would overflow")));
    }
    let mut accounts: Vec<SeededAccount> = Vec::with_capacity(n_map + cfg.counterparty_count() as usize + 2);
    let mut band_liq = Vec::with_capacity(cfg.bands.len());
    let mut farthest = 0i64;
    let mut next_id = first_account.0;

    struct Draw {
        liq: i64,
        weight: f64,
        lev: u32,
    }
    let mut draws: Vec<Draw> = Vec::new();
    for (i, b) in cfg.bands.iter().enumerate() {
        let path = format!("bands[{i}]");
        let (lo, hi) = (b.lo.0, b.hi.0);
        farthest = farthest.max((lo - price_t).abs()).max((hi - price_t).abs());
        let mix_total: f64 = b.leverage.iter().map(|l| l.weight).sum();
        draws.clear();
        for _ in 0..b.accounts {
            let liq = draw_tick(rng, b.shape, lo, hi);
            let z = draw_normalish(rng);
            let lev = draw_leverage(rng, &b.leverage, mix_total);
            draws.push(Draw { liq, weight: (cfg.notional_jitter * z).exp(), lev });
        }
        let weight_sum: f64 = draws.iter().map(|d| d.weight).sum();
        let target = b.notional.0 as f64;
        // Error diffusion: each account's size absorbs the rounding of the ones before it, so the
        // band's total misses its target by at most about half a lot at one liquidation price.
        let mut wanted = 0f64;
        let mut achieved: i128 = 0;
        for (k, d) in draws.iter().enumerate() {
            wanted += target * d.weight / weight_sum;
            let per_lot = d.liq as f64 * v as f64;
            let q = (((wanted - achieved as f64) / per_lot).round() as i64).max(1);
            let cross = b.is_cross(k as u32);
            let backing = if cross { Backing::Wallet { reserve_fraction } } else { Backing::Margin };
            let wanted = Wanted { side: b.side, liq: d.liq, q, lev: d.lev, band: (lo, hi), backing };
            let s = solve(inst, tiers, &wanted).map_err(|e| match e {
                Unsolved::TooLarge { entry_notional, max } => MapError::AccountTooLarge {
                    path: path.clone(),
                    account: k,
                    entry_usd: entry_notional.to_usd_string(),
                    max_leverage: max,
                },
                Unsolved::Other(reason) => {
                    MapError::Unsolvable { path: path.clone(), reason: format!("account {k}: {reason}") }
                }
            })?;
            achieved += s.liq as i128 * q as i128 * v;
            // The reserve of an isolated account is free cash out of its position's reach.
            let reserve = if cross { s.reserve } else { isolated_reserve(s.margin, reserve_fraction) };
            accounts.push(SeededAccount {
                account: AccountId(next_id),
                side: b.side,
                qty: Qty(b.side.sign() * q),
                entry: Price(s.entry),
                cost: Money(s.cost),
                margin: Money(s.margin),
                reserve: Money(reserve),
                mode: if cross { MarginMode::Cross } else { MarginMode::Isolated },
                leverage: s.leverage,
                liquidation_price: Some(Price(s.liq)),
                role: Role::Map,
                band: Some(i),
            });
            next_id += 1;
        }
        let miss = (achieved as f64 - target).abs() / target;
        if miss > 0.01 {
            return Err(MapError::Unsolvable {
                path: format!("{path}.notional_usd"),
                reason: format!(
                    "the band's liquidation notional came out {} USD, more than 1% from {} (too few lots per account?)",
                    Money(achieved as i64).to_usd_string(),
                    b.notional.to_usd_string()
                ),
            });
        }
        band_liq.push(Money(achieved as i64));
    }

    // Counterparties: one group per side that needs one, sized by the notional it faces.
    let mut side_notional = [0i128; 2]; // [facing map longs (short cps), facing map shorts (long cps)]
    for a in &accounts {
        let g = usize::from(a.side == PositionSide::Short);
        side_notional[g] += (a.cost.0 as i128).abs();
    }
    let needed = side_notional.iter().filter(|&&n| n > 0).count() as u64;
    let count = cfg.counterparty_count().max(needed);
    let mut groups = [0u64; 2];
    if needed == 2 {
        let share = side_notional[0] as f64 / (side_notional[0] + side_notional[1]) as f64;
        groups[0] = ((count as f64 * share).round() as u64).clamp(1, count - 1);
        groups[1] = count - groups[0];
    } else if side_notional[0] > 0 {
        groups[0] = count;
    } else {
        groups[1] = count;
    }
    let first_cp = next_id;
    let group_start = [first_cp, first_cp + groups[0] as u32];
    let mut cps: Vec<SeededAccount> = Vec::with_capacity(count as usize);
    for (g, &n) in groups.iter().enumerate() {
        let side = if g == 0 { PositionSide::Short } else { PositionSide::Long };
        for k in 0..n {
            cps.push(SeededAccount {
                account: AccountId(group_start[g] + k as u32),
                side,
                qty: Qty::ZERO,
                entry: Price::ZERO,
                cost: Money::ZERO,
                margin: Money::ZERO,
                reserve: Money::ZERO,
                mode: MarginMode::Isolated,
                leverage: cfg.counterparty_leverage,
                liquidation_price: None,
                role: Role::Counterparty,
                band: None,
            });
        }
    }

    // Each map account's counterparty, round robin within its group.
    let mut seeds: Vec<(AccountId, Money)> = Vec::with_capacity(accounts.len());
    let mut rr = [0u64; 2];
    let overflow = |what: &'static str| MapError::Margin {
        path: "counterparties".into(),
        cause: MarginError::Overflow(what),
    };
    for a in &accounts {
        let g = usize::from(a.side == PositionSide::Short);
        let idx = (group_start[g] - first_cp) as usize + (rr[g] % groups[g]) as usize;
        rr[g] += 1;
        let q = a.qty.abs();
        let cp_margin = margin::initial_margin(inst, q, a.entry, cfg.counterparty_leverage)
            .map_err(|cause| MapError::Margin { path: "counterparty_leverage".into(), cause })?;
        let cp = &mut cps[idx];
        cp.qty = cp.qty.checked_sub(a.qty).map_err(|_| overflow("counterparty size"))?;
        cp.cost = cp.cost.checked_sub(a.cost).map_err(|_| overflow("counterparty cost"))?;
        cp.margin = cp.margin.checked_add(cp_margin).map_err(|_| overflow("counterparty margin"))?;
        seeds.push((cp.account, cp_margin));
    }

    // Counterparties must survive any move that stays within the map.
    for cp in &mut cps {
        if cp.qty.is_zero() {
            continue;
        }
        cp.entry = Price(((cp.cost.0 as f64) / (cp.qty.0 as f64 * v as f64)).round() as i64);
        cp.liquidation_price = margin::liquidation_price_tiered(inst, tiers, cp.qty, cp.cost, cp.margin)
            .map_err(|cause| MapError::Margin { path: "counterparty_leverage".into(), cause })?;
        if let Some(lp) = cp.liquidation_price {
            let close = match cp.side {
                PositionSide::Long => lp.0 >= price_t - farthest,
                PositionSide::Short => lp.0 <= price_t + farthest,
            };
            if close {
                return Err(MapError::CounterpartyTooClose {
                    account: cp.account,
                    liq_usd: inst.price_string(lp),
                    limit_usd: inst.price_string(Price(farthest)),
                    leverage: cfg.counterparty_leverage,
                });
            }
        }
    }

    let (mut long_sum, mut short_sum) = (0i128, 0i128);
    for a in &accounts {
        let n = a.qty.0.unsigned_abs() as i128 * a.liquidation_price.map_or(0, |p| p.0) as i128 * v;
        match a.side {
            PositionSide::Long => long_sum += n,
            PositionSide::Short => short_sum += n,
        }
    }
    accounts.extend(cps);
    let to_money = |x: i128| i64::try_from(x).map(Money).map_err(|_| overflow("liquidation notional"));
    Ok(SeededMap {
        accounts,
        seeds,
        liq_notional_long: to_money(long_sum)?,
        liq_notional_short: to_money(short_sum)?,
        band_liq_notional: band_liq,
    })
}
