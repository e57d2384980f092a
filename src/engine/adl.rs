//! Auto-deleveraging: what is left of a liquidated position after the book is closed against
//! the best-ranked opposite positions (BitMEX ranking: profit × leverage) at the bankruptcy
//! price. Each `AutoDeleveraged` event carries the counterparty's score in the ranking used.

use super::exchange::{Exchange, Result};
use crate::book::AccountId;
use crate::events::{Event, Seq};
use crate::margin::{self, AdlScore};
use crate::units::{Money, Price, Qty, Side};

/// An ADL ranking is rebuilt once it is this many ticks old ...
pub const ADL_RANKING_TICKS: u64 = 30;
/// ... or the mark has moved by more than this fraction since it was built.
pub const ADL_RANKING_MOVE: f64 = 0.01;

/// An ADL ranking of one side (built at `tick` and `mark`), consumed from `cursor` on.
#[derive(Clone, Debug, Default)]
struct AdlQueue {
    tick: u64,
    mark: Price,
    ranked: Vec<(AccountId, AdlScore)>,
    cursor: usize,
}

/// The current rankings: [counterparties that buy, that sell].
#[derive(Clone, Debug, Default)]
pub(super) struct AdlQueues([Option<AdlQueue>; 2]);

impl Exchange {
    /// Closes what is left of a liquidated position against the best-ranked opposite positions
    /// at the bankruptcy price. The ranking of a side is a scan of all accounts, so it is kept
    /// and consumed in order, and rebuilt only when it is [`ADL_RANKING_TICKS`] old or the mark
    /// has moved more than [`ADL_RANKING_MOVE`] since (venues refresh their ADL queues
    /// periodically too): a crash with thousands of ADLs costs a few scans, not thousands.
    pub(super) fn auto_deleverage(&mut self, a: AccountId, price: Price, cause: Seq) -> Result<()> {
        let mut left = self.ledger().account(a).map(|x| x.position.qty).unwrap_or_default();
        if left.is_zero() {
            return Ok(());
        }
        // Counterparties hold the other side; they close by trading the liquidated side.
        let side = if left.is_positive() { Side::Buy } else { Side::Sell };
        let slot = usize::from(side == Side::Sell);
        let tick = self.rec.tick();
        let mark = self.mark;
        let stale = |q: &AdlQueue| {
            tick.saturating_sub(q.tick) >= ADL_RANKING_TICKS
                || (mark.0 - q.mark.0).unsigned_abs() as f64 > ADL_RANKING_MOVE * q.mark.0 as f64
        };
        if self.adl.0[slot].as_ref().is_none_or(stale) {
            let ranked = self.rank_adl_candidates(side)?;
            self.adl.0[slot] = Some(AdlQueue { tick, mark, ranked, cursor: 0 });
        }
        let mut queue = self.adl.0[slot].take().unwrap_or_default();
        let mut i = queue.cursor;
        while i < queue.ranked.len() && !left.is_zero() {
            let (c, score) = queue.ranked[i];
            i += 1;
            let Some(acct) = self.ledger().account(c).copied() else { continue };
            let q = acct.position.qty;
            let usable = c != a && acct.liquidating.is_none() && q.0.signum() == -side.sign();
            if !usable {
                // Flat, flipped or taken over since the ranking: gone for this tick.
                if i - 1 == queue.cursor {
                    queue.cursor = i;
                }
                continue;
            }
            let take = q.abs().min(left.abs());
            // A counterparty that would itself go below zero closing at this price is beyond its
            // own bankruptcy: it is not deleveraged (its own liquidation deals with it).
            if self.ledger().preview_fill(c, side, take, price, Money::ZERO).is_err() {
                continue;
            }
            let ev = Event::AutoDeleveraged { account: a, counterparty: c, qty: take, price, score };
            self.emit(ev, Some(cause))?;
            left = Qty(left.0 - left.0.signum() * take.0);
            if take == q.abs() && i - 1 == queue.cursor {
                queue.cursor = i;
            }
        }
        self.adl.0[slot] = Some(queue);
        Ok(())
    }

    /// Opposite positions (those that close by trading `side`), by ADL rank at the mark.
    fn rank_adl_candidates(&self, side: Side) -> Result<Vec<(AccountId, AdlScore)>> {
        let inst = self.cfg.instrument;
        let mut candidates = Vec::new();
        for (i, c) in self.ledger().accounts().iter().enumerate() {
            let q = c.position.qty;
            if c.liquidating.is_some() || q.0.signum() != -side.sign() {
                continue;
            }
            // Effective leverage is taken on what backs the position (a cross account's wallet).
            let score = margin::adl_score(&inst, q, c.position.cost, c.wallet().max(Money::ZERO), self.mark)?;
            candidates.push((AccountId(i as u32), q.abs(), score));
        }
        margin::adl_rank(&mut candidates);
        Ok(candidates.into_iter().map(|(id, _, score)| (id, score)).collect())
    }
}
