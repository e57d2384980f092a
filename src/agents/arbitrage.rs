//! The basis arbitrageur: it sells the perpetual when it trades rich to the index and buys it
//! when it trades cheap, hedging each perp fill on the spot venues, and closes the trade when the
//! basis comes back. Its capital, position limit, fees and reaction time are finite, so the
//! basis they leave is what holds the perp near the index.

/// An arbitrageur's settings, in human units and time.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ArbParams {
    /// The largest hedged position it holds, USD notional.
    pub max_position_usd: f64,
    /// How fast it builds or unwinds, USD of notional a second.
    pub rate_usd_per_sec: f64,
    /// It enters when the basis beyond its costs (perp and spot taker fees) exceeds this, as a
    /// fraction of the index ...
    pub entry: f64,
    /// ... and unwinds once the basis is back within this.
    pub exit: f64,
    /// Perp taker fee plus spot taker fee, as a fraction (the round trip's one-way cost).
    pub costs: f64,
    /// It decides at most once every this many seconds (its reaction time).
    pub reaction_secs: f64,
}

impl ArbParams {
    /// A basis desk: up to $250M hedged, built or unwound at $2M a second, deciding every 2
    /// seconds, entering beyond 0.05% of basis net of costs and unwinding within 0.02%. Its
    /// costs are VIP taker fees on both legs: 0.017% on Binance futures and 0.023% on spot
    /// (Binance VIP 9 schedule), 0.04% together.
    pub fn calibrated() -> ArbParams {
        ArbParams {
            max_position_usd: 250e6,
            rate_usd_per_sec: 2e6,
            entry: 0.0005,
            exit: 0.0002,
            costs: 0.0004,
            reaction_secs: 2.0,
        }
    }
}

impl ArbParams {
    /// A value trader's rule: the arbitrageur's, against the fair value instead of the index,
    /// entering at a `discount` (or premium) to it with no costs to cover, unwinding within
    /// `exit`.
    pub fn value(
        max_position_usd: f64,
        rate_usd_per_sec: f64,
        discount: f64,
        exit: f64,
        reaction_secs: f64,
    ) -> ArbParams {
        ArbParams { max_position_usd, rate_usd_per_sec, entry: discount, exit, costs: 0.0, reaction_secs }
    }
}

/// What the arbitrageur wants of the perp this decision: a signed notional (USD; > 0 buys) and
/// the worst price fraction of the index it accepts (e.g. 1.0015 to buy at most 0.15% above).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArbOrder {
    pub notional_usd: f64,
    pub limit_vs_index: f64,
}

/// The decision, given the perp's best bid and ask and the index (prices in any one unit), the
/// position it holds (USD notional at the index, signed: < 0 short perp / long spot), the
/// seconds since its last decision and the tick's length in seconds. `None`: nothing to do.
pub fn arb_decide(
    p: &ArbParams,
    perp_bid: f64,
    perp_ask: f64,
    index: f64,
    position_usd: f64,
    secs_since_last: f64,
    tick_secs: f64,
) -> Option<ArbOrder> {
    if !(index > 0.0 && perp_bid > 0.0 && perp_ask > 0.0) || secs_since_last < p.reaction_secs {
        return None;
    }
    // At most its rate over the time between its looks: one reaction time rounded up to whole
    // ticks (one tick when it decides every tick; four seconds for a 3 s reaction at 2 s
    // ticks), so its rate is a rate in time at any tick. A desk that has been idle (its first
    // look) does not burst.
    let tick = tick_secs.max(1.0);
    let look = (p.reaction_secs / tick).ceil().max(1.0) * tick;
    let clip = p.rate_usd_per_sec * secs_since_last.min(look);
    let rich = perp_bid / index - 1.0 - p.costs;
    let cheap = 1.0 - perp_ask / index - p.costs;
    let room_short = p.max_position_usd + position_usd;
    let room_long = p.max_position_usd - position_usd;
    if rich > p.entry && room_short > 0.0 {
        // Sell the perp (hedged by buying spot), no lower than where it still pays.
        return Some(ArbOrder {
            notional_usd: -clip.min(room_short),
            limit_vs_index: 1.0 + p.costs + p.entry,
        });
    }
    if cheap > p.entry && room_long > 0.0 {
        return Some(ArbOrder { notional_usd: clip.min(room_long), limit_vs_index: 1.0 - p.costs - p.entry });
    }
    // Unwind once the basis is back: buy back a short while the perp is no longer rich, sell a
    // long while it is no longer cheap, never paying more than `exit` away from the index.
    let basis = ((perp_bid + perp_ask) / 2.0) / index - 1.0;
    if position_usd < 0.0 && basis < p.exit {
        return Some(ArbOrder { notional_usd: clip.min(-position_usd), limit_vs_index: 1.0 + p.exit });
    }
    if position_usd > 0.0 && basis > -p.exit {
        return Some(ArbOrder { notional_usd: -clip.min(position_usd), limit_vs_index: 1.0 - p.exit });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ArbParams {
        ArbParams {
            max_position_usd: 100e6,
            rate_usd_per_sec: 2e6,
            entry: 0.0005,
            exit: 0.0002,
            costs: 0.0015,
            reaction_secs: 2.0,
        }
    }

    #[test]
    fn it_sells_a_rich_perp_buys_a_cheap_one_and_unwinds_when_the_basis_is_back() {
        let p = params();
        // 0.3% rich: beyond 0.15% costs + 0.05% entry. Sell 2M a second for 2 seconds.
        let o = arb_decide(&p, 100.30, 100.31, 100.0, 0.0, 2.0, 1.0).unwrap();
        assert_eq!(o.notional_usd, -4e6);
        assert!((o.limit_vs_index - 1.002).abs() < 1e-12);
        // 0.1% rich: inside its costs, and flat: nothing.
        assert_eq!(arb_decide(&p, 100.10, 100.11, 100.0, 0.0, 2.0, 1.0), None);
        // 0.3% cheap: buy.
        assert!(arb_decide(&p, 99.69, 99.70, 100.0, 0.0, 2.0, 1.0).unwrap().notional_usd > 0.0);
        // Short 10M and the basis is back to 0.01%: buy back.
        let o = arb_decide(&p, 100.00, 100.02, 100.0, -10e6, 2.0, 1.0).unwrap();
        assert_eq!(o.notional_usd, 4e6);
        // Too soon after the last decision: nothing.
        assert_eq!(arb_decide(&p, 100.30, 100.31, 100.0, 0.0, 1.0, 1.0), None);
        // At its limit it adds nothing more on that side.
        assert_eq!(arb_decide(&p, 100.30, 100.31, 100.0, -100e6, 2.0, 1.0), None);
    }

    #[test]
    fn its_rate_is_per_second_whatever_the_tick() {
        let p = params();
        // Deciding every tick at ticks of 1, 2 and 4 seconds, it builds its $2M a second: a
        // tick longer than its reaction time does not cap it at one reaction time's worth.
        for dt in [1.0_f64, 2.0, 4.0] {
            let since = dt.max(p.reaction_secs);
            let o = arb_decide(&p, 100.30, 100.31, 100.0, 0.0, since, dt).unwrap();
            assert_eq!(o.notional_usd, -p.rate_usd_per_sec * since, "tick {dt} s");
        }
        // A reaction time that is not a whole number of ticks: it looks every other 2 s tick
        // (every 4 s) and takes 4 s worth, not 3 s worth (which would build at 3/4 of its rate).
        let slow = ArbParams { reaction_secs: 3.0, ..params() };
        assert_eq!(arb_decide(&slow, 100.30, 100.31, 100.0, 0.0, 2.0, 2.0), None);
        let o = arb_decide(&slow, 100.30, 100.31, 100.0, 0.0, 4.0, 2.0).unwrap();
        assert_eq!(o.notional_usd, -8e6);
        // A 10 s reaction at 3 s ticks: every 12 s, 12 s worth.
        let value = ArbParams { reaction_secs: 10.0, ..params() };
        let o = arb_decide(&value, 100.30, 100.31, 100.0, 0.0, 12.0, 3.0).unwrap();
        assert_eq!(o.notional_usd, -24e6);
        // Idle for a minute, it still takes one reaction time's worth (at a 1 s tick) or one
        // tick's (at 4 s), not a minute's.
        let o = arb_decide(&p, 100.30, 100.31, 100.0, 0.0, 60.0, 1.0).unwrap();
        assert_eq!(o.notional_usd, -4e6);
        let o = arb_decide(&p, 100.30, 100.31, 100.0, 0.0, 60.0, 4.0).unwrap();
        assert_eq!(o.notional_usd, -8e6);
    }
}
