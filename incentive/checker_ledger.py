"""Checking the ledger's declarations: expiry, budgets, spending and grants.

A part of the checker (incentive/checker.py), kept apart because these
declarations stand beside the rules rather than inside them. It reports into
the checker's diagnostics and builds the ledger's part of the Program.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from incentive import ast
from incentive.diagnostics import suggestion_hints
from incentive.program import (
    AllowanceSpec,
    BudgetSpec,
    ExpirySpec,
    GrantsSpec,
    LevelsSpec,
    LimitSpec,
    RedeemSpec,
)

if TYPE_CHECKING:
    from incentive.checker import _Checker

_NodeT = TypeVar("_NodeT", bound=ast.Node)


class LedgerChecker:
    def __init__(self, checker: _Checker) -> None:
        self.checker = checker
        self.bag = checker.bag
        # owner ("scheme:<currency>", "group:<name>", "rule:<name>") -> its budgets
        self.budgets: dict[str, list[BudgetSpec]] = {}

    def currency(self, name: ast.Name | None) -> str | None:
        """A named currency (None if unknown: reported), or the scheme's default."""
        currencies = self.checker.header.currencies
        if name is None:
            return currencies[0]
        if name.value not in currencies:
            self.bag.error(
                "E0207",
                f"unknown currency `{name.value}`",
                name.span,
                *(
                    suggestion_hints(name.value, currencies)
                    or (f"declare it: `currency {', '.join(currencies)}, {name.value}`",)
                ),
            )
            return None
        return name.value

    # ---- expiry ---------------------------------------------------------------------

    def expiry(self) -> dict[str, ExpirySpec]:
        specs: dict[str, ExpirySpec] = {}
        for item in self.checker.scheme.items:
            if not isinstance(item, ast.ExpireDecl):
                continue
            currency = self.currency(item.currency)
            if currency is None:
                continue
            if currency in specs:
                self.bag.error(
                    "E0202",
                    f"`expire` is declared more than once for `{currency}`",
                    item.span,
                    "points of a currency expire one way",
                )
                continue
            if item.days is not None and not self.checker._check_days(
                item.days, "an expiry", item.span
            ):
                continue
            if item.period is not None and not self.checker._check_period(item.period, item.span):
                continue
            specs[currency] = ExpirySpec(currency, item.days, item.period)
        return specs

    # ---- levels and the seed -----------------------------------------------------------

    def levels(self) -> LevelsSpec | None:
        decls = [i for i in self.checker.scheme.items if isinstance(i, ast.LevelsDecl)]
        for extra in decls[1:]:
            self.bag.error(
                "E0202",
                "`levels` is declared more than once",
                extra.span,
                f"the first is on line {decls[0].span.line}",
            )
        if not decls:
            return None
        decl = decls[0]
        currency = self.currency(decl.currency)
        steps: list[tuple[str, int]] = []
        for step in decl.steps:
            if any(step.name.value == name for name, _ in steps):
                self.bag.error("E0209", f"level `{step.name.value}` is declared twice", step.span)
            elif steps and step.points <= steps[-1][1]:
                self.bag.error(
                    "E0239",
                    f"level `{step.name.value}` ({step.points}) is not above "
                    f"`{steps[-1][0]}` ({steps[-1][1]})",
                    step.span,
                    "list levels from the lowest threshold to the highest",
                )
            else:
                steps.append((step.name.value, step.points))
        if not steps:
            self.bag.error(
                "E0239",
                "`levels` lists no level",
                decl.span,
                "e.g. `levels { bronze 0  silver 200  gold 1000 }`",
            )
        if decl.days is not None:
            self.checker._check_days(decl.days, "a level window", decl.span)
        if currency is None or not steps:
            return None
        return LevelsSpec(currency, tuple(steps), decl.days)

    def seed(self) -> int:
        decls = [i for i in self.checker.scheme.items if isinstance(i, ast.SeedDecl)]
        for extra in decls[1:]:
            self.bag.error("E0202", "`seed` is declared more than once", extra.span)
        return decls[0].seed if decls else 0

    # ---- budgets ----------------------------------------------------------------------

    def budget(self, budget: ast.Budget, owner: str, currency: str | None) -> None:
        """Check one budget and file it under its owner."""
        named = self.currency(budget.currency) if budget.currency else currency
        if budget.currency is not None and currency is not None and named != currency:
            self.bag.error(
                "E0226",
                f"this budget counts `{named}`, but {owner.replace(':', ' `')}` pays `{currency}`",
                budget.currency.span,
                "a budget counts the currency its rules pay",
            )
            return
        if named is None:
            return
        ok = self.checker._check_limit_like(budget.points, "a budget", budget.span)
        ok = self.checker._check_period(budget.period, budget.span) and ok
        kept = self.budgets.setdefault(owner, [])
        if any(b.period == budget.period and b.currency == named for b in kept):
            self.bag.error(
                "E0214",
                f"two budgets per {budget.period} on the same rules",
                budget.span,
                "keep one of them",
            )
            return
        if ok:
            kept.append(BudgetSpec(owner, budget.points, named, budget.period))

    def scheme_budgets(self) -> None:
        for item in self.checker.scheme.items:
            if isinstance(item, ast.Budget):
                currency = self.currency(item.currency)
                if currency is not None:
                    self.budget(item, f"scheme:{currency}", currency)

    def budgets_of(
        self, rule: str, groups: tuple[str, ...], currency: str
    ) -> tuple[BudgetSpec, ...]:
        found = [*self.budgets.get(f"rule:{rule}", [])]
        for group in groups:
            found.extend(self.budgets.get(f"group:{group}", []))
        found.extend(self.budgets.get(f"scheme:{currency}", []))
        return tuple(found)

    # ---- spending ---------------------------------------------------------------------

    def redeem(self, decl: ast.RedeemDecl) -> RedeemSpec | None:
        name = decl.name.value
        clauses: dict[type, list[ast.Node]] = {}
        for clause in decl.clauses:
            clauses.setdefault(type(clause), []).append(clause)
        for kind, extras in clauses.items():
            if kind is not ast.Limit:
                for extra in extras[1:]:
                    self.bag.error(
                        "E0212",
                        f"redeem `{name}` has more than one `{_word(extra)}` clause",
                        extra.span,
                        "keep one of them",
                    )
        on = _one(clauses, ast.On)
        if on is None:
            self.bag.error(
                "E0210",
                f"redeem `{name}` does not say which events ask for points",
                decl.name.span,
                "add an `on` clause: `on redeem`",
            )
        amount = _one(clauses, ast.Amount)
        if amount is None:
            self.bag.error(
                "E0237",
                f"redeem `{name}` does not say which attribute holds the points asked for",
                decl.name.span,
                "add `amount points` (the event's `points` attribute)",
            )
        for kind in (ast.Minimum, ast.Maximum, ast.Multiple, ast.Threshold):
            for bound in clauses.get(kind, []):
                assert isinstance(bound, ast.Minimum | ast.Maximum | ast.Multiple | ast.Threshold)
                self.checker._check_limit_like(bound.points, f"`{_word(bound)}`", bound.span)
        low, high = _one(clauses, ast.Minimum), _one(clauses, ast.Maximum)
        if low is not None and high is not None and low.points > high.points:
            self.bag.error(
                "E0214",
                f"redeem `{name}` has a minimum ({low.points}) above its maximum ({high.points})",
                high.span,
                "no redemption could pass both",
            )
        limits: list[LimitSpec] = []
        for limit in clauses.get(ast.Limit, []):
            assert isinstance(limit, ast.Limit)
            if limit.key is not None:
                self.checker.bag.error(
                    "E0229",
                    "a redemption's limit counts the member's redemptions, not `for each` value",
                    limit.key.span,
                    f"remove `for each {limit.key.value}`",
                )
            elif self.checker._check_limit_like(limit.count, "a limit", limit.span):
                self.checker._check_period(limit.period, limit.span)
                limits.append(LimitSpec(limit.count, limit.period))
        events = self.checker._rule_events(on) if on is not None else []
        where = _one(clauses, ast.Where)
        typer = self.checker._typer(events)
        if where is not None:
            typer.expect(where.condition, "bool", "a condition")
        if amount is not None:
            typer.expect(
                ast.Attribute(amount.attribute.value, span=amount.attribute.span),
                "number",
                "`amount`",
            )
        currency = self.currency(amount.currency if amount else None)
        if on is None or amount is None or currency is None:
            return None
        return RedeemSpec(
            name=name,
            events=tuple(events),
            condition=where.condition if where else None,
            attribute=amount.attribute.value,
            currency=currency,
            minimum=low.points if low else None,
            maximum=high.points if high else None,
            multiple=_points(_one(clauses, ast.Multiple)),
            threshold=_points(_one(clauses, ast.Threshold)),
            limits=tuple(limits),
        )

    # ---- grants ------------------------------------------------------------------------

    def grants(self, decl: ast.GrantsDecl) -> GrantsSpec | None:
        name = decl.name.value
        on = next((c for c in decl.clauses if isinstance(c, ast.On)), None)
        if on is None:
            self.bag.error(
                "E0210",
                f"grants `{name}` does not say which events are grants",
                decl.name.span,
                "add an `on` clause: `on grant`",
            )
        allowances = [c for c in decl.clauses if isinstance(c, ast.Allowance)]
        if not allowances:
            self.bag.error(
                "E0238",
                f"grants `{name}` gives nobody an allowance",
                decl.name.span,
                "add one: `allowance 500 per season` (each granter's)",
            )
        currencies = {self.currency(a.currency) for a in allowances}
        if len(currencies) > 1:
            self.bag.error(
                "E0226",
                f"grants `{name}` pays in more than one currency",
                decl.name.span,
                "one `grants` block per currency",
            )
        specs: list[AllowanceSpec] = []
        seen: dict[str, ast.Allowance] = {}
        for allowance in allowances:
            ok = self.checker._check_limit_like(allowance.points, "an allowance", allowance.span)
            ok = self.checker._check_period(allowance.period, allowance.span) and ok
            for granter in allowance.granters or ("",):
                if granter in seen:
                    who = f"`{granter}`" if granter else "every granter"
                    self.bag.error(
                        "E0214",
                        f"two allowances for {who} in grants `{name}`",
                        allowance.span,
                        f"the first is on line {seen[granter].span.line}",
                    )
                    ok = False
                seen[granter] = allowance
            if ok:
                specs.append(AllowanceSpec(allowance.points, allowance.period, allowance.granters))
        events = self.checker._rule_events(on) if on is not None else []
        for event in events:
            # A grant names its granter, its points and why.
            types = self.checker.read_attributes.setdefault(event, {})
            types.update({"by": "text", "points": "number", "reason": "text"})
        currency = next(iter(currencies)) if len(currencies) == 1 else None
        if on is None or not specs or currency is None:
            return None
        return GrantsSpec(name, tuple(events), currency, tuple(specs))


def _one(clauses: dict[type, list[ast.Node]], kind: type[_NodeT]) -> _NodeT | None:
    found = clauses.get(kind)
    return found[0] if found else None  # type: ignore[return-value]


def _points(clause: ast.Node | None) -> int | None:
    return getattr(clause, "points", None)


def _word(clause: ast.Node) -> str:
    return {
        ast.On: "on",
        ast.Where: "where",
        ast.Amount: "amount",
        ast.Minimum: "minimum",
        ast.Maximum: "maximum",
        ast.Multiple: "multiple",
        ast.Threshold: "threshold",
    }.get(type(clause), type(clause).__name__.lower())
