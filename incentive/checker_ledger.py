"""Checking the ledger's declarations: expiry, budgets, spending and grants.

A part of the checker (incentive/checker.py), kept apart because these
declarations stand beside the rules rather than inside them. It reports into
the checker's diagnostics and builds the ledger's part of the Program.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from incentive import ast
from incentive.diagnostics import suggestion_hints
from incentive.i18n import _, unit
from incentive.program import (
    AllowanceSpec,
    BudgetSpec,
    CatalogueSpec,
    ExpirySpec,
    GiftSpec,
    GrantsSpec,
    LevelsSpec,
    LimitSpec,
    RedeemSpec,
    ReversalSpec,
    TransferSpec,
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
                _("unknown currency `{name}`").format(name=name.value),
                name.span,
                *(
                    suggestion_hints(name.value, currencies)
                    or (
                        _("declare it: {code}").format(
                            code=f"`currency {', '.join(currencies)}, {name.value}`"
                        ),
                    )
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
                    _("`expire` is declared more than once for `{currency}`").format(
                        currency=currency
                    ),
                    item.span,
                    _("points of a currency expire one way"),
                )
                continue
            if item.days is not None and not self.checker._check_days(
                item.days, _("an expiry"), item.span
            ):
                continue
            if item.period is not None and not self.checker._check_period(item.period, item.span):
                continue
            if item.rounded is not None and not self.checker._check_period(item.rounded, item.span):
                continue
            specs[currency] = ExpirySpec(currency, item.days, item.period, item.unit, item.rounded)
        return specs

    # ---- levels and the seed -----------------------------------------------------------

    def levels(self) -> LevelsSpec | None:
        decls = [i for i in self.checker.scheme.items if isinstance(i, ast.LevelsDecl)]
        for extra in decls[1:]:
            self.bag.error(
                "E0202",
                _("`levels` is declared more than once"),
                extra.span,
                _("the first is on line {line}").format(line=decls[0].span.line),
            )
        if not decls:
            return None
        decl = decls[0]
        currency = self.currency(decl.currency)
        steps: list[tuple[str, int]] = []
        for step in decl.steps:
            if any(step.name.value == name for name, _ in steps):
                self.bag.error(
                    "E0209",
                    _("level `{step}` is declared twice").format(step=step.name.value),
                    step.span,
                )
            elif steps and step.points <= steps[-1][1]:
                self.bag.error(
                    "E0239",
                    _("level `{step}` ({points}) is not above `{value}` ({value2})").format(
                        step=step.name.value,
                        points=step.points,
                        value=steps[-1][0],
                        value2=steps[-1][1],
                    ),
                    step.span,
                    _("list levels from the lowest threshold to the highest"),
                )
            else:
                steps.append((step.name.value, step.points))
        if not steps:
            self.bag.error(
                "E0239",
                _("`levels` lists no level"),
                decl.span,
                _("e.g. `levels { bronze 0  silver 200  gold 1000 }`"),
            )
        if decl.days is not None:
            self.checker._check_days(decl.days, _("a level window"), decl.span)
        if currency is None or not steps:
            return None
        return LevelsSpec(currency, tuple(steps), decl.days)

    def seed(self) -> int:
        decls = [i for i in self.checker.scheme.items if isinstance(i, ast.SeedDecl)]
        for extra in decls[1:]:
            self.bag.error("E0202", _("`seed` is declared more than once"), extra.span)
        return decls[0].seed if decls else 0

    # ---- budgets ----------------------------------------------------------------------

    def budget(self, budget: ast.Budget, owner: str, currency: str | None) -> None:
        """Check one budget and file it under its owner."""
        named = self.currency(budget.currency) if budget.currency else currency
        if budget.currency is not None and currency is not None and named != currency:
            self.bag.error(
                "E0226",
                _("this budget counts `{named}`, but {value}` pays `{currency}`").format(
                    named=named, value=owner.replace(":", " `"), currency=currency
                ),
                budget.currency.span,
                _("a budget counts the currency its rules pay"),
            )
            return
        if named is None:
            return
        ok = self.checker._check_limit_like(budget.points, _("a budget"), budget.span)
        ok = self.checker._check_period(budget.period, budget.span) and ok
        kept = self.budgets.setdefault(owner, [])
        if any(b.period == budget.period and b.currency == named for b in kept):
            self.bag.error(
                "E0214",
                _("two budgets per {period} on the same rules").format(period=unit(budget.period)),
                budget.span,
                _("keep one of them"),
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
                        _("redeem `{name}` has more than one `{value}` clause").format(
                            name=name, value=_word(extra)
                        ),
                        extra.span,
                        _("keep one of them"),
                    )
        on = _one(clauses, ast.On)
        if on is None:
            self.bag.error(
                "E0210",
                _("redeem `{name}` does not say which events ask for points").format(name=name),
                decl.name.span,
                _("add an `on` clause: `on redeem`"),
            )
        amount = _one(clauses, ast.Amount)
        if amount is None:
            self.bag.error(
                "E0237",
                _("redeem `{name}` does not say which attribute holds the points asked for").format(
                    name=name
                ),
                decl.name.span,
                _("add `amount points` (the event's `points` attribute)"),
            )
        for kind in (ast.Minimum, ast.Maximum, ast.Multiple, ast.Threshold):
            for bound in clauses.get(kind, []):
                assert isinstance(bound, ast.Minimum | ast.Maximum | ast.Multiple | ast.Threshold)
                self.checker._check_limit_like(bound.points, f"`{_word(bound)}`", bound.span)
        low, high = _one(clauses, ast.Minimum), _one(clauses, ast.Maximum)
        if low is not None and high is not None and low.points > high.points:
            self.bag.error(
                "E0214",
                _("redeem `{name}` has a minimum ({points}) above its maximum ({points2})").format(
                    name=name, points=low.points, points2=high.points
                ),
                high.span,
                _("no redemption could pass both"),
            )
        limits: list[LimitSpec] = []
        for limit in clauses.get(ast.Limit, []):
            assert isinstance(limit, ast.Limit)
            if limit.key is not None:
                self.checker.bag.error(
                    "E0229",
                    _("a redemption's limit counts the member's redemptions, not `for each` value"),
                    limit.key.span,
                    _("remove `for each {key}`").format(key=limit.key.value),
                )
            elif self.checker._check_limit_like(limit.count, _("a limit"), limit.span):
                self.checker._check_period(limit.period, limit.span)
                limits.append(LimitSpec(limit.count, limit.period))
        events = self.checker._rule_events(on) if on is not None else []
        where = _one(clauses, ast.Where)
        typer = self.checker._typer(events)
        if where is not None:
            typer.expect(where.condition, "bool", _("a condition"))
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
                _("grants `{name}` does not say which events are grants").format(name=name),
                decl.name.span,
                _("add an `on` clause: `on grant`"),
            )
        allowances = [c for c in decl.clauses if isinstance(c, ast.Allowance)]
        if not allowances:
            self.bag.error(
                "E0238",
                _("grants `{name}` gives nobody an allowance").format(name=name),
                decl.name.span,
                _("add one: `allowance 500 per season` (each granter's)"),
            )
        currencies = {self.currency(a.currency) for a in allowances}
        if len(currencies) > 1:
            self.bag.error(
                "E0226",
                _("grants `{name}` pays in more than one currency").format(name=name),
                decl.name.span,
                _("one `grants` block per currency"),
            )
        specs: list[AllowanceSpec] = []
        seen: dict[str, ast.Allowance] = {}
        for allowance in allowances:
            ok = self.checker._check_limit_like(allowance.points, _("an allowance"), allowance.span)
            ok = self.checker._check_period(allowance.period, allowance.span) and ok
            for granter in allowance.granters or ("",):
                if granter in seen:
                    who = f"`{granter}`" if granter else _("every granter")
                    self.bag.error(
                        "E0214",
                        _("two allowances for {who} in grants `{name}`").format(who=who, name=name),
                        allowance.span,
                        _("the first is on line {line}").format(line=seen[granter].span.line),
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

    # ---- reversals ----------------------------------------------------------------------

    def reversal(self, decl: ast.ReverseDecl) -> ReversalSpec | None:
        name = decl.name.value
        clauses: dict[type, list[ast.Node]] = {}
        for clause in decl.clauses:
            clauses.setdefault(type(clause), []).append(clause)
        for extras in clauses.values():
            for extra in extras[1:]:
                self.bag.error(
                    "E0212",
                    _("reverse `{name}` has more than one `{value}` clause").format(
                        name=name, value=_word(extra)
                    ),
                    extra.span,
                    _("keep one of them"),
                )
        on = _one(clauses, ast.On)
        if on is None:
            self.bag.error(
                "E0210",
                _("reverse `{name}` does not say which events reverse").format(name=name),
                decl.name.span,
                _("add an `on` clause: `on refund`"),
            )
        by, within = _one(clauses, ast.By), _one(clauses, ast.Within)
        if by is None:
            self.bag.error(
                "E0243",
                _(
                    "reverse `{name}` does not say which attribute names the event to reverse"
                ).format(name=name),
                decl.name.span,
                _("add `by order` (the event's `order` attribute holds the id)"),
            )
        if within is None:
            self.bag.error(
                "E0243",
                _("reverse `{name}` does not say how long an event stays reversible").format(
                    name=name
                ),
                decl.name.span,
                _("add `within 30 days`: what an event paid is kept that long"),
            )
        elif not self.checker._check_limit_like(within.days, _("a reversal window"), within.span):
            within = None
        events = self.checker._rule_events(on) if on is not None else []
        if by is not None:
            # One id (text) or a list of ids: read as the event has it, not converted,
            # unless it is declared (then it must be text: one id per event).
            declared = self.checker.declared_events or {}
            for event in events:
                fields = declared.get(event) or {}
                kind = fields.get(by.attribute.value)
                if fields and kind is None:
                    self.bag.error(
                        "E0217",
                        f"event `{event}` has no attribute `{by.attribute.value}`",
                        by.attribute.span,
                        f"declare it: `{event}({by.attribute.value}: text)`",
                    )
                elif kind is not None and kind != "text":
                    self.bag.error(
                        "E0219",
                        f"`by` needs text (the id of the event to reverse), but "
                        f"`{by.attribute.value}` is declared {kind} for `{event}`",
                        by.attribute.span,
                    )
        part = _one(clauses, ast.Part)
        if part is not None:
            self.checker._typer(events).expect(
                ast.Attribute(part.attribute.value, span=part.attribute.span), "number", "`part`"
            )
        if on is None or by is None or within is None:
            return None
        whole = None
        if part is not None:
            whole = (part.whole or part.attribute).value
        return ReversalSpec(
            name,
            tuple(events),
            by.attribute.value,
            within.days,
            ast.Debt in clauses,
            part.attribute.value if part is not None else None,
            whole,
        )

    # ---- transfers ----------------------------------------------------------------------

    def transfer(self, decl: ast.TransferDecl) -> TransferSpec | None:
        name = decl.name.value
        clauses: dict[type, list[ast.Node]] = {}
        for clause in decl.clauses:
            clauses.setdefault(type(clause), []).append(clause)
        for kind, extras in clauses.items():
            if kind in (ast.Limit, ast.Cap, ast.Receive):
                continue  # one per period: checked below
            for extra in extras[1:]:
                self.bag.error(
                    "E0212",
                    _("transfer `{name}` has more than one `{value}` clause").format(
                        name=name, value=_word(extra)
                    ),
                    extra.span,
                    _("keep one of them"),
                )
        on = _one(clauses, ast.On)
        if on is None:
            self.bag.error(
                "E0210",
                _("transfer `{name}` does not say which events are transfers").format(name=name),
                decl.name.span,
                _("add an `on` clause: `on tip`"),
            )
        to, amount = _one(clauses, ast.To), _one(clauses, ast.Amount)
        for missing, what, hint in (
            (to is None, _("which attribute names the receiver"), _("add `to receiver`")),
            (amount is None, _("which attribute holds the points"), _("add `amount points`")),
        ):
            if missing:
                self.bag.error(
                    "E0245",
                    _("transfer `{name}` does not say {what}").format(name=name, what=what),
                    decl.name.span,
                    hint,
                )
        low, high = _one(clauses, ast.Minimum), _one(clauses, ast.Maximum)
        for bound in (low, high):
            if bound is not None:
                self.checker._check_limit_like(bound.points, f"`{_word(bound)}`", bound.span)
        if low is not None and high is not None and low.points > high.points:
            self.bag.error(
                "E0214",
                _(
                    "transfer `{name}` has a minimum ({points}) above its maximum ({points2})"
                ).format(name=name, points=low.points, points2=high.points),
                high.span,
                _("no transfer could pass both"),
            )
        limits: list[LimitSpec] = []
        sent: list[tuple[int, ast.PeriodName]] = []
        received: list[tuple[int, ast.PeriodName]] = []
        seen: dict[tuple[type, str | None], ast.Node] = {}
        for clause in decl.clauses:
            if not isinstance(clause, ast.Limit | ast.Cap | ast.Receive):
                continue
            key = (type(clause), clause.period)
            if key in seen:
                self.bag.error(
                    "E0214",
                    _("transfer `{name}` has two `{value}` clauses per {period}").format(
                        name=name, value=_word(clause), period=unit(clause.period)
                    ),
                    clause.span,
                    _("the first is on line {line}").format(line=seen[key].span.line),
                )
                continue
            seen[key] = clause
            count = clause.count if isinstance(clause, ast.Limit) else clause.points
            if not self.checker._check_limit_like(count, f"`{_word(clause)}`", clause.span):
                continue
            if not self.checker._check_period(clause.period, clause.span):
                continue
            if isinstance(clause, ast.Limit):
                limits.append(LimitSpec(clause.count, clause.period))
            elif isinstance(clause, ast.Cap):
                sent.append((clause.points, clause.period))
            else:
                assert clause.period is not None
                received.append((clause.points, clause.period))
        events = self.checker._rule_events(on) if on is not None else []
        typer = self.checker._typer(events)
        where = _one(clauses, ast.Where)
        if where is not None:
            typer.expect(where.condition, "bool", _("a condition"))
        if to is not None:
            typer.expect(ast.Attribute(to.attribute.value, span=to.attribute.span), "text", "`to`")
        if amount is not None:
            typer.expect(
                ast.Attribute(amount.attribute.value, span=amount.attribute.span),
                "number",
                "`amount`",
            )
        currency = self.currency(amount.currency if amount else None)
        keep = _one(clauses, ast.Keep)
        if on is None or to is None or amount is None or currency is None:
            return None
        return TransferSpec(
            name=name,
            events=tuple(events),
            condition=where.condition if where else None,
            to=to.attribute.value,
            attribute=amount.attribute.value,
            currency=currency,
            minimum=low.points if low else None,
            maximum=high.points if high else None,
            limits=tuple(limits),
            sent=tuple(sent),
            received=tuple(received),
            keep=keep.points if keep else 0,
        )

    # ---- catalogues ---------------------------------------------------------------------

    def catalogue(self, decl: ast.CatalogueDecl) -> CatalogueSpec | None:
        name = decl.name.value
        clauses: dict[type, list[ast.Node]] = {}
        for clause in decl.clauses:
            clauses.setdefault(type(clause), []).append(clause)
        for kind in (ast.On, ast.Where, ast.ItemAttr):
            for extra in clauses.get(kind, [])[1:]:
                self.bag.error(
                    "E0212",
                    _("catalogue `{name}` has more than one `{value}` clause").format(
                        name=name, value=_word(extra)
                    ),
                    extra.span,
                    _("keep one of them"),
                )
        on, item = _one(clauses, ast.On), _one(clauses, ast.ItemAttr)
        if on is None:
            self.bag.error(
                "E0210",
                _("catalogue `{name}` does not say which events ask for a gift").format(name=name),
                decl.name.span,
                _("add an `on` clause: `on redeem`"),
            )
        if item is None:
            self.bag.error(
                "E0246",
                _("catalogue `{name}` does not say which attribute names the gift").format(
                    name=name
                ),
                decl.name.span,
                _("add `item gift` (the event's `gift` attribute names it)"),
            )
        gifts: list[GiftSpec] = []
        currencies: set[str] = set()
        for gift in (c for c in decl.clauses if isinstance(c, ast.GiftDecl)):
            spec = self._gift(name, gift, gifts, currencies)
            if spec is not None:
                gifts.append(spec)
        if not any(isinstance(c, ast.GiftDecl) for c in decl.clauses):
            self.bag.error(
                "E0246",
                _("catalogue `{name}` lists no gift").format(name=name),
                decl.name.span,
                _("add one: `gift mug { price 200  stock 50 }`"),
            )
        if len(currencies) > 1:
            self.bag.error(
                "E0226",
                _("catalogue `{name}` prices gifts in more than one currency").format(name=name),
                decl.name.span,
                _("one `catalogue` block per currency"),
            )
        currency = next(iter(currencies)) if currencies else self.checker.header.currencies[0]
        limits = self._periodic(name, [c for c in decl.clauses if isinstance(c, ast.Limit)])
        stock = [
            (c.count, c.period)
            for c in decl.clauses
            if isinstance(c, ast.Stock)
            and self.checker._check_limit_like(c.count, _("a stock"), c.span)
        ]
        for c in decl.clauses:
            if isinstance(c, ast.Stock) and c.period is None:
                self.bag.error(
                    "E0246",
                    _("catalogue `{name}`'s stock needs a period: `stock {count} per day`").format(
                        name=name, count=c.count
                    ),
                    c.span,
                    _("a stock for all time belongs to a gift: `gift mug { stock 50 }`"),
                )
        budgets: list[tuple[int, ast.PeriodName]] = []
        for budget in (c for c in decl.clauses if isinstance(c, ast.Budget)):
            paid = self.currency(budget.currency)
            if paid is not None and paid != currency:
                self.bag.error(
                    "E0226",
                    _(
                        "catalogue `{name}`'s budget is in `{paid}`, its prices in `{currency}`"
                    ).format(name=name, paid=paid, currency=currency),
                    budget.span,
                    _("a budget counts the points its redemptions spend"),
                )
            elif self.checker._check_limit_like(budget.points, _("a budget"), budget.span):
                budgets.append((budget.points, budget.period))
        events = self.checker._rule_events(on) if on is not None else []
        typer = self.checker._typer(events)
        where = _one(clauses, ast.Where)
        if where is not None:
            typer.expect(where.condition, "bool", _("a condition"))
        if item is not None:
            typer.expect(
                ast.Attribute(item.attribute.value, span=item.attribute.span), "text", "`item`"
            )
        if on is None or item is None or not gifts:
            return None
        return CatalogueSpec(
            name=name,
            events=tuple(events),
            condition=where.condition if where else None,
            attribute=item.attribute.value,
            currency=currency,
            gifts=tuple(gifts),
            limits=tuple(limits),
            stock=tuple((count, period) for count, period in stock if period is not None),
            budgets=tuple(budgets),
        )

    def _gift(
        self, catalogue: str, gift: ast.GiftDecl, seen: list[GiftSpec], currencies: set[str]
    ) -> GiftSpec | None:
        name = gift.name.value
        if any(g.name == name for g in seen):
            self.bag.error(
                "E0209",
                _("gift `{name}` is listed twice in catalogue `{catalogue}`").format(
                    name=name, catalogue=catalogue
                ),
                gift.span,
            )
            return None
        prices = [c for c in gift.clauses if isinstance(c, ast.Price)]
        stocks = [c for c in gift.clauses if isinstance(c, ast.Stock)]
        for extra in prices[1:] + stocks[1:]:
            self.bag.error(
                "E0212",
                _("gift `{name}` has more than one `{value}` clause").format(
                    name=name, value=_word(extra)
                ),
                extra.span,
                _("keep one of them"),
            )
        if not prices:
            self.bag.error(
                "E0246",
                _("gift `{name}` has no price").format(name=name),
                gift.name.span,
                _("add one: `gift {name} {{ price 200 }}`").format(name=name),
            )
            return None
        price = prices[0]
        currency = self.currency(price.currency)
        if currency is not None:
            currencies.add(currency)
        if not self.checker._check_limit_like(price.points, _("a price"), price.span):
            return None
        stock = stocks[0] if stocks else None
        if stock is not None and not self.checker._check_limit_like(
            stock.count, _("a stock"), stock.span
        ):
            return None
        limits = self._periodic(name, [c for c in gift.clauses if isinstance(c, ast.Limit)])
        return GiftSpec(
            name,
            price.points,
            stock.count if stock else None,
            stock.period if stock else None,
            tuple(limits),
        )

    def _periodic(self, owner: str, limits: list[ast.Limit]) -> list[LimitSpec]:
        found: list[LimitSpec] = []
        for limit in limits:
            if any(known.period == limit.period for known in found):
                self.bag.error(
                    "E0214",
                    _("`{owner}` has two limits per {value}").format(
                        owner=owner, value=limit.period or "ever"
                    ),
                    limit.span,
                    _("keep one"),
                )
            elif self.checker._check_limit_like(
                limit.count, _("a limit"), limit.span
            ) and self.checker._check_period(limit.period, limit.span):
                found.append(LimitSpec(limit.count, limit.period))
        return found


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
        ast.By: "by",
        ast.Within: "within",
        ast.Debt: "debt",
        ast.Part: "part",
        ast.To: "to",
        ast.Receive: "receive",
        ast.Keep: "keep",
        ast.ItemAttr: "item",
        ast.Stock: "stock",
        ast.Price: "price",
        ast.Limit: "limit",
        ast.Cap: "cap",
    }.get(type(clause), type(clause).__name__.lower())
