//! What `liqsim run` prints: the run's headline results in a trader's words — USD with
//! separators ($904.2M), clock times from the start (HH:MM:SS) instead of tick numbers, the
//! hunters' direction and PnL, each watch level's verdict, the biggest cascades with their size
//! and duration, and the small ones folded into one line. Every number comes from the
//! `summary.json` beside it (see [`RunReport`]).

use super::RunReport;
use crate::agents::hunter::{Direction, HuntMode};
use crate::report::fmt::{clock, duration, price, thousands, usd};
use crate::sim::Verdict;
use std::fmt::Write;
use std::path::Path;

/// Cascades at least this large are listed one by one (at most [`LISTED`] of them); smaller
/// ones are folded into one line.
pub const LISTED_FROM_USD: f64 = 1e6;
pub const LISTED: usize = 3;
const LISTED_FROM: &str = "$1M";

/// The printed summary of a run with ticks of `tick_secs` seconds, its outputs in `out`.
pub fn run_summary(r: &RunReport, tick_secs: u64, out: &Path) -> String {
    let s = &r.summary;
    let at = |tick: u64| clock(tick * tick_secs);
    let mut t = String::new();
    let mut line = |label: &str, text: String| {
        let _ = writeln!(t, "  {label:<18}{text}");
    };
    line("simulated", format!("{} (ticks of {} s)", duration(s.ticks * tick_secs), tick_secs));
    line(
        "last price",
        format!(
            "{} → {} (high {}, low {})",
            price(s.start_price),
            price(s.final_price),
            price(s.max_price),
            price(s.min_price)
        ),
    );
    line("mark price", format!("high {}, low {}", price(s.max_mark), price(s.min_mark)));
    for (label, accounts, notional) in [
        ("longs liquidated", s.liquidated_accounts_long, s.liquidated_notional_long),
        ("shorts liquidated", s.liquidated_accounts_short, s.liquidated_notional_short),
    ] {
        let text = if accounts == 0 {
            "none".to_string()
        } else {
            format!("{} ({} accounts)", usd(notional), thousands(accounts as f64, 0))
        };
        line(label, text);
    }
    // The hunters: which way each pushed, and what it made or lost.
    for (i, h) in s.hunters.iter().enumerate() {
        let mode = match h.mode {
            HuntMode::Up => "up",
            HuntMode::Down => "down",
            HuntMode::Adaptive => "adaptive",
            HuntMode::Random => "random",
            HuntMode::Expected => "by expected PnL",
        };
        let ups = h.campaigns.iter().filter(|c| c.direction == Direction::Up).count();
        let downs = h.campaigns.len() - ups;
        let pushed = match (ups, downs) {
            (0, 0) => "never pushed".to_string(),
            (0, n) => format!("pushed down ({})", campaigns(n)),
            (n, 0) => format!("pushed up ({})", campaigns(n)),
            (u, d) => format!("pushed up ({}) and down ({})", campaigns(u), campaigns(d)),
        };
        let first = h.campaigns.iter().map(|c| c.start_tick).min();
        let from = first.map(|f| format!(" from {}", at(f))).unwrap_or_default();
        let who = if h.maker { "hunting maker" } else { "hunter" };
        let label = if s.hunters.len() == 1 { who.to_string() } else { format!("{who} {}", i + 1) };
        line(&label, format!("{mode}: {pushed}{from}; PnL {}", signed_usd(h.pnl_usd)));
    }
    if s.hunters.len() > 1 {
        line("hunters' PnL", signed_usd(s.hunter_pnl));
    }
    // Each watch level's verdict.
    let mut levels: Vec<_> = s.levels.iter().collect();
    levels.sort_by(|a, b| b.level.total_cmp(&a.level));
    for (i, l) in levels.iter().enumerate() {
        let verdict = match (l.touched, l.first_tick, l.verdict) {
            (true, Some(tick), v) => {
                let how = match v {
                    Verdict::Accelerated => ", accelerated through it",
                    Verdict::Absorbed => ", absorbed",
                    _ => "",
                };
                format!("touched at {}{how}", at(tick))
            }
            (_, _, Verdict::Rejected) => format!(
                "not touched: rejected {:.1}% short of it at {}",
                l.closest_gap * 100.0,
                at(l.closest_tick)
            ),
            _ => {
                format!("not touched (closest {:.1}% away, at {})", l.closest_gap * 100.0, at(l.closest_tick))
            }
        };
        let label = if i == 0 { "watch levels" } else { "" };
        line(label, format!("{:<10} {verdict}", thousands(l.level, 0)));
    }
    // The biggest cascades one by one, the small ones folded.
    let mut cascades: Vec<_> = s.cascades.iter().collect();
    cascades.sort_by(|a, b| b.notional_usd.total_cmp(&a.notional_usd));
    if cascades.is_empty() {
        line("cascades", "none".to_string());
    }
    let big: Vec<_> = cascades.iter().filter(|c| c.notional_usd >= LISTED_FROM_USD).collect();
    for (i, c) in big.iter().take(LISTED).enumerate() {
        let label = if i == 0 { "cascades" } else { "" };
        let secs = (c.end_tick.saturating_sub(c.start_tick) + 1) * tick_secs;
        line(
            label,
            format!(
                "{} over {} from {}, {} accounts, {} → {}",
                usd(c.notional_usd),
                duration(secs),
                at(c.start_tick),
                thousands(c.accounts as f64, 0),
                price(c.price_before),
                price(c.price_after)
            ),
        );
    }
    let label = if big.is_empty() { "cascades" } else { "" };
    if big.len() > LISTED {
        let rest = &big[LISTED..];
        let sum: f64 = rest.iter().map(|c| c.notional_usd).sum();
        line(label, format!("+ {} more of {LISTED_FROM} or more ({} together)", rest.len(), usd(sum)));
    }
    let small: Vec<_> = cascades.iter().filter(|c| c.notional_usd < LISTED_FROM_USD).collect();
    if !small.is_empty() {
        let sum: f64 = small.iter().map(|c| c.notional_usd).sum();
        let noun = if small.len() == 1 { "cascade" } else { "cascades" };
        line(label, format!("+ {} {noun} under {LISTED_FROM} ({} together)", small.len(), usd(sum)));
    }
    let took = if s.insurance_takeovers == 0 {
        "took over no position".to_string()
    } else {
        format!(
            "took over {} positions ({}), its PnL on them {}",
            thousands(s.insurance_takeovers as f64, 0),
            usd(s.insurance_takeover_notional),
            signed_usd(s.insurance_fund_pnl)
        )
    };
    line(
        "insurance fund",
        format!("{} at the end (low {}); {took}", usd(s.insurance_fund_final), usd(s.insurance_fund_min)),
    );
    if s.insurance_shortfall > 0.0 {
        line("beyond the fund", format!("{} (absorbed by the venue)", usd(s.insurance_shortfall)));
    }
    line(
        "ADL",
        if s.adl_count == 0 {
            "none".to_string()
        } else {
            format!("{} events ({})", thousands(s.adl_count as f64, 0), usd(s.adl_notional))
        },
    );
    // A fraction per interval: for a run shorter than the interval, the rate it would have paid.
    line("funding accrued", format!("{:.4}% per interval", s.funding_rate_accrued * 100.0));
    line("events", thousands(s.events as f64, 0));
    line("final state hash", s.final_state_hash.clone());
    line("outputs", out.display().to_string());
    format!("liqsim run: {} (seed {})\n{t}", r.scenario, r.seed)
}

fn campaigns(n: usize) -> String {
    if n == 1 { "1 campaign".to_string() } else { format!("{n} campaigns") }
}

/// USD with its sign always shown: "+$24.9M", "-$77.2M".
fn signed_usd(v: f64) -> String {
    if v > 0.0 && v.abs() >= 0.5 { format!("+{}", usd(v)) } else { usd(v) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Cascade, RunSummary};

    fn cascade(start: u64, end: u64, usd: f64) -> Cascade {
        Cascade {
            start_tick: start,
            end_tick: end,
            accounts: 11_437,
            notional_usd: usd,
            net_short_usd: -usd,
            price_before: 68_615.4,
            price_after: 64_671.3,
        }
    }

    #[test]
    fn the_summary_reads_in_a_traders_words() {
        let json = include_str!("../../tests/data/summary_sample.json");
        let summary: RunSummary = serde_json::from_str(json).unwrap();
        let mut r = RunReport {
            scenario: "btc_14_to_1".into(),
            scenario_hash: String::new(),
            seed: 42,
            tick_secs: 1,
            summary,
        };
        r.summary.cascades = vec![
            cascade(133, 161, 343_795_068.0),
            cascade(10, 12, 174.0),
            cascade(20, 20, 2_500.0),
            cascade(300, 400, 150e6),
            cascade(500, 510, 2e6),
            cascade(600, 610, 3e6),
        ];
        let text = run_summary(&r, 1, Path::new("out/x"));
        assert!(text.starts_with("liqsim run: btc_14_to_1 (seed 42)\n"), "{text}");
        // The biggest cascade: size, duration, clock time, accounts with separators.
        assert!(
            text.contains("$343.8M over 29 s from 00:02:13, 11,437 accounts, $68,615.4 → $64,671.3"),
            "{text}"
        );
        assert!(text.contains("+ 1 more of $1M or more ($2.0M together)"), "{text}");
        assert!(text.contains("+ 2 cascades under $1M ($2,674 together)"), "{text}");
        assert!(!text.contains("ticks 133"), "{text}");
        assert!(
            text.contains(
                "  hunter            adaptive: pushed down (1 campaign) from 00:01:00; PnL -$76.9M"
            ),
            "{text}"
        );
        assert!(text.contains("65,000     touched at 00:02:34, absorbed"), "{text}");
        assert!(text.contains("85,000     not touched (closest 15.5% away, at 05:35:15)"), "{text}");
        assert!(text.contains("longs liquidated  $558.7M (18,543 accounts)"), "{text}");
        assert!(text.contains("shorts liquidated none"), "{text}");
        assert!(text.contains("final state hash"), "{text}");
        assert!(text.contains("  outputs           out/x"), "{text}");
    }
}
