"""A stateful test of the ledger (the reliability promises #2-4: balances, budgets, lots).

A Hypothesis `RuleBasedStateMachine` drives a streaming `Session` of one of two
fixed schemes and a plain model of what the schemes mean (semantics.md, The
ledger; Rules 3 and 10), written from this module's own description of each
scheme (`SchemeT`) and never from the engine's `Program`. Its steps move the
clock (minutes to days, and onto local midnights and Mondays, so that lots
expire and days and weeks turn over often), sometimes telling the session with
`advance_to` and sometimes leaving the next event to carry the time; restart
the session from a copy of its state; and feed earning events, penalties,
redemptions (some invalid), grants (from a few granters, some invalid) and
refunds (`reverse` blocks: of recent events, some twice, some by another member,
some of ids never seen, some after the points were spent or expired, some by a
list of ids; scheme A writes off what cannot be taken back, scheme B keeps it as
a debt), and returns of part of an event (`part amount of words`: the running
share of what it paid, rounded toward zero; repeated, never more than it paid)
for three members. Scheme A pays a host from the day's count of messages (`pay
"cy" per day by count`), at the day's close, within the scheme's budget. Each
scheme has an order rule whose points are held (`pending N days`):
the model holds them too, releases them at the end of the day N days on (before
the lots that expire at that instant), and a refund before the release cancels
them. Tips (`transfer` blocks, some sent twice at once, to oneself, to nobody,
to a member outside the three, of all the sender can give) move points from
the sender's soonest-expiring lots to a new lot of the receiver's, both records
or none, never leaving the sender below what the scheme says to keep. Claims
from a gift catalogue (known gifts, unknown ones, none, of the wrong type; some
asked again at once) spend a gift's price, and no gift's stock, the catalogue's
stock per day or its budget per week is ever passed.

After every step:

- #2: each member's balance equals the sum of their ledger records (award,
  rank, grant, redeem, expiry, reversal; each record's `balance` is the running
  sum), equals the sum of their lots less what they owe, and is never negative
  unless the scheme keeps debts (then a debt is owed only with no lots left);
- #4: the engine's lots equal the model's, which spends the soonest-expiring
  lots first; every lot expires when the scheme says it does, lots are kept in
  spending order, and no lot that expires at or before the time the session was
  told is left;
- #3: no budget is exceeded in any period, no cap, no granter's allowance, and
  no redemption limit (periods computed here with zoneinfo: the scheme's zone,
  weeks from Monday; a reversal gives back what its event counted, and so do
  the tallies here; it never takes back more than the event paid);
- a refused redemption changes no lot and no balance; a paid one takes exactly
  its points, from the soonest-expiring lots; the same redemption asked up to four
  times at once (a double POST, sequentially: not #9's concurrency) never
  overdraws; a penalty takes what the balance has and records the rest as a cut;
- the records of every step, with their times, are the ones the model predicts,
  and every record is dated in the scheme's local time.

200 runs of up to 50 steps take about 15 s; `--hypothesis-show-statistics`
lists how many runs saw each kind of outcome (expiries, budget cuts, refusals).
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import incentive
from incentive.engine import Session
from incentive.records import Record

CURRENCY = "coins"
MEMBERS = ("ana", "bo", "cy")
GRANTERS = ("wang", "li", "leader")
LEDGER_KINDS = ("award", "rank", "grant", "redeem", "expiry", "reversal", "release", "transfer")
NEVER = datetime.max.replace(tzinfo=UTC)

Period = tuple[int, str]  # (points or count, "day" | "week" | "season")


# ---- the schemes, described independently of the engine ------------------------------------


@dataclass(frozen=True)
class RuleT:
    name: str
    on: str
    award: int | None = None  # fixed points (negative: a penalty); None: `words / 10`
    limit: Period | None = None
    cap: Period | None = None
    group: str | None = None
    budget: Period | None = None
    top: tuple[int, tuple[int, ...]] | None = None  # top N per day by earliest, amounts
    pending: int | None = None  # `pending N days`: held until the end of day + N
    pays: str | None = None  # `pay "X" per day by count  award count * AWARD`

    def text(self) -> str:
        lines = [f"on {self.on}"]
        if self.pays is not None:
            lines += [f'pay "{self.pays}" per day by count', f"award count * {self.award}"]
        elif self.top is not None:
            count, amounts = self.top
            lines += [f"top {count} per day by earliest", "award " + ", ".join(map(str, amounts))]
        else:
            lines.append(f"award {'words / 10' if self.award is None else self.award}")
        if self.limit is not None:
            lines.append(f"limit {self.limit[0]} per {self.limit[1]}")
        if self.cap is not None:
            lines.append(f"cap {self.cap[0]} per {self.cap[1]}")
        if self.group is not None:
            lines.append(f"group {self.group}")
        if self.budget is not None:
            lines.append(f"budget {self.budget[0]} per {self.budget[1]}")
        if self.pending is not None:
            lines.append(f"pending {self.pending} days")
        return f"  rule {self.name} {{\n" + "".join(f"    {line}\n" for line in lines) + "  }\n"


@dataclass(frozen=True)
class GroupT:
    name: str
    cap: Period | None = None
    budget: Period | None = None


@dataclass(frozen=True)
class TransferT:
    """`transfer tips { on tip  to receiver  amount points  limit ...  receive ...  keep N }`"""

    limit: Period  # transfers per sender
    receive: Period  # points per receiver
    keep: int  # the balance a sender keeps


@dataclass(frozen=True)
class GiftT:
    price: int
    stock: int
    stock_period: str | None  # None: the stock is for all time
    limit: int | None = None  # per member per day


@dataclass(frozen=True)
class ShopT:
    """`catalogue shop { on claim  item gift  limit N per day  stock N per day
    budget N per week  gift ... }`"""

    limit: int  # claims per member per day
    stock: int  # gifts per day, all members
    budget: int  # points per week, all members
    gifts: dict[str, GiftT]


SHOP_T = ShopT(
    limit=2,
    stock=3,
    budget=30,
    gifts={"mug": GiftT(10, 2, None), "pen": GiftT(5, 2, "day", limit=1)},
)


@dataclass(frozen=True)
class RedeemT:
    minimum: int
    maximum: int
    multiple: int | None
    threshold: int
    limit: Period


@dataclass(frozen=True)
class SchemeT:
    name: str
    zone: str
    expiry: tuple[str, int]  # ("days", N): end of the local day N days on; ("week", 0)
    budget: Period  # the scheme's, in its one currency
    groups: tuple[GroupT, ...]
    rules: tuple[RuleT, ...]
    redeem: RedeemT
    allowance: Period  # every granter's
    allowances: dict[str, Period]  # named granters'
    starts: tuple[datetime, ...]  # local wall-clock times the clock may start from
    season: tuple[date, date] | None = None
    transfer: TransferT = TransferT((3, "day"), (40, "day"), 5)
    reverse_days: int = 3  # `reverse refunds { on refund  by order  within N days }`
    debt: bool = False  # what a reversal cannot take back is owed (else written off)

    def text(self) -> str:
        kind, days = self.expiry
        out = [
            f'scheme "{self.name}" {{',
            f"  currency {CURRENCY}",
            f'  timezone "{self.zone}"',
            f"  expire after {days} days" if kind == "days" else f"  expire at end of {kind}",
            f"  budget {self.budget[0]} per {self.budget[1]}",
        ]
        if self.season is not None:
            out.append(f"  season {self.season[0]} to {self.season[1]}")
        for group in self.groups:
            clauses = []
            if group.cap is not None:
                clauses.append(f"cap {group.cap[0]} per {group.cap[1]}")
            if group.budget is not None:
                clauses.append(f"budget {group.budget[0]} per {group.budget[1]}")
            out.append(f"  group {group.name} {{ {'  '.join(clauses)} }}")
        text = "\n".join(out) + "\n" + "".join(r.text() for r in self.rules)
        spend = self.redeem
        text += (
            "  redeem gifts {\n    on redeem\n    amount points\n"
            f"    minimum {spend.minimum}\n    maximum {spend.maximum}\n"
            + (f"    multiple {spend.multiple}\n" if spend.multiple else "")
            + f"    threshold {spend.threshold}\n"
            f"    limit {spend.limit[0]} per {spend.limit[1]}\n  }}\n"
        )
        text += f"  grants applause {{\n    on grant\n    allowance {self.allowance[0]} per "
        text += f"{self.allowance[1]}\n"
        for who, (points, period) in self.allowances.items():
            text += f'    allowance {points} per {period} for "{who}"\n'
        text += "  }\n"
        tips = self.transfer
        text += (
            "  transfer tips {\n    on tip\n    to receiver\n    amount points\n"
            f"    limit {tips.limit[0]} per {tips.limit[1]}\n"
            f"    receive {tips.receive[0]} per {tips.receive[1]}\n    keep {tips.keep}\n  }}\n"
        )
        shop = SHOP_T
        text += (
            "  catalogue shop {\n    on claim\n    item gift\n"
            f"    limit {shop.limit} per day\n    stock {shop.stock} per day\n"
            f"    budget {shop.budget} per week\n"
        )
        for name, gift in shop.gifts.items():
            per = f" per {gift.stock_period}" if gift.stock_period else ""
            limit = f"  limit {gift.limit} per day" if gift.limit else ""
            text += f"    gift {name} {{ price {gift.price}  stock {gift.stock}{per}{limit} }}\n"
        text += "  }\n"
        text += "  reverse refunds {\n    on refund\n    by order\n"
        text += f"    within {self.reverse_days} days\n"
        text += ("    debt\n" if self.debt else "") + "  }\n"
        text += "  reverse returns {\n    on return\n    by order\n"
        text += f"    within {self.reverse_days} days\n"
        text += "    debt\n" if self.debt else ""
        return text + "    part amount of words\n  }\n}\n"

    def rule(self, name: str) -> RuleT:
        return next(r for r in self.rules if r.name == name)

    def caps_of(self, rule: RuleT) -> list[tuple[str, int, str]]:
        """(owner, points, period): the rule's own cap, then its group's."""
        caps = [(f"rule:{rule.name}", *rule.cap)] if rule.cap else []
        for group in self.groups:
            if group.name == rule.group and group.cap is not None:
                caps.append((f"group:{group.name}", *group.cap))
        return caps

    def budgets_of(self, source: str) -> list[tuple[str, int, str]]:
        """(owner, points, period): a rule's, its group's, then the scheme's (a grant: the
        scheme's only)."""
        found: list[tuple[str, int, str]] = []
        rule = next((r for r in self.rules if r.name == source), None)
        if rule is not None:
            if rule.budget is not None:
                found.append((f"rule:{rule.name}", *rule.budget))
            for group in self.groups:
                if group.name == rule.group and group.budget is not None:
                    found.append((f"group:{group.name}", *group.budget))
        found.append(("scheme", *self.budget))
        return found

    def allowance_of(self, granter: str) -> Period:
        return self.allowances.get(granter, self.allowance)

    @property
    def earning(self) -> list[str]:
        return sorted({r.on for r in self.rules if (r.award or 1) > 0})

    @property
    def penalties(self) -> list[str]:
        return sorted({r.on for r in self.rules if r.award is not None and r.award < 0})


# Around New York's DST changes and a year end; expiry after two days, budgets per week.
SCHEME_A = SchemeT(
    name="machine A",
    zone="America/New_York",
    expiry=("days", 2),
    budget=(200, "week"),
    groups=(GroupT("social", cap=(30, "day"), budget=(60, "day")),),
    rules=(
        RuleT("checkin", "checkin", 10, limit=(1, "day")),
        RuleT("chat", "message", 7, cap=(20, "day"), group="social"),
        RuleT("like", "like", 4, group="social"),
        RuleT("post", "post", None, budget=(50, "week")),
        RuleT("spam", "ad", -25),
        RuleT("rude", "rude", -6, group="social"),  # a penalty that makes room under the cap
        RuleT("buy", "order", 12, cap=(30, "day"), pending=1),  # held through the next day
        RuleT("host", "message", 3, pays="cy"),  # cy hosts: 3 for every message of the day
    ),
    redeem=RedeemT(minimum=10, maximum=60, multiple=5, threshold=20, limit=(2, "day")),
    allowance=(30, "week"),
    allowances={"leader": (60, "week")},
    starts=(datetime(2026, 3, 5, 12), datetime(2026, 10, 29, 12), datetime(2026, 12, 27, 9)),
)

# Havana: midnight does not exist on 2026-03-08 and happens twice on 2026-11-01. Lots
# expire at the end of the week; budgets per day; a daily rank paid at the close.
SCHEME_B = SchemeT(
    name="machine B",
    zone="America/Havana",
    expiry=("week", 0),
    budget=(120, "day"),
    groups=(GroupT("writing", budget=(100, "week")),),
    rules=(
        RuleT("checkin", "checkin", 10, limit=(1, "day")),
        RuleT("early", "checkin", top=(2, (8, 4))),
        RuleT("chat", "message", 7, cap=(20, "day")),
        RuleT("post", "post", None, group="writing", budget=(30, "day")),
        RuleT("spam", "ad", -25),
        RuleT("buy", "order", 9, limit=(2, "day"), budget=(20, "day"), pending=2),
    ),
    redeem=RedeemT(minimum=5, maximum=40, multiple=None, threshold=10, limit=(3, "week")),
    allowance=(40, "season"),
    allowances={"leader": (100, "season"), "li": (15, "day")},
    starts=(datetime(2026, 3, 5, 20), datetime(2026, 10, 29, 20)),
    season=(date(2026, 3, 1), date(2026, 11, 15)),
    transfer=TransferT((2, "week"), (30, "week"), 0),
    reverse_days=2,
    debt=True,
)

SCHEMES = (SCHEME_A, SCHEME_B)
PROGRAMS = {s.name: incentive.compile(s.text()) for s in SCHEMES}


# ---- the model -----------------------------------------------------------------------------


class Calendar:
    """Local days and Monday weeks in a zone, by zoneinfo alone."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def day(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def start(self, day: date) -> datetime:
        """The first instant of a local day (its midnight, or when the day begins when
        midnight does not exist)."""
        instant = datetime(day.year, day.month, day.day, tzinfo=self.zone).astimezone(UTC)
        assert self.day(instant) == day and self.day(instant - timedelta(seconds=1)) < day
        return instant

    def key(self, period: str, day: date) -> str:
        if period == "day":
            return day.isoformat()
        if period == "week":
            return (day - timedelta(days=day.weekday())).isoformat()
        assert period == "season"
        return "season"

    def local(self, naive: datetime) -> datetime:
        return naive.replace(tzinfo=self.zone).astimezone(UTC)


Rec = tuple[str, str | None, str | None, int | None]  # (kind, member, rule, points)
Dated = tuple[str, str | None, str | None, int | None, datetime]  # ... and when (UTC)


class Model:
    """What the scheme means, step by step: lots, counters, budgets, rank tables."""

    def __init__(self, scheme: SchemeT) -> None:
        self.s = scheme
        self.cal = Calendar(scheme.zone)
        # member -> lots [points, expires (UTC) or None, earned (UTC), order added]
        self.lots: dict[str, list[list[Any]]] = defaultdict(list)
        self.added = 0
        self.used: Counter[tuple[str, ...]] = Counter()  # limits, caps, budgets, allowances
        self.ranks: dict[tuple[str, date], dict[str, datetime]] = {}  # (rule, day) -> first
        self.counts: Counter[tuple[str, date]] = Counter()  # (pay rule, day) -> events
        self.told: datetime | None = None
        self.debt: Counter[str] = Counter()  # member -> points owed after a reversal
        # member -> held points [points, released at (UTC), rule, event id], as added
        self.held: dict[str, list[list[Any]]] = defaultdict(list)
        self.event_id = ""  # the event being fed: what a held award is for
        # event id -> what it paid and counted: member, day, points, counters, reversed
        self.paid: dict[str, dict[str, Any]] = {}

    def balance(self, member: str) -> int:
        return sum(lot[0] for lot in self.lots[member]) - self.debt[member]

    def spending_order(self, member: str) -> list[list[Any]]:
        """A member's lots as [points, expires, earned], soonest-expiring first."""
        lots = sorted(self.lots[member], key=lambda lot: (lot[1] or NEVER, lot[2], lot[3]))
        return [lot[:3] for lot in lots]

    def expires(self, day: date) -> datetime:
        """When the points earned for `day` expire (a rank award's day is the day it
        pays for, not the day of its close)."""
        kind, days = self.s.expiry
        if kind == "days":
            return self.cal.start(day + timedelta(days=days + 1))
        assert kind == "week"
        end = self.cal.start(day - timedelta(days=day.weekday()) + timedelta(days=7))
        if self.s.season is not None:  # the season's end closes every period
            end = min(end, self.cal.start(self.s.season[1] + timedelta(days=1)))
        return end

    def take(self, member: str, points: int) -> int:
        """Take up to `points`, soonest-expiring lots first (then oldest, then first added)."""
        lots = sorted(self.lots[member], key=lambda lot: (lot[1] or NEVER, lot[2], lot[3]))
        wanted = points
        for lot in lots:
            used = min(lot[0], wanted)
            lot[0] -= used
            wanted -= used
        self.lots[member] = [lot for lot in lots if lot[0] > 0]
        return points - wanted

    # -- time --

    def tell(self, instant: datetime) -> list[Dated]:
        """Time has reached `instant`: expiries and rank closes in time order (expiries
        first at the same instant), each dated when it happens."""
        out: list[Dated] = []
        while True:
            expiry = min(
                (lot[1] for lots in self.lots.values() for lot in lots if lot[1] is not None),
                default=None,
            )
            close = min(
                (
                    (self.cal.start(day + timedelta(days=1)), name, day)
                    for name, day in [*self.ranks, *self.counts]
                ),
                default=None,
            )
            release = min((entry[1] for held in self.held.values() for entry in held), default=None)
            if (
                release is not None
                and release <= instant
                and (expiry is None or release <= expiry)
                and (close is None or release <= close[0])
            ):
                # Held points are released before lots expire at the same instant.
                for member in sorted(self.held):
                    for entry in [e for e in self.held[member] if e[1] == release]:
                        self.held[member].remove(entry)
                        self.credit(member, entry[0], release, self.cal.day(release))
                        out.append(("release", member, entry[2], entry[0], release))
            elif expiry is not None and expiry <= instant and (close is None or expiry <= close[0]):
                for member in sorted(self.lots):
                    gone = sum(lot[0] for lot in self.lots[member] if lot[1] == expiry)
                    self.lots[member] = [lot for lot in self.lots[member] if lot[1] != expiry]
                    if gone:
                        out.append(("expiry", member, None, -gone, expiry))
            elif close is not None and close[0] <= instant:
                end, name, day = close
                paying = self.s.rule(name)
                if paying.pays is not None:  # paid from the day's count to the member named
                    assert paying.award is not None
                    amount = self.counts.pop((name, day)) * paying.award
                    out += [
                        (*r, end) for r in self.pay("rank", name, paying.pays, amount, end, day)
                    ]
                    continue
                table = self.ranks.pop((name, day))
                count, amounts = self.s.rule(name).top or (0, ())
                order = sorted(table, key=lambda m: (table[m], m))[:count]
                for position, member in enumerate(order):
                    amount = amounts[min(position, len(amounts) - 1)]
                    out += [(*r, end) for r in self.pay("rank", name, member, amount, end, day)]
            else:
                break
        self.told = instant if self.told is None else max(self.told, instant)
        return out

    # -- paying --

    def pay(self, kind: str, source: str, member: str, points: int, at: datetime, day: date):
        """Budgets (positive points only), then the ledger."""
        notes: list[Rec] = []
        if points > 0:
            budgets = self.s.budgets_of(source)
            granted = points
            for owner, limit, period in budgets:
                granted = min(
                    granted, max(0, limit - self.used["budget", owner, self._k(period, day)])
                )
            for owner, _, period in budgets:
                self.used["budget", owner, self._k(period, day)] += granted
            if granted < points:
                if granted == 0:
                    return [("refused", member, source, points)]
                notes.append(("cut", member, source, points - granted))
            points = granted
        return self.post(kind, source, member, points, at, day) + notes

    def post(
        self, kind: str, source: str, member: str, points: int, at: datetime, day: date
    ) -> list[Rec]:
        rule = next((r for r in self.s.rules if r.name == source), None)
        if points > 0 and rule is not None and rule.pending is not None:
            release = self.cal.start(day + timedelta(days=rule.pending + 1))
            self.held[member].append([points, release, source, self.event_id])
            return [("pending", member, source, points)]
        if points > 0:
            self.credit(member, points, at, day)
            return [(kind, member, source, points)]
        taken = self.take(member, -points)
        cut = -points - taken
        out: list[Rec] = []
        if taken or not cut:
            out.append((kind, member, source, -taken))
        if cut:
            out.append(("cut", member, source, cut))
        return out

    def credit(self, member: str, points: int, at: datetime, day: date) -> None:
        """A new lot, once what the member owes is repaid."""
        repaid = min(points, self.debt[member])
        self.debt[member] -= repaid
        if points > repaid:
            self.lots[member].append([points - repaid, self.expires(day), at, self.added])
            self.added += 1

    def reverse(
        self, member: str, targets: Any, at: datetime, day: date, part: Any = None
    ) -> list[Rec]:
        """A refund (`refunds`: of one id or a list of ids, each on its own) or a return
        of part of an event (`returns`: `part amount of words`)."""
        block = "refunds" if part is None else "returns"
        ids = [targets] if isinstance(targets, str) else targets
        if not isinstance(ids, list) or not ids or not all(ids):
            return [("refused", member, block, None)]
        if not all(isinstance(i, str) for i in ids):
            return [("refused", member, block, None)]
        if part is not None and len(ids) > 1:
            return [("refused", member, block, None)]
        out: list[Rec] = []
        for target in ids:
            out += self.reverse_one(member, target, at, day, block, part)
        return out

    def reverse_one(
        self, member: str, target: str, at: datetime, day: date, block: str, part: Any
    ) -> list[Rec]:
        """What the event `target` paid taken back (all, or the share of a part on the
        running total, rounded toward zero); what it counted given back when the whole
        is reversed."""
        entry = self.paid.get(target)
        if entry is None or entry["day"] < day - timedelta(days=self.s.reverse_days):
            return [("refused", member, block, None)]
        if entry["reversed"] or entry["member"] != member:
            return [("refused", member, block, None)]
        share: tuple[Decimal, Decimal] | None = None
        if part is not None:
            amount, whole = _number(part), entry["whole"]
            if part == "" or amount is None or amount <= 0:
                return [("refused", member, block, None)]
            if whole is None or whole <= 0:
                return [("refused", member, block, None)]
            entry["refunded"] = min(whole, entry["refunded"] + amount)
            share = (entry["refunded"], whole)
            entry["reversed"] = entry["refunded"] == whole
        else:
            entry["reversed"] = True
        if entry["reversed"]:
            for key, delta in entry["used"].items():
                self.used[key] -= delta
        if not entry["points"]:
            return [("reversal", member, block, 0)]
        out: list[Rec] = []
        for index, (who, source, paid) in enumerate(entry["points"]):
            if share is None:
                points = paid - entry["taken"][index]
                entry["taken"][index] = paid
            else:
                now, whole = share
                total = int(abs(paid) * now / whole) * (1 if paid > 0 else -1)
                points = total - entry["taken"][index]
                entry["taken"][index] = total
            if points < 0:  # a penalty given back
                self.credit(who, -points, at, day)
                out.append(("reversal", who, block, -points))
                continue
            if points == 0:  # a part too small to take a whole point back yet
                out.append(("reversal", who, block, 0))
                continue
            held = [e for e in self.held[who] if e[2] == source and e[3] == target]
            if held:  # still held: cancelled (a part of it), never spendable
                cancelled = min(points, held[0][0])
                held[0][0] -= cancelled
                if not held[0][0]:
                    self.held[who].remove(held[0])
                out.append(("cancelled", who, block, cancelled))
                continue
            taken = self.take(who, points)
            short = points - taken
            if short and self.s.debt:
                self.debt[who] += short
                out.append(("reversal", who, block, -points))
                continue
            if taken or not short:
                out.append(("reversal", who, block, -taken))
            if short:
                out.append(("cut", who, block, short))
        return out

    def _k(self, period: str, day: date) -> str:
        return self.cal.key(period, day)

    # -- events --

    def feed(
        self, fields: dict[str, Any], at: datetime, told: Callable[[], None] = lambda: None
    ) -> list[Dated]:
        """One event's records, dated; `told` is called once its time has been processed."""
        member, kind = fields["member"], fields["type"]
        number = {"post": "words", "redeem": "points", "grant": "points", "tip": "points"}.get(kind)
        number = "amount" if kind == "return" else number
        text = {"grant": "by", "tip": "receiver", "claim": "gift"}.get(kind)
        if (number in fields and _number(fields[number]) is None) or (
            text in fields and not isinstance(fields[text], str)
        ):
            return [("bad_event", member, None, None, at)]  # not read: time does not move
        dated = self.tell(at)
        told()
        self.event_id, self.now = fields["id"], at
        day = self.cal.day(at)
        out: list[Rec] = []
        if self.s.season is not None and not self.s.season[0] <= day <= self.s.season[1]:
            out.append(("outside_season", member, None, None))
        elif kind == "refund":
            out += self.reverse(member, fields.get("order"), at, day)
        elif kind == "return":
            out += self.reverse(member, fields.get("order"), at, day, fields.get("amount", ""))
        else:
            used = Counter(self.used)
            for rule_t in self.s.rules:
                if rule_t.on == kind:
                    out += self.earn(rule_t, member, fields, at, day)
            if kind == "redeem":
                out += self.spend(member, _number(fields.get("points")), day)
            if kind == "grant":
                out += self.grant(member, fields.get("by"), _number(fields.get("points")), at, day)
            if kind == "claim":
                out += self.claim(member, fields.get("gift"), day)
            if kind == "tip":
                out += self.tip(member, fields.get("receiver"), _number(fields.get("points")), day)
            self.paid[fields["id"]] = {
                "member": member,
                "day": day,
                "reversed": False,
                "points": [
                    (m, src, p) for k, m, src, p in out if k in ("award", "grant", "pending") and p
                ],
                "used": {
                    key: self.used[key] - used[key]
                    for key in set(self.used) | set(used)
                    if key[0] not in UNDONE and self.used[key] != used[key]
                },
                "whole": _number(fields.get("words")),  # a return's part is of it
                "refunded": Decimal(0),
            }
            entry = self.paid[fields["id"]]
            entry["taken"] = [0] * len(entry["points"])
        return dated + [(*r, at) for r in out]

    def earn(self, rule: RuleT, member: str, fields: dict[str, Any], at: datetime, day: date):
        if rule.pays is not None:
            self.counts[rule.name, day] += 1
            return []
        if rule.top is not None:
            self.ranks.setdefault((rule.name, day), {}).setdefault(member, at)
            return []
        if rule.limit is not None:
            slot = ("limit", rule.name, member, self._k(rule.limit[1], day))
            if self.used[slot] >= rule.limit[0]:
                return [("refused", member, rule.name, None)]
        points = rule.award if rule.award is not None else int(fields["words"]) // 10
        if points == 0:
            return []
        if rule.limit is not None:
            self.used[slot] += 1
        caps = self.s.caps_of(rule)
        granted = points
        if points > 0:
            for owner, limit, period in caps:
                room = max(0, limit - self.used["cap", owner, member, self._k(period, day)])
                granted = min(granted, room)
            counted = granted
        else:
            counted = -min(-points, max(0, self.balance(member)))  # only what is really taken
        for owner, _, period in caps:
            self.used["cap", owner, member, self._k(period, day)] += counted
        if granted == 0:
            return [("refused", member, rule.name, points)]
        out = self.pay("award", rule.name, member, granted, at, day)
        if granted != points:
            out.append(("cut", member, rule.name, points - granted))
        return out

    def spend(self, member: str, asked: Decimal | None, day: date) -> list[Rec]:
        spec = self.s.redeem
        if asked is None or asked <= 0 or asked != asked.to_integral_value():
            return [("refused", member, "gifts", None)]
        points, balance = int(asked), self.balance(member)
        slot = ("redeem", member, self._k(spec.limit[1], day))
        if (
            points < spec.minimum
            or points > spec.maximum
            or (spec.multiple and points % spec.multiple)
            or balance < spec.threshold
            or points > balance
            or self.used[slot] >= spec.limit[0]
        ):
            return [("refused", member, "gifts", points)]
        self.used[slot] += 1
        assert self.take(member, points) == points
        return [("redeem", member, "gifts", -points)]

    def grant(self, member: str, by: Any, asked: Decimal | None, at: datetime, day: date):
        if not by:
            return [("refused", member, "applause", None)]
        if asked is None or asked <= 0 or asked != asked.to_integral_value():
            return [("refused", member, "applause", None)]
        points = int(asked)
        # The allowance counts what the granter gave before budgets, like caps and limits
        # (semantics.md, Budgets): a grant the budget then refuses still uses it up.
        limit, period = self.s.allowance_of(by)
        slot = ("allowance", by, self._k(period, day))
        if self.used[slot] + points > limit:
            return [("refused", member, "applause", points)]
        self.used[slot] += points
        return self.pay("grant", "applause", member, points, at, day)

    def claim(self, member: str, name: Any, day: date) -> list[Rec]:
        """A gift from the catalogue: every check first; stock and budget shared."""
        shop = SHOP_T
        gift = shop.gifts.get(name) if isinstance(name, str) else None
        if gift is None:
            return [("refused", member, "shop", None)]
        refused = [("refused", member, "shop", gift.price)]
        today, week = self._k("day", day), self._k("week", day)
        stock_key = ("gift stock", name, today if gift.stock_period else "")
        if (
            gift.price > self.balance(member)
            or self.used["claims", member, today] >= shop.limit
            or (gift.limit and self.used["gift claims", member, name, today] >= gift.limit)
            or self.used[stock_key] >= gift.stock
            or self.used["shop stock", today] >= shop.stock
            or self.used["shop budget", week] + gift.price > shop.budget
        ):
            return refused
        for key in (("claims", member, today), ("gift claims", member, name, today)):
            self.used[key] += 1
        self.used[stock_key] += 1
        self.used["shop stock", today] += 1
        self.used["shop budget", week] += gift.price
        assert self.take(member, gift.price) == gift.price
        return [("redeem", member, "shop", -gift.price)]

    def tip(self, member: str, receiver: Any, asked: Decimal | None, day: date) -> list[Rec]:
        """A transfer: every check first, then both sides move, or nothing does."""
        spec = self.s.transfer
        whole = asked is not None and asked == asked.to_integral_value()
        points = int(asked) if asked is not None and whole else 0
        refused = [("refused", member, "tips", points or None)]
        if not receiver or receiver == member or points <= 0:
            return refused
        if self.balance(member) - points < spec.keep:
            return refused
        sent = ("sent", member, self._k(spec.limit[1], day))
        received = ("received", receiver, self._k(spec.receive[1], day))
        if self.used[sent] >= spec.limit[0] or self.used[received] + points > spec.receive[0]:
            return refused
        self.used[sent] += 1
        self.used[received] += points
        assert self.take(member, points) == points
        self.credit(receiver, points, self.now, day)
        return [("transfer", member, "tips", -points), ("transfer", receiver, "tips", points)]


# What a reversal does not give back: spending, tips and the catalogue's counts.
UNDONE = ("redeem", "sent", "received", "claims", "gift claims", "gift stock", "shop stock")
UNDONE += ("shop budget",)


def _number(value: Any) -> Decimal | None:
    """An attribute as a number, as the event formats allow: a JSON number or numeric
    text; None when it is not one (or missing)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None


# ---- the machine -----------------------------------------------------------------------------

STEPS = st.one_of(
    st.tuples(st.just("minutes"), st.integers(0, 180)),
    st.tuples(st.just("minutes"), st.integers(1, 36).map(lambda h: 60 * h)),
    st.tuples(st.just("minutes"), st.integers(1, 4).map(lambda d: 24 * 60 * d)),
    st.tuples(
        st.just("midnight"),
        st.integers(0, 2),  # days after the next midnight
        st.sampled_from([False, False, False, True]),  # then on to a Monday
        st.sampled_from([-1, 0, 0, 1]),  # seconds either side
    ),
)
VALID = st.integers(1, 12).map(lambda n: 5 * n)  # multiples of 5, mostly within bounds
# Resolved when the step runs: the richest member, the most a balance allows, the minimum.
RICHEST, FIT, LEAST = "<the richest>", "<the most that fits>", "<the minimum>"
REDEEM_POINTS = st.one_of(
    st.sampled_from([FIT, LEAST]),
    VALID,
    st.integers(-5, 90),
    st.sampled_from([None, 12.5, "abc", "20", True, 0]),
)
ACTIVITY = st.lists(
    st.tuples(
        st.sampled_from(MEMBERS),
        st.sampled_from(range(10)),  # which earning event (8, 9: a penalty)
        st.integers(0, 400),  # words
        st.sampled_from([0, 0, 1, 7, 30]),  # minutes after the one before
    ),
    min_size=1,
    max_size=6,
)
GRANT_POINTS = st.one_of(
    st.integers(1, 70), st.integers(1, 20), st.sampled_from([0, -5, 7.5, "x", "10"])
)
GRANT_BY = st.one_of(
    st.sampled_from(GRANTERS), st.sampled_from(GRANTERS), st.sampled_from([None, "", 7])
)


class LedgerMachine(RuleBasedStateMachine):
    """A streaming session against the model, with the ledger's invariants after every step."""

    @initialize(
        scheme=st.sampled_from(SCHEMES),
        start=st.integers(0, 2),
        offset=st.integers(0, 3 * 24 * 60),
        activity=ACTIVITY,
    )
    def begin(
        self, scheme: SchemeT, start: int, offset: int, activity: list[tuple[str, int, int, int]]
    ) -> None:
        """One of the schemes, a start near a DST change or a year end, some first events."""
        self.s = scheme
        self.session = PROGRAMS[scheme.name].session()
        self.model = Model(scheme)
        self.cal = self.model.cal
        naive = scheme.starts[start % len(scheme.starts)] + timedelta(minutes=offset)
        self.clock = self.cal.local(naive)
        self.told: datetime | None = None  # the latest time the session was told
        self.fed = 0
        self.ledger: Counter[str] = Counter()  # member -> sum of their ledger records
        self.budget_paid: Counter[tuple[str, str]] = Counter()
        self.cap_net: Counter[tuple[str, str, str]] = Counter()
        self.allowance_used: Counter[tuple[str, str]] = Counter()
        self.redeemed: Counter[tuple[str, str]] = Counter()
        self.claimed: Counter[tuple[str, str]] = Counter()  # gifts and points taken
        self.taken_back: Counter[str] = Counter()  # event id -> points reversed, all parts
        self.act(activity)

    # -- helpers --

    def lots(self, member: str) -> list[list[Any]]:
        state = self.session.state.members.get(member)
        return [] if state is None else state.lots.get(CURRENCY, [])

    def compare(self, records: list[Record], expected: list[Dated], what: str) -> None:
        for record in records:  # dated in the scheme's local time, with its offset
            assert record.at is not None
            stamp = datetime.fromisoformat(record.at)
            assert stamp.utcoffset() == stamp.astimezone(self.cal.zone).utcoffset(), record.at
        got = Counter(
            (r.kind, r.member, r.rule, r.points, datetime.fromisoformat(r.at or ""))
            for r in records
        )
        assert got == Counter(expected), (
            f"{what}: the engine gave {_show(got.elements())}, the model {_show(expected)}"
        )
        for record in records:
            event(f"{record.kind} {record.rule or ''}: {_gist(record.reason)}".strip())
            if record.kind in LEDGER_KINDS:
                assert record.member is not None and record.points is not None
                self.ledger[record.member] += record.points
                assert record.balance == self.ledger[record.member], (
                    f"{record.to_json()}: the ledger sums to {self.ledger[record.member]}"
                )
                assert record.balance >= 0 or self.s.debt, record.to_json()
            if (
                record.kind in ("award", "rank", "grant", "pending")
                and record.points
                and record.points > 0
            ):
                if record.kind == "rank":
                    assert record.at is not None
                    day = self.cal.day(datetime.fromisoformat(record.at) - timedelta(seconds=1))
                else:
                    day = self.cal.day(self.clock)
                for owner, limit, period in self.s.budgets_of(record.rule or ""):
                    key = (owner, self.cal.key(period, day))
                    self.budget_paid[key] += record.points
                    assert self.budget_paid[key] <= limit, (
                        f"{owner} paid {self.budget_paid[key]} in {period} {key[1]}: budget {limit}"
                    )

    def feed(self, fields: dict[str, Any]) -> list[Record]:
        """Feed one event at the clock to the session and the model; compare their records.
        Leaves `self.snap`: the model's lots once the event's time was processed (None
        if the event was not read)."""
        self.fed += 1
        given = {"id": f"e{self.fed}", **{k: v for k, v in fields.items() if v is not None}}
        given["at"] = (
            self.clock.astimezone(self.cal.zone).isoformat()
            if self.fed % 2
            else self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        self.snap: dict[str, list[list[Any]]] | None = None

        def told() -> None:  # the model's lots once the event's time has been processed
            self.snap = {m: self.model.spending_order(m) for m in MEMBERS}

        expected = self.model.feed(dict(given), self.clock, told)
        records = self.session.feed(dict(given))
        self.compare(records, expected, f"event {given}")
        if any(r.kind != "bad_event" for r in records):
            self.told = self.clock
        return records

    def pre_budget(self, records: list[Record], source: str) -> int:
        """What a source earned before budgets: paid, plus what budgets cut or refused."""
        paid = sum(
            r.points or 0
            for r in records
            # a release pays what was earned (and counted) on an earlier day
            if r.rule == source and r.kind in ("award", "rank", "grant", "redeem", "pending")
        )
        return paid + sum(
            r.points or 0
            for r in records
            if r.rule == source and r.kind in ("cut", "refused") and "budget" in r.reason
        )

    # -- time --

    @rule(step=STEPS, tell=st.booleans())
    def advance(self, step: tuple[Any, ...], tell: bool) -> None:
        """Move the clock by some minutes, or onto (or a second either side of) a local
        midnight, when lots expire and days and weeks turn; tell the session or leave
        the next event to carry the time."""
        if step[0] == "minutes":
            self.clock += timedelta(minutes=step[1])
        else:
            _, days, monday, nudge = step
            day = self.cal.day(self.clock) + timedelta(days=1 + days)
            if monday:
                day += timedelta(days=(7 - day.weekday()) % 7)
            self.clock = max(self.clock, self.cal.start(day) + timedelta(seconds=nudge))
        if tell:
            self.advance_session()

    def advance_session(self) -> None:
        expected = self.model.tell(self.clock)
        self.compare(self.session.advance_to(self.clock), expected, f"advance to {self.clock}")
        self.told = self.clock

    @rule()
    def restart(self) -> None:
        """A new session from a copy of the state, as after a restart: the expiry queue
        is rebuilt from the lots."""
        self.session = Session(PROGRAMS[self.s.name], state=copy.deepcopy(self.session.state))

    # -- events --

    @rule(activity=ACTIVITY)
    def act(self, activity: list[tuple[str, int, int, int]]) -> None:
        """A burst of earning events and penalties, a few minutes apart or at once."""
        for member, which, words, minutes in activity:
            self.clock += timedelta(minutes=minutes)
            if which < 8:
                self.earn(member, self.s.earning[which % len(self.s.earning)], words)
            else:
                self.penalty(member, self.s.penalties[which % len(self.s.penalties)])

    def earn(self, member: str, kind: str, words: int) -> None:
        records = self.feed({"member": member, "type": kind, "words": words})
        for rule_t in self.s.rules:
            if rule_t.on == kind:
                self.check_caps(rule_t, member, records)

    def penalty(self, member: str, kind: str) -> None:
        records = self.feed({"member": member, "type": kind})
        rule_t = next(r for r in self.s.rules if r.on == kind)
        assert rule_t.award is not None and self.snap is not None
        due = self.snap[member]
        asked = 0 if any(r.kind == "outside_season" for r in records) else -rule_t.award
        taken = min(asked, sum(lot[0] for lot in due))
        # What the balance cannot give is cut and recorded.
        own = [r for r in records if r.rule == rule_t.name]  # not a rank closed on the way
        assert [r.points for r in own if r.kind == "award"] == ([-taken] if taken else [])
        cut = asked - taken
        assert [r.points for r in own if r.kind == "cut"] == ([cut] if cut else [])
        self.moved_only(member, taken, "a penalty")
        self.check_caps(rule_t, member, records)

    @rule(
        member=st.sampled_from((*MEMBERS, RICHEST)),
        points=REDEEM_POINTS,
        times=st.integers(1, 4),
    )
    def redeem(self, member: str, points: Any, times: int) -> None:
        """The same redemption asked `times` times at once (new ids: a double POST)."""
        if member == RICHEST:
            member = max(MEMBERS, key=lambda m: (self.session.balance(m, CURRENCY), m))
        if points == FIT:  # the most the balance allows, in multiples of 5
            points = min(self.session.balance(member, CURRENCY), self.s.redeem.maximum)
            points -= points % 5
        elif points == LEAST:
            points = self.s.redeem.minimum
        for _ in range(times):
            self.redeem_once(member, points)

    def redeem_once(self, member: str, points: Any) -> None:
        spec = self.s.redeem
        balances = {m: self.session.balance(m, CURRENCY) for m in MEMBERS}
        before = {m: [[*lot] for lot in self.lots(m)] for m in MEMBERS}
        records = self.feed({"member": member, "type": "redeem", "points": points})
        if self.snap is None:
            # Not read at all (an attribute of the wrong type): not even the time moves.
            assert [r.kind for r in records] == ["bad_event"]
            assert {m: self.lots(m) for m in MEMBERS} == before
            assert {m: self.session.balance(m, CURRENCY) for m in MEMBERS} == balances
            return
        spent = [r for r in records if r.kind == "redeem"]
        balance = sum(lot[0] for lot in self.snap[member])
        if not spent:
            self.moved_only(member, 0, "a refused redemption")
            return
        (record,) = spent
        assert record.points is not None
        paid = -record.points
        assert paid == Decimal(str(points)), "a redemption moves exactly its points"
        assert spec.minimum <= paid <= spec.maximum and paid <= balance
        assert not spec.multiple or paid % spec.multiple == 0
        assert balance >= spec.threshold
        self.moved_only(member, paid, "a redemption")
        key = (member, self.cal.key(spec.limit[1], self.cal.day(self.clock)))
        self.redeemed[key] += 1
        assert self.redeemed[key] <= spec.limit[0], f"redemption limit passed: {key}"

    def moved_only(self, member: str, points: int, what: str) -> None:
        """Once the event's time was processed, `points` left the member's soonest-expiring
        lots and nothing else moved."""
        assert self.snap is not None
        for m in MEMBERS:
            want = consume(self.snap[m], points if m == member else 0)
            assert aggregate(self.lots(m)) == aggregate(want), (
                f"{what}: {m}'s lots are {self.lots(m)}, expected {want}"
            )
            owed = self.model.debt[m]
            assert self.session.balance(m, CURRENCY) == sum(lot[0] for lot in want) - owed

    @rule(
        member=st.sampled_from(MEMBERS),
        by=GRANT_BY,
        points=GRANT_POINTS,
        reason=st.sampled_from([None, "helped a classmate"]),
    )
    def grant(self, member: str, by: Any, points: Any, reason: str | None) -> None:
        fields = {"member": member, "type": "grant", "by": by, "points": points, "reason": reason}
        records = self.feed(fields)
        accepted = self.pre_budget(records, "applause")
        if accepted:
            assert isinstance(by, str)
            limit, period = self.s.allowance_of(by)
            key = (by, self.cal.key(period, self.cal.day(self.clock)))
            self.allowance_used[key] += accepted
            assert self.allowance_used[key] <= limit, f"allowance passed: {key}"

    @rule(
        member=st.sampled_from(MEMBERS),
        receiver=st.one_of(st.sampled_from(MEMBERS), st.sampled_from([None, "", "dee", 7])),
        points=st.one_of(st.integers(1, 45), st.sampled_from([0, -3, 2.5, "x", "9", FIT])),
        times=st.integers(1, 3),
    )
    def tip(self, member: str, receiver: Any, points: Any, times: int) -> None:
        """A tip, sometimes sent again at once (a double POST): the points leave the
        sender and reach the receiver together, or neither moves."""
        if points == FIT:  # all the sender can give
            points = max(1, self.session.balance(member, CURRENCY) - self.s.transfer.keep)
        for _ in range(times):
            fields = {"member": member, "type": "tip", "receiver": receiver, "points": points}
            records = self.feed(fields)
            moved = [r for r in records if r.kind == "transfer"]
            assert len(moved) in (0, 2) and sum(r.points or 0 for r in moved) == 0, moved
            if moved:
                assert moved[0].member == member and moved[1].member == receiver
                assert (moved[0].balance or 0) >= self.s.transfer.keep

    @rule(
        member=st.sampled_from((*MEMBERS, RICHEST)),
        gift=st.sampled_from(["mug", "mug", "pen", "pen", "hat", None, 7]),
        times=st.integers(1, 3),
    )
    def claim(self, member: str, gift: Any, times: int) -> None:
        """A gift from the catalogue, sometimes asked again at once: the stock of each
        gift, the catalogue's stock per day and its budget per week are never passed."""
        if member == RICHEST:
            member = max(MEMBERS, key=lambda m: (self.session.balance(m, CURRENCY), m))
        for _ in range(times):
            records = self.feed({"member": member, "type": "claim", "gift": gift})
            for record in records:
                if record.kind == "redeem" and record.rule == "shop":
                    day = self.cal.day(self.clock)
                    spec = SHOP_T.gifts[record.item or ""]
                    per = self.cal.key("day", day) if spec.stock_period else ""
                    for key, most in (
                        ((record.item or "", per), spec.stock),
                        (("*", self.cal.key("day", day)), SHOP_T.stock),
                    ):
                        self.claimed[key] += 1
                        assert self.claimed[key] <= most, f"stock passed: {key}"
                    week = ("points", self.cal.key("week", day))
                    self.claimed[week] -= record.points or 0
                    assert self.claimed[week] <= SHOP_T.budget, f"budget passed: {week}"

    def pick_target(self, pick: int, how: str) -> tuple[str, str]:
        """An earlier event's id and who asks: its own member (mostly), another, or an id
        never seen; mostly recent events, some after the window."""
        ids = sorted(self.model.paid, key=lambda i: int(i[1:]))
        if not ids or how == "unknown":
            return "e0", MEMBERS[pick % len(MEMBERS)]
        target = ids[-1 - pick % min(len(ids), 8)]
        member = self.model.paid[target]["member"]
        if how == "other":
            member = next(m for m in MEMBERS if m != member)
        return target, member

    @rule(
        pick=st.integers(0, 10_000),
        how=st.sampled_from(["own"] * 6 + ["other", "unknown"]),
        listed=st.sampled_from([None, None, "one", "two", "again", "empty", "mixed"]),
    )
    def refund(self, pick: int, how: str, listed: str | None) -> None:
        """A refund of an earlier event, by its id or a list of ids (`"order": [...]`:
        one, two, one twice, none, or with a number in it); some events are refunded
        twice, some after their points were spent or expired, some after the window."""
        target, member = self.pick_target(pick, how)
        order: Any = target
        if listed == "one":
            order = [target]
        elif listed == "two":
            order = [target, self.pick_target(pick // 7 + 1, "own")[0]]
        elif listed == "again":
            order = [target, target]
        elif listed == "empty":
            order = []
        elif listed == "mixed":
            order = [target, 7]
        self.reversing({"member": member, "type": "refund", "order": order})

    @rule(
        pick=st.integers(0, 10_000),
        how=st.sampled_from(["own"] * 6 + ["other", "unknown"]),
        amount=st.one_of(
            st.integers(1, 200), st.integers(1, 30), st.sampled_from([None, 0, -4, 2.5, "x"])
        ),
        times=st.integers(1, 3),
    )
    def give_back(self, pick: int, how: str, amount: Any, times: int) -> None:
        """A return of part of an earlier event (`part amount of words`), sometimes asked
        again at once: the parts never take back more than the event paid."""
        target, member = self.pick_target(pick, how)
        for _ in range(times):
            fields = {"member": member, "type": "return", "order": target, "amount": amount}
            self.reversing(fields)

    def reversing(self, fields: dict[str, Any]) -> None:
        """Feed a refund or a return; the checks' own tallies give back what a whole
        reversal gives back, and no event is ever taken back for more than it paid."""
        order = fields["order"]
        targets = [t for t in (order if isinstance(order, list) else [order]) if t]
        entries = {t: self.model.paid.get(t) for t in targets if isinstance(t, str)}
        fresh = {t for t, e in entries.items() if e is not None and not e["reversed"]}
        records = self.feed(fields)
        for target in fresh:
            entry = entries[target]
            assert entry is not None
            if entry["reversed"]:
                # What the event counted is given back: so are the checks' own tallies.
                for key, delta in entry["used"].items():
                    if key[0] == "budget":
                        self.budget_paid[key[1], key[2]] -= delta
                    elif key[0] == "cap":
                        self.cap_net[key[1], key[2], key[3]] -= delta
                    elif key[0] == "allowance":
                        self.allowance_used[key[1], key[2]] -= delta
        for record in records:
            if record.kind in ("reversal", "cancelled", "cut") and len(record.events) == 2:
                target = record.events[1]
                back = -(record.points or 0) if record.kind == "reversal" else record.points
                if record.kind == "reversal" and (record.points or 0) > 0:
                    continue  # a penalty given back
                self.taken_back[target] += back or 0
                paid = sum(p for _, _, p in self.model.paid[target]["points"] if p > 0)
                assert self.taken_back[target] <= paid, f"{target}: taken back more than paid"

    # -- helpers for the checks --

    def check_caps(self, rule_t: RuleT, member: str, records: list[Record]) -> None:
        net = self.pre_budget(records, rule_t.name)
        for owner, limit, period in self.s.caps_of(rule_t):
            key = (owner, member, self.cal.key(period, self.cal.day(self.clock)))
            self.cap_net[key] += net
            assert self.cap_net[key] <= limit, f"cap passed: {key} netted {self.cap_net[key]}"

    # -- invariants --

    @invariant()
    def balances_add_up(self) -> None:
        for member in MEMBERS:
            lots = self.lots(member)
            balance = self.session.balance(member, CURRENCY)
            state = self.session.state.members.get(member)
            owed = state.debts.get(CURRENCY, 0) if state is not None else 0
            assert balance >= 0 or self.s.debt
            assert owed == 0 or (self.s.debt and not lots), f"{member}: owes {owed} with {lots}"
            assert balance == self.ledger[member], f"{member}: balance {balance} != ledger"
            assert balance == sum(lot[0] for lot in lots) - owed, f"{member}: != lots {lots}"
            assert balance == self.model.balance(member), f"{member}: balance != model"

    @invariant()
    def held_points_match_the_model(self) -> None:
        for member in MEMBERS:
            state = self.session.state.members.get(member)
            held = state.pending.get(CURRENCY, []) if state is not None else []
            mine = sorted((e[0], datetime.fromisoformat(e[1]), e[3], tuple(e[4])) for e in held)
            model = sorted((e[0], e[1], e[2], (e[3],)) for e in self.model.held[member])
            assert mine == model, f"{member}: the engine holds {held}, the model {model}"
            if self.told is not None:  # nothing held past its release once time is told
                assert all(release > self.told for _, release, _, _ in mine), held

    @invariant()
    def lots_match_the_model(self) -> None:
        for member in MEMBERS:
            lots = self.lots(member)
            assert all(isinstance(lot[0], int) and lot[0] > 0 for lot in lots), lots
            mine = [
                (datetime.fromisoformat(lot[1]) if lot[1] else None, datetime.fromisoformat(lot[2]))
                for lot in lots
            ]
            for expires, _ in mine:  # each lot's expiry: compared with the model's below
                if self.told is not None:
                    assert expires is None or expires > self.told, f"{member}: expired lot left"
            order = [(e or NEVER, t) for e, t in mine]
            assert order == sorted(order), f"{member}: lots out of spending order: {lots}"
            model = self.model.spending_order(member)
            assert aggregate(lots) == aggregate(model), (
                f"{member}: the engine's lots {lots}, the model's {model}"
            )


def _show(records: Iterable[Dated]) -> list[str]:
    return sorted(
        f"{k} {m} {r} {p} at {at.astimezone(UTC):%m-%d %H:%M:%S}Z" for k, m, r, p, at in records
    )


def _gist(reason: str | None) -> str:
    """A record's reason without its numbers: what `--hypothesis-show-statistics` counts."""
    words = (reason or "").replace(":", " ").split()
    return " ".join(w for w in words[:6] if not any(c.isdigit() for c in w))


def aggregate(lots: list[list[Any]]) -> Counter[tuple[datetime | None, datetime]]:
    """Points per (expires, earned), from lots in the engine's form or the model's."""
    out: Counter[tuple[datetime | None, datetime]] = Counter()
    for points, expires, earned, *_ in lots:
        if isinstance(expires, str):
            expires = datetime.fromisoformat(expires)
        if isinstance(earned, str):
            earned = datetime.fromisoformat(earned)
        out[expires, earned] += points
    return out


def consume(lots: list[list[Any]], points: int) -> list[list[Any]]:
    """Lots (in spending order) after taking `points` from the front."""
    left = []
    for lot in lots:
        used = min(lot[0], points)
        points -= used
        if lot[0] > used:
            left.append([lot[0] - used, *lot[1:]])
    return left


LedgerMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLedger = LedgerMachine.TestCase


def test_the_schemes_compile_as_described() -> None:
    for scheme in SCHEMES:
        program = PROGRAMS[scheme.name]
        assert {r.name for r in program.rules} == {r.name for r in scheme.rules}
        assert program.calendar.zone_name == scheme.zone
