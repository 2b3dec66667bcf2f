"""Reading a run: one member's story, and two schemes side by side.

These functions only read a finished run (records and the session's state);
the CLI's `explain` and `compare` commands print what they return.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from incentive import i18n
from incentive.i18n import N_, _
from incentive.program import Program
from incentive.records import LEDGER_KINDS, Record
from incentive.runner import RunResult


@dataclass(frozen=True)
class Progress:
    """How far a member is from the next step of something."""

    rule: str
    what: str  # "streak", "milestone", "level", "pending"
    now: str
    next: str

    def text(self) -> str:
        """One line for a person, in the current language (`what` stays a key)."""
        return _("{what} `{rule}`: {now}; next: {next}").format(
            what=_(_WHAT.get(self.what, self.what)), rule=self.rule, now=self.now, next=self.next
        )


_WHAT = {
    "streak": N_("streak"),
    "milestone": N_("milestone"),
    "pending": N_("pending"),
    "level": N_("level"),
}


def member_records(result: RunResult, member: str) -> list[Record]:
    """Every record that names the member, in the order they happened."""
    return [r for r in result.records if r.member == member]


def progress(program: Program, result: RunResult, member: str) -> list[Progress]:
    """Progress toward the next streak tier, milestone threshold and level."""
    state = result.session.state.members.get(member)
    if state is None:
        return []
    found: list[Progress] = []
    for rule in program.rules:
        streak, milestone = rule.streak, rule.milestone
        if streak is not None:
            slot = state.counters.get(f"streak:{rule.name}")
            length = slot[1] if slot else 0
            steps = sorted({t for t, _ in streak.tiers if t > length})
            if streak.every is not None:
                steps.append((length // streak.every[0] + 1) * streak.every[0])
            nxt = min(steps) if steps else None
            # English says `7 in a row (2 more)`; Chinese names the unit: 连续 7 天（还差 2 天）
            unit = "" if i18n.current() == "en" else " " + i18n.counted(streak.period)
            found.append(
                Progress(
                    rule.name,
                    "streak",
                    _("{length} {period}(s) in a row").format(
                        length=length, period=i18n.counted(streak.period)
                    ),
                    _("{next} in a row ({more} more)").format(
                        next=f"{nxt}{unit}", more=f"{nxt - length}{unit}"
                    )
                    if nxt
                    else _("no further tier"),
                )
            )
        elif milestone is not None:
            slot = state.counters.get(f"milestone:{rule.name}")
            total = Decimal(slot[1]) if slot else Decimal(0)
            thresholds = [t for t, _ in milestone.tiers if t > total]
            what = _("matching events") if milestone.attribute is None else milestone.attribute
            now = f"{total} {what}"
            if milestone.period:
                now += _(" ({this})").format(this=i18n.this_period(milestone.period))
            found.append(
                Progress(
                    rule.name,
                    "milestone",
                    now,
                    _("{next} ({more} more)").format(next=thresholds[0], more=thresholds[0] - total)
                    if thresholds
                    else _("every threshold reached"),
                )
            )
    for currency, held in sorted(state.pending.items()):
        for points, release, _earned, rule_name, _events in held:  # `pending N days`
            spendable = program.calendar.to_local(datetime.fromisoformat(release)).isoformat()
            found.append(
                Progress(
                    rule_name,
                    "pending",
                    _("{points} {currency} held").format(points=points, currency=currency),
                    _("spendable from {time}").format(time=spendable),
                )
            )
    levels = program.levels
    if levels is not None:
        earned = (
            state.earned.get(levels.currency, 0)
            if levels.days is None
            else sum(state.window.values())
        )
        current = state.level or levels.level_for(0) or _("none")
        ahead = [(name, points) for name, points in levels.steps if points > earned]
        found.append(
            Progress(
                "levels",
                "level",
                _("`{level}` with {points} {currency}").format(
                    level=current, points=earned, currency=levels.currency
                ),
                _("`{level}` at {points} ({more} more)").format(
                    level=ahead[0][0], points=ahead[0][1], more=ahead[0][1] - earned
                )
                if ahead
                else _("the top level"),
            )
        )
    return found


@dataclass
class Totals:
    """What a run paid: per rule and currency, per member, and what it refused."""

    by_rule: Counter[tuple[str, str]] = field(default_factory=Counter)  # (rule, currency)
    by_member: Counter[tuple[str, str]] = field(default_factory=Counter)  # (member, currency)
    refused: Counter[str] = field(default_factory=Counter)  # rule -> points refused or cut
    kinds: Counter[str] = field(default_factory=Counter)
    paid: Counter[str] = field(default_factory=Counter)  # currency -> points given out (cost)


def totals(result: RunResult) -> Totals:
    out = Totals()
    for record in result.records:
        out.kinds[record.kind] += 1
        if record.kind in LEDGER_KINDS and record.points and record.member and record.currency:
            source = record.rule or record.kind
            out.by_rule[(source, record.currency)] += record.points
            out.by_member[(record.member, record.currency)] += record.points
            if record.kind in ("award", "rank", "grant") and record.points > 0:
                out.paid[record.currency] += record.points
        elif record.kind in ("cut", "refused") and record.points and record.rule:
            out.refused[record.rule] += abs(record.points)
    return out


@dataclass(frozen=True)
class Comparison:
    rules: list[dict[str, Any]]  # rule, currency, a, b, change
    members: list[dict[str, Any]]  # member, currency, a, b, change (changed members only)
    cost: dict[str, dict[str, int]]  # currency -> {"a", "b", "change"}
    gainers: int
    losers: int
    same: int


def compare(a: RunResult, b: RunResult) -> Comparison:
    """The same activity under two schemes: what each paid, rule by rule and member
    by member (points paid out, expiries and spending included)."""
    ta, tb = totals(a), totals(b)
    rules = []
    for key in sorted(set(ta.by_rule) | set(tb.by_rule)):
        x, y = ta.by_rule.get(key, 0), tb.by_rule.get(key, 0)
        rules.append({"rule": key[0], "currency": key[1], "a": x, "b": y, "change": y - x})
    members: list[dict[str, Any]] = []
    gainers = losers = same = 0
    balances_a, balances_b = a.balances, b.balances
    for member in sorted(set(balances_a) | set(balances_b)):
        for currency in sorted(set(balances_a.get(member, {})) | set(balances_b.get(member, {}))):
            x = balances_a.get(member, {}).get(currency, 0)
            y = balances_b.get(member, {}).get(currency, 0)
            if x == y:
                same += 1
                continue
            gainers += y > x
            losers += y < x
            members.append(
                {"member": member, "currency": currency, "a": x, "b": y, "change": y - x}
            )
    cost = {
        currency: {
            "a": ta.paid.get(currency, 0),
            "b": tb.paid.get(currency, 0),
            "change": tb.paid.get(currency, 0) - ta.paid.get(currency, 0),
        }
        for currency in sorted(set(ta.paid) | set(tb.paid))
    }
    members.sort(key=lambda row: (-abs(int(row["change"])), row["member"], row["currency"]))
    return Comparison(rules, members, cost, gainers, losers, same)


# The field's rule of thumb: at least this many members in each arm of an A/B test.
AB_ARM_MEMBERS = 1000


def arm_of(member: str, seed: int) -> str:
    """A member's arm in an A/B test: a seeded hash of the id, stable across runs."""
    digest = hashlib.sha256(f"{seed}|{member}".encode()).digest()
    return "A" if digest[0] % 2 == 0 else "B"


def ab_metrics(report: dict[str, Any], currency: str) -> dict[str, Any]:
    """The numbers an A/B test compares, per arm, from a report (incentive.report)."""
    paid = report["currencies"][currency]["paid"]
    spread = report["distribution"][currency]
    members = spread["members"]
    return {
        "members": members,
        "paid": paid,
        "paid_per_member": round(paid / members, 2) if members else 0.0,
        "share_earning": spread["share_earning"],
        "median": spread["p50"],
        "gini": spread["gini"],
    }
