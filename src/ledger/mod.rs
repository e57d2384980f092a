//! The ledger: accounts, their positions (isolated or cross margined), insurance fund, fee pool
//! and funding pool.
//!
//! [`Ledger::apply`] is the only way this state changes, live and in replay. An event that would
//! break an invariant is rejected with a typed [`LedgerError`] and leaves the ledger untouched.
//!
//! # Money
//! A position keeps its signed cost (Σ signed fill notionals of the open size) rather than an
//! entry price, so profit and loss are exact integers. Then, at any common mark, the unrealised
//! PnL of all positions sums to `−Σ cost` (open interest is balanced), and
//!
//! ```text
//! Σ balances + Σ margins + insurance fund + fees + funding pool + Σ unrealised PnL
//!     == Σ deposits + shortfall
//! ```
//!
//! The insurance fund is a position holder too: it takes over what liquidations leave (at the
//! bankruptcy price) and offloads it onto the book under [`AccountId::INSURANCE_FUND`]. Its cash
//! is the fund's balance; its position needs no margin (the fund's cash stands behind it) and
//! its realised PnL and fees go straight to that cash. A fund driven below zero is refilled by
//! the venue, as the shortfall.
//!
//! holds to the micro-USD after every event ([`Ledger::total_money`] subtracts the shortfall:
//! what the venue put in when a bankrupt account's deficit exceeded the insurance fund).
//!
//! # Margin modes
//! Both modes keep the same books: a fill moves initial margin between the free balance and the
//! position's margin, realised PnL enters the margin. They differ in what backs the position
//! ([`Account::wallet`]): an isolated position only its margin, a cross position the whole
//! wallet (free balance + margin), so its liquidation and bankruptcy prices are computed on the
//! wallet, its funding is paid from (and into) the wallet, and when it is liquidated its free
//! balance joins the margin that goes to the insurance fund.

use crate::book::AccountId;
use crate::events::{Event, InsuranceReason};
use crate::margin::{self, MarginError, MarginMode, TierTable};
use crate::units::{Instrument, Money, Price, Qty, Rate, Side, UnitError};

/// The highest leverage an account may set.
pub const MAX_LEVERAGE: u32 = 1_000;

/// A position: signed size, signed cost, and the margin posted for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub qty: Qty,
    /// Σ signed fill notionals of the open size (long > 0); entry price = cost / qty.
    pub cost: Money,
    /// Margin posted for the position (in isolated mode, its whole wallet balance). Negative
    /// only during a liquidation.
    pub margin: Money,
}

/// One trader's account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account {
    /// Free balance, not backing the position.
    pub balance: Money,
    /// Leverage used to size the margin of new exposure.
    pub leverage: u32,
    /// What backs the position: its margin (isolated) or the whole wallet (cross).
    pub mode: MarginMode,
    pub position: Position,
    /// While liquidated: the position size when the engine took over.
    pub liquidating: Option<Qty>,
}

impl Account {
    /// The wallet balance backing the position (Binance's WB): the posted margin of an isolated
    /// position, the free balance plus the margin of a cross one. Liquidation and bankruptcy
    /// prices, the maintenance check and the funding a payer can pay are taken on it.
    pub fn wallet(&self) -> Money {
        match self.mode {
            MarginMode::Isolated => self.position.margin,
            MarginMode::Cross => Money(self.balance.0.saturating_add(self.position.margin.0)),
        }
    }
}

/// Why an event was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("unknown account {0:?}")]
    UnknownAccount(AccountId),
    #[error("account ids are assigned in order: expected {expected:?}, got {got:?}")]
    AccountOutOfOrder { expected: AccountId, got: AccountId },
    #[error("{what} must be positive, got {value}")]
    NotPositive { what: &'static str, value: i64 },
    #[error("{what} must not be negative, got {value}")]
    Negative { what: &'static str, value: i64 },
    #[error("leverage {0} is outside 1..={MAX_LEVERAGE}")]
    BadLeverage(u32),
    #[error("account {account:?} needs {needed} but has {available}")]
    InsufficientFunds { account: AccountId, needed: Money, available: Money },
    #[error("account {0:?} would go below zero outside the bankruptcy path")]
    Overdraft(AccountId),
    #[error("account {0:?} cannot trade with itself")]
    SelfTrade(AccountId),
    #[error("account {0:?} is not being liquidated")]
    NotInLiquidation(AccountId),
    #[error("account {0:?} is being liquidated")]
    InLiquidation(AccountId),
    #[error("account {0:?} has no position")]
    NoPosition(AccountId),
    #[error("account {account:?} must hold {expected:?}, holds {held:?}")]
    PositionMismatch { account: AccountId, expected: Qty, held: Qty },
    #[error("account {0:?} would add exposure where it may only reduce")]
    NotReducing(AccountId),
    #[error(
        "liquidation of {account:?} must move its whole remaining margin {margin} to the insurance fund, not {delta}"
    )]
    LiquidationAmount { account: AccountId, margin: Money, delta: Money },
    #[error("funding pool {pool} cannot pay {needed}")]
    FundingPoolOverdraft { pool: Money, needed: Money },
    #[error("funding pool holds {0} at the end of a tick; it must be settled to zero")]
    FundingPoolNotSettled(Money),
    #[error("the insurance fund takes over positions only from accounts in liquidation, not {0:?}")]
    NotATakeover(AccountId),
    #[error("a fill states {stated} of margin moved for {account:?}, the rules give {computed}")]
    MarginMismatch { account: AccountId, stated: Money, computed: Money },
    #[error("liquidation of {account:?} says partial = {stated}, but it {held}")]
    PartialMismatch { account: AccountId, stated: bool, held: &'static str },
    #[error("tick {got} closes after tick {current}")]
    TickBackwards { current: u64, got: u64 },
    #[error(transparent)]
    Unit(#[from] UnitError),
    #[error(transparent)]
    Margin(#[from] MarginError),
}

type Result<T> = std::result::Result<T, LedgerError>;

/// Accounts, positions and the venue's pools, changed only by [`Ledger::apply`].
#[derive(Clone, Debug)]
pub struct Ledger {
    instrument: Instrument,
    /// Caps the leverage new exposure may be margined at, by the position's notional.
    tiers: TierTable,
    accounts: Vec<Account>,
    insurance: Money,
    /// The positions the fund has taken over and not yet offloaded (margin always zero).
    fund_position: Position,
    /// Losses the insurance fund could not pay, absorbed by the venue (≥ 0): the part of a
    /// bankrupt account's deficit beyond what the fund held. Money the venue put in, so it
    /// counts against the total in [`Ledger::total_money`].
    shortfall: Money,
    fees: Money,
    funding_pool: Money,
    deposits: i128,
    long_oi: Qty,
    short_oi: Qty,
    index: Price,
    mark: Price,
    last: Price,
    funding_rate: Rate,
    tick: u64,
}

impl Ledger {
    pub fn new(instrument: Instrument, tiers: TierTable) -> Ledger {
        Ledger {
            instrument,
            tiers,
            accounts: Vec::new(),
            insurance: Money::ZERO,
            fund_position: Position::default(),
            shortfall: Money::ZERO,
            fees: Money::ZERO,
            funding_pool: Money::ZERO,
            deposits: 0,
            long_oi: Qty::ZERO,
            short_oi: Qty::ZERO,
            index: Price::ZERO,
            mark: Price::ZERO,
            last: Price::ZERO,
            funding_rate: Rate::ZERO,
            tick: 0,
        }
    }

    pub fn instrument(&self) -> &Instrument {
        &self.instrument
    }
    pub fn tiers(&self) -> &TierTable {
        &self.tiers
    }
    pub fn account(&self, id: AccountId) -> Option<&Account> {
        self.accounts.get(id.0 as usize)
    }
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }
    pub fn insurance_fund(&self) -> Money {
        self.insurance
    }
    /// The position the insurance fund holds (taken over from liquidations, not yet offloaded).
    pub fn insurance_position(&self) -> Position {
        self.fund_position
    }
    /// What the venue absorbed beyond the insurance fund (see the field).
    pub fn insurance_shortfall(&self) -> Money {
        self.shortfall
    }
    pub fn fees_collected(&self) -> Money {
        self.fees
    }
    pub fn funding_pool(&self) -> Money {
        self.funding_pool
    }
    /// Total long size and total short size (as a positive number).
    pub fn open_interest(&self) -> (Qty, Qty) {
        (self.long_oi, self.short_oi)
    }
    pub fn mark(&self) -> Price {
        self.mark
    }
    pub fn index(&self) -> Price {
        self.index
    }
    pub fn last(&self) -> Price {
        self.last
    }
    pub fn funding_rate(&self) -> Rate {
        self.funding_rate
    }
    pub fn tick(&self) -> u64 {
        self.tick
    }
    /// Money that entered from outside (deposits into accounts and the insurance fund).
    pub fn deposits(&self) -> i128 {
        self.deposits
    }

    /// Σ balances + Σ margins + insurance + fees + funding pool + Σ unrealised PnL (taken at any
    /// common mark, which with balanced open interest is `−Σ cost`), less the shortfall the
    /// venue absorbed. Equals [`Ledger::deposits`].
    pub fn total_money(&self) -> i128 {
        let accounts: i128 = self
            .accounts
            .iter()
            .map(|a| a.balance.0 as i128 + a.position.margin.0 as i128 - a.position.cost.0 as i128)
            .sum();
        accounts + self.insurance.0 as i128 - self.fund_position.cost.0 as i128
            + self.fees.0 as i128
            + self.funding_pool.0 as i128
            - self.shortfall.0 as i128
    }

    /// Applies one event, or refuses it and changes nothing.
    pub fn apply(&mut self, event: &Event) -> Result<()> {
        match *event {
            Event::AccountOpened { account, deposit, leverage, mode } => {
                let expected = AccountId(self.accounts.len() as u32);
                if account != expected {
                    return Err(LedgerError::AccountOutOfOrder { expected, got: account });
                }
                non_negative("deposit", deposit)?;
                check_leverage(leverage)?;
                self.accounts.push(Account {
                    balance: deposit,
                    leverage,
                    mode,
                    position: Position::default(),
                    liquidating: None,
                });
                self.deposits += deposit.0 as i128;
            }
            Event::Deposited { account, amount } => {
                if !amount.is_positive() {
                    return Err(LedgerError::NotPositive { what: "deposit", value: amount.0 });
                }
                let mut a = *self.get(account)?;
                a.balance = a.balance.checked_add(amount)?;
                self.accounts[account.0 as usize] = a;
                self.deposits += amount.0 as i128;
            }
            Event::MarginAdded { account, amount } => {
                if amount.is_zero() {
                    return Err(LedgerError::NotPositive { what: "margin change", value: 0 });
                }
                let mut a = *self.get(account)?;
                not_liquidating(account, &a)?;
                a.balance = a.balance.checked_sub(amount)?;
                a.position.margin = a.position.margin.checked_add(amount)?;
                if a.balance.is_negative() || a.position.margin.is_negative() {
                    return Err(LedgerError::Overdraft(account));
                }
                self.accounts[account.0 as usize] = a;
            }
            Event::PositionSeeded { long, short, qty, price, long_margin, short_margin } => {
                if long == short {
                    return Err(LedgerError::SelfTrade(long));
                }
                positive_qty(qty)?;
                positive_price(price)?;
                non_negative("long margin", long_margin)?;
                non_negative("short margin", short_margin)?;
                let mut l = *self.get(long)?;
                let mut s = *self.get(short)?;
                for (id, a, side, margin) in
                    [(long, &mut l, Side::Buy, long_margin), (short, &mut s, Side::Sell, short_margin)]
                {
                    not_liquidating(id, a)?;
                    take_balance(id, a, margin)?;
                    a.position.margin = a.position.margin.checked_add(margin)?;
                    let t = Fill { qty, price, fee: Money::ZERO, margin_posted: Some(Money::ZERO) };
                    t.apply(&self.rules(), id, a, side)?;
                }
                self.commit_pair(long, l, short, s)?;
            }
            Event::OrderPlaced { order } => {
                self.party(order.owner)?;
            }
            // A rejection changes nothing (its account may not even exist: that can be why).
            Event::OrderRejected { .. } => {}
            Event::OrderCancelled { account, .. } | Event::OrderAmended { account, .. } => {
                self.party(account)?;
            }
            // Stops move no money: their owner must exist (the fund places none); the stop book
            // itself is the exchange state's.
            Event::StopPlaced { stop } | Event::StopTriggered { stop, .. } => {
                self.get(stop.owner)?;
            }
            Event::StopCancelled { account, .. } => {
                self.get(account)?;
            }
            Event::StopRejected { .. } => {}
            Event::Traded {
                maker,
                taker,
                taker_side,
                price,
                qty,
                maker_fee,
                taker_fee,
                maker_margin,
                taker_margin,
                liquidation,
                ..
            } => {
                if maker == taker {
                    return Err(LedgerError::SelfTrade(maker));
                }
                positive_qty(qty)?;
                positive_price(price)?;
                non_negative("maker fee", maker_fee)?;
                non_negative("taker fee", taker_fee)?;
                let mut m = self.party(maker)?;
                let mut t = self.party(taker)?;
                if liquidation && t.liquidating.is_none() {
                    return Err(LedgerError::NotInLiquidation(taker));
                }
                let rules = self.rules();
                for (id, acct, side, fee, stated) in [
                    (maker, &mut m, taker_side.opposite(), maker_fee, maker_margin),
                    (taker, &mut t, taker_side, taker_fee, taker_margin),
                ] {
                    let computed =
                        Fill { qty, price, fee, margin_posted: None }.apply(&rules, id, acct, side)?;
                    if computed != stated {
                        return Err(LedgerError::MarginMismatch { account: id, stated, computed });
                    }
                }
                let fees = self.fees.checked_add(maker_fee)?.checked_add(taker_fee)?;
                self.commit_pair(maker, m, taker, t)?;
                self.fees = fees;
                self.last = price;
            }
            Event::MarkUpdated { index, mark, last, .. } => {
                positive_price(index)?;
                positive_price(mark)?;
                positive_price(last)?;
                self.index = index;
                self.mark = mark;
                self.last = last;
            }
            Event::FundingRateSet { rate, mark, .. } => {
                positive_price(mark)?;
                self.funding_rate = rate;
            }
            Event::FundingPaid { account, amount } => {
                if amount.is_zero() {
                    return Err(LedgerError::NotPositive { what: "funding payment", value: 0 });
                }
                let mut a = *self.get(account)?;
                if a.position.qty.is_zero() {
                    return Err(LedgerError::NoPosition(account));
                }
                let pool = self.funding_pool.checked_sub(amount)?;
                if pool.is_negative() {
                    return Err(LedgerError::FundingPoolOverdraft {
                        pool: self.funding_pool,
                        needed: amount,
                    });
                }
                match a.mode {
                    MarginMode::Isolated => a.position.margin = a.position.margin.checked_add(amount)?,
                    // A cross position's funding is the wallet's: received into the free balance,
                    // paid from it first and then from the margin.
                    MarginMode::Cross if amount.is_positive() => a.balance = a.balance.checked_add(amount)?,
                    MarginMode::Cross => pay_fee(account, &mut a, -amount)?,
                }
                if a.position.margin.is_negative() {
                    return Err(LedgerError::Overdraft(account));
                }
                self.accounts[account.0 as usize] = a;
                self.funding_pool = pool;
            }
            Event::InsuranceFundChanged { delta, reason } => match reason {
                InsuranceReason::Deposit => {
                    if !delta.is_positive() {
                        return Err(LedgerError::NotPositive { what: "insurance deposit", value: delta.0 });
                    }
                    self.insurance = self.insurance.checked_add(delta)?;
                    self.deposits += delta.0 as i128;
                }
                InsuranceReason::FundingRemainder => {
                    if delta != self.funding_pool {
                        return Err(LedgerError::FundingPoolNotSettled(self.funding_pool));
                    }
                    self.insurance = self.insurance.checked_add(delta)?;
                    self.funding_pool = Money::ZERO;
                }
            },
            Event::LiquidationTriggered { account, position, .. } => {
                let mut a = *self.get(account)?;
                not_liquidating(account, &a)?;
                if a.position.qty.is_zero() {
                    return Err(LedgerError::NoPosition(account));
                }
                if a.position.qty != position {
                    return Err(LedgerError::PositionMismatch {
                        account,
                        expected: position,
                        held: a.position.qty,
                    });
                }
                a.liquidating = Some(position);
                if a.mode == MarginMode::Cross {
                    // The whole wallet backs a cross position: its free balance joins the margin,
                    // which the liquidation settles with the insurance fund.
                    a.position.margin = a.position.margin.checked_add(a.balance)?;
                    a.balance = Money::ZERO;
                }
                self.accounts[account.0 as usize] = a;
            }
            Event::AutoDeleveraged { account, counterparty, qty, price, .. } => {
                if counterparty == AccountId::INSURANCE_FUND {
                    return Err(LedgerError::NotReducing(counterparty));
                }
                self.transfer(account, counterparty, qty, price)?;
            }
            Event::InsuranceTakeover { account, qty, price } => {
                self.transfer(account, AccountId::INSURANCE_FUND, qty, price)?;
            }
            Event::Liquidated { account, closed, mark, fee, insurance_delta, partial: stated } => {
                positive_price(mark)?;
                let mut a = *self.get(account)?;
                let Some(started) = a.liquidating else {
                    return Err(LedgerError::NotInLiquidation(account));
                };
                let held = a.position.qty;
                let partial = !held.is_zero();
                if partial != stated {
                    let held = if partial { "still holds a position" } else { "is flat" };
                    return Err(LedgerError::PartialMismatch { account, stated, held });
                }
                // A partial end may close nothing (Hyperliquid: the book was empty and equity not
                // low enough for the backstop), never more than the position.
                if partial && (held.0.signum() != started.0.signum() || held.abs() > started.abs()) {
                    return Err(LedgerError::PositionMismatch { account, expected: Qty::ZERO, held });
                }
                if closed != started.checked_sub(held)? {
                    return Err(LedgerError::PositionMismatch { account, expected: started, held: closed });
                }
                non_negative("liquidation fee", fee)?;
                // A full liquidation hands the whole remaining margin to the fund (a gain, or a
                // loss the fund pays); a partial one only its fee, and the account keeps the rest.
                let expected = if partial { fee } else { a.position.margin };
                let margin_left = if partial { a.position.margin.checked_sub(fee)? } else { Money::ZERO };
                if insurance_delta != expected
                    || fee > insurance_delta.max(Money::ZERO)
                    || margin_left.is_negative()
                {
                    return Err(LedgerError::LiquidationAmount {
                        account,
                        margin: a.position.margin,
                        delta: insurance_delta,
                    });
                }
                // The fund pays what it can; the venue absorbs the rest.
                let fund = self.insurance.checked_add(insurance_delta)?;
                let shortfall =
                    if fund.is_negative() { self.shortfall.checked_sub(fund)? } else { self.shortfall };
                a.position.margin = margin_left;
                a.liquidating = None;
                self.accounts[account.0 as usize] = a;
                self.insurance = fund.max(Money::ZERO);
                self.shortfall = shortfall;
            }
            Event::TickClosed { tick } => {
                if tick < self.tick {
                    return Err(LedgerError::TickBackwards { current: self.tick, got: tick });
                }
                if !self.funding_pool.is_zero() {
                    return Err(LedgerError::FundingPoolNotSettled(self.funding_pool));
                }
                self.tick = tick;
            }
        }
        Ok(())
    }

    fn get(&self, id: AccountId) -> Result<&Account> {
        // Not `ok_or`: that would build and drop the error on every lookup.
        match self.accounts.get(id.0 as usize) {
            Some(a) => Ok(a),
            None => Err(LedgerError::UnknownAccount(id)),
        }
    }

    /// A party to a fill, as an account: a trader's account, or the insurance fund (its cash as
    /// the balance, its taken-over position, no margin).
    fn party(&self, id: AccountId) -> Result<Account> {
        if id == AccountId::INSURANCE_FUND {
            return Ok(Account {
                balance: self.insurance,
                leverage: 1,
                mode: MarginMode::Isolated,
                position: self.fund_position,
                liquidating: None,
            });
        }
        self.get(id).copied()
    }

    /// Writes a party back. A fund whose cash went below zero is refilled by the venue (the
    /// shortfall).
    fn put(&mut self, id: AccountId, a: Account) -> Result<()> {
        if id == AccountId::INSURANCE_FUND {
            if a.balance.is_negative() {
                self.shortfall = self.shortfall.checked_sub(a.balance)?;
            }
            self.insurance = a.balance.max(Money::ZERO);
            self.fund_position = a.position;
        } else {
            self.accounts[id.0 as usize] = a;
        }
        Ok(())
    }

    /// Closes `qty` of a liquidated account's position at `price` against `to`: an opposite
    /// position that reduces by as much (auto-deleveraging), or the insurance fund, which takes
    /// it over.
    fn transfer(&mut self, account: AccountId, to: AccountId, qty: Qty, price: Price) -> Result<()> {
        if account == to {
            return Err(LedgerError::SelfTrade(account));
        }
        positive_qty(qty)?;
        positive_price(price)?;
        let mut a = *self.get(account)?;
        let mut c = self.party(to)?;
        if a.liquidating.is_none() {
            return Err(if to == AccountId::INSURANCE_FUND {
                LedgerError::NotATakeover(account)
            } else {
                LedgerError::NotInLiquidation(account)
            });
        }
        not_liquidating(to, &c)?;
        let side = if a.position.qty.is_positive() { Side::Sell } else { Side::Buy };
        if a.position.qty.abs() < qty {
            return Err(LedgerError::NotReducing(account));
        }
        let reduces = c.position.qty.0.signum() == side.sign() && c.position.qty.abs() >= qty;
        if to != AccountId::INSURANCE_FUND && !reduces {
            return Err(LedgerError::NotReducing(to));
        }
        let rules = self.rules();
        for (id, acct, s) in [(account, &mut a, side), (to, &mut c, side.opposite())] {
            Fill { qty, price, fee: Money::ZERO, margin_posted: None }.apply(&rules, id, acct, s)?;
        }
        self.commit_pair(account, a, to, c)
    }

    /// Writes back two changed parties and updates open interest.
    fn commit_pair(&mut self, a_id: AccountId, a: Account, b_id: AccountId, b: Account) -> Result<()> {
        let old = [self.party(a_id)?.position.qty, self.party(b_id)?.position.qty];
        let (mut long, mut short) = (self.long_oi, self.short_oi);
        for (before, after) in old.into_iter().zip([a.position.qty, b.position.qty]) {
            long = long.checked_sub(Qty(before.0.max(0)))?.checked_add(Qty(after.0.max(0)))?;
            short = short.checked_sub(Qty((-before.0).max(0)))?.checked_add(Qty((-after.0).max(0)))?;
        }
        self.put(a_id, a)?;
        self.put(b_id, b)?;
        self.long_oi = long;
        self.short_oi = short;
        Ok(())
    }

    /// Would one side of a fill (`side` for `account`, at `price`, paying `fee`) apply? The same
    /// rules as [`Ledger::apply`], on a copy of the one account; nothing changes.
    /// Returns the margin the fill would move from the free balance into the position (negative:
    /// released), as a `Traded` event must state it.
    pub fn preview_fill(
        &self,
        account: AccountId,
        side: Side,
        qty: Qty,
        price: Price,
        fee: Money,
    ) -> Result<Money> {
        let mut a = self.party(account)?;
        Fill { qty, price, fee, margin_posted: None }.apply(&self.rules(), account, &mut a, side)
    }

    /// The leverage new exposure is margined at: the account's own, capped by the maximum the
    /// tier of the position's resulting notional allows.
    pub fn opening_leverage(&self, account: &Account, resulting_notional: Money) -> u32 {
        capped_leverage(&self.tiers, account.leverage, resulting_notional)
    }

    fn rules(&self) -> Rules<'_> {
        Rules { inst: &self.instrument, tiers: &self.tiers }
    }

    /// A stable blake3 hash of the whole state, as 64 hex digits.
    pub fn state_hash(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(b"liqsim-ledger-v1");
        self.hash_into(&mut h);
        h.finalize().to_hex().to_string()
    }

    /// Feeds every account, pool, price and counter into `h`, in a fixed order (the ledger's
    /// part of the exchange's state hash).
    pub fn hash_into(&self, h: &mut blake3::Hasher) {
        h.update(&self.instrument.tick_micros().to_le_bytes());
        h.update(&self.instrument.lot_sats().to_le_bytes());
        h.update(&(self.accounts.len() as u64).to_le_bytes());
        for a in &self.accounts {
            h.update(&a.balance.0.to_le_bytes());
            h.update(&a.leverage.to_le_bytes());
            h.update(&a.position.qty.0.to_le_bytes());
            h.update(&a.position.cost.0.to_le_bytes());
            h.update(&a.position.margin.0.to_le_bytes());
            // One byte for the liquidation state and the margin mode: 0/1 (not liquidating /
            // liquidating) for isolated accounts, as before modes existed, so their hashes are
            // unchanged; 2/3 for cross accounts.
            let cross = if a.mode == MarginMode::Cross { 2 } else { 0 };
            match a.liquidating {
                None => h.update(&[cross]),
                Some(q) => h.update(&[cross + 1]).update(&q.0.to_le_bytes()),
            };
        }
        for v in [
            self.insurance.0,
            self.fund_position.qty.0,
            self.fund_position.cost.0,
            self.fees.0,
            self.funding_pool.0,
            self.long_oi.0,
            self.short_oi.0,
        ] {
            h.update(&v.to_le_bytes());
        }
        h.update(&self.deposits.to_le_bytes());
        for v in [self.index.0, self.mark.0, self.last.0, self.funding_rate.0] {
            h.update(&v.to_le_bytes());
        }
        h.update(&self.tick.to_le_bytes());
        // Appended only when there is one, so the hash of every state without a shortfall
        // (all states before it existed) is unchanged.
        if !self.shortfall.is_zero() {
            h.update(b"shortfall").update(&self.shortfall.0.to_le_bytes());
        }
    }
}

/// What sizes margin: the contract and the tier table.
struct Rules<'a> {
    inst: &'a Instrument,
    tiers: &'a TierTable,
}

/// `leverage`, capped by the tier of `notional` (a position may never be margined above its
/// tier's maximum leverage).
fn capped_leverage(tiers: &TierTable, leverage: u32, notional: Money) -> u32 {
    leverage.min(tiers.max_leverage_for(notional.abs()))
}

/// One side of a fill applied to one account's copy.
struct Fill {
    qty: Qty,
    price: Price,
    fee: Money,
    /// Margin for new exposure: `None` sizes it from the account's leverage (capped by the
    /// tier); `Some` means the caller posted it already (seeding).
    margin_posted: Option<Money>,
}

impl Fill {
    /// Applies the fill; returns the margin moved from the free balance into the position
    /// (negative: released to the balance).
    fn apply(&self, rules: &Rules<'_>, id: AccountId, a: &mut Account, side: Side) -> Result<Money> {
        let inst = rules.inst;
        let fund = id == AccountId::INSURANCE_FUND;
        let held = a.position.qty;
        let mut left = self.qty.0;
        let mut moved = Money::ZERO;
        if held.0 != 0 && held.0.signum() != side.sign() {
            let closing = left.min(held.0.abs());
            moved = if fund {
                close_fund(inst, a, Qty(closing), self.price)?
            } else {
                close(inst, id, a, Qty(closing), self.price)?
            };
            left -= closing;
        }
        if left > 0 {
            if a.liquidating.is_some() {
                return Err(LedgerError::NotReducing(id));
            }
            let notional = inst.notional(self.price, Qty(side.sign() * left))?;
            let qty_after = a.position.qty.checked_add(Qty(side.sign() * left))?;
            if self.margin_posted.is_none() && !fund {
                // The engine checks margin when an order is submitted; a fill itself is never
                // refused for margin (the book has already matched it). If the free balance has
                // shrunk since, the position is simply more levered and liquidation deals with it.
                let resulting = inst.notional(self.price, qty_after.abs())?;
                let leverage = capped_leverage(rules.tiers, a.leverage, resulting);
                let needed = margin::initial_margin(inst, Qty(left), self.price, leverage)?;
                let posted = needed.min(a.balance.max(Money::ZERO));
                take_balance(id, a, posted)?;
                a.position.margin = a.position.margin.checked_add(posted)?;
                moved = moved.checked_add(posted)?;
            }
            a.position.cost = a.position.cost.checked_add(notional)?;
            a.position.qty = qty_after;
        }
        if fund {
            // The fund pays from its cash, which may go below zero (the venue's shortfall).
            a.balance = a.balance.checked_sub(self.fee)?;
        } else {
            pay_fee(id, a, self.fee)?;
        }
        Ok(moved)
    }
}

/// The fund closes part of its position: the cost leaves pro rata and the realised PnL goes
/// straight to its cash (it posts no margin). Moves no margin.
fn close_fund(inst: &Instrument, a: &mut Account, qty: Qty, price: Price) -> Result<Money> {
    let held = a.position.qty;
    let sign = held.0.signum();
    let cost_removed = (a.position.cost.0 as i128 * qty.0 as i128 / held.0.abs() as i128) as i64;
    let value = inst.notional(price, Qty(sign * qty.0))?;
    a.balance = a.balance.checked_add(value.checked_sub(Money(cost_removed))?)?;
    a.position.cost = a.position.cost.checked_sub(Money(cost_removed))?;
    a.position.qty = Qty(held.0 - sign * qty.0);
    Ok(Money::ZERO)
}

/// Closes `qty` lots of the position at `price`: realised PnL goes into the margin, and outside a
/// liquidation the margin freed by the smaller position returns to the free balance.
fn close(inst: &Instrument, id: AccountId, a: &mut Account, qty: Qty, price: Price) -> Result<Money> {
    let held = a.position.qty;
    let sign = held.0.signum();
    // Truncation toward zero; the same integer leaves the cost and enters the PnL, so it is exact.
    let cost_removed = (a.position.cost.0 as i128 * qty.0 as i128 / held.0.abs() as i128) as i64;
    let value = inst.notional(price, Qty(sign * qty.0))?;
    let realised = value.checked_sub(Money(cost_removed))?;
    let margin = a.position.margin.checked_add(realised)?;
    a.position.cost = a.position.cost.checked_sub(Money(cost_removed))?;
    a.position.qty = Qty(held.0 - sign * qty.0);
    if a.liquidating.is_some() {
        // The liquidation settles the whole margin with the insurance fund at the end.
        a.position.margin = margin;
        return Ok(Money::ZERO);
    }
    let released = if a.position.qty.is_zero() {
        margin
    } else if margin.is_positive() {
        Money((margin.0 as i128 * qty.0 as i128 / held.0.abs() as i128) as i64)
    } else {
        Money::ZERO
    };
    a.position.margin = margin.checked_sub(released)?;
    a.balance = a.balance.checked_add(released)?;
    let mut moved = Money::ZERO.checked_sub(released)?;
    if a.position.margin.is_negative() {
        // A voluntary close beyond bankruptcy: the free balance covers it, or it is refused.
        let short = -a.position.margin;
        take_balance(id, a, short).map_err(|_| LedgerError::Overdraft(id))?;
        a.position.margin = Money::ZERO;
        moved = moved.checked_add(short)?;
    }
    if a.balance.is_negative() {
        return Err(LedgerError::Overdraft(id));
    }
    Ok(moved)
}

/// Fees come from the free balance, then from the margin; outside a liquidation neither may go
/// below zero.
fn pay_fee(id: AccountId, a: &mut Account, fee: Money) -> Result<()> {
    let from_balance = fee.min(a.balance.max(Money::ZERO));
    a.balance = a.balance.checked_sub(from_balance)?;
    let rest = fee.checked_sub(from_balance)?;
    a.position.margin = a.position.margin.checked_sub(rest)?;
    if a.position.margin.is_negative() && a.liquidating.is_none() {
        return Err(LedgerError::Overdraft(id));
    }
    Ok(())
}

fn take_balance(id: AccountId, a: &mut Account, amount: Money) -> Result<()> {
    if a.balance < amount {
        return Err(LedgerError::InsufficientFunds { account: id, needed: amount, available: a.balance });
    }
    a.balance = a.balance.checked_sub(amount)?;
    Ok(())
}

fn not_liquidating(id: AccountId, a: &Account) -> Result<()> {
    match a.liquidating {
        Some(_) => Err(LedgerError::InLiquidation(id)),
        None => Ok(()),
    }
}

fn check_leverage(leverage: u32) -> Result<()> {
    if (1..=MAX_LEVERAGE).contains(&leverage) { Ok(()) } else { Err(LedgerError::BadLeverage(leverage)) }
}

fn non_negative(what: &'static str, m: Money) -> Result<()> {
    if m.is_negative() { Err(LedgerError::Negative { what, value: m.0 }) } else { Ok(()) }
}

fn positive_qty(q: Qty) -> Result<()> {
    if q.is_positive() { Ok(()) } else { Err(LedgerError::NotPositive { what: "quantity", value: q.0 }) }
}

fn positive_price(p: Price) -> Result<()> {
    if p.is_positive() { Ok(()) } else { Err(LedgerError::NotPositive { what: "price", value: p.0 }) }
}

#[cfg(test)]
mod tests;
