#!/usr/bin/env python3
"""Audit a liqsim run from its exported events alone.

    liqsim events export out/run/events.log --format jsonl > events.jsonl
    python3 tools/audit.py events.jsonl out/run/summary.json

An independent re-implementation of the venue's bookkeeping, written from the published
formulas (docs/audit.md), not from liqsim's Rust code. It reads the log header (the first JSON
line: contract, fees, tier table, funding parameters) and folds every event into its own
accounts, then checks, exactly, in integers:

- every fee: maker and taker fees of each trade, the clearance fee of each liquidation;
- the margin each fill states it moved (initial margin at the tier-capped leverage, release on
  close);
- every insurance-fund takeover and the fund's own trades (it posts no margin; its PnL and fees
  go to its cash);
- every liquidation trigger: the position, maintenance margin and equity at the trigger's mark,
  the liquidation price (the tick where equity meets maintenance) and the bankruptcy price, and
  that the mark had reached the liquidation price;
- every funding premium sample (the premium index from the logged impact bid, impact ask and
  index; one sample per 5 seconds of simulated time), every funding rate (the weighted average
  of the interval's samples, then the clamp formula) and every funding payment (notional at the
  mark times the rate, payers capped at what backs their position, receivers pro rata);
- both margin modes: an isolated position is backed by its margin, a cross position by the
  account's whole wallet (free balance + margin) in its equity, its bankruptcy price, its
  funding, and its liquidation (which takes the free balance too);
- every stop order: placed in front of its price, triggered only once the price it watches
  (the last trade's, or the mark) has reached it and no stop of its queue is first in line
  before it (nearest trigger, then earliest), followed at once by its market order, cancelled
  on a liquidation only while its owner is being liquidated; stops move no money;
- every ordinary market order's protection price (the mark of the moment moved by the venue's
  band, toward the mark, at least one tick), and that none of its fills went beyond it;
- at the end, the insurance fund, liquidation counts and notionals, ADL count, stops triggered,
  event count and the funding rate accrued (what the open interval's samples give) against
  summary.json.

Exit status 0 when everything agrees; 1 with the first disagreements listed otherwise.
"""

import json
import sys
from decimal import Decimal

RATE = 10**8  # rates are exact to 1e-8
MICRO = 10**6  # money in micro-USD
FUND = 2**32 - 1  # the insurance fund's account id when it trades
SAMPLE_SECS = 5  # Binance samples the premium index every 5 seconds


def ceil_div(a, b):
    return -((-a) // b)


def trunc_div(a, b):
    """Integer division rounding toward zero (as Rust's i128 `/`)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


class Audit:
    def __init__(self, header):
        self.h = header
        self.tick = int(dec(header["tick_size"]) * MICRO)  # micro-USD per tick
        self.lot_sats = int(dec(header["lot_size"]) * 10**8)
        # Micro-USD of one lot moving one tick: tick µUSD × lot in BTC.
        self.v = self.tick * self.lot_sats // 10**8
        self.maker = rate(header["maker_fee"])
        self.taker = rate(header["taker_fee"])
        self.liq_fee = rate(header["liquidation_fee"])
        self.interest = rate(header["funding_interest_8h"])
        self.clamp = rate(header["funding_clamp"])
        self.cap = rate(header["funding_cap"]) if header["funding_cap"] is not None else None
        self.interval_secs = header["funding_interval_secs"]
        self.interval_hours = max(1, min(24, self.interval_secs // 3600))
        self.tick_secs = header["tick_secs"]
        self.tiers = [
            (money(t["notional_cap"]), t["max_leverage"], rate(t["mmr"]), money(t["cum"])) for t in header["tiers"]
        ]
        self.accounts = []  # [balance, leverage, qty, cost, margin, liquidating, cross]
        self.insurance = 0
        self.fund = [0, 0]  # the position the fund took over: qty, cost
        self.shortfall = 0
        self.checks = {}
        self.errors = []
        self.expected_funding = None
        self.premium = [0, 0]  # the interval's premium samples: count, sum of weight × premium
        self.last_rate = 0  # the last funding rate fixed
        self.liquidated = {"long": [0, 0, set()], "short": [0, 0, set()]}  # triggers, notional µUSD, accounts
        self.adl = 0
        self.events = 0
        # The prices stops watch, in ticks: the start price until a trade and a mark update.
        self.last = self.mark = self.ticks(header["start_price"])
        self.stops = {}  # id -> (account, side, kind, source, trigger, qty, reduce_only)
        self.next_stop = 0
        self.stop_order_due = None  # (trigger seq, stop) whose market order must come next
        self.stops_triggered = 0
        # Market-order price protection: an ordinary market order's price is the mark moved by
        # the band (toward the mark, at least one tick), and none of its fills is beyond it.
        self.band = rate(header["market_price_band"])
        self.protected = {}  # the market order being matched: id -> (side, protection price)
        self.protected_orders = 0

    # --- units ---
    def ticks(self, usd):
        return int(dec(usd) * MICRO) // self.tick

    def lots(self, btc):
        return int(dec(btc) * 10**8) // self.lot_sats

    def notional(self, price, qty):
        return price * qty * self.v

    def tier(self, notional):
        n = abs(notional)
        for t in self.tiers:
            if n <= t[0]:
                return t
        return self.tiers[-1]

    def maintenance(self, qty, mark):
        if qty == 0:
            return 0
        n = abs(self.notional(mark, qty))
        _, _, mmr, cum = self.tier(n)
        return ceil_div(n * mmr - cum * RATE, RATE)

    @staticmethod
    def wallet(a):
        """What backs the position: the margin (isolated), or the free balance too (cross)."""
        return a[4] + (a[0] if a[6] else 0)

    def equity(self, a, price):
        return self.wallet(a) + self.notional(price, a[2]) - a[3]

    # --- bookkeeping ---
    def ok(self, what, cond, detail):
        self.checks[what] = self.checks.get(what, 0) + 1
        if not cond and len(self.errors) < 20:
            self.errors.append(f"event {self.seq}: {what}: {detail}")

    def fill(self, a, side, qty, price, fee):
        """One side of a fill; returns the margin moved from the free balance (negative: released)."""
        moved = 0
        held = a[2]
        left = qty
        if held != 0 and (held > 0) != (side > 0):
            closing = min(left, abs(held))
            sign = 1 if held > 0 else -1
            cost_removed = trunc_div(a[3] * closing, abs(held))
            realised = self.notional(price, sign * closing) - cost_removed
            margin = a[4] + realised
            a[3] -= cost_removed
            a[2] = held - sign * closing
            if a[5]:
                a[4] = margin
            else:
                if a[2] == 0:
                    released = margin
                elif margin > 0:
                    released = margin * closing // abs(held)
                else:
                    released = 0
                a[4] = margin - released
                a[0] += released
                moved -= released
                if a[4] < 0:
                    a[0] += a[4]
                    moved -= a[4]
                    a[4] = 0
            left -= closing
        if left > 0:
            after = a[2] + side * left
            leverage = min(a[1], self.tier(self.notional(price, abs(after)))[1])
            posted = min(ceil_div(abs(self.notional(price, left)), leverage), max(a[0], 0))
            a[0] -= posted
            a[4] += posted
            moved += posted
            a[3] += self.notional(price, side * left)
            a[2] = after
        from_balance = min(fee, max(a[0], 0))
        a[0] -= from_balance
        a[4] -= fee - from_balance
        return moved

    def apply(self, e):
        k = e["type"]
        self.seq = e["seq"]
        self.events += 1
        if self.expected_funding is not None and k != "FundingPaid":
            self.close_funding()
        if self.stop_order_due is not None:
            self.stop_order(e)
        acct = lambda key="account": self.accounts[e[key]]  # noqa: E731
        if k == "AccountOpened":
            self.ok("account ids in order", e["account"] == len(self.accounts), e)
            cross = e["margin_mode"] == "cross"
            self.accounts.append([money(e["deposit"]), e["leverage"], 0, 0, 0, False, cross])
        elif k == "Deposited":
            acct()[0] += money(e["amount"])
        elif k == "MarginAdded":
            a, m = acct(), money(e["amount"])
            a[0] -= m
            a[4] += m
        elif k == "PositionSeeded":
            q, p = self.lots(e["qty"]), self.ticks(e["price"])
            for key, side, m in (("long", 1, e["long_margin"]), ("short", -1, e["short_margin"])):
                a = self.accounts[e[key]]
                a[0] -= money(m)
                a[4] += money(m)
                a[2] += side * q
                a[3] += self.notional(p, side * q)
        elif k == "OrderPlaced":
            self.order_placed(e)
        elif k == "Traded":
            self.traded(e)
            self.last = self.ticks(e["price"])
        elif k == "MarkUpdated":
            if "samples" in e:
                self.premium_sample(e)
            self.mark, self.last = self.ticks(e["mark"]), self.ticks(e["last"])
        elif k == "StopPlaced":
            self.stop_placed(e)
        elif k == "StopCancelled":
            self.stop_cancelled(e)
        elif k == "StopTriggered":
            self.stop_triggered(e)
        elif k == "FundingRateSet":
            self.funding_set(e)
        elif k == "FundingPaid":
            self.funding_paid(e)
        elif k == "InsuranceFundChanged":
            self.insurance += money(e["delta"])
        elif k == "LiquidationTriggered":
            self.triggered(e)
        elif k == "InsuranceTakeover":
            a = acct()
            q, p = self.lots(e["qty"]), self.ticks(e["price"])
            side = -1 if a[2] > 0 else 1
            self.fill(a, side, q, p, 0)
            self.fund_fill(-side, q, p, 0)
        elif k == "AutoDeleveraged":
            self.adl += 1
            a, c = acct(), acct("counterparty")
            q, p = self.lots(e["qty"]), self.ticks(e["price"])
            side = -1 if a[2] > 0 else 1
            self.fill(a, side, q, p, 0)
            self.fill(c, -side, q, p, 0)
        elif k == "Liquidated":
            self.liquidated_(e)

    # --- stops ---
    def stop_of(self, e):
        return (
            e["account"],
            e["side"],
            e["stop_kind"],
            e["trigger_source"],
            self.ticks(e["trigger"]),
            self.lots(e["qty"]),
            e["reduce_only"],
        )

    @staticmethod
    def falling(stop):
        """Triggered at or below its trigger: a sell stop-market or a buy take-profit."""
        return (stop[1] == "sell") == (stop[2] == "stop_market")

    def reached(self, stop):
        price = self.last if stop[3] == "last" else self.mark
        return price <= stop[4] if self.falling(stop) else price >= stop[4]

    def stop_placed(self, e):
        stop = self.stop_of(e)
        self.ok("stop ids in order", e["stop"] == self.next_stop, (e["stop"], self.next_stop))
        self.next_stop += 1
        self.ok("stop placed in front of its price", not self.reached(stop), (stop, self.last, self.mark))
        self.stops[e["stop"]] = stop

    def stop_cancelled(self, e):
        stop = self.stops.pop(e["stop"], None)
        self.ok("stop cancelled was pending", stop is not None and stop[0] == e["account"], e)
        liquidating = self.accounts[e["account"]][5]
        self.ok("stop cancelled by a liquidation only during one", (e["reason"] == "liquidation") == liquidating, e)

    def stop_triggered(self, e):
        stop = self.stop_of(e)
        held = self.stops.pop(e["stop"], None)
        self.ok("stop triggered as placed", held == stop, (held, stop))
        price = self.ticks(e["price"])
        watched = self.last if stop[3] == "last" else self.mark
        self.ok("stop trigger price is the price it watches", price == watched, (price, watched))
        self.ok("stop triggered once its price reached it", self.reached(stop), (stop, watched))
        # First in line: no pending stop of its queue (same price, same way) nearer the price,
        # nor as near and placed earlier.
        sign = -1 if self.falling(stop) else 1
        key = (sign * stop[4], e["stop"])
        ahead = [
            i
            for i, s in self.stops.items()
            if s[3] == stop[3] and self.falling(s) == self.falling(stop) and (sign * s[4], i) < key
        ]
        self.ok("stops trigger in price-time order", not ahead, (e["stop"], ahead[:3]))
        self.stops_triggered += 1
        self.stop_order_due = (e["seq"], stop)

    def stop_order(self, e):
        """The event after a trigger: the stop's market order, caused by it."""
        seq, stop = self.stop_order_due
        self.stop_order_due = None
        placed = e["type"] in ("OrderPlaced", "OrderRejected") and e.get("order_kind") == "market"
        same = placed and (e["account"], e["side"], e["reduce_only"]) == (stop[0], stop[1], stop[6])
        sized = same and (self.lots(e["qty"]) == stop[5] or (stop[6] and self.lots(e["qty"]) < stop[5]))
        self.ok("a triggered stop becomes its market order", sized and e["cause"] == seq, (e, stop))

    def fund_fill(self, side, qty, price, fee):
        """The fund's side of a fill: no margin; realised PnL and fees straight to its cash."""
        held, cost = self.fund
        left = qty
        if held != 0 and (held > 0) != (side > 0):
            closing = min(left, abs(held))
            sign = 1 if held > 0 else -1
            cost_removed = trunc_div(cost * closing, abs(held))
            self.insurance += self.notional(price, sign * closing) - cost_removed
            cost -= cost_removed
            held -= sign * closing
            left -= closing
        if left > 0:
            cost += self.notional(price, side * left)
            held += side * left
        self.fund = [held, cost]
        self.insurance -= fee
        if self.insurance < 0:
            self.shortfall -= self.insurance
            self.insurance = 0

    def order_placed(self, e):
        self.protected.clear()
        if e["order_kind"] != "market" or e["liquidation"]:
            return
        price = self.ticks(e["price"])
        if self.band == 0:
            self.ok("an unprotected market order has no price", price == 0, e)
            return
        move = self.mark * self.band // RATE
        want = self.mark + move if e["side"] == "buy" else max(1, self.mark - move)
        self.ok("a market order's protection price is the mark moved by the band", price == want, (e, self.mark))
        self.protected[e["order"]] = (e["side"], price)
        self.protected_orders += 1

    def traded(self, e):
        p, q = self.ticks(e["price"]), self.lots(e["qty"])
        if e["taker_order"] in self.protected:
            side, limit = self.protected[e["taker_order"]]
            within = p <= limit if side == "buy" else p >= limit
            self.ok("a market order fills within its protection price", within, (e, limit))
        n = self.notional(p, q)
        maker_fee, taker_fee = money(e["maker_fee"]), money(e["taker_fee"])
        self.ok("maker fee", maker_fee == ceil_div(n * self.maker, RATE), (maker_fee, n))
        want_taker = 0 if e["liquidation"] else ceil_div(n * self.taker, RATE)
        self.ok("taker fee", taker_fee == want_taker, (taker_fee, want_taker))
        side = 1 if e["side"] == "buy" else -1
        for who, s, fee, stated in (
            ("maker", -side, maker_fee, e["maker_margin"]),
            ("taker", side, taker_fee, e["taker_margin"]),
        ):
            if e[who] == FUND:
                self.fund_fill(s, q, p, fee)
                moved = 0
            else:
                moved = self.fill(self.accounts[e[who]], s, q, p, fee)
            self.ok("margin a fill moved", moved == money(stated), (who, moved, stated))

    def triggered(self, e):
        a = self.accounts[e["account"]]
        mark = self.ticks(e["mark"])
        q = self.lots(e["position"])
        self.ok("trigger position", q == a[2], (q, a[2]))
        mm, eq = self.maintenance(a[2], mark), self.equity(a, mark)
        self.ok("trigger maintenance margin", money(e["maintenance"]) == mm, (e["maintenance"], mm))
        self.ok("trigger equity", money(e["equity"]) == eq, (e["equity"], eq))
        lp = self.ticks(e["liquidation_price"])
        long = a[2] > 0
        if e["reason"] == "maintenance":
            # The mark reached the liquidation price ...
            self.ok("mark reached the liquidation price", mark <= lp if long else mark >= lp, (mark, lp))
            # ... which is the first whole tick at which equity meets maintenance, rounded
            # against the trader (up for a long, down for a short).
            beyond = lp - 1 if long else lp + 1
            at = self.equity(a, lp) - self.maintenance(a[2], lp)
            past = self.equity(a, beyond) - self.maintenance(a[2], beyond) if beyond > 0 else -1
            self.ok("liquidation price", at >= 0 and past < 0, (lp, at, past))
        num, den = a[3] - max(self.wallet(a), 0), a[2] * self.v
        want_bp = max(1, ceil_div(num, den)) if long else num // den
        self.ok("bankruptcy price", self.ticks(e["bankruptcy_price"]) == want_bp, (e["bankruptcy_price"], want_bp))
        side = "long" if long else "short"
        self.liquidated[side][0] += 1
        self.liquidated[side][2].add(e["account"])
        a[5] = True
        if a[6]:
            # The whole wallet backs a cross position: its free balance joins the margin.
            a[4] += a[0]
            a[0] = 0

    def liquidated_(self, e):
        a = self.accounts[e["account"]]
        closed, mark = self.lots(e["closed"]), self.ticks(e["price"])
        fee = money(e["fee"])
        want = min(ceil_div(abs(self.notional(mark, closed)) * self.liq_fee, RATE), max(a[4], 0))
        self.ok("clearance fee", fee == want, (fee, want))
        self.ok("partial flag", e["partial"] == (a[2] != 0), (e["partial"], a[2]))
        side = "long" if closed > 0 else "short"
        self.liquidated[side][1] += abs(self.notional(mark, closed))
        delta = money(e["insurance_delta"])
        if e["partial"]:
            self.ok("partial liquidation pays its fee", delta == fee, (delta, fee))
            a[4] -= fee
        else:
            self.ok("full liquidation hands over the margin", delta == a[4], (delta, a[4]))
            a[4] = 0
        fund = self.insurance + delta
        if fund < 0:
            self.shortfall -= fund
            fund = 0
        self.insurance = fund
        a[5] = False

    def premium_sample(self, e):
        """A tick's premium samples: the premium index of the logged impact prices, one sample
        per 5-second time in the tick, weighted by their place in the interval."""
        index, bid, ask = self.ticks(e["index"]), self.ticks(e["impact_bid"]), self.ticks(e["impact_ask"])
        p = trunc_div((max(0, bid - index) - max(0, index - ask)) * RATE, index)
        self.ok("premium index", rate(e["premium"]) == p, (e["premium"], p))
        c = e["samples"]
        t = e["tick"] * self.tick_secs
        want = t // SAMPLE_SECS - (t - self.tick_secs) // SAMPLE_SECS
        self.ok("a premium sample every 5 seconds", c == want, (e["tick"], c, want))
        n, total = self.premium
        # weights n+1 .. n+c
        self.premium = [n + c, total + p * (c * n + c * (c + 1) // 2)]

    def funding_rate(self, premium):
        """The clamp formula for an N-hour interval, truncated to 1e-8, then capped."""
        f8 = premium + max(-self.clamp, min(self.clamp, self.interest - premium))
        want = trunc_div(f8 * self.interval_hours, 8)
        if self.cap is not None:
            want = max(-self.cap, min(self.cap, want))
        return want

    def funding_rate_accrued(self):
        """What the interval's samples so far give; with none yet, the last rate fixed (0 before any)."""
        n, total = self.premium
        if n == 0:
            return self.last_rate
        return self.funding_rate(trunc_div(total, n * (n + 1) // 2))

    def funding_set(self, e):
        n, total = self.premium
        average = trunc_div(total, n * (n + 1) // 2) if n else 0
        full = self.interval_secs // SAMPLE_SECS
        self.ok("premium samples of the interval", e["samples"] == n == full, (e["samples"], n, full))
        self.ok("weighted premium average", rate(e["premium"]) == average, (e["premium"], average))
        self.premium = [0, 0]
        premium, r = rate(e["premium"]), rate(e["rate"])
        want = self.funding_rate(premium)
        self.ok("funding rate", r == want, (r, want))
        self.last_rate = r
        mark = self.ticks(e["mark"])
        payers, receivers = {}, {}
        for i, a in enumerate(self.accounts):
            if a[2] == 0 or a[5]:
                continue
            amount = (-self.notional(mark, a[2]) * r) // RATE
            if amount < 0:
                capped = max(amount, -max(self.wallet(a), 0))
                if capped != 0:
                    payers[i] = capped
            elif amount > 0:
                receivers[i] = amount
        collected = -sum(payers.values())
        owed = sum(receivers.values())
        expected = dict(payers)
        for i, amount in receivers.items():
            paid = amount if owed <= collected else amount * collected // owed
            if paid > 0:
                expected[i] = paid
        self.expected_funding = (expected, {}) if r != 0 else None

    def funding_paid(self, e):
        a, m = self.accounts[e["account"]], money(e["amount"])
        if self.expected_funding is not None:
            self.expected_funding[1][e["account"]] = m
        if not a[6]:
            a[4] += m
        elif m > 0:
            a[0] += m  # a cross position's funding is received into the wallet's free balance ...
        else:
            from_balance = min(-m, max(a[0], 0))  # ... and paid from it first, then from the margin
            a[0] -= from_balance
            a[4] -= -m - from_balance

    def close_funding(self):
        expected, paid = self.expected_funding
        self.ok("funding payments", expected == paid, f"{len(expected)} expected, {len(paid)} paid")
        self.expected_funding = None

    def finish(self, summary):
        if self.expected_funding is not None:
            self.close_funding()
        usd = lambda x: Decimal(x) / MICRO  # noqa: E731
        # summary.json holds USD as JSON numbers (doubles): equal to the micro-USD up to a
        # double's precision.
        close = lambda a, b: abs(Decimal(str(a)) - b) <= Decimal("0.000001") + abs(b) * Decimal("1e-15")  # noqa: E731
        self.ok("insurance fund", close(summary["insurance_fund_final"], usd(self.insurance)), self.insurance)
        self.ok("shortfall", close(summary.get("insurance_shortfall", 0), usd(self.shortfall)), self.shortfall)
        for side in ("long", "short"):
            n, notional, accounts = self.liquidated[side]
            self.ok(f"{side} accounts liquidated", summary[f"liquidated_accounts_{side}"] == len(accounts), accounts)
            if f"liquidations_{side}" in summary:
                self.ok(f"{side} liquidations", summary[f"liquidations_{side}"] == n, n)
            self.ok(f"{side} notional", close(summary[f"liquidated_notional_{side}"], usd(notional)), notional)
        self.ok("ADL count", summary["adl_count"] == self.adl, self.adl)
        if "stops_triggered" in summary:
            self.ok("stops triggered", summary["stops_triggered"] == self.stops_triggered, self.stops_triggered)
        if "funding_rate_accrued" in summary:
            accrued = self.funding_rate_accrued()
            stated = dec(summary["funding_rate_accrued"]) * RATE
            self.ok("funding rate accrued", abs(stated - accrued) < Decimal("0.000001"), (stated, accrued))
        self.ok("event count", summary["events"] == self.events, self.events)
        self.ok("seed", summary["seed"] == self.h["seed"], self.h["seed"])
        self.ok("scenario hash", summary["scenario_hash"] == self.h["scenario_hash"], self.h["scenario_hash"])


def dec(x):
    return x if isinstance(x, Decimal) else Decimal(str(x))


def rate(x):
    return int(dec(x) * RATE)


def money(x):
    return int(dec(x) * MICRO)


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    events, summary = argv[1], argv[2]
    with open(summary) as f:
        summary = json.load(f)
    with open(events) as f:
        first = json.loads(f.readline(), parse_float=Decimal)
        if first.get("type") != "LogHeader":
            print(f"{events}: the first line is not a LogHeader (export with --format jsonl)", file=sys.stderr)
            return 2
        audit = Audit(first)
        for line in f:
            audit.apply(json.loads(line, parse_float=Decimal))
    audit.finish(summary)
    for what, n in sorted(audit.checks.items()):
        print(f"{n:>10}  {what}")
    if audit.errors:
        print("DISAGREES:", file=sys.stderr)
        for err in audit.errors:
            print("  " + err, file=sys.stderr)
        return 1
    print(f"agrees: {audit.events} events, {sum(audit.checks.values())} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
